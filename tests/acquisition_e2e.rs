//! End to end: the simulated machine on a real pseudo-terminal, read by the real serial worker
//! and recorder, checked against exactly what was sent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use apheresis_monitor::acquisition::{AcqEvent, StopReason};
use apheresis_monitor::simulator::{
    FaultInjector, FaultKind, PtyOutput, RunOptions, SimConfig, SimMachine, run,
};

use support::{drain_until, expected_row, machine_rows, start_worker};

#[test]
fn a_simulated_session_with_four_percent_faults_records_every_intact_sentence_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.csv");
    let mut pty = PtyOutput::create().unwrap();
    let worker = start_worker(pty.path(), &out, true);

    let config = SimConfig {
        seed: 42,
        target_tbv: 0.4,
        ..SimConfig::default()
    };
    let mut machine = SimMachine::new(config);
    let mut faults = FaultInjector::new(0.04, 42);
    let options = RunOptions {
        speed: 4000.0,
        wait_for_listener: true,
        stop: Arc::new(AtomicBool::new(false)),
    };
    let mut sent = Vec::new();
    let report = run(&mut machine, &mut faults, &mut pty, &options, |s| {
        sent.push(s.clone());
    })
    .unwrap();
    assert_eq!(report.unheard, 0);

    let events = drain_until(&worker, Duration::from_secs(30), |e| {
        matches!(e, AcqEvent::Finished(_))
    });
    let Some(AcqEvent::Finished(finished)) = events.last() else {
        unreachable!()
    };
    assert_eq!(finished.reason, StopReason::ProcedureEnded);
    assert_eq!(finished.unwritten_rows, 0);

    // Every kind of fault happened.
    for kind in FaultKind::ALL {
        assert!(
            sent.iter().any(|s| s.fault == Some(kind)),
            "no {kind:?} fault was injected"
        );
    }
    let expected: Vec<_> = sent
        .iter()
        .filter(|s| s.delivered_intact)
        .filter_map(|s| expected_row(&s.sentence))
        .collect();
    let recorded = machine_rows(&out);
    assert!(expected.len() > 2500, "{}", expected.len());
    assert_eq!(recorded.len(), expected.len());
    assert_eq!(
        recorded, expected,
        "the recording differs from the intact sentences sent"
    );

    // The decoder's counters agree with what the injector did.
    let stats = finished.stats;
    let count = |kind| sent.iter().filter(|s| s.fault == Some(kind)).count() as u64;
    assert_eq!(stats.checksum, count(FaultKind::Checksum));
    assert_eq!(stats.overlong, count(FaultKind::Overlong));
    assert_eq!(stats.truncated, count(FaultKind::Truncated));
    // Noise right after a truncated or overlong line is part of that line, not noise of its own.
    // (A dropped sentence puts nothing on the wire in between.)
    let on_wire: Vec<_> = sent
        .iter()
        .filter(|s| s.fault != Some(FaultKind::Dropped))
        .collect();
    let absorbed = on_wire
        .windows(2)
        .filter(|w| {
            w[1].fault == Some(FaultKind::Noise)
                && matches!(w[0].fault, Some(FaultKind::Truncated | FaultKind::Overlong))
        })
        .count() as u64;
    assert_eq!(stats.noise + absorbed, count(FaultKind::Noise));
    assert_eq!(
        stats.out_of_range + stats.malformed,
        count(FaultKind::OutOfRange) + count(FaultKind::Malformed)
    );
    let destroyed = sent.iter().filter(|s| !s.delivered_intact).count() as u64;
    assert_eq!(stats.lost_sentences, destroyed);
}

#[test]
fn pulled_cable_mid_line_loses_no_later_sentence() {
    // A sentence cut off by a pulled cable is counted as truncated; the next connection's first
    // sentence is recorded whole.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.csv");
    let (mut master, path) = support::pty();
    let worker = start_worker(&path, &out, false);
    std::thread::sleep(Duration::from_millis(300));
    master
        .write_all(b"$APHT,1,0,RUN*69\r\n$APHS,2,1000,inlet_ml=12")
        .unwrap();
    drain_until(
        &worker,
        Duration::from_secs(5),
        |e| matches!(e, AcqEvent::Entry(entry) if entry.seq == Some(1)),
    );
    drop(master);
    drain_until(&worker, Duration::from_secs(5), |e| {
        matches!(e, AcqEvent::Link(_))
    });
    let report = worker.stop().unwrap();
    assert_eq!(report.stats.truncated, 1);
    let rows = machine_rows(&out);
    assert_eq!(rows.len(), 1);
}
