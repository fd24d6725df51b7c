//! The "Export summary" window: the session's figures, and saving them as PDF, CSV or JSON
//! (beside the recording, or anywhere with the file dialog), or appending to a register.
//! Loading, rendering and writing run off the UI thread.

use std::path::{Path, PathBuf};

use crossbeam_channel::Receiver;
use egui::RichText;

use crate::export::{self, Format, Report, beside};

/// Writes `report` as `format` to `out`; returns a line for the nurse.
pub fn write(report: &Report, format: Format, out: &Path) -> Result<String, String> {
    export::write(format, report, out)
        .map(|what| format!("Saved {} ({what}) to {}", format.name(), out.display()))
        .map_err(|e| e.to_string())
}

/// The window's state.
pub struct ExportWindow {
    pub recording: PathBuf,
    report: Option<Result<Report, String>>,
    loading: Option<Receiver<Result<Report, String>>>,
    job: Option<Receiver<Option<Result<String, String>>>>,
    /// The outcome of the last save, for the nurse.
    pub status: Option<Result<String, String>>,
    text: String,
}

impl ExportWindow {
    /// Opens the window and starts building the report of `recording` in the background.
    pub fn open(recording: PathBuf, wake: Box<dyn Fn() + Send>) -> ExportWindow {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let path = recording.clone();
        let spawned = std::thread::Builder::new()
            .name("build-report".into())
            .spawn(move || {
                let _ = tx.send(Report::load(&path).map_err(|e| e.to_string()));
                wake();
            });
        let mut window = ExportWindow {
            recording,
            report: None,
            loading: None,
            job: None,
            status: None,
            text: String::new(),
        };
        match spawned {
            Ok(_) => window.loading = Some(rx),
            Err(e) => window.report = Some(Err(format!("cannot start a thread: {e}"))),
        }
        window
    }

    /// Takes in finished background work.
    pub fn poll(&mut self) {
        if let Some(rx) = &self.loading
            && let Ok(report) = rx.try_recv()
        {
            self.loading = None;
            if let Ok(report) = &report {
                self.text = export::render_text(&report.summary);
            }
            self.report = Some(report);
        }
        if let Some(rx) = &self.job
            && let Ok(outcome) = rx.try_recv()
        {
            self.job = None;
            if let Some(outcome) = outcome {
                self.status = Some(outcome);
            }
        }
    }

    /// Whether a report is being built or saved.
    pub fn busy(&self) -> bool {
        self.loading.is_some() || self.job.is_some()
    }

    /// Saves as `format`: to `to`, or to a file the nurse picks when `to` is `None`.
    fn save(&mut self, format: Format, to: Option<PathBuf>, wake: Box<dyn Fn() + Send>) {
        let Some(Ok(report)) = &self.report else {
            return;
        };
        let report = report.clone();
        let recording = self.recording.clone();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new()
            .name("export".into())
            .spawn(move || {
                let out = to.or_else(|| {
                    let suggested = beside(&recording, format);
                    let mut dialog = rfd::FileDialog::new()
                        .set_title(format!("Save the session {}", format.name()))
                        .add_filter(format.name(), &[format.extension()]);
                    if let Some(dir) = suggested.parent() {
                        dialog = dialog.set_directory(dir);
                    }
                    if let Some(name) = suggested.file_name() {
                        dialog = dialog.set_file_name(name.to_string_lossy());
                    }
                    dialog.save_file()
                });
                let _ = tx.send(out.map(|out| write(&report, format, &out)));
                wake();
            });
        match spawned {
            Ok(_) => self.job = Some(rx),
            Err(e) => self.status = Some(Err(format!("cannot start a thread: {e}"))),
        }
    }
}

/// Draws the window's contents. `wake` wakes the UI when background work ends.
pub fn export_ui(
    ui: &mut egui::Ui,
    window: &mut ExportWindow,
    wake: &dyn Fn() -> Box<dyn Fn() + Send>,
) {
    ui.label(RichText::new(window.recording.display().to_string()).weak());
    match &window.report {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Computing the summary…");
            });
            return;
        }
        Some(Err(e)) => {
            ui.label(RichText::new(e).color(egui::Color32::from_rgb(0xFF, 0x6B, 0x6B)));
            return;
        }
        Some(Ok(_)) => {}
    }
    egui::ScrollArea::vertical()
        .max_height(360.0)
        .show(ui, |ui| {
            ui.add(egui::Label::new(RichText::new(&window.text).monospace().size(13.0)).wrap());
        });
    ui.separator();
    let busy = window.busy();
    ui.horizontal_wrapped(|ui| {
        for format in [Format::Pdf, Format::Csv, Format::Json] {
            let label = format!("Save {} beside the recording", format.name());
            if ui.add_enabled(!busy, egui::Button::new(label)).clicked() {
                let to = beside(&window.recording, format);
                window.save(format, Some(to), wake());
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        for format in [Format::Pdf, Format::Csv, Format::Json, Format::Register] {
            let label = if format == Format::Register {
                "Append to a register…".to_owned()
            } else {
                format!("Save {} as…", format.name())
            };
            if ui.add_enabled(!busy, egui::Button::new(label)).clicked() {
                window.save(format, None, wake());
            }
        }
    });
    if busy {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Working…");
        });
    }
    match &window.status {
        Some(Ok(done)) => {
            ui.label(RichText::new(done).color(egui::Color32::from_rgb(0x00, 0xB8, 0x8A)));
        }
        Some(Err(e)) => {
            ui.label(RichText::new(e).color(egui::Color32::from_rgb(0xFF, 0x6B, 0x6B)));
        }
        None => {}
    }
}
