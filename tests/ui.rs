//! The monitor app driven through its accessibility tree (`egui_kittest`), with data coming
//! through the real serial path: APH/1 written into a pseudo-terminal, read by the worker.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

#[path = "support/live_rig.rs"]
mod live_rig;

use std::time::{Duration, Instant};

use apheresis_monitor::acquisition::LinkState;
use apheresis_monitor::model::{
    Alarm, EntryBody, LinkCode, MachineState, Payload, Priority, Quantity, Sample,
};
use apheresis_monitor::recording;
use apheresis_monitor::ui::{Clock, Launch, MonitorApp, Settings};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use jiff::{SignedDuration, Timestamp};
use live_rig::{Rig, WAIT, plus_ms, rig_prepared};

fn rig_with(launch_port: bool) -> Rig {
    rig_prepared(launch_port, |_, _| {})
}

/// The colours the text `text` was painted in, in the last frame (once per time it was drawn).
fn text_colors(rig: &Rig, text: &str) -> Vec<egui::Color32> {
    rig.harness
        .output()
        .shapes
        .iter()
        .filter_map(|clipped| match &clipped.shape {
            egui::Shape::Text(shape) if shape.galley.text() == text => {
                let format = shape.galley.job.sections[0].format.color;
                Some(
                    shape
                        .override_text_color
                        .unwrap_or(if format == egui::Color32::PLACEHOLDER {
                            shape.fallback_color
                        } else {
                            format
                        }),
                )
            }
            _ => None,
        })
        .collect()
}

/// The one colour `text` was painted in (it must have been painted exactly once).
fn text_color(rig: &Rig, text: &str) -> egui::Color32 {
    let colors = text_colors(rig, text);
    assert_eq!(colors.len(), 1, "`{text}` painted {} times", colors.len());
    colors[0]
}

/// Whether `dim` is `bright` dimmed: every channel, alpha included, at most 40 % of it (the
/// tiles keep 35 %).
fn dimmed(dim: egui::Color32, bright: egui::Color32) -> bool {
    dim.to_array()
        .iter()
        .zip(bright.to_array())
        .all(|(&d, b)| f32::from(d) <= 0.4 * f32::from(b))
        && bright.a() > 0
}

/// How many value tiles say `label` (their age, when not current).
fn tiles_saying(rig: &Rig, label: &str) -> usize {
    rig.harness.query_all_by_label(label).count()
}

fn sample(inlet_ml_min: f64, inlet_ml: f64) -> Payload {
    Payload::Sample(
        Sample::default()
            .with(Quantity::InletMlMin, inlet_ml_min)
            .with(Quantity::AcMlMin, 4.6)
            .with(Quantity::InletMl, inlet_ml)
            .with(Quantity::AcMl, 95.7)
            .with(Quantity::CollectMl, 24.1)
            .with(Quantity::AccessMmhg, -45.0)
            .with(Quantity::ReturnMmhg, 118.0)
            .with(Quantity::AcRatio, 12.0),
    )
}

#[test]
fn tiles_follow_the_samples_arriving_on_the_serial_port() {
    let mut rig = rig_with(true);
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 1148.2));
    rig.wait_for_label("55.0");
    // WB processed = 1148.2 − 95.7 = 1052.5 mL, shown in litres.
    assert!(rig.harness.query_by_label("1.05").is_some());
    // The access and return pressures, each on its bar.
    assert!(rig.harness.query_by_label("-45").is_some());
    assert!(rig.harness.query_by_label("118").is_some());
    assert!(rig.harness.query_by_label("RUN").is_some());
    rig.send(2000, sample(61.5, 1149.2));
    rig.wait_for_label("61.5");
    assert!(rig.harness.query_by_label("55.0").is_none());
}

#[test]
fn setup_shows_nadler_tbv_for_valid_inputs_and_a_reason_for_an_invalid_weight() {
    let mut rig = rig_with(true);
    rig.harness.get_by_label("Setup").click();
    rig.wait_for_label("Session setup");
    let set = |rig: &mut Rig, field: &str, text: &str| {
        rig.harness
            .get_by_role_and_label(Role::TextInput, field)
            .set_text_value_accesskit(text);
        rig.harness.step();
    };
    set(&mut rig, "Weight (kg)", "70");
    set(&mut rig, "Height (cm)", "175");
    rig.harness.get_by_label("Male").click();
    rig.harness.step();
    rig.harness.step();
    // Nadler, male, 175 cm, 70 kg: 4.82 L.
    rig.wait_for_label("TBV 4.82 L");

    set(&mut rig, "Weight (kg)", "-70");
    rig.harness.step();
    assert!(
        rig.harness
            .query_by_label_contains("weight must be positive")
            .is_some()
    );
    assert!(rig.harness.query_by_label_contains("TBV 4.82").is_none());

    set(&mut rig, "Weight (kg)", "seventy");
    rig.harness.step();
    assert!(
        rig.harness
            .query_by_label_contains("is not a number")
            .is_some()
    );
}

#[test]
fn setup_estimates_a_small_childs_tbv_per_kg_and_a_later_change_is_recorded() {
    let mut rig = rig_with(true);
    rig.harness.get_by_label("Setup").click();
    rig.wait_for_label("Session setup");
    let set = |rig: &mut Rig, field: &str, text: &str| {
        rig.harness
            .get_by_role_and_label(Role::TextInput, field)
            .set_text_value_accesskit(text);
        rig.harness.step();
    };
    set(&mut rig, "Weight (kg)", "10");
    set(&mut rig, "Height (cm)", "80");
    rig.harness.get_by_label("Male").click();
    rig.harness.step();
    // Under 25 kg the age is needed; Nadler (1.11 L for this boy) is not used.
    rig.wait_for_label_contains("needs the patient's age");
    assert!(rig.harness.query_by_label_contains("TBV 1.11").is_none());
    set(&mut rig, "Age", "3");
    rig.harness.step();
    // 3 years (the default unit): 75 mL/kg × 10 kg = 0.75 L.
    rig.wait_for_label("TBV 0.75 L");
    assert!(
        rig.harness
            .query_by_label("75 mL/kg × weight (child, 1 year and over; under 25 kg)")
            .is_some()
    );
    // 8 months: 80 mL/kg × 10 kg = 0.80 L.
    set(&mut rig, "Age", "8");
    rig.harness.get_by_label("months").click();
    rig.harness.step();
    rig.wait_for_label("TBV 0.80 L");
    // A nonsense age is refused with a reason, and there is no TBV.
    set(&mut rig, "Age", "-8");
    rig.harness.step();
    rig.wait_for_label_contains("age -8 months is outside 0–1440 months");
    assert!(rig.harness.query_by_label_contains("TBV 0.").is_none());
    set(&mut rig, "Age", "3");
    rig.harness.get_by_label("years").click();
    rig.harness.step();
    rig.harness.get_by_label("Save patient details").click();
    rig.harness.step();
    // The header names the method beside the TBV.
    rig.wait_for_label_contains("TBV 0.75 L (75 mL/kg, child)");

    // The weight corrected from 10 to 12 kg during the session is recorded, old and new.
    rig.harness.get_by_label("Setup").click();
    rig.wait_for_label("Session setup");
    set(&mut rig, "Weight (kg)", "12");
    rig.harness.step();
    rig.harness.get_by_label("Save patient details").click();
    rig.harness.step();
    // 75 mL/kg: 10 kg → 750 mL, 12 kg → 900 mL.
    rig.step_until("the change is recorded", |h| {
        h.state().live().unwrap().timeline.notes.iter().any(|n| {
            n.code == "PATIENT_CHANGED"
                && n.text == "patient.weight_kg: 10 -> 12; tbv_ml: 750 -> 900"
        })
    });
    rig.wait_for_label_contains("TBV 0.90 L (75 mL/kg, child)");
}

#[test]
fn from_10_s_without_a_sample_the_no_data_alarm_shows_and_the_tiles_dim_with_their_age() {
    // One definition of stale: the engine's no-data alarm, the dimmed tiles and the header all
    // change at the same 10 s. Ages run on the app's monotonic clock from the frame the
    // session took the sample in; the test holds both clocks still while data arrives, then
    // moves them, so nothing depends on how long the machine takes.
    let no_data = |rig: &Rig| {
        rig.harness
            .query_by_label_contains("No data from machine")
            .is_some()
    };
    let mut rig = rig_with(true);
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    let fresh = text_color(&rig, "55.0");
    // 9.999 s: current. No alarm, full-strength tiles, no age on them.
    rig.advance_ms(9_999);
    rig.settle();
    assert!(!no_data(&rig), "no-data alarm at 9.999 s");
    assert_eq!(text_color(&rig, "55.0"), fresh, "dimmed at 9.999 s");
    assert_eq!(tiles_saying(&rig, "9 s old"), 0);
    assert!(rig.harness.query_by_label("link ok (9.9 s)").is_some());
    // 10 s: stale, everywhere at once.
    rig.advance_ms(1);
    rig.settle();
    assert!(
        rig.harness
            .query_by_label("!! MEDIUM  No data from machine for 0:10")
            .is_some(),
        "no alarm at 10 s"
    );
    assert!(
        dimmed(text_color(&rig, "55.0"), fresh),
        "not dimmed at 10 s"
    );
    assert_eq!(tiles_saying(&rig, "10 s old"), 7, "every tile says its age");
    assert!(rig.harness.query_by_label("no data (0:10)").is_some());
    // The alarm is the engine's: it sounds, and it is the only no-data message.
    assert_eq!(
        rig.harness
            .state()
            .live()
            .unwrap()
            .alarms
            .sounding(rig.now()),
        Some(Priority::Medium)
    );
    assert_eq!(
        rig.harness
            .query_all_by_label_contains("No data from")
            .count(),
        1
    );
    // 18 s: the counters and the ages follow the clock.
    rig.advance_ms(8_000);
    rig.settle();
    assert!(
        rig.harness
            .query_by_label("!! MEDIUM  No data from machine for 0:18")
            .is_some(),
        "the alarm counts"
    );
    assert_eq!(tiles_saying(&rig, "18 s old"), 7);
    // New data while the clocks stand still: current again at once.
    rig.send(2000, sample(56.0, 101.0));
    rig.wait_for_label("56.0");
    rig.settle();
    assert!(!no_data(&rig), "new data did not clear the alarm");
    assert_eq!(text_color(&rig, "56.0"), fresh, "new data still dimmed");
    assert_eq!(tiles_saying(&rig, "18 s old"), 0);
    // And the 10 s now count from the new sample.
    rig.advance_ms(9_999);
    rig.settle();
    assert!(!no_data(&rig));
    rig.advance_ms(1);
    rig.settle();
    assert!(no_data(&rig));
    assert_eq!(tiles_saying(&rig, "10 s old"), 7);
}

#[test]
fn a_wall_clock_jump_back_does_not_make_old_data_look_fresh_on_screen() {
    let mut rig = rig_with(true);
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    let fresh = text_color(&rig, "55.0");
    // 30 s pass, then the wall clock is put back an hour (NTP, a nurse fixing the time).
    rig.advance_s(30);
    rig.set_clock(plus_ms(rig.now(), -3_600_000));
    rig.settle();
    assert_eq!(tiles_saying(&rig, "30 s old"), 7);
    assert!(dimmed(text_color(&rig, "55.0"), fresh));
    assert!(
        rig.harness
            .query_by_label_contains("No data from machine for 0:30")
            .is_some()
    );
}

#[test]
fn a_pulled_cable_shows_the_link_lost_banner() {
    let mut rig = rig_with(true);
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    let fresh = text_color(&rig, "55.0");
    rig.master = None;
    rig.step_until("the link-lost banner shows", |h| {
        h.query_by_label_contains("Link to machine lost").is_some()
    });
    // No value is presented as current, however young: the clocks have not moved.
    rig.settle();
    assert_eq!(tiles_saying(&rig, "link lost · 0 s old"), 7);
    assert!(dimmed(text_color(&rig, "55.0"), fresh));
    assert!(rig.harness.query_by_label("link lost").is_some(), "header");
}

#[test]
fn a_rule_switched_off_or_missing_an_input_shows_alarm_off_naming_it() {
    let off = |rig: &Rig, text: &str| rig.harness.query_by_label(text).is_some();
    let mut rig = rig_with(true);
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    // No patient entered: the citrate rule cannot run, nor can a target in TBV.
    assert!(off(&rig, "ALARM OFF"));
    assert!(off(
        &rig,
        "Citrate rate high: needs the TBV, which needs a valid sex, height, weight (Setup)"
    ));
    assert!(off(
        &rig,
        "Target reached: needs the TBV, which needs a valid sex, height, weight (Setup)"
    ));
    // 70 kg, 175 cm, male: every rule can run, and the indicator goes.
    rig.harness
        .state_mut()
        .live_mut()
        .unwrap()
        .edit_meta(|meta| {
            meta.patient = Some(apheresis_monitor::recording::meta::PatientMeta {
                weight_kg: Some(70.0.into()),
                height_cm: Some(175.0.into()),
                sex: Some("male".into()),
                ..Default::default()
            });
        });
    rig.settle();
    assert!(!off(&rig, "ALARM OFF"));
    assert!(
        rig.harness
            .query_by_label_contains("needs the patient's weight")
            .is_none()
    );
    // A rule switched off in Alarm limits (the session's limits): named, and it stays shown.
    // The no-data rule switched off too (an old settings file): a technical alarm cannot be,
    // so it is not named, and a minute without data raises it.
    let mut limits = rig.harness.state().settings.alarms;
    limits.access_low.enabled = false;
    limits.no_data.enabled = false;
    rig.harness
        .state_mut()
        .live_mut()
        .unwrap()
        .set_alarm_limits(limits);
    rig.settle();
    assert!(off(&rig, "ALARM OFF"));
    assert!(off(
        &rig,
        "Access pressure low: switched off (Alarm limits)"
    ));
    assert!(!off(&rig, "No data: switched off (Alarm limits)"));
    rig.advance_s(60);
    rig.settle();
    assert!(
        rig.harness
            .query_by_label_contains("No data from machine")
            .is_some()
    );
    assert_eq!(tiles_saying(&rig, "1 min old"), 7);
    assert!(off(
        &rig,
        "Access pressure low: switched off (Alarm limits)"
    ));
}

#[test]
fn after_a_reconnection_the_machines_alarms_show_as_unknown_until_it_re_announces_itself() {
    let unknown = |rig: &Rig| {
        rig.harness
            .query_by_label_contains(
                "Machine alarms unknown since the link was lost — check the machine's own screen",
            )
            .is_some()
    };
    let mut rig = rig_with(true);
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.send(
        1500,
        Payload::Alarm(Alarm {
            code: "AIR_DETECTED".into(),
            priority: Priority::High,
            active: true,
            text: "Air detected in return line".into(),
        }),
    );
    rig.step_until("the machine's alarm shows", |h| {
        h.query_by_label("!!! HIGH  Air detected in return line")
            .is_some()
    });
    assert!(!unknown(&rig));
    // The cable is pulled (the worker's events, handed in on the app's clock).
    let lost_at = rig.now();
    rig.inject_link(
        LinkCode::Lost,
        LinkState::Down {
            reason: "cable pulled".into(),
        },
    );
    rig.settle();
    assert!(unknown(&rig), "unknown while the link is down");
    assert!(
        rig.harness
            .query_by_label_contains("Link to machine lost for 0:00")
            .is_some()
    );
    let unconfirmed = format!(
        "Air detected in return line — not confirmed since the link was lost at {}",
        apheresis_monitor::present::text::clock_hms(lost_at)
    );
    assert!(
        rig.harness.query_by_label_contains(&unconfirmed).is_some(),
        "the air alarm is not shown as unconfirmed"
    );
    // 20 s later the link is back and samples arrive: the link alarm goes, the machine's
    // alarms are still unknown (it may have raised or cleared alarms meanwhile).
    rig.advance_s(20);
    rig.inject_link(LinkCode::Restored, LinkState::Up);
    rig.inject(
        rig.now(),
        22_000,
        EntryBody::Sample(Sample::default().with(Quantity::InletMlMin, 57.0)),
    );
    rig.settle();
    assert!(rig.harness.query_by_label("57.0").is_some());
    assert!(
        rig.harness
            .query_by_label_contains("Link to machine lost")
            .is_none()
    );
    assert!(
        unknown(&rig),
        "known again before the machine re-announced itself"
    );
    assert!(rig.harness.query_by_label_contains(&unconfirmed).is_some());
    assert!(
        rig.harness
            .query_by_label_contains("! LOW  Machine alarms unknown")
            .is_some(),
        "shown at low priority"
    );
    // The machine re-announces itself (its state, as at connect): known again. It did not
    // re-announce the air alarm, which stays unconfirmed until it does or the nurse
    // acknowledges it.
    rig.inject(rig.now(), 22_500, EntryBody::State(MachineState::Run));
    rig.settle();
    assert!(!unknown(&rig));
    assert!(rig.harness.query_by_label_contains(&unconfirmed).is_some());
    // The machine clears it: gone.
    rig.inject(
        rig.now(),
        23_000,
        EntryBody::Alarm(Alarm {
            code: "AIR_DETECTED".into(),
            priority: Priority::High,
            active: false,
            text: String::new(),
        }),
    );
    rig.settle();
    assert!(
        rig.harness
            .query_by_label_contains("Air detected")
            .is_none()
    );
}

#[test]
fn a_machine_alarm_shows_in_the_banner_with_its_priority() {
    let mut rig = rig_with(true);
    rig.send(1000, sample(55.0, 100.0));
    rig.send(
        2000,
        Payload::Alarm(Alarm {
            code: "ACCESS_PRESSURE_LOW".into(),
            priority: Priority::High,
            active: true,
            text: "Access pressure low - check patient arm".into(),
        }),
    );
    rig.step_until("the alarm banner shows", |h| {
        h.query_by_label_contains("!!! HIGH  Access pressure low")
            .is_some()
    });
    rig.send(
        3000,
        Payload::Alarm(Alarm {
            code: "ACCESS_PRESSURE_LOW".into(),
            priority: Priority::High,
            active: false,
            text: String::new(),
        }),
    );
    // A high alarm that cleared itself before anyone acknowledged it stays shown, latched,
    // until someone does.
    rig.step_until("the alarm shows as cleared, not acknowledged", |h| {
        h.query_by_label_contains("(cleared, not acknowledged)")
            .is_some()
    });
    rig.harness.get_by_label("Acknowledge").click();
    rig.step_until("the alarm clears", |h| {
        h.query_by_label_contains("Access pressure low").is_none()
    });
}

#[test]
fn adding_a_preset_note_writes_a_note_row() {
    let mut rig = rig_with(true);
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    rig.harness.get_by_label("+ Note").click();
    rig.wait_for_label("Add a note");
    rig.harness.get_by_label("Line repositioned").click();
    rig.harness.step();
    rig.harness.get_by_label("Add note").click();
    rig.harness.step();
    rig.step_until("the note reaches the timeline", |h| {
        h.state()
            .live()
            .is_some_and(|s| !s.timeline.notes.is_empty())
    });
    let path = rig.harness.state().live().unwrap().recording.clone();
    rig.harness.state_mut().shutdown();
    let loaded = recording::load(&path, |_, _| true).unwrap();
    let notes: Vec<_> = loaded
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            apheresis_monitor::model::EntryBody::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].code, "LINE_REPOSITIONED");
    assert_eq!(notes[0].text, "Line repositioned");
}

#[test]
fn start_demo_runs_the_simulated_machine_through_the_serial_path() {
    let mut rig = rig_with(false);
    rig.harness.get_by_label("Start demo").click();
    rig.step_until("the demo machine identifies itself", |h| {
        h.query_by_label("SIM-OPTIA SN000123").is_some()
    });
    rig.step_until("samples arrive", |h| {
        h.state()
            .live()
            .is_some_and(|s| s.timeline.sample_count() > 3)
    });
    let live = rig.harness.state().live().unwrap();
    assert!(live.is_demo());
    assert!(live.link.port.starts_with("/dev/pts/"));
    assert!(live.recording.exists());
    rig.harness.state_mut().shutdown();
}

#[test]
fn an_interrupted_recording_is_offered_at_start_and_resuming_appends_to_the_same_file() {
    use apheresis_monitor::model::{Entry, EntryBody, LinkCode, LinkEvent};
    let crashed = std::sync::Arc::new(std::sync::Mutex::new(None));
    let crashed_path = crashed.clone();
    let mut rig = rig_prepared(false, move |folder, port| {
        // What a monitor that was killed mid-run leaves behind: rows, no closing row.
        let path = folder.join("session-2026-01-01-080000.csv");
        let mut recorder = recording::Recorder::create(&path).unwrap();
        let at = |s: i64| {
            Timestamp::now()
                .checked_sub(SignedDuration::from_secs(60 - s))
                .unwrap()
        };
        let rows = [
            Entry {
                time_utc: at(0),
                elapsed_ms: None,
                seq: None,
                body: EntryBody::Link(LinkEvent::new(
                    LinkCode::Connected,
                    format!("{port} at 115200 baud"),
                )),
            },
            Entry {
                time_utc: at(1),
                elapsed_ms: Some(0),
                seq: Some(0),
                body: EntryBody::State(MachineState::Run),
            },
            Entry {
                time_utc: at(2),
                elapsed_ms: Some(1000),
                seq: Some(1),
                body: EntryBody::Sample(Sample::default().with(Quantity::InletMlMin, 50.0)),
            },
        ];
        for row in &rows {
            recorder.append(row).unwrap();
        }
        *crashed_path.lock().unwrap() = Some(path);
    });
    let path = crashed.lock().unwrap().clone().unwrap();
    rig.wait_for_label("Resume recording");
    rig.harness.get_by_label("Resume recording").click();
    rig.step_until("the resumed session starts", |h| h.state().live().is_some());
    assert_eq!(rig.harness.state().live().unwrap().recording, path);
    // The old rows are on the plots at once.
    assert_eq!(
        rig.harness.state().live().unwrap().timeline.sample_count(),
        1
    );
    rig.wait_until_port_open();
    rig.seq = 5;
    rig.send(5000, sample(57.5, 200.0));
    rig.wait_for_label("57.5");
    rig.harness.state_mut().shutdown();

    let loaded = recording::load(&path, |_, _| true).unwrap();
    assert_eq!(loaded.skipped_rows, 0);
    let links: Vec<LinkCode> = loaded
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Link(l) => Some(l.code),
            _ => None,
        })
        .collect();
    assert!(links.contains(&LinkCode::Resumed), "{links:?}");
    assert!(links.contains(&LinkCode::Restored), "{links:?}");
    assert!(loaded.entries.iter().any(|e| e.seq == Some(5)));
    let restored = loaded.entries.iter().find_map(|e| match &e.body {
        EntryBody::Link(l) if l.code == LinkCode::Restored => Some(l.text.clone()),
        _ => None,
    });
    assert!(
        restored
            .unwrap()
            .contains("3 sentences sent while disconnected")
    );
}

#[test]
fn acknowledging_an_alarm_shows_the_countdown_and_keeps_the_banner() {
    let mut rig = rig_with(true);
    rig.send(1000, sample(55.0, 100.0));
    rig.send(
        2000,
        Payload::Alarm(Alarm {
            code: "AIR_DETECTED".into(),
            priority: Priority::High,
            active: true,
            text: "Air detected in return line".into(),
        }),
    );
    rig.step_until("the alarm banner shows", |h| {
        h.query_by_label_contains("!!! HIGH  Air detected")
            .is_some()
    });
    assert!(
        rig.harness
            .query_by_label_contains("audio paused")
            .is_none()
    );
    rig.harness.get_by_label("Acknowledge").click();
    rig.harness.step();
    rig.harness.step();
    assert!(
        rig.harness.query_by_label("audio paused 2:00").is_some(),
        "countdown missing"
    );
    assert!(
        rig.harness
            .query_by_label_contains("!!! HIGH  Air detected")
            .is_some()
    );
    rig.advance_s(30);
    rig.harness.step();
    assert!(rig.harness.query_by_label("audio paused 1:30").is_some());
    assert!(
        rig.harness
            .query_by_label_contains("!!! HIGH  Air detected")
            .is_some()
    );
    // The acknowledgement is on the record.
    rig.step_until("the acknowledgement is recorded", |h| {
        h.state()
            .live()
            .is_some_and(|s| s.timeline.notes.iter().any(|n| n.code == "ALARM_ACK"))
    });
}

#[test]
fn the_citrate_alarm_shows_when_the_sessions_mean_passes_its_limit_on_the_apps_clock() {
    use apheresis_monitor::alarms::{AlarmSettings, SessionLimits};
    let mut rig = rig_with(true);
    // The session took the app's settings as its limits when it started, in its metadata.
    rig.step_until("the session's limits are in its metadata", |h| {
        h.state().live().unwrap().meta().limits.is_some()
    });
    let live = rig.harness.state().live().unwrap();
    let stored = SessionLimits::from_meta(&AlarmSettings::default(), live.meta().limits.as_ref());
    assert_eq!(stored.settings, rig.harness.state().settings.alarms);
    assert!(stored.complaints().is_empty(), "{:?}", stored.complaints());
    // The defaults: 1.2 mL/min per L TBV, no delay (the mean is the delay), not latching.
    let defaults = stored.settings.citrate_high;
    assert_eq!(
        (defaults.limit, defaults.delay_s, defaults.latching),
        (1.2, 0.0, false)
    );
    assert_eq!(stored.settings.citrate.average_min, 5.0);
    // Male, 175 cm, 70 kg: TBV 4.8237547 L (Nadler). This session averages over 2 minutes,
    // set the way the alarm limits window sets it; the app's defaults stay as they were.
    rig.harness
        .state_mut()
        .live_mut()
        .unwrap()
        .edit_meta(|meta| {
            meta.patient = Some(apheresis_monitor::recording::meta::PatientMeta {
                weight_kg: Some(70.0.into()),
                height_cm: Some(175.0.into()),
                sex: Some("male".into()),
                ..Default::default()
            });
        });
    let mut session_limits = stored.settings;
    session_limits.citrate.average_min = 2.0;
    rig.harness
        .state_mut()
        .live_mut()
        .unwrap()
        .set_alarm_limits(session_limits);
    assert_eq!(rig.harness.state().settings.alarms.citrate.average_min, 5.0);
    let ac = |v: f64| {
        EntryBody::Sample(
            Sample::default()
                .with(Quantity::InletMlMin, 60.0)
                .with(Quantity::AcMlMin, v)
                .with(Quantity::AccessMmhg, -40.0),
        )
    };
    // The samples are received on the app's clock, one a second: time is fake end to end.
    let t0 = rig.now();
    let at = |s: u64| plus_ms(t0, s as i64 * 1000);
    let citrate_banner = |rig: &Rig| {
        rig.harness
            .query_by_label_contains("MEDIUM  Citrate")
            .is_some()
    };
    // Priming, 0–60 s, at 7.2 mL/min: the AC goes into the kit, not the patient.
    rig.inject(at(0), 0, EntryBody::State(MachineState::Prime));
    for s in 0..=60 {
        rig.set_clock(at(s));
        rig.inject(at(s), s * 1000, ac(7.2));
        rig.frames(2);
        assert!(!citrate_banner(&rig), "citrate alarm while priming, {s} s");
    }
    // RUN from 61 s at the same 7.2 mL/min. The 2-minute mean at the sample of T s is that of
    // the samples T − 120 … T − 1 (each holds a second), the priming ones counting as none:
    // 7.2 × (T − 61) ÷ 120 > 1.2 × 4.8237547 = 5.7885 ⇔ T − 61 > 96.5 ⇔ T ≥ 158.
    rig.inject(at(61), 61_000, EntryBody::State(MachineState::Run));
    for s in 61..=157 {
        rig.set_clock(at(s));
        rig.inject(at(s), s * 1000, ac(7.2));
        rig.frames(2);
        assert!(
            !citrate_banner(&rig),
            "citrate alarm before the mean passes the limit, {s} s"
        );
    }
    rig.set_clock(at(158));
    rig.inject(at(158), 158_000, ac(7.2));
    rig.frames(2);
    // Its mean: 7.2 × 97 ÷ 120 = 5.82 mL/min; 5.82 ÷ 4.8237547 = 1.2065 per L;
    // 5.82 × 21.3 ÷ 70 = 1.7709 mg/kg/min.
    assert!(
        rig.harness
            .query_by_label_contains(
                "!! MEDIUM  Citrate 1.21 mL/min per L TBV ACD-A (2-min mean, 1.77 mg/kg/min)"
            )
            .is_some(),
        "no citrate alarm when the 2-minute mean passed the limit"
    );
    // The citrate tile reads the number the alarm compares, with mg/kg/min beside it.
    assert!(
        rig.harness.query_by_label("1.21").is_some(),
        "the tile's mean"
    );
    assert!(rig.harness.query_by_label("= 1.77 mg/kg/min").is_some());
    // The monitor's alarm is recorded.
    rig.step_until("the citrate alarm row comes back from the recorder", |h| {
        h.state()
            .live()
            .unwrap()
            .timeline
            .alarms
            .iter()
            .any(|a| a.code == "MON_CITRATE_HIGH")
    });
    let path = rig.harness.state().live().unwrap().recording.clone();
    rig.harness.state_mut().shutdown();
    let loaded = recording::load(&path, |_, _| true).unwrap();
    let rows: Vec<Alarm> = loaded
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Alarm(a) if a.code == "MON_CITRATE_HIGH" => Some(a.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].priority, rows[0].active), (Priority::Medium, true));
    assert!(
        rows[0].text.starts_with("Citrate 1.21 mL/min per L TBV"),
        "{}",
        rows[0].text
    );
    // The session's limits are in its metadata on disk, with its 2-minute mean.
    let meta = loaded.meta.expect("the metadata beside the recording");
    let on_disk = SessionLimits::from_meta(&AlarmSettings::default(), meta.limits.as_ref());
    assert_eq!(on_disk.settings, session_limits);
}

#[test]
fn the_alarm_limits_window_shows_the_sessions_citrate_limit_in_mg_per_kg() {
    let mut rig = rig_with(true);
    rig.harness
        .state_mut()
        .live_mut()
        .unwrap()
        .edit_meta(|meta| {
            meta.patient = Some(apheresis_monitor::recording::meta::PatientMeta {
                weight_kg: Some(40.0.into()),
                height_cm: Some(155.0.into()),
                sex: Some("female".into()),
                ..Default::default()
            });
        });
    rig.harness.get_by_label("Alarm limits").click();
    rig.wait_for_label("Limits of this session, saved with its recording");
    // Female, 155 cm, 40 kg: Nadler 0.3561 × 1.55³ + 0.03308 × 40 + 0.1833 = 2.8325719 L;
    // 1.2 mL/min per L × 21.3 mg/mL × 2.8325719 L ÷ 40 kg = 1.8101 mg/kg/min.
    rig.wait_for_label("= 1.81 mg/kg/min");
    // The anticoagulant, ACD-A by default, with its citrate content from the table.
    assert!(rig.harness.query_by_label("21.3 mg/mL citrate").is_some());
    assert!(
        rig.harness
            .query_by_label_contains("cleared below 1.08")
            .is_some()
    );
}

#[test]
fn a_recorded_session_exports_its_summary_from_the_replay_view() {
    use apheresis_monitor::model::{Entry, EntryBody};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.csv");
    let mut recorder = recording::Recorder::create(&path).unwrap();
    let at = |s: i64| Timestamp::from_second(1_773_475_500 + s).unwrap();
    recorder
        .append(&Entry {
            time_utc: at(0),
            elapsed_ms: Some(0),
            seq: Some(0),
            body: EntryBody::State(MachineState::Run),
        })
        .unwrap();
    for s in 1..=120u64 {
        let body = EntryBody::Sample(
            Sample::default()
                .with(Quantity::InletMlMin, 60.0)
                .with(Quantity::InletMl, s as f64)
                .with(Quantity::AcMl, s as f64 / 12.0),
        );
        recorder
            .append(&Entry {
                time_utc: at(s as i64),
                elapsed_ms: Some(s * 1000),
                seq: Some(s as u32),
                body,
            })
            .unwrap();
    }
    drop(recorder);
    let settings = Settings {
        session_folder: Some(dir.path().to_owned()),
        ..Settings::default()
    };
    let app = MonitorApp::new(
        settings,
        Launch::Replay {
            path: path.clone(),
            speed: 60.0,
        },
        Clock::default(),
    );
    let mut harness = Harness::builder()
        .with_size([1366.0, 768.0])
        .build_ui_state(
            |ui, app: &mut MonitorApp| {
                app.logic(ui.ctx());
                app.ui(ui);
            },
            app,
        );
    let step_until = |harness: &mut Harness<'static, MonitorApp>,
                      what: &str,
                      done: &dyn Fn(&Harness<'static, MonitorApp>) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(harness) {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            harness.step();
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    step_until(&mut harness, "the recording opens", &|h| {
        h.state().replay().is_some()
    });
    harness.step();
    // The controls are drawn with the typeface's symbols (kittest fails on a missing glyph),
    // and play/pause toggles between them.
    let playing = harness.query_by_label("⏸ Pause").is_some();
    let (now, next) = if playing {
        ("⏸ Pause", "▶ Play")
    } else {
        ("▶ Play", "⏸ Pause")
    };
    for label in ["⏮ Start", "⏪ 1 min", "1 min ⏩", "End ⏭"] {
        harness.get_by_label(label);
    }
    harness.get_by_label(now).click();
    step_until(&mut harness, "play/pause toggles", &|h| {
        h.query_by_label(next).is_some()
    });
    harness.get_by_label(next).click();
    step_until(&mut harness, "play/pause toggles back", &|h| {
        h.query_by_label(now).is_some()
    });
    harness.get_by_label("Export summary…").click();
    step_until(&mut harness, "the summary is computed", &|h| {
        h.query_by_label("Save PDF report beside the recording")
            .is_some()
    });
    harness
        .get_by_label("Save PDF report beside the recording")
        .click();
    step_until(&mut harness, "the PDF is written", &|h| {
        h.query_by_label_contains("Saved PDF report").is_some()
    });
    let pdf = std::fs::read(dir.path().join("session.summary.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    harness
        .get_by_label("Save CSV row beside the recording")
        .click();
    step_until(&mut harness, "the CSV is written", &|h| {
        h.query_by_label_contains("Saved CSV row").is_some()
    });
    let csv = std::fs::read_to_string(dir.path().join("session.summary.csv")).unwrap();
    assert!(csv.starts_with("recording_file,"), "{csv}");
    // The replay exported from what it already held; the file, summarised afresh, says the same.
    let from_file = apheresis_monitor::export::Report::load(&path).unwrap();
    let again = dir.path().join("again.csv");
    apheresis_monitor::export::write(apheresis_monitor::export::Format::Csv, &from_file, &again)
        .unwrap();
    assert_eq!(csv, std::fs::read_to_string(&again).unwrap());
}

#[test]
fn a_failing_recording_raises_a_high_alarm_that_latches_until_acknowledged() {
    use apheresis_monitor::acquisition::AcqEvent;
    let mut rig = rig_with(true);
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    rig.harness
        .state_mut()
        .live_mut()
        .unwrap()
        .apply(AcqEvent::RecorderError {
            message: "cannot write to recording: No space left on device (os error 28)".into(),
            pending_rows: 42,
        });
    rig.step_until("the recording alarm shows", |h| {
        h.query_by_label_contains("!!! HIGH  Recording is failing — 42 rows kept in memory")
            .is_some()
    });
    let live = rig.harness.state().live().unwrap();
    assert_eq!(
        live.alarms.sounding(rig.now()),
        Some(Priority::High),
        "the high alarm sounds"
    );
    rig.harness
        .state_mut()
        .live_mut()
        .unwrap()
        .apply(AcqEvent::RecorderRecovered);
    rig.step_until("the latched alarm shows as ended", |h| {
        h.query_by_label_contains("Recording failed").is_some()
            && h.query_by_label_contains("rows kept in memory").is_none()
    });
    rig.harness.get_by_label("Acknowledge").click();
    rig.step_until("the latched alarm clears", |h| {
        h.query_by_label_contains("Recording failed").is_none()
    });
}

/// The thread ids of this process that `strace` does not trace yet.
fn untraced_threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("status")).is_ok_and(|status| {
                status.lines().any(|l| {
                    l.starts_with("TracerPid:") && l.split_whitespace().nth(1) == Some("0")
                })
            })
        })
        .map(|task| task.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn stopping_while_the_disk_stalls_keeps_the_window_drawing() {
    // Once strace is attached, every fdatasync of this process waits this long in the kernel
    // before it runs: a disk that stalls. strace injects the delay into the real system call.
    const STALL: Duration = Duration::from_secs(3);
    let mut rig = rig_with(true);
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    let mut strace = std::process::Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=fdatasync"])
        .arg("-e")
        .arg(format!(
            "inject=fdatasync:delay_enter={}",
            STALL.as_micros()
        ))
        .args(["-p", &std::process::id().to_string()])
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("strace is needed for this test (apt install strace)");
    support::wait_until(WAIT, "strace to attach to every thread", || {
        untraced_threads().is_empty()
    });
    rig.harness.get_by_label("Stop recording").click();
    let asked = Instant::now();
    let mut frames = 0u32;
    let mut slowest = Duration::ZERO;
    loop {
        let frame = Instant::now();
        rig.harness.step();
        slowest = slowest.max(frame.elapsed());
        frames += 1;
        if rig
            .harness
            .state()
            .live()
            .is_some_and(apheresis_monitor::session::LiveSession::is_stopped)
        {
            break;
        }
        assert!(asked.elapsed() < WAIT, "the recording never closed");
        std::thread::sleep(Duration::from_millis(10));
    }
    let stop_took = asked.elapsed();
    let _ = strace.kill();
    let _ = strace.wait();
    assert!(
        stop_took >= STALL,
        "the stop took {stop_took:?}: the stall did not reach the recorder, so this proves nothing"
    );
    assert!(
        slowest < Duration::from_millis(500),
        "a frame took {slowest:?} while the recording was being closed"
    );
    assert!(frames >= 20, "only {frames} frames in {stop_took:?}");
    // The session shows as recorded, with what can be done with it.
    rig.wait_for_label("Export summary…");
    assert!(rig.harness.query_by_label("Stop recording").is_none());
}

/// Asks the app's window to close, as the window's close button does, for one frame.
fn request_close(rig: &mut Rig) {
    let root = egui::ViewportId::ROOT;
    let viewport = rig.harness.input_mut().viewports.entry(root).or_default();
    viewport.events.push(egui::ViewportEvent::Close);
    rig.harness.step();
    let viewport = rig.harness.input_mut().viewports.entry(root).or_default();
    viewport.events.clear();
}

/// Whether the app asked, in the last frame, for `command` on its window.
fn asked_for(rig: &Rig, command: &egui::ViewportCommand) -> bool {
    rig.harness
        .output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .is_some_and(|out| out.commands.contains(command))
}

#[test]
fn closing_the_window_while_recording_asks_first_and_stops_only_when_told() {
    let mut rig = rig_with(true);
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    request_close(&mut rig);
    assert!(
        asked_for(&rig, &egui::ViewportCommand::CancelClose),
        "the window closed over a running recording"
    );
    rig.wait_for_label("Stop recording and quit?");
    rig.harness.get_by_label("Keep recording").click();
    rig.frames(3);
    assert!(
        rig.harness
            .query_by_label("Stop recording and quit?")
            .is_none()
    );
    assert!(rig.harness.state().live().unwrap().is_recording());
    // Still recording: new data arrives and is shown.
    rig.send(2000, sample(61.0, 101.0));
    rig.wait_for_label("61.0");

    request_close(&mut rig);
    rig.wait_for_label("Stop recording and quit?");
    rig.harness.get_by_label("Stop recording and quit").click();
    let mut closed = false;
    rig.step_until("the recording closes and the window with it", |h| {
        closed |= h
            .output()
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .is_some_and(|out| out.commands.contains(&egui::ViewportCommand::Close));
        closed
    });
    assert!(
        rig.harness.state().live().is_none(),
        "the session was closed"
    );
    let path = std::fs::read_dir(rig.harness.state().settings.session_folder())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "csv"))
        .unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.trim_end().ends_with("recording stopped"),
        "the recording does not end with its CLOSED row: {}",
        text.lines().last().unwrap_or_default()
    );
}

#[test]
fn stopping_the_recording_during_run_asks_first() {
    let mut rig = rig_with(true);
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    rig.harness.get_by_label("Stop recording").click();
    rig.wait_for_label("Stop recording during RUN?");
    rig.frames(3);
    assert!(
        rig.harness.state().live().unwrap().is_recording(),
        "one click stopped the recording during RUN"
    );
    rig.harness.get_by_label("Keep recording").click();
    rig.frames(3);
    assert!(
        rig.harness
            .query_by_label("Stop recording during RUN?")
            .is_none()
    );
    assert!(rig.harness.state().live().unwrap().is_recording());
    rig.send(2000, sample(61.0, 101.0));
    rig.wait_for_label("61.0");

    rig.harness.get_by_label("Stop recording").click();
    rig.wait_for_label("Stop recording during RUN?");
    rig.harness.get_by_label("Stop the recording").click();
    rig.step_until("the recording closes", |h| {
        h.state()
            .live()
            .is_some_and(apheresis_monitor::session::LiveSession::is_stopped)
    });
    rig.wait_for_label("Export summary…");
    assert!(
        rig.harness
            .query_by_label("Stop recording during RUN?")
            .is_none()
    );
}

#[test]
fn outside_run_stop_recording_stops_at_once() {
    let mut rig = rig_with(true);
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.send(2000, Payload::State(MachineState::Pause));
    rig.wait_for_label("PAUSE");
    rig.harness.get_by_label("Stop recording").click();
    rig.step_until("the recording closes", |h| {
        h.state()
            .live()
            .is_some_and(apheresis_monitor::session::LiveSession::is_stopped)
    });
    assert!(
        rig.harness
            .query_by_label("Stop recording during RUN?")
            .is_none()
    );
}

#[test]
fn a_note_can_be_added_after_the_machine_ends_until_the_recording_is_stopped() {
    let mut rig = rig_with(true);
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.send(2000, Payload::State(MachineState::End));
    rig.wait_for_label("END");
    rig.frames(5);
    // The machine has stopped; the recording has not, so the post-disconnect vitals can go in.
    assert!(rig.harness.state().live().unwrap().is_recording());
    rig.harness.get_by_label("+ Note").click();
    rig.wait_for_label("Add a note");
    // Vital signs after the machine's END are after collection unless the nurse says.
    rig.wait_for_label("(from the machine's state)");
    for (field, text) in [("BP systolic", "112"), ("BP diastolic", "70")] {
        rig.harness
            .get_by_role_and_label(Role::TextInput, field)
            .set_text_value_accesskit(text);
        rig.harness.step();
    }
    rig.harness.get_by_label("Add note").click();
    rig.harness.step();
    rig.step_until("the note reaches the timeline", |h| {
        h.state()
            .live()
            .is_some_and(|s| !s.timeline.notes.is_empty())
    });
    // The machine falls silent after END: no data alarm for that.
    rig.advance_s(30);
    rig.settle();
    assert!(
        rig.harness
            .query_by_label_contains("No data from")
            .is_none()
    );
    assert_eq!(
        rig.harness
            .state()
            .live()
            .unwrap()
            .alarms
            .sounding(rig.now()),
        None
    );
    // Outside RUN the stop needs no confirmation.
    rig.harness.get_by_label("Stop recording").click();
    rig.step_until("the recording closes", |h| {
        h.state()
            .live()
            .is_some_and(apheresis_monitor::session::LiveSession::is_stopped)
    });
    rig.wait_for_label("Export summary…");
    let path = rig.harness.state().live().unwrap().recording.clone();
    let loaded = recording::load(&path, |_, _| true).unwrap();
    let kinds: Vec<String> = loaded
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::State(MachineState::End) => Some("END".to_owned()),
            EntryBody::Note(n) => Some(format!(
                "{} {}",
                n.code,
                apheresis_monitor::analysis::records::Record::readable(&n.text)
            )),
            EntryBody::Link(l) if l.code == LinkCode::Closed => Some(format!("CLOSED {}", l.text)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "END",
            "VITALS After collection: BP 112/70 mmHg",
            "CLOSED procedure ended"
        ]
    );
}

/// Opens the note form on a live session with data.
fn open_note_form(rig: &mut Rig) {
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    rig.harness.get_by_label("+ Note").click();
    rig.wait_for_label("Add a note");
}

#[test]
fn vitals_typed_in_the_note_form_survive_a_preset_switch_and_go_into_the_note() {
    let mut rig = rig_with(true);
    open_note_form(&mut rig);
    rig.type_into("BP systolic", "112");
    rig.type_into("BP diastolic", "70");
    rig.harness.get_by_label("Line repositioned").click();
    rig.frames(2);
    assert_eq!(
        rig.harness
            .get_by_role_and_label(Role::TextInput, "BP systolic")
            .value()
            .as_deref(),
        Some("112")
    );
    rig.harness.get_by_label("Add note").click();
    rig.harness.step();
    // The preset's note, and the vital signs as a record of their own.
    rig.step_until("the notes reach the timeline", |h| {
        h.state()
            .live()
            .is_some_and(|s| s.timeline.notes.len() == 2)
    });
    let path = rig.harness.state().live().unwrap().recording.clone();
    rig.harness.state_mut().shutdown();
    let loaded = recording::load(&path, |_, _| true).unwrap();
    let notes: Vec<_> = loaded
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].code, "LINE_REPOSITIONED");
    assert_eq!(notes[0].text, "Line repositioned");
    assert_eq!(notes[1].code, "VITALS");
    assert_eq!(
        apheresis_monitor::analysis::records::Record::readable(&notes[1].text),
        "During collection: BP 112/70 mmHg"
    );
}

#[test]
fn vitals_need_the_nurse_to_say_when_they_were_taken_while_the_machine_state_is_unknown() {
    let mut rig = rig_with(true);
    // Samples, but the machine has not said its state.
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    rig.harness.get_by_label("+ Note").click();
    rig.wait_for_label("Add a note");
    rig.wait_for_label("(machine state unknown: choose)");
    rig.type_into("HR", "88");
    rig.wait_for_label_contains("choose when the vital signs were taken");
    assert!(
        rig.harness
            .get_by_label("Add note")
            .accesskit_node()
            .is_disabled()
    );
    rig.harness.get_by_label("during").click();
    rig.frames(2);
    assert!(
        rig.harness
            .query_by_label_contains("choose when the vital signs were taken")
            .is_none()
    );
    rig.harness.get_by_label("Add note").click();
    rig.step_until("the note reaches the timeline", |h| {
        h.state()
            .live()
            .is_some_and(|s| !s.timeline.notes.is_empty())
    });
    let timeline = &rig.harness.state().live().unwrap().timeline;
    assert_eq!(
        apheresis_monitor::analysis::records::Record::readable(&timeline.notes[0].text),
        "During collection: HR 88/min"
    );
}

#[test]
fn the_note_form_shows_a_problem_only_after_input_and_its_add_button_stays_put() {
    let mut rig = rig_with(true);
    open_note_form(&mut rig);
    rig.frames(2);
    assert!(
        rig.harness
            .query_by_label_contains("enter at least one observation")
            .is_none(),
        "a problem shown before any input"
    );
    let before = rig.harness.get_by_label("Add note").rect();
    rig.type_into("BP systolic", "112");
    assert!(
        rig.harness
            .query_by_label_contains("blood pressure needs both")
            .is_some()
    );
    let with_problem = rig.harness.get_by_label("Add note").rect();
    rig.type_into("BP diastolic", "70");
    assert!(
        rig.harness
            .query_by_label_contains("blood pressure needs both")
            .is_none()
    );
    let after = rig.harness.get_by_label("Add note").rect();
    assert_eq!(
        before, with_problem,
        "the Add button moved when a problem showed"
    );
    assert_eq!(
        with_problem, after,
        "the Add button moved when the problem went"
    );
}

#[test]
fn the_status_bar_counts_messages_in_a_nurses_words() {
    let mut rig = rig_with(true);
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    // Two messages from the machine, none rejected, none lost.
    rig.wait_for_label("2 messages · 0 rejected · 0 lost");
    assert!(rig.harness.query_by_label_contains("sentences").is_none());
}
