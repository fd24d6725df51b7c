//! The monitor's summary figures against an independent oracle: `scripts/pandas_summary.py`,
//! written with pandas from the recording format and the documented rules (its docstring lists
//! them), run on fixtures that hold the hard cases and on the shipped sample sessions.
//!
//! Each figure is compared one by one. Counts, strings and `null`s must be equal; a float may
//! differ by a relative 1e-9, because the two sum the same products in a different order
//! (pandas/numpy against a running sum), which changes the last bits and nothing else. No
//! difference is tolerated beyond that: the two follow the same rules, the counter rule of
//! docs/counters.md included.
//!
//! The oracle needs python3 with pandas; without them these tests fail (a skipped oracle would
//! be a test that cannot fail). CI installs `python3-pandas`.
//!
//! The fixtures are made by `tests/fixtures/make_fixtures.py` (committed, deterministic).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Relative tolerance for float figures: summation order only (see the module doc).
const REL_TOLERANCE: f64 = 1e-9;

/// The figures compared, with the monitor's JSON keys.
const FIGURES: [&str; 36] = [
    "rows_skipped",
    "started_utc",
    "ended_utc",
    "run_start_utc",
    "collection_end_utc",
    "end_utc",
    "duration_s",
    "run_time_s",
    "pause_count",
    "pause_time_s",
    "inlet_ml",
    "ac_ml",
    "collect_ml",
    "plasma_ml",
    "replace_ml",
    "wb_processed_ml",
    "tbv_ml",
    "tbv_method",
    "tbv_processed",
    "mean_inlet_ml_min",
    "citrate_mean_mg_kg_min",
    "citrate_peak_mg_kg_min",
    "alarms_high",
    "alarms_medium",
    "alarms_low",
    "monitor_alarms_high",
    "monitor_alarms_medium",
    "monitor_alarms_low",
    "notes",
    "lost_sentences",
    "link_losses",
    "cd3_yield_cells",
    "ce2_percent",
    "wb_needed_for_target_ml",
    "patient_id",
    "alarm_log",
];

/// TBV of the bag-change fixture's patient (female, 160 cm, 60 kg), Nadler:
/// 0.3561 × 1.6³ + 0.03308 × 60 + 0.1833 = 0.3561 × 4.096 + 1.9848 + 0.1833
///   = 1.4585856 + 1.9848 + 0.1833 = 3.6266856 L.
const BAG_CHANGE_TBV_ML: f64 = 3_626.685_6;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// Fails the test, with what to install, when python3 or pandas is missing.
fn require_pandas() {
    let probe = Command::new("python3")
        .args(["-c", "import pandas, numpy"])
        .output();
    match probe {
        Err(e) => panic!(
            "the summary oracle needs python3, which cannot be run ({e}); install python3 and \
             pandas (apt-get install python3-pandas, or pip install pandas)"
        ),
        Ok(out) if !out.status.success() => panic!(
            "the summary oracle needs pandas, which python3 cannot import; install it \
             (apt-get install python3-pandas, or pip install pandas). This test never skips: \
             a skipped oracle proves nothing.\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Ok(_) => {}
    }
}

fn oracle(path: &Path) -> Value {
    require_pandas();
    let out = Command::new("python3")
        .arg(root().join("scripts/pandas_summary.py"))
        .arg(path)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "the oracle failed on {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the oracle prints one JSON object")
}

fn monitor(path: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .arg("summary")
        .arg(path)
        .arg("--json")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the monitor");
    assert!(
        out.status.success(),
        "summary failed on {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("summary --json prints one JSON object")
}

/// Whether two JSON values agree: equal, or floats within [`REL_TOLERANCE`].
fn agree(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= REL_TOLERANCE * x.abs().max(y.abs()).max(1.0),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| agree(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| agree(v, w)))
        }
        _ => a == b,
    }
}

/// The monitor's value of `figure`, shaped as the oracle gives it.
fn monitor_figure(summary: &Value, figure: &str) -> Value {
    match figure {
        // The oracle's log keeps what both can state: code, priority, raised and cleared.
        "alarm_log" => Value::Array(
            summary[figure]
                .as_array()
                .expect("alarm_log is a list")
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "code": a["code"],
                        "priority": a["priority"],
                        "raised_s": a["raised_s"],
                        "cleared_s": a["cleared_s"],
                    })
                })
                .collect(),
        ),
        "note_log" => Value::Array(
            summary[figure]
                .as_array()
                .expect("note_log is a list")
                .iter()
                .map(|n| serde_json::json!({"code": n["code"], "text": n["text"], "at_s": n["at_s"]}))
                .collect(),
        ),
        _ => summary[figure].clone(),
    }
}

/// Compares every figure of one recording; returns both summaries for further checks.
fn compare(path: &Path) -> (Value, Value) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a UTF-8 file name");
    let m = monitor(path);
    let o = oracle(path);
    let mut problems = Vec::new();
    for figure in FIGURES.iter().copied().chain(["note_log"]) {
        let (mv, ov) = (monitor_figure(&m, figure), o[figure].clone());
        assert!(
            o.get(figure).is_some(),
            "the oracle gives no {figure} for {name}"
        );
        if !agree(&mv, &ov) {
            problems.push(format!("{figure}: monitor {mv}, oracle {ov}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{name}: the monitor and the oracle disagree:\n  {}",
        problems.join("\n  ")
    );
    (m, o)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

fn assert_close(v: &Value, expected: f64, what: &str) {
    let v = f(v);
    assert!(
        (v - expected).abs() <= REL_TOLERANCE * expected.abs().max(1.0),
        "{what}: {v} != {expected}"
    );
}

/// The hard-cases fixture (see `make_fixtures.py`), by hand. Session time = machine time
/// until the machine restarts at machine time 600 s; after it, machine time + 600 s.
#[test]
fn the_hard_cases_agree_with_the_oracle_and_with_the_hand_calculation() {
    let (m, o) = compare(&fixture("hard-cases.csv"));
    // Both sides must also equal the hand calculation, so that a rule both got wrong the
    // same way is caught too.
    for s in [&m, &o] {
        // The row cut short by a crash.
        assert_eq!(s["rows_skipped"], 1);
        assert_eq!(s["started_utc"], "2026-03-14T08:00:00.000Z");
        assert_eq!(s["ended_utc"], "2026-03-14T08:16:05.000Z");
        // 600 s before the restart + 360 s after it.
        assert_close(&s["duration_s"], 960.0, "duration");
        // RUN 60–245 and 295–900 (RUN repeated at 400 and at the restart opens nothing):
        // 185 + 605 = 790 s. One PAUSE, 245–295: 50 s.
        assert_close(&s["run_time_s"], 790.0, "run time");
        assert_eq!(s["pause_count"], 1);
        assert_close(&s["pause_time_s"], 50.0, "pause time");
        // Counter restart (MACHINE_RESET): before it inlet 490, AC 42.2, collect 8.2,
        // replacement 0.5; after it 300, 25, 5, 0. Totals 790, 67.2, 13.2, 0.5 (the 0.5 mL
        // fall of the replacement counter is a restart here: the whole machine restarted).
        assert_close(&s["inlet_ml"], 790.0, "inlet");
        assert_close(&s["ac_ml"], 67.2, "AC");
        assert_close(&s["collect_ml"], 13.2, "collect");
        assert_close(&s["replace_ml"], 0.5, "replacement");
        assert_close(&s["wb_processed_ml"], 790.0 - 67.2, "WB");
        // Nadler, male, 1.75 m, 71 kg: 0.3669 × 5.359375 + 0.03219 × 71 + 0.6041
        //   = 1.96635469 + 2.28549 + 0.6041 = 4.8559447 L (female coefficients: 4.28 L).
        assert_close(&s["tbv_ml"], 4_855.944_687_5, "TBV");
        assert_close(
            &s["tbv_processed"],
            722.8 / 4_855.944_687_5,
            "TBV processed",
        );
        // Counted RUN time: 60–245 at 60 mL/min (185 s), 290–300 holds the PAUSE's 0 for the
        // 5 s of RUN from 295, 300–420 at 60 (120 s), 420–480 not counted (60 s without a
        // sample), 480–600 at 60 (120 s), 600–900 at 60 (300 s): 730 s, 60 × 725 = 43500.
        assert_close(&s["mean_inlet_ml_min"], 43_500.0 / 730.0, "mean inlet");
        // AC 9 mL/min on 180–200, 5 on the other 705 s at 60, 0 on 5 s: 3705 / 730 mL/min;
        // × 21.3 mg/mL ÷ 71 kg = × 0.3.
        assert_close(
            &s["citrate_mean_mg_kg_min"],
            3_705.0 / 730.0 * 0.3,
            "citrate mean",
        );
        // The part-minute peak: the best minute holds the whole 20 s spike and 40 s at 5:
        // (9 × 20 + 5 × 40) ÷ 60 = 6.333 mL/min × 0.3 = 1.9 mg/kg/min (a count-based
        // rolling mean of the samples would not give this).
        assert_close(&s["citrate_peak_mg_kg_min"], 1.9, "citrate peak");
        // The machine's alarms: ACCESS_PRESSURE_LOW raised at 230, announced again at 236 (same
        // alarm), cleared at 290, raised again at 500: 2 high. RETURN_PRESSURE_HIGH: 1 medium.
        // AC_RATE_LIMIT: 1 low. The information event and the OFF of an alarm never raised
        // count nothing. The monitor's own: MON_CITRATE_HIGH, 1 medium.
        assert_eq!(
            (&s["alarms_high"], &s["alarms_medium"], &s["alarms_low"]),
            (&Value::from(2), &Value::from(1), &Value::from(1))
        );
        assert_eq!(
            (
                &s["monitor_alarms_high"],
                &s["monitor_alarms_medium"],
                &s["monitor_alarms_low"]
            ),
            (&Value::from(0), &Value::from(1), &Value::from(0))
        );
        // The procedure: RUN first at 60 s of the first procedure (received 08:01:00); the first
        // RINSEBACK after it is the second procedure's, at its 300 s (received 605 + 300 s after
        // 08:00:00 = 08:15:05); END at its 360 s (08:16:05). (The recording's last row read is
        // RECORDING_CLOSED, also at 08:16:05.)
        assert_eq!(s["run_start_utc"], "2026-03-14T08:01:00.000Z");
        assert_eq!(s["collection_end_utc"], "2026-03-14T08:15:05.000Z");
        assert_eq!(s["end_utc"], "2026-03-14T08:16:05.000Z");
        // ALARM_ACK, OBSERVATION and FREE_TEXT: 3 notes.
        assert_eq!(s["notes"], 3);
        // SEQ_GAP 3 + 2; LINK_LOST and LINK_SILENT.
        assert_eq!(s["lost_sentences"], 5);
        assert_eq!(s["link_losses"], 2);
        // Yield 5000/µL × 1000 × 12 mL = 6e7; CE2 100 × 6e7 ÷ (1000 × 1000 × 722.8) %;
        // WB for 1e8 cells = 1e8 ÷ (1000 × 1000 × CE2 ÷ 100).
        assert_close(&s["cd3_yield_cells"], 6e7, "yield");
        let ce2 = 100.0 * 6e7 / (1e6 * 722.8);
        assert_close(&s["ce2_percent"], ce2, "CE2");
        assert_close(
            &s["wb_needed_for_target_ml"],
            1e8 / (1e6 * ce2 / 100.0),
            "WB needed",
        );
    }
    // The texts read back exactly, formula escapes removed.
    assert_eq!(m["note_log"][1]["text"], "=arm repositioned");
    assert_eq!(m["note_log"][2]["text"], "-5 mL/min inlet by order");
}

/// The bag change and the jitter dip (see `make_fixtures.py`): both agree, and with the hand
/// calculation (samples every 10 s, `inlet_ml` = t, `ac_ml` = t/12 to 0.1, collect 1 mL/min
/// restarting at 150 s).
#[test]
fn a_bag_change_and_a_jitter_dip_agree_with_the_oracle_and_the_hand_calculation() {
    let (m, o) = compare(&fixture("bag-change.csv"));
    for s in [&m, &o] {
        // Inlet never fell: 300 mL. AC fell 0.1 mL at 200 s (15.7 after 15.8), jitter: 25.0 mL
        // at 300 s, counted neither twice nor down. The bag restarted after 2.3 mL: 2.3 + 2.5
        // = 4.8 mL. WB 300 − 25 = 275 mL. (Before issue 13 the monitor carried every counter at
        // both: inlet 630, AC 52.5, collect 5.5, WB 577.5.)
        assert_close(&s["inlet_ml"], 300.0, "inlet");
        assert_close(&s["ac_ml"], 25.0, "AC");
        assert_close(&s["collect_ml"], 4.8, "collect");
        assert_close(&s["wb_processed_ml"], 275.0, "WB");
        assert_close(
            &s["tbv_processed"],
            275.0 / BAG_CHANGE_TBV_ML,
            "TBV processed",
        );
        // RUN at 0 s (09:00:00), END at 300 s (09:05:00), no RINSEBACK: END ends the
        // collection.
        assert_eq!(s["run_start_utc"], "2026-03-15T09:00:00.000Z");
        assert_eq!(s["collection_end_utc"], "2026-03-15T09:05:00.000Z");
        assert_eq!(s["end_utc"], "2026-03-15T09:05:00.000Z");
        // RUN 0–300 at inlet 60, AC 5 mL/min; citrate 5 × 21.3 ÷ 60 = 1.775 mg/kg/min.
        assert_close(&s["run_time_s"], 300.0, "run time");
        assert_close(&s["mean_inlet_ml_min"], 60.0, "mean inlet");
        assert_close(&s["citrate_mean_mg_kg_min"], 1.775, "citrate mean");
        assert_close(&s["citrate_peak_mg_kg_min"], 1.775, "citrate peak");
        assert_close(&s["tbv_ml"], BAG_CHANGE_TBV_ML, "TBV");
    }
}

/// The counter rule's corners (see `make_fixtures.py` for the table of values): both agree,
/// and with the hand calculation. A counter's total is the sum, over its counts, of the
/// highest value each reached.
#[test]
fn the_counter_rule_corners_agree_with_the_oracle_and_the_hand_calculation() {
    let (m, o) = compare(&fixture("counters.csv"));
    for s in [&m, &o] {
        // Inlet: 0 … 50, dips to 49.5 and 49 (jitter), restarts alone at 2 (carrying 50),
        // 12; the machine restarts its totals at 1, then 11 … 51. 50 + 12 + 51 = 113 mL.
        assert_close(&s["inlet_ml"], 113.0, "inlet");
        // AC: 0 … 7.5; the machine's restart; 0.1 … 4.3, then 4.2 on the last sample (jitter):
        // 7.5 + 4.3 = 11.8 mL.
        assert_close(&s["ac_ml"], 11.8, "AC");
        // Collect: 0 … 1.5; the restart; 0 … 1.0 (0.3 at 120 s alone in its sample): 2.5 mL.
        assert_close(&s["collect_ml"], 2.5, "collect");
        // Replacement: 0.5, then 0 at the machine's restart (a fall of 0.5 mL, a restart only
        // because every counter restarted), then 0.2: 0.7 mL. Plasma stayed 0.
        assert_close(&s["replace_ml"], 0.7, "replacement");
        assert_close(&s["plasma_ml"], 0.0, "plasma");
        assert_close(&s["wb_processed_ml"], 113.0 - 11.8, "WB");
    }
}

/// The shipped sample sessions (5 h each, made by the simulator) agree figure by figure.
#[test]
fn the_sample_sessions_agree_with_the_oracle() {
    let mut compared = 0;
    for entry in std::fs::read_dir(root().join("sample-data")).expect("sample-data/") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "csv") {
            let (m, _) = compare(&path);
            assert!(f(&m["run_time_s"]) > 3600.0, "{}", path.display());
            compared += 1;
        }
    }
    assert_eq!(compared, 5, "the five sample sessions");
}

/// A 10 kg, 3-year-old boy whose weight was corrected from 12 to 10 kg during the run (see
/// `make_fixtures.py`), by hand; then the same recording under other patients' details, each
/// TBV rule worked out by hand and by the oracle.
#[test]
fn a_small_childs_tbv_is_per_kg_by_age_band_in_the_monitor_and_the_oracle() {
    let (m, o) = compare(&fixture("small-child.csv"));
    for s in [&m, &o] {
        // Under 25 kg, 3 years: 75 mL/kg × 10 kg = 750 mL (Nadler's 1114 mL would be
        // 111 mL/kg). WB 100 − 7.5 = 92.5 mL; 92.5 ÷ 750 TBV.
        assert_close(&s["tbv_ml"], 750.0, "TBV");
        assert_eq!(s["tbv_method"], "ml_per_kg_child");
        assert_close(&s["wb_processed_ml"], 92.5, "WB");
        assert_close(&s["tbv_processed"], 92.5 / 750.0, "TBV processed");
        // With the weight as last saved, 10 kg, for the whole run: 1.5 × 21.3 ÷ 10.
        assert_close(&s["citrate_mean_mg_kg_min"], 3.195, "citrate mean");
        assert_eq!(s["note_log"][0]["code"], "PATIENT_CHANGED");
    }
    // The monitor says plainly that the weight changed and which one it used.
    let notices = m["notices"].as_array().expect("notices");
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices[0]
            .as_str()
            .unwrap()
            .starts_with("The weight changed during the session (from 12 to 10 kg;"),
        "{notices:?}"
    );
    assert!(
        notices[0]
            .as_str()
            .unwrap()
            .ends_with("the weight last saved, 10 kg.")
    );

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("child.csv");
    std::fs::copy(fixture("small-child.csv"), &csv).unwrap();
    let cases: [(&str, Option<f64>, Value); 6] = [
        // 8 months: 80 × 10 = 800 mL.
        (
            r#""weight_kg":10,"age":{"value":8,"unit":"months"}"#,
            Some(800.0),
            Value::from("ml_per_kg_infant"),
        ),
        // 10 days, 3.5 kg: 85 × 3.5 = 297.5 mL.
        (
            r#""weight_kg":3.5,"age":{"value":10,"unit":"days"}"#,
            Some(297.5),
            Value::from("ml_per_kg_neonate"),
        ),
        // Entered: overrides the estimate (820 ÷ 10 = 82 mL/kg, plausible).
        (
            r#""weight_kg":10,"age":{"value":3,"unit":"years"},"tbv_entered_ml":820"#,
            Some(820.0),
            Value::from("entered"),
        ),
        // Entered 5.6 (litres typed as mL): refused, and no estimate stands in.
        (
            r#""weight_kg":10,"age":{"value":3,"unit":"years"},"tbv_entered_ml":5.6"#,
            None,
            Value::Null,
        ),
        // Under 25 kg without an age: no TBV.
        (
            r#""weight_kg":10,"height_cm":80,"sex":"male""#,
            None,
            Value::Null,
        ),
        // 30 kg, 135 cm girl of 9: Nadler, 0.3561 × 1.35³ + 0.03308 × 30 + 0.1833
        //   = 0.3561 × 2.460375 + 0.9924 + 0.1833 = 0.8761395375 + 1.1757 = 2.0518395375 L.
        (
            r#""weight_kg":30,"height_cm":135,"sex":"female","age":{"value":9,"unit":"years"}"#,
            Some(2_051.839_537_5),
            Value::from("nadler"),
        ),
    ];
    for (patient, tbv_ml, method) in cases {
        let meta = format!(r#"{{"format":"aph-session/1","patient":{{{patient}}}}}"#);
        std::fs::write(dir.path().join("child.session.json"), &meta).unwrap();
        let (m, o) = compare(&csv);
        for s in [&m, &o] {
            match tbv_ml {
                Some(ml) => assert_close(&s["tbv_ml"], ml, patient),
                None => assert!(s["tbv_ml"].is_null(), "{patient}: {}", s["tbv_ml"]),
            }
            assert_eq!(s["tbv_method"], method, "{patient}");
        }
    }
}
