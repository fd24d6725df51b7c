//! `record --publish` against a real broker (mosquitto, started by the tests on free loopback
//! ports with a password file and per-bed ACLs; no mock): several bedsides publishing, one
//! killed and shown offline, the broker down and back without a row lost, a wrong password,
//! another bed's topic refused by the ACL, TLS with the test's CA (and a wrong one), and a
//! bedside resumed after a crash publishing the whole session's figures.
#![cfg(unix)] // simulated machines on pseudo-terminals (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/broker.rs"]
mod broker;
mod support;

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apheresis_monitor::model::{LinkCode, Payload};
use apheresis_monitor::recording;
use apheresis_monitor::simulator::{SimConfig, SimMachine};
use broker::{Broker, Watcher};
use support::{RECEIVED_LOG, Watched, record_command, wait_until};

/// A simulated machine on a pseudo-terminal (`simulate --pty`), killed on drop.
struct Machine {
    child: Child,
    port: String,
}

impl Machine {
    fn start(seed: u64) -> Machine {
        let mut child = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
            .args(["simulate", "--pty", "--speed", "20", "--hz", "2", "--seed"])
            .arg(seed.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Machine {
            child,
            port: line.trim().to_owned(),
        }
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `record --publish URL --bed BED` on `machine`, the password in the environment.
fn recorder(machine: &Machine, out: &Path, url: &str, bed: &str, password: &str) -> Watched {
    let mut command = record_command(&machine.port, out);
    command
        .args(["--publish", url, "--bed", bed])
        .args(["--weight-kg", "70", "--height-cm", "170", "--sex", "female"])
        .args(["--target-tbv", "2"])
        .env("RUST_LOG", RECEIVED_LOG)
        .env("APHERESIS_MQTT_PASSWORD", password)
        .env("NO_COLOR", "1");
    let mut watched = Watched::spawn(command);
    watched.wait_recording();
    watched
}

fn status_with_data(watcher: &Watcher, bed: &str) -> bool {
    watcher
        .json(&format!("apheresis/{bed}/status"))
        .is_some_and(|s| s["state"].is_string() && s["wb_processed_ml"].is_number())
}

/// `ward --broker URL --once --json` as the ward user: its exit status, stdout and stderr, and
/// how long it took.
fn ward_once(url: &str, password: &str) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
        .args(["ward", "--broker", url, "--once", "--json"])
        .env("APHERESIS_MQTT_PASSWORD", password)
        .output()
        .unwrap();
    (output, started.elapsed())
}

/// The beds of a `ward --once --json` snapshot, by name.
fn snapshot_beds(
    output: &std::process::Output,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    snapshot["beds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["bed"].as_str().unwrap().to_owned(), b.clone()))
        .collect()
}

#[test]
fn three_bedsides_publish_and_one_killed_is_offline_within_10_s() {
    let beds = [("bay1", "pw-one"), ("bay2", "pw-two"), ("bay3", "pw-three")];
    let broker = Broker::start(&beds, false);
    let watcher = Watcher::start(broker.port);
    let dir = tempfile::tempdir().unwrap();
    let mut machines = Vec::new();
    let mut recorders = Vec::new();
    for (i, (bed, password)) in beds.iter().enumerate() {
        let machine = Machine::start(i as u64 + 1);
        let out = dir.path().join(format!("{bed}.csv"));
        recorders.push(recorder(&machine, &out, &broker.url(bed), bed, password));
        machines.push(machine);
    }
    for (bed, _) in &beds {
        wait_until(Duration::from_mins(1), "every bed's status", || {
            status_with_data(&watcher, bed)
                && watcher.text(&format!("apheresis/{bed}/online")).as_deref() == Some("true")
        });
        let status = watcher.json(&format!("apheresis/{bed}/status")).unwrap();
        assert_eq!(status["bed"], *bed);
        assert_eq!(
            status["recording"],
            format!("{bed}.csv"),
            "the file name only"
        );
        assert!(status.get("patient").is_none(), "no patient by default");
    }
    // The ward's snapshot shows all three, online, with their figures, within 5 s.
    let (ward_url, ward_password) = (broker.url(broker::WARD_USER.0), broker::WARD_USER.1);
    let (output, took) = ward_once(&ward_url, ward_password);
    assert!(took <= Duration::from_secs(5), "ward --once took {took:?}");
    let beds = snapshot_beds(&output);
    assert_eq!(
        beds.keys().collect::<Vec<_>>(),
        ["bay1", "bay2", "bay3"],
        "{beds:?}"
    );
    for bed in beds.values() {
        assert_eq!(bed["online"], true, "{bed}");
        assert!(bed["state"].is_string(), "{bed}");
        assert!(bed["wb_processed_ml"].is_number(), "{bed}");
        // The patient given to `record` makes the TBV figures.
        assert!(bed["tbv_processed"].is_number(), "{bed}");
        assert!(bed["alarms"].is_array(), "{bed}");
        assert!(bed["age_s"].as_f64().is_some_and(|a| a < 10.0), "{bed}");
    }
    // A bedside that dies: its broker connection's keepalive (5 s) runs out and the broker
    // publishes its last will.
    let killed = Instant::now();
    let killed_wall = jiff::Timestamp::now();
    recorders[1].kill();
    wait_until(Duration::from_secs(10), "bay2 shown offline", || {
        watcher.text("apheresis/bay2/online").as_deref() == Some("false")
    });
    assert!(killed.elapsed() <= Duration::from_secs(10));
    let beds = snapshot_beds(&ward_once(&ward_url, ward_password).0);
    assert_eq!(beds["bay2"]["online"], false, "{beds:?}");
    // A ward started after the bedside died meets its retained status and last will: it says
    // when the bed was last heard (before the kill), not when the ward started, and its
    // figures are as old as that.
    let since: jiff::Timestamp = beds["bay2"]["offline_since_utc"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        since <= killed_wall,
        "{since} after the kill at {killed_wall}"
    );
    let dead_for = jiff::Timestamp::now()
        .duration_since(killed_wall)
        .as_secs_f64();
    let age = beds["bay2"]["age_s"].as_f64().unwrap();
    assert!(age >= dead_for - 1.0, "age {age} s, dead for {dead_for} s");
    assert_eq!(beds["bay1"]["online"], true, "{beds:?}");
    assert_eq!(
        watcher.text("apheresis/bay1/online").as_deref(),
        Some("true")
    );
    // A clean stop says so at once.
    let status = recorders[2].terminate(Duration::from_secs(20));
    assert!(status.success(), "{:?}", recorders[2].stderr());
    wait_until(
        Duration::from_secs(5),
        "bay3 offline after its stop",
        || watcher.text("apheresis/bay3/online").as_deref() == Some("false"),
    );
}

#[test]
fn a_broker_down_for_10_s_costs_the_recording_nothing_and_the_status_comes_back() {
    let broker_users = [("bay1", "pw-one")];
    let mut broker = Broker::start(&broker_users, false);
    let watcher = Watcher::start(broker.port);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.csv");
    let machine = Machine::start(7);
    let mut rec = recorder(&machine, &out, &broker.url("bay1"), "bay1", "pw-one");
    wait_until(Duration::from_mins(1), "the first status", || {
        status_with_data(&watcher, "bay1")
    });
    broker.stop();
    let rows_before = recording::load(&out, |_, _| true).unwrap().entries.len();
    std::thread::sleep(Duration::from_secs(10));
    let rows_during = recording::load(&out, |_, _| true).unwrap().entries.len();
    assert!(
        rows_during > rows_before,
        "recording went on while the broker was down ({rows_before} → {rows_during})"
    );
    broker.restart();
    let back = Instant::now();
    wait_until(Duration::from_secs(30), "the status again", || {
        watcher
            .when("apheresis/bay1/status")
            .is_some_and(|t| t > back)
            && watcher.text("apheresis/bay1/online").as_deref() == Some("true")
    });
    // Connected at the start, then the loss named, then connected again (said within a
    // second of the status reaching the ward).
    wait_until(
        Duration::from_secs(10),
        "the recorder to say it is back",
        || rec.count(|l| l.starts_with("ward: connected")) >= 2,
    );
    assert!(
        rec.said(|l| l.starts_with("ward: connection")),
        "{:?}",
        rec.stderr()
    );
    let status = rec.terminate(Duration::from_secs(20));
    assert!(status.success(), "{:?}", rec.stderr());
    let loaded = recording::load(&out, |_, _| true).unwrap();
    assert_eq!(loaded.skipped_rows, 0);
    // Every sentence the machine sent was read, in order, while the broker was away (the
    // worker logs each one it hands to the recorder), and the journal saw no gap.
    let received = rec.received();
    assert!(received.len() > 20, "{} sentences received", received.len());
    for pair in received.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "a gap in the sentences read");
    }
    assert!(
        !support::link_codes(&out).contains(&LinkCode::SequenceGap),
        "the recording has a sequence gap"
    );
    let in_file: std::collections::HashSet<u32> =
        loaded.entries.iter().filter_map(|e| e.seq).collect();
    // An identity the recorder already knows makes no row; every other sentence does. The
    // same simulated machine (seed 7, 2 Hz, as `simulate` runs it) says which are identities.
    let mut same = SimMachine::new(SimConfig {
        seed: 7,
        sample_interval_ms: 500,
        ..SimConfig::default()
    });
    let identities: std::collections::HashSet<u32> = std::iter::from_fn(|| same.next_sentence())
        .take_while(|s| s.seq <= *received.last().unwrap())
        .filter(|s| matches!(s.payload, Payload::Identity(_)))
        .map(|s| s.seq)
        .collect();
    let missing: Vec<u32> = received
        .iter()
        .copied()
        .filter(|s| !in_file.contains(s) && !identities.contains(s))
        .collect();
    assert!(missing.is_empty(), "read but not in the file: {missing:?}");
}

#[test]
fn a_wrong_password_and_another_beds_topic_are_refused_with_one_line_each() {
    let broker = Broker::start(&[("bay1", "pw-one"), ("bay2", "pw-two")], false);
    let watcher = Watcher::start(broker.port);
    let dir = tempfile::tempdir().unwrap();
    let machine_a = Machine::start(3);
    let mut wrong = recorder(
        &machine_a,
        &dir.path().join("a.csv"),
        &broker.url("bay1"),
        "bay1",
        "not-the-password",
    );
    let machine_b = Machine::start(4);
    // bay1's credentials publishing as bay2: the ACL confines bay1 to apheresis/bay1/#.
    let mut intruder = recorder(
        &machine_b,
        &dir.path().join("b.csv"),
        &broker.url("bay1"),
        "bay2",
        "pw-one",
    );
    let wrong_line = |l: &str| l.starts_with("ward: wrong user name or password for bay1");
    wrong.wait_for(
        Duration::from_secs(30),
        "the wrong password named",
        wrong_line,
    );
    let acl_line = |l: &str| l.starts_with("ward: refused by the broker's ACL");
    intruder.wait_for(Duration::from_secs(30), "the ACL refusal named", acl_line);
    // Retrying says nothing more; recording goes on and ends cleanly.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(wrong.count(wrong_line), 1, "{:?}", wrong.stderr());
    assert_eq!(intruder.count(acl_line), 1, "{:?}", intruder.stderr());
    assert!(watcher.text("apheresis/bay2/status").is_none());
    assert!(watcher.text("apheresis/bay1/status").is_none());
    for rec in [&mut wrong, &mut intruder] {
        let status = rec.terminate(Duration::from_secs(20));
        assert!(status.success(), "{:?}", rec.stderr());
    }
    for file in ["a.csv", "b.csv"] {
        let loaded = recording::load(&dir.path().join(file), |_, _| true).unwrap();
        assert!(loaded.entries.len() > 5, "{file} recorded");
    }
}

#[test]
fn tls_with_the_test_ca_publishes_and_a_wrong_ca_is_a_tls_failure() {
    let broker = Broker::start(&[("bay1", "pw-one"), ("bay2", "pw-two")], true);
    let watcher = Watcher::start(broker.port);
    let dir = tempfile::tempdir().unwrap();
    let machine_a = Machine::start(5);
    let mut command = record_command(&machine_a.port, &dir.path().join("a.csv"));
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, "pw-one\n").unwrap();
    command
        .args([
            "--publish",
            &broker.tls_url("bay1"),
            "--bed",
            "bay1",
            "--ca",
        ])
        .arg(broker.ca())
        .arg("--password-file")
        .arg(&password_file)
        .env_remove("APHERESIS_MQTT_PASSWORD");
    let mut good = Watched::spawn(command);
    good.wait_recording();
    wait_until(Duration::from_mins(1), "a status over TLS", || {
        status_with_data(&watcher, "bay1")
    });
    let machine_b = Machine::start(6);
    let mut command = record_command(&machine_b.port, &dir.path().join("b.csv"));
    command
        .args([
            "--publish",
            &broker.tls_url("bay2"),
            "--bed",
            "bay2",
            "--ca",
        ])
        .arg(broker.other_ca())
        .env("APHERESIS_MQTT_PASSWORD", "pw-two");
    let mut bad = Watched::spawn(command);
    bad.wait_recording();
    bad.wait_for(Duration::from_secs(30), "the TLS failure named", |l| {
        l.starts_with("ward: TLS failure with 127.0.0.1")
    });
    // The ward reads over TLS too, and names a CA that does not fit.
    let ward = |ca: &Path| {
        Command::new(env!("CARGO_BIN_EXE_apheresis-monitor"))
            .args(["ward", "--broker", &broker.tls_url(broker::WARD_USER.0)])
            .args(["--once", "--json", "--ca"])
            .arg(ca)
            .env("APHERESIS_MQTT_PASSWORD", broker::WARD_USER.1)
            .output()
            .unwrap()
    };
    let beds = snapshot_beds(&ward(&broker.ca()));
    assert!(beds.contains_key("bay1"), "{beds:?}");
    let refused = ward(&broker.other_ca());
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.starts_with("error: TLS failure with 127.0.0.1"),
        "{stderr}"
    );
    for rec in [&mut good, &mut bad] {
        let status = rec.terminate(Duration::from_secs(20));
        assert!(status.success(), "{:?}", rec.stderr());
    }
}

#[test]
fn a_bad_publish_configuration_is_one_line_and_recording_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let machine = Machine::start(8);
    let mut command = record_command(&machine.port, &dir.path().join("a.csv"));
    command.args(["--publish", "mqtt://nobody-at-all:1883", "--for", "3"]);
    let mut rec = Watched::spawn(command);
    rec.wait_recording();
    let status = rec.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{:?}", rec.stderr());
    let ward_lines: Vec<String> = rec
        .stderr()
        .into_iter()
        .filter(|l| l.starts_with("ward:"))
        .collect();
    assert_eq!(
        ward_lines,
        [
            "ward: the broker URL names no user: write mqtt://USER@HOST:PORT (one user per \
          bedside); recording without publishing"
        ]
    );
}

#[test]
fn the_ward_refuses_a_wrong_password_and_an_absent_broker_in_one_line_within_5_s() {
    let broker = Broker::start(&[("bay1", "pw-one")], false);
    let (output, took) = ward_once(&broker.url(broker::WARD_USER.0), "not-the-password");
    assert!(!output.status.success());
    assert!(took <= Duration::from_secs(6), "took {took:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: wrong user name or password for ward"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    // Nothing listening: refused, named, quickly.
    let port = broker.port;
    drop(broker);
    let (output, took) = ward_once(&format!("mqtt://ward@127.0.0.1:{port}"), "x");
    assert!(!output.status.success());
    assert!(took <= Duration::from_secs(6), "took {took:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
}

#[test]
fn the_wards_subscription_comes_back_with_the_broker() {
    use apheresis_monitor::ward::board::{Board, BrokerState, WardInput};
    use apheresis_monitor::ward::broker::BrokerConfig;
    use apheresis_monitor::ward::subscribe::Subscriber;

    let mut broker = Broker::start(&[("bay1", "pw-one")], false);
    let dir = tempfile::tempdir().unwrap();
    let machine = Machine::start(9);
    let mut rec = recorder(
        &machine,
        &dir.path().join("s.csv"),
        &broker.url("bay1"),
        "bay1",
        "pw-one",
    );
    let config = BrokerConfig::new(
        &broker.url(broker::WARD_USER.0),
        None,
        Some(broker::WARD_USER.1.to_owned()),
        None,
    )
    .unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let subscriber = Subscriber::start(&config, tx, std::sync::Arc::new(|| {}));
    let mut board = Board::default();
    let mut states = Vec::new();
    let pump = |board: &mut Board,
                states: &mut Vec<BrokerState>,
                until: &dyn Fn(&Board, &[BrokerState]) -> bool,
                what: &str| {
        let deadline = Instant::now() + Duration::from_secs(40);
        while !until(board, states) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}: {states:?}"
            );
            if let Ok(input) = rx.recv_timeout(Duration::from_millis(100)) {
                if let WardInput::Connection(state) = &input {
                    states.push(state.clone());
                }
                board.input(input);
            }
        }
    };
    let has_bed = |board: &Board| {
        board
            .beds(Instant::now())
            .iter()
            .any(|b| b.bed.as_str() == "bay1" && b.online && b.wb_processed_ml.is_some())
    };
    pump(
        &mut board,
        &mut states,
        &|b, _| has_bed(b),
        "bay1 on the ward",
    );
    broker.stop();
    pump(
        &mut board,
        &mut states,
        &|_, s| matches!(s.last(), Some(BrokerState::Failed(_))),
        "the ward sees the broker gone",
    );
    std::thread::sleep(Duration::from_secs(10));
    broker.restart();
    let back = Instant::now();
    let mut board = Board::default();
    pump(
        &mut board,
        &mut states,
        &|b, s| matches!(s.last(), Some(BrokerState::Connected)) && has_bed(b),
        "bay1 back on the ward",
    );
    // Back within the backoff's cap (5 s) and the bedside's own reconnection.
    assert!(
        back.elapsed() < Duration::from_secs(20),
        "{:?}",
        back.elapsed()
    );
    subscriber.stop();
    let exit = rec.terminate(Duration::from_secs(20));
    assert!(exit.success(), "{:?}", rec.stderr());
}

#[test]
fn a_resumed_bedside_publishes_the_whole_sessions_figures_with_its_saved_patient() {
    let broker = Broker::start(&[("bay1", "pw-one")], false);
    let watcher = Watcher::start(broker.port);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bay1.csv");
    let machine = Machine::start(7);
    let mut first = recorder(&machine, &out, &broker.url("bay1"), "bay1", "pw-one");
    wait_until(
        Duration::from_mins(1),
        "a status with blood processed",
        || {
            watcher
                .json("apheresis/bay1/status")
                .is_some_and(|s| s["wb_processed_ml"].as_f64().is_some_and(|v| v > 50.0))
        },
    );
    // The bedside dies mid-run; the recording is interrupted.
    first.kill();
    let before = watcher.json("apheresis/bay1/status").unwrap();
    assert!(before["tbv_processed"].is_number(), "{before}");

    // Taken back without the patient's options: they are in the recording's metadata.
    let mut command = record_command(&machine.port, &out);
    command
        .args([
            "--resume",
            "--publish",
            &broker.url("bay1"),
            "--bed",
            "bay1",
        ])
        .env("APHERESIS_MQTT_PASSWORD", "pw-one")
        .env("NO_COLOR", "1");
    let mut resumed = Watched::spawn(command);
    resumed.wait_recording();
    wait_until(
        Duration::from_mins(1),
        "a status from the resumed bedside",
        || {
            watcher.json("apheresis/bay1/status").is_some_and(|s| {
                s["published_utc"] != before["published_utc"] && s["wb_processed_ml"].is_number()
            })
        },
    );
    let after = watcher.json("apheresis/bay1/status").unwrap();
    // The whole session's figures: the patient's TBV and the target from the metadata, and
    // no less blood processed than before the bedside died.
    assert!(after["tbv_processed"].is_number(), "{after}");
    assert!(after["target_wb_ml"].is_number(), "{after}");
    assert!(
        after["wb_processed_ml"].as_f64().unwrap() >= before["wb_processed_ml"].as_f64().unwrap(),
        "{before} then {after}"
    );
    let status = resumed.terminate(Duration::from_secs(20));
    assert!(status.success(), "{:?}", resumed.stderr());
}
