//! A change to the patient's details during a live session leaves a trail, end to end: the
//! session runs on a pseudo-terminal through the real worker and recorder, the nurse's edit
//! goes through `LiveSession::edit_meta`, and the recording, the metadata file and every
//! summary output are read back from disk.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use apheresis_monitor::analysis::Figure;
use apheresis_monitor::export::{self, REGISTER_COLUMNS, Report};
use apheresis_monitor::model::{EntryBody, MachineState, Payload, Quantity, Sample, Sentence};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording::meta::{PatientMeta, TargetsMeta, read_meta};
use apheresis_monitor::recording::{self, SessionMeta};
use apheresis_monitor::session::{Destination, LiveSession, Machine, SessionStart};
use serde_json::Value;

/// Takes in the session's events until `done` says so, or fails after 10 s.
fn wait_for(live: &mut LiveSession, what: &str, done: impl Fn(&LiveSession) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(live) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        live.drain(Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(5));
    }
}

struct Machine1 {
    master: serialport::TTYPort,
    seq: u32,
}

impl Machine1 {
    fn send(&mut self, t_ms: u64, payload: Payload) {
        let wire = encode(&Sentence {
            seq: self.seq,
            t_ms,
            payload,
            unknown_keys: 0,
        });
        self.seq += 1;
        self.master.write_all(wire.as_bytes()).unwrap();
    }

    /// A sample in RUN: AC 4 mL/min.
    fn sample(&mut self, t_ms: u64) {
        let inlet_ml = t_ms as f64 / 1000.0;
        self.send(
            t_ms,
            Payload::Sample(
                Sample::default()
                    .with(Quantity::InletMlMin, 48.0)
                    .with(Quantity::AcMlMin, 4.0)
                    .with(Quantity::InletMl, inlet_ml)
                    .with(Quantity::AcMl, 0.0),
            ),
        );
    }
}

fn last_sample_ms(live: &LiveSession) -> Option<f64> {
    live.timeline.x_range().map(|(_, last)| last * 1000.0)
}

#[test]
fn a_weight_changed_mid_run_is_recorded_with_its_time_and_the_summary_says_which_it_used() {
    let dir = tempfile::tempdir().unwrap();
    let (master, port) = support::pty();
    let meta = SessionMeta {
        patient: Some(PatientMeta {
            id: Some("P-TRAIL".into()),
            weight_kg: Some(80.0.into()),
            height_cm: Some(178.0.into()),
            sex: Some("male".into()),
            ..PatientMeta::default()
        }),
        targets: Some(TargetsMeta {
            tbv_processed: Some(2.5.into()),
            ..TargetsMeta::default()
        }),
        ..SessionMeta::default()
    };
    let mut live = LiveSession::start(
        SessionStart {
            machine: Machine::Port {
                port: port.clone(),
                baud: 115_200,
            },
            destination: Destination::NewIn(dir.path().to_owned()),
            meta,
        },
        Box::new(|| {}),
    )
    .unwrap();
    support::wait_until(Duration::from_secs(10), "the worker opens the port", || {
        support::has_open(std::process::id(), std::path::Path::new(&port))
    });
    let mut machine = Machine1 { master, seq: 0 };
    machine.send(0, Payload::State(MachineState::Run));
    for t in 0..=5 {
        machine.sample(t * 1000);
    }
    wait_for(&mut live, "the samples up to 5 s", |l| {
        last_sample_ms(l) == Some(5000.0)
    });

    // The nurse corrects 80 kg to 40 kg at machine time 5 s; saving 40 kg again is no change.
    live.edit_meta(|meta| meta.patient.as_mut().unwrap().weight_kg = Some(40.0.into()));
    live.edit_meta(|meta| meta.patient.as_mut().unwrap().weight_kg = Some(Value::from(40)));
    wait_for(&mut live, "the change note", |l| {
        l.timeline.notes.iter().any(|n| n.code == "PATIENT_CHANGED")
    });
    for t in 6..=10 {
        machine.sample(t * 1000);
    }
    machine.send(10_000, Payload::State(MachineState::End));
    wait_for(&mut live, "the samples up to 10 s", |l| {
        last_sample_ms(l) == Some(10_000.0)
    });
    live.stop_and_wait();

    // The recording has one PATIENT_CHANGED row, at the machine time the change was made,
    // between the samples before and after it. Nadler, male, 178 cm: 0.3669 × 1.78³
    // = 2.0692250088; 80 kg: + 2.5752 + 0.6041 = 5.2485 L → 5249 mL; 40 kg: + 1.2876 + 0.6041
    // = 3.9609 L → 3961 mL.
    let loaded = recording::load(&live.recording, |_, _| true).unwrap();
    let rows: Vec<(Option<u64>, &EntryBody)> = loaded
        .entries
        .iter()
        .map(|e| (e.elapsed_ms, &e.body))
        .collect();
    let changes: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, (_, body))| matches!(body, EntryBody::Note(n) if n.code == "PATIENT_CHANGED"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(changes.len(), 1, "{rows:?}");
    let at = changes[0];
    let EntryBody::Note(note) = rows[at].1 else {
        unreachable!()
    };
    assert_eq!(
        note.text,
        "patient.weight_kg: 80 -> 40; tbv_ml: 5249 -> 3961"
    );
    assert_eq!(rows[at].0, Some(5000), "the machine time of the change");
    let sample_at = |i: usize| match rows[i] {
        (t, EntryBody::Sample(_)) => t,
        _ => None,
    };
    assert_eq!(sample_at(at - 1), Some(5000));
    assert_eq!(sample_at(at + 1), Some(6000));

    // The metadata holds the details as last saved, and how the TBV was arrived at.
    let saved = read_meta(&live.recording).unwrap().unwrap();
    let patient = saved.patient.unwrap();
    assert_eq!(patient.weight_kg.and_then(|w| w.as_f64()), Some(40.0));
    assert_eq!(patient.tbv_method, Some(Value::from("nadler")));

    // The summary uses 40 kg for the whole run and says so: AC 4 mL/min × 21.3 ÷ 40 = 2.13.
    let report = Report::load(&live.recording).unwrap();
    let s = &report.summary;
    let citrate = s.number(Figure::CitrateMeanMgKgMin).unwrap();
    assert!((citrate - 2.13).abs() < 1e-9, "{citrate}");
    let weight_notice = "The weight changed during the session (from 80 to 40 kg; see the \
        PATIENT_CHANGED notes): the citrate figures (per kg) are computed for the whole \
        session with the weight last saved, 40 kg.";
    let tbv_notice = "The TBV changed during the session (from 5249 to 3961 mL): TBV processed is \
        computed with the TBV last saved, 3961 mL (Nadler).";
    assert_eq!(s.notices, [weight_notice, tbv_notice]);

    // Every output carries the notice and the method.
    let json: Value = serde_json::from_str(&export::to_json(s)).unwrap();
    assert_eq!(json["tbv_method"], "nadler");
    assert_eq!(json["notices"][0], weight_notice);
    let text = export::render_text(s);
    assert!(
        text.contains(&format!("Notices:\n  {weight_notice}\n")),
        "{text}"
    );
    let tbv_line = text.lines().find(|l| l.starts_with("TBV ")).unwrap();
    assert!(tbv_line.ends_with("3961 mL (Nadler)"), "{tbv_line:?}");
    let csv = export::csv_header_and_row(s);
    let mut rows = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_slice())
        .into_records()
        .map(Result::unwrap);
    let (header, row) = (rows.next().unwrap(), rows.next().unwrap());
    assert_eq!(header.iter().collect::<Vec<_>>(), REGISTER_COLUMNS);
    let cell =
        |name: &str| row[REGISTER_COLUMNS.iter().position(|c| *c == name).unwrap()].to_owned();
    assert_eq!(cell("tbv_method"), "nadler");
    assert_eq!(cell("notices"), format!("{weight_notice} | {tbv_notice}"));
    assert!(cell("note_log").contains("PATIENT_CHANGED: patient.weight_kg: 80 -> 40"));
    let pdf = dir.path().join("summary.pdf");
    export::write_pdf(&pdf, &report).unwrap();
    let extracted = Command::new("pdftotext")
        .args([pdf.as_os_str(), "-".as_ref()])
        .output()
        .expect("pdftotext reads the PDF (apt-get install poppler-utils)");
    let pdf_text = String::from_utf8_lossy(&extracted.stdout).replace('\n', " ");
    assert!(pdf_text.contains("Notices:"), "{pdf_text}");
    assert!(pdf_text.contains("3961 mL (Nadler)"), "{pdf_text}");
    assert!(pdf_text.contains("weight last saved, 40 kg"), "{pdf_text}");
}
