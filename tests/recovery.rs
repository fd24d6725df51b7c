//! Crash recovery: the headless recorder (a child process) is killed with SIGKILL while the
//! machine keeps sending. Everything it had received before the kill must be in the recording,
//! with no excused window, and the recording must load and resume into the same file.
//!
//! "Received" is what the recorder itself says it has read from the port: run with `RUST_LOG`
//! at TRACE for the worker, it logs `received seq=N` (the sequence number, nothing else) to its
//! unbuffered stderr once it has read sentence N and handed its row to the recorder, before it
//! reads on. The test reads that log as it comes. Whatever the log holds when the process dies
//! must be in the file: a row kept back anywhere in the process (a buffered writer, a queue
//! flushed later) would die with it and be missing. Sentences the kill caught between `read`
//! and that log line cannot be told apart from sentences still unread in the port, and no
//! program can save them; they are the next connection's `LINK_RESTORED` count.
//!
//! `RECOVERY_KILLS=60 cargo test --test recovery -- --nocapture` runs 60 kills (3 in the suite).

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apheresis_monitor::model::{EntryBody, LinkCode, Payload};
use apheresis_monitor::recording;
use apheresis_monitor::session::library::{SessionStatus, inspect};
use apheresis_monitor::simulator::{
    FaultInjector, PtyOutput, RunOptions, Sent, SimConfig, SimMachine, run,
};

use support::{RECEIVED_LOG, Watched, wait_until};

/// The least a round must check: sentences the recorder received before it was killed.
const MIN_CHECKED_PER_ROUND: usize = 100;

fn record(port: &str, out: &Path, resume: bool) -> Watched {
    let mut command = support::record_command(port, out);
    if resume {
        command.arg("--resume");
    }
    command.env("RUST_LOG", RECEIVED_LOG).env("NO_COLOR", "1");
    let mut recorder = Watched::spawn(command);
    recorder.wait_recording();
    recorder
}

/// How many kills; `RECOVERY_KILLS=60` for the reliability run.
fn kills() -> usize {
    std::env::var("RECOVERY_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

#[test]
fn a_killed_recorder_loses_nothing_it_had_received_and_resumes_into_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.csv");
    let mut pty = PtyOutput::create().unwrap();
    let port = pty.path().to_owned();

    // The simulated machine runs on its own thread for the whole test (200 sentences a
    // second), logging every sentence it sent.
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
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
                sent.lock().unwrap().push(s.clone());
            })
            .unwrap();
        })
    };

    let kills = kills();
    let mut checked_per_round = Vec::new();
    let mut recorder = record(&port, &out, false);
    for round in 1..=kills {
        // Let it receive enough to check, then a little more, varied by round, so the kills
        // land at different points of the stream; then kill it.
        wait_until(
            Duration::from_secs(90),
            "the recorder to receive sentences",
            || recorder.received().len() >= MIN_CHECKED_PER_ROUND + 10,
        );
        std::thread::sleep(Duration::from_millis(53 * (round as u64 % 11)));
        recorder.kill();
        let received = recorder.received();

        let loaded = recording::load(&out, |_, _| true).expect("a killed recording still loads");
        // A row the kill cut in two (a write can stop between pages) is the one row skipped.
        assert!(
            loaded.skipped_rows <= 1,
            "round {round}: {:?}",
            loaded.problems
        );
        let in_file: HashSet<u32> = loaded.entries.iter().filter_map(|e| e.seq).collect();
        let sent_log = sent.lock().unwrap();
        let by_seq: HashMap<u32, &Sent> = sent_log.iter().map(|s| (s.sentence.seq, s)).collect();
        // The log is of real sentences: each one the machine sent, whole.
        for seq in &received {
            let s = by_seq.get(seq);
            assert!(
                s.is_some_and(|s| s.delivered_intact),
                "round {round}: the recorder logged seq {seq}, which the machine did not send whole"
            );
        }
        // An identity the recorder already knows makes no row; every other sentence does.
        let checked: Vec<u32> = received
            .iter()
            .copied()
            .filter(|seq| !matches!(by_seq[seq].sentence.payload, Payload::Identity(_)))
            .collect();
        drop(sent_log);
        let missing: Vec<u32> = checked
            .iter()
            .copied()
            .filter(|seq| !in_file.contains(seq))
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} of {} sentences the recorder had received are not in the file: {:?}",
            missing.len(),
            checked.len(),
            &missing[..missing.len().min(10)]
        );
        assert!(
            checked.len() >= MIN_CHECKED_PER_ROUND,
            "round {round}: only {} sentences checked",
            checked.len()
        );
        eprintln!(
            "round {round}: {} sentences received before SIGKILL (seq {:?}..={:?}), all in the file",
            checked.len(),
            checked.first(),
            checked.last()
        );
        checked_per_round.push(checked.len());
        assert_eq!(inspect(&out).unwrap().status, SessionStatus::Interrupted);
        recorder = record(&port, &out, true);
    }
    // The last resumed recorder records a while and stops cleanly.
    wait_until(
        Duration::from_secs(90),
        "the last recorder to receive sentences",
        || recorder.received().len() >= 20,
    );
    assert!(recorder.terminate(Duration::from_secs(20)).success());
    stop.store(true, Ordering::Relaxed);
    wait_until(Duration::from_secs(20), "the machine to stop", || {
        machine_thread.is_finished()
    });
    machine_thread.join().unwrap();

    let loaded = recording::load(&out, |_, _| true).unwrap();
    let links = support::link_codes(&out);
    let count = |code| links.iter().filter(|c| **c == code).count();
    assert_eq!(count(LinkCode::Resumed), kills, "{links:?}");
    assert_eq!(count(LinkCode::Restored), kills, "{links:?}");
    // One file, one header: the rows' sequence numbers only go forward.
    // (A link row about a sentence, such as a sequence gap, carries that sentence's number.)
    let numbered: Vec<_> = loaded
        .entries
        .iter()
        .filter(|e| !matches!(e.body, EntryBody::Link(_)))
        .filter_map(|e| Some((e.seq?, e)))
        .collect();
    if let Some(w) = numbered.windows(2).find(|w| w[0].0 >= w[1].0) {
        panic!("rows out of order: {:?} then {:?}", w[0].1, w[1].1);
    }
    assert_eq!(
        std::fs::read_to_string(&out)
            .unwrap()
            .matches("time_utc,elapsed_s")
            .count(),
        1
    );
    eprintln!(
        "recovery: {kills} kills, {} sentences received before a kill checked, min {:?} per round, none missing",
        checked_per_round.iter().sum::<usize>(),
        checked_per_round.iter().min()
    );
}

#[test]
fn resuming_when_the_machine_started_a_new_procedure_closes_the_old_file_and_starts_a_new_one() {
    use apheresis_monitor::model::{MachineState, Sentence};
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
    master.write_all(line(10, 60_000).as_bytes()).unwrap();
    wait_until(Duration::from_secs(10), "seq 10 to be received", || {
        child.received().contains(&10)
    });
    child.kill();

    let mut child = record(&port, &out, true);
    // The machine's time restarted: a new procedure.
    master.write_all(line(0, 1_000).as_bytes()).unwrap();
    wait_until(Duration::from_secs(10), "seq 0 to be received", || {
        child.received().contains(&0)
    });
    child.kill();

    let old = recording::load(&out, |_, _| true).unwrap();
    assert!(old.entries.iter().any(|e| e.seq == Some(10)));
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
