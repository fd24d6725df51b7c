//! Crash recovery: the headless recorder is killed with SIGKILL mid-run (a child process), the
//! recording must load, hold everything received more than a second before the kill, and
//! resume into the same file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apheresis_monitor::library::{SessionStatus, inspect};
use apheresis_monitor::model::{EntryBody, LinkCode};
use apheresis_monitor::recording;
use apheresis_monitor::simulator::{
    FaultInjector, PtyOutput, RunOptions, SimConfig, SimMachine, run,
};

use support::expected_row;

fn record(port: &str, out: &std::path::Path, resume: bool) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"));
    command.args(["record", "--port", port, "--out"]).arg(out);
    if resume {
        command.arg("--resume");
    }
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the recorder")
}

/// How many kill-and-resume rounds; `RECOVERY_KILLS=20` for the reliability run.
fn rounds() -> usize {
    std::env::var("RECOVERY_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

#[test]
fn a_killed_recorder_loses_at_most_the_last_second_and_resumes_into_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.csv");
    let mut pty = PtyOutput::create().unwrap();
    let port = pty.path().to_owned();

    // The simulated machine runs on its own thread for the whole test, logging when each
    // sentence went out and whether anyone heard it.
    let sent: Arc<Mutex<Vec<(Instant, apheresis_monitor::simulator::Sent)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let machine_thread = {
        let sent = sent.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut machine = SimMachine::new(SimConfig {
                seed: 11,
                sample_interval_ms: 100,
                ..SimConfig::default()
            });
            let mut faults = FaultInjector::new(0.0, 11);
            let options = RunOptions {
                speed: 20.0,
                wait_for_listener: true,
                stop,
            };
            run(&mut machine, &mut faults, &mut pty, &options, |s| {
                sent.lock().unwrap().push((Instant::now(), s.clone()));
            })
            .unwrap();
        })
    };

    let rounds = rounds();
    let mut child = record(&port, &out, false);
    let mut started = Instant::now();
    for round in 0..=rounds {
        // Let it record for a while (randomised a little by the round), then kill it.
        std::thread::sleep(Duration::from_millis(1200 + 137 * (round as u64 % 5)));
        let killed_at = Instant::now();
        child.kill().unwrap();
        child.wait().unwrap();

        let loaded = recording::load(&out, |_, _| true).expect("a killed recording still loads");
        assert!(
            loaded.skipped_rows <= 1,
            "round {round}: {:?}",
            loaded.problems
        );
        let recorded: std::collections::HashSet<u32> = loaded
            .entries
            .iter()
            .filter(|e| !matches!(e.body, EntryBody::Link(_)))
            .filter_map(|e| e.seq)
            .collect();
        let sent_log = sent.lock().unwrap();
        // Each round checks what was sent while its recorder was running: from its start to a
        // second before its kill. (Between a kill and the next start nobody listens; bytes the
        // pseudo-terminal still took while the killed reader was being torn down die with it.)
        let cutoff = killed_at.checked_sub(Duration::from_secs(1)).unwrap();
        let missing: Vec<u32> = sent_log
            .iter()
            .filter(|(at, s)| {
                *at >= started
                    && *at < cutoff
                    && s.delivered_intact
                    && expected_row(&s.sentence).is_some()
            })
            .map(|(_, s)| s.sentence.seq)
            .filter(|seq| !recorded.contains(seq))
            .collect();
        if let Some(first) = missing.first() {
            let (at, s) = sent_log
                .iter()
                .find(|(_, s)| s.sentence.seq == *first)
                .unwrap();
            let previous = sent_log
                .iter()
                .rev()
                .find(|(_, p)| p.sentence.seq < *first && p.delivered_intact);
            eprintln!(
                "missing seq {first} ({:?}): sent {:?} after this recorder started, {:?} before the kill; the intact one before it was seq {:?}",
                s.sentence.payload,
                at.duration_since(started),
                killed_at.duration_since(*at),
                previous.map(|(_, p)| p.sentence.seq)
            );
        }
        assert!(
            missing.is_empty(),
            "round {round}: {} sentences received more than 1 s before the kill are missing: {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        drop(sent_log);
        assert_eq!(inspect(&out).unwrap().status, SessionStatus::Interrupted);
        if round < rounds {
            child = record(&port, &out, true);
            started = Instant::now();
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    machine_thread.join().unwrap();

    let loaded = recording::load(&out, |_, _| true).unwrap();
    let links = support::link_codes(&out);
    let count = |code| links.iter().filter(|c| **c == code).count();
    assert_eq!(count(LinkCode::Resumed), rounds, "{links:?}");
    assert_eq!(count(LinkCode::Restored), rounds, "{links:?}");
    // One file, one header: the rows' sequence numbers only go forward.
    let seqs: Vec<u32> = loaded
        .entries
        .iter()
        .filter(|e| !matches!(e.body, EntryBody::Link(_)))
        .filter_map(|e| e.seq)
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "rows out of order");
    assert_eq!(
        std::fs::read_to_string(&out)
            .unwrap()
            .matches("time_utc,elapsed_s")
            .count(),
        1
    );
}

#[test]
fn resuming_when_the_machine_started_a_new_procedure_closes_the_old_file_and_starts_a_new_one() {
    use apheresis_monitor::model::{MachineState, Payload, Sentence};
    use apheresis_monitor::protocol::encode;
    use std::io::Write as _;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.csv");
    let (mut master, port) = support::pty();
    let line = |seq, t_ms| {
        encode(&Sentence {
            seq,
            t_ms,
            payload: Payload::State(MachineState::Run),
            unknown_keys: 0,
        })
    };
    let mut child = record(&port, &out, false);
    std::thread::sleep(Duration::from_millis(500));
    master.write_all(line(10, 60_000).as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();

    let mut child = record(&port, &out, true);
    std::thread::sleep(Duration::from_millis(500));
    // The machine's time restarted: a new procedure.
    master.write_all(line(0, 1_000).as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    child.kill().unwrap();
    child.wait().unwrap();

    let old = recording::load(&out, |_, _| true).unwrap();
    let last = old.entries.last().unwrap();
    assert!(
        matches!(&last.body, EntryBody::Link(l) if l.code == LinkCode::Closed && l.text.contains("new procedure")),
        "{last:?}"
    );
    let others: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv") && *p != out)
        .collect();
    assert_eq!(others.len(), 1, "{others:?}");
    let new = recording::load(&others[0], |_, _| true).unwrap();
    assert!(
        new.entries
            .iter()
            .any(|e| e.seq == Some(0) && e.elapsed_ms == Some(1_000))
    );
}
