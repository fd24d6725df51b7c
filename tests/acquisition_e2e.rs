//! End to end: the simulated machine on a real pseudo-terminal, read by the real serial worker
//! and recorder, checked against exactly what was sent.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
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

use support::{NullModem, drain_until, expected_row, machine_rows, start_worker};

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
    // The cable is pulled in the middle of a sentence. That sentence is counted as truncated
    // and never joins what comes after the replug: the new connection starts mid-line (the
    // rest of some sentence, noise), and every whole sentence after it is recorded exactly.
    use apheresis_monitor::acquisition::{LinkState, open_serial};
    use apheresis_monitor::model::{MachineState, Payload, Quantity, Sample, Sentence};
    use apheresis_monitor::protocol::encode;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.csv");
    let machine_end = dir.path().join("machine");
    let monitor_end = dir.path().join("monitor");
    let sample = |seq: u32| Sentence {
        seq,
        t_ms: u64::from(seq) * 1000,
        payload: Payload::Sample(
            Sample::default()
                .with(Quantity::InletMlMin, 50.0 + f64::from(seq))
                .with(Quantity::InletMl, 100.0 * f64::from(seq)),
        ),
        unknown_keys: 0,
    };
    let first = Sentence {
        seq: 1,
        t_ms: 0,
        payload: Payload::State(MachineState::Run),
        unknown_keys: 0,
    };
    let cut = encode(&sample(2));
    let cut = &cut[..cut.len() / 2];
    let later = [sample(3), sample(4)];

    let cable = NullModem::plug(&machine_end, &monitor_end);
    let worker = start_worker(monitor_end.to_str().unwrap(), &out, false);
    let me = std::process::id();
    // Once the worker holds the monitor's end, the machine's end is opened to write into.
    let machine_port = |what: &str| {
        support::wait_until(Duration::from_secs(10), what, || {
            support::has_open(me, &monitor_end)
        });
        open_serial(
            machine_end.to_str().unwrap(),
            115_200,
            Duration::from_secs(2),
        )
        .unwrap()
    };
    let mut port = machine_port("the worker to open the port");
    let before = format!("{}{cut}", encode(&first));
    port.write_all(before.as_bytes()).unwrap();
    // The half sentence must have reached the worker before the pull: wait for its bytes.
    drain_until(
        &worker,
        Duration::from_secs(10),
        |e| matches!(e, AcqEvent::Stats(s) if s.bytes == before.len() as u64),
    );
    drop(port);
    cable.pull();
    drain_until(&worker, Duration::from_secs(10), |e| {
        matches!(e, AcqEvent::Link(LinkState::Down { .. }))
    });

    let _cable = NullModem::plug(&machine_end, &monitor_end);
    let mut port = machine_port("the worker to reopen the port");
    let after = format!("ml=250.0*5A\r\n{}{}", encode(&later[0]), encode(&later[1]));
    port.write_all(after.as_bytes()).unwrap();
    drain_until(
        &worker,
        Duration::from_secs(10),
        |e| matches!(e, AcqEvent::Entry(entry) if entry.seq == Some(4)),
    );
    let report = worker.stop().unwrap();
    assert_eq!(report.stats.truncated, 1, "{:?}", report.stats);
    assert_eq!(report.stats.noise, 1, "{:?}", report.stats);
    let expected: Vec<_> = [&first, &later[0], &later[1]]
        .into_iter()
        .filter_map(expected_row)
        .collect();
    assert_eq!(machine_rows(&out), expected);
}
