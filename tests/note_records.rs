//! The note form's structured records, driven through the accessibility tree (`egui_kittest`)
//! on a live session fed through a pseudo-terminal: a calcium dose shown in mmol as it is typed,
//! a reaction with its CTCAE grade, and a product sample in ×10⁶/mL, each read back from the
//! stopped recording's collection record; and a note in characters the record cannot print,
//! refused on the form.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use apheresis_monitor::analysis::records::Record;
use apheresis_monitor::model::{EntryBody, MachineState, Payload};
use apheresis_monitor::recording;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

#[path = "support/live_rig.rs"]
mod live_rig;

use live_rig::{Rig, live_rig, sample};

impl Rig {
    fn open_note_form(&mut self) {
        self.harness.get_by_label("+ Note").click();
        self.wait_for_label("Add note");
    }

    /// Clicks the control labelled `label` (found through the accessibility tree) and lets
    /// two frames pass.
    fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click_accesskit();
        self.harness.step();
        self.harness.step();
    }

    /// Types `text` into the note's (multi-line) text.
    fn type_note(&mut self, text: &str) {
        self.harness
            .get_by_role_and_label(Role::MultilineTextInput, "Note text")
            .set_text_value_accesskit(text);
        self.harness.step();
        self.harness.step();
    }

    /// Adds the note as typed and waits until the timeline holds `count` notes.
    fn add_note(&mut self, count: usize) {
        // The form is taller than the panel: the button is scrolled to, as the nurse would.
        self.harness.get_by_label("Add note").scroll_to_me();
        self.harness.step();
        self.harness.step();
        self.harness.get_by_label("Add note").click_accesskit();
        self.harness.step();
        self.step_until(&format!("{count} notes reach the timeline"), |h| {
            h.state()
                .live()
                .is_some_and(|s| s.timeline.notes.len() >= count)
        });
    }
}

#[test]
fn calcium_a_reaction_and_a_product_sample_are_recorded_as_structured_records() {
    let mut rig = live_rig();
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    rig.open_note_form();

    // Calcium chloride 10 %, 10 mL: the dose in mmol shows as it is typed.
    rig.click("Calcium given");
    rig.click("Chloride 10 %");
    rig.type_into("Amount (mL)", "200");
    rig.wait_for_label("a calcium dose of 200 mL is outside 0–100 mL");
    assert!(
        rig.harness
            .get_by_label("Add note")
            .accesskit_node()
            .is_disabled(),
        "a dose out of range can be added"
    );
    rig.type_into("Amount (mL)", "10");
    rig.wait_for_label("= 6.8 mmol");
    rig.add_note(1);
    // Added, the form closes; it opens again empty.
    rig.step_until("the form closes", |h| {
        h.query_by_label("Add note").is_none()
    });
    rig.open_note_form();

    // A reaction: no grade, no record; grade 2 and it goes in.
    rig.click("Reaction");
    rig.harness
        .get_by_role_and_label(Role::ComboBox, "Kind")
        .click_accesskit();
    rig.harness.step();
    rig.harness.step();
    rig.click("Hypotension");
    rig.type_into("Action taken", "rate reduced, fluids");
    rig.wait_for_label("choose the CTCAE grade (1–4)");
    rig.click("2 moderate");
    rig.type_into("Outcome", "resolved");
    // A remark typed beside it is a note of its own.
    rig.type_into("Remark", "felt faint on standing");
    rig.add_note(3);

    // A product sample counted in ×10⁶/mL, the unit picked from its list.
    rig.step_until("the form closes", |h| {
        h.query_by_label("Add note").is_none()
    });
    rig.open_note_form();
    rig.click("Product sample");
    rig.type_into("Sample CD3+", "12");
    rig.type_into("Bag volume (mL)", "95");
    rig.harness
        .get_by_role_and_label(Role::ComboBox, "Sample CD3+")
        .click_accesskit();
    rig.harness.step();
    rig.harness.step();
    rig.harness.get_by_label("×10⁶/mL").click_accesskit();
    rig.harness.step();
    rig.harness.step();
    rig.wait_for_label("• Product sample: CD3+ 12 ×10⁶/mL, bag 95 mL");
    rig.add_note(4);

    // The machine ends; the recording is stopped (outside RUN, at once).
    rig.send(2000, Payload::State(MachineState::End));
    rig.wait_for_label("END");
    rig.harness.get_by_label("Stop recording").click();
    rig.step_until("the recording closes", |h| {
        h.state()
            .live()
            .is_some_and(apheresis_monitor::session::LiveSession::is_stopped)
    });
    let path = rig.harness.state().live().unwrap().recording.clone();
    let loaded = recording::load(&path, |_, _| true).unwrap();
    let notes: Vec<(String, String)> = loaded
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Note(n) => Some((n.code.clone(), Record::readable(&n.text))),
            _ => None,
        })
        .collect();
    assert_eq!(
        notes,
        [
            ("CALCIUM_GIVEN", "Calcium chloride 10 % 10 mL IV (6.8 mmol)"),
            (
                "REACTION",
                "Hypotension, CTCAE grade 2; action: rate reduced, fluids; outcome: resolved"
            ),
            ("FREE_TEXT", "felt faint on standing"),
            (
                "PRODUCT_SAMPLE",
                "Product sample: CD3+ 12 ×10⁶/mL, bag 95 mL"
            ),
        ]
        .map(|(c, t)| (c.to_owned(), t.to_owned()))
    );
    let s = apheresis_monitor::analysis::summarize(&loaded);
    assert_eq!(s.record.calcium_total_mmol, 6.8);
    assert_eq!(
        s.record
            .reactions
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>(),
        ["Hypotension, CTCAE grade 2; action: rate reduced, fluids; outcome: resolved"]
    );
    assert_eq!(
        s.record
            .product_samples
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>(),
        ["Product sample: CD3+ 12 ×10⁶/mL, bag 95 mL"]
    );
    assert!(s.record.vitals.is_empty(), "{:?}", s.record.vitals);
}

#[test]
fn a_note_the_record_cannot_print_is_refused_on_the_form_saying_which_characters() {
    let mut rig = live_rig();
    rig.send(0, Payload::State(MachineState::Run));
    rig.send(1000, sample(55.0, 100.0));
    rig.wait_for_label("55.0");
    // Typed on purpose: characters no font has, which the screen draws as boxes, as the
    // app does (the harness would otherwise stop at them).
    rig.harness
        .ctx
        .set_missing_glyph_policy(egui::MissingGlyphPolicy::Tofu);
    rig.open_note_form();
    rig.type_note("says 大丈夫");
    rig.wait_for_label(
        "The note: the record cannot print “大丈夫” (its typeface has Latin, Greek and Cyrillic \
         letters, not these); write it without them",
    );
    let add_disabled = |rig: &Rig| {
        rig.harness
            .get_by_label("Add note")
            .accesskit_node()
            .is_disabled()
    };
    assert!(
        add_disabled(&rig),
        "a note that would print as boxes can be added"
    );
    rig.type_note("says she is fine, Ça va");
    rig.step_until("the note can be added", |h| {
        !h.get_by_label("Add note").accesskit_node().is_disabled()
    });
    rig.add_note(1);
    let live = rig.harness.state().live().unwrap();
    assert_eq!(live.timeline.notes.len(), 1);
}
