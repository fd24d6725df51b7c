//! The ward window driven through its accessibility tree (`egui_kittest`), fed through the same
//! channel the MQTT subscriber feeds: four beds (a HIGH alarm, a MEDIUM alarm, one fine, one
//! offline), then a click on a tile opens its trend.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

use std::time::Instant;

use apheresis_monitor::present::text::clock_hm;
use apheresis_monitor::ui::theme;
use apheresis_monitor::ui::ward::WardApp;
use apheresis_monitor::ui::ward_tile::tile_label;
use apheresis_monitor::ward::board::{BrokerState, WardInput};
use apheresis_monitor::ward::message::{BedAlarm, BedStatus, SCHEMA, Trend, TrendPoint};
use apheresis_monitor::ward::topic::Bed;
use crossbeam_channel::Sender;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use jiff::Timestamp;

fn wall(s: i64) -> Timestamp {
    Timestamp::from_second(1_764_583_200 + s).unwrap()
}

fn status(bed: &str, alarm: Option<(&str, &str)>) -> Vec<u8> {
    serde_json::to_vec(&BedStatus {
        schema: SCHEMA,
        bed: Bed::new(bed).unwrap(),
        published_utc: "2026-12-01T10:00:00Z".into(),
        state: Some("RUN".into()),
        wb_processed_ml: Some(6200.0),
        tbv_processed: Some(1.2),
        target_wb_ml: Some(12_400.0),
        progress: Some(0.5),
        projected_end_utc: Some("2026-12-01T12:30:00Z".into()),
        citrate_ml_min_l: Some(0.81),
        alarms: alarm
            .into_iter()
            .map(|(priority, text)| BedAlarm {
                code: "X".into(),
                priority: priority.into(),
                text: text.into(),
                acknowledged: false,
                raised_utc: "2026-12-01T10:00:00Z".into(),
            })
            .collect(),
        data_age_s: Some(0.4),
        link: "up".into(),
        recording: None,
        patient: None,
    })
    .unwrap()
}

fn send(tx: &Sender<WardInput>, topic: &str, payload: &[u8], wall: Timestamp) {
    tx.send(WardInput::Message {
        topic: topic.into(),
        payload: payload.to_vec(),
        received: Instant::now(),
        wall,
        retained: false,
    })
    .unwrap();
}

fn ward(size: [f32; 2]) -> (Harness<'static, WardApp>, Sender<WardInput>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let harness = Harness::builder()
        .with_size(size)
        .with_context_setup(theme::install_fonts)
        .build_ui_state(
            |ui, app: &mut WardApp| {
                app.logic(ui.ctx());
                app.ui(ui);
            },
            WardApp::new(rx),
        );
    (harness, tx)
}

/// Whether tile `a` comes before tile `b` in reading order (rows top to bottom, then left to
/// right).
fn reads_before(a: egui::Rect, b: egui::Rect) -> bool {
    if (a.top() - b.top()).abs() < 1.0 {
        a.left() < b.left()
    } else {
        a.top() < b.top()
    }
}

#[test]
fn tiles_follow_alarm_priority_and_an_offline_bed_says_since_when() {
    let (mut harness, tx) = ward([1366.0, 768.0]);
    tx.send(WardInput::Connection(BrokerState::Connected))
        .unwrap();
    // Names chosen so that name order is not alarm order.
    for bed in ["bay1", "bay2", "bay3", "bay4"] {
        send(&tx, &format!("apheresis/{bed}/online"), b"true", wall(0));
    }
    send(&tx, "apheresis/bay1/status", &status("bay1", None), wall(0));
    send(&tx, "apheresis/bay2/status", &status("bay2", None), wall(0));
    send(
        &tx,
        "apheresis/bay3/status",
        &status("bay3", Some(("MEDIUM", "Citrate rate high"))),
        wall(0),
    );
    send(
        &tx,
        "apheresis/bay4/status",
        &status("bay4", Some(("HIGH", "Air detected in return line"))),
        wall(0),
    );
    // bay2's bedside is last heard at 10:04:50 and dies: its last will says offline, and the
    // tile says since when it was last heard.
    send(
        &tx,
        "apheresis/bay2/status",
        &status("bay2", None),
        wall(290),
    );
    send(&tx, "apheresis/bay2/online", b"false", wall(300));
    harness.run();

    assert!(
        harness
            .query_by_label_contains("broker connected")
            .is_some()
    );
    assert!(harness.query_by_label("4 beds").is_some());
    let rect = |bed: &str| harness.get_by_label(&tile_label(bed)).rect();
    // bay2 went dark mid-run: after the MEDIUM alarm, before the quiet bay1.
    let order = ["bay4", "bay3", "bay2", "bay1"];
    for pair in order.windows(2) {
        assert!(
            reads_before(rect(pair[0]), rect(pair[1])),
            "{} before {}: {:?} {:?}",
            pair[0],
            pair[1],
            rect(pair[0]),
            rect(pair[1])
        );
    }
    assert!(
        harness
            .query_by_label_contains("Air detected in return line")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("Citrate rate high")
            .is_some()
    );
    let offline = format!("offline since {}", clock_hm(wall(290)));
    let offline_label = harness.get_by_label(&offline);
    assert!(
        rect("bay2").contains_rect(offline_label.rect()),
        "the offline text is on bay2's tile"
    );
    // It died mid-run: the tile says so, and to go and look.
    let check = harness.get_by_label("was in RUN: check the bed");
    assert!(rect("bay2").contains_rect(check.rect()));
    // The offline tile shows no current values; the fine bed says it has no alarms.
    assert!(harness.query_by_label("no alarms").is_some());
}

#[test]
fn clicking_a_tile_opens_its_trend() {
    let (mut harness, tx) = ward([1366.0, 768.0]);
    for bed in ["bay1", "bay2"] {
        send(
            &tx,
            &format!("apheresis/{bed}/status"),
            &status(bed, None),
            wall(0),
        );
    }
    let trend = Trend {
        schema: SCHEMA,
        bed: Bed::new("bay2").unwrap(),
        points: (0..120)
            .map(|i| TrendPoint {
                t_s: f64::from(i) * 60.0,
                wb_processed_ml: Some(f64::from(i) * 50.0),
                inlet_ml_min: Some(55.0),
                access_mmhg: Some(-40.0),
                return_mmhg: Some(110.0),
            })
            .collect(),
    };
    send(
        &tx,
        "apheresis/bay2/trend",
        &serde_json::to_vec(&trend).unwrap(),
        wall(0),
    );
    harness.run();
    assert!(harness.query_by_label_contains("— trend").is_none());

    harness.get_by_label(&tile_label("bay2")).click();
    harness.run();
    assert_eq!(harness.state().selected().map(Bed::as_str), Some("bay2"));
    assert!(harness.query_by_label("bay2 — trend").is_some());
    assert!(
        harness
            .query_by_label("Whole blood processed (mL)")
            .is_some()
    );
    assert!(harness.query_by_label("Pressures (mmHg)").is_some());
    // The trend panel sits right of the tiles.
    let panel = harness.get_by_label("bay2 — trend").rect();
    assert!(panel.left() >= harness.get_by_label(&tile_label("bay1")).rect().right());

    harness.get_by_label("Close trend").click();
    harness.run();
    assert!(harness.state().selected().is_none());
    assert!(harness.query_by_label_contains("— trend").is_none());
}
