//! The forms (Setup, Note, Alarm limits, Export) open in a side panel that never covers the
//! alarm banner or the tiles, and a note's time can be set back. Driven through the
//! accessibility tree (`egui_kittest`) with data arriving on a pseudo-terminal.
//!
//! The confirm-stop dialog and a note after the machine's END are covered in `tests/ui.rs`
//! (`stopping_the_recording_during_run_asks_first`,
//! `a_note_can_be_added_after_the_machine_ends_until_the_recording_is_stopped`).

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use apheresis_monitor::model::{Alarm, EntryBody, MachineState, Payload, Priority};
use apheresis_monitor::recording;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use jiff::Timestamp;

#[path = "support/live_rig.rs"]
mod live_rig;

use live_rig::{Rig, live_rig, sample};

/// The open form's title: the top left of the side panel's content.
fn form_title(rig: &Rig, title: &str) -> egui::Rect {
    rig.harness
        .query_all_by_label(title)
        .map(|n| n.rect())
        .max_by(|a, b| a.left().total_cmp(&b.left()))
        .expect("the form's title")
}

/// Every widget named here lies wholly outside the form: left of it, or above it (live, the
/// form opens below the banner and the primary values, which keep the whole width).
fn assert_clear_of_form(rig: &Rig, title: &str, names: &[&str]) {
    let form = form_title(rig, title);
    assert!(
        form.left() < 1366.0 - 300.0,
        "{title}: the form is not in a side panel (left edge {})",
        form.left()
    );
    for name in names {
        let rect = rig.rect(name);
        assert!(
            rect.right() <= form.left() || rect.bottom() <= form.top(),
            "{title} covers `{name}`: {rect:?} reaches into the form at {form:?}"
        );
    }
}

#[test]
fn no_form_covers_the_alarm_banner_or_the_tiles() {
    let mut rig = live_rig();
    rig.send(0, Payload::State(MachineState::Run));
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
        h.query_by_label_contains("Access pressure low").is_some()
    });
    rig.wait_for_label("55.0");
    let watched = ["Access pressure low", "55.0", "Acknowledge"];

    rig.harness.get_by_label("Setup").click();
    rig.wait_for_label("Save patient details");
    let with_a_form: Vec<_> = watched.iter().map(|n| rig.rect(n)).collect();
    assert_clear_of_form(&rig, "Session setup", &watched);

    rig.harness.get_by_label("+ Note").click();
    rig.wait_for_label("Add note");
    assert!(
        rig.harness.query_by_label("Save patient details").is_none(),
        "one form at a time"
    );
    assert_clear_of_form(&rig, "Add a note", &watched);

    rig.harness.get_by_label("Alarm limits").click();
    rig.wait_for_label("Limits of this session, saved with its recording");
    assert_clear_of_form(&rig, "Alarm limits", &watched);
    // Technical alarms cannot be switched off, and pressure limits read as whole mmHg.
    assert!(
        rig.harness
            .query_by_label("Technical alarms (always on)")
            .is_some()
    );
    assert!(rig.harness.query_by_label_contains(".00 mmHg").is_none());

    // The alarm list, in the same panel: the machine's HIGH alarm is in it.
    rig.harness.get_by_label_contains("Alarm list (").click();
    rig.wait_for_label("Alarm review");
    assert_clear_of_form(&rig, "Alarm list", &watched);
    assert!(
        rig.harness
            .query_all_by_label_contains("Access pressure low")
            .count()
            >= 2,
        "the alarm is in the banner and in the list"
    );

    rig.harness.get_by_label("Alarm limits").click();
    rig.wait_for_label("Limits of this session, saved with its recording");
    // Closing the form gives the screen its width back; nothing jumps up or down.
    rig.harness.get_by_label("Close").click();
    rig.harness.step();
    rig.harness.step();
    assert!(
        rig.harness
            .query_by_label("Technical alarms (always on)")
            .is_none()
    );
    let after: Vec<_> = watched.iter().map(|n| rig.rect(n)).collect();
    for ((name, before), after) in watched.iter().zip(&with_a_form).zip(&after) {
        assert_eq!(before.top(), after.top(), "`{name}` moved up or down");
    }

    // The export form, once the recording has stopped (outside RUN it stops at once).
    rig.send(3000, Payload::State(MachineState::End));
    rig.wait_for_label("END");
    rig.harness.get_by_label("Stop recording").click();
    rig.step_until("the recording closes", |h| {
        h.state()
            .live()
            .is_some_and(apheresis_monitor::session::LiveSession::is_stopped)
    });
    rig.wait_for_label("Export summary…");
    rig.harness.get_by_label("Export summary…").click();
    rig.wait_for_label("Print…");
    assert_clear_of_form(&rig, "Export summary", &["55.0"]);

    // Print… writes the PDF beside the recording and hands it to the system's opener (here
    // there may be none: then the form says it could not open it, naming the file).
    let recording = rig.harness.state().live().unwrap().recording.clone();
    rig.harness.get_by_label("Print…").click();
    rig.step_until("the PDF is written and handed to the opener", |h| {
        h.query_by_label_contains("opened to print").is_some()
            || h.query_by_label_contains("cannot open").is_some()
    });
    let pdf = apheresis_monitor::export::beside(&recording, apheresis_monitor::export::Format::Pdf);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
}

#[test]
fn a_note_set_back_is_recorded_for_its_time_and_marked_as_entered_later() {
    let mut rig = live_rig();
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    let started: Timestamp = rig
        .harness
        .state()
        .live()
        .unwrap()
        .meta()
        .started_utc
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    // Half an hour on, the nurse writes up the blood pressure taken 10 minutes in.
    rig.advance_s(30 * 60);
    let tz = jiff::tz::TimeZone::system();
    let local = |t: Timestamp| {
        t.to_zoned_datetime(tz.clone())
            .strftime("%H:%M")
            .to_string()
    };
    let taken = started
        .checked_add(jiff::SignedDuration::from_secs(10 * 60 + 30))
        .unwrap();
    let entered = rig.now();
    rig.harness.get_by_label("+ Note").click();
    rig.wait_for_label("Add note");
    rig.type_into("BP systolic", "112");
    rig.type_into("BP diastolic", "70");
    rig.type_into("Time", &local(taken));
    rig.wait_for_label(&format!(
        "Recorded for {}, marked as entered later",
        local(taken)
    ));
    // A time before the session started is refused, and so the note cannot be added.
    let before = started
        .checked_sub(jiff::SignedDuration::from_secs(5 * 60))
        .unwrap();
    rig.type_into("Time", &local(before));
    assert!(
        rig.harness
            .query_by_label_contains("before the session started")
            .is_some()
    );
    rig.type_into("Time", &local(taken));
    rig.harness.get_by_label("Add note").click();
    rig.harness.step();
    rig.step_until("the note reaches the timeline", |h| {
        h.state()
            .live()
            .is_some_and(|s| !s.timeline.notes.is_empty())
    });
    let path = rig.harness.state().live().unwrap().recording.clone();
    rig.harness.state_mut().shutdown();
    let expected = format!(
        "[for {}, entered later at {}] During collection: BP 112/70 mmHg",
        local(taken),
        local(entered)
    );
    let loaded = recording::load(&path, |_, _| true).unwrap();
    let notes: Vec<_> = loaded
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Note(n) => Some((
                e.time_utc,
                n.code.clone(),
                apheresis_monitor::analysis::records::Record::readable(&n.text),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].1, "VITALS");
    assert_eq!(notes[0].2, expected);
    // The summary's note log carries it as written, for the time it was entered.
    let report = apheresis_monitor::export::Report::load(&path).unwrap();
    let log: Vec<_> = report
        .summary
        .note_log
        .iter()
        .map(|n| apheresis_monitor::analysis::records::Record::readable(&n.text))
        .collect();
    assert_eq!(log, std::slice::from_ref(&expected));
    assert!(apheresis_monitor::export::render_text(&report.summary).contains(&expected));
}

/// The collection record in Setup: identity, kit and labs are checked as they are typed, with
/// the reason shown; a lab's unit is chosen; what is saved is what the summary reads back.
#[test]
fn setup_checks_the_collection_record_as_it_is_typed_and_saves_it() {
    let mut rig = live_rig();
    // No patient yet: Setup opens by itself, beside the monitor.
    rig.wait_for_label("Save patient details");
    rig.type_into("Weight (kg)", "68");
    rig.type_into("NHS number", "943 476 5918");
    rig.wait_for_label("the NHS number's check digit does not match: a digit is mistyped");
    rig.type_into("Kit expiry", "2020-01");
    rig.wait_for_label("the kit expired on 2020-01-31: use another kit");
    rig.type_into("pre-collection CD3+", "0.95");
    rig.wait_for_label(
        "pre-collection CD3+ 0.95 cells/µL is outside the plausible 5–50000 cells/µL: check the unit",
    );
    let save = rig.harness.get_by_label("Save patient details");
    assert!(
        save.accesskit_node().is_disabled(),
        "nothing is saved while a field is wrong"
    );

    // Corrected: the right check digit, a kit in date, the count in the lab's own unit.
    rig.type_into("NHS number", "943 476 5919");
    rig.type_into("Kit expiry", "2099-12");
    // The labs are at the foot of the form: scrolled to, as the nurse would.
    rig.harness
        .get_by_role_and_label(Role::ComboBox, "pre-collection CD3+")
        .scroll_to_me();
    rig.harness.step();
    rig.harness.step();
    rig.harness
        .get_by_role_and_label(Role::ComboBox, "pre-collection CD3+")
        .click_accesskit();
    rig.harness.step();
    rig.harness.step();
    rig.harness.get_by_label("×10⁹/L").click_accesskit();
    rig.harness.step();
    rig.harness.step();
    assert!(
        rig.harness
            .query_by_label_contains("is outside the plausible")
            .is_none()
    );
    rig.type_into("Collection ID", "KTE-2026-00417");
    rig.harness
        .get_by_label("Save patient details")
        .click_accesskit();
    rig.harness.step();
    let path = rig.harness.state().live().unwrap().recording.clone();
    rig.step_until("the metadata is saved", |_| {
        recording::read_meta(&path)
            .ok()
            .flatten()
            .is_some_and(|m| m.collection.is_some())
    });
    let meta = recording::read_meta(&path).unwrap().unwrap();
    let patient = meta.patient.unwrap();
    assert_eq!(patient.nhs_number, Some("9434765919".into()));
    assert_eq!(
        meta.lab.unwrap().extra.get("pre_cd3"),
        Some(&serde_json::json!({"value": 0.95, "unit": "10*9/L"}))
    );
    assert_eq!(
        meta.collection.unwrap().kit_expiry,
        Some("2099-12-31".into())
    );
}
