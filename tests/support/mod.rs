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

/// Polls `done` every 10 ms until it holds; panics, naming `what`, once `timeout` has passed.
pub fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether process `pid` holds `path` open (a symlink such as socat's is followed first).
pub fn has_open(pid: u32, path: &Path) -> bool {
    let Ok(target) = std::fs::canonicalize(path) else {
        return false;
    };
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == target))
}

/// The `record` command as a child process.
pub fn record_command(port: &str, out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"));
    command.args(["record", "--port", port, "--out"]).arg(out);
    command.stdout(Stdio::null());
    command
}

/// The `RUST_LOG` that makes the recorder log the sequence number of each sentence it has read
/// and handed to the recorder (`received seq=N`), and nothing else below warnings.
pub const RECEIVED_LOG: &str = "warn,apheresis_monitor::acquisition::worker=trace";

/// A child process whose stderr is collected line by line as it comes (a thread reads it, so
/// the child never blocks on a full pipe and nothing it wrote before dying is lost).
pub struct Watched {
    pub child: Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Watched {
    /// Spawns `command` with its stderr piped to the collector.
    pub fn spawn(mut command: Command) -> Watched {
        use std::io::BufRead as _;
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the child process");
        let stderr = child.stderr.take().unwrap();
        let lines: std::sync::Arc<std::sync::Mutex<Vec<String>>> = std::sync::Arc::default();
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).split(b'\n') {
                let Ok(line) = line else { return };
                let text = strip_ansi(&String::from_utf8_lossy(&line));
                sink.lock().unwrap().push(text);
            }
        });
        Watched {
            child,
            lines,
            reader: Some(reader),
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Everything the child has written to stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Whether some stderr line so far satisfies `found`.
    pub fn said(&self, found: impl Fn(&str) -> bool) -> bool {
        self.lines.lock().unwrap().iter().any(|l| found(l))
    }

    /// How many stderr lines so far satisfy `found`.
    pub fn count(&self, found: impl Fn(&str) -> bool) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| found(l))
            .count()
    }

    /// Waits until a stderr line satisfies `found`; panics after `timeout`, or if the child
    /// exits first.
    pub fn wait_for(&mut self, timeout: Duration, what: &str, found: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.said(&found) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.join_reader();
                assert!(
                    self.said(&found),
                    "the child exited ({status}) before {what}; stderr: {:#?}",
                    self.stderr()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; stderr: {:#?}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the recorder has opened its port and started (it says so on stderr).
    pub fn wait_recording(&mut self) {
        self.wait_for(Duration::from_secs(20), "the recorder to start", |l| {
            l.starts_with("recording ") && l.contains("Ctrl-C stops")
        });
    }

    /// The sequence numbers the recorder logged as read and handed to the recorder (with
    /// `RUST_LOG` set to [`RECEIVED_LOG`]), in order.
    pub fn received(&self) -> Vec<u32> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| received_seq(l))
            .collect()
    }

    /// Waits for the child to exit, at most `timeout` (killing it and panicking after that).
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.join_reader();
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the child did not exit within {timeout:?}; stderr: {:#?}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL, then waits for the child and for the last of its stderr.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.join_reader();
    }

    /// SIGTERM (the recorder stops cleanly), then waits at most `timeout`.
    pub fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.wait_exit(timeout)
    }

    fn join_reader(&mut self) {
        // The pipe's write end closes with the child (and anything it started), so the reader
        // ends; bounded anyway, in case a grandchild holds it.
        if let Some(reader) = self.reader.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !reader.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if reader.is_finished() {
                reader.join().unwrap();
            }
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The sequence number in a `received seq=N` log line.
pub fn received_seq(line: &str) -> Option<u32> {
    let rest = line.split_once(" received seq=")?.1;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// `text` without terminal colour sequences (`ESC [ … m`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Starts the app's live session on `port` into `destination` (a new recording or a resumed
/// one) through the one start path, and waits until its worker has the port open.
pub fn start_live(
    port: &str,
    destination: apheresis_monitor::session::Destination,
) -> apheresis_monitor::session::LiveSession {
    use apheresis_monitor::session::{LiveSession, Machine, SessionStart};
    let live = LiveSession::start(
        SessionStart {
            machine: Machine::Port {
                port: port.to_owned(),
                baud: 115_200,
            },
            destination,
            meta: SessionMeta::default(),
        },
        Box::new(|| {}),
    )
    .unwrap();
    let me = std::process::id();
    wait_until(
        Duration::from_secs(10),
        "the live session to open its port",
        || has_open(me, Path::new(port)),
    );
    live
}

/// Drains the live session until it has taken in the machine's `END`, then stops it as the
/// nurse does: the app keeps recording after `END` (for notes) until stopped, and the stop is
/// recorded as the procedure's end, as `record` records it.
pub fn wait_finished(live: &mut apheresis_monitor::session::LiveSession) {
    use apheresis_monitor::model::MachineState;
    let deadline = Instant::now() + Duration::from_secs(20);
    while live.timeline.now().state() != Some(MachineState::End) {
        live.drain(Duration::from_millis(50));
        assert!(
            Instant::now() < deadline,
            "the live session did not reach END"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    live.stop_and_wait();
    assert!(live.finished.is_some(), "the live session did not finish");
}

/// A row received `secs` seconds into a fixed test day, at machine time `secs`.
pub fn entry(secs: u64, seq: Option<u32>, body: EntryBody) -> Entry {
    Entry {
        time_utc: jiff::Timestamp::from_second(1_773_475_500 + secs as i64).expect("a valid time"),
        elapsed_ms: Some(secs * 1000),
        seq,
        body,
    }
}
