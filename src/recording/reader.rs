//! Loading a session recording: tolerant of damage, strict about what is shown.
//!
//! A malformed row is skipped and reported with its line number; every valid row still loads.
//! A file that is not a recording at all is refused with one clear message before it is read.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::model::Entry;

use super::format::{COLUMNS, RowError, RowParser};
use super::meta::{SessionMeta, read_meta};

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line number in the file.
    pub line: u64,
    pub reason: SkipReason,
}

/// Why a row was skipped. The messages read after "line N ", as in
/// [`Recording::problems_summary`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("has {found} columns, expected {expected} (a row cut short?)")]
    TooFewColumns { found: usize, expected: usize },
    #[error("is not valid UTF-8")]
    NotUtf8,
    #[error(
        "is longer than {MAX_ROW_BYTES} bytes or has more than {MAX_ROW_FIELDS} columns (not a recording row)"
    )]
    TooLong,
    /// The cells are there but one of them is wrong (the row format's own check).
    #[error(transparent)]
    Row(#[from] RowError),
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
            first.reason
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
    let mut rows = RowReader::new(start[header_end + 1..].to_vec(), reader);
    let mut parser = RowParser::default();
    let mut count: u64 = 0;
    let header_bytes = header_end as u64 + 1;
    loop {
        let row = rows.next_row().map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        // The rows start after the header line, so the reader's line 1 is the file's line 2.
        match row {
            Row::End => break,
            Row::Cells(cells) if is_blank(&cells) => {}
            Row::Cells(cells) => match row_entry(&cells, &mut parser) {
                Ok(entry) => recording.entries.push(entry),
                Err(reason) => recording.skip(rows.record_line + 1, reason),
            },
            Row::TooLong => recording.skip(rows.record_line + 1, SkipReason::TooLong),
        }
        count += 1;
        if count.is_multiple_of(8192) && !progress(header_bytes + rows.bytes_read, total_bytes) {
            return Err(LoadError::Cancelled {
                path: path.to_owned(),
            });
        }
    }
    progress(total_bytes, total_bytes);
    Ok(recording)
}

/// The longest row read; longer rows (only in damaged or foreign files) are skipped, so memory
/// stays bounded whatever the file holds.
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// The most columns a row may have.
pub const MAX_ROW_FIELDS: usize = 256;

/// One row from the CSV stream.
enum Row<'a> {
    /// The row's cells (raw bytes; the last may end in the `\r` of `\r\n`).
    Cells(Cells<'a>),
    /// A row too long to be a recording's: skipped.
    TooLong,
    End,
}

/// A row's cells in the reader's buffers.
struct Cells<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
}

impl Cells<'_> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.bytes.get(start..end)
    }
}

/// RFC 4180 rows from a byte stream with bounded memory (`csv-core` and fixed buffers).
/// Rows end at `\n` (a `\r` before it stays in the last cell), so line numbers are exact.
struct RowReader<R> {
    core: csv_core::Reader,
    source: R,
    /// Bytes before the stream proper (what was read to check the header).
    pending: Vec<u8>,
    pending_pos: usize,
    input: Vec<u8>,
    input_pos: usize,
    input_len: usize,
    eof: bool,
    output: Vec<u8>,
    ends: Vec<usize>,
    /// The reader's line (1-based) where the current row began.
    record_line: u64,
    bytes_read: u64,
}

impl<R: Read> RowReader<R> {
    fn new(pending: Vec<u8>, source: R) -> RowReader<R> {
        RowReader {
            core: csv_core::ReaderBuilder::new()
                .terminator(csv_core::Terminator::Any(b'\n'))
                .build(),
            source,
            pending,
            pending_pos: 0,
            input: vec![0; 256 * 1024],
            input_pos: 0,
            input_len: 0,
            eof: false,
            output: vec![0; MAX_ROW_BYTES],
            ends: vec![0; MAX_ROW_FIELDS],
            record_line: 1,
            bytes_read: 0,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        if self.pending_pos < self.pending.len() {
            let n = (self.pending.len() - self.pending_pos).min(self.input.len());
            self.input[..n].copy_from_slice(&self.pending[self.pending_pos..self.pending_pos + n]);
            self.pending_pos += n;
            self.input_len = n;
        } else {
            self.input_len = loop {
                match self.source.read(&mut self.input) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => break other?,
                }
            };
            self.eof = self.input_len == 0;
        }
        self.input_pos = 0;
        Ok(())
    }

    fn next_row(&mut self) -> io::Result<Row<'_>> {
        use csv_core::ReadRecordResult as R;
        self.record_line = self.core.line();
        let (mut out_len, mut ends_len) = (0, 0);
        let mut too_long = false;
        loop {
            if self.input_pos == self.input_len && !self.eof {
                self.refill()?;
            }
            let input = &self.input[self.input_pos..self.input_len];
            let (result, read, written, ended) = self.core.read_record(
                input,
                &mut self.output[out_len..],
                &mut self.ends[ends_len..],
            );
            self.input_pos += read;
            self.bytes_read += read as u64;
            out_len += written;
            ends_len += ended;
            match result {
                R::InputEmpty => {}
                // Too long: keep reading to its end, writing over the buffers.
                R::OutputFull => {
                    too_long = true;
                    out_len = 0;
                }
                R::OutputEndsFull => {
                    too_long = true;
                    ends_len = 0;
                }
                R::Record if too_long => return Ok(Row::TooLong),
                R::Record => {
                    // `csv-core` counts field ends from the row's start.
                    return Ok(Row::Cells(Cells {
                        bytes: &self.output[..out_len],
                        ends: &self.ends[..ends_len],
                    }));
                }
                R::End => return Ok(Row::End),
            }
        }
    }
}

fn is_blank(cells: &Cells<'_>) -> bool {
    cells.len() == 1 && matches!(cells.get(0), Some(b"" | b"\r"))
}

fn row_entry(record: &Cells<'_>, parser: &mut RowParser) -> Result<Entry, SkipReason> {
    let mut cells: [&str; 23] = [""; 23];
    if record.len() < cells.len() {
        return Err(SkipReason::TooFewColumns {
            found: record.len(),
            expected: cells.len(),
        });
    }
    // One validation for the whole row; a cell whose edge falls inside a character (possible
    // only in an invalid row) is refused by `get`.
    let whole = std::str::from_utf8(record.bytes).map_err(|_| SkipReason::NotUtf8)?;
    let last = record.len() - 1;
    for (i, cell) in cells.iter_mut().enumerate() {
        let start = if i == 0 { 0 } else { record.ends[i - 1] };
        let text = whole
            .get(start..record.ends[i])
            .ok_or(SkipReason::NotUtf8)?;
        *cell = if i == last {
            text.strip_suffix('\r').unwrap_or(text)
        } else {
            text
        };
    }
    Ok(parser.entry(&cells)?)
}

impl Recording {
    fn skip(&mut self, line: u64, reason: SkipReason) {
        self.skipped_rows += 1;
        if self.problems.len() < MAX_PROBLEMS_KEPT {
            self.problems.push(RowProblem { line, reason });
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
            r.problems[0].reason.to_string().contains("columns"),
            "{:?}",
            r.problems[0]
        );
        assert!(r.problems[1].reason.to_string().contains("inlet_ml_min"));
        assert!(r.problems[2].reason.to_string().contains("UTF-8"));
        assert!(
            r.problems_summary()
                .unwrap()
                .contains("4 row(s) skipped; first at line 4")
        );
    }

    #[test]
    fn each_skipped_row_says_why_in_words() {
        let mut bytes = good_rows(0);
        bytes.extend_from_slice(b"garbage\r\n");
        let bad_number = "2026-01-01T00:00:00Z,1.0,1,sample,,abc,,,,,,,,,,,,,,,,,";
        bytes.extend_from_slice(format!("{bad_number}\r\n").as_bytes());
        bytes.extend_from_slice(b"2026-01-01T00:00:00Z,1.0,1,sample,,\xff,,,,,,,,,,,,,,,,,\r\n");
        bytes.extend_from_slice(&[b','; MAX_ROW_FIELDS + 10]);
        bytes.extend_from_slice(b"\r\n");
        let r = read(&bytes).unwrap();
        let cells: Vec<&str> = bad_number.split(',').collect();
        let format_error = crate::recording::format::entry_from_cells(&cells).unwrap_err();
        let reasons: Vec<String> = r.problems.iter().map(|p| p.reason.to_string()).collect();
        assert_eq!(
            reasons,
            [
                "has 1 columns, expected 23 (a row cut short?)".to_owned(),
                format_error.to_string(),
                "is not valid UTF-8".to_owned(),
                "is longer than 65536 bytes or has more than 256 columns (not a recording row)"
                    .to_owned(),
            ]
        );
        assert_eq!(
            r.problems_summary().unwrap(),
            "t.csv: 4 row(s) skipped; first at line 2: has 1 columns, expected 23 (a row cut short?)"
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
    fn rows_too_long_for_a_recording_are_skipped_with_bounded_memory() {
        let mut bytes = good_rows(1);
        // An unterminated quote swallows the rest of the file into one row.
        let mut long = b"2026-01-01T00:00:00Z,\"".to_vec();
        long.extend(std::iter::repeat_n(b'x', 3 * MAX_ROW_BYTES));
        long.extend_from_slice(b"\r\n");
        let mut wide = vec![b','; MAX_ROW_FIELDS + 10];
        wide.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&wide);
        bytes.extend_from_slice(&good_rows(1)[header_row().len()..]);
        bytes.extend_from_slice(&long);
        let r = read(&bytes).unwrap();
        assert_eq!(r.entries.len(), 2);
        assert_eq!(r.skipped_rows, 2);
        assert_eq!(r.problems[0].line, 3);
        assert!(
            r.problems[0].reason.to_string().contains("longer than"),
            "{:?}",
            r.problems
        );
    }

    #[test]
    fn a_huge_file_of_zeros_after_a_valid_header_is_one_skipped_row() {
        // 300 MB of zeros (a sparse file: nothing is written to disk) with no line break: one
        // row, far over the row limit, skipped as one (memory stays bounded: see
        // rows_too_long_for_a_recording_are_skipped_with_bounded_memory). How fast is for the
        // benchmarks, not for a unit test.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zeros.csv");
        std::fs::write(&path, header_row()).unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(300 * 1024 * 1024).unwrap();
        let r = load(&path, |_, _| true).unwrap();
        assert_eq!(r.entries.len(), 0);
        assert_eq!(r.skipped_rows, 1);
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].line, 2);
        assert!(
            r.problems[0].reason.to_string().contains("longer than"),
            "{:?}",
            r.problems
        );
    }

    #[test]
    fn a_huge_foreign_file_is_refused_from_its_first_kilobytes() {
        struct Counting<R> {
            inner: R,
            read: u64,
        }
        impl<R: Read> Read for Counting<R> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.inner.read(buf)?;
                self.read += n as u64;
                Ok(n)
            }
        }
        let two_gb = 2u64 << 30;
        let mut source = Counting {
            inner: io::repeat(0x7f).take(two_gb),
            read: 0,
        };
        let err =
            read_entries(&mut source, Path::new("disk.img"), two_gb, &mut |_, _| true).unwrap_err();
        assert!(matches!(err, LoadError::NotARecording { .. }), "{err}");
        assert!(
            source.read <= HEADER_WINDOW as u64,
            "read {} bytes",
            source.read
        );
    }

    #[test]
    fn file_names_and_texts_with_unicode_commas_quotes_and_newlines_round_trip() {
        use crate::model::{Note, Sample};
        use crate::recording::{Recorder, SessionMeta, write_meta};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("séance, \"Müller\" 血液\n2.csv");
        let mut recorder = Recorder::create(&path).unwrap();
        let text = "BP 120/80, \"fine\"\nsecond line — é 血液 =1+1";
        let rows = [
            EntryBody::Note(Note {
                code: "FREE_TEXT".into(),
                text: text.into(),
            }),
            EntryBody::Note(Note {
                code: String::new(),
                text: "-5 mL, \r\n'x".into(),
            }),
            EntryBody::Sample(Sample::default().with(crate::model::Quantity::InletMl, 1.5)),
        ];
        for (i, body) in rows.iter().enumerate() {
            recorder
                .append(&Entry {
                    time_utc: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
                    elapsed_ms: Some(i as u64),
                    seq: None,
                    body: body.clone(),
                })
                .unwrap();
        }
        drop(recorder);
        let meta = SessionMeta {
            operator: Some("Ærø, \"N\"\n".into()),
            ..SessionMeta::default()
        };
        write_meta(&path, &meta).unwrap();
        let loaded = load(&path, |_, _| true).unwrap();
        assert_eq!(loaded.skipped_rows, 0, "{:?}", loaded.problems);
        let bodies: Vec<EntryBody> = loaded.entries.into_iter().map(|e| e.body).collect();
        assert_eq!(bodies, rows);
        assert_eq!(loaded.meta, Some(meta));
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
