//! The monitor view's layout for reading from two metres, on a recorded session opened in the
//! replay view (the live view draws the same strips): the primary values' type size, that
//! nothing overlaps at the usual screen sizes, and that the banner's space is kept, so nothing
//! moves when an alarm comes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

use std::path::PathBuf;

use apheresis_monitor::alarms::engine::AlarmSource;
use apheresis_monitor::analysis::progress;
use apheresis_monitor::model::{Alarm, Entry, EntryBody, MachineState, Priority, Quantity, Sample};
use apheresis_monitor::present::text::{clock_hm, duration_hm};
use apheresis_monitor::recording::{Recording, SessionMeta};
use apheresis_monitor::ui::primary::PRIMARY_MIN_PX;
use apheresis_monitor::ui::{Clock, Command, Launch, MonitorApp, Settings};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use jiff::Timestamp;

/// When the access pressure falls below the recording's limit, and its alarm row.
const FALLS_AT_S: u64 = 300;
const ALARM_AT_S: u64 = 305;
const END_S: u64 = 600;
const ACCESS_LIMIT: f64 = -150.0;

fn at(s: u64) -> Timestamp {
    Timestamp::from_second(1_773_475_500 + s as i64).unwrap()
}

fn entry(s: u64, body: EntryBody) -> Entry {
    Entry {
        time_utc: at(s),
        elapsed_ms: Some(s * 1000),
        seq: None,
        body,
    }
}

/// Whole blood processed at `s` seconds: inlet minus AC, 9.2 mL a second.
fn wb_ml(s: u64) -> f64 {
    10.0 * s as f64 - 0.8 * s as f64
}

/// Ten minutes of RUN, an 80 kg patient to 2.5 TBV, an access limit of −150 mmHg in the
/// recording's metadata, and the monitor's access alarm from 305 s.
fn recording() -> Recording {
    let mut entries = vec![entry(0, EntryBody::State(MachineState::Run))];
    for s in 1..=END_S {
        let access = if s < FALLS_AT_S { -45.0 } else { -180.0 };
        entries.push(entry(
            s,
            EntryBody::Sample(
                Sample::default()
                    .with(Quantity::InletMlMin, 50.0)
                    .with(Quantity::AcMlMin, 4.2)
                    .with(Quantity::InletMl, 10.0 * s as f64)
                    .with(Quantity::AcMl, 0.8 * s as f64)
                    .with(Quantity::CollectMl, 0.02 * s as f64)
                    .with(Quantity::AccessMmhg, access)
                    .with(Quantity::ReturnMmhg, 110.0)
                    .with(Quantity::AcRatio, 12.0),
            ),
        ));
        if s == ALARM_AT_S {
            entries.push(entry(
                s,
                EntryBody::Alarm(Alarm {
                    code: AlarmSource::AccessLow.code(),
                    priority: Priority::Medium,
                    active: true,
                    text: "Access pressure -180 mmHg below -150 mmHg".into(),
                }),
            ));
        }
    }
    let meta: SessionMeta = serde_json::from_value(serde_json::json!({
        "format": "aph-session/1",
        "patient": {"id": "LAYOUT-1", "weight_kg": 80.0, "height_cm": 178.0, "sex": "male"},
        "targets": {"tbv_processed": 2.5},
        "limits": {"access_low": {"limit": ACCESS_LIMIT}},
    }))
    .unwrap();
    Recording {
        path: PathBuf::from("layout.csv"),
        entries,
        problems: Vec::new(),
        skipped_rows: 0,
        meta: Some(meta),
        meta_problem: None,
    }
}

/// The replay of [`recording`] in a window `size` wide, its playhead at `seek_s`.
fn harness(size: [f32; 2], seek_s: f64) -> (Harness<'static, MonitorApp>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        session_folder: Some(dir.path().to_owned()),
        ..Settings::default()
    };
    let mut app = MonitorApp::new(settings, Launch::Start, Clock::default());
    app.open_loaded(recording(), 60.0);
    app.replay_mut().unwrap().player.seek(seek_s);
    let mut harness = Harness::builder().with_size(size).build_ui_state(
        |ui, app: &mut MonitorApp| {
            app.logic(ui.ctx());
            app.ui(ui);
        },
        app,
    );
    harness.run_steps(3);
    (harness, dir)
}

fn seek(harness: &mut Harness<'static, MonitorApp>, s: f64) {
    harness.state_mut().replay_mut().unwrap().player.seek(s);
    harness.run_steps(3);
}

/// The font sizes `text` was painted at in the last frame.
fn painted_sizes(harness: &Harness<'static, MonitorApp>, text: &str) -> Vec<f32> {
    harness
        .output()
        .shapes
        .iter()
        .filter_map(|clipped| match &clipped.shape {
            egui::Shape::Text(shape) if shape.galley.text() == text => {
                Some(shape.galley.job.sections[0].format.font_id.size)
            }
            _ => None,
        })
        .collect()
}

/// The primary values as the screen should write them at the playhead (from the same
/// progress the screen computes): state, WB processed, time left, projected end, citrate.
fn primary_values(harness: &Harness<'static, MonitorApp>) -> Vec<String> {
    let replay = harness.state().replay().unwrap();
    let position = replay.player.position();
    let shown = replay.player.full().moment(position);
    let p = progress(shown, replay.patient(), replay.target());
    let now = shown.clock_at(position).unwrap();
    let wb = p.wb_processed_ml.unwrap();
    vec![
        "RUN".to_owned(),
        format!("{:.2}", wb / 1000.0),
        duration_hm(p.remaining_s.unwrap()),
        clock_hm(p.projected_end(now).unwrap()),
        // ACD-A 21.3 mg/mL × 4.2 mL/min ÷ 80 kg.
        format!("{:.2}", 21.3 * 4.2 / 80.0),
    ]
}

#[test]
fn at_1366_by_768_the_primary_values_are_drawn_at_60_px_or_more() {
    let (harness, _dir) = harness([1366.0, 768.0], 200.0);
    let values = primary_values(&harness);
    assert_eq!(values[1], format!("{:.2}", wb_ml(200) / 1000.0));
    for value in &values {
        let sizes = painted_sizes(&harness, value);
        assert!(!sizes.is_empty(), "`{value}` is not on screen");
        assert!(
            sizes.iter().any(|s| *s >= PRIMARY_MIN_PX),
            "`{value}` is drawn at {sizes:?} px, under {PRIMARY_MIN_PX}"
        );
    }
    // The secondary values are smaller than the primary ones.
    let inlet = painted_sizes(&harness, "50.0");
    assert!(
        inlet.iter().all(|s| *s < PRIMARY_MIN_PX),
        "inlet at {inlet:?}"
    );
}

/// The rectangle of the topmost label `label` (the strips are above the plots, whose legends
/// name the series too).
fn top_rect(harness: &Harness<'static, MonitorApp>, label: &str) -> egui::Rect {
    harness
        .query_all_by_label(label)
        .map(|n| n.rect())
        .min_by(|a, b| a.top().total_cmp(&b.top()))
        .unwrap_or_else(|| panic!("no `{label}` on screen"))
}

/// The rectangles of the primary strip's labels that are accessibility nodes.
fn primary_rects(harness: &Harness<'static, MonitorApp>) -> Vec<(String, egui::Rect)> {
    let mut labels: Vec<String> = [
        "State",
        "WB processed",
        "Time left h:mm",
        "Projected end",
        "Citrate (est.)",
        "Alarm",
        "mg/kg/min",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    labels.extend(primary_values(harness));
    labels
        .into_iter()
        .map(|label| {
            let rect = top_rect(harness, &label);
            (label, rect)
        })
        .collect()
}

#[test]
fn the_primary_strip_fits_without_overlap_at_1280_1366_and_1920() {
    for size in [[1280.0, 800.0], [1366.0, 768.0], [1920.0, 1080.0]] {
        let (harness, _dir) = harness(size, 200.0);
        let rects = primary_rects(&harness);
        for (i, (a, ra)) in rects.iter().enumerate() {
            assert!(
                ra.left() >= 0.0 && ra.right() <= size[0] && ra.bottom() <= size[1],
                "{size:?}: `{a}` at {ra:?} is off the screen"
            );
            for (b, rb) in &rects[i + 1..] {
                let common = ra.intersect(*rb);
                assert!(
                    common.width() <= 0.5 || common.height() <= 0.5,
                    "{size:?}: `{a}` at {ra:?} overlaps `{b}` at {rb:?}"
                );
            }
        }
        // The worst alarm's block (painted text) starts right of the citrate.
        let citrate = harness.get_by_label("mg/kg/min").rect();
        let alarm = harness.get_by_label("Alarm").rect();
        assert!(alarm.left() > citrate.right(), "{size:?}");
    }
}

#[test]
fn the_tiles_do_not_move_when_an_alarm_comes_and_a_value_in_alarm_shows_its_limit() {
    let (mut harness, _dir) = harness([1366.0, 768.0], 200.0);
    let watched = [
        "State",
        "WB processed",
        "Inlet",
        "Product",
        "Line pressures  mmHg",
    ];
    let rects = |h: &Harness<'static, MonitorApp>| -> Vec<egui::Rect> {
        watched.iter().map(|l| top_rect(h, l)).collect()
    };
    let quiet = rects(&harness);
    assert!(
        harness.query_by_label_contains("MEDIUM  Access").is_none(),
        "an alarm before it was raised"
    );
    assert!(harness.query_by_label("limit -150").is_none());
    seek(&mut harness, (ALARM_AT_S + 30) as f64);
    assert!(
        harness
            .query_by_label_contains("!! MEDIUM  Access pressure -180")
            .is_some(),
        "the banner shows the alarm"
    );
    assert_eq!(
        rects(&harness),
        quiet,
        "the tiles moved when the banner came"
    );
    // The access value in alarm, with the recording's limit beside it; the plot's limit line
    // is the same limit.
    assert!(harness.query_by_label("-180").is_some());
    assert!(harness.query_by_label("limit -150").is_some());
    assert!(harness.query_by_label("access limit -150").is_some());
    // And back before the alarm: still nothing moves.
    seek(&mut harness, 100.0);
    assert!(harness.query_by_label("limit -150").is_none());
    assert_eq!(rects(&harness), quiet);
}

#[test]
fn a_message_during_a_session_moves_nothing_above_it() {
    let (mut harness, _dir) = harness([1366.0, 768.0], 200.0);
    let watched = ["State", "WB processed", "Alarm", "Inlet", "Volumes (mL)"];
    let rects = |h: &Harness<'static, MonitorApp>| -> Vec<egui::Rect> {
        watched.iter().map(|l| top_rect(h, l)).collect()
    };
    let before = rects(&harness);
    // Asking for the demo while a recording is open is refused with a message.
    harness.state_mut().run(Command::StartDemo { speed: 30.0 });
    harness.run_steps(3);
    let message = harness
        .get_by_label("close the current session first")
        .rect();
    assert_eq!(rects(&harness), before, "the screen moved for the message");
    assert!(
        message.top() > before[4].top(),
        "the message is not below the screen: {message:?}"
    );
    harness.get_by_label("Dismiss").click();
    harness.run_steps(3);
    assert!(harness.query_by_label("Dismiss").is_none());
    assert_eq!(rects(&harness), before);
}

#[test]
fn the_plots_can_be_reduced_to_one_strip_or_hidden() {
    let (mut harness, _dir) = harness([1366.0, 768.0], 200.0);
    assert!(harness.query_by_label("Volumes (mL)").is_some());
    harness.get_by_label("strip").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Volumes (mL)").is_none());
    assert!(harness.query_by_label("Pressures (mmHg)").is_some());
    harness.get_by_label("hidden").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Pressures (mmHg)").is_none());
    assert_eq!(
        harness.state_mut().plot_view_mut().mode,
        apheresis_monitor::ui::plots::PlotMode::Hidden,
        "the choice is kept in the plot view"
    );
}
