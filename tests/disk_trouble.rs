//! Disk trouble while recording: the recording's file stops taking writes (a file-size limit
//! set on the running recorder, like a full disk), the recorder says so loudly, keeps every row
//! in memory, and writes them all, in order, once writing works again.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::wait_until;

use apheresis_monitor::model::{EntryBody, MachineState, Payload, Quantity, Sample, Sentence};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording;

fn sentence(seq: u32) -> String {
    encode(&Sentence {
        seq,
        t_ms: u64::from(seq) * 1000,
        payload: if seq == 0 {
            Payload::State(MachineState::Run)
        } else {
            Payload::Sample(
                Sample::default()
                    .with(Quantity::InletMlMin, 55.0)
                    .with(Quantity::InletMl, f64::from(seq)),
            )
        },
        unknown_keys: 0,
    })
}

#[test]
fn a_full_disk_is_reported_rows_wait_in_memory_and_are_written_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.csv");
    let (mut master, port) = support::pty();
    // The recorder runs with an 8 kB file-size limit; SIGXFSZ is ignored (inherited through
    // exec), so a write past the limit fails with EFBIG as on a full disk.
    let script = format!(
        "trap '' XFSZ; exec prlimit --fsize=8192: {} record --port {port} --out {}",
        env!("CARGO_BIN_EXE_apheresis-monitor"),
        out.display()
    );
    let mut command = Command::new("sh");
    command
        .args(["-c", &script])
        .env("RUST_LOG", support::RECEIVED_LOG)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null());
    let mut recorder = support::Watched::spawn(command);
    recorder.wait_recording();
    let total = 400u32;
    for seq in 0..total / 2 {
        master.write_all(sentence(seq).as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    // Every sentence of the first half has reached the recorder, and writing has failed.
    let last_of_half = total / 2 - 1;
    wait_until(
        Duration::from_secs(20),
        "the first half to be received",
        || recorder.received().contains(&last_of_half),
    );
    recorder.wait_for(Duration::from_secs(20), "the recording error", |l| {
        l.contains("RECORDING ERROR")
    });
    let stuck_at = std::fs::metadata(&out).unwrap().len();
    assert!(stuck_at <= 8192, "the limit did not hold: {stuck_at} bytes");
    // Space comes back.
    let status = Command::new("prlimit")
        .args(["--pid", &recorder.id().to_string(), "--fsize=unlimited:"])
        .status()
        .unwrap();
    assert!(status.success());
    for seq in total / 2..total {
        master.write_all(sentence(seq).as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    // The recorder has everything, and has said writing works again.
    wait_until(
        Duration::from_secs(20),
        "the second half to be received",
        || recorder.received().contains(&(total - 1)),
    );
    recorder.wait_for(Duration::from_secs(20), "writing again", |l| {
        l.contains("writing again")
    });
    let status = recorder.terminate(Duration::from_secs(20));
    let stderr = recorder.stderr().join("\n");
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("RECORDING ERROR"),
        "no loud error: {stderr}"
    );
    assert!(
        stderr.contains("File too large") || stderr.contains("os error 27"),
        "{stderr}"
    );
    assert!(stderr.contains("writing again"), "{stderr}");

    let loaded = recording::load(&out, |_, _| true).unwrap();
    assert_eq!(loaded.skipped_rows, 0, "{:?}", loaded.problems);
    let seqs: Vec<u32> = loaded
        .entries
        .iter()
        .filter(|e| !matches!(e.body, EntryBody::Link(_)))
        .filter_map(|e| e.seq)
        .collect();
    assert_eq!(
        seqs,
        (0..total).collect::<Vec<_>>(),
        "rows lost or out of order"
    );
}
