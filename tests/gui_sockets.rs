//! The app in a real window opens no network socket: it runs the demo under Xvfb while the
//! test reads the process's open files and the kernel's socket tables. Every socket it holds
//! must be a Unix-domain socket (its display connection) or a netlink socket (the kernel's own
//! interface, e.g. for device events), no Unix socket listening, and none an IPv4/IPv6 TCP, UDP
//! or raw socket.
//!
//! Needs `Xvfb` (Debian package `xvfb`; `.ci/run` installs it). Without it the test fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when dropped, so a failed assertion leaves no window or display behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts Xvfb on a free display number; returns it and the server.
fn start_xvfb() -> (String, Killed) {
    let number = (140..240)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free X display number");
    let display = format!(":{number}");
    let server = Command::new("Xvfb")
        .args([&display, "-screen", "0", "1366x768x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb must be installed (apt install xvfb) for the window's socket test");
    let server = Killed(server);
    let socket = format!("/tmp/.X11-unix/X{number}");
    wait_until(Duration::from_secs(20), "Xvfb's socket", || {
        Path::new(&socket).exists()
    });
    (display, server)
}

/// The socket inodes among a process's open files.
fn socket_inodes(pid: u32) -> HashSet<u64> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|p| {
                    let p = p.display().to_string();
                    p.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The inodes in one of the kernel's socket tables (`/proc/<pid>/net/<table>`); the inode
/// is the column headed `inode` (`Inode` in the Unix table).
fn table_inodes(pid: u32, table: &str) -> HashSet<u64> {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
        return HashSet::new();
    };
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return HashSet::new();
    };
    let Some(column) = header
        .split_whitespace()
        .position(|h| h.eq_ignore_ascii_case("inode"))
    else {
        return HashSet::new();
    };
    lines
        .filter_map(|l| l.split_whitespace().nth(column)?.parse().ok())
        .collect()
}

/// Unix sockets in the listening state (flag `__SO_ACCEPTCON`, 0x10000, in `/proc/net/unix`).
fn listening_unix_inodes(pid: u32) -> HashSet<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/unix")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let flags = u32::from_str_radix(cols.get(3)?, 16).ok()?;
            (flags & 0x0001_0000 != 0).then(|| cols.get(6)?.parse().ok())?
        })
        .collect()
}

#[test]
fn the_window_running_the_demo_holds_no_network_socket_and_listens_on_nothing() {
    let (display, _xvfb) = start_xvfb();
    let data = tempfile::tempdir().unwrap();
    let app = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .args(["gui", "--demo", "--speed", "60"])
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_DATA_HOME", data.path())
        .env("XDG_CONFIG_HOME", data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = app.id();
    let mut app = Killed(app);

    // Running means: the window is connected and the demo is being recorded.
    let recording_grew = || {
        walk_csv_len(data.path()) > 2_000
            && !socket_inodes(pid).is_empty()
            && app.0.try_wait().ok().flatten().is_none()
    };
    wait_until(
        Duration::from_mins(2),
        "the window to run the demo",
        recording_grew,
    );
    assert!(
        app.0.try_wait().unwrap().is_none(),
        "the app exited while starting"
    );

    // Look several times while the demo runs: sockets may come and go.
    let mut looked = 0;
    for _ in 0..10 {
        let held = socket_inodes(pid);
        let unix = table_inodes(pid, "unix");
        let listening = listening_unix_inodes(pid);
        for table in [
            "tcp", "tcp6", "udp", "udp6", "raw", "raw6", "udplite", "udplite6",
        ] {
            let network = table_inodes(pid, table);
            let open: Vec<_> = held.intersection(&network).collect();
            assert!(open.is_empty(), "the app holds {table} sockets {open:?}");
        }
        // A socket opened or closed between reading the files and reading the tables is
        // looked up again; one that is still held and still in no table is a failure.
        let netlink = table_inodes(pid, "netlink");
        let unknown: Vec<u64> = held
            .iter()
            .filter(|i| !unix.contains(i) && !netlink.contains(i))
            .copied()
            .collect();
        if !unknown.is_empty() {
            let held_now = socket_inodes(pid);
            let (unix, netlink) = (table_inodes(pid, "unix"), table_inodes(pid, "netlink"));
            let still: Vec<_> = unknown
                .iter()
                .filter(|i| held_now.contains(i) && !unix.contains(i) && !netlink.contains(i))
                .collect();
            assert!(
                still.is_empty(),
                "the app holds sockets that are neither Unix-domain nor netlink: {still:?}"
            );
        }
        let listens: Vec<_> = held.intersection(&listening).collect();
        assert!(
            listens.is_empty(),
            "the app listens on Unix sockets {listens:?}"
        );
        looked += usize::from(!held.is_empty());
        std::thread::sleep(Duration::from_millis(200));
    }
    // The display connection is a socket: seeing none would mean the test looked at nothing.
    assert!(looked >= 5, "saw the app's sockets only {looked} times");
    assert!(app.0.try_wait().unwrap().is_none(), "the app exited");
}

/// The total size of the `.csv` files under `dir` (the demo's recording).
fn walk_csv_len(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk_csv_len(&path)
            } else if path.extension().is_some_and(|x| x == "csv") {
                e.metadata().map_or(0, |m| m.len())
            } else {
                0
            }
        })
        .sum()
}
