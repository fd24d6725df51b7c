//! A serial stream of random bytes at full speed: the recorder's memory stays flat, nothing is
//! recorded from it (the recording holds the valid sentence and the link opening and closing,
//! nothing else), and the first valid sentence after it is recorded whole.
//! `HOSTILE_SECS` sets how long (3 s in the suite; minutes for the reliability run).

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

use std::io::{Read as _, Write as _};
use std::process::Stdio;
use std::time::{Duration, Instant};

use apheresis_monitor::model::{EntryBody, LinkCode, MachineState, Payload, Sentence};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording;

mod support;

use support::{Watched, pty, rss_kb};

#[test]
fn random_bytes_at_full_speed_leave_memory_flat_and_the_next_sentence_whole() {
    let secs: f64 = std::env::var("HOSTILE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.csv");
    let (mut master, port) = pty();
    serialport::SerialPort::set_timeout(&mut master, Duration::from_secs(2)).unwrap();
    let mut command = support::record_command(&port, &out);
    command.stdout(Stdio::piped());
    let mut recorder = Watched::spawn(command);
    recorder.wait_recording();

    // xorshift: cheap, seeded, every byte value, `$` and newlines included.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut chunk = vec![0u8; 64 * 1024];
    let started = Instant::now();
    let mut sent: u64 = 0;
    let mut rss = Vec::new();
    while started.elapsed().as_secs_f64() < secs {
        for b in &mut chunk {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        master.write_all(&chunk).unwrap();
        sent += chunk.len() as u64;
        if rss.is_empty() && started.elapsed().as_secs_f64() > secs / 4.0 {
            rss.push(rss_kb(recorder.id()));
        }
    }
    rss.push(rss_kb(recorder.id()));
    // End any partial line, then a real sentence.
    master.write_all(b"\r\n").unwrap();
    let valid = encode(&Sentence {
        seq: 7,
        t_ms: 7000,
        payload: Payload::State(MachineState::End),
        unknown_keys: 0,
    });
    master.write_all(valid.as_bytes()).unwrap();
    // END stops the recorder. (Every write above gives up after 2 s, the port's timeout.)
    let status = recorder.wait_exit(Duration::from_secs(90));
    assert!(status.success(), "{:#?}", recorder.stderr());
    let mut stdout = String::new();
    recorder
        .child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    // Nothing was recorded from the noise: the one machine row is the valid sentence, and the
    // only link rows are the connection opening and closing.
    let loaded = recording::load(&out, |_, _| true).unwrap();
    assert_eq!(loaded.skipped_rows, 0, "{:?}", loaded.problems);
    let machine_rows: Vec<_> = loaded
        .entries
        .iter()
        .filter(|e| !matches!(e.body, EntryBody::Link(_)))
        .map(|e| (e.seq, e.elapsed_ms, e.body.clone()))
        .collect();
    assert_eq!(
        machine_rows,
        [(Some(7), Some(7000), EntryBody::State(MachineState::End))],
        "rows recorded from random bytes"
    );
    assert_eq!(
        support::link_codes(&out),
        [LinkCode::Connected, LinkCode::Closed]
    );
    let (first, last) = (rss[0], rss[rss.len() - 1]);
    assert!(
        first > 0 && last < first + 4 * 1024,
        "memory grew: {rss:?} kB"
    );
    eprintln!(
        "hostile: {:.1} MB of random bytes in {secs} s, recorder RSS {rss:?} kB; {}",
        sent as f64 / 1e6,
        stdout.lines().last().unwrap_or_default()
    );
}
