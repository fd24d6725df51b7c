//! The counter rule (docs/counters.md) live and loaded, on the same bytes: the machine rows of a
//! fixture are sent as APH/1 sentences through real pseudo-terminals to the headless `record`
//! command and to the app's live session; the recording `record` writes must be the fixture
//! itself (receipt times aside), and the totals must be the hand-worked ones everywhere: on the
//! live session's timeline (what the screen shows), in a replay of the recording, in
//! `summary --json` of the recording, and in `summary --json` of the fixture with its `link`
//! rows taken out (a file from elsewhere, or from before the journal named counter restarts).

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use apheresis_monitor::analysis::Series;
use apheresis_monitor::analysis::summary::Figure;
use apheresis_monitor::model::{EntryBody, Payload, Quantity, Sentence};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording;
use apheresis_monitor::session::replay::Replay;
use apheresis_monitor::session::{Destination, LiveSession};
use serde_json::Value;

use support::{Watched, pty, record_command, wait_finished};

/// One fixture and its totals, worked out by hand (see `tests/fixtures/make_fixtures.py` and
/// `tests/summary_oracle.rs`).
struct Case {
    fixture: &'static str,
    /// inlet, AC, collect, plasma, replacement, mL.
    totals: [f64; 5],
    /// The `link` rows the journal writes for the counters.
    counter_rows: &'static [&'static str],
}

const COUNTERS: [Quantity; 5] = [
    Quantity::InletMl,
    Quantity::AcMl,
    Quantity::CollectMl,
    Quantity::PlasmaMl,
    Quantity::ReplaceMl,
];

const CASES: [Case; 2] = [
    // Inlet = t mL to 300; AC t/12 mL with a 0.1 mL dip at 200 s (jitter): 25.0; the bag
    // changed at 150 s after 2.3 mL, then 2.5 mL: 4.8. WB 275.
    Case {
        fixture: "bag-change.csv",
        totals: [300.0, 25.0, 4.8, 0.0, 0.0],
        counter_rows: &["COUNTER_RESTART"],
    },
    // Inlet 50 (two dips of 0.5 mL, then a restart alone) + 12 + 51 (after the machine
    // restarted its totals) = 113; AC 7.5 + 4.3 (a dip on the last sample) = 11.8; collect
    // 1.5 + 1.0 = 2.5; replacement 0.5 + 0.2 = 0.7 (its 0.5 mL fall restarts it only because
    // every counter restarted); plasma 0.
    Case {
        fixture: "counters.csv",
        totals: [113.0, 11.8, 2.5, 0.0, 0.7],
        counter_rows: &["COUNTER_RESTART", "MACHINE_RESET"],
    },
];

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The sentences the machine sent for the fixture's machine rows (its `link` rows are the
/// monitor's).
fn sentences(path: &Path) -> Vec<Sentence> {
    let recording = recording::load(path, |_, _| true).unwrap();
    assert_eq!(recording.skipped_rows, 0);
    recording
        .entries
        .into_iter()
        .filter_map(|e| {
            let payload = match e.body {
                EntryBody::Sample(s) => Payload::Sample(s),
                EntryBody::State(s) => Payload::State(s),
                EntryBody::Alarm(a) => Payload::Alarm(a),
                EntryBody::Note(_) | EntryBody::Link(_) => return None,
            };
            Some(Sentence {
                seq: e.seq?,
                t_ms: e.elapsed_ms?,
                payload,
                unknown_keys: 0,
            })
        })
        .collect()
}

/// The recording's rows without their receipt times, the session's opening and closing rows
/// left out (they name the port and why recording stopped).
fn rows(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .split("\r\n")
        .filter(|l| {
            !l.is_empty() && !l.contains(",CONNECTED,") && !l.contains(",RECORDING_CLOSED,")
        })
        .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_owned())
        .collect()
}

/// The codes of the recording's `link` rows about the counters.
fn counter_rows(path: &Path) -> Vec<String> {
    support::link_codes(path)
        .into_iter()
        .map(|c| c.as_str().to_owned())
        .filter(|c| c == "COUNTER_RESTART" || c == "MACHINE_RESET")
        .collect()
}

fn summary_json(path: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .arg("summary")
        .arg(path)
        .arg("--json")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Asserts `actual` (from `what`) is `expected` to far better than a millilitre.
fn assert_ml(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: no value"));
    assert!(
        (actual - expected).abs() < 1e-9 * expected.max(1.0),
        "{what}: {actual} mL, expected {expected} mL"
    );
}

/// Checks every counter's total and WB processed as `total(quantity)` gives them.
fn assert_totals(case: &Case, what: &str, total: impl Fn(Quantity) -> Option<f64>) {
    for (q, expected) in COUNTERS.into_iter().zip(case.totals) {
        assert_ml(
            total(q),
            expected,
            &format!("{} {what} {}", case.fixture, q.key()),
        );
    }
}

fn start_live(port: &str, folder: &Path) -> LiveSession {
    support::start_live(port, Destination::NewIn(folder.to_owned()))
}

#[test]
fn a_bag_change_and_a_dip_give_the_same_totals_live_replayed_summarised_and_loaded() {
    for case in &CASES {
        let dir = tempfile::tempdir().unwrap();
        let source = fixture(case.fixture);
        let bytes: String = sentences(&source).iter().map(encode).collect();

        let (mut live_master, live_port) = pty();
        let (mut record_master, record_port) = pty();
        let mut live = start_live(&live_port, &dir.path().join("live"));
        let recorded = dir.path().join("recorded.csv");
        let mut record = Watched::spawn(record_command(&record_port, &recorded));
        record.wait_recording();
        live_master.write_all(bytes.as_bytes()).unwrap();
        record_master.write_all(bytes.as_bytes()).unwrap();
        // `record` stops at END; the app when stopped after END.
        assert!(record.wait_exit(Duration::from_secs(20)).success());
        wait_finished(&mut live);

        // `record` wrote the fixture: the samples as sent (the dip included), a link row for
        // each restart the rule found, none for jitter.
        assert_eq!(rows(&recorded), rows(&source), "{}", case.fixture);
        assert_eq!(
            counter_rows(&recorded),
            case.counter_rows,
            "{}",
            case.fixture
        );
        assert_eq!(
            counter_rows(&live.recording),
            case.counter_rows,
            "{}",
            case.fixture
        );

        // The live screen's totals.
        let now = live.timeline.now();
        assert_totals(case, "live", |q| now.latest_value(Series::Measured(q)));
        let wb = case.totals[0] - case.totals[1];
        assert_ml(
            now.latest_value(Series::WbProcessedMl),
            wb,
            &format!("{} live WB", case.fixture),
        );

        // A replay of the recording: its timeline and its summary.
        let replay = Replay::new(recording::load(&recorded, |_, _| true).unwrap(), 1.0);
        let full = replay.player.full();
        assert_totals(case, "replay", |q| full.latest_value(Series::Measured(q)));
        let figure = |q| match q {
            Quantity::InletMl => Figure::InletMl,
            Quantity::AcMl => Figure::AcMl,
            Quantity::CollectMl => Figure::CollectMl,
            Quantity::PlasmaMl => Figure::PlasmaMl,
            _ => Figure::ReplaceMl,
        };
        assert_totals(case, "replay summary", |q| {
            replay.summary().number(figure(q))
        });
        assert_ml(
            replay.summary().number(Figure::WbProcessedMl),
            wb,
            &format!("{} replay WB", case.fixture),
        );

        // `summary --json` of the recording, and of the fixture without its link rows.
        let stripped = dir.path().join("no-link-rows.csv");
        let text = std::fs::read_to_string(&source).unwrap();
        let kept: Vec<&str> = text
            .split_inclusive("\r\n")
            .filter(|l| !l.contains(",link,"))
            .collect();
        std::fs::write(&stripped, kept.concat()).unwrap();
        assert!(counter_rows(&stripped).is_empty());
        for (path, what) in [(&recorded, "recorded"), (&stripped, "without link rows")] {
            let s = summary_json(path);
            assert_totals(case, what, |q| s[q.key()].as_f64());
            assert_ml(
                s["wb_processed_ml"].as_f64(),
                wb,
                &format!("{} {what} WB", case.fixture),
            );
        }
    }
}
