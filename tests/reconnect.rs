//! Cable pulls: a virtual null-modem (socat) is killed and started again under the same names
//! while the real worker records. Nothing sent while connected may be lost, recording resumes
//! by itself when the cable comes back (no restart), and each `LINK_RESTORED` row says how
//! many sentences the machine sent while the cable was out.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use apheresis_monitor::acquisition::{AcqEvent, LinkState, open_serial};
use apheresis_monitor::model::{EntryBody, LinkCode};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::simulator::{SimConfig, SimMachine};

use support::{NullModem, drain_until, expected_row, machine_rows, start_worker};

fn wait_gone(paths: &[&PathBuf]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while paths.iter().any(|p| p.symlink_metadata().is_ok()) {
        assert!(Instant::now() < deadline, "socat links still there");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn three_cable_pulls_lose_nothing_sent_while_connected_and_count_what_was_missed() {
    let dir = tempfile::tempdir().unwrap();
    let machine_end = dir.path().join("machine");
    let monitor_end = dir.path().join("monitor");
    let out = dir.path().join("session.csv");

    let mut cable = Some(NullModem::plug(&machine_end, &monitor_end));
    let worker = start_worker(monitor_end.to_str().unwrap(), &out, false);
    let mut machine = SimMachine::new(SimConfig {
        seed: 7,
        ..SimConfig::default()
    });
    let mut delivered = Vec::new();
    // How many sentences the machine makes while each pull lasts: different each time, so a
    // count that is right by accident for one pull is wrong for another.
    let withheld_per_pull = [30usize, 47, 5];
    let mut withheld = Vec::new();

    // (The last round is not followed by a pull.)
    for (round, pull_len) in withheld_per_pull.into_iter().chain([0]).enumerate() {
        // Send a batch over the cable and wait until the monitor has every sentence of it.
        // The machine side opens its end as soon as socat has made it.
        let mut port = {
            let deadline = Instant::now() + Duration::from_secs(3);
            loop {
                match open_serial(
                    machine_end.to_str().unwrap(),
                    115_200,
                    Duration::from_secs(1),
                ) {
                    Ok(port) => break port,
                    Err(e) if Instant::now() < deadline => {
                        eprintln!("machine end not ready yet: {e}");
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => panic!("cannot open the machine end: {e}"),
                }
            }
        };
        let replugged = Instant::now();
        let mut last_seq = 0;
        for _ in 0..150 {
            let sentence = machine.next_sentence().unwrap();
            port.write_all(encode(&sentence).as_bytes()).unwrap();
            last_seq = sentence.seq;
            delivered.push(sentence);
        }
        drain_until(
            &worker,
            Duration::from_secs(10),
            |e| matches!(e, AcqEvent::Entry(entry) if entry.seq == Some(last_seq)),
        );
        if round > 0 {
            // Information only: how soon depends on the machine's load, not on the code alone.
            eprintln!(
                "pull {round}: recording resumed {:?} after the replug",
                replugged.elapsed()
            );
        }
        if round == 3 {
            break;
        }
        // Pull the cable, and keep the machine talking into nothing for a while.
        drop(port);
        cable.take().unwrap().pull();
        wait_gone(&[&machine_end, &monitor_end]);
        drain_until(&worker, Duration::from_secs(5), |e| {
            matches!(e, AcqEvent::Link(LinkState::Down { .. }))
        });
        for _ in 0..pull_len {
            let _ = machine.next_sentence().unwrap();
        }
        withheld.push(pull_len);
        std::thread::sleep(Duration::from_millis(700));
        cable = Some(NullModem::plug(&machine_end, &monitor_end));
    }
    let report = worker.stop().unwrap();
    assert_eq!(report.unwritten_rows, 0);

    let expected: Vec<_> = delivered.iter().filter_map(expected_row).collect();
    assert_eq!(machine_rows(&out), expected);

    let links = support::link_codes(&out);
    let count = |code| links.iter().filter(|c| **c == code).count();
    assert_eq!(count(LinkCode::Lost), 3, "{links:?}");
    assert_eq!(count(LinkCode::Restored), 3, "{links:?}");
    // Each restored link says how many sentences the machine sent while the cable was out.
    let restored: Vec<usize> = apheresis_monitor::recording::load(&out, |_, _| true)
        .unwrap()
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Link(l) if l.code == LinkCode::Restored => Some(missed_count(&l.text)),
            _ => None,
        })
        .collect();
    assert_eq!(restored, withheld);
    // Sentences sent while the cable was out are gaps in the numbering, not wire errors.
    assert_eq!(report.stats.lost_sentences, 0);
}

/// The `N` of "N sentences sent while disconnected" in a `LINK_RESTORED` row's text.
fn missed_count(text: &str) -> usize {
    let (before, _) = text
        .split_once(" sentences sent while disconnected")
        .unwrap_or_else(|| panic!("no missed count in {text:?}"));
    before
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no missed count in {text:?}"))
}
