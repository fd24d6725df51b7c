//! Soak: a simulated session at high speed through a virtual null-modem, with 2 % faults of
//! every kind and three cable pulls, recorded by the headless recorder in a child process.
//! The recording must hold every intact sentence that went down the cable, in order, with the
//! link rows, and the recorder's memory must stay flat.
//!
//! The suite runs one hour of machine time; `SOAK_HOURS=6` runs the full session.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apheresis_monitor::model::{EntryBody, LinkCode};
use apheresis_monitor::recording;
use apheresis_monitor::simulator::{
    FaultInjector, FaultKind, PortOutput, RunOptions, Sent, SimConfig, SimMachine, run,
};

use support::{NullModem, RECEIVED_LOG, Watched, expected_row, rss_kb, wait_until};

/// Machine time per wall time. A pull costs about a second of wall time (both ends reopen every
/// half second), so this keeps the three outages to a few minutes of a one-hour session.
const SPEED: f64 = 150.0;

/// Of the intact sentences the machine put on a plugged cable, the share that must be checked
/// in the recording (the rest can only be the tail still in the cable when it was pulled).
const MIN_CHECKED_OF_DELIVERED: f64 = 0.97;
/// Of every intact sentence the machine made, cable in or out, the share that must be checked.
const MIN_CHECKED_OF_ALL: f64 = 0.80;

#[test]
fn a_session_with_faults_and_three_cable_pulls_loses_nothing_sent_while_connected() {
    let hours: f64 = std::env::var("SOAK_HOURS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let dir = tempfile::tempdir().unwrap();
    let machine_end = dir.path().join("machine");
    let monitor_end = dir.path().join("monitor");
    let out = dir.path().join("soak.csv");
    let mut cable = Some(NullModem::plug(&machine_end, &monitor_end));

    let mut command = support::record_command(monitor_end.to_str().unwrap(), &out);
    command.env("RUST_LOG", RECEIVED_LOG).env("NO_COLOR", "1");
    let mut recorder = Watched::spawn(command);
    recorder.wait_recording();

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
                sample_interval_ms: 250,
                ..SimConfig::default()
            });
            let mut faults = FaultInjector::new(0.02, 99);
            let mut output = PortOutput::open(&port, 115_200).unwrap();
            let options = RunOptions {
                speed: SPEED,
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
    // Every wait below gives up (and fails) at this deadline: three times the session's wall
    // time, and at least two minutes.
    let wall = Duration::from_secs_f64(limit_ms as f64 / 1000.0 / SPEED);
    let deadline = Instant::now() + (wall * 3).max(Duration::from_secs(150));
    let wait = |what: &str, done: &mut dyn FnMut() -> bool| {
        wait_until(
            deadline.saturating_duration_since(Instant::now()),
            what,
            done,
        );
    };

    // Three cable pulls at a quarter, half and three quarters of the machine's time. After each
    // pull the cable goes back as soon as the recorder has said the link is lost.
    let mut plugged_at = Vec::new();
    // (RSS kB, recording bytes) before each pull and at the end.
    let mut readings = Vec::new();
    for k in 1..=3u64 {
        let due_ms = limit_ms * k / 4;
        let since = plugged_at.last().copied().unwrap_or_else(Instant::now);
        // Pull once the machine is that far and the cable has carried data since the last
        // replug.
        wait(&format!("the machine to reach pull {k}"), &mut || {
            assert!(!machine.is_finished(), "the machine thread stopped early");
            let log = sent.lock().unwrap();
            let far_enough = log.last().is_some_and(|(_, s)| s.sentence.t_ms >= due_ms);
            let carried = log
                .iter()
                .rev()
                .take_while(|(at, _)| *at > since)
                .filter(|(_, s)| s.delivered_intact)
                .count();
            far_enough && carried >= 50
        });
        readings.push((
            rss_kb(recorder.id()),
            std::fs::metadata(&out).unwrap().len(),
        ));
        let lost_before = lost_lines(&recorder);
        cable.take().unwrap().pull();
        wait(&format!("the recorder to notice pull {k}"), &mut || {
            lost_lines(&recorder) > lost_before
        });
        cable = Some(NullModem::plug(&machine_end, &monitor_end));
        plugged_at.push(Instant::now());
    }
    wait("the machine to finish", &mut || machine.is_finished());
    machine.join().unwrap();
    // The recorder has caught up when it has received the last sentence that went down the
    // cable whole.
    let last = sent
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(_, s)| s.delivered_intact)
        .map(|(_, s)| s.sentence.seq)
        .unwrap();
    wait("the recorder to receive the last sentence", &mut || {
        recorder.said(|l| support::received_seq(l) == Some(last))
    });
    readings.push((
        rss_kb(recorder.id()),
        std::fs::metadata(&out).unwrap().len(),
    ));
    assert!(recorder.terminate(Duration::from_secs(20)).success());
    drop(cable);

    let sent = sent.lock().unwrap();
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
    // Nothing damaged was recorded, and rows only go forward.
    let intact: HashSet<u32> = sent
        .iter()
        .filter(|(_, s)| s.delivered_intact)
        .map(|(_, s)| s.sentence.seq)
        .collect();
    for row in &rows {
        assert!(
            intact.contains(&row.0),
            "seq {} was damaged on the wire or never sent, but recorded",
            row.0
        );
    }
    assert!(
        rows.windows(2).all(|w| w[0].0 < w[1].0),
        "rows out of order"
    );
    let by_seq: HashMap<u32, &(u32, u64, EntryBody)> = rows.iter().map(|r| (r.0, r)).collect();

    // What went down each cable: the intact sentences sent after one replug and before the
    // next (a sentence sent after a pull went into the old, dying cable). On each cable the
    // recording must hold them exactly, in one unbroken run from the first: the only ones it
    // may lack are a tail, the bytes still inside the cable when it was pulled. The last cable
    // is never pulled, so it may lack nothing.
    let mut checked = 0usize;
    let mut delivered = 0usize;
    let mut tails = Vec::new();
    for cable_no in 0..=3 {
        let on_cable: Vec<(u32, u64, EntryBody)> = sent
            .iter()
            .filter(|(at, _)| cable_no == 0 || *at >= plugged_at[cable_no - 1])
            .filter(|(at, _)| cable_no == 3 || *at < plugged_at[cable_no])
            .filter(|(_, s)| s.delivered_intact)
            .filter_map(|(_, s)| expected_row(&s.sentence))
            .collect();
        let held = on_cable
            .iter()
            .take_while(|m| by_seq.get(&m.0) == Some(m))
            .count();
        let tail = &on_cable[held..];
        let recorded_after_gap: Vec<u32> = tail
            .iter()
            .filter(|m| by_seq.contains_key(&m.0))
            .map(|m| m.0)
            .collect();
        assert!(
            recorded_after_gap.is_empty(),
            "cable {cable_no}: seq {:?} (sent intact) is missing or different, but later ones are recorded: {:?}",
            tail.first().map(|m| m.0),
            &recorded_after_gap[..recorded_after_gap.len().min(10)]
        );
        if cable_no == 3 {
            assert!(
                tail.is_empty(),
                "the last cable was never pulled, yet {} sentences from seq {} are missing",
                tail.len(),
                tail[0].0
            );
        }
        checked += held;
        delivered += on_cable.len();
        tails.push(tail.len());
    }
    let all_intact = sent
        .iter()
        .filter(|(_, s)| s.fault.is_none() && expected_row(&s.sentence).is_some())
        .count();
    assert!(
        checked as f64 >= MIN_CHECKED_OF_DELIVERED * delivered as f64,
        "only {checked} of {delivered} sentences delivered on a plugged cable were checked (tails {tails:?})"
    );
    assert!(
        checked as f64 >= MIN_CHECKED_OF_ALL * all_intact as f64,
        "only {checked} of {all_intact} intact sentences were checked"
    );

    let links = |code| {
        loaded
            .entries
            .iter()
            .filter(|e| matches!(&e.body, EntryBody::Link(l) if l.code == code))
            .count()
    };
    assert_eq!(links(LinkCode::Lost), 3);
    assert_eq!(links(LinkCode::Restored), 3);

    // Memory. Readings from the second pull on: by then the recorder has been through a pull
    // and a reconnect once, so every code path has run and its pages are in. A leak of every
    // row would cost at least the row's own bytes (the recorder builds each row as a
    // `Vec<u8>` of at least 192 bytes of capacity, more than the row's text): at least what
    // the recording grew by between the readings. An hour at 4 sentences a second is about
    // 7,000 rows in the second half, at about 130 bytes a row, about 900 kB. The allowance
    // is a quarter of the growth, and the growth must be large enough for that to tell.
    let (rss_from, len_from) = readings[1];
    let (rss_to, len_to) = readings[readings.len() - 1];
    assert!(rss_from > 0 && rss_to > 0, "no RSS readings: {readings:?}");
    let row_bytes_kb = (len_to - len_from) / 1024;
    assert!(
        row_bytes_kb >= 400,
        "only {row_bytes_kb} kB of rows between the readings: too few to see a leak"
    );
    let allowance_kb = row_bytes_kb / 4;
    assert!(
        rss_to <= rss_from + allowance_kb,
        "the recorder grew from {rss_from} kB to {rss_to} kB, more than {allowance_kb} kB \
         ({row_bytes_kb} kB of rows were written meanwhile; readings {readings:?})"
    );
    eprintln!(
        "soak: {hours} h of machine time, {} sentences sent, {} faulted, {delivered} delivered \
         intact on a plugged cable, {checked} checked ({:.1} %; {:.1} % of all {all_intact} \
         intact), tails at the pulls {tails:?}; recorder RSS kB at the pulls and end {:?}, \
         {row_bytes_kb} kB of rows from the second pull to the end (allowance {allowance_kb} kB)",
        sent.len(),
        sent.iter().filter(|(_, s)| s.fault.is_some()).count(),
        100.0 * checked as f64 / delivered as f64,
        100.0 * checked as f64 / all_intact as f64,
        readings.iter().map(|r| r.0).collect::<Vec<_>>()
    );
}

/// How many times the recorder has said the link was lost.
fn lost_lines(recorder: &Watched) -> usize {
    recorder.count(|l| l.starts_with("link lost"))
}
