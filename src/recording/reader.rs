//! Loading a session recording: tolerant of damage, strict about what is shown.
//!
//! A malformed row is skipped and reported with its line number; every valid row still loads.
//! A file that is not a recording at all is refused with one clear message before it is read.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::model::Entry;

use super::format::{COLUMNS, RowParser};
use super::meta::{SessionMeta, read_meta};

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line number in the file.
    pub line: u64,
    pub message: String,
}

/// How many row problems are kept with their text; the rest are only counted.
pub const MAX_PROBLEMS_KEPT: usize = 1000;

/// A loaded recording.
#[derive(Debug, Clone)]
pub struct Recording {
    pub path: PathBuf,
    pub entries: Vec<Entry>,
    /// The first [`MAX_PROBLEMS_KEPT`] rows that could not be read.
    pub problems: Vec<RowProblem>,
    /// All rows that could not be read.
    pub skipped_rows: u64,
    /// The metadata beside the recording, if present and valid.
    pub meta: Option<SessionMeta>,
    /// Why the metadata beside the recording could not be used.
    pub meta_problem: Option<String>,
}

impl Recording {
    /// One line for people about rows that were skipped, if any.
    pub fn problems_summary(&self) -> Option<String> {
        let first = self.problems.first()?;
        Some(format!(
            "{}: {} row(s) skipped; first at line {}: {}",
            self.path.display(),
            self.skipped_rows,
            first.line,
            first.message
        ))
    }
}

/// Why a recording could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a session recording: {reason}")]
    NotARecording { path: PathBuf, reason: String },
    #[error("loading {path} was cancelled")]
    Cancelled { path: PathBuf },
}

/// How far the header may be from the start of the file.
const HEADER_WINDOW: usize = 4096;

/// Loads the recording at `path` and the metadata beside it.
///
/// `progress(bytes_done, bytes_total)` is called now and then; returning `false` cancels.
pub fn load(
    path: &Path,
    mut progress: impl FnMut(u64, u64) -> bool,
) -> Result<Recording, LoadError> {
    let io_error = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let total = file.metadata().map_err(io_error)?.len();
    let mut recording = read_entries(
        BufReader::with_capacity(256 * 1024, file),
        path,
        total,
        &mut progress,
    )?;
    match read_meta(path) {
        Ok(meta) => recording.meta = meta,
        Err(e) => recording.meta_problem = Some(e.to_string()),
    }
    Ok(recording)
}

/// Reads recording rows from any reader; `path` names the source in messages.
pub fn read_entries(
    mut reader: impl Read,
    path: &Path,
    total_bytes: u64,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<Recording, LoadError> {
    let not_a_recording = |reason: &str| LoadError::NotARecording {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    // Look at the start before handing the file to the CSV parser, so that a binary or huge
    // foreign file is refused at once instead of being read whole.
    let mut start = Vec::with_capacity(HEADER_WINDOW);
    (&mut reader)
        .take(HEADER_WINDOW as u64)
        .read_to_end(&mut start)
        .map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
    if start.is_empty() {
        return Err(not_a_recording("the file is empty"));
    }
    let Some(header_end) = start.iter().position(|&b| b == b'\n') else {
        return Err(not_a_recording(
            "its first line is not the recording header",
        ));
    };
    let header_line = String::from_utf8_lossy(&start[..header_end]);
    let header_line = header_line
        .trim_start_matches('\u{feff}')
        .trim_end_matches('\r');
    let header: Vec<&str> = header_line.split(',').collect();
    if header.len() < COLUMNS.len() || header[..COLUMNS.len()] != COLUMNS {
        return Err(not_a_recording(
            "its first line is not the recording header (time_utc,elapsed_s,seq,kind,…)",
        ));
    }

    let rest = start[header_end + 1..].to_vec();
    let chained = io::Cursor::new(rest).chain(reader);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        // Split on `\n` alone and strip the `\r` of `\r\n` from the last cell ourselves: the
        // CSV reader's record positions (our line numbers) are only exact this way.
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(256 * 1024)
        .from_reader(chained);
    let mut recording = Recording {
        path: path.to_owned(),
        entries: Vec::with_capacity(
            usize::try_from(total_bytes / 110)
                .unwrap_or(0)
                .min(4_000_000),
        ),
        problems: Vec::new(),
        skipped_rows: 0,
        meta: None,
        meta_problem: None,
    };
    let mut record = csv::ByteRecord::new();
    let mut parser = RowParser::default();
    let mut rows: u64 = 0;
    let header_bytes = header_end as u64 + 1;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) if is_blank(&record) => {}
            Ok(true) => {
                // The CSV reader starts after the header line, so its line 1 is the file's 2.
                let line = record.position().map_or(0, csv::Position::line) + 1;
                match row_entry(&record, &mut parser) {
                    Ok(entry) => recording.entries.push(entry),
                    Err(message) => recording.skip(line, message),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line) + 1;
                match e.into_kind() {
                    csv::ErrorKind::Io(source) => {
                        return Err(LoadError::Io {
                            path: path.to_owned(),
                            source,
                        });
                    }
                    other => recording.skip(line, format!("{other:?}")),
                }
            }
        }
        rows += 1;
        if rows.is_multiple_of(8192) {
            let done = header_bytes + record.position().map_or(0, csv::Position::byte);
            if !progress(done, total_bytes) {
                return Err(LoadError::Cancelled {
                    path: path.to_owned(),
                });
            }
        }
    }
    progress(total_bytes, total_bytes);
    Ok(recording)
}

fn is_blank(record: &csv::ByteRecord) -> bool {
    record.len() == 1 && matches!(record.get(0), Some(b"" | b"\r"))
}

fn row_entry(record: &csv::ByteRecord, parser: &mut RowParser) -> Result<Entry, String> {
    const NOT_UTF8: &str = "is not valid UTF-8";
    let mut cells: [&str; 23] = [""; 23];
    if record.len() < cells.len() {
        return Err(format!(
            "has {} columns, expected {} (a row cut short?)",
            record.len(),
            cells.len()
        ));
    }
    // One validation for the whole row; a cell whose edge falls inside a character (possible
    // only in an invalid row) is refused by `get`.
    let whole = std::str::from_utf8(record.as_slice()).map_err(|_| NOT_UTF8.to_owned())?;
    let last = record.len() - 1;
    for (i, cell) in cells.iter_mut().enumerate() {
        let text = record
            .range(i)
            .and_then(|range| whole.get(range))
            .ok_or_else(|| NOT_UTF8.to_owned())?;
        *cell = if i == last {
            text.strip_suffix('\r').unwrap_or(text)
        } else {
            text
        };
    }
    parser.entry(&cells).map_err(|e| e.0)
}

impl Recording {
    fn skip(&mut self, line: u64, message: String) {
        self.skipped_rows += 1;
        if self.problems.len() < MAX_PROBLEMS_KEPT {
            self.problems.push(RowProblem { line, message });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EntryBody, MachineState};
    use crate::recording::format::{header_row, write_row};

    fn good_rows(n: u64) -> Vec<u8> {
        let mut out = header_row();
        for i in 0..n {
            write_row(
                &Entry {
                    time_utc: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
                    elapsed_ms: Some(i * 1000),
                    seq: Some(u32::try_from(i).unwrap()),
                    body: EntryBody::State(MachineState::Run),
                },
                &mut out,
            );
        }
        out
    }

    fn read(bytes: &[u8]) -> Result<Recording, LoadError> {
        read_entries(
            bytes,
            Path::new("t.csv"),
            bytes.len() as u64,
            &mut |_, _| true,
        )
    }

    #[test]
    fn valid_rows_load_in_order() {
        let r = read(&good_rows(5)).unwrap();
        assert_eq!(r.entries.len(), 5);
        assert_eq!(r.skipped_rows, 0);
        assert_eq!(r.entries[3].seq, Some(3));
    }

    #[test]
    fn every_kind_of_malformed_row_is_skipped_with_its_line_number() {
        let mut bytes = good_rows(2);
        bytes.extend_from_slice(b"garbage\r\n");
        bytes.extend_from_slice(b"2026-01-01T00:00:00Z,1.0,1,sample,,abc,,,,,,,,,,,,,,,,,\r\n");
        bytes.extend_from_slice(b"2026-01-01T00:00:00Z,1.0,1,sample,,\xff,,,,,,,,,,,,,,,,,\r\n");
        bytes.extend_from_slice(&good_rows(1)[header_row().len()..]);
        bytes.extend_from_slice(b"2026-01-01T00:00:00Z,1.0,1,sta");
        let r = read(&bytes).unwrap();
        assert_eq!(r.entries.len(), 3);
        assert_eq!(r.skipped_rows, 4);
        let lines: Vec<u64> = r.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [4, 5, 6, 8]);
        assert!(
            r.problems[0].message.contains("columns"),
            "{:?}",
            r.problems[0]
        );
        assert!(r.problems[1].message.contains("inlet_ml_min"));
        assert!(r.problems[2].message.contains("UTF-8"));
        assert!(
            r.problems_summary()
                .unwrap()
                .contains("4 row(s) skipped; first at line 4")
        );
    }

    #[test]
    fn extra_columns_are_ignored() {
        let mut text = String::from_utf8(header_row())
            .unwrap()
            .replace("\r\n", ",extra\r\n");
        text.push_str("2026-01-01T00:00:00Z,1.0,1,state,RUN,,,,,,,,,,,,,,,,,,,whatever\r\n");
        let r = read(text.as_bytes()).unwrap();
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.skipped_rows, 0);
    }

    #[test]
    fn foreign_files_are_refused_with_one_message() {
        let cases: [&[u8]; 4] = [
            b"",
            b"name,age\nbob,4\n",
            &[0u8, 159, 146, 150, 1, 2, 3],
            &[b'x'; 10_000],
        ];
        for bytes in cases {
            let err = read(bytes).unwrap_err();
            assert!(matches!(err, LoadError::NotARecording { .. }), "{err}");
            assert!(
                err.to_string()
                    .starts_with("t.csv is not a session recording")
            );
        }
    }

    #[test]
    fn cancelling_stops_the_load() {
        let bytes = good_rows(20_000);
        let err = read_entries(
            bytes.as_slice(),
            Path::new("t.csv"),
            bytes.len() as u64,
            &mut |_, _| false,
        )
        .unwrap_err();
        assert!(matches!(err, LoadError::Cancelled { .. }));
    }
}
