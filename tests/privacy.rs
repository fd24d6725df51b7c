//! Patient data stays private: no patient id or note text in the logs, even at TRACE; the
//! session folder and its files are owner-only; the recorder opens no network socket.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apheresis_monitor::acquisition::LinkState;
use apheresis_monitor::model::{Alarm, Note, Payload, Priority, Quantity, Sample, Sentence};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording::SessionMeta;
use apheresis_monitor::recording::meta::PatientMeta;
use apheresis_monitor::session::{Destination, LiveSession, Machine, SessionStart};

const PATIENT_ID: &str = "PSEUDO-4711-SECRET";
const NOTE_TEXT: &str = "NOTE-TEXT-SECRET perioral tingling";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Takes in the session's events until `done` says so, or fails after 10 s.
fn wait_for(live: &mut LiveSession, what: &str, done: impl Fn(&LiveSession) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(live) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        live.drain(Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn no_patient_id_or_note_text_reaches_the_logs_and_files_are_owner_only() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("sessions/nested");
    let (mut master, port) = support::pty();
    let meta = SessionMeta {
        patient: Some(PatientMeta {
            id: Some(PATIENT_ID.into()),
            weight_kg: Some(70.0.into()),
            ..PatientMeta::default()
        }),
        ..SessionMeta::default()
    };
    let mut live = LiveSession::start(
        SessionStart {
            machine: Machine::Port {
                port: port.clone(),
                baud: 115_200,
            },
            destination: Destination::NewIn(folder.clone()),
            meta,
        },
        Box::new(|| {}),
    )
    .unwrap();
    // The worker has the port open once it reports the link.
    // The worker runs in this process: the port is open once one of our files is it.
    let port_open = || {
        std::fs::read_dir("/proc/self/fd").is_ok_and(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .any(|p| p == std::path::Path::new(&port))
        })
    };
    wait_for(&mut live, "the port to open", |_| port_open());
    live.add_note(Note {
        code: "TINGLING".into(),
        text: NOTE_TEXT.into(),
    });
    for (seq, payload) in [
        Payload::Sample(Sample::default().with(Quantity::InletMlMin, 55.0)),
        Payload::Alarm(Alarm {
            code: "AIR_DETECTED".into(),
            priority: Priority::High,
            active: true,
            text: "air".into(),
        }),
    ]
    .into_iter()
    .enumerate()
    {
        let wire = encode(&Sentence {
            seq: seq as u32,
            t_ms: seq as u64 * 1000,
            payload,
            unknown_keys: 0,
        });
        master.write_all(wire.as_bytes()).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while live.timeline.notes.is_empty() || live.timeline.alarms.is_empty() {
        live.drain(Duration::from_millis(10));
        let _ = live.update_alarms(
            jiff::Timestamp::now(),
            apheresis_monitor::alarms::AlarmSettings::default(),
        );
        assert!(
            Instant::now() < deadline,
            "the session did not take in the data"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // A cable pull and a summary export log as well.
    drop(master);
    wait_for(&mut live, "the link to be lost", |live| {
        matches!(live.link.state, LinkState::Down { .. })
    });
    live.stop_and_wait();
    let report = apheresis_monitor::export::Report::load(&live.recording).unwrap();
    apheresis_monitor::export::write_pdf(&dir.path().join("summary.pdf"), &report).unwrap();

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("serial link lost"),
        "the logs were not captured: {text}"
    );
    assert!(
        !text.contains(PATIENT_ID),
        "the patient id is in the logs:\n{text}"
    );
    assert!(
        !text.contains("NOTE-TEXT-SECRET"),
        "a note is in the logs:\n{text}"
    );

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&dir.path().join("sessions")), 0o700);
    assert_eq!(mode(&live.recording), 0o600);
    assert_eq!(
        mode(&apheresis_monitor::recording::meta_path_for(
            &live.recording
        )),
        0o600
    );
    assert_eq!(mode(&dir.path().join("summary.pdf")), 0o600);
}

#[test]
fn the_headless_recorder_opens_no_socket() {
    let dir = tempfile::tempdir().unwrap();
    let (_master, port) = support::pty();
    let mut child = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .args(["record", "--port", &port, "--out"])
        .arg(dir.path().join("s.csv"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Look once the recorder is running: it holds the port and its recording open.
    let fds = || -> Vec<String> {
        std::fs::read_dir(format!("/proc/{}/fd", child.id()))
            .map(|dir| {
                dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                    .map(|p| p.display().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let fds = loop {
        let fds = fds();
        if fds.contains(&port) && fds.iter().any(|f| f.ends_with("s.csv")) {
            break fds;
        }
        assert!(
            Instant::now() < deadline,
            "the recorder did not open its port and recording: {fds:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        fds.iter().all(|f| !f.starts_with("socket:")),
        "the recorder has a socket open: {fds:?}"
    );
}
