//! Nurse notes: presets with the numbers that matter, or free text. A note is recorded at once
//! and never edited; a correction is a new note.

use std::collections::VecDeque;

use egui::RichText;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::analysis::patient::parse_number;
use crate::analysis::records::{
    DIASTOLIC, HEART_RATE, Phase, Record, SPO2, SYSTOLIC, TEMPERATURE, Vitals,
};
use crate::model::Note;
use crate::present::typeface::undrawable_problem;

use super::forms::{NoteClock, error_text};
use super::notes_records::{
    CalciumFields, ReactionFields, SampleFields, calcium_ui, field, reaction_ui, sample_ui,
};

/// The note presets offered, with their codes in the recording. Calcium, a reaction and a
/// product sample are structured records ([`Record`]); the others are plain notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotePreset {
    Observation,
    Reaction,
    CalciumGiven,
    ProductSample,
    ComfortPause,
    LineRepositioned,
    AlarmHandled,
    FreeText,
}

impl NotePreset {
    pub const ALL: [NotePreset; 8] = [
        NotePreset::Observation,
        NotePreset::Reaction,
        NotePreset::CalciumGiven,
        NotePreset::ProductSample,
        NotePreset::ComfortPause,
        NotePreset::LineRepositioned,
        NotePreset::AlarmHandled,
        NotePreset::FreeText,
    ];

    pub fn label(self) -> &'static str {
        match self {
            NotePreset::Observation => "Observations",
            NotePreset::Reaction => "Reaction",
            NotePreset::CalciumGiven => "Calcium given",
            NotePreset::ProductSample => "Product sample",
            NotePreset::ComfortPause => "Pause: patient comfort",
            NotePreset::LineRepositioned => "Line repositioned",
            NotePreset::AlarmHandled => "Machine alarm handled",
            NotePreset::FreeText => "Free text",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            NotePreset::Observation => "OBSERVATION",
            NotePreset::Reaction => "REACTION",
            NotePreset::CalciumGiven => "CALCIUM_GIVEN",
            NotePreset::ProductSample => "PRODUCT_SAMPLE",
            NotePreset::ComfortPause => "COMFORT_PAUSE",
            NotePreset::LineRepositioned => "LINE_REPOSITIONED",
            NotePreset::AlarmHandled => "ALARM_HANDLED",
            NotePreset::FreeText => "FREE_TEXT",
        }
    }
}

/// The note being written. Everything typed is kept whatever preset is chosen: switching
/// preset never throws away what was typed. The vital signs go with every preset.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteForm {
    pub preset: NotePreset,
    pub bp_systolic: String,
    pub bp_diastolic: String,
    pub heart_rate: String,
    pub spo2: String,
    pub temperature: String,
    /// When the vital signs were taken, as the nurse chose; `None` follows the session: the
    /// phase at the note's time, from the machine's states ([`Phase::of_session_at`]).
    pub phase: Option<Phase>,
    pub calcium: CalciumFields,
    pub reaction: ReactionFields,
    pub sample: SampleFields,
    pub text: String,
    /// When the note is for: empty or "now", or a time of day (hh:mm) set back.
    pub time: String,
    /// Whether anything has been typed: what is wrong is shown only after input.
    pub edited: bool,
}

impl Default for NoteForm {
    fn default() -> Self {
        NoteForm {
            preset: NotePreset::Observation,
            bp_systolic: String::new(),
            bp_diastolic: String::new(),
            heart_rate: String::new(),
            spo2: String::new(),
            temperature: String::new(),
            phase: None,
            calcium: CalciumFields::default(),
            reaction: ReactionFields::default(),
            sample: SampleFields::default(),
            text: String::new(),
            time: String::new(),
            edited: false,
        }
    }
}

/// A number typed, if any; its range is checked with the record ([`Vitals::check`]).
fn optional_number(text: &str, (name, ..): (&str, f64, f64, &str)) -> Result<Option<f64>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_number(text, name)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// One note of what the form records, before its time is marked.
#[derive(Debug, Clone, PartialEq)]
enum Draft {
    Record(Record),
    Plain { code: &'static str, text: String },
}

/// How close to now a time set back still counts as now.
const NOW_WITHIN_S: i64 = 60;

/// The time a note is for, from what was typed in its time field: `Ok(None)` for now (empty,
/// "now", or a time within the last minute), else the latest such time of day (in `tz`) not
/// after `now`. It may not be before the session started (its minute counts) nor in the future.
pub fn note_time(
    text: &str,
    now: Timestamp,
    session_start: Option<Timestamp>,
    tz: &TimeZone,
) -> Result<Option<Timestamp>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("now") {
        return Ok(None);
    }
    let bad = || format!("time “{text}”: write now, or the time as hh:mm");
    let (h, m) = text.split_once([':', '.', 'h']).ok_or_else(bad)?;
    let hour: i8 = h.trim().parse().map_err(|_| bad())?;
    let minute: i8 = m.trim().parse().map_err(|_| bad())?;
    if !(0..=23).contains(&hour) || !(0..=59).contains(&minute) {
        return Err(bad());
    }
    let zoned = now.to_zoned_datetime(tz.clone());
    let mut at = zoned
        .date()
        .at(hour, minute, 0, 0)
        .to_zoned_datetime(tz.clone())
        .map_err(|e| e.to_string())?;
    if at.timestamp() > now {
        // A time of day later than now is yesterday's (a session over midnight).
        at = at
            .checked_sub(jiff::Span::new().days(1))
            .map_err(|e| e.to_string())?;
    }
    let at = at.timestamp();
    if now.duration_since(at).as_secs() < NOW_WITHIN_S {
        return Ok(None);
    }
    if let Some(start) = session_start {
        let start_minute = start
            .to_zoned_datetime(tz.clone())
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .map_err(|e| e.to_string())?
            .timestamp();
        if at < start_minute {
            return Err(format!(
                "{text} is before the session started ({})",
                hh_mm(start, tz)
            ));
        }
    }
    Ok(Some(at))
}

/// A time of day as the nurse reads it.
fn hh_mm(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%H:%M")
        .to_string()
}

/// The mark a note whose time was set back carries at the start of its text: the time it is
/// for and the time it was entered (the row's own time), both local.
pub fn entered_later_mark(for_time: Timestamp, entered: Timestamp, tz: &TimeZone) -> String {
    format!(
        "[for {}, entered later at {}]",
        hh_mm(for_time, tz),
        hh_mm(entered, tz)
    )
}

impl NoteForm {
    /// The notes as typed, their time set back if the nurse set it: the rows are written when
    /// the notes are entered (now), and a note for an earlier time says so at its start (a
    /// record's in its payload's sentence, so the payload stays one a reader takes).
    pub fn to_notes_at(&self, clock: NoteClock, tz: &TimeZone) -> Result<Vec<Note>, String> {
        let time = note_time(&self.time, clock.now, clock.session_start, tz)?;
        let mark = time.map(|at| entered_later_mark(at, clock.now, tz));
        let phase = self.phase_at(clock, time);
        let notes: Vec<Note> = self
            .drafts(phase)?
            .into_iter()
            .map(|draft| match (draft, &mark) {
                (Draft::Record(r), None) => Note {
                    code: r.code().to_owned(),
                    text: r.to_text(),
                },
                (Draft::Record(r), Some(mark)) => Note {
                    code: r.code().to_owned(),
                    text: r.to_text_marked(mark),
                },
                (Draft::Plain { code, text }, mark) => Note {
                    code: code.to_owned(),
                    text: mark
                        .as_ref()
                        .map_or(text.clone(), |m| format!("{m} {text}")),
                },
            })
            .collect();
        // Refused rather than recorded as text the record would print as empty boxes.
        if let Some(problem) = notes
            .iter()
            .find_map(|n| undrawable_problem("The note", &n.text))
        {
            return Err(problem);
        }
        Ok(notes)
    }

    /// The notes as typed, for now, in no session.
    #[cfg(test)]
    pub fn to_notes(&self) -> Result<Vec<Note>, String> {
        self.to_notes_at(
            NoteClock {
                now: Timestamp::now(),
                session_start: None,
                timeline: None,
            },
            &TimeZone::UTC,
        )
    }

    /// The phase the vital signs are recorded for, for a note at `at` (`None`: now): the
    /// nurse's choice, else the session's.
    pub fn phase_at(&self, clock: NoteClock, at: Option<Timestamp>) -> Option<Phase> {
        self.phase.or_else(|| clock.phase_at(at))
    }

    /// The vital signs typed, checked, if any, as taken in `phase`: which must be known if any
    /// is typed.
    fn vitals(&self, phase: Option<Phase>) -> Result<Option<Vitals>, String> {
        let sys = optional_number(&self.bp_systolic, SYSTOLIC)?;
        let dia = optional_number(&self.bp_diastolic, DIASTOLIC)?;
        let bp_mmhg = match (sys, dia) {
            (Some(s), Some(d)) => Some((s, d)),
            (None, None) => None,
            _ => return Err("blood pressure needs both systolic and diastolic".into()),
        };
        let vitals = Vitals {
            phase,
            bp_mmhg,
            hr_per_min: optional_number(&self.heart_rate, HEART_RATE)?,
            temp_c: optional_number(&self.temperature, TEMPERATURE)?,
            spo2_percent: optional_number(&self.spo2, SPO2)?,
        };
        if vitals
            == (Vitals {
                phase: vitals.phase,
                ..Vitals::default()
            })
        {
            return Ok(None);
        }
        if phase.is_none() {
            return Err(
                "the machine has not said its state: choose when the vital signs were taken".into(),
            );
        }
        vitals.check().map(Some)
    }

    /// What the form records, or why it cannot yet: the preset's note first (a structured
    /// record carries only its payload), then the vital signs typed as a record of their own,
    /// then a remark typed beside a record as a plain `FREE_TEXT` note.
    fn drafts(&self, phase: Option<Phase>) -> Result<Vec<Draft>, String> {
        let extra = self.text.trim().to_owned();
        let vitals = self
            .vitals(phase)?
            .map(|v| Draft::Record(Record::Vitals(v)));
        let mut drafts = Vec::new();
        let mut remark = None;
        match self.preset {
            NotePreset::Observation => {
                if vitals.is_none() && extra.is_empty() {
                    return Err("enter at least one observation".into());
                }
                remark = Some("OBSERVATION");
            }
            NotePreset::CalciumGiven => {
                drafts.push(Draft::Record(Record::Calcium(self.calcium.record()?)));
                remark = Some("FREE_TEXT");
            }
            NotePreset::Reaction => {
                drafts.push(Draft::Record(Record::Reaction(self.reaction.record()?)));
                remark = Some("FREE_TEXT");
            }
            NotePreset::ProductSample => {
                drafts.push(Draft::Record(Record::ProductSample(self.sample.record()?)));
                remark = Some("FREE_TEXT");
            }
            NotePreset::FreeText => {
                if extra.is_empty() {
                    return Err("write the note".into());
                }
                remark = Some("FREE_TEXT");
            }
            plain => {
                let mut text = plain.label().to_owned();
                if !extra.is_empty() {
                    text = format!("{text}; {extra}");
                }
                drafts.push(Draft::Plain {
                    code: plain.code(),
                    text,
                });
            }
        }
        if self.preset == NotePreset::FreeText {
            drafts.push(Draft::Plain {
                code: "FREE_TEXT",
                text: extra.clone(),
            });
            remark = None;
        }
        drafts.extend(vitals);
        if let Some(code) = remark
            && !extra.is_empty()
        {
            drafts.push(Draft::Plain { code, text: extra });
        }
        Ok(drafts)
    }
}

/// What the user did in the note form.
#[derive(Debug, Clone, PartialEq)]
pub enum NoteAction {
    None,
    Add(Vec<Note>),
    Cancel,
}

/// Draws the vital signs and when they were taken (`session_phase`, from the machine's
/// state, until the nurse chooses); returns whether anything changed.
fn vitals_ui(ui: &mut egui::Ui, form: &mut NoteForm, session_phase: Option<Phase>) -> bool {
    let mut edited = false;
    ui.horizontal_wrapped(|ui| {
        ui.label("Vital signs, taken");
        let shown = form.phase.or(session_phase);
        for (phase, label) in [
            (Phase::Before, "before"),
            (Phase::During, "during"),
            (Phase::After, "after collection"),
        ] {
            if ui.radio(shown == Some(phase), label).clicked() && form.phase != Some(phase) {
                form.phase = Some(phase);
                edited = true;
            }
        }
        if form.phase.is_none() {
            let weak = ui.visuals().weak_text_color();
            let why = if session_phase.is_some() {
                "(from the machine's state)"
            } else {
                "(machine state unknown: choose)"
            };
            ui.label(RichText::new(why).color(weak));
        }
    });
    let mut edit = |ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str| {
        edited |= field(ui, label, text, hint, 90.0);
    };
    // The vital signs go with every preset, so what was typed stays on screen and in the
    // notes. A grid sizes its columns from the frame before: a floor keeps the fields from
    // shrinking to nothing.
    egui::Grid::new("note-vitals")
        .num_columns(4)
        .min_col_width(90.0)
        .spacing([10.0, 8.0])
        .show(ui, |ui| {
            edit(ui, "BP systolic", &mut form.bp_systolic, "mmHg");
            edit(ui, "BP diastolic", &mut form.bp_diastolic, "mmHg");
            ui.end_row();
            edit(ui, "HR", &mut form.heart_rate, "/min");
            edit(ui, "SpO₂ %", &mut form.spo2, "%");
            ui.end_row();
            edit(ui, "Temp °C", &mut form.temperature, "36.8");
            ui.end_row();
        });
    edited
}

/// Draws the note form.
pub fn note_form_ui(ui: &mut egui::Ui, form: &mut NoteForm, clock: NoteClock) -> NoteAction {
    let tz = TimeZone::system();
    let mut action = NoteAction::None;
    let set_back = note_time(&form.time, clock.now, clock.session_start, &tz)
        .ok()
        .flatten();
    let session_phase = clock.phase_at(set_back);
    ui.horizontal_wrapped(|ui| {
        // Eight presets wrap to several rows: closer rows leave the panel room for the fields.
        ui.spacing_mut().item_spacing.y = 2.0;
        for preset in NotePreset::ALL {
            ui.selectable_value(&mut form.preset, preset, preset.label());
        }
    });
    ui.separator();
    let mut edited = match form.preset {
        NotePreset::CalciumGiven => calcium_ui(ui, &mut form.calcium),
        NotePreset::Reaction => reaction_ui(ui, &mut form.reaction),
        NotePreset::ProductSample => sample_ui(ui, &mut form.sample),
        _ => false,
    };
    let structured = matches!(
        form.preset,
        NotePreset::CalciumGiven | NotePreset::Reaction | NotePreset::ProductSample
    );
    if structured {
        // Beside a record the vital signs fold away, so the form fits the panel; they stay
        // open once any is typed, so nothing going into the notes is hidden.
        let typed = [
            &form.bp_systolic,
            &form.bp_diastolic,
            &form.heart_rate,
            &form.spo2,
            &form.temperature,
        ]
        .iter()
        .any(|t| !t.trim().is_empty());
        egui::CollapsingHeader::new("Vital signs")
            .id_salt("note-vitals-folded")
            .default_open(false)
            .open(typed.then_some(true))
            .show(ui, |ui| edited |= vitals_ui(ui, form, session_phase));
    } else {
        edited |= vitals_ui(ui, form, session_phase);
    }
    if structured {
        // A remark beside a record is recorded as a plain note of its own.
        ui.horizontal(|ui| {
            edited |= field(
                ui,
                "Remark",
                &mut form.text,
                "recorded as a note of its own",
                f32::INFINITY,
            );
        });
    } else {
        let l = ui.label("Note text");
        edited |= ui
            .add(
                egui::TextEdit::multiline(&mut form.text)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(l.id)
            .changed();
    }
    // Empty is now; a time of day (hh:mm) sets the note's time back, which is said under the
    // buttons (so they do not move as it is typed).
    ui.horizontal(|ui| {
        edited |= field(ui, "Time", &mut form.time, "now", 90.0);
    });
    let set_back = note_time(&form.time, clock.now, clock.session_start, &tz)
        .ok()
        .flatten();
    form.edited |= edited;
    let result = form.to_notes_at(clock, &tz);
    // The buttons come first, so they stay where they are whether or not a problem is shown
    // under them; a problem shows only once something has been typed.
    ui.horizontal(|ui| {
        let add = ui.add_enabled(result.is_ok(), egui::Button::new("Add note"));
        if add.clicked()
            && let Ok(notes) = &result
        {
            action = NoteAction::Add(notes.clone());
        }
        if ui.button("Cancel").clicked() {
            action = NoteAction::Cancel;
        }
    });
    if let Some(at) = set_back {
        ui.label(format!(
            "Recorded for {}, marked as entered later",
            hh_mm(at, &tz)
        ));
    }
    match &result {
        Err(problem) if form.edited => {
            error_text(ui, problem);
        }
        // What will be recorded, as a reader will show it.
        Ok(notes) if form.edited => {
            for note in notes {
                ui.weak(format!("• {}", Record::readable(&note.text)));
            }
        }
        _ => {}
    }
    action
}

/// The "Add a note" form.
#[derive(Default)]
pub struct NoteWindow {
    pub form: NoteForm,
    /// Notes of one "Add note" not yet handed over (one a frame: the caller takes one), and
    /// the session they are for.
    pending: VecDeque<Note>,
    pending_for: Option<Timestamp>,
}

impl NoteWindow {
    /// Draws the form; returns a note to record when the nurse adds them (the others of the
    /// same "Add note" follow, one a frame, before the form closes), and whether the form
    /// closes (all added, or cancelled).
    pub fn ui(&mut self, ui: &mut egui::Ui, clock: NoteClock) -> (Option<Note>, bool) {
        // Notes of another session's form are not this session's.
        if self.pending_for != clock.session_start {
            self.pending.clear();
        }
        match note_form_ui(ui, &mut self.form, clock) {
            NoteAction::Add(notes) => {
                self.form = NoteForm::default();
                self.pending.extend(notes);
                self.pending_for = clock.session_start;
            }
            NoteAction::Cancel if self.pending.is_empty() => return (None, true),
            NoteAction::Cancel | NoteAction::None => {}
        }
        let Some(note) = self.pending.pop_front() else {
            return (None, false);
        };
        if !self.pending.is_empty() {
            ui.ctx().request_repaint();
        }
        (Some(note), self.pending.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::analysis::labs::LabUnit;
    use crate::analysis::records::Route;
    use crate::ui::notes_records::{CalciumChoice, ReactionChoice};

    /// The notes' codes and what a reader shows of them.
    fn read(form: &NoteForm) -> Vec<(String, String)> {
        form.to_notes()
            .unwrap()
            .into_iter()
            .map(|n| (n.code, Record::readable(&n.text)))
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(c, t)| ((*c).to_owned(), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn a_note_the_record_cannot_print_is_refused_naming_the_characters() {
        let mut form = NoteForm {
            preset: NotePreset::FreeText,
            text: "patient says 大丈夫 👍".into(),
            ..NoteForm::default()
        };
        let problem = form.to_notes().unwrap_err();
        assert!(
            problem.starts_with("The note: the record cannot print “大丈夫👍”"),
            "{problem}"
        );
        form.text = "patient says Ça va, Ελένη".into();
        assert_eq!(form.to_notes().unwrap().len(), 1);
    }

    #[test]
    fn observations_are_a_vitals_record_with_their_phase_and_reject_nonsense() {
        let mut form = NoteForm {
            bp_systolic: "118".into(),
            bp_diastolic: "76".into(),
            heart_rate: "72".into(),
            ..NoteForm::default()
        };
        // No machine state to go by: the nurse must say when they were taken.
        assert!(
            form.to_notes()
                .unwrap_err()
                .contains("choose when the vital signs were taken")
        );
        form.phase = Some(Phase::During);
        let notes = form.to_notes().unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].code, "VITALS");
        let Some(Record::Vitals(v)) = Record::from_text(&notes[0].text) else {
            panic!("not a vitals record: {}", notes[0].text)
        };
        assert_eq!(v.phase, Some(Phase::During));
        assert_eq!(v.bp_mmhg, Some((118.0, 76.0)));
        form.phase = Some(Phase::After);
        form.text = "feels well".into();
        assert_eq!(
            read(&form),
            pairs(&[
                ("VITALS", "After collection: BP 118/76 mmHg HR 72/min"),
                ("OBSERVATION", "feels well"),
            ])
        );
        // The ranges are the record's own.
        form.heart_rate = "-5".into();
        assert_eq!(
            form.to_notes().unwrap_err(),
            "heart rate -5 /min is outside 20–250 /min"
        );
        form.heart_rate = "fast".into();
        assert!(form.to_notes().unwrap_err().contains("heart rate"));
        form.heart_rate.clear();
        form.bp_diastolic.clear();
        assert!(form.to_notes().unwrap_err().contains("both"));
        // Text alone is an observation; nothing at all is not.
        let form = NoteForm {
            text: "asleep".into(),
            ..NoteForm::default()
        };
        assert_eq!(read(&form), pairs(&[("OBSERVATION", "asleep")]));
        assert_eq!(
            NoteForm::default().to_notes().unwrap_err(),
            "enter at least one observation"
        );
    }

    #[test]
    fn each_structured_preset_records_its_payload_and_a_remark_apart() {
        let mut form = NoteForm {
            preset: NotePreset::CalciumGiven,
            ..NoteForm::default()
        };
        form.calcium.product = CalciumChoice::Chloride10;
        form.calcium.amount = "10".into();
        let notes = form.to_notes().unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].code, "CALCIUM_GIVEN");
        let Some(Record::Calcium(c)) = Record::from_text(&notes[0].text) else {
            panic!("not a calcium record: {}", notes[0].text)
        };
        assert_eq!((c.mmol, c.route), (6.8, Route::Iv));
        // Vitals typed go in a record of their own; a remark in a plain note after them.
        form.phase = Some(Phase::During);
        form.heart_rate = "88".into();
        form.text = "lips tingling".into();
        assert_eq!(
            read(&form),
            pairs(&[
                ("CALCIUM_GIVEN", "Calcium chloride 10 % 10 mL IV (6.8 mmol)"),
                ("VITALS", "During collection: HR 88/min"),
                ("FREE_TEXT", "lips tingling"),
            ])
        );
        form.calcium.amount = "200".into();
        assert_eq!(
            form.to_notes().unwrap_err(),
            "a calcium dose of 200 mL is outside 0–100 mL"
        );

        let mut form = NoteForm {
            preset: NotePreset::Reaction,
            ..NoteForm::default()
        };
        assert_eq!(form.to_notes().unwrap_err(), "choose the CTCAE grade (1–4)");
        form.reaction.kind = ReactionChoice::Paraesthesia;
        form.reaction.grade = Some(2);
        form.reaction.action = "rate reduced".into();
        assert_eq!(
            read(&form),
            pairs(&[(
                "REACTION",
                "Paraesthesia, CTCAE grade 2; action: rate reduced"
            )])
        );
        form.reaction.kind = ReactionChoice::Other;
        assert_eq!(form.to_notes().unwrap_err(), "name the reaction");

        let mut form = NoteForm {
            preset: NotePreset::ProductSample,
            ..NoteForm::default()
        };
        form.sample.cd3 = "12".into();
        form.sample.unit = LabUnit::E6PerMillilitre;
        form.sample.bag_ml = "95".into();
        assert_eq!(
            read(&form),
            pairs(&[(
                "PRODUCT_SAMPLE",
                "Product sample: CD3+ 12 ×10⁶/mL, bag 95 mL"
            )])
        );
        form.sample.bag_ml = "5000".into();
        assert!(
            form.to_notes().unwrap_err().contains("5000 mL is outside"),
            "{:?}",
            form.to_notes()
        );
    }

    #[test]
    fn plain_presets_and_free_text() {
        let form = NoteForm {
            preset: NotePreset::LineRepositioned,
            text: "left arm".into(),
            bp_systolic: "112".into(),
            bp_diastolic: "70".into(),
            phase: Some(Phase::During),
            ..NoteForm::default()
        };
        assert_eq!(
            read(&form),
            pairs(&[
                ("LINE_REPOSITIONED", "Line repositioned; left arm"),
                ("VITALS", "During collection: BP 112/70 mmHg"),
            ])
        );
        let form = NoteForm {
            preset: NotePreset::FreeText,
            text: "  ".into(),
            ..NoteForm::default()
        };
        assert_eq!(form.to_notes().unwrap_err(), "write the note");
        let form = NoteForm {
            preset: NotePreset::FreeText,
            text: "family visiting".into(),
            ..NoteForm::default()
        };
        assert_eq!(read(&form), pairs(&[("FREE_TEXT", "family visiting")]));
    }

    fn utc(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_notes_time_is_now_or_set_back_within_the_session_never_ahead() {
        let tz = TimeZone::UTC;
        let now = utc("2026-03-14T14:20:30Z");
        let start = Some(utc("2026-03-14T13:05:30Z"));
        let at = |text: &str| note_time(text, now, start, &tz);
        assert_eq!(at(""), Ok(None));
        assert_eq!(at(" now "), Ok(None));
        assert_eq!(at("14:05"), Ok(Some(utc("2026-03-14T14:05:00Z"))));
        // The minute the session started counts; the one before does not.
        assert_eq!(at("13:05"), Ok(Some(utc("2026-03-14T13:05:00Z"))));
        assert_eq!(
            at("13:04"),
            Err("13:04 is before the session started (13:05)".into())
        );
        // This very minute is now.
        assert_eq!(at("14:20"), Ok(None));
        // A time of day still to come is yesterday's: before this session.
        assert!(
            at("14:30")
                .unwrap_err()
                .contains("before the session started")
        );
        for nonsense in ["25:00", "14:61", "quarter past", "1405"] {
            assert!(at(nonsense).is_err(), "{nonsense}");
        }
        // A session over midnight: 23:45 typed at 00:30 is last night's.
        let now = utc("2026-03-15T00:30:00Z");
        let start = Some(utc("2026-03-14T22:00:00Z"));
        assert_eq!(
            note_time("23:45", now, start, &tz),
            Ok(Some(utc("2026-03-14T23:45:00Z")))
        );
    }

    #[test]
    fn a_note_set_back_says_the_time_it_is_for_and_when_it_was_entered() {
        let tz = TimeZone::UTC;
        let clock = NoteClock {
            now: utc("2026-03-14T14:20:30Z"),
            session_start: Some(utc("2026-03-14T13:05:30Z")),
            timeline: None,
        };
        let mut form = NoteForm {
            preset: NotePreset::CalciumGiven,
            text: "given by the registrar".into(),
            ..NoteForm::default()
        };
        form.calcium.amount = "10".into();
        let texts = |form: &NoteForm| -> Vec<String> {
            form.to_notes_at(clock, &tz)
                .unwrap()
                .iter()
                .map(|n| Record::readable(&n.text))
                .collect()
        };
        assert_eq!(
            texts(&form),
            [
                "Calcium gluconate 10 % 10 mL IV (2.2 mmol)",
                "given by the registrar"
            ]
        );
        form.time = "14:05".into();
        assert_eq!(
            texts(&form),
            [
                "[for 14:05, entered later at 14:20] Calcium gluconate 10 % 10 mL IV (2.2 mmol)",
                "[for 14:05, entered later at 14:20] given by the registrar"
            ]
        );
        // The record's payload is still one a reader takes.
        let notes = form.to_notes_at(clock, &tz).unwrap();
        assert!(matches!(
            Record::from_text(&notes[0].text),
            Some(Record::Calcium(c)) if c.mmol == 2.2
        ));
        form.time = "12:00".into();
        assert!(form.to_notes_at(clock, &tz).is_err());
    }

    #[test]
    fn vitals_are_recorded_in_the_phase_of_the_machine_at_the_notes_time_unless_the_nurse_says() {
        use crate::analysis::Timeline;
        use crate::model::{Entry, EntryBody, MachineState, Quantity, Sample};
        let tz = TimeZone::UTC;
        let mut timeline = Timeline::new();
        for (time, elapsed_s, body) in [
            ("13:06", 0, EntryBody::State(MachineState::Prime)),
            (
                "13:07",
                60,
                EntryBody::Sample(Sample::default().with(Quantity::InletMl, 0.0)),
            ),
            ("13:10", 240, EntryBody::State(MachineState::Run)),
            ("14:10", 3840, EntryBody::State(MachineState::End)),
            (
                "14:11",
                3900,
                EntryBody::Sample(Sample::default().with(Quantity::InletMl, 3000.0)),
            ),
        ] {
            timeline.push(&Entry {
                time_utc: utc(&format!("2026-03-14T{time}:00Z")),
                elapsed_ms: Some(elapsed_s * 1000),
                seq: None,
                body,
            });
        }
        let clock = NoteClock {
            now: utc("2026-03-14T14:20:30Z"),
            session_start: Some(utc("2026-03-14T13:05:30Z")),
            timeline: Some(&timeline),
        };
        let mut form = NoteForm {
            heart_rate: "70".into(),
            ..NoteForm::default()
        };
        let vitals = |form: &NoteForm| {
            let notes = form.to_notes_at(clock, &tz).unwrap();
            Record::readable(&notes[0].text)
        };
        // Taken now, after the machine's END: after collection.
        assert_eq!(vitals(&form), "After collection: HR 70/min");
        // Set back into the run: during; set back to priming: before.
        form.time = "14:05".into();
        assert!(vitals(&form).ends_with("During collection: HR 70/min"));
        form.time = "13:08".into();
        assert!(vitals(&form).ends_with("Before collection: HR 70/min"));
        // The nurse's choice stands whatever the machine did.
        form.phase = Some(Phase::During);
        form.time = String::new();
        assert_eq!(vitals(&form), "During collection: HR 70/min");
    }
}
