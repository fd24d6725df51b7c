//! The "Export summary" window: the session's figures, and saving them as PDF, CSV or JSON
//! (beside the recording, or anywhere with the file dialog), or appending to a register.
//! Loading, rendering and writing run off the UI thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::RichText;

use crate::analysis::Timeline;
use crate::analysis::summary::Summary;
use crate::export::{self, Format, Report, beside};
use crate::job::{Job, Poll, Wake};

use super::file_dialog::{self, Chosen, PathPrompt, Purpose};
use super::forms::{accent, error_text};
use super::theme::Accent;

/// Writes `report` as `format` to `out`; returns a line for the nurse.
pub fn write(report: &Report, format: Format, out: &Path) -> Result<String, String> {
    export::write(format, report, out)
        .map(|what| format!("Saved {} ({what}) to {}", format.name(), out.display()))
        .map_err(|e| e.to_string())
}

/// The window's state.
pub struct ExportWindow {
    pub recording: PathBuf,
    report: Option<Result<Arc<Report>, String>>,
    building: Option<Job<Result<Report, String>>>,
    /// Saving (or printing), and where.
    saving: Option<Job<Saved>>,
    /// The path field shown when no file chooser could open, with the format to save as.
    prompt: Option<(PathPrompt, Format)>,
    /// The PDF being opened with the system's default handler (to print it).
    opening: Option<Job<Result<(), String>>>,
    /// The outcome of the last save, for the nurse.
    pub status: Option<Result<String, String>>,
    /// Whether the CSV and register rows carry the patient's identifiers.
    pub identifiers: bool,
    text: String,
    wake: Wake,
}

impl ExportWindow {
    /// Opens the window and starts building the report of `recording` from the file.
    pub fn open(recording: PathBuf, wake: Wake) -> ExportWindow {
        let path = recording.clone();
        let building = Job::spawn("build-report", wake.clone(), move || {
            Report::load(&path).map_err(|e| e.to_string())
        });
        ExportWindow::with_job(recording, building, wake)
    }

    /// Opens the window over a session already summarised and laid out (a replay's): the rows
    /// are not read again, only the file's fingerprint.
    pub fn from_parts(
        recording: PathBuf,
        summary: Summary,
        timeline: Arc<Timeline>,
        wake: Wake,
    ) -> ExportWindow {
        let path = recording.clone();
        let building = Job::spawn("build-report", wake.clone(), move || {
            Ok(Report::from_parts(path, summary, timeline))
        });
        ExportWindow::with_job(recording, building, wake)
    }

    fn with_job(
        recording: PathBuf,
        building: Job<Result<Report, String>>,
        wake: Wake,
    ) -> ExportWindow {
        ExportWindow {
            recording,
            report: None,
            building: Some(building),
            saving: None,
            prompt: None,
            opening: None,
            status: None,
            identifiers: true,
            text: String::new(),
            wake,
        }
    }

    /// Takes in finished background work.
    pub fn poll(&mut self) {
        match Job::take_ready(&mut self.opening) {
            Some(Ok(())) => {
                if let Some(Ok(done)) = &mut self.status {
                    *done = done.replace("opening it to print…", "opened to print");
                }
            }
            Some(Err(why)) => self.status = Some(Err(why)),
            None => {}
        }
        if let Some(job) = &mut self.building {
            let built = match job.poll() {
                Poll::Pending => None,
                Poll::Ready(report) => Some(report),
                Poll::Lost(why) => Some(Err(why)),
            };
            if let Some(report) = built {
                self.building = None;
                if let Ok(report) = &report {
                    self.text = export::render_text(&report.summary);
                }
                self.report = Some(report.map(Arc::new));
            }
        }
        if let Some(job) = &mut self.saving {
            match job.poll() {
                Poll::Pending => {}
                Poll::Ready(saved) => {
                    self.saving = None;
                    match saved {
                        Saved::Done(outcome) => self.status = Some(outcome),
                        Saved::Cancelled => {}
                        Saved::ToOpen(saved, pdf) => {
                            // The opener may wait for the viewer: a job of its own, which
                            // keeps no button waiting.
                            self.status = Some(Ok(format!("{saved}; opening it to print…")));
                            self.opening =
                                Some(Job::spawn("open-pdf", self.wake.clone(), move || {
                                    file_dialog::open_with_system(&pdf)
                                }));
                        }
                        Saved::NoChooser(reason, format) => {
                            let suggested = beside(&self.recording, format);
                            self.prompt = Some((
                                PathPrompt::new(Purpose::Save, reason, Some(&suggested)),
                                format,
                            ));
                        }
                    }
                }
                Poll::Lost(why) => {
                    self.saving = None;
                    self.status = Some(Err(why));
                }
            }
        }
    }

    /// Whether a report is being built or saved.
    pub fn busy(&self) -> bool {
        self.building.is_some() || self.saving.is_some()
    }

    /// Saves as `format`: to `to`, or to a file the nurse picks when `to` is `None`.
    fn save(&mut self, format: Format, to: Option<PathBuf>) {
        let Some(Ok(report)) = &self.report else {
            return;
        };
        let mut report = report.clone();
        if report.identifiers != self.identifiers {
            let mut without = (*report).clone();
            without.identifiers = self.identifiers;
            report = Arc::new(without);
        }
        let recording = self.recording.clone();
        self.prompt = None;
        self.saving = Some(Job::spawn("export", self.wake.clone(), move || {
            let out = match to {
                Some(out) => out,
                None => match file_dialog::run(|| save_dialog(&recording, format)) {
                    Chosen::Path(out) => out,
                    Chosen::Cancelled => return Saved::Cancelled,
                    Chosen::Unavailable(reason) => return Saved::NoChooser(reason, format),
                },
            };
            Saved::Done(write(&report, format, &out))
        }));
    }

    /// Writes the PDF beside the recording and opens it with the system's default handler
    /// (to print it from there).
    fn print(&mut self) {
        let Some(Ok(report)) = &self.report else {
            return;
        };
        let report = report.clone();
        let out = beside(&self.recording, Format::Pdf);
        self.prompt = None;
        self.saving = Some(Job::spawn("print", self.wake.clone(), move || match write(
            &report,
            Format::Pdf,
            &out,
        ) {
            Ok(saved) => Saved::ToOpen(saved, out),
            Err(e) => Saved::Done(Err(e)),
        }));
    }

    /// Draws the form.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        export_ui(ui, self);
    }
}

/// How a save ended.
enum Saved {
    /// Written (what and where), or why not.
    Done(Result<String, String>),
    /// The nurse closed the file chooser without a name.
    Cancelled,
    /// No file chooser could open: why, and the format to save as.
    NoChooser(String, Format),
    /// The PDF written (what and where), to open with the system's default handler.
    ToOpen(String, PathBuf),
}

/// The file chooser for saving `format`, suggesting the file beside `recording`.
fn save_dialog(recording: &Path, format: Format) -> Option<PathBuf> {
    let suggested = beside(recording, format);
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
}

/// Draws the window's contents.
fn export_ui(ui: &mut egui::Ui, window: &mut ExportWindow) {
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
            error_text(ui, e.clone());
            return;
        }
        Some(Ok(_)) => {}
    }
    egui::ScrollArea::vertical()
        .id_salt("export-text")
        .max_height(300.0)
        .show(ui, |ui| {
            ui.add(egui::Label::new(RichText::new(&window.text).monospace().size(13.0)).wrap());
        });
    ui.separator();
    let busy = window.busy();
    if ui
        .add_enabled(!busy, egui::Button::new("Print…"))
        .on_hover_text("Writes the PDF beside the recording and opens it to print")
        .clicked()
    {
        window.print();
    }
    ui.checkbox(
        &mut window.identifiers,
        "Patient identifiers in the CSV and the register",
    )
    .on_hover_text("Hospital number, NHS number and date of birth; the PDF always carries them");
    ui.horizontal_wrapped(|ui| {
        for format in [Format::Pdf, Format::Csv, Format::Json] {
            let label = format!("Save {} beside the recording", format.name());
            if ui.add_enabled(!busy, egui::Button::new(label)).clicked() {
                let to = beside(&window.recording, format);
                window.save(format, Some(to));
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
                window.save(format, None);
            }
        }
    });
    if let Some((prompt, format)) = &mut window.prompt {
        let format = *format;
        match prompt.ui(ui, &format!("Save {}", format.name())) {
            Some(Ok(out)) => window.save(format, Some(out)),
            Some(Err(())) => window.prompt = None,
            None => {}
        }
    }
    if busy {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Working…");
        });
    }
    match &window.status {
        Some(Ok(done)) => {
            let color = accent(ui, Accent::Success);
            ui.label(RichText::new(done).color(color));
        }
        Some(Err(e)) => {
            error_text(ui, e.clone());
        }
        None => {}
    }
}
