//! The "About" window, and the question asked when the window is closed while recording.

use std::path::Path;

use egui::RichText;

/// The "About" window: what the monitor is, and what it is not.
#[derive(Default)]
pub struct AboutWindow {
    pub open: bool,
}

impl AboutWindow {
    /// Draws the window if it is open; `folder` is where recordings are kept.
    pub fn show(&mut self, ctx: &egui::Context, folder: &Path) {
        if !self.open {
            return;
        }
        let mut open = true;
        egui::Window::new("About")
            .open(&mut open)
            .collapsible(false)
            .default_width(560.0)
            .show(ctx, |ui| about_ui(ui, folder));
        self.open = open;
    }
}

fn about_ui(ui: &mut egui::Ui, folder: &Path) {
    ui.heading(format!(
        "Apheresis session monitor {}",
        env!("CARGO_PKG_VERSION")
    ));
    ui.add_space(6.0);
    ui.label(
        RichText::new(
            "This monitor is a secondary display. It is not the apheresis machine's alarm \
             system and does not replace it: the machine's own alarms and screen remain the \
             reference, and the monitor's alarms are an aid.",
        )
        .strong(),
    );
    ui.add_space(6.0);
    ui.label("It records every sample and event the machine sends to a CSV journal, with the nurse's notes, and summarises the session for the patient record.");
    ui.label(format!(
        "Recordings are kept in {}, readable by their owner only.",
        folder.display()
    ));
    ui.label("Patient details are pseudonymous ids only; no name is asked for or stored.");
    ui.label("It opens no network connection.");
}

/// What the nurse answered when asked whether to stop recording and quit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitChoice {
    StopAndQuit,
    KeepRecording,
}

/// Asked when the window is closed while a recording runs: closing it stops the recording.
#[derive(Default)]
pub struct QuitWindow {
    pub open: bool,
}

impl QuitWindow {
    pub fn show(&mut self, ctx: &egui::Context) -> Option<QuitChoice> {
        if !self.open {
            return None;
        }
        let mut choice = None;
        egui::Window::new("Stop recording and quit?")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .default_width(520.0)
            .show(ctx, |ui| {
                ui.label(
                    RichText::new("A session is being recorded. Quitting stops the recording.")
                        .size(18.0)
                        .strong(),
                );
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    if ui
                        .button(RichText::new("Keep recording").size(18.0))
                        .clicked()
                    {
                        choice = Some(QuitChoice::KeepRecording);
                    }
                    if ui.button("Stop recording and quit").clicked() {
                        choice = Some(QuitChoice::StopAndQuit);
                    }
                });
            });
        if choice.is_some() {
            self.open = false;
        }
        choice
    }
}
