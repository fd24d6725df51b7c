//! `apheresis-monitor summary` end to end: recordings written by the real recorder, whole,
//! truncated, without metadata, with invalid metadata and without samples, and a file that is
//! not a recording.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use apheresis_monitor::model::{
    Alarm, Entry, EntryBody, LinkCode, LinkEvent, MachineState, Note, Priority, Quantity, Sample,
};
use apheresis_monitor::recording::{Recorder, SessionMeta, meta::parse_meta, write_meta};
use jiff::Timestamp;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .arg("summary")
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

fn entry(secs: u64, seq: Option<u32>, body: EntryBody) -> Entry {
    Entry {
        time_utc: Timestamp::from_second(1_773_475_500 + secs as i64).expect("a valid time"),
        elapsed_ms: Some(secs * 1000),
        seq,
        body,
    }
}

/// A 15-minute session: PRIME 0–60, RUN 60–840, RINSEBACK 840–900, END; samples every 5 s at
/// 60 mL/min inlet and 5 mL/min AC while running; one high alarm and one note.
fn write_session(path: &Path, with_samples: bool) {
    let mut recorder = Recorder::create(path).expect("create the recording");
    let mut seq = 0u32;
    let mut next = || {
        seq += 1;
        Some(seq)
    };
    let (mut inlet_ml, mut ac_ml) = (0.0_f64, 0.0_f64);
    recorder
        .append(&entry(
            0,
            None,
            EntryBody::Link(LinkEvent::new(LinkCode::Connected, "test port")),
        ))
        .expect("append a row");
    recorder
        .append(&entry(0, next(), EntryBody::State(MachineState::Prime)))
        .expect("append a row");
    for t in (0..=900).step_by(5) {
        match t {
            60 => recorder
                .append(&entry(t, next(), EntryBody::State(MachineState::Run)))
                .expect("append a row"),
            840 => recorder
                .append(&entry(t, next(), EntryBody::State(MachineState::Rinseback)))
                .expect("append a row"),
            _ => {}
        }
        let running = (60..840).contains(&t);
        let (inlet, ac) = if running { (60.0, 5.0) } else { (0.0, 0.0) };
        if with_samples {
            recorder
                .append(&entry(
                    t,
                    next(),
                    EntryBody::Sample(
                        Sample::default()
                            .with(Quantity::InletMlMin, inlet)
                            .with(Quantity::AcMlMin, ac)
                            .with(Quantity::ReturnMlMin, (inlet - 1.0_f64).max(0.0))
                            .with(Quantity::CollectMlMin, if running { 1.0 } else { 0.0 })
                            .with(Quantity::InletMl, (inlet_ml * 10.0).round() / 10.0)
                            .with(Quantity::AcMl, (ac_ml * 10.0).round() / 10.0)
                            .with(Quantity::CollectMl, 0.0)
                            .with(Quantity::PlasmaMl, 0.0)
                            .with(Quantity::ReplaceMl, 0.0),
                    ),
                ))
                .expect("append a row");
        }
        inlet_ml += inlet / 12.0;
        ac_ml += ac / 12.0;
        let alarm = |active| {
            EntryBody::Alarm(Alarm {
                code: "ACCESS_PRESSURE_LOW".into(),
                priority: Priority::High,
                active,
                text: "Access pressure low - check patient arm".into(),
            })
        };
        if t == 330 {
            recorder
                .append(&entry(t, next(), alarm(false)))
                .expect("append a row");
        }
        if t == 300 {
            recorder
                .append(&entry(t, next(), alarm(true)))
                .expect("append a row");
            recorder
                .append(&entry(
                    t,
                    None,
                    EntryBody::Note(Note {
                        code: "OBSERVATION".into(),
                        text: "=arm repositioned".into(),
                    }),
                ))
                .expect("append a row");
        }
    }
    recorder
        .append(&entry(900, next(), EntryBody::State(MachineState::End)))
        .expect("append a row");
    recorder.sync().expect("sync the recording");
}

fn good_meta() -> SessionMeta {
    parse_meta(
        r#"{
          "format": "aph-session/1",
          "patient": { "id": "P-TEST-7", "weight_kg": 71, "height_cm": 175, "sex": "male" },
          "machine": { "model": "SIM-OPTIA", "serial_no": "SN000123", "software_version": "1.0.0" },
          "operator": "RN Test"
        }"#,
    )
    .expect("valid metadata")
}

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("a temporary folder");
        Fixture {
            dir: dir.path().to_owned(),
            _dir: dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn session(&self, name: &str, meta: Option<&SessionMeta>, with_samples: bool) -> PathBuf {
        let path = self.path(name);
        write_session(&path, with_samples);
        if let Some(meta) = meta {
            write_meta(&path, meta).expect("write the metadata");
        }
        path
    }
}

fn json(path: &Path) -> serde_json::Value {
    let output = run(&[path.to_str().expect("a UTF-8 path"), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

fn reason<'a>(summary: &'a serde_json::Value, figure: &str) -> Option<&'a str> {
    summary["unavailable"]
        .as_array()?
        .iter()
        .find(|u| u["figure"] == figure)?["reason"]
        .as_str()
}

#[test]
fn a_complete_recording_is_summarised_in_every_format() {
    let f = Fixture::new();
    let path = f.session("s.csv", Some(&good_meta()), true);
    let file = path.to_str().unwrap();

    let text = run(&[file]);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = stdout(&text);
    assert!(text.contains("P-TEST-7"), "{text}");
    assert!(text.contains("Run time              13 min 00 s"), "{text}");

    let s = json(&path);
    // RUN 60–840 s: 780 s; inlet 60 mL/min, AC 5 mL/min all through it.
    assert_eq!(s["run_time_s"], 780.0);
    assert_eq!(s["mean_inlet_ml_min"], 60.0);
    // 5 mL/min × 21.3 mg/mL ÷ 71 kg = 1.5 mg/kg/min, mean and peak alike.
    let citrate = s["citrate_mean_mg_kg_min"].as_f64().unwrap();
    assert!((citrate - 1.5).abs() < 1e-9, "{citrate}");
    assert_eq!(s["alarms_high"], 1);
    assert_eq!(s["notes"], 1);
    assert_eq!(s["patient_id"], "P-TEST-7");
    assert_eq!(s["machine"]["serial_no"], "SN000123");
    assert_eq!(s["rows_skipped"], 0);
    assert!(s["tbv_ml"].as_f64().unwrap() > 4000.0);
    assert_eq!(
        reason(&s, "ce2_percent"),
        Some("no lab values in the metadata")
    );

    let csv = run(&[file, "--csv"]);
    assert!(csv.status.success());
    let csv = stdout(&csv);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("OBSERVATION: '=arm repositioned"), "{csv}");

    let pdf = f.path("report.pdf");
    let output = run(&[file, "--pdf", pdf.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("wrote "));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&pdf).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The text is real text: extract it when poppler's pdftotext is installed.
    if let Ok(extracted) = Command::new("pdftotext").arg(&pdf).arg("-").output() {
        let extracted = String::from_utf8_lossy(&extracted.stdout);
        assert!(extracted.contains("P-TEST-7"), "{extracted}");
        assert!(extracted.contains("ACCESS_PRESSURE_LOW"), "{extracted}");
        assert!(extracted.contains("SHA-256"), "{extracted}");
    }
    // The recording itself is never overwritten by a report.
    let output = run(&[file, "--pdf", file]);
    assert!(!output.status.success());
    assert!(std::fs::read(&path).unwrap().starts_with(b"time_utc,"));
}

#[test]
fn a_truncated_recording_still_gets_a_summary() {
    let f = Fixture::new();
    let path = f.session("cut.csv", Some(&good_meta()), true);
    // A crash mid-row: the last row is cut short.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"2026-03-14T08:20:01.000Z,901.000,999,sam");
    std::fs::write(&path, bytes).unwrap();
    let output = run(&[path.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("1 row(s) skipped"));
    let s: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(s["rows_skipped"], 1);
    assert_eq!(s["run_time_s"], 780.0);
}

#[test]
fn without_metadata_the_patient_figures_say_why() {
    let f = Fixture::new();
    let path = f.session("bare.csv", None, true);
    let output = run(&[path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(
            "tbv_ml: needs a valid sex, height, weight (no metadata file beside the recording)"
        ),
        "{text}"
    );
    let s = json(&path);
    assert!(s["tbv_ml"].is_null());
    assert!(s["citrate_mean_mg_kg_min"].is_null());
    assert!(
        reason(&s, "citrate_peak_mg_kg_min")
            .unwrap()
            .starts_with("needs a valid weight")
    );
    // The rest is there.
    assert_eq!(s["run_time_s"], 780.0);
    assert_eq!(s["mean_inlet_ml_min"], 60.0);
}

#[test]
fn invalid_patient_data_is_reported_not_used() {
    let f = Fixture::new();
    let mut meta = good_meta();
    meta.patient = Some(
        serde_json::from_str(r#"{"id":"P-BAD","weight_kg":0,"height_cm":900,"sex":"male"}"#)
            .unwrap(),
    );
    let path = f.session("bad.csv", Some(&meta), true);
    let s = json(&path);
    let tbv = reason(&s, "tbv_ml").unwrap();
    assert!(tbv.starts_with("needs a valid height, weight"), "{tbv}");
    assert!(tbv.contains("weight must be positive"), "{tbv}");
    assert!(tbv.contains("height 900 cm is outside 40–230 cm"), "{tbv}");
    assert!(
        reason(&s, "citrate_mean_mg_kg_min")
            .unwrap()
            .starts_with("needs a valid weight")
    );
    assert_eq!(s["patient_id"], "P-BAD");
    assert!(s["wb_processed_ml"].as_f64().unwrap() > 700.0);

    // The PDF is made all the same.
    let pdf = f.path("bad.pdf");
    let output = run(&[path.to_str().unwrap(), "--pdf", pdf.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_recording_without_samples_says_so_and_still_reports() {
    let f = Fixture::new();
    let path = f.session("empty.csv", Some(&good_meta()), false);
    let s = json(&path);
    assert_eq!(reason(&s, "inlet_ml"), Some("no samples in the recording"));
    assert_eq!(
        reason(&s, "wb_processed_ml"),
        Some("needs inlet_ml and ac_ml")
    );
    assert_eq!(s["run_time_s"], 780.0);
    let pdf = f.path("empty.pdf");
    let output = run(&[path.to_str().unwrap(), "--pdf", pdf.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
}

#[test]
fn a_file_that_is_not_a_recording_is_refused_with_one_message() {
    let f = Fixture::new();
    let path = f.path("people.csv");
    std::fs::write(&path, "name,age\nbob,4\n").unwrap();
    let output = run(&[path.to_str().unwrap()]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is not a session recording"), "{err}");
    assert!(output.stdout.is_empty());

    let output = run(&[f.path("missing.csv").to_str().unwrap()]);
    assert!(!output.status.success());
    assert_eq!(stderr(&output).lines().count(), 1);
}

#[test]
fn sessions_are_appended_to_the_register_under_one_header() {
    let f = Fixture::new();
    let register = f.path("register.csv");
    for name in ["a.csv", "b.csv"] {
        let path = f.session(name, Some(&good_meta()), true);
        let output = run(&[
            path.to_str().unwrap(),
            "--json",
            "--append",
            register.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let text = std::fs::read_to_string(&register).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("recording_file,patient_id,"));
    assert!(lines[1].starts_with("a.csv,P-TEST-7,"));
    assert!(lines[2].starts_with("b.csv,P-TEST-7,"));

    // A register of another shape is left alone.
    let other = f.path("other.csv");
    std::fs::write(&other, "x,y\r\n").unwrap();
    let path = f.path("a.csv");
    let output = run(&[path.to_str().unwrap(), "--append", other.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not a summary register"));
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "x,y\r\n");
}
