//! Helpers shared by the integration tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apheresis_monitor::acquisition::{
    AcqEvent, Acquisition, Journalist, SerialOpener, WorkerConfig,
};
use apheresis_monitor::model::{Entry, EntryBody, Payload, Sentence};
use apheresis_monitor::recording::{self, Recorder, SessionMeta};

/// Starts the real serial worker on `port`, recording to `out`.
pub fn start_worker(port: &str, out: &Path, stop_on_end: bool) -> Acquisition {
    let mut config = WorkerConfig::new(port, 115_200);
    config.stop_on_end = stop_on_end;
    let opener = SerialOpener::for_config(&config);
    Acquisition::start(
        config,
        None,
        Box::new(opener),
        Recorder::create(out).expect("create recording"),
        SessionMeta::default(),
        Journalist::new(),
        Box::new(|| {}),
    )
    .expect("start worker")
}

/// Drains events until `done` says so, or panics after `timeout`.
pub fn drain_until(
    acquisition: &Acquisition,
    timeout: Duration,
    mut done: impl FnMut(&AcqEvent) -> bool,
) -> Vec<AcqEvent> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out waiting; saw {} events",
            seen.len()
        );
        if let Ok(event) = acquisition
            .events()
            .recv_timeout(left.min(Duration::from_millis(100)))
        {
            let stop = done(&event);
            seen.push(event);
            if stop {
                return seen;
            }
        }
    }
}

/// The recording's rows that came from the machine (they carry a `seq`), as
/// `(seq, t_ms, body)`, link rows excluded.
pub fn machine_rows(path: &Path) -> Vec<(u32, u64, EntryBody)> {
    let recording = recording::load(path, |_, _| true).expect("load recording");
    assert_eq!(recording.skipped_rows, 0, "{:?}", recording.problems);
    recording
        .entries
        .into_iter()
        .filter(|e| !matches!(e.body, EntryBody::Link(_)))
        .filter_map(
            |Entry {
                 seq,
                 elapsed_ms,
                 body,
                 ..
             }| Some((seq?, elapsed_ms?, body)),
        )
        .collect()
}

/// What a sentence should look like in the recording (identities are not data rows).
pub fn expected_row(sentence: &Sentence) -> Option<(u32, u64, EntryBody)> {
    let body = match &sentence.payload {
        Payload::Identity(_) => return None,
        Payload::State(s) => EntryBody::State(*s),
        Payload::Sample(s) => EntryBody::Sample(*s),
        Payload::Alarm(a) => EntryBody::Alarm(a.clone()),
    };
    Some((sentence.seq, sentence.t_ms, body))
}

/// A pseudo-terminal pair: the master to write into, and the path of the slave side (closed
/// here, for the code under test to open as a serial port).
pub fn pty() -> (serialport::TTYPort, String) {
    let (master, slave) = serialport::TTYPort::pair().expect("pseudo-terminal pair");
    let path = serialport::SerialPort::name(&slave).expect("pseudo-terminal name");
    drop(slave);
    (master, path)
}

/// Resident memory of a process, kB (0 if it cannot be read).
pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Asks a process to stop (SIGTERM) and waits for it.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// A socat null-modem between `machine` and `monitor` symlinks: a cable to pull and plug.
pub struct NullModem {
    child: Child,
}

impl NullModem {
    pub fn plug(machine: &Path, monitor: &Path) -> NullModem {
        let child = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", machine.display()))
            .arg(format!("pty,raw,echo=0,link={}", monitor.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat must be installed (apt install socat) for the cable-pull tests");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(machine.exists() && monitor.exists()) {
            assert!(Instant::now() < deadline, "socat did not create its links");
            std::thread::sleep(Duration::from_millis(5));
        }
        NullModem { child }
    }

    /// Pulls the cable: socat is asked to stop (SIGTERM), so it removes its links as a
    /// vanished device would. (SIGKILL would leave dangling links that a new socat's devices
    /// could be reached through, which no real cable does.)
    pub fn pull(mut self) {
        terminate(&mut self.child);
    }
}

impl Drop for NullModem {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The codes of a recording's `link` rows, in order.
pub fn link_codes(path: &Path) -> Vec<apheresis_monitor::model::LinkCode> {
    recording::load(path, |_, _| true)
        .expect("load recording")
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Link(l) => Some(l.code),
            _ => None,
        })
        .collect()
}
