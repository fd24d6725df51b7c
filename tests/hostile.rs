//! A serial stream of random bytes at full speed: the recorder's memory stays flat, nothing is
//! recorded from it, and the first valid sentence after it is recorded whole.
//! `HOSTILE_SECS` sets how long (3 s in the suite; minutes for the reliability run).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apheresis_monitor::model::{MachineState, Payload, Sentence};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording;

mod support;

use support::{pty, rss_kb};

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
    let recorder = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .args(["record", "--port", &port, "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));

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
    // END stops the recorder.
    let output = recorder.wait_with_output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let loaded = recording::load(&out, |_, _| true).unwrap();
    assert!(
        loaded
            .entries
            .iter()
            .any(|e| e.seq == Some(7) && e.elapsed_ms == Some(7000)),
        "the valid sentence after the noise was not recorded"
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
