//! `apheresis-monitor alarms` end to end: a recording written by the real recorder, replayed
//! through the alarm engine with its metadata's patient and limits or a limits file; the shipped
//! samples (routine runs: no citrate alarm); the simulated citrate excess of
//! `tests/fixtures/citrate-excess.csv`; and input that cannot be used.
//!
//! Expected times are worked out by hand in the comments.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
mod support;

use support::entry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use apheresis_monitor::model::{
    Alarm, Entry, EntryBody, LinkCode, LinkEvent, MachineState, Priority, Quantity, Sample,
};
use apheresis_monitor::recording::{self, Recorder, SessionMeta, meta::parse_meta, write_meta};
use serde_json::{Value, json};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .arg("alarms")
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the binary")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// `alarms --json` on `path` (with `extra` arguments); checks the shape: one object whose only
/// key is `alarms`, a list of objects with exactly `code`, `priority`, `raised_elapsed_s` and
/// `cleared_elapsed_s`.
fn alarms_json(path: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![text(path), "--json"];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert!(
        output.status.success(),
        "{}: {}",
        path.display(),
        stderr(&output)
    );
    let value: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    let object = value.as_object().expect("a JSON object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["alarms"]);
    let alarms = value["alarms"].as_array().expect("a list").clone();
    for alarm in &alarms {
        let keys: Vec<&str> = alarm
            .as_object()
            .expect("each alarm an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["cleared_elapsed_s", "code", "priority", "raised_elapsed_s"],
            "{alarm}"
        );
        assert!(
            alarm["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("MON_"))
        );
        assert!(["H", "M", "L", "I"].contains(&alarm["priority"].as_str().unwrap_or("")));
        assert!(alarm["raised_elapsed_s"].is_f64());
        assert!(alarm["cleared_elapsed_s"].is_f64() || alarm["cleared_elapsed_s"].is_null());
    }
    alarms
}

fn citrate(alarms: &[Value]) -> Vec<&Value> {
    alarms
        .iter()
        .filter(|a| a["code"] == "MON_CITRATE_HIGH")
        .collect()
}

/// A RUN recorded up to `end_s`, one sample a second, AC 4 mL/min except 7.2 mL/min from
/// 1200 s to 1799 s. Also a machine alarm (`AIR_DETECTED`, 500–510 s), which is the machine's and
/// not listed, and a citrate row an older monitor wrote at 100 s, which is not an input: the
/// engine decides again.
fn write_session(path: &Path, end_s: u64) {
    let mut recorder = Recorder::create(path).expect("create the recording");
    let mut seq = 0u32;
    let mut next = || {
        seq += 1;
        Some(seq)
    };
    let mut append = |e: Entry| recorder.append(&e).expect("append a row");
    append(entry(
        0,
        None,
        EntryBody::Link(LinkEvent::new(LinkCode::Connected, "test port")),
    ));
    append(entry(0, next(), EntryBody::State(MachineState::Run)));
    let alarm = |code: &str, priority, active| {
        EntryBody::Alarm(Alarm {
            code: code.into(),
            priority,
            active,
            text: String::new(),
        })
    };
    for t in 0..=end_s {
        let ac = if (1200..1800).contains(&t) { 7.2 } else { 4.0 };
        append(entry(
            t,
            next(),
            EntryBody::Sample(
                Sample::default()
                    .with(Quantity::InletMlMin, ac * 12.0)
                    .with(Quantity::AcMlMin, ac)
                    .with(Quantity::AccessMmhg, -60.0)
                    .with(Quantity::ReturnMmhg, 150.0),
            ),
        ));
        match t {
            100 => append(entry(
                t,
                None,
                alarm("MON_CITRATE_HIGH", Priority::Medium, true),
            )),
            500 => append(entry(
                t,
                next(),
                alarm("AIR_DETECTED", Priority::High, true),
            )),
            510 => append(entry(
                t,
                next(),
                alarm("AIR_DETECTED", Priority::High, false),
            )),
            _ => {}
        }
    }
    recorder.sync().expect("sync the recording");
}

/// Male, 175 cm, 70 kg. Nadler: 0.3669 × 1.75³ + 0.03219 × 70 + 0.6041
///   = 0.3669 × 5.359375 + 2.2533 + 0.6041 = 1.9663547 + 2.8574 = 4.8237547 L.
fn meta(limits: Option<Value>) -> SessionMeta {
    let mut text = json!({
        "format": "aph-session/1",
        "patient": { "id": "P-ALARMS", "weight_kg": 70, "height_cm": 175, "sex": "male" }
    });
    if let Some(limits) = limits {
        text["limits"] = limits;
    }
    parse_meta(&text.to_string()).expect("valid metadata")
}

struct Dir {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Dir {
    fn new() -> Dir {
        let dir = tempfile::tempdir().expect("a temporary folder");
        Dir {
            path: dir.path().to_owned(),
            _dir: dir,
        }
    }

    fn session(&self, name: &str, end_s: u64, meta: Option<&SessionMeta>) -> PathBuf {
        let path = self.path.join(name);
        write_session(&path, end_s);
        if let Some(meta) = meta {
            write_meta(&path, meta).expect("write the metadata");
        }
        path
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.path.join(name);
        std::fs::write(&path, content).expect("write a file");
        path
    }
}

/// The hand calculation for the session above (TBV 4.8237547 L). A sample a second, each held
/// for the second after it: the 5-min mean at the sample of T s is that of the samples
/// T − 300 … T − 1.
///
/// Default limit 1.2 mL/min per L = 1.2 × 4.8237547 = 5.78851 mL/min of ACD-A.
/// - Raised: k samples of 7.2 in the window (T = 1200 + k): (4 × (300 − k) + 7.2 k) ÷ 300
///   = (1200 + 3.2 k) ÷ 300 > 5.78851 ⇔ 3.2 k > 536.55 ⇔ k ≥ 168: T = 1368 s.
/// - Cleared below 1.08 × 4.8237547 = 5.20966 mL/min: j samples of 4 back in the window
///   (T = 1800 + j): (7.2 × (300 − j) + 4 j) ÷ 300 = (2160 − 3.2 j) ÷ 300 < 5.20966
///   ⇔ 3.2 j > 597.10 ⇔ j ≥ 187: T = 1987 s.
#[test]
fn the_sessions_patient_and_limits_give_the_citrate_alarm_worked_out_by_hand() {
    let dir = Dir::new();
    let path = dir.session("session.csv", 2100, Some(&meta(None)));
    let alarms = alarms_json(&path, &[]);
    assert_eq!(
        Value::Array(alarms),
        json!([{
            "code": "MON_CITRATE_HIGH",
            "priority": "M",
            "raised_elapsed_s": 1368.0,
            "cleared_elapsed_s": 1987.0
        }])
    );
    // For people: the rule, then the alarm with its times as session offsets
    // (1368 s = 0:22:48, 1987 s = 0:33:07).
    let output = run(&[text(&path)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains(
            "with the default limits; citrate above 1.20 mL/min per L TBV as ACD-A (TBV 4.82 L"
        ),
        "{out}"
    );
    assert!(
        out.contains("+0:22:48 – +0:33:07     MEDIUM  MON_CITRATE_HIGH          Citrate just over"),
        "{out}"
    );
    assert!(out.ends_with("1 monitor alarm\n"), "{out}");

    // Ended while still high (at 1500 s): never cleared.
    let short = dir.session("short.csv", 1500, Some(&meta(None)));
    assert_eq!(
        Value::Array(alarms_json(&short, &[])),
        json!([{
            "code": "MON_CITRATE_HIGH",
            "priority": "M",
            "raised_elapsed_s": 1368.0,
            "cleared_elapsed_s": null
        }])
    );
}

/// Limit 1.1 mL/min per L = 1.1 × 4.8237547 = 5.30613 mL/min; it clears below
/// 0.99 × 4.8237547 = 4.77552 mL/min.
/// - Raised: (1200 + 3.2 k) ÷ 300 > 5.30613 ⇔ 3.2 k > 391.84 ⇔ k ≥ 123: T = 1323 s.
/// - Cleared: (2160 − 3.2 j) ÷ 300 < 4.77552 ⇔ 3.2 j > 727.35 ⇔ j ≥ 228: T = 2028 s.
#[test]
fn limits_come_from_the_metadata_or_from_a_file_laid_over_them() {
    let dir = Dir::new();
    let expected_at_1_1 = json!([{
        "code": "MON_CITRATE_HIGH",
        "priority": "M",
        "raised_elapsed_s": 1323.0,
        "cleared_elapsed_s": 2028.0
    }]);
    // The session's own limits, from its metadata.
    let path = dir.session(
        "own.csv",
        2100,
        Some(&meta(Some(
            json!({"citrate_acd_a_ml_min_per_l_tbv": {"limit": 1.1}}),
        ))),
    );
    assert_eq!(Value::Array(alarms_json(&path, &[])), expected_at_1_1);
    // A file laid over them: 1.5 is never reached (7.2 ÷ 4.8237547 = 1.4926 per L at most).
    let higher = dir.file(
        "higher.json",
        r#"{"citrate_acd_a_ml_min_per_l_tbv": {"limit": 1.5}}"#,
    );
    assert_eq!(
        alarms_json(&path, &["--limits", text(&higher)]),
        Vec::<Value>::new()
    );
    // Another session's metadata file: its limits are taken.
    let other = dir.session(
        "other.csv",
        10,
        Some(&meta(Some(
            json!({"citrate_acd_a_ml_min_per_l_tbv": {"limit": 1.1}}),
        ))),
    );
    let default_limits = dir.session("defaults.csv", 2100, Some(&meta(None)));
    let other_meta = recording::meta_path_for(&other);
    assert_eq!(
        Value::Array(alarms_json(
            &default_limits,
            &["--limits", text(&other_meta)]
        )),
        expected_at_1_1
    );
    // The rule switched off in a file: no alarm.
    let off = dir.file(
        "off.json",
        r#"{"citrate_acd_a_ml_min_per_l_tbv": {"enabled": false}}"#,
    );
    assert_eq!(
        alarms_json(&path, &["--limits", text(&off)]),
        Vec::<Value>::new()
    );
}

#[test]
fn without_a_tbv_the_citrate_rule_cannot_run_and_says_so() {
    let dir = Dir::new();
    // No metadata at all: no patient.
    let path = dir.session("bare.csv", 2100, None);
    let output = run(&[text(&path), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("warning: citrate rule not evaluated: the patient's TBV is unknown"),
        "{}",
        stderr(&output)
    );
    let alarms: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(alarms, json!({"alarms": []}));
}

#[test]
fn every_shipped_sample_raises_no_citrate_alarm() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for entry in std::fs::read_dir(root.join("sample-data")).expect("sample-data/") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let alarms = alarms_json(&path, &[]);
        assert_eq!(citrate(&alarms), Vec::<&Value>::new(), "{}", path.display());
        // The rule did run: each sample's metadata gives the patient's TBV.
        let output = run(&[text(&path)]);
        let err = stderr(&output);
        assert!(!err.contains("citrate rule not evaluated"), "{err}");
        assert!(stdout(&output).contains("citrate above 1.20 mL/min per L TBV"));
        replayed += 1;
    }
    assert_eq!(replayed, 5, "the five sample sessions");
}

/// The simulated teenager at 2.2 mg/kg/min (`examples/sample_data.rs`): 40 kg, 155 cm, female,
/// TBV 0.3561 × 1.55³ + 0.03308 × 40 + 0.1833 = 1.3260719 + 1.3232 + 0.1833 = 2.8325719 L.
/// The excess starts at the first RUN sample whose AC flow is above 1.2 × 2.8325719
/// = 3.39909 mL/min (found here from the rows, not by the monitor); the alarm must come after
/// it and within 5 minutes.
#[test]
fn a_sustained_ac_excess_is_raised_within_5_minutes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/citrate-excess.csv");
    let limit_ml_min = 1.2 * 2.832_571_9;
    let loaded = recording::load(&path, |_, _| true).expect("the fixture loads");
    let mut state = None;
    let mut excess_from = None;
    for e in &loaded.entries {
        match &e.body {
            EntryBody::State(s) => state = Some(*s),
            EntryBody::Sample(sample)
                if state == Some(MachineState::Run)
                    && sample
                        .get(Quantity::AcMlMin)
                        .is_some_and(|ac| ac > limit_ml_min) =>
            {
                excess_from = e.elapsed_ms.map(|ms| ms as f64 / 1000.0);
                break;
            }
            _ => {}
        }
    }
    let excess_from = excess_from.expect("the fixture's AC goes above the limit");
    let alarms = alarms_json(&path, &[]);
    let citrate = citrate(&alarms);
    assert!(!citrate.is_empty(), "no citrate alarm: {alarms:?}");
    let raised = citrate[0]["raised_elapsed_s"].as_f64().expect("a time");
    assert!(
        raised > excess_from && raised - excess_from <= 300.0,
        "excess from {excess_from} s, raised at {raised} s"
    );
    assert_eq!(citrate[0]["priority"], "M");
}

#[test]
fn input_that_cannot_be_used_is_an_error_not_a_panic() {
    let dir = Dir::new();
    let path = dir.session("session.csv", 30, Some(&meta(None)));
    let not_json = dir.file("not.json", "citrate: 1.1");
    let misspelt = dir.file("misspelt.json", r#"{"citrate_limit": 1.1}"#);
    let wrong_type = dir.file(
        "wrong.json",
        r#"{"citrate_acd_a_ml_min_per_l_tbv": {"limit": "high"}}"#,
    );
    let out_of_range = dir.file(
        "range.json",
        r#"{"citrate_acd_a_ml_min_per_l_tbv": {"limit": 12}}"#,
    );
    let not_csv = dir.file("notes.csv", "dear diary\nnothing here\n");
    let no_rows = dir.file(
        "garbled.csv",
        &format!(
            "{}\nthis,is,not,a,row\n",
            apheresis_monitor::recording::COLUMNS.join(",")
        ),
    );
    let missing = dir.path.join("missing.csv");
    let missing_limits = dir.path.join("nope.json");
    let cases: [(Vec<&str>, &str); 8] = [
        (vec![text(&missing)], "cannot read"),
        (vec![text(&not_csv)], "is not a session recording"),
        (vec![text(&no_rows)], "no row could be read"),
        (
            vec![text(&path), "--limits", text(&missing_limits)],
            "cannot read",
        ),
        (
            vec![text(&path), "--limits", text(&not_json)],
            "is not JSON",
        ),
        (
            vec![text(&path), "--limits", text(&misspelt)],
            "no setting is called `citrate_limit`",
        ),
        (
            vec![text(&path), "--limits", text(&wrong_type)],
            "limits citrate_acd_a_ml_min_per_l_tbv:",
        ),
        (
            vec![text(&path), "--limits", text(&out_of_range)],
            "citrate limit 12 mL/min per L TBV is outside 0.4–2.5",
        ),
    ];
    for (args, message) in cases {
        let output = run(&args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}
