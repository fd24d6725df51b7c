//! The summary as one CSV row under a header, and the register: one CSV file collecting a row
//! per session.
//!
//! The columns are stable ([`REGISTER_COLUMNS`]): new columns may only ever be added at the end
//! by a new register format, because a register refuses rows under a header that differs.
//! Every text cell is neutralised against spreadsheet formulas with
//! [`crate::recording::escape_text`]; inside the alarm and note logs each free text is
//! neutralised too, so splitting the cell into columns cannot make a formula of it either.

use std::fs::OpenOptions;
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;

use crate::analysis::patient::TbvMethod;
use crate::analysis::summary::{FIGURE_COUNT, Figure, Summary, Value};
use crate::recording::format::{format_time_utc, write_record};
use crate::recording::{create_private_file, escape_text};

use super::{ExportError, sync_dir, write_atomically};
use crate::present::text::offset_hms;

/// The register's first columns: who and what.
const IDENTITY_COLUMNS: [&str; 6] = [
    "recording_file",
    "patient_id",
    "machine_model",
    "machine_serial_no",
    "machine_software_version",
    "operator",
];

/// The register's columns after the figures: the TBV's method and the notices (text, so not
/// figures of the table; they came with the register format that has them).
const TEXT_COLUMNS: [&str; 2] = ["tbv_method", "notices"];

/// The register's columns of the collection record (a CAR-T collection's identity,
/// consumables, labs, product and calcium; empty for other sessions). The first three are the
/// patient's identifiers, left empty when the row is written without them.
const RECORD_COLUMNS: [&str; 19] = [
    "hospital_number",
    "nhs_number",
    "date_of_birth",
    "collection_id",
    "vascular_access",
    "access_site",
    "checker",
    "anticoagulant_lot",
    "kit_lot",
    "kit_expiry",
    "labs",
    "product_volume_weighed_ml",
    "target_cd3_cells",
    "cd3_target_met",
    "cd3_yield_so_far_cells",
    "calcium_total_mmol",
    "reactions",
    "vitals",
    "record_problems",
];

/// How many of [`RECORD_COLUMNS`] are the patient's identifiers.
const IDENTIFIER_COLUMNS: usize = 3;

/// The register's last columns: the logs and what could not be computed.
const LOG_COLUMNS: [&str; 3] = ["alarm_log", "note_log", "unavailable"];

/// How many columns the register has.
pub const REGISTER_WIDTH: usize = IDENTITY_COLUMNS.len()
    + FIGURE_COUNT
    + TEXT_COLUMNS.len()
    + RECORD_COLUMNS.len()
    + LOG_COLUMNS.len();

/// The register's columns, in order: the identity, every figure of the table (its key), the
/// TBV's method and the notices, the logs.
pub const REGISTER_COLUMNS: [&str; REGISTER_WIDTH] = register_columns();

const fn register_columns() -> [&'static str; REGISTER_WIDTH] {
    let mut columns = [""; REGISTER_WIDTH];
    let mut i = 0;
    while i < IDENTITY_COLUMNS.len() {
        columns[i] = IDENTITY_COLUMNS[i];
        i += 1;
    }
    let mut f = 0;
    while f < FIGURE_COUNT {
        columns[i] = Figure::ALL[f].key();
        i += 1;
        f += 1;
    }
    let mut t = 0;
    while t < TEXT_COLUMNS.len() {
        columns[i] = TEXT_COLUMNS[t];
        i += 1;
        t += 1;
    }
    let mut record = 0;
    while record < RECORD_COLUMNS.len() {
        columns[i] = RECORD_COLUMNS[record];
        i += 1;
        record += 1;
    }
    let mut l = 0;
    while l < LOG_COLUMNS.len() {
        columns[i] = LOG_COLUMNS[l];
        i += 1;
        l += 1;
    }
    columns
}

/// How far into the register its header line is looked for.
const HEADER_WINDOW: u64 = 4096;

/// The header row (`\r\n`-terminated).
pub fn header_row() -> Vec<u8> {
    let mut out = Vec::new();
    write_record(REGISTER_COLUMNS, &mut out);
    out
}

/// The summary's cells, in [`REGISTER_COLUMNS`] order; the patient's identifiers only when
/// `identifiers` is set.
pub fn cells(s: &Summary, identifiers: bool) -> Vec<String> {
    // Escaped before line breaks and tabs become spaces: a text starting with CR or tab keeps
    // its `'`, so a reader that trims leading spaces cannot turn `\r=…` into a formula.
    let text = |v: Option<&str>| one_line(&escape_text(v.unwrap_or("")));
    let machine = s.machine.as_ref();
    let alarm_log: Vec<String> = s
        .alarm_log
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let duration = a
                .duration_s
                .map_or_else(|| "not cleared".to_owned(), |d| format!("{d:.0} s"));
            format!(
                "A{} {} {} {} {}: {}",
                i + 1,
                offset_hms(a.raised_s),
                a.priority.code(),
                a.code,
                duration,
                one_line(&escape_text(&a.text))
            )
        })
        .collect();
    let note_log: Vec<String> = s
        .note_log
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let code = if n.code.is_empty() {
                String::new()
            } else {
                format!(" {}", n.code)
            };
            format!(
                "N{} {}{code}: {}",
                i + 1,
                offset_hms(n.at_s),
                one_line(&escape_text(&n.text))
            )
        })
        .collect();
    let unavailable: Vec<String> = s
        .unavailable
        .iter()
        .map(|u| format!("{}: {}", u.figure, u.reason))
        .collect();
    let mut cells = vec![
        text(s.recording_file.as_deref()),
        text(s.patient_id.as_deref()),
        text(machine.map(|m| m.model.as_str())),
        text(machine.map(|m| m.serial_no.as_str())),
        text(machine.map(|m| m.software_version.as_str())),
        text(s.operator.as_deref()),
    ];
    cells.extend(Figure::ALL.iter().map(|&figure| {
        let decimals = figure.def().register_decimals;
        match s.get(figure) {
            None => String::new(),
            Some(Value::Time(time)) => text(Some(&format_time_utc(time))),
            Some(Value::Count(n)) => n.to_string(),
            Some(Value::Number(v)) => format!("{v:.decimals$}"),
        }
    }));
    cells.extend([
        text(s.tbv_method.map(TbvMethod::key)),
        escape_text(&one_line(&s.notices.join(" | "))),
    ]);
    cells.extend(record_cells(s, identifiers));
    cells.extend([
        escape_text(&alarm_log.join(" | ")),
        escape_text(&note_log.join(" | ")),
        escape_text(&unavailable.join("; ")),
    ]);
    cells
}

/// The collection record's cells, in [`RECORD_COLUMNS`] order.
fn record_cells(s: &Summary, identifiers: bool) -> Vec<String> {
    let r = &s.record;
    let text = |v: Option<&String>| one_line(&escape_text(v.map_or("", String::as_str)));
    let number = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v}"));
    let list = |lines: &[crate::analysis::summary::record::RecordLine]| {
        escape_text(&one_line(
            &lines
                .iter()
                .map(|l| format!("{} {}", offset_hms(l.at_s), l.text))
                .collect::<Vec<_>>()
                .join(" | "),
        ))
    };
    let labs = r
        .labs
        .iter()
        .map(|l| format!("{} {} {}", l.key, l.value, l.unit))
        .collect::<Vec<_>>()
        .join("; ");
    let mut cells = vec![
        text(r.hospital_number.as_ref()),
        text(r.nhs_number.as_ref()),
        text(r.date_of_birth.as_ref()),
    ];
    if !identifiers {
        cells.iter_mut().for_each(String::clear);
    }
    debug_assert_eq!(cells.len(), IDENTIFIER_COLUMNS);
    cells.extend([
        text(r.collection_id.as_ref()),
        text(r.vascular_access.as_ref()),
        text(r.access_site.as_ref()),
        text(r.checker.as_ref()),
        text(r.anticoagulant_lot.as_ref()),
        text(r.kit_lot.as_ref()),
        text(r.kit_expiry.as_ref()),
        escape_text(&labs),
        number(r.product_volume_weighed_ml),
        number(r.target_cd3_cells),
        r.cd3_target_met.map_or_else(String::new, |m| m.to_string()),
        number(r.cd3_yield_so_far_cells),
        if r.is_empty() {
            String::new()
        } else {
            number(Some(r.calcium_total_mmol))
        },
        list(&r.reactions),
        list(&r.vitals),
        escape_text(&one_line(&r.problems.join("; "))),
    ]);
    cells
}

/// Line breaks and tabs inside a log cell become spaces, so each session stays one line.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n', '\t'], " ")
}

/// The summary's row (`\r\n`-terminated).
pub fn row(s: &Summary, identifiers: bool) -> Vec<u8> {
    let mut out = Vec::new();
    write_record(cells(s, identifiers), &mut out);
    out
}

/// The header and the summary's row, identifiers included: a CSV file of one session.
pub fn csv_header_and_row(s: &Summary) -> Vec<u8> {
    header_and_row(s, true)
}

/// The header and the summary's row, the patient's identifiers only when `identifiers` is set.
pub fn header_and_row(s: &Summary, identifiers: bool) -> Vec<u8> {
    let mut out = header_row();
    out.extend_from_slice(&row(s, identifiers));
    out
}

/// Writes the one-session CSV to `path` (owner-only, atomically), the patient's identifiers
/// only when `identifiers` is set.
pub fn write_csv(path: &Path, s: &Summary, identifiers: bool) -> Result<(), ExportError> {
    write_atomically(path, &header_and_row(s, identifiers))
}

/// Appends the summary's row to the register at `path`, creating it (owner-only, with the
/// header) when it does not exist. Refuses, appending nothing, when the file's first line is
/// not this register's header. The patient's identifiers go in only when `identifiers` is set.
pub fn append_to_register(path: &Path, s: &Summary, identifiers: bool) -> Result<(), ExportError> {
    let write_error = |source| ExportError::Write {
        path: path.to_owned(),
        source,
    };
    let row = row(s, identifiers);
    match create_private_file(path) {
        Ok(mut file) => {
            let mut bytes = header_row();
            bytes.extend_from_slice(&row);
            file.write_all(&bytes).map_err(write_error)?;
            file.sync_all().map_err(write_error)?;
            sync_dir(path.parent()).map_err(write_error)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let read_error = |source| ExportError::Read {
                path: path.to_owned(),
                source,
            };
            let mut file = OpenOptions::new()
                .read(true)
                .append(true)
                .open(path)
                .map_err(read_error)?;
            let mut start = Vec::new();
            (&mut file)
                .take(HEADER_WINDOW)
                .read_to_end(&mut start)
                .map_err(read_error)?;
            if !starts_with_header(&start) {
                return Err(ExportError::RegisterHeader {
                    path: path.to_owned(),
                });
            }
            // A last row cut short (or saved without a final line break) must not swallow
            // this one.
            let len = file.metadata().map_err(read_error)?.len();
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1)).map_err(read_error)?;
            file.read_exact(&mut last).map_err(read_error)?;
            let mut bytes = Vec::with_capacity(row.len() + 2);
            if last[0] != b'\n' {
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(&row);
            file.write_all(&bytes).map_err(write_error)?;
            file.sync_all().map_err(write_error)
        }
        Err(e) => Err(write_error(e)),
    }
}

/// Whether `start` (the first bytes of a file) begins with the register's header line, allowing
/// a byte-order mark and either line ending.
fn starts_with_header(start: &[u8]) -> bool {
    let Some(end) = start.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let line = String::from_utf8_lossy(&start[..end]);
    let line = line.trim_start_matches('\u{feff}').trim_end_matches('\r');
    line == REGISTER_COLUMNS.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{NoteRecord, SummaryInput, summarize_input};

    fn summary_with_note(text: &str) -> Summary {
        let mut s = summarize_input(&SummaryInput {
            recording_file: Some("s.csv"),
            ..SummaryInput::default()
        });
        s.patient_id = Some("=cmd|' /C calc'!A0".into());
        s.set(Figure::Notes, 1u64);
        s.note_log = vec![NoteRecord {
            time_utc: "2026-03-14T08:10:00.000Z".parse().unwrap(),
            at_s: 300.0,
            code: String::new(),
            text: text.into(),
        }];
        s
    }

    fn parse(bytes: &[u8]) -> Vec<Vec<String>> {
        ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes)
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    /// Registers already written have these columns: a register refuses rows under another
    /// header, so they keep their names and order. A figure added to the table comes after
    /// them (a new register format), before the logs.
    #[test]
    fn the_register_keeps_the_columns_registers_already_have() {
        let written = "recording_file,patient_id,machine_model,machine_serial_no,\
            machine_software_version,operator,started_utc,ended_utc,duration_s,run_time_s,\
            pause_count,pause_time_s,inlet_ml,ac_ml,collect_ml,plasma_ml,replace_ml,\
            wb_processed_ml,tbv_ml,tbv_processed,mean_inlet_ml_min,citrate_mean_mg_kg_min,\
            citrate_peak_mg_kg_min,alarms_high,alarms_medium,alarms_low,notes,lost_sentences,\
            link_losses,rows_skipped,cd3_yield_cells,ce2_percent,wb_needed_for_target_ml";
        let columns = REGISTER_COLUMNS.join(",");
        assert!(columns.starts_with(written), "{columns}");
        assert!(
            columns.ends_with(",alarm_log,note_log,unavailable"),
            "{columns}"
        );
        let header = String::from_utf8(header_row()).unwrap();
        assert_eq!(header, format!("{columns}\r\n"));
    }

    #[test]
    fn formula_text_is_neutralised() {
        let s = summary_with_note("=HYPERLINK(\"http://x\",\"click\")");
        let rows = parse(&csv_header_and_row(&s));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], REGISTER_COLUMNS);
        let cell = |name: &str| {
            let i = REGISTER_COLUMNS.iter().position(|c| *c == name).unwrap();
            rows[1][i].clone()
        };
        assert_eq!(cell("patient_id"), "'=cmd|' /C calc'!A0");
        assert_eq!(
            cell("note_log"),
            "N1 +0:05:00: '=HYPERLINK(\"http://x\",\"click\")"
        );
        assert_eq!(cell("notes"), "1");
        assert_eq!(cell("inlet_ml"), "");
        assert!(cell("unavailable").contains("inlet_ml: no samples in the recording"));
        // No cell of the row starts a formula.
        for value in &rows[1] {
            assert!(!value.starts_with(['=', '+', '-', '@']), "{value}");
        }
    }

    #[test]
    fn text_starting_with_a_carriage_return_or_a_tab_keeps_its_escape() {
        let mut s = summary_with_note("\r=HYPERLINK(\"http://x\")");
        s.patient_id = Some("\r=cmd|' /C calc'!A0".into());
        s.operator = Some("\t@SUM(A1)".into());
        let rows = parse(&csv_header_and_row(&s));
        let cell = |name: &str| {
            let i = REGISTER_COLUMNS.iter().position(|c| *c == name).unwrap();
            rows[1][i].clone()
        };
        // CR and tab become spaces (one line per session) after the `'` is put in front.
        assert_eq!(cell("patient_id"), "' =cmd|' /C calc'!A0");
        assert_eq!(cell("operator"), "' @SUM(A1)");
        assert_eq!(cell("note_log"), "N1 +0:05:00: ' =HYPERLINK(\"http://x\")");
        for value in &rows[1] {
            assert!(
                !value
                    .trim_start()
                    .starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{value:?}"
            );
        }
    }

    #[test]
    fn the_register_gets_its_header_once_and_one_row_per_session() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("register.csv");
        append_to_register(&path, &summary_with_note("first"), true).unwrap();
        append_to_register(&path, &summary_with_note("second"), true).unwrap();
        let rows = parse(&std::fs::read(&path).unwrap());
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], REGISTER_COLUMNS);
        assert!(rows[2].iter().any(|c| c.ends_with("second")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_file_with_another_header_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.csv");
        std::fs::write(&path, "name,age\r\nbob,4\r\n").unwrap();
        let err = append_to_register(&path, &summary_with_note("x"), true).unwrap_err();
        assert!(matches!(err, ExportError::RegisterHeader { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"name,age\r\nbob,4\r\n");
    }

    #[test]
    fn a_register_without_a_final_line_break_still_gets_a_clean_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("register.csv");
        let mut bytes = header_row();
        bytes.truncate(bytes.len() - 2);
        bytes.push(b'\n');
        bytes.extend_from_slice(b"a,b");
        std::fs::write(&path, &bytes).unwrap();
        append_to_register(&path, &summary_with_note("x"), true).unwrap();
        let rows = parse(&std::fs::read(&path).unwrap());
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].len(), REGISTER_COLUMNS.len());
    }

    #[test]
    fn the_collection_record_is_in_the_row_and_the_identifiers_only_when_asked() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/cart-day1.csv");
        let recording = crate::recording::load(&path, |_, _| true).unwrap();
        let s = crate::analysis::summarize(&recording);
        let cell = |identifiers: bool, name: &str| {
            let rows = parse(&header_and_row(&s, identifiers));
            let i = REGISTER_COLUMNS.iter().position(|c| *c == name).unwrap();
            rows[1][i].clone()
        };
        assert_eq!(cell(true, "nhs_number"), "943 476 5919");
        assert_eq!(cell(true, "date_of_birth"), "1971-04-23");
        assert_eq!(cell(true, "collection_id"), "KTE-2026-00417");
        assert_eq!(cell(true, "calcium_total_mmol"), "4.4");
        assert_eq!(cell(true, "product_volume_weighed_ml"), "210");
        assert!(cell(true, "labs").contains("pre_cd3 0.3 10*9/L"));
        for identifier in ["hospital_number", "nhs_number", "date_of_birth"] {
            assert_eq!(cell(false, identifier), "", "{identifier}");
        }
        // Without identifiers the record is still there.
        assert_eq!(cell(false, "collection_id"), "KTE-2026-00417");
    }
}
