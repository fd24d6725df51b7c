//! The app's live session and the headless `record` command start a recording the same way,
//! through `session::SessionStart` (open the port, create the recording or take back an
//! interrupted one, work out where the journal resumes), and share the serial worker and the
//! recorder. These tests run both on the same stream, new and resumed, and compare the files
//! byte for byte (times of receipt, port names and outage lengths aside), and check what both
//! must say against values worked out here: so the one start path stays one.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use apheresis_monitor::model::{
    Alarm, MachineState, Payload, Priority, Quantity, Sample, Sentence,
};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording::meta_path_for;
use apheresis_monitor::session::{Destination, LiveSession};

use support::{RECEIVED_LOG, Watched, pty, record_command, wait_finished, wait_until};

/// The file with the receipt times blanked, port names replaced and outage lengths blanked.
fn comparable(path: &Path, ports: &[&str]) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .split("\r\n")
        .map(|line| {
            let mut line = match line.split_once(',') {
                Some((time, rest)) if time.ends_with('Z') => format!("T,{rest}"),
                _ => line.to_owned(),
            };
            for port in ports {
                line = line.replace(port, "PORT");
            }
            // "data again after 1.3 s": how long the link was down depends on when each
            // recorder started.
            if let Some((head, tail)) = line.split_once("data again after ")
                && let Some((_, rest)) = tail.split_once(" s")
            {
                line = format!("{head}data again after N s{rest}");
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn stream(sentences: &[(u32, Payload)]) -> String {
    sentences
        .iter()
        .map(|(seq, payload)| {
            encode(&Sentence {
                seq: *seq,
                t_ms: 1000 * u64::from(*seq),
                payload: payload.clone(),
                unknown_keys: 0,
            })
        })
        .collect()
}

fn sample(inlet_ml: f64) -> Payload {
    Payload::Sample(
        Sample::default()
            .with(Quantity::InletMlMin, 55.0)
            .with(Quantity::InletMl, inlet_ml)
            .with(Quantity::AccessMmhg, -45.0),
    )
}

/// Starts the app's live session on `port`, recording in `folder` (or resuming `resume`).
fn start_live(port: &str, folder: &Path, resume: Option<PathBuf>) -> LiveSession {
    support::start_live(
        port,
        match resume {
            Some(path) => Destination::Resume(path),
            None => Destination::NewIn(folder.to_owned()),
        },
    )
}

#[test]
fn the_app_and_the_headless_recorder_write_the_same_recording() {
    let dir = tempfile::tempdir().unwrap();
    let (mut gui_master, gui_port) = pty();
    let (mut cli_master, cli_port) = pty();
    let mut live = start_live(&gui_port, &dir.path().join("gui"), None);
    let cli_out = dir.path().join("cli.csv");
    let mut child = Watched::spawn(record_command(&cli_port, &cli_out));
    child.wait_recording();

    let bytes = stream(&[
        (0, Payload::State(MachineState::Run)),
        (1, sample(1148.2)),
        (
            2,
            Payload::Alarm(Alarm {
                code: "AIR_DETECTED".into(),
                priority: Priority::High,
                active: true,
                text: "=cmd|' /C calc'!A0, air".into(),
            }),
        ),
        (9, Payload::State(MachineState::End)),
    ]);
    gui_master.write_all(bytes.as_bytes()).unwrap();
    cli_master.write_all(bytes.as_bytes()).unwrap();
    // `record` stops at END; the app when stopped after END.
    assert!(child.wait_exit(Duration::from_secs(20)).success());
    wait_finished(&mut live);
    let gui = comparable(&live.recording, &[&gui_port]);
    let cli = comparable(&cli_out, &[&cli_port]);
    assert_eq!(gui, cli);
    assert!(gui.contains("SEQ_GAP"), "{gui}");
    assert!(gui.contains("'=cmd"), "formula not neutralised: {gui}");
}

#[test]
fn the_app_and_the_headless_recorder_resume_an_interrupted_recording_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    // An interrupted recording: the headless recorder killed after seq 4.
    let (mut first_master, first_port) = pty();
    let original = dir.path().join("original.csv");
    let mut command = record_command(&first_port, &original);
    command.env("RUST_LOG", RECEIVED_LOG).env("NO_COLOR", "1");
    let mut first = Watched::spawn(command);
    first.wait_recording();
    let before: Vec<(u32, Payload)> = [(0, Payload::State(MachineState::Run))]
        .into_iter()
        .chain((1..=4).map(|seq| (seq, sample(100.0 * f64::from(seq)))))
        .collect();
    first_master.write_all(stream(&before).as_bytes()).unwrap();
    wait_until(Duration::from_secs(10), "seq 4 to be received", || {
        first.received().contains(&4)
    });
    first.kill();

    // The same interrupted recording (and its metadata) for each of the two.
    let copy = |name: &str| {
        let folder = dir.path().join(name);
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join("session.csv");
        std::fs::copy(&original, &path).unwrap();
        std::fs::copy(meta_path_for(&original), meta_path_for(&path)).unwrap();
        path
    };
    let (gui_path, cli_path) = (copy("gui"), copy("cli"));

    let (mut gui_master, gui_port) = pty();
    let (mut cli_master, cli_port) = pty();
    let mut live = start_live(&gui_port, &dir.path().join("gui"), Some(gui_path.clone()));
    let mut command = record_command(&cli_port, &cli_path);
    command.arg("--resume");
    let mut child = Watched::spawn(command);
    child.wait_recording();

    // The machine went on while nobody listened: seq 5 to 8 were never heard.
    let after = stream(&[
        (9, sample(900.0)),
        (10, sample(1000.0)),
        (11, Payload::State(MachineState::End)),
    ]);
    gui_master.write_all(after.as_bytes()).unwrap();
    cli_master.write_all(after.as_bytes()).unwrap();
    assert!(child.wait_exit(Duration::from_secs(20)).success());
    wait_finished(&mut live);
    assert_eq!(
        live.recording, gui_path,
        "the app did not resume into the file"
    );

    let ports = [first_port.as_str(), gui_port.as_str(), cli_port.as_str()];
    let gui = comparable(&gui_path, &ports);
    let cli = comparable(&cli_path, &ports);
    assert_eq!(gui, cli);
    // What both must hold: the rows from before the crash as they were, then the resume.
    let kept = comparable(&original, &ports);
    assert!(
        gui.starts_with(&kept),
        "the rows before the crash changed:\n{gui}"
    );
    let appended: Vec<&str> = gui[kept.len()..]
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    // seq | kind | state | code of each appended row.
    let kinds: Vec<String> = appended
        .iter()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            [cells[2], cells[3], cells[4], cells[19]].join("|")
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "|link||RECORDING_RESUMED",
            "|link||CONNECTED",
            "|link||LINK_RESTORED",
            "9|sample||",
            "10|sample||",
            "11|state|END|",
            "|link||RECORDING_CLOSED"
        ],
        "{gui}"
    );
    // 9 - 4 - 1 sentences were missed.
    assert!(
        appended[2].contains("4 sentences sent while disconnected"),
        "{}",
        appended[2]
    );
}
