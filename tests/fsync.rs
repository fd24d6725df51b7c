//! "fdatasync at least once a second while there is unsynced data, and not once a row": measured
//! on the real headless recorder, as a child process under `strace`, fed by a pseudo-terminal.
//!
//! strace stamps every `write` and `fdatasync`/`fsync` the recorder makes on its recording
//! (`-y` names the file behind each descriptor, so the metadata file's syncs are told apart).
//! From those stamps alone the test computes how long each row waited for a sync that started
//! after it was written: the most a power cut could take. strace is required: without it the
//! test fails (CI installs it), it does not skip.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure should stop the test

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apheresis_monitor::model::{Payload, Quantity, Sample, Sentence};
use apheresis_monitor::protocol::encode;

const BIN: &str = env!("CARGO_BIN_EXE_apheresis-monitor");

/// The promise: no row waits longer than this for `fdatasync` (`recording::SYNC_INTERVAL`).
const PROMISED: f64 = 1.0;
/// Allowed on top of it: the worker looks at the clock after each read (≤ 50 ms, its read
/// timeout), plus scheduling on a loaded 2-core machine with strace stopping the process at
/// every system call.
const TOLERANCE: f64 = 0.5;
/// How long the machine sends, and how often.
const FEED: Duration = Duration::from_secs(6);
const EVERY: Duration = Duration::from_millis(20);
/// Quiet time after the last sentence, before the recorder is stopped: its last rows must be
/// synced by the once-a-second sync, not by the sync at exit.
const QUIET: Duration = Duration::from_millis(2500);

/// A pseudo-terminal from `tests/support`, with writes allowed to wait for a slow reader.
fn pty() -> (serialport::TTYPort, String) {
    let (mut master, path) = support::pty();
    serialport::SerialPort::set_timeout(&mut master, Duration::from_secs(10)).unwrap();
    (master, path)
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn sentence(seq: u32) -> String {
    encode(&Sentence {
        seq,
        t_ms: u64::from(seq) * 20,
        payload: Payload::Sample(Sample::default().with(Quantity::InletMl, f64::from(seq))),
        unknown_keys: 0,
    })
}

/// The recorder strace started: its child running `BIN` (strace also forks short-lived
/// children of its own at start, to probe what the kernel supports).
fn traced_recorder(strace: u32, timeout: Duration) -> u32 {
    let deadline = Instant::now() + timeout;
    loop {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(proc_stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // "pid (comm) state ppid …": comm may hold anything, so read after the last ')'.
            let parent = proc_stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            let program = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let program = program.split(|&b| b == 0).next().unwrap_or_default();
            if parent == Some(strace) && program == BIN.as_bytes() {
                return pid;
            }
        }
        assert!(
            Instant::now() < deadline,
            "strace did not start the recorder"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn complete_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.matches('\n').count())
}

/// One system call on the recording, from the trace: (time, is it a sync).
fn calls_on(trace: &str, recording: &Path) -> Vec<(f64, bool)> {
    let tag = format!("<{}>", recording.display());
    trace
        .lines()
        .filter_map(|line| {
            // "PID SECONDS.MICROS call(FD</path>, …", the pid padded to five columns: the
            // start of a call (a call cut in two by another thread's shows the path on its
            // first half only).
            let (_pid, rest) = line.trim_start().split_once(' ')?;
            let (time, call) = rest.trim_start().split_once(' ')?;
            let time: f64 = time.parse().ok()?;
            let (name, args) = call.split_once('(')?;
            // The descriptor, then its file: "5</path>".
            let file = &args[args.find('<')?..];
            if !file.starts_with(&tag) {
                return None;
            }
            match name {
                "write" => Some((time, false)),
                "fdatasync" | "fsync" => Some((time, true)),
                _ => None,
            }
        })
        .collect()
}

/// How long the slowest `fdatasync` took, from strace's `<seconds>` at the end of a finished
/// call (only the recorder's data syncs use `fdatasync`; the metadata uses `fsync`).
fn slowest_fdatasync(trace: &str) -> f64 {
    trace
        .lines()
        .filter(|line| line.contains("fdatasync(") || line.contains("<... fdatasync resumed>"))
        .filter_map(|line| {
            line.rsplit_once('<')?
                .1
                .strip_suffix('>')?
                .parse::<f64>()
                .ok()
        })
        .fold(0.0, f64::max)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_recording_is_fdatasynced_at_least_once_a_second_while_data_arrives_and_not_once_a_row() {
    let version = Command::new("strace").arg("-V").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "this test needs strace to see the recorder's fdatasync calls: \
         `apt-get install strace` ({version:?})"
    );
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let out = dir_path.join("session.csv");
    let trace_path = dir_path.join("trace.txt");
    let stderr_path = dir_path.join("stderr.txt");
    let (master, port) = pty();

    let strace = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-ttt",
            "-T",
            "-y",
            "-s",
            "0",
            "-e",
            "signal=none",
        ])
        .args(["-e", "trace=write,fdatasync,fsync", "-o"])
        .arg(&trace_path)
        .arg(BIN)
        .args(["record", "--port", &port, "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("start strace");
    let mut strace = KillOnDrop(strace);
    let recorder = traced_recorder(strace.0.id(), Duration::from_secs(30));
    let stderr = || std::fs::read_to_string(&stderr_path).unwrap_or_default();

    // Ready once the header and the CONNECTED row are on disk: the port was opened before.
    let deadline = Instant::now() + Duration::from_secs(30);
    while complete_lines(&out) < 2 {
        if let Some(status) = strace.0.try_wait().unwrap() {
            panic!("the recorder under strace exited ({status}): {}", stderr());
        }
        assert!(
            Instant::now() < deadline,
            "the recorder did not start: {}",
            stderr()
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // The machine sends a sentence every 20 ms, on a thread of its own: a write into a line
    // nobody reads can block in the kernel, and the test must fail, not hang.
    let (fed_tx, fed) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let mut master = master;
        let feed_start = now_s();
        let started = Instant::now();
        let mut sent = 0u32;
        while started.elapsed() < FEED {
            sent += 1;
            if let Err(e) = master.write_all(sentence(sent).as_bytes()) {
                let _ = fed_tx.send(Err(e));
                return;
            }
            std::thread::sleep(EVERY);
        }
        // The line stays open (handed back) until the recorder has stopped.
        let _ = fed_tx.send(Ok((master, sent, feed_start, now_s())));
    });
    let (_line, sent, feed_start, feed_end) = fed
        .recv_timeout(FEED + Duration::from_secs(30))
        .expect("the recorder stopped reading the port: a write waited 30 s")
        .expect("the recorder stopped reading the port");
    // All of it recorded (header, CONNECTED, one row a sentence), then a quiet spell.
    let deadline = Instant::now() + Duration::from_secs(30);
    while complete_lines(&out) < 2 + sent as usize {
        assert!(Instant::now() < deadline, "not every sentence was recorded");
        std::thread::sleep(Duration::from_millis(10));
    }
    let quiet_start = Instant::now();
    while quiet_start.elapsed() < QUIET {
        std::thread::sleep(QUIET.saturating_sub(quiet_start.elapsed()));
    }
    let stop_time = now_s();
    let killed = Command::new("kill")
        .args(["-TERM", &recorder.to_string()])
        .status()
        .unwrap();
    assert!(killed.success(), "cannot stop the recorder, pid {recorder}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = strace.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the recorder did not stop");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "recorder: {status}: {}", stderr());

    let trace = std::fs::read_to_string(&trace_path).unwrap();
    let calls = calls_on(&trace, &out);
    let writes: Vec<f64> = calls.iter().filter(|c| !c.1).map(|c| c.0).collect();
    let syncs: Vec<f64> = calls.iter().filter(|c| c.1).map(|c| c.0).collect();
    // Header, CONNECTED, the sentences and RECORDING_CLOSED, each in one write.
    assert_eq!(
        writes.len(),
        sent as usize + 3,
        "writes on the recording in the trace (strace working?): {}",
        stderr()
    );

    // Every row waits at most PROMISED + TOLERANCE for a sync that starts after its write.
    let mut ages = Vec::new();
    for &written in &writes {
        let synced = syncs.iter().find(|&&s| s > written);
        let synced = synced.unwrap_or_else(|| panic!("the write at {written} is never synced"));
        ages.push(synced - written);
    }
    let worst_age = ages.iter().copied().fold(0.0, f64::max);

    // While data arrives: gaps between syncs, and how many there are.
    let during: Vec<f64> = syncs
        .iter()
        .copied()
        .filter(|&s| s >= feed_start && s <= feed_end)
        .collect();
    let mut gaps: Vec<f64> = during.windows(2).map(|w| w[1] - w[0]).collect();
    let worst_gap = gaps.iter().copied().fold(0.0, f64::max);
    let feed_secs = feed_end - feed_start;
    let median_gap = median(&mut gaps);
    let last_data_write = writes[writes.len() - 2]; // before RECORDING_CLOSED
    let idle_syncs = syncs
        .iter()
        .filter(|&&s| s > last_data_write + PROMISED + TOLERANCE && s < stop_time)
        .count();
    let slowest = slowest_fdatasync(&trace);
    eprintln!(
        "{sent} sentences over {feed_secs:.2} s; {} syncs while they arrived; gap between \
         syncs median {median_gap:.3} s, max {worst_gap:.3} s; longest a row waited for a sync \
         {worst_age:.3} s; {} syncs in all, {idle_syncs} while idle; slowest fdatasync \
         {slowest:.3} s",
        during.len(),
        syncs.len()
    );

    assert!(
        worst_age <= PROMISED + TOLERANCE,
        "a row waited {worst_age:.3} s for fdatasync to start (the slowest took {slowest:.3} s: \
         a sync starts only when the one before has finished)"
    );
    assert!(
        worst_gap <= PROMISED + TOLERANCE,
        "{worst_gap:.3} s between syncs while data arrived"
    );
    // About one a second: not one a row (a storm), nor drifting towards a longer interval.
    assert!(
        (0.9..=1.2).contains(&median_gap),
        "median gap between syncs {median_gap:.3} s"
    );
    let most = (feed_secs / PROMISED).floor() as usize + 2;
    assert!(
        during.len() <= most && during.len() + 1 >= (feed_secs / (PROMISED + TOLERANCE)) as usize,
        "{} syncs in {feed_secs:.2} s of data ({sent} rows)",
        during.len()
    );
    // Once everything is synced, nothing more until the exit.
    assert_eq!(idle_syncs, 0, "syncs while there was nothing to sync");
}

#[test]
fn the_trace_reader_finds_the_calls_on_the_recording_only() {
    let trace = "\
1855  1796061618.062395 write(4</tmp/ft/s.csv>, \"\"..., 227) = 227
1855  1796061618.062539 fsync(4</tmp/ft/s.csv>) = 0 <0.000120>
1855  1796061618.062966 fsync(5</tmp/ft>) = 0
1858  1796061618.066574 write(6</tmp/ft/s.session.json.tmp>, \"\"..., 76) = 76
1856  1796061619.106352 fdatasync(5</tmp/ft/s.csv>) = 0 <0.000210>
1858  1796061621.126800 fdatasync(4</tmp/ft/s.csv> <unfinished ...>
12345 1796061621.126824 write(4</tmp/ft/s.csv>, \"\"..., 85 <unfinished ...>
1858  1796061621.127134 <... fdatasync resumed>) = 0 <0.000334>
1855  1796061621.127839 write(1</tmp/ft/s.csv.txt>, \"\"..., 43) = 43
1855  1796061621.127906 +++ exited with 0 +++
";
    assert_eq!(
        calls_on(trace, Path::new("/tmp/ft/s.csv")),
        [
            (1_796_061_618.062_395, false),
            (1_796_061_618.062_539, true),
            (1_796_061_619.106_352, true),
            (1_796_061_621.126_8, true),
            (1_796_061_621.126_824, false),
        ]
    );
    assert_eq!(slowest_fdatasync(trace), 0.000_334);
}
