//! A monitor that cannot sound its alarms says so on screen: with no audio output (here an
//! output that cannot be opened, as on a PC without a sound device), a live session shows the
//! technical alarm "No alarm sound" in its banner and records it, before any other alarm.

#![cfg(unix)] // the live rig runs on a pseudo-terminal
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use apheresis_monitor::alarms::sound::AlarmSound;
use apheresis_monitor::model::{MachineState, Payload};
use egui_kittest::kittest::Queryable as _;

#[path = "support/live_rig.rs"]
mod live_rig;

use live_rig::{live_rig_with, sample};

#[test]
fn no_audio_device_shows_the_technical_alarm_no_alarm_sound() {
    let mut rig = live_rig_with(|app| {
        app.with_sound(AlarmSound::start_with(Box::new(|_| {
            Err("no audio output device".into())
        })))
    });
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(60.0, 1.0));
    rig.step_until("the technical alarm shows", |h| {
        h.query_by_label_contains("No alarm sound: no audio output device")
            .is_some()
    });
    let live = rig.harness.state().live().unwrap();
    let codes: Vec<String> = live
        .alarms
        .active()
        .iter()
        .map(|a| a.source.code())
        .collect();
    assert_eq!(codes, ["MON_NO_ALARM_SOUND"]);
}

#[test]
fn with_a_working_output_there_is_no_such_alarm() {
    let played = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut rig = live_rig_with(|app| {
        app.with_sound(AlarmSound::start_with(Box::new(move |_| {
            Ok(apheresis_monitor::alarms::sound::Output::counting(
                std::sync::Arc::clone(&played),
            ))
        })))
    });
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(60.0, 1.0));
    // Long enough for the sound thread to open its output and the session to hear of it.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < until {
        rig.harness.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        rig.harness
            .query_by_label_contains("No alarm sound")
            .is_none()
    );
    assert!(
        rig.harness
            .state()
            .live()
            .unwrap()
            .alarms
            .active()
            .is_empty()
    );
}
