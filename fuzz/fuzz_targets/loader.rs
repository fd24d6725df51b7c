//! Any bytes as a session recording: loading must never panic, and every row is either an
//! entry or a reported problem.
#![no_main]

use std::path::Path;

use apheresis_monitor::recording::format::header_row;
use apheresis_monitor::recording::reader::read_entries;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Half the inputs behind a valid header, so the fuzzer reaches the row parser.
    let bytes = if data.first().is_some_and(|b| b & 1 == 1) {
        let mut with_header = header_row();
        with_header.extend_from_slice(&data[1..]);
        with_header
    } else {
        data.to_vec()
    };
    if let Ok(recording) = read_entries(bytes.as_slice(), Path::new("fuzz.csv"), bytes.len() as u64, &mut |_, _| true) {
        assert!(recording.problems.len() as u64 <= recording.skipped_rows);
        // Whatever loaded also summarises.
        let _ = apheresis_monitor::analysis::summary::summarize(&recording);
    }
});
