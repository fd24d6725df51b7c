//! Nurse notes: presets with the numbers that matter, or free text. A note is recorded at once
//! and never edited; a correction is a new note.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::analysis::patient::parse_number;
use crate::model::Note;

use super::forms::{NoteClock, error_text};

/// The note presets offered, with their codes in the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotePreset {
    Observation,
    Tingling,
    CalciumGiven,
    ComfortPause,
    LineRepositioned,
    AlarmHandled,
    FreeText,
}

impl NotePreset {
    pub const ALL: [NotePreset; 7] = [
        NotePreset::Observation,
        NotePreset::Tingling,
        NotePreset::CalciumGiven,
        NotePreset::ComfortPause,
        NotePreset::LineRepositioned,
        NotePreset::AlarmHandled,
        NotePreset::FreeText,
    ];

    pub fn label(self) -> &'static str {
        match self {
            NotePreset::Observation => "Observations",
            NotePreset::Tingling => "Tingling / paraesthesia",
            NotePreset::CalciumGiven => "Calcium given",
            NotePreset::ComfortPause => "Pause: patient comfort",
            NotePreset::LineRepositioned => "Line repositioned",
            NotePreset::AlarmHandled => "Machine alarm handled",
            NotePreset::FreeText => "Free text",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            NotePreset::Observation => "OBSERVATION",
            NotePreset::Tingling => "TINGLING",
            NotePreset::CalciumGiven => "CALCIUM_GIVEN",
            NotePreset::ComfortPause => "COMFORT_PAUSE",
            NotePreset::LineRepositioned => "LINE_REPOSITIONED",
            NotePreset::AlarmHandled => "ALARM_HANDLED",
            NotePreset::FreeText => "FREE_TEXT",
        }
    }
}

/// The note being written. The vital signs are kept whatever preset is chosen, and go into
/// the note with it: switching preset never throws away what was typed.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteForm {
    pub preset: NotePreset,
    pub bp_systolic: String,
    pub bp_diastolic: String,
    pub heart_rate: String,
    pub spo2: String,
    pub temperature: String,
    pub calcium_dose: String,
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
            calcium_dose: String::new(),
            text: String::new(),
            time: String::new(),
            edited: false,
        }
    }
}

fn optional_number(
    text: &str,
    name: &str,
    low: f64,
    high: f64,
    unit: &str,
) -> Result<Option<f64>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let value = parse_number(text, name).map_err(|e| e.to_string())?;
    if (low..=high).contains(&value) {
        Ok(Some(value))
    } else {
        Err(format!(
            "{name} {value} {unit} is outside {low}–{high} {unit}"
        ))
    }
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
    /// The note as typed, its time set back if the nurse set it: the row is written when
    /// the note is entered (now), and a note for an earlier time says so at its start.
    pub fn to_note_at(&self, clock: NoteClock, tz: &TimeZone) -> Result<Note, String> {
        let time = note_time(&self.time, clock.now, clock.session_start, tz)?;
        let mut note = self.to_note()?;
        if let Some(at) = time {
            note.text = format!("{} {}", entered_later_mark(at, clock.now, tz), note.text);
        }
        Ok(note)
    }

    /// The vital signs typed, as they read in a note.
    fn vitals(&self) -> Result<Vec<String>, String> {
        let mut parts = Vec::new();
        let sys = optional_number(&self.bp_systolic, "systolic BP", 40.0, 260.0, "mmHg")?;
        let dia = optional_number(&self.bp_diastolic, "diastolic BP", 20.0, 180.0, "mmHg")?;
        match (sys, dia) {
            (Some(s), Some(d)) => parts.push(format!("BP {s:.0}/{d:.0} mmHg")),
            (None, None) => {}
            _ => return Err("blood pressure needs both systolic and diastolic".into()),
        }
        if let Some(hr) = optional_number(&self.heart_rate, "heart rate", 20.0, 250.0, "/min")? {
            parts.push(format!("HR {hr:.0}/min"));
        }
        if let Some(spo2) = optional_number(&self.spo2, "SpO₂", 50.0, 100.0, "%")? {
            parts.push(format!("SpO₂ {spo2:.0} %"));
        }
        if let Some(t) = optional_number(&self.temperature, "temperature", 30.0, 43.0, "°C")? {
            parts.push(format!("T {t:.1} °C"));
        }
        Ok(parts)
    }

    /// The note to record, or why it cannot be recorded yet. The vital signs typed go into
    /// the note whatever its preset.
    pub fn to_note(&self) -> Result<Note, String> {
        let extra = self.text.trim();
        let mut parts: Vec<String> = Vec::new();
        match self.preset {
            NotePreset::Observation => {}
            NotePreset::CalciumGiven => {
                let dose = optional_number(&self.calcium_dose, "calcium dose", 0.1, 100.0, "mL")?
                    .ok_or("enter the calcium dose in mL")?;
                parts.push(format!("Calcium given {dose} mL"));
            }
            NotePreset::FreeText => {
                if extra.is_empty() {
                    return Err("write the note".into());
                }
            }
            other => parts.push(other.label().to_owned()),
        }
        parts.extend(self.vitals()?);
        if self.preset == NotePreset::Observation && parts.is_empty() && extra.is_empty() {
            return Err("enter at least one observation".into());
        }
        if !extra.is_empty() {
            parts.push(extra.to_owned());
        }
        Ok(Note {
            code: self.preset.code().to_owned(),
            text: parts.join("; "),
        })
    }
}

/// What the user did in the note form.
#[derive(Debug, Clone, PartialEq)]
pub enum NoteAction {
    None,
    Add(Note),
    Cancel,
}

/// Draws the note form.
pub fn note_form_ui(ui: &mut egui::Ui, form: &mut NoteForm, clock: NoteClock) -> NoteAction {
    let tz = TimeZone::system();
    let mut action = NoteAction::None;
    ui.horizontal_wrapped(|ui| {
        for preset in NotePreset::ALL {
            ui.selectable_value(&mut form.preset, preset, preset.label());
        }
    });
    ui.add_space(6.0);
    let mut edited = false;
    let mut edit = |ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str| {
        let l = ui.label(label);
        edited |= ui
            .add(
                egui::TextEdit::singleline(text)
                    .hint_text(hint)
                    .desired_width(90.0),
            )
            .labelled_by(l.id)
            .changed();
    };
    // The vital signs go with every preset, so what was typed stays on screen and in the note.
    // A grid sizes its columns from the frame before: a floor keeps the fields from
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
            if form.preset == NotePreset::CalciumGiven {
                edit(ui, "Calcium dose (mL)", &mut form.calcium_dose, "mL");
            }
            ui.end_row();
            // Empty is now; a time of day (hh:mm) sets the note's time back.
            edit(ui, "Time", &mut form.time, "now");
            ui.end_row();
        });
    let l = ui.label("Note text");
    edited |= ui
        .add(
            egui::TextEdit::multiline(&mut form.text)
                .desired_rows(2)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(l.id)
        .changed();
    form.edited |= edited;
    let result = form.to_note_at(clock, &tz);
    if let Ok(Some(at)) = note_time(&form.time, clock.now, clock.session_start, &tz) {
        ui.label(format!(
            "Recorded for {}, marked as entered later",
            hh_mm(at, &tz)
        ));
    }
    // The buttons come first, so they stay where they are whether or not a problem is shown
    // under them; a problem shows only once something has been typed.
    ui.horizontal(|ui| {
        let add = ui.add_enabled(result.is_ok(), egui::Button::new("Add note"));
        if add.clicked()
            && let Ok(note) = &result
        {
            action = NoteAction::Add(note.clone());
        }
        if ui.button("Cancel").clicked() {
            action = NoteAction::Cancel;
        }
    });
    if form.edited
        && let Err(problem) = &result
    {
        error_text(ui, problem);
    }
    action
}

/// The "Add a note" form.
#[derive(Default)]
pub struct NoteWindow {
    pub form: NoteForm,
}

impl NoteWindow {
    /// Draws the form; returns the note to record when the nurse adds it, and whether the form
    /// closes (added or cancelled).
    pub fn ui(&mut self, ui: &mut egui::Ui, clock: NoteClock) -> (Option<Note>, bool) {
        match note_form_ui(ui, &mut self.form, clock) {
            NoteAction::Add(note) => {
                self.form = NoteForm::default();
                (Some(note), true)
            }
            NoteAction::Cancel => (None, true),
            NoteAction::None => (None, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observation_notes_carry_their_numbers_and_reject_nonsense() {
        let mut form = NoteForm {
            bp_systolic: "118".into(),
            bp_diastolic: "76".into(),
            heart_rate: "72".into(),
            ..NoteForm::default()
        };
        let note = form.to_note().unwrap();
        assert_eq!(note.code, "OBSERVATION");
        assert_eq!(note.text, "BP 118/76 mmHg; HR 72/min");
        form.heart_rate = "-5".into();
        assert!(form.to_note().unwrap_err().contains("heart rate"));
        form.heart_rate.clear();
        form.bp_diastolic.clear();
        assert!(form.to_note().unwrap_err().contains("both"));
    }

    #[test]
    fn presets_and_free_text() {
        let form = NoteForm {
            preset: NotePreset::Tingling,
            text: "lips".into(),
            ..NoteForm::default()
        };
        assert_eq!(
            form.to_note().unwrap().text,
            "Tingling / paraesthesia; lips"
        );
        let form = NoteForm {
            preset: NotePreset::CalciumGiven,
            ..NoteForm::default()
        };
        assert!(form.to_note().is_err());
        let form = NoteForm {
            preset: NotePreset::FreeText,
            text: "  ".into(),
            ..NoteForm::default()
        };
        assert!(form.to_note().is_err());
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
        };
        let mut form = NoteForm {
            bp_systolic: "118".into(),
            bp_diastolic: "76".into(),
            ..NoteForm::default()
        };
        assert_eq!(form.to_note_at(clock, &tz).unwrap().text, "BP 118/76 mmHg");
        form.time = "14:05".into();
        assert_eq!(
            form.to_note_at(clock, &tz).unwrap().text,
            "[for 14:05, entered later at 14:20] BP 118/76 mmHg"
        );
        form.time = "12:00".into();
        assert!(form.to_note_at(clock, &tz).is_err());
    }
}
