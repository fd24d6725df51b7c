//! The A4 PDF report: identity header, the figures, what could not be computed and why, the
//! timeline chart, the alarm log and the notes, and on every page a footer naming the recording
//! and its SHA-256.
//!
//! Text is real text in an embedded font (selectable, searchable); the chart is vector graphics
//! (plotters' SVG converted by krilla-svg), its labels text too. The pages are laid out first
//! as a list of drawing operations, so that page breaks fall between rows and every footer can
//! say "page i of n"; then they are drawn with krilla.

use std::path::Path;
use std::sync::Arc;

use krilla::Document;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::text::Font;

use crate::analysis::records::Record;
use crate::analysis::summary::{Figure, Summary};
use crate::present::palette;
use crate::present::text::{clock_hms, local_date, local_time, offset_hms};

use super::chart::{CHART_HEIGHT_PT, ChartError, chart_svg};
use super::fonts::{BOLD, Metrics, REGULAR};
use super::format::{FigureRow, alarm_duration, machine, procedure_rows, volume_rows};
use super::text::NOT_COMPUTED;
use super::{ExportError, Report, check_not_recording, write_atomically};

mod page;
mod record;

pub use page::{PAGE_HEIGHT_PT, PAGE_WIDTH_PT};

use page::{
    BLACK, CONTENT_WIDTH, Faces, GREY, LEFT, LIGHT, Layout, MUTED, Op, RIGHT, STRIPE, TOP, col,
    draw, table_header, table_row,
};

/// Why the PDF could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The report's font cannot be measured (it is compiled in: a defect of the build).
    #[error("the font cannot be read")]
    FontUnreadable,
    #[error("the font cannot be embedded")]
    FontNotEmbeddable,
    #[error("bad page size")]
    PageSize,
    /// The report was made for the other formats, without the chart's timeline and the
    /// recording's hash ([`Report::summary_only`]).
    #[error("the report was made without its chart")]
    MadeWithoutChart,
    /// krilla could not write the document.
    #[error(transparent)]
    Build(krilla::error::KrillaError),
}

/// Builds the PDF report.
pub fn render_pdf(report: &Report) -> Result<Vec<u8>, ExportError> {
    Ok(render(report)?.0)
}

/// Writes the PDF report to `path` (owner-only, atomically, replacing an existing file but
/// never the recording itself); returns the number of pages.
pub fn write_pdf(path: &Path, report: &Report) -> Result<usize, ExportError> {
    check_not_recording(path, &report.recording_path)?;
    let (bytes, pages) = render(report)?;
    write_atomically(path, &bytes)?;
    Ok(pages)
}

fn render(report: &Report) -> Result<(Vec<u8>, usize), ExportError> {
    let metrics = Metrics::get().ok_or(PdfError::FontUnreadable)?;
    let parts = report.pdf.as_ref().ok_or(PdfError::MadeWithoutChart)?;
    let svg = chart_svg(&parts.timeline)?;
    let tree = svg.as_deref().map(parse_svg).transpose()?;
    let pages = lay_out(metrics, report, tree.is_some());
    let embed = |bytes: &'static [u8]| {
        Font::new(krilla::Data::from(bytes), 0).ok_or(PdfError::FontNotEmbeddable)
    };
    let faces = Faces {
        regular: embed(REGULAR)?,
        bold: embed(BOLD)?,
    };
    let page_settings =
        PageSettings::from_wh(PAGE_WIDTH_PT, PAGE_HEIGHT_PT).ok_or(PdfError::PageSize)?;

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title("Apheresis session summary".to_owned())
            .creator(format!("apheresis-monitor {}", env!("CARGO_PKG_VERSION")))
            .language("en".to_owned()),
    );
    let count = pages.len();
    for ops in &pages {
        let mut page = document.start_page_with(page_settings.clone());
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, &faces, tree.as_ref(), op);
        }
        surface.finish();
        page.finish();
    }
    let bytes = document.finish().map_err(PdfError::Build)?;
    Ok((bytes, count))
}

/// Parses the chart's SVG with the report font as its only font.
fn parse_svg(svg: &str) -> Result<usvg::Tree, ExportError> {
    let mut fonts = usvg::fontdb::Database::new();
    fonts.load_font_data(REGULAR.to_vec());
    fonts.load_font_data(BOLD.to_vec());
    let family = fonts
        .faces()
        .next()
        .and_then(|face| face.families.first())
        .map_or_else(|| "DejaVu Sans".to_owned(), |(name, _)| name.clone());
    fonts.set_sans_serif_family(family.clone());
    let options = usvg::Options {
        font_family: family,
        fontdb: Arc::new(fonts),
        ..usvg::Options::default()
    };
    usvg::Tree::from_data(svg.as_bytes(), &options)
        .map_err(|e| ExportError::Chart(ChartError::Svg(e)))
}

/// Lays the report out on pages.
fn lay_out(m: &Metrics, report: &Report, has_chart: bool) -> Vec<Vec<Op>> {
    let s = &report.summary;
    let mut l = Layout::new(m);
    header(&mut l, s);
    record::product_label(&mut l, s);
    figures(&mut l, s);
    notices(&mut l, s);
    unavailable(&mut l, s);
    record::sections(&mut l, s);

    l.heading("Timeline", CHART_HEIGHT_PT as f32);
    if has_chart {
        l.push(Op::Chart { x: LEFT, y: l.y });
        l.y += CHART_HEIGHT_PT as f32;
    } else {
        l.text(
            LEFT,
            l.y + 10.0,
            9.0,
            "No samples in the recording: nothing to chart.",
            false,
            GREY,
        );
        l.y += 16.0;
    }

    alarm_table(&mut l, s);
    note_table(&mut l, s);
    record::signatures(&mut l, s);

    let pages = l.pages.len();
    for (i, page) in l.pages.iter_mut().enumerate() {
        footer(m, page, report, i + 1, pages);
    }
    l.pages
}

fn header(l: &mut Layout<'_>, s: &Summary) {
    l.text(
        LEFT,
        l.y + 16.0,
        17.0,
        "Leukapheresis session summary",
        true,
        BLACK,
    );
    let generated = format!("generated {}", local_time(jiff::Timestamp::now()));
    l.text_right(RIGHT, l.y + 15.0, 7.5, &generated, GREY);
    l.y += 24.0;
    l.rule(l.y, BLACK);
    l.y += 4.0;

    let label_w = 62.0;
    let right_col = LEFT + CONTENT_WIDTH * 0.55;
    let row_h = 17.0;
    let field =
        |l: &mut Layout<'_>, x: f32, y: f32, label: &str, value: Option<&str>, big: bool| {
            l.text(x, y, 8.0, label, false, GREY);
            match value {
                Some(v) => {
                    let size = if big {
                        l.m.bold_size_to_fit(v, 11.0, CONTENT_WIDTH * 0.45 - label_w)
                    } else {
                        9.0
                    };
                    l.text(x + label_w, y, size, v, big, BLACK);
                }
                // A line to fill in by hand.
                None => l.push(Op::Line {
                    from: (x + label_w, y + 1.5),
                    to: (x + label_w + 150.0, y + 1.5),
                    width: 0.5,
                    color: GREY,
                }),
            }
        };
    let (started, ended) = (s.time(Figure::StartedUtc), s.time(Figure::EndedUtc));
    let date = match (started, ended) {
        (Some(start), Some(end)) => Some(format!(
            "{}   {}–{}",
            local_date(start),
            clock_hms(start),
            clock_hms(end)
        )),
        _ => None,
    };
    let y = l.y + 13.0;
    field(
        l,
        LEFT,
        y,
        "Patient ID",
        Some(s.patient_id.as_deref().unwrap_or("(not recorded)")),
        true,
    );
    field(
        l,
        right_col,
        y,
        "Date",
        Some(date.as_deref().unwrap_or("(unknown)")),
        false,
    );
    let y = y + row_h;
    let machine = machine(s);
    let machine_text = machine.as_deref().unwrap_or("(not identified)");
    let machine_text =
        l.m.ellipsize(machine_text, 9.0, right_col - LEFT - label_w - 8.0);
    field(l, LEFT, y, "Machine", Some(&machine_text), false);
    let tz = started.map(local_time);
    let tz = tz
        .as_deref()
        .and_then(|t| t.rsplit(' ').next())
        .filter(|z| z.starts_with(['+', '-']));
    field(
        l,
        right_col,
        y,
        "Time zone",
        Some(&tz.map_or_else(|| "local".to_owned(), |z| format!("UTC{z}"))),
        false,
    );
    let y = y + row_h;
    field(l, LEFT, y, "Operator", s.operator.as_deref(), false);
    field(l, right_col, y, "Signature", None, false);
    l.y = y + 8.0;
}

fn figures(l: &mut Layout<'_>, s: &Summary) {
    let left = procedure_rows(s);
    let right = volume_rows(s);
    let rows = left.len().max(right.len());
    let row_h = 13.0;
    l.heading("Figures", rows as f32 * row_h);
    let gap = 14.0;
    let col_w = (CONTENT_WIDTH - gap) / 2.0;
    let column = |l: &mut Layout<'_>, x: f32, rows: &[FigureRow]| {
        for (i, row) in rows.iter().enumerate() {
            let top = l.y + i as f32 * row_h;
            if i % 2 == 0 {
                l.push(Op::Rect {
                    x,
                    y: top,
                    w: col_w,
                    h: row_h,
                    color: STRIPE,
                });
            }
            let baseline = top + 9.3;
            l.text(x + 4.0, baseline, 8.5, row.label, false, GREY);
            match &row.value {
                Some(v) => l.text(x + 112.0, baseline, 9.0, v.clone(), false, BLACK),
                None => l.text(x + 112.0, baseline, 8.5, NOT_COMPUTED, false, MUTED),
            }
        }
    };
    column(l, LEFT, &left);
    column(l, LEFT + col_w + gap, &right);
    l.y += rows as f32 * row_h;
}

fn unavailable(l: &mut Layout<'_>, s: &Summary) {
    let items: Vec<String> = s
        .unavailable_grouped()
        .into_iter()
        .map(|(figures, reason)| {
            let figures: Vec<&str> = figures.iter().map(|f| f.key()).collect();
            format!("{}: {reason}", figures.join(", "))
        })
        .collect();
    bullets(l, "Not computed, and why:", &items, GREY);
}

/// What the reader must know to read the figures right, in black under them.
fn notices(l: &mut Layout<'_>, s: &Summary) {
    bullets(l, "Notices:", &s.notices, BLACK);
}

/// A heading and a bulleted list of wrapped lines; nothing when there are no items.
fn bullets(l: &mut Layout<'_>, heading: &str, items: &[String], color: palette::Rgb) {
    if items.is_empty() {
        return;
    }
    l.y += 6.0;
    let size = 7.5;
    let line_h = 9.5;
    l.ensure(line_h * 2.0);
    l.text(LEFT, l.y + 8.0, 8.0, heading, true, color);
    l.y += 11.0;
    for text in items {
        let lines = l.m.wrap(text, size, CONTENT_WIDTH - 10.0);
        l.ensure(lines.len() as f32 * line_h);
        l.text(LEFT + 2.0, l.y + 7.0, size, "•", false, color);
        for line in lines {
            l.text(LEFT + 10.0, l.y + 7.0, size, line, false, color);
            l.y += line_h;
        }
    }
}

/// Where the alarm table's priority colour square goes, from the margin.
const PRIORITY_X: f32 = 112.0;

/// The alarm table's columns (a test checks that each title and the widest time fit).
const ALARM_COLS: [page::Col; 7] = [
    col("#", 0.0, 18.0),
    col("Since start", 18.0, 52.0),
    col("Clock", 70.0, 42.0),
    col("Priority", PRIORITY_X + 10.0, 44.0),
    col("Code", 166.0, 150.0),
    col("Lasted", 316.0, 56.0),
    col("Text", 372.0, CONTENT_WIDTH - 372.0),
];

/// The note table's columns.
const NOTE_COLS: [page::Col; 5] = [
    col("#", 0.0, 18.0),
    col("Since start", 18.0, 52.0),
    col("Clock", 70.0, 42.0),
    col("Category", 112.0, 90.0),
    col("Text", 202.0, CONTENT_WIDTH - 202.0),
];

fn alarm_table(l: &mut Layout<'_>, s: &Summary) {
    l.heading("Alarms and events", 40.0);
    if s.alarm_log.is_empty() {
        l.text(
            LEFT,
            l.y + 9.0,
            9.0,
            "No alarms or events were recorded.",
            false,
            GREY,
        );
        l.y += 14.0;
        return;
    }
    let cols = ALARM_COLS;
    table_header(l, &cols);
    for (i, a) in s.alarm_log.iter().enumerate() {
        let y_before = l.y;
        let pages_before = l.pages.len();
        table_row(
            l,
            &cols,
            &[
                (format!("A{}", i + 1), BLACK),
                (offset_hms(a.raised_s), BLACK),
                (clock_hms(a.raised_utc), BLACK),
                (a.priority.name().to_owned(), BLACK),
                (a.code.clone(), BLACK),
                (
                    alarm_duration(a),
                    if a.duration_s.is_some() { BLACK } else { GREY },
                ),
                (a.text.clone(), BLACK),
            ],
            i % 2 == 1,
        );
        // The priority's colour, next to its name (never the only cue).
        let top = if l.pages.len() == pages_before {
            y_before
        } else {
            TOP + 13.0
        };
        l.push(Op::Rect {
            x: LEFT + PRIORITY_X,
            y: top + 2.5,
            w: 6.5,
            h: 6.5,
            color: palette::priority(a.priority),
        });
    }
}

fn note_table(l: &mut Layout<'_>, s: &Summary) {
    l.heading("Nurse notes", 40.0);
    if s.note_log.is_empty() {
        l.text(LEFT, l.y + 9.0, 9.0, "No notes were recorded.", false, GREY);
        l.y += 14.0;
        return;
    }
    let cols = NOTE_COLS;
    table_header(l, &cols);
    for (i, n) in s.note_log.iter().enumerate() {
        table_row(
            l,
            &cols,
            &[
                (format!("N{}", i + 1), BLACK),
                (offset_hms(n.at_s), BLACK),
                (clock_hms(n.time_utc), BLACK),
                (n.code.clone(), GREY),
                (Record::readable(&n.text), BLACK),
            ],
            i % 2 == 1,
        );
    }
}

fn footer(m: &Metrics, page: &mut Vec<Op>, report: &Report, number: usize, pages: usize) {
    let s = &report.summary;
    let y = PAGE_HEIGHT_PT - 44.0;
    page.push(Op::Line {
        from: (LEFT, y),
        to: (RIGHT, y),
        width: 0.5,
        color: LIGHT,
    });
    let size = 7.0;
    let file = s.recording_file.as_deref().unwrap_or("(unnamed)");
    let sha = report
        .pdf
        .as_ref()
        .and_then(|parts| parts.recording_sha256.as_deref())
        .unwrap_or("(the file could not be read)");
    let line1 = m.ellipsize(
        &format!("Recording {file}   SHA-256 {sha}"),
        size,
        CONTENT_WIDTH,
    );
    page.push(Op::Text {
        x: LEFT,
        y: y + 11.0,
        size,
        text: line1,
        bold: false,
        color: GREY,
    });
    page.push(Op::Text {
        x: LEFT,
        y: y + 21.0,
        size,
        text: format!(
            "apheresis-monitor {} is a secondary display: {}",
            env!("CARGO_PKG_VERSION"),
            "the apheresis machine's own records remain the reference."
        ),
        bold: false,
        color: GREY,
    });
    let page_text = format!("Page {number} of {pages}");
    page.push(Op::Text {
        x: RIGHT - m.width(&page_text, size),
        y: y + 21.0,
        size,
        text: page_text,
        bold: false,
        color: GREY,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::pdf::page::TABLE_SIZE;

    #[test]
    fn table_titles_and_the_widest_times_fit_their_columns() {
        let m = Metrics::get().unwrap();
        for cols in [&ALARM_COLS[..], &NOTE_COLS[..]] {
            for pair in cols.windows(2) {
                let (col, next) = (&pair[0], &pair[1]);
                assert!(col.x + col.w <= next.x + 0.01, "{} overlaps", col.title);
                // Titles are set bold at 7.5 pt, and must not run into the next column.
                assert!(
                    m.width_bold(col.title, 7.5) <= next.x - col.x - 2.0,
                    "title {} too wide",
                    col.title
                );
            }
            // A time of day and an offset past ten hours stay on one line (cells wrap at
            // the column's width less 4 pt).
            let fits = |title: &str, text: &str| {
                let col = cols.iter().find(|c| c.title == title).unwrap();
                assert!(
                    m.wrap(text, TABLE_SIZE, col.w - 4.0).len() == 1,
                    "{text} wraps in {title}"
                );
            };
            fits("Clock", "23:59:59");
            fits("Since start", "+23:59:59");
        }
        for (title, text) in [("Lasted", "59 min 59 s"), ("Priority", "MEDIUM")] {
            let col = ALARM_COLS.iter().find(|c| c.title == title).unwrap();
            assert_eq!(m.wrap(text, TABLE_SIZE, col.w - 4.0).len(), 1, "{text}");
        }
        fits_code(m);
    }

    /// The monitor's longest alarm code fits the code column on one line.
    fn fits_code(m: &Metrics) {
        let code = ALARM_COLS.iter().find(|c| c.title == "Code").unwrap();
        for text in ["MON_MACHINE_ALARMS_UNKNOWN", "MON_RETURN_PRESSURE_HIGH"] {
            let width = m.width(text, TABLE_SIZE);
            assert!(width <= code.w - 4.0, "{text}: {width} pt");
        }
    }
}
