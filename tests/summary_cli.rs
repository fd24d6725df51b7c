//! `apheresis-monitor summary` end to end: recordings written by the real recorder, whole,
//! truncated, without metadata, with invalid metadata and without samples, and a file that is
//! not a recording.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
mod support;

use support::entry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use apheresis_monitor::model::{
    Alarm, EntryBody, LinkCode, LinkEvent, MachineState, Note, Priority, Quantity, Sample,
};
use apheresis_monitor::recording::{Recorder, SessionMeta, meta::parse_meta, write_meta};

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

/// A 15-minute session: PRIME 0–60, RUN 60–840, RINSEBACK 840–900, END; samples every 5 s at
/// 60 mL/min inlet and 5 mL/min AC while running; one high alarm and one note.
///
/// Each sample carries the volumes pumped before it: the samples at 60, 65, …, 835 s (156 of
/// them) each add 5 s of flow, 60 × 5 ÷ 60 = 5 mL inlet and 5 × 5 ÷ 60 = 5/12 mL AC, so the
/// last sample (900 s) carries inlet 156 × 5 = 780 mL and AC 156 × 5/12 = 65 mL:
/// WB processed 780 − 65 = 715 mL. (The inlet alone, 780, must not pass for the WB.)
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

/// The text of a PDF, as poppler's pdftotext reads it. Without pdftotext this fails (CI
/// installs poppler-utils): a skipped check proves nothing.
fn pdf_text(pdf: &Path) -> String {
    let extracted = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "pdftotext is needed to read the PDF's text (apt-get install poppler-utils): {e}"
            )
        });
    assert!(extracted.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&extracted.stdout).into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    let output = run(&[path.to_str().expect("a UTF-8 path"), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

/// A float figure equal to a hand-computed value (to the last bits of float rounding).
fn close(value: &serde_json::Value, expected: f64) {
    let actual = value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number (expected {expected})"));
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{actual} != {expected}"
    );
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
    // The procedure's times, as local times (in whatever zone the test runs in).
    for label in ["Run started", "Collection ended", "Procedure ended"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("{label} in {text}"));
        assert!(line[22..].starts_with("2026-03-"), "{line}");
    }

    let s = json(&path);
    // Rows from 0 s (CONNECTED) to 900 s (END).
    assert_eq!(s["duration_s"], 900.0);
    assert_eq!(s["started_utc"], "2026-03-14T08:05:00.000Z");
    assert_eq!(s["ended_utc"], "2026-03-14T08:20:00.000Z");
    // RUN at 60 s, RINSEBACK at 840 s (the end of collection), END at 900 s.
    assert_eq!(s["run_start_utc"], "2026-03-14T08:06:00.000Z");
    assert_eq!(s["collection_end_utc"], "2026-03-14T08:19:00.000Z");
    assert_eq!(s["end_utc"], "2026-03-14T08:20:00.000Z");
    // RUN 60–840 s: 780 s; inlet 60 mL/min, AC 5 mL/min all through it. No PAUSE.
    assert_eq!(s["run_time_s"], 780.0);
    assert_eq!(s["pause_count"], 0);
    assert_eq!(s["pause_time_s"], 0.0);
    assert_eq!(s["mean_inlet_ml_min"], 60.0);
    // 5 mL/min × 21.3 mg/mL ÷ 71 kg = 1.5 mg/kg/min, mean and peak alike.
    close(&s["citrate_mean_mg_kg_min"], 1.5);
    close(&s["citrate_peak_mg_kg_min"], 1.5);
    // Volumes: see `write_session`.
    close(&s["inlet_ml"], 780.0);
    close(&s["ac_ml"], 65.0);
    close(&s["wb_processed_ml"], 715.0);
    close(&s["collect_ml"], 0.0);
    // Nadler, male, 1.75 m, 71 kg: 0.3669 × 1.75³ + 0.03219 × 71 + 0.6041
    //   = 0.3669 × 5.359375 + 2.28549 + 0.6041 = 1.96635469 + 2.28549 + 0.6041
    //   = 4.8559447 L. (Female coefficients would give 0.3561 × 5.359375 + 0.03308 × 71
    //   + 0.1833 = 4.4434 L.) TBV processed = 715 ÷ 4855.9447 = 0.14724.
    close(&s["tbv_ml"], 4_855.944_687_5);
    close(&s["tbv_processed"], 715.0 / 4_855.944_687_5);
    // One ACCESS_PRESSURE_LOW raised at 300 s and cleared at 330 s; one note.
    assert_eq!(s["alarms_high"], 1);
    assert_eq!(s["alarms_medium"], 0);
    assert_eq!(s["alarms_low"], 0);
    // No alarm of the monitor's own in this recording.
    assert_eq!(s["monitor_alarms_high"], 0);
    assert_eq!(s["monitor_alarms_medium"], 0);
    assert_eq!(s["monitor_alarms_low"], 0);
    assert_eq!(s["alarm_log"][0]["duration_s"], 30.0);
    assert_eq!(s["notes"], 1);
    assert_eq!(s["note_log"][0]["text"], "=arm repositioned");
    assert_eq!(s["lost_sentences"], 0);
    assert_eq!(s["link_losses"], 0);
    assert_eq!(s["patient_id"], "P-TEST-7");
    assert_eq!(s["operator"], "RN Test");
    assert_eq!(s["machine"]["serial_no"], "SN000123");
    assert_eq!(s["rows_skipped"], 0);
    assert_eq!(
        reason(&s, "ce2_percent"),
        Some("no lab values in the metadata")
    );

    let csv = run(&[file, "--csv"]);
    assert!(csv.status.success());
    let csv = stdout(&csv);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    // The row's cells, by column name: the figures as written for the register.
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let cell = |name: &str| {
        let i = rows[0].iter().position(|c| *c == name).unwrap();
        rows[1][i]
    };
    assert_eq!(cell("tbv_ml"), "4856");
    assert_eq!(cell("wb_processed_ml"), "715.0");
    assert_eq!(cell("tbv_processed"), "0.147");
    assert_eq!(cell("citrate_peak_mg_kg_min"), "1.500");
    assert_eq!(cell("alarms_high"), "1");
    assert_eq!(cell("collection_end_utc"), "2026-03-14T08:19:00.000Z");
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
    // The text is real text, with the figures: poppler's pdftotext must find it.
    let extracted = pdf_text(&pdf);
    for expected in [
        "P-TEST-7",
        "ACCESS_PRESSURE_LOW",
        "SHA-256",
        "4856 mL",
        "715.0 mL",
        "13 min 00 s",
        "1.50 mg/kg/min",
        "Collection ended",
        "Monitor alarms",
    ] {
        assert!(extracted.contains(expected), "{expected} in {extracted}");
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
    close(&s["wb_processed_ml"], 715.0);
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
    // What does not depend on the patient is still there: 780 − 65 mL (see `write_session`).
    close(&s["wb_processed_ml"], 715.0);
    assert!(s["tbv_ml"].is_null());
    assert!(s["tbv_processed"].is_null());

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
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&register).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the register is created owner-only");
    }

    // A register of another shape is left alone.
    let other = f.path("other.csv");
    std::fs::write(&other, "x,y\r\n").unwrap();
    let path = f.path("a.csv");
    let output = run(&[path.to_str().unwrap(), "--append", other.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not a summary register"));
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "x,y\r\n");
}

/// The export window ("Export summary", `write` in src/ui/export.rs) and the `summary` command
/// save through `export::write`, which dispatches to these core functions: `write_pdf`,
/// `write_csv`, `write_json` and `append_to_register`. Every file they write is owner-only
/// (0600), also when it replaces a file others could read. `export::write` is checked for
/// every format, and with the window compiled in, the window's own `write` the same way.
#[cfg(unix)]
#[test]
fn every_export_is_written_owner_only_even_over_a_file_others_could_read() {
    use apheresis_monitor::export::{self, Format};
    use std::os::unix::fs::PermissionsExt;

    let f = Fixture::new();
    let path = f.session("s.csv", Some(&good_meta()), true);
    let report = export::Report::load(&path).expect("build the report");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let readable_by_all = |p: &Path| {
        std::fs::write(p, b"old").unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(mode(p), 0o644);
    };

    let (pdf, csv, json, register) = (
        f.path("s.summary.pdf"),
        f.path("s.summary.csv"),
        f.path("s.summary.json"),
        f.path("register.csv"),
    );
    for p in [&pdf, &csv, &json] {
        readable_by_all(p);
    }
    export::write_pdf(&pdf, &report).expect("write the PDF");
    export::write_csv(&csv, &report.summary, true).expect("write the CSV");
    export::write_json(&json, &report.summary).expect("write the JSON");
    export::append_to_register(&register, &report.summary, true).expect("create the register");
    for p in [&pdf, &csv, &json, &register] {
        assert_eq!(mode(p), 0o600, "{}", p.display());
        assert_ne!(std::fs::read(p).unwrap(), b"old", "{}", p.display());
    }

    for format in [Format::Pdf, Format::Csv, Format::Json, Format::Register] {
        let out = f.path(&format!("core-{format:?}"));
        if format != Format::Register {
            readable_by_all(&out);
        }
        export::write(format, &report, &out).expect("export::write saves");
        assert_eq!(mode(&out), 0o600, "{format:?}");
        assert_ne!(std::fs::read(&out).unwrap(), b"old", "{format:?}");
    }

    #[cfg(feature = "gui")]
    {
        use apheresis_monitor::ui::export::write;
        for format in [Format::Pdf, Format::Csv, Format::Json, Format::Register] {
            let out = f.path(&format!("window-{format:?}"));
            if format != Format::Register {
                readable_by_all(&out);
            }
            write(&report, format, &out).expect("the export window saves");
            assert_eq!(mode(&out), 0o600, "{format:?}");
        }
    }
}

#[test]
fn text_the_typeface_cannot_print_is_refused_in_the_record_and_spelled_out_in_notes() {
    // A journal written elsewhere (another program, an older version) may hold characters the
    // report's typeface has no glyph for: CJK, emoji. They must not come out as empty boxes.
    let f = Fixture::new();
    let mut meta = good_meta();
    meta.patient.as_mut().unwrap().hospital_number = Some("RX1 山田".into());
    let path = f.session("session.csv", Some(&meta), true);
    let mut recorder = Recorder::resume(&path).expect("reopen the recording");
    recorder
        .append(&entry(
            900,
            None,
            EntryBody::Note(Note {
                code: "FREE_TEXT".into(),
                text: "patient says 大丈夫 👍".into(),
            }),
        ))
        .expect("append a row");
    recorder.sync().expect("sync the recording");
    drop(recorder);
    let pdf = f.path("report.pdf");
    let file = path.to_str().unwrap();
    let output = run(&[file, "--pdf", pdf.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = pdf_text(&pdf);
    // The note keeps every character, the ones the typeface lacks as their code points.
    assert!(
        text.contains("patient says [U+5927][U+4E08][U+592B] [U+1F44D]"),
        "{text}"
    );
    // The hospital number is not printed in part: it is refused, and the record says why.
    assert!(!text.contains("RX1"), "{text}");
    assert!(
        text.contains("hospital number has characters the record cannot print"),
        "{text}"
    );
    // The JSON export keeps the note as it was written.
    let s = json(&path);
    assert_eq!(s["note_log"][1]["text"], "patient says 大丈夫 👍");
}
