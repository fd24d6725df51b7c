//! The forms (Setup, Note, Alarm limits, Export) open in one side panel on the right, drawn
//! before the screen so the screen lays out in the width left: a form never covers the alarm
//! banner, the tiles or the progress. One form at a time; opening another replaces it, and
//! each keeps what was typed in it.

use egui::{Color32, RichText};
use jiff::Timestamp;

use crate::analysis::Timeline;
use crate::analysis::records::Phase;
use crate::session::LiveSession;

use super::app::Command;
use super::settings::Settings;
use super::theme::{self, Accent};
use super::windows::Windows;

/// The panel's width when it opens (it can be dragged wider or narrower).
pub const PANEL_WIDTH: f32 = 440.0;

/// The panel's id; its rectangle is the form's rectangle.
pub const PANEL_ID: &str = "form-panel";

/// A form shown in the side panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Setup,
    Note,
    AlarmLimits,
    /// The live session's alarm list (read only).
    AlarmReview,
    Export,
}

impl Form {
    /// The panel's title (what the form was called as a window).
    pub fn title(self) -> &'static str {
        match self {
            Form::Setup => "Session setup",
            Form::Note => "Add a note",
            Form::AlarmLimits => "Alarm limits",
            Form::AlarmReview => "Alarm list",
            Form::Export => "Export summary",
        }
    }
}

/// A non-alarm accent in the current theme.
pub fn accent(ui: &egui::Ui, accent: Accent) -> Color32 {
    theme::accent_color(accent, ui.visuals().dark_mode)
}

/// A validation error or a failed action, in the error accent (never an alarm colour).
pub fn error_text(ui: &mut egui::Ui, text: impl Into<String>) -> egui::Response {
    let color = accent(ui, Accent::Error);
    ui.label(RichText::new(text.into()).color(color))
}

/// What the note form needs to know of the session: now, when the session started (a note's
/// time may be set back, but not before that), and its timeline (the phase vital signs are
/// taken in follows the machine's states).
#[derive(Debug, Clone, Copy)]
pub struct NoteClock<'a> {
    pub now: Timestamp,
    pub session_start: Option<Timestamp>,
    pub timeline: Option<&'a Timeline>,
}

impl<'a> NoteClock<'a> {
    /// The clock of the `live` session at `now`.
    pub fn of(live: Option<&'a LiveSession>, now: Timestamp) -> NoteClock<'a> {
        let session_start = live.and_then(|l| l.meta().started_utc.as_deref()?.parse().ok());
        NoteClock {
            now,
            session_start,
            timeline: live.map(|l| &l.timeline),
        }
    }

    /// The collection phase at `at` (`None`: now), if the machine has said its state.
    pub fn phase_at(&self, at: Option<Timestamp>) -> Option<Phase> {
        Phase::of_session_at(self.timeline?, at)
    }
}

impl Windows {
    /// Opens `form` in the side panel (replacing the one there, which keeps its state).
    pub fn open_form(&mut self, form: Form) {
        self.form = Some(form);
    }

    /// Draws the side panel with the open form, if any. Call before the screen is drawn.
    pub fn form_panel(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        live: Option<&LiveSession>,
        commands: &mut Vec<Command>,
        now: Timestamp,
    ) {
        // A form whose subject is gone (no export, no setup) closes.
        match self.form {
            Some(Form::Export) if self.export.is_none() => self.form = None,
            Some(Form::Setup) if self.setup.is_none() => self.form = None,
            Some(Form::Note | Form::AlarmReview) if live.is_none() => self.form = None,
            _ => {}
        }
        let Some(form) = self.form else {
            return;
        };
        let mut close = false;
        egui::Panel::right(PANEL_ID)
            .resizable(true)
            .default_size(PANEL_WIDTH)
            .size_range(320.0..=720.0)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.heading(form.title());
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        close = ui
                            .button("Close")
                            .on_hover_text("Close the form; what was typed is kept")
                            .clicked();
                    });
                });
                ui.separator();
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        close |= self.form_ui(ui, form, settings, live, commands, now);
                    });
            });
        if close {
            self.form = None;
        }
    }

    /// Draws `form`; returns whether it asked to close.
    fn form_ui(
        &mut self,
        ui: &mut egui::Ui,
        form: Form,
        settings: &mut Settings,
        live: Option<&LiveSession>,
        commands: &mut Vec<Command>,
        now: Timestamp,
    ) -> bool {
        match form {
            Form::Setup => {
                let Some(setup) = &mut self.setup else {
                    return true;
                };
                let (save, close) = setup.ui(ui);
                if save {
                    commands.push(Command::SaveSetup);
                }
                close
            }
            Form::Note => {
                let clock = NoteClock::of(live, now);
                let (note, close) = self.note.ui(ui, clock);
                if let Some(note) = note {
                    commands.push(Command::AddNote(note));
                }
                close
            }
            Form::AlarmLimits => {
                if let Some(live) = live {
                    let session = (live.alarm_settings(&settings.alarms), live.patient());
                    if let Some(limits) =
                        self.alarm_limits
                            .ui(ui, &mut settings.alarms, Some(session))
                    {
                        commands.push(Command::SetAlarmLimits(Box::new(limits)));
                    }
                } else {
                    self.alarm_limits.ui(ui, &mut settings.alarms, None);
                }
                false
            }
            Form::AlarmReview => {
                if let Some(live) = live {
                    super::alarm_review::alarm_review_ui(ui, live.alarm_review(), now);
                }
                false
            }
            Form::Export => match &mut self.export {
                Some(export) => {
                    export.ui(ui);
                    false
                }
                None => true,
            },
        }
    }
}
