//! A recording made by the app's live session is byte for byte what the headless recorder
//! writes for the same stream (times of receipt and port names aside).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use apheresis_monitor::model::{
    Alarm, MachineState, Payload, Priority, Quantity, Sample, Sentence,
};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording::SessionMeta;
use apheresis_monitor::session::{LivePlan, LiveSession};

fn pty() -> (serialport::TTYPort, String) {
    let (master, slave) = serialport::TTYPort::pair().unwrap();
    let path = serialport::SerialPort::name(&slave).unwrap();
    drop(slave);
    (master, path)
}

/// The file with the receipt times blanked and port names replaced.
fn comparable(path: &std::path::Path, port: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .split("\r\n")
        .map(|line| match line.split_once(',') {
            Some((time, rest)) if time.ends_with('Z') => {
                format!("T,{}", rest.replace(port, "PORT"))
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[test]
fn the_app_and_the_headless_recorder_write_the_same_recording() {
    let dir = tempfile::tempdir().unwrap();
    let (mut gui_master, gui_port) = pty();
    let (mut cli_master, cli_port) = pty();

    let mut live = LiveSession::start(
        LivePlan {
            port: gui_port.clone(),
            baud: 115_200,
            folder: dir.path().join("gui"),
            meta: SessionMeta::default(),
            demo: None,
            resume: None,
        },
        Box::new(|| {}),
    )
    .unwrap();
    let cli_out = dir.path().join("cli.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .args(["record", "--port", &cli_port, "--out"])
        .arg(&cli_out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));

    let payloads = [
        Payload::State(MachineState::Run),
        Payload::Sample(
            Sample::default()
                .with(Quantity::InletMlMin, 55.0)
                .with(Quantity::InletMl, 1148.2)
                .with(Quantity::AccessMmhg, -45.0),
        ),
        Payload::Alarm(Alarm {
            code: "AIR_DETECTED".into(),
            priority: Priority::High,
            active: true,
            text: "=cmd|' /C calc'!A0, air".into(),
        }),
        Payload::State(MachineState::End),
    ];
    let mut stream = String::new();
    for (i, payload) in payloads.into_iter().enumerate() {
        let seq = if i == 3 { 9 } else { i as u32 };
        stream.push_str(&encode(&Sentence {
            seq,
            t_ms: 1000 * i as u64,
            payload,
            unknown_keys: 0,
        }));
    }
    gui_master.write_all(stream.as_bytes()).unwrap();
    cli_master.write_all(stream.as_bytes()).unwrap();
    // Both stop at END.
    let status = child.wait().unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while live.finished.is_none() {
        live.drain(Duration::from_millis(50));
        assert!(
            std::time::Instant::now() < deadline,
            "the live session did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let gui = comparable(&live.recording, &gui_port);
    let cli = comparable(&cli_out, &cli_port);
    assert_eq!(gui, cli);
    assert!(gui.contains("SEQ_GAP"), "{gui}");
    assert!(gui.contains("'=cmd"), "formula not neutralised: {gui}");
}
