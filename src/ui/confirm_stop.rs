//! The question asked before the recording is stopped while the machine is in RUN: a stopped
//! recording cannot be taken up again, so one click must not end it mid-procedure.

use egui::RichText;

/// Asked when "Stop recording" is pressed during RUN.
#[derive(Default)]
pub struct ConfirmStopWindow {
    pub open: bool,
}

impl ConfirmStopWindow {
    /// Draws the window if it is open; returns whether the nurse confirmed the stop.
    pub fn show(&mut self, ctx: &egui::Context) -> bool {
        if !self.open {
            return false;
        }
        let mut stop = false;
        let mut keep = false;
        egui::Window::new("Stop recording during RUN?")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .default_width(520.0)
            .show(ctx, |ui| {
                ui.label(
                    RichText::new(
                        "The machine is running. Stopping closes this recording: what happens \
                         after is not recorded, and no note can be added to it.",
                    )
                    .size(18.0)
                    .strong(),
                );
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    keep = ui
                        .button(RichText::new("Keep recording").size(18.0))
                        .clicked();
                    stop = ui.button("Stop the recording").clicked();
                });
            });
        if stop || keep {
            self.open = false;
        }
        stop
    }
}
