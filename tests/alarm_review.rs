//! The alarm review list and the banner's alarm lines, drawn with `egui_kittest` from a real
//! alarm engine fed the inputs the live session gives it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

use apheresis_monitor::alarms::{AlarmEngine, AlarmInputs, AlarmSettings, CitrateReading};
use apheresis_monitor::model::{Alarm, MachineState, Priority};
use apheresis_monitor::ui::alarm_review::alarm_review_ui;
use apheresis_monitor::ui::banner::{BannerMessage, banner_ui};
use apheresis_monitor::ui::theme;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use jiff::Timestamp;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + s).unwrap()
}

/// Running, pressures in range, fresh data; the machine's alarms active now are `machine`.
fn inputs(machine: Vec<Alarm>) -> AlarmInputs {
    AlarmInputs {
        state: Some(MachineState::Run),
        access_mmhg: Some(-40.0),
        return_mmhg: Some(110.0),
        inlet_ml_min: Some(55.0),
        citrate: Some(CitrateReading::per_l(0.8)),
        sample_age_s: Some(0.5),
        connected: true,
        machine,
        ..AlarmInputs::default()
    }
}

fn air() -> Alarm {
    Alarm {
        code: "AIR_DETECTED".into(),
        priority: Priority::High,
        active: true,
        text: "Air detected in return line".into(),
    }
}

/// The review of `engine` drawn at `now`, the engine kept as the harness's state.
fn review(engine: AlarmEngine, now: Timestamp) -> Harness<'static, AlarmEngine> {
    Harness::builder()
        .with_size([700.0, 500.0])
        .with_context_setup(theme::install_fonts)
        .build_ui_state(
            move |ui, engine: &mut AlarmEngine| alarm_review_ui(ui, engine.review(), now),
            engine,
        )
}

#[test]
fn a_high_alarm_that_cleared_itself_shows_as_cleared_not_acknowledged_until_acknowledged() {
    let mut engine = AlarmEngine::new(AlarmSettings::default());
    engine.evaluate(at(0), &inputs(vec![air()]));
    // The machine clears it 6 s later, before anyone acknowledged it.
    engine.evaluate(at(6), &inputs(vec![]));
    assert_eq!(engine.active().len(), 1, "still shown, latched");

    let mut harness = review(engine, at(60));
    harness.run();
    assert!(
        harness
            .query_by_label_contains("Air detected in return line")
            .is_some()
    );
    assert!(
        harness
            .query_by_label("cleared, not acknowledged")
            .is_some(),
        "the self-cleared high alarm says so"
    );
    assert!(harness.query_by_label("HIGH").is_some());
    assert!(harness.query_by_label("HIGH priority colour").is_some());

    harness.state_mut().acknowledge(at(70), "RN Smith");
    harness.run();
    assert!(harness.state().active().is_empty(), "gone from the banner");
    assert!(
        harness
            .query_by_label("cleared, not acknowledged")
            .is_none()
    );
    assert!(
        harness.query_by_label_contains("RN Smith").is_some(),
        "the acknowledger is named"
    );
    assert_eq!(
        harness.get_by_label_contains("RN Smith").rect(),
        harness.get_by_label_contains("acknowledged ").rect(),
        "in the acknowledgement"
    );
}

#[test]
fn the_review_lists_newest_first_with_what_still_lasts() {
    let mut engine = AlarmEngine::new(AlarmSettings::default());
    let spill = Alarm {
        code: "SPILLOVER".into(),
        priority: Priority::Medium,
        active: true,
        text: "Spillover detected".into(),
    };
    engine.evaluate(at(0), &inputs(vec![spill.clone()]));
    engine.evaluate(at(30), &inputs(vec![]));
    engine.evaluate(at(120), &inputs(vec![air()]));
    let mut harness = review(engine, at(180));
    harness.run();
    let air_y = harness.get_by_label_contains("Air detected").rect().min.y;
    let spill_y = harness
        .get_by_label_contains("Spillover detected")
        .rect()
        .min
        .y;
    assert!(air_y < spill_y, "newest first");
    assert!(harness.query_by_label_contains("active (1:00)").is_some());
    assert_eq!(
        harness.query_all_by_label("not acknowledged").count(),
        2,
        "neither acknowledged; the medium one did not latch"
    );
}

#[test]
fn a_long_latched_alarm_wraps_left_of_the_acknowledge_button() {
    let messages = [BannerMessage {
        priority: Priority::High,
        text: "Air detected in return line — clamp the return line and check the patient".into(),
        detail: String::new(),
        latched: true,
        unconfirmed: false,
    }];
    let mut harness = Harness::builder()
        .with_size([800.0, 300.0])
        .with_context_setup(theme::install_fonts)
        .build_ui(move |ui| {
            banner_ui(ui, &messages, Some(105.0), true);
        });
    harness.run();
    let text = harness
        .get_by_label_contains("(cleared, not acknowledged)")
        .rect();
    let button = harness.get_by_label("Acknowledge").rect();
    let paused = harness.get_by_label("audio paused 1:45").rect();
    let bell = harness.get_by_label("crossed bell").rect();
    assert!(
        text.max.x <= bell.min.x && bell.max.x <= paused.min.x && paused.max.x <= button.min.x,
        "text {text:?}, bell {bell:?}, countdown {paused:?}, button {button:?}"
    );
}
