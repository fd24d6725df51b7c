//! The window publishing its live session to the ward, set up as a nurse leaves the settings
//! (broker URL, bed, password file), against a real mosquitto started by the test: what the
//! ward receives is what the screen shows, the footer says the connection's state, and a wrong
//! password says so there while the monitor goes on recording.

#![cfg(unix)] // the live rig runs on a pseudo-terminal
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

#[path = "support/broker.rs"]
mod broker;
mod support;

#[path = "support/live_rig.rs"]
mod live_rig;

use std::path::{Path, PathBuf};

use apheresis_monitor::analysis::Series;
use apheresis_monitor::model::{MachineState, Payload, Quantity, Sample};
use apheresis_monitor::ui::settings::PublishSettings;
use broker::{Broker, Watcher};
use egui_kittest::kittest::Queryable as _;
use live_rig::{Rig, live_rig_configured, sample};

/// A live rig publishing as `bay1` with the password in a file of `dir`.
fn publishing_rig(broker: &Broker, dir: &Path, password: &str) -> Rig {
    let password_file: PathBuf = dir.join("bay1.password");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    let url = broker.url("bay1");
    live_rig_configured(
        |mut settings| {
            settings.publish = PublishSettings {
                enabled: true,
                broker_url: url,
                bed: "bay1".into(),
                password_file: Some(password_file),
                ..PublishSettings::default()
            };
            settings
        },
        |app| app,
    )
}

#[test]
fn the_live_monitor_publishes_what_it_shows_and_its_footer_says_connected() {
    let broker = Broker::start(&[("bay1", "pw-one")], false);
    let watcher = Watcher::start(broker.port);
    let dir = tempfile::tempdir().unwrap();
    let mut rig = publishing_rig(&broker, dir.path(), "pw-one");
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(
        1000,
        Payload::Sample(
            Sample::default()
                .with(Quantity::InletMlMin, 55.0)
                .with(Quantity::InletMl, 1200.0)
                .with(Quantity::AcMlMin, 4.5)
                .with(Quantity::AcMl, 100.0),
        ),
    );
    rig.wait_for_label("55.0");
    rig.step_until("the footer says connected", |h| {
        h.query_by_label("ward: connected").is_some()
    });
    rig.step_until("the ward has this bed running", |_| {
        watcher
            .json("apheresis/bay1/status")
            .is_some_and(|s| s["state"] == "RUN" && s["wb_processed_ml"].is_number())
    });
    let status = watcher.json("apheresis/bay1/status").unwrap();
    // The figure the screen shows (whole blood: inlet less anticoagulant).
    let live = rig.harness.state().live().unwrap();
    let shown = live.timeline.latest_value(Series::WbProcessedMl);
    assert_eq!(shown, Some(1100.0));
    assert_eq!(status["wb_processed_ml"].as_f64(), shown, "{status}");
    assert_eq!(status["bed"], "bay1");
    assert!(status.get("patient").is_none(), "no patient by default");
    assert_eq!(
        watcher.text("apheresis/bay1/online").as_deref(),
        Some("true")
    );
}

#[test]
fn a_wrong_password_is_said_in_the_footer_and_recording_goes_on() {
    let broker = Broker::start(&[("bay1", "pw-one")], false);
    let dir = tempfile::tempdir().unwrap();
    let mut rig = publishing_rig(&broker, dir.path(), "not-the-password");
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    rig.step_until("the footer names the failure", |h| {
        h.query_by_label("ward: wrong user or password").is_some()
    });
    // The monitor carries on: new data reaches the screen and the recording.
    rig.send(2000, sample(56.0, 101.0));
    rig.wait_for_label("56.0");
    let live = rig.harness.state().live().unwrap();
    assert!(live.is_recording());
}
