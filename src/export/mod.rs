//! Exporting a session summary for the patient record: JSON, a CSV row (and a register of
//! sessions, one row each), a plain-text summary and an A4 PDF report with a timeline chart.
//!
//! [`write()`] saves a [`Report`] in any [`Format`]; the summary command and the app both go
//! through it.
//!
//! Architecture Invariant: no screen and no GUI toolkit here; the figures come from
//! [`crate::analysis::summary`] and are laid out by its table of figures, the colours and
//! text formats from [`crate::present`]; this layer only writes them down.
//! Architecture Invariant: every file written is private to its owner and written atomically
//! (a private temporary file, fsync, rename), except the register, which is appended to.

mod chart;
pub mod csv;
mod fonts;
pub mod format;
pub mod json;
pub mod pdf;
mod record;
pub mod text;

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use crate::analysis::Timeline;
use crate::analysis::summary::{Summary, summarize};
use crate::recording::{self, LoadError, Recording, create_private_file};

pub use self::chart::ChartError;
pub use self::csv::{
    REGISTER_COLUMNS, append_to_register, csv_header_and_row,
    header_and_row as csv_header_and_row_with, write_csv,
};
pub use self::fonts::FontError;
pub use self::json::{to_json, write_json};
pub use self::pdf::{PdfError, render_pdf, write_pdf};
pub use self::text::render_text;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{path} is not a summary register of this format (its header differs); nothing was appended"
    )]
    RegisterHeader { path: PathBuf },
    #[error("refusing to write the report over the recording itself ({path})")]
    OverRecording { path: PathBuf },
    #[error("cannot draw the timeline chart: {0}")]
    Chart(#[from] ChartError),
    #[error("cannot build the PDF: {0}")]
    Pdf(#[from] PdfError),
}

/// Everything an exported report needs, computed once from a recording.
#[derive(Debug, Clone)]
pub struct Report {
    pub summary: Summary,
    /// Where the recording is.
    pub recording_path: PathBuf,
    /// What only the PDF needs; `None` in a report made for the other formats alone.
    pub pdf: Option<PdfParts>,
    /// Whether the CSV and register rows carry the patient's identifiers (hospital number,
    /// NHS number, date of birth); a register kept without them is a setting.
    pub identifiers: bool,
}

/// What the PDF report adds to the summary: the chart and the recording's fingerprint. Making
/// them takes a second pass over the rows and a read of the whole file.
#[derive(Debug, Clone)]
pub struct PdfParts {
    /// The session's timeline, for the chart (shared with a replay that already holds it).
    pub timeline: Arc<Timeline>,
    /// SHA-256 of the recording file as it was when the report was made (lower-case hex);
    /// `None` when the file could not be read.
    pub recording_sha256: Option<String>,
}

impl Report {
    /// Builds the report of a loaded recording, for every format (reads the file once more
    /// for its SHA-256).
    pub fn from_recording(recording: &Recording) -> Report {
        Report {
            pdf: Some(PdfParts {
                timeline: Arc::new(Timeline::from_entries(&recording.entries)),
                recording_sha256: sha256_file(&recording.path).ok(),
            }),
            ..Report::summary_only(recording)
        }
    }

    /// Builds the report of a loaded recording for the formats other than the PDF.
    pub fn summary_only(recording: &Recording) -> Report {
        let mut summary = summarize(recording);
        record::complete(&mut summary, &recording.path);
        Report {
            summary,
            recording_path: recording.path.clone(),
            pdf: None,
            identifiers: true,
        }
    }

    /// The report of a session already summarised and laid out on a timeline (a replay's),
    /// without reading the rows again; the file is read once for its SHA-256.
    pub fn from_parts(
        recording_path: PathBuf,
        mut summary: Summary,
        timeline: Arc<Timeline>,
    ) -> Report {
        record::complete(&mut summary, &recording_path);
        Report {
            summary,
            pdf: Some(PdfParts {
                timeline,
                recording_sha256: sha256_file(&recording_path).ok(),
            }),
            recording_path,
            identifiers: true,
        }
    }

    /// Loads the recording at `path` (and the metadata beside it) and builds its report.
    pub fn load(path: &Path) -> Result<Report, ExportError> {
        let recording = recording::load(path, |_, _| true)?;
        Ok(Report::from_recording(&recording))
    }
}

/// The formats a report is saved in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Csv,
    Json,
    /// One row appended to a register CSV.
    Register,
}

impl Format {
    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Csv | Format::Register => "csv",
            Format::Json => "json",
        }
    }

    /// What the file is, for people: `PDF report`, `CSV row`, `JSON`, `register`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pdf => "PDF report",
            Format::Csv => "CSV row",
            Format::Json => "JSON",
            Format::Register => "register",
        }
    }
}

/// The default file for `format` beside `recording`: `<stem>.summary.<ext>`.
pub fn beside(recording: &Path, format: Format) -> PathBuf {
    let stem = recording
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    recording.with_file_name(format!("{stem}.summary.{}", format.extension()))
}

/// What [`write()`] put in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A PDF of this many pages.
    Pages(usize),
    /// A CSV file of the header and the session's row.
    Row,
    /// A JSON file of one object.
    Object,
    /// The session's row, appended to a register.
    RowAppended,
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Written::Pages(pages) => write!(f, "{pages} page(s)"),
            Written::Row => f.write_str("one row"),
            Written::Object => f.write_str("one object"),
            Written::RowAppended => f.write_str("row appended"),
        }
    }
}

/// Saves `report` as `format` to `out`: the PDF, the CSV and the JSON replace `out`
/// atomically (never the recording itself), a register gets the session's row appended. Every
/// file is owner-only.
pub fn write(format: Format, report: &Report, out: &Path) -> Result<Written, ExportError> {
    match format {
        Format::Pdf => write_pdf(out, report).map(Written::Pages),
        Format::Csv => write_csv(out, &report.summary, report.identifiers).map(|()| Written::Row),
        Format::Json => write_json(out, &report.summary).map(|()| Written::Object),
        Format::Register => append_to_register(out, &report.summary, report.identifiers)
            .map(|()| Written::RowAppended),
    }
}

/// The SHA-256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        }))
}

/// Writes `bytes` to `path` atomically and privately: a new owner-only temporary file beside
/// it, fsync, rename over `path` (replacing an existing file), fsync of the folder. Refuses to
/// replace a session recording (a file that starts with the recording header).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let write_error = |source| ExportError::Write {
        path: path.to_owned(),
        source,
    };
    if is_recording(path) {
        return Err(ExportError::OverRecording {
            path: path.to_owned(),
        });
    }
    let name = path
        .file_name()
        .ok_or_else(|| write_error(io::Error::other("the path names no file")))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> io::Result<()> {
        let _ = fs::remove_file(&tmp);
        let mut file = create_private_file(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(path.parent())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(write_error)
}

/// Whether the file at `path` exists and starts with the recording header.
fn is_recording(path: &Path) -> bool {
    let header = recording::format::header_row();
    let mut start = vec![0u8; header.len()];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok_and(|()| start == header)
}

/// Refuses an output path that is the recording itself.
pub fn check_not_recording(out: &Path, recording: &Path) -> Result<(), ExportError> {
    let same = match (fs::canonicalize(out), fs::canonicalize(recording)) {
        (Ok(a), Ok(b)) => a == b,
        _ => out == recording,
    };
    if same {
        return Err(ExportError::OverRecording {
            path: out.to_owned(),
        });
    }
    Ok(())
}

/// Makes a rename or a file creation in `dir` durable.
// Off unix there is nothing to sync, so the result is always Ok there.
#[cfg_attr(not(unix), allow(clippy::unnecessary_wraps))]
fn sync_dir(dir: Option<&Path>) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match dir {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_errors_say_what_failed_and_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<ExportError>();
        assert_eq!(
            ExportError::Chart(ChartError::Font(FontError::Unreadable)).to_string(),
            "cannot draw the timeline chart: the report font cannot be read"
        );
        assert_eq!(
            ExportError::Chart(ChartError::Split).to_string(),
            "cannot draw the timeline chart: cannot split the chart area"
        );
        assert_eq!(
            ExportError::Pdf(PdfError::FontNotEmbeddable).to_string(),
            "cannot build the PDF: the font cannot be embedded"
        );
        let source = std::error::Error::source(&ExportError::Chart(ChartError::Split));
        assert!(source.is_some(), "the chart's error is kept as the source");
    }

    #[test]
    fn atomic_write_replaces_privately_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.pdf");
        std::fs::write(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn each_format_has_its_file_beside_the_recording() {
        let recording = Path::new("/data/sessions/2026-03-14_0805.csv");
        let beside = |format| beside(recording, format);
        assert_eq!(
            beside(Format::Pdf),
            Path::new("/data/sessions/2026-03-14_0805.summary.pdf")
        );
        assert_eq!(
            beside(Format::Csv),
            Path::new("/data/sessions/2026-03-14_0805.summary.csv")
        );
        assert_eq!(
            beside(Format::Json),
            Path::new("/data/sessions/2026-03-14_0805.summary.json")
        );
        assert_eq!(Written::Pages(2).to_string(), "2 page(s)");
    }

    #[test]
    fn a_report_made_without_its_chart_writes_every_format_but_the_pdf() {
        let dir = tempfile::tempdir().unwrap();
        let recording = Recording {
            path: dir.path().join("s.csv"),
            entries: Vec::new(),
            problems: Vec::new(),
            skipped_rows: 0,
            meta: None,
            meta_problem: None,
        };
        let report = Report::summary_only(&recording);
        for (format, written) in [
            (Format::Csv, Written::Row),
            (Format::Json, Written::Object),
            (Format::Register, Written::RowAppended),
        ] {
            let out = dir.path().join(format.name());
            assert_eq!(write(format, &report, &out).unwrap(), written);
            assert!(out.exists());
        }
        let out = dir.path().join("s.pdf");
        let err = write(Format::Pdf, &report, &out).unwrap_err();
        assert!(
            matches!(err, ExportError::Pdf(PdfError::MadeWithoutChart)),
            "{err}"
        );
        assert!(!out.exists());
    }

    #[test]
    fn sha256_matches_the_known_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_recording_itself_is_never_an_output() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, b"x").unwrap();
        let same = dir.path().join(".").join("s.csv");
        assert!(matches!(
            check_not_recording(&same, &path),
            Err(ExportError::OverRecording { .. })
        ));
        assert!(check_not_recording(&dir.path().join("s.pdf"), &path).is_ok());
    }

    #[test]
    fn no_export_replaces_a_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.csv");
        let mut bytes = recording::format::header_row();
        bytes
            .extend_from_slice(b"2026-03-14T08:05:00.000Z,0.000,1,state,RUN,,,,,,,,,,,,,,,,,,\r\n");
        std::fs::write(&path, &bytes).unwrap();
        let err = write_atomically(&path, b"{}").unwrap_err();
        assert!(matches!(err, ExportError::OverRecording { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }

    #[test]
    fn the_second_day_of_a_collection_states_the_cd3_yield_of_all_days_so_far() {
        let dir = tempfile::tempdir().unwrap();
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
        for day in ["cart-day1", "cart-day2"] {
            for ext in ["csv", "session.json"] {
                fs::copy(
                    samples.join(format!("{day}.{ext}")),
                    dir.path().join(format!("{day}.{ext}")),
                )
                .unwrap();
            }
        }
        let day2 = Report::load(&dir.path().join("cart-day2.csv")).unwrap();
        let record = &day2.summary.record;
        assert_eq!(record.earlier_days, 1);
        let expected = 6_200.0 * 1000.0 * 210.0 + 5_400.0 * 1000.0 * 205.0;
        assert!((record.cd3_yield_so_far_cells.unwrap() - expected).abs() < 1.0);
        let text = crate::export::text::render_text(&day2.summary);
        assert!(
            text.contains("2.41 × 10⁹ cells over 2 days: meets the target dose"),
            "{text}"
        );
        // Day 1 has no earlier day; alone in a folder, day 2 has none either.
        let day1 = Report::load(&dir.path().join("cart-day1.csv")).unwrap();
        assert_eq!(day1.summary.record.earlier_days, 0);
        fs::remove_file(dir.path().join("cart-day1.csv")).unwrap();
        let alone = Report::load(&dir.path().join("cart-day2.csv")).unwrap();
        assert_eq!(alone.summary.record.earlier_days, 0);
    }
}
