//! The session library table and the crash-recovery prompt.

use std::fmt::Write as _;
use std::path::PathBuf;

use egui::RichText;

use crate::session::library::{SessionListing, SessionStatus, collections};

use super::format::{duration_hm, grouped};
use super::forms::accent;
use super::theme::Accent;

/// What the user asked of a listed session.
#[derive(Debug, Clone, PartialEq)]
pub enum LibraryAction {
    Open(PathBuf),
    Reveal(PathBuf),
    Export(PathBuf),
    Refresh,
}

fn local_date_time(t: jiff::Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// The CAR-T collections in the folder, each over its days: the cumulative CD3+ yield against
/// the target dose (nothing when no recording is a day of one).
fn collections_ui(ui: &mut egui::Ui, listings: &[SessionListing]) {
    let totals = collections(listings);
    if totals.is_empty() {
        return;
    }
    ui.label(RichText::new("Collections over several days").strong());
    for total in &totals {
        let days = total.days.len();
        let mut line = format!(
            "{} · {days} day{} · {}",
            total.key.collection_id,
            if days == 1 { "" } else { "s" },
            total.describe()
        );
        if total.days_without_yield > 0 {
            let _ = write!(
                line,
                " · {} day{} without product counts yet",
                total.days_without_yield,
                if total.days_without_yield == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
        ui.label(RichText::new(line).size(16.0));
    }
    ui.add_space(6.0);
}

/// The table of recordings in the session folder.
pub fn library_ui(ui: &mut egui::Ui, listings: Option<&[SessionListing]>) -> Option<LibraryAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.heading("Session library");
        if ui.button("Refresh library").clicked() {
            action = Some(LibraryAction::Refresh);
        }
    });
    let Some(listings) = listings else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Reading the session folder…");
        });
        return action;
    };
    if listings.is_empty() {
        ui.label(RichText::new("No recordings yet: start a session or the demo.").weak());
        return action;
    }
    collections_ui(ui, listings);
    egui::ScrollArea::vertical()
        .max_height(ui.available_height().max(120.0))
        .show(ui, |ui| {
            egui::Grid::new("library-grid")
                .num_columns(7)
                .striped(true)
                .spacing([16.0, 6.0])
                .show(ui, |ui| {
                    for title in [
                        "Started",
                        "Patient",
                        "Duration",
                        "WB processed",
                        "Status",
                        "",
                        "",
                    ] {
                        ui.label(RichText::new(title).strong());
                    }
                    ui.end_row();
                    for listing in listings {
                        ui.label(
                            listing
                                .started_utc
                                .map_or_else(|| "—".into(), local_date_time),
                        )
                        .on_hover_text(listing.path.display().to_string());
                        ui.label(listing.patient_id.clone().unwrap_or_else(|| "—".into()));
                        ui.label(listing.duration_s.map_or_else(|| "—".into(), duration_hm));
                        ui.label(
                            listing
                                .wb_processed_ml
                                .map_or_else(|| "—".into(), |v| format!("{} mL", grouped(v))),
                        );
                        let status = RichText::new(listing.status_text());
                        // Not an alarm: a notice accent, never the alarm yellow.
                        let status = match listing.status {
                            SessionStatus::Interrupted => status.color(accent(ui, Accent::Notice)),
                            SessionStatus::InUse => status.strong(),
                            _ => status,
                        };
                        ui.label(status);
                        if ui.button("Open").clicked() {
                            action = Some(LibraryAction::Open(listing.path.clone()));
                        }
                        ui.horizontal(|ui| {
                            if ui.button("Export…").clicked() {
                                action = Some(LibraryAction::Export(listing.path.clone()));
                            }
                            if ui.button("Show in folder").clicked() {
                                action = Some(LibraryAction::Reveal(listing.path.clone()));
                            }
                        });
                        ui.end_row();
                    }
                });
        });
    action
}

/// What the nurse chose about an interrupted recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryChoice {
    Resume,
    Review,
    Dismiss,
}

/// The prompt offering to resume a recording that never closed.
pub fn recovery_ui(
    ui: &mut egui::Ui,
    listing: &SessionListing,
    port: &str,
) -> Option<RecoveryChoice> {
    let mut choice = None;
    ui.label(
        RichText::new("A recording did not close: the monitor stopped while recording.")
            .size(18.0)
            .strong(),
    );
    ui.add_space(6.0);
    egui::Grid::new("recovery-grid")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Recording");
            ui.label(
                listing
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            ui.end_row();
            ui.label("Patient");
            ui.label(listing.patient_id.clone().unwrap_or_else(|| "—".into()));
            ui.end_row();
            ui.label("Last data");
            ui.label(
                listing
                    .last_row_utc
                    .map_or_else(|| "—".into(), local_date_time),
            );
            ui.end_row();
            ui.label("Machine state then");
            ui.label(listing.last_state.map_or("—", |s| s.as_str()));
            ui.end_row();
            ui.label("Port");
            ui.label(port);
            ui.end_row();
        });
    ui.add_space(6.0);
    ui.label("Resuming continues this recording if the machine is still running the same procedure; otherwise a new recording starts.");
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        if ui
            .button(RichText::new("Resume recording").size(18.0))
            .clicked()
        {
            choice = Some(RecoveryChoice::Resume);
        }
        if ui.button("Review it").clicked() {
            choice = Some(RecoveryChoice::Review);
        }
        if ui.button("Not now").clicked() {
            choice = Some(RecoveryChoice::Dismiss);
        }
    });
    choice
}

/// The prompt, at start, to resume the newest interrupted recording.
#[derive(Default)]
pub struct RecoveryWindow {
    /// The recording offered; the window is open while there is one.
    pub listing: Option<SessionListing>,
}

impl RecoveryWindow {
    /// Draws the prompt if a recording is offered; `port` says where it would resume from.
    /// Returns the nurse's choice with the recording it is about (the prompt then closes).
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        port: &str,
    ) -> Option<(RecoveryChoice, SessionListing)> {
        let listing = self.listing.as_ref()?;
        let mut choice = None;
        egui::Window::new("Resume the interrupted recording?")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .default_width(560.0)
            .show(ctx, |ui| choice = recovery_ui(ui, listing, port));
        let choice = choice?;
        self.listing.take().map(|listing| (choice, listing))
    }
}
