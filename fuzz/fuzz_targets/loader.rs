//! Any bytes as a session recording: loading must never panic, and every row after the header
//! is either an entry or a skipped row (counted independently here with the `csv` crate).
#![no_main]

use std::path::Path;

use apheresis_monitor::recording::format::header_row;
use apheresis_monitor::recording::reader::read_entries;
use libfuzzer_sys::fuzz_target;

/// The rows after the header line that are not blank, as an RFC 4180 reader sees them with
/// rows ending at `\n`.
fn rows_after_header(bytes: &[u8]) -> u64 {
    let Some(header_end) = bytes.iter().position(|&b| b == b'\n') else {
        return 0;
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(&bytes[header_end + 1..]);
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        let blank = record.len() == 1 && matches!(&record[0], b"" | b"\r");
        if !blank {
            rows += 1;
        }
    }
    rows
}

fuzz_target!(|data: &[u8]| {
    // Half the inputs behind a valid header, so the fuzzer reaches the row parser.
    let bytes = if data.first().is_some_and(|b| b & 1 == 1) {
        let mut with_header = header_row();
        with_header.extend_from_slice(&data[1..]);
        with_header
    } else {
        data.to_vec()
    };
    if let Ok(recording) = read_entries(
        bytes.as_slice(),
        Path::new("fuzz.csv"),
        bytes.len() as u64,
        &mut |_, _| true,
    ) {
        assert!(recording.problems.len() as u64 <= recording.skipped_rows);
        assert_eq!(
            recording.entries.len() as u64 + recording.skipped_rows,
            rows_after_header(&bytes),
            "every row is an entry or a skipped row"
        );
        // Whatever loaded also summarises.
        let _ = apheresis_monitor::analysis::summary::summarize(&recording);
    }
});
