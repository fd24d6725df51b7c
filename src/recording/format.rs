//! The session recording's rows: one [`Entry`] ⇄ one CSV record.

use jiff::Timestamp;

use crate::model::{
    Alarm, Entry, EntryBody, LinkCode, LinkEvent, MachineState, Note, Priority, QUANTITY_COUNT,
    Quantity, Sample, format_elapsed_s,
};
use crate::protocol::parse_decimal;

/// The recording's columns, in order.
pub const COLUMNS: [&str; 23] = [
    "time_utc",
    "elapsed_s",
    "seq",
    "kind",
    "state",
    "inlet_ml_min",
    "ac_ml_min",
    "return_ml_min",
    "collect_ml_min",
    "plasma_ml_min",
    "inlet_ml",
    "ac_ml",
    "collect_ml",
    "plasma_ml",
    "replace_ml",
    "access_mmhg",
    "return_mmhg",
    "centrifuge_rpm",
    "ac_ratio",
    "code",
    "priority",
    "event_state",
    "text",
];

const COL_TIME: usize = 0;
const COL_ELAPSED: usize = 1;
const COL_SEQ: usize = 2;
const COL_KIND: usize = 3;
const COL_STATE: usize = 4;
const COL_FIRST_QUANTITY: usize = 5;
const COL_CODE: usize = 19;
const COL_PRIORITY: usize = 20;
const COL_EVENT_STATE: usize = 21;
const COL_TEXT: usize = 22;

/// Characters that make a spreadsheet treat a cell as a formula. A text cell starting with one
/// of them (or with the `'` escape itself, so that reading back is exact) gets a `'` prefix.
const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// Neutralises spreadsheet formula injection in a free-text cell.
pub fn escape_text(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Undoes [`escape_text`].
pub fn unescape_text(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// RFC 3339 UTC time with millisecond precision, as the recording's `time_utc`.
pub fn format_time_utc(time: Timestamp) -> String {
    format!("{time:.3}")
}

/// The 23 cells of a recording row for `entry`.
pub fn cells_from_entry(entry: &Entry) -> [String; 23] {
    let mut cells: [String; 23] = Default::default();
    cells[COL_TIME] = format_time_utc(entry.time_utc);
    if let Some(ms) = entry.elapsed_ms {
        cells[COL_ELAPSED] = format_elapsed_s(ms);
    }
    if let Some(seq) = entry.seq {
        cells[COL_SEQ] = seq.to_string();
    }
    cells[COL_KIND] = String::from(entry.body.kind());
    match &entry.body {
        EntryBody::Sample(sample) => {
            for (quantity, value) in sample.iter() {
                cells[COL_FIRST_QUANTITY + quantity.index()] = value.to_string();
            }
        }
        EntryBody::State(state) => cells[COL_STATE] = String::from(state.as_str()),
        EntryBody::Alarm(alarm) => {
            cells[COL_CODE].clone_from(&alarm.code);
            cells[COL_PRIORITY] = String::from(alarm.priority.code());
            cells[COL_EVENT_STATE] = String::from(if alarm.active { "ON" } else { "OFF" });
            cells[COL_TEXT] = escape_text(&alarm.text);
        }
        EntryBody::Note(note) => {
            cells[COL_CODE].clone_from(&note.code);
            cells[COL_TEXT] = escape_text(&note.text);
        }
        EntryBody::Link(link) => {
            cells[COL_CODE] = String::from(link.code.as_str());
            cells[COL_TEXT] = escape_text(&link.text);
        }
    }
    cells
}

/// Appends one CSV record (RFC 4180, `\r\n`) for `entry` to `out`.
pub fn write_row(entry: &Entry, out: &mut Vec<u8>) {
    write_record(cells_from_entry(entry), out);
}

/// Appends one CSV record of `cells` to `out`.
pub fn write_record<I, T>(cells: I, out: &mut Vec<u8>)
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .buffer_capacity(512)
        .from_writer(out);
    // Writing into memory cannot fail.
    let _ = writer.write_record(cells);
    let _ = writer.flush();
}

/// The header row.
pub fn header_row() -> Vec<u8> {
    let mut out = Vec::new();
    write_record(COLUMNS, &mut out);
    out
}

/// Parses `elapsed_s` (`1260.000`) into whole milliseconds, exactly.
pub fn parse_elapsed_ms(text: &str) -> Option<u64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = int.parse().ok()?;
    let mut ms = 0u64;
    for (i, digit) in frac.bytes().take(3).enumerate() {
        ms += u64::from(digit - b'0') * [100, 10, 1][i];
    }
    whole.checked_mul(1000)?.checked_add(ms)
}

/// Why one row could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RowError(pub String);

fn row_error(message: impl Into<String>) -> RowError {
    RowError(message.into())
}

/// Reads one recording row (at least 23 cells; more are ignored).
pub fn entry_from_cells(cells: &[&str]) -> Result<Entry, RowError> {
    RowParser::default().entry(cells)
}

/// Reads rows one after another, remembering the last row's date so that a time of the
/// same day is read without a full RFC 3339 parse.
#[derive(Debug, Default)]
pub struct RowParser {
    day: Option<([u8; 10], Timestamp)>,
}

impl RowParser {
    /// Reads one recording row (at least 23 cells; more are ignored).
    pub fn entry(&mut self, cells: &[&str]) -> Result<Entry, RowError> {
        entry_with(cells, |text| self.time_utc(text))
    }

    /// `time_utc` as written by the recorder (`2026-03-14T08:05:00.350Z`) on a day already
    /// seen, or any RFC 3339 time through the full parser.
    fn time_utc(&mut self, text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let ours = b.len() == 24
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'.'
            && b[23] == b'Z';
        if ours
            && let Some((day, midnight)) = &self.day
            && b[..10] == day[..]
        {
            let digits = |range: std::ops::Range<usize>| {
                b[range].iter().try_fold(0i64, |acc, &c| {
                    c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
                })
            };
            let (h, m, s, ms) = (
                digits(11..13)?,
                digits(14..16)?,
                digits(17..19)?,
                digits(20..23)?,
            );
            if h < 24 && m < 60 && s < 60 {
                let offset = jiff::SignedDuration::from_millis(((h * 60 + m) * 60 + s) * 1000 + ms);
                return midnight.checked_add(offset).ok();
            }
        }
        let parsed: Timestamp = text.parse().ok()?;
        if ours && let Ok(day) = <[u8; 10]>::try_from(&b[..10]) {
            let midnight: Option<Timestamp> = format!("{}T00:00:00Z", &text[..10]).parse().ok();
            self.day = midnight.map(|m| (day, m));
        }
        Some(parsed)
    }
}

fn entry_with(
    cells: &[&str],
    mut time_utc: impl FnMut(&str) -> Option<Timestamp>,
) -> Result<Entry, RowError> {
    if cells.len() < COLUMNS.len() {
        return Err(row_error(format!(
            "has {} columns, expected {}",
            cells.len(),
            COLUMNS.len()
        )));
    }
    let time_utc = time_utc(cells[COL_TIME]).ok_or_else(|| {
        row_error(format!(
            "time_utc `{}` is not an RFC 3339 time",
            cells[COL_TIME]
        ))
    })?;
    let elapsed_ms =
        match cells[COL_ELAPSED] {
            "" => None,
            text => Some(parse_elapsed_ms(text).ok_or_else(|| {
                row_error(format!("elapsed_s `{text}` is not a number of seconds"))
            })?),
        };
    let seq = match cells[COL_SEQ] {
        "" => None,
        text => Some(
            text.parse::<u32>()
                .map_err(|_| row_error(format!("seq `{text}` is not a 32-bit unsigned number")))?,
        ),
    };
    let text = || unescape_text(cells[COL_TEXT]).to_owned();
    let body = match cells[COL_KIND] {
        "sample" => EntryBody::Sample(sample_from_cells(
            &cells[COL_FIRST_QUANTITY..COL_FIRST_QUANTITY + QUANTITY_COUNT],
        )?),
        "state" => EntryBody::State(MachineState::from_protocol(cells[COL_STATE]).ok_or_else(
            || {
                row_error(format!(
                    "state `{}` is not a machine state",
                    cells[COL_STATE]
                ))
            },
        )?),
        "alarm" => {
            let priority = Priority::from_code(cells[COL_PRIORITY]).ok_or_else(|| {
                row_error(format!(
                    "priority `{}` is not H, M, L or I",
                    cells[COL_PRIORITY]
                ))
            })?;
            let active = match cells[COL_EVENT_STATE] {
                "ON" => true,
                "OFF" => false,
                other => return Err(row_error(format!("event_state `{other}` is not ON or OFF"))),
            };
            if cells[COL_CODE].is_empty() {
                return Err(row_error("alarm row without a code"));
            }
            EntryBody::Alarm(Alarm {
                code: cells[COL_CODE].to_owned(),
                priority,
                active,
                text: text(),
            })
        }
        "note" => EntryBody::Note(Note {
            code: cells[COL_CODE].to_owned(),
            text: text(),
        }),
        "link" => {
            let code = LinkCode::from_code(cells[COL_CODE]).ok_or_else(|| {
                row_error(format!("link code `{}` is not known", cells[COL_CODE]))
            })?;
            let text = text();
            let lost = if code == LinkCode::SequenceGap {
                leading_number(&text).unwrap_or(0)
            } else {
                0
            };
            EntryBody::Link(LinkEvent { code, lost, text })
        }
        other => {
            return Err(row_error(format!(
                "kind `{other}` is not sample, state, alarm, note or link"
            )));
        }
    };
    Ok(Entry {
        time_utc,
        elapsed_ms,
        seq,
        body,
    })
}

fn leading_number(text: &str) -> Option<u64> {
    let digits: &str = &text[..text.bytes().take_while(u8::is_ascii_digit).count()];
    digits.parse().ok()
}

fn sample_from_cells(cells: &[&str]) -> Result<Sample, RowError> {
    let mut sample = Sample::default();
    for (quantity, cell) in Quantity::ALL.into_iter().zip(cells) {
        if cell.is_empty() {
            continue;
        }
        let Some(value) = parse_decimal(cell) else {
            return Err(row_error(format!(
                "{} `{cell}` is not a decimal number",
                quantity.key()
            )));
        };
        let (low, high) = quantity.plausible_range();
        if !(low..=high).contains(&value) {
            return Err(row_error(format!(
                "{} {cell} is outside its plausible range {low}..{high}",
                quantity.key()
            )));
        }
        sample.set(quantity, value);
    }
    Ok(sample)
}

/// The text of a `SEQ_GAP` link row for `lost` sentences.
pub fn sequence_gap_text(lost: u64, seq: u32) -> String {
    let noun = if lost == 1 { "sentence" } else { "sentences" };
    format!("{lost} {noun} lost before seq {seq}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn round_trip(entry: &Entry) -> Entry {
        let mut out = Vec::new();
        write_row(entry, &mut out);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(out.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        let cells: Vec<&str> = record.iter().collect();
        entry_from_cells(&cells).unwrap()
    }

    #[test]
    fn every_kind_of_entry_round_trips_through_a_row() {
        let time = ts("2026-03-14T08:05:00.350Z");
        let bodies = vec![
            EntryBody::Sample(
                Sample::default()
                    .with(Quantity::InletMl, 1148.2)
                    .with(Quantity::AccessMmhg, -45.0)
                    .with(Quantity::AcRatio, 12.0),
            ),
            EntryBody::State(MachineState::Rinseback),
            EntryBody::Alarm(Alarm {
                code: "ACCESS_PRESSURE_LOW".into(),
                priority: Priority::High,
                active: true,
                text: "Access pressure low - check patient arm".into(),
            }),
            EntryBody::Note(Note {
                code: "OBSERVATION".into(),
                text: "=HYPERLINK(\"x\"), BP 120/80\nsecond line, \"quoted\" é".into(),
            }),
            EntryBody::Note(Note {
                code: String::new(),
                text: "'already quoted".into(),
            }),
            EntryBody::Link(LinkEvent {
                code: LinkCode::SequenceGap,
                lost: 3,
                text: sequence_gap_text(3, 17),
            }),
        ];
        for body in bodies {
            let entry = Entry {
                time_utc: time,
                elapsed_ms: Some(1_260_000),
                seq: Some(42),
                body,
            };
            assert_eq!(round_trip(&entry), entry);
        }
    }

    #[test]
    fn time_is_written_with_exactly_three_decimals() {
        assert_eq!(
            format_time_utc(ts("2026-03-14T08:05:00Z")),
            "2026-03-14T08:05:00.000Z"
        );
        assert_eq!(
            format_time_utc(ts("2026-03-14T08:05:00.123456Z")),
            "2026-03-14T08:05:00.123Z"
        );
    }

    #[test]
    fn formula_cells_are_prefixed_and_read_back_exactly() {
        let cases = [
            ("=1+1", "'=1+1"),
            ("+49", "'+49"),
            ("-3", "'-3"),
            ("@SUM", "'@SUM"),
            ("\tx", "'\tx"),
            ("\r=1+1", "'\r=1+1"),
            ("\rx", "'\rx"),
            ("'x", "''x"),
            ("x=1", "x=1"),
            (" =1", " =1"),
            ("plain", "plain"),
            ("", ""),
        ];
        for (text, cell) in cases {
            assert_eq!(escape_text(text), cell);
            assert_eq!(unescape_text(cell), text);
        }
    }

    #[test]
    fn a_note_starting_with_a_carriage_return_is_neutralised_in_the_row_and_read_back() {
        let entry = Entry {
            time_utc: ts("2026-03-14T08:05:00.350Z"),
            elapsed_ms: Some(1000),
            seq: None,
            body: EntryBody::Note(Note {
                code: "FREE_TEXT".into(),
                text: "\r=HYPERLINK(\"http://x\")".into(),
            }),
        };
        let mut out = Vec::new();
        write_row(&entry, &mut out);
        let record = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(out.as_slice())
            .records()
            .next()
            .unwrap()
            .unwrap();
        // The spreadsheet sees a cell starting with `'`, not with CR.
        assert_eq!(&record[COL_TEXT], "'\r=HYPERLINK(\"http://x\")");
        assert_eq!(round_trip(&entry), entry);
    }

    #[test]
    fn the_spec_example_row_layout_is_followed() {
        let entry = Entry {
            time_utc: ts("2026-03-14T08:26:00.350Z"),
            elapsed_ms: Some(1_260_000),
            seq: Some(42),
            body: EntryBody::Sample(
                Sample::default()
                    .with(Quantity::InletMlMin, 55.0)
                    .with(Quantity::AcRatio, 12.0),
            ),
        };
        let mut out = Vec::new();
        write_row(&entry, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-03-14T08:26:00.350Z,1260.000,42,sample,,55,,,,,,,,,,,,,12,,,,\r\n"
        );
        assert_eq!(
            String::from_utf8(header_row()).unwrap(),
            format!("{}\r\n", COLUMNS.join(","))
        );
    }

    #[test]
    fn bad_rows_are_reported_with_the_reason() {
        let good = "2026-03-14T08:26:00.350Z,1.000,1,state,RUN,,,,,,,,,,,,,,,,,,";
        let cases = [
            (
                "2026-13-14T08:26:00Z,1.000,1,state,RUN,,,,,,,,,,,,,,,,,,",
                "time_utc",
            ),
            (
                "2026-03-14T08:26:00.350Z,abc,1,state,RUN,,,,,,,,,,,,,,,,,,",
                "elapsed_s",
            ),
            (
                "2026-03-14T08:26:00.350Z,1.000,-1,state,RUN,,,,,,,,,,,,,,,,,,",
                "seq",
            ),
            (
                "2026-03-14T08:26:00.350Z,1.000,1,state,WALK,,,,,,,,,,,,,,,,,,",
                "state",
            ),
            (
                "2026-03-14T08:26:00.350Z,1.000,1,blob,,,,,,,,,,,,,,,,,,,",
                "kind",
            ),
            (
                "2026-03-14T08:26:00.350Z,1.000,1,sample,,x,,,,,,,,,,,,,,,,,",
                "inlet_ml_min",
            ),
            (
                "2026-03-14T08:26:00.350Z,1.000,1,sample,,999,,,,,,,,,,,,,,,,,",
                "plausible",
            ),
            (
                "2026-03-14T08:26:00.350Z,1.000,1,alarm,,,,,,,,,,,,,,,,X,Q,ON,t",
                "priority",
            ),
            (
                "2026-03-14T08:26:00.350Z,1.000,1,alarm,,,,,,,,,,,,,,,,X,H,UP,t",
                "event_state",
            ),
            (
                "2026-03-14T08:26:00.350Z,1.000,1,link,,,,,,,,,,,,,,,,NOPE,,,",
                "link code",
            ),
            ("2026-03-14T08:26:00.350Z,1.000,1,state", "columns"),
        ];
        let cells: Vec<&str> = good.split(',').collect();
        assert!(entry_from_cells(&cells).is_ok());
        for (row, expected) in cases {
            let cells: Vec<&str> = row.split(',').collect();
            let err = entry_from_cells(&cells).unwrap_err();
            assert!(err.0.contains(expected), "{row}: {err}");
        }
    }

    #[test]
    fn the_same_day_fast_path_reads_times_as_the_full_parser_does() {
        let mut parser = RowParser::default();
        let times = [
            "2026-03-14T08:05:00.350Z",
            "2026-03-14T08:05:01.001Z",
            "2026-03-14T23:59:59.999Z",
            "2026-03-15T00:00:00.000Z",
            "2026-03-15T12:34:56.789Z",
            "2026-03-15T24:00:00.000Z",
            "2026-03-15T12:60:00.000Z",
            "2026-03-15T1x:00:00.000Z",
            "2026-03-15T12:00:00+01:00",
            "2026-02-30T12:00:00.000Z",
        ];
        for text in times {
            let expected: Option<Timestamp> = text.parse().ok();
            assert_eq!(parser.time_utc(text), expected, "{text}");
        }
    }

    #[test]
    fn elapsed_parses_exactly() {
        assert_eq!(parse_elapsed_ms("1260.000"), Some(1_260_000));
        assert_eq!(parse_elapsed_ms("0.5"), Some(500));
        assert_eq!(parse_elapsed_ms("12"), Some(12_000));
        assert_eq!(parse_elapsed_ms("1.2345"), Some(1_234));
        assert_eq!(parse_elapsed_ms("-1"), None);
        assert_eq!(parse_elapsed_ms("."), None);
    }
}
