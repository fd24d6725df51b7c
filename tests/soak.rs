//! Soak: a simulated session at high speed through a virtual null-modem, with 2 % faults of
//! every kind and three cable pulls, recorded by the headless recorder in a child process.
//! The recording must hold every intact sentence sent while connected, in order, with the
//! link rows, and the recorder's memory must stay flat.
//!
//! The suite runs one hour of machine time; `SOAK_HOURS=6` runs the full session.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apheresis_monitor::model::{EntryBody, LinkCode};
use apheresis_monitor::recording;
use apheresis_monitor::simulator::{
    FaultInjector, FaultKind, PortOutput, RunOptions, Sent, SimConfig, SimMachine, run,
};

use support::{NullModem, expected_row, rss_kb, terminate};

#[test]
fn a_session_with_faults_and_three_cable_pulls_loses_nothing_sent_while_connected() {
    let hours: f64 = std::env::var("SOAK_HOURS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let speed = 600.0;
    let dir = tempfile::tempdir().unwrap();
    let machine_end = dir.path().join("machine");
    let monitor_end = dir.path().join("monitor");
    let out = dir.path().join("soak.csv");
    let mut cable = Some(NullModem::plug(&machine_end, &monitor_end));

    let mut recorder = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .args(["record", "--port", monitor_end.to_str().unwrap(), "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));

    let sent: Arc<Mutex<Vec<(Instant, Sent)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let limit_ms = (hours * 3_600_000.0) as u64;
    let machine = {
        let sent = sent.clone();
        let stop = stop.clone();
        let port = machine_end.to_str().unwrap().to_owned();
        std::thread::spawn(move || {
            let mut machine = SimMachine::new(SimConfig {
                seed: 99,
                target_tbv: 3.0,
                ..SimConfig::default()
            });
            let mut faults = FaultInjector::new(0.02, 99);
            let mut output = PortOutput::open(&port, 115_200).unwrap();
            let options = RunOptions {
                speed,
                wait_for_listener: false,
                stop: stop.clone(),
            };
            run(&mut machine, &mut faults, &mut output, &options, |s| {
                sent.lock().unwrap().push((Instant::now(), s.clone()));
                if s.sentence.t_ms >= limit_ms {
                    stop.store(true, Ordering::Relaxed);
                }
            })
            .unwrap();
        })
    };

    // Three cable pulls at a quarter, half and three quarters of the machine's time; memory
    // read before the first and after the end.
    let mut outages = Vec::new();
    let mut rss = Vec::new();
    for k in 1..=3u64 {
        let due_ms = limit_ms * k / 4;
        let since = outages
            .last()
            .map_or_else(Instant::now, |(_, plugged, _)| *plugged);
        // Pull once the machine is that far, and the cable has carried data since the last
        // replug.
        loop {
            let log = sent.lock().unwrap();
            let far_enough = log.last().is_some_and(|(_, s)| s.sentence.t_ms >= due_ms);
            let carried = log
                .iter()
                .rev()
                .take_while(|(at, _)| *at > since)
                .filter(|(_, s)| s.delivered_intact)
                .count();
            if far_enough && carried >= 50 {
                break;
            }
            drop(log);
            std::thread::sleep(Duration::from_millis(5));
        }
        rss.push(rss_kb(recorder.id()));
        let pulled = Instant::now();
        if let Some(c) = cable.take() {
            c.pull();
        }
        std::thread::sleep(Duration::from_millis(600));
        cable = Some(NullModem::plug(&machine_end, &monitor_end));
        outages.push((pulled, Instant::now(), k));
    }
    machine.join().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    rss.push(rss_kb(recorder.id()));
    terminate(&mut recorder);
    drop(cable);

    // What the recording must hold: every intact sentence the machine put on the line while
    // the cable was in (allowing 200 ms before a pull, when bytes are still in flight inside
    // the null-modem itself and die with it).
    let sent = sent.lock().unwrap();
    let in_outage = |at: Instant| {
        outages.iter().any(|(pulled, plugged, _)| {
            at + Duration::from_millis(200) >= *pulled && at <= *plugged
        })
    };
    let must: Vec<_> = sent
        .iter()
        .filter(|(at, s)| s.delivered_intact && !in_outage(*at))
        .filter_map(|(_, s)| expected_row(&s.sentence))
        .collect();
    let may: std::collections::HashSet<u32> = sent
        .iter()
        .filter(|(_, s)| s.delivered_intact)
        .map(|(_, s)| s.sentence.seq)
        .collect();
    for kind in FaultKind::ALL {
        assert!(
            sent.iter().any(|(_, s)| s.fault == Some(kind)),
            "no {kind:?} fault"
        );
    }

    let loaded = recording::load(&out, |_, _| true).unwrap();
    assert_eq!(loaded.skipped_rows, 0, "{:?}", loaded.problems);
    let rows: Vec<_> = loaded
        .entries
        .iter()
        .filter(|e| !matches!(e.body, EntryBody::Link(_)))
        .filter_map(|e| Some((e.seq?, e.elapsed_ms?, e.body.clone())))
        .collect();
    // Nothing damaged was recorded, and everything recorded is exactly what was sent.
    for row in &rows {
        assert!(
            may.contains(&row.0),
            "seq {} was damaged on the wire but recorded",
            row.0
        );
    }
    let by_seq: std::collections::HashMap<u32, &(u32, u64, EntryBody)> =
        rows.iter().map(|r| (r.0, r)).collect();
    let missing: Vec<u32> = must
        .iter()
        .filter(|m| by_seq.get(&m.0) != Some(m))
        .map(|m| m.0)
        .collect();
    assert!(
        missing.is_empty(),
        "{} intact sentences sent while connected are missing or different, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        rows.windows(2).all(|w| w[0].0 < w[1].0),
        "rows out of order"
    );
    let links = |code| {
        loaded
            .entries
            .iter()
            .filter(|e| matches!(&e.body, EntryBody::Link(l) if l.code == code))
            .count()
    };
    let heard_after: Vec<usize> = outages
        .iter()
        .map(|(_, plugged, _)| {
            sent.iter()
                .filter(|(at, s)| at > plugged && s.delivered_intact)
                .count()
        })
        .collect();
    eprintln!(
        "intact sentences heard after each replug: {heard_after:?}; total sent {}",
        sent.len()
    );
    let link_rows: Vec<String> = loaded
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Link(l) if l.code != LinkCode::SequenceGap => {
                Some(format!("{} {}", l.code.as_str(), l.text))
            }
            _ => None,
        })
        .collect();
    assert_eq!(links(LinkCode::Lost), 3, "{link_rows:#?}");
    assert_eq!(links(LinkCode::Restored), 3);
    assert!(
        must.len() as f64 > hours * 1000.0,
        "{} sentences checked",
        must.len()
    );

    // Memory: flat from the first pull to the end (within 8 MB).
    let (first, last) = (rss[0], rss[rss.len() - 1]);
    assert!(first > 0 && last > 0, "no RSS readings: {rss:?}");
    assert!(
        last < first + 8 * 1024,
        "the recorder grew from {first} kB to {last} kB ({rss:?})"
    );
    eprintln!(
        "soak: {hours} h of machine time, {} sentences sent, {} faulted, {} checked, recorder RSS {rss:?} kB",
        sent.len(),
        sent.iter().filter(|(_, s)| s.fault.is_some()).count(),
        must.len()
    );
}
