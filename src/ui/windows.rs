//! The windows: the small questions (confirm stop, quit, recovery, about) open as centred
//! windows over the screens; the forms open in the side panel on the right (`forms.rs`).

use crate::session::LiveSession;
use crate::session::library::SessionListing;

use super::about::{AboutWindow, QuitChoice, QuitWindow};
use super::alarm_settings::AlarmLimitsWindow;
use super::app::Command;
use super::confirm_stop::ConfirmStopWindow;
use super::export::ExportWindow;
use super::forms::Form;
use super::library::{RecoveryChoice, RecoveryWindow};
use super::notes::NoteWindow;
use super::settings::Settings;
use super::setup::SetupWindow;

/// Every window the app can show; each is drawn while it is open.
#[derive(Default)]
pub struct Windows {
    pub about: AboutWindow,
    pub alarm_limits: AlarmLimitsWindow,
    pub note: NoteWindow,
    /// The session's setup; `None` while no session is open.
    pub setup: Option<SetupWindow>,
    pub recovery: RecoveryWindow,
    pub export: Option<ExportWindow>,
    pub quit: QuitWindow,
    /// Asked before a recording is stopped during RUN.
    pub confirm_stop: ConfirmStopWindow,
    /// The form shown in the side panel, if any.
    pub form: Option<Form>,
}

impl Windows {
    /// Draws the open windows (not the forms: see [`Windows::form_panel`]); what the nurse
    /// asks for goes into `commands`.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        settings: &Settings,
        live: Option<&LiveSession>,
        commands: &mut Vec<Command>,
    ) {
        self.about.show(ctx, &settings.session_folder());
        // Only a recording still running can be stopped.
        if !live.as_ref().is_some_and(|l| l.is_recording()) {
            self.confirm_stop.open = false;
        }
        if self.confirm_stop.show(ctx) {
            commands.push(Command::StopRecording);
        }
        if self.form != Some(Form::AlarmLimits) {
            self.alarm_limits.forget_draft();
        }
        let port = self
            .recovery
            .listing
            .as_ref()
            .map(|l| resume_port(l, &settings.last_port))
            .unwrap_or_default();
        match self.recovery.show(ctx, &port) {
            Some((RecoveryChoice::Resume, listing)) => {
                commands.push(Command::Resume(Box::new(listing)));
            }
            Some((RecoveryChoice::Review, listing)) => {
                commands.push(Command::OpenRecording(listing.path));
            }
            Some((RecoveryChoice::Dismiss, _)) | None => {}
        }
        if self.quit.show(ctx) == Some(QuitChoice::StopAndQuit) {
            commands.push(Command::StopAndQuit);
        }
    }
}

/// Where an interrupted session would resume from: its own port, or the last one used.
fn resume_port(listing: &SessionListing, last_port: &str) -> String {
    if listing.demo.is_some() {
        return "the simulated machine (demo)".into();
    }
    listing.port.clone().unwrap_or_else(|| last_port.to_owned())
}
