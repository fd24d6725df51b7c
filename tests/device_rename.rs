//! A USB-serial adapter that comes back under another name. The monitor records from the
//! adapter's by-id link; the cable is pulled (socat stopped: `ttyUSB0` vanishes) and the
//! adapter comes back as `ttyUSB1`, its by-id link following it as udev's would. The worker
//! must find it again by that link, keep recording, and say in the `LINK_RESTORED` row that
//! it is now on `ttyUSB1`.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use apheresis_monitor::acquisition::{
    AcqEvent, Acquisition, Journalist, LinkState, SerialOpener, WorkerConfig, open_serial,
};
use apheresis_monitor::model::{EntryBody, LinkCode};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording::{self, Recorder, SessionMeta};
use apheresis_monitor::simulator::{SimConfig, SimMachine};

use support::{NullModem, drain_until, expected_row, machine_rows};

/// Opens the machine's end of the null-modem once socat has made it.
fn machine_port(path: &Path) -> Box<dyn serialport::SerialPort> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match open_serial(path.to_str().unwrap(), 115_200, Duration::from_secs(1)) {
            Ok(port) => return port,
            Err(e) if Instant::now() < deadline => {
                eprintln!("machine end not ready yet: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot open the machine end: {e}"),
        }
    }
}

/// Waits until this process (the worker) holds `device` open.
fn wait_open(device: &Path) {
    support::wait_until(
        Duration::from_secs(20),
        "the worker to open the device",
        || support::has_open(std::process::id(), device),
    );
}

/// Points the by-id link at `device` (a name beside the by-id folder), as udev does.
fn point_link(link: &Path, device: &str) {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(format!("../{device}"), link).unwrap();
}

/// Sends `count` sentences of `machine` down `port` and waits until the worker has the last.
fn send_and_wait(
    machine: &mut SimMachine,
    port: &mut Box<dyn serialport::SerialPort>,
    worker: &Acquisition,
    count: usize,
    delivered: &mut Vec<apheresis_monitor::model::Sentence>,
) {
    let mut last_seq = 0;
    for _ in 0..count {
        let sentence = machine.next_sentence().unwrap();
        port.write_all(encode(&sentence).as_bytes()).unwrap();
        last_seq = sentence.seq;
        delivered.push(sentence);
    }
    drain_until(
        worker,
        Duration::from_secs(20),
        |e| matches!(e, AcqEvent::Entry(entry) if entry.seq == Some(last_seq)),
    );
}

#[test]
fn an_adapter_back_under_a_new_name_is_found_by_its_by_id_link_and_the_new_name_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let by_id = dir.path().join("by-id");
    std::fs::create_dir(&by_id).unwrap();
    let link = by_id.join("usb-Test_Adapter_SN123-if00-port0");
    let usb0: PathBuf = dir.path().join("ttyUSB0");
    let usb1: PathBuf = dir.path().join("ttyUSB1");
    let machine0 = dir.path().join("machine0");
    let machine1 = dir.path().join("machine1");
    let out = dir.path().join("session.csv");

    // The adapter is ttyUSB0, and its by-id link points there.
    let cable = NullModem::plug(&machine0, &usb0);
    point_link(&link, "ttyUSB0");

    let mut config = WorkerConfig::new(link.to_str().unwrap(), 115_200);
    config.stop_on_end = false;
    config.by_id_dir.clone_from(&by_id);
    config.silence_timeout = Duration::from_mins(10);
    let opener = SerialOpener::for_config(&config);
    let worker = Acquisition::start(
        config,
        None,
        Box::new(opener),
        Recorder::create(&out).unwrap(),
        SessionMeta::default(),
        Journalist::new(),
        Box::new(|| {}),
    )
    .unwrap();

    let mut machine = SimMachine::new(SimConfig {
        seed: 16,
        ..SimConfig::default()
    });
    let mut delivered = Vec::new();
    // Opening a port flushes it: nothing is sent before the worker has it open.
    wait_open(&usb0);
    let mut port = machine_port(&machine0);
    send_and_wait(&mut machine, &mut port, &worker, 60, &mut delivered);

    // Unplugged: ttyUSB0 and the link's device vanish.
    drop(port);
    cable.pull();
    support::wait_until(Duration::from_secs(5), "ttyUSB0 to vanish", || {
        usb0.symlink_metadata().is_err()
    });
    drain_until(&worker, Duration::from_secs(10), |e| {
        matches!(e, AcqEvent::Link(LinkState::Down { .. }))
    });

    // Plugged back: it is ttyUSB1 now (ttyUSB0 stays gone), and udev moves the by-id link.
    let cable = NullModem::plug(&machine1, &usb1);
    point_link(&link, "ttyUSB1");
    assert!(usb0.symlink_metadata().is_err());
    // The worker finds it again within its 0.5 s retry.
    wait_open(&usb1);
    // The screen hears of the new device (the banner names it).
    let usb1_name = usb1.to_str().unwrap().to_owned();
    drain_until(
        &worker,
        Duration::from_secs(10),
        |e| matches!(e, AcqEvent::Device(d) if *d == usb1_name),
    );
    let mut port = machine_port(&machine1);
    send_and_wait(&mut machine, &mut port, &worker, 60, &mut delivered);
    let report = worker.stop().unwrap();
    drop(port);
    drop(cable);
    assert_eq!(report.unwritten_rows, 0);

    // Every sentence of both connections recorded, in order.
    let expected: Vec<_> = delivered.iter().filter_map(expected_row).collect();
    assert_eq!(machine_rows(&out), expected);

    let links: Vec<_> = recording::load(&out, |_, _| true)
        .unwrap()
        .entries
        .into_iter()
        .filter_map(|e| match e.body {
            EntryBody::Link(l) => Some(l),
            _ => None,
        })
        .collect();
    let with = |code: LinkCode| -> Vec<&str> {
        links
            .iter()
            .filter(|l| l.code == code)
            .map(|l| l.text.as_str())
            .collect()
    };
    let link_text = link.to_str().unwrap();
    let usb0_text = usb0.to_str().unwrap();
    let usb1_text = usb1.to_str().unwrap();
    // The recording names the port by its stable link, and the device it was on.
    assert_eq!(
        with(LinkCode::Connected),
        [format!("{link_text} at 115200 baud; on {usb0_text}")]
    );
    assert_eq!(with(LinkCode::Lost).len(), 1, "{links:?}");
    let restored = with(LinkCode::Restored);
    assert_eq!(restored.len(), 1, "{links:?}");
    assert!(
        restored[0].ends_with(&format!("; connected on {usb1_text} (by-id {link_text})")),
        "{}",
        restored[0]
    );
    assert!(
        restored[0].starts_with("data again after "),
        "{}",
        restored[0]
    );
}
