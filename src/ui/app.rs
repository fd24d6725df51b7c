//! The app: start screen, live monitor, replay, and the windows over them.
//!
//! Widgets record intent as [`Command`]s; the commands run after drawing.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use egui::{Align, Layout, RichText};
use jiff::Timestamp;

use crate::acquisition::{PortListing, STANDARD_BAUDS, list_ports};
use crate::analysis::{Patient, Target, progress};
use crate::model::Note;
use crate::recording::meta::PatientMeta;
use crate::recording::{Recording, SessionMeta};
use crate::session::library::{SessionListing, recoverable};
use crate::session::replay::{Player, SPEED_RANGE};
use crate::session::{LinkView, LivePlan, LiveSession, start_live_in_background};

use super::export::{ExportWindow, export_ui};
use super::library::{LibraryAction, RecoveryChoice, library_ui, recovery_ui};
use super::monitor::{
    Connection, MonitorModel, banner_messages, banner_ui, header_ui, progress_ui, tiles_ui,
};
use super::notes::{NoteAction, NoteForm, note_form_ui};
use super::plots::{PlotView, PressureLimits, plots_ui};
use super::settings::Settings;
use super::setup::{SetupAction, SetupForm, setup_form_ui};
use super::theme::{self, Theme};

/// How the app opens.
#[derive(Debug, Clone, PartialEq)]
pub enum Launch {
    /// The start screen.
    Start,
    /// Straight into a live session on a port.
    Port { port: String, baud: u32 },
    /// Straight into the demo: the simulated machine on a pseudo-terminal.
    Demo { speed: f64 },
    /// Straight into a recorded session.
    Replay { path: PathBuf, speed: f64 },
}

/// Where "now" comes from: the system clock, or a clock a test moves.
#[derive(Clone, Default)]
pub struct Clock {
    fake: Option<Arc<Mutex<Timestamp>>>,
}

impl Clock {
    /// A clock that stays where the test puts it.
    pub fn fake(start: Timestamp) -> (Clock, Arc<Mutex<Timestamp>>) {
        let cell = Arc::new(Mutex::new(start));
        (
            Clock {
                fake: Some(cell.clone()),
            },
            cell,
        )
    }

    pub fn now(&self) -> Timestamp {
        match &self.fake {
            Some(cell) => cell.lock().map_or_else(|e| *e.into_inner(), |t| *t),
            None => Timestamp::now(),
        }
    }
}

/// Something the user asked for, run after the frame is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    RefreshPorts,
    Connect { port: String, baud: u32 },
    StartDemo { speed: f64 },
    PickRecording,
    OpenRecording(PathBuf),
    SaveSetup,
    AddNote(Note),
    StopRecording,
    CloseSession,
    SetTheme(Theme),
    RefreshLibrary,
    Reveal(PathBuf),
    ExportSummary(PathBuf),
    Resume(Box<SessionListing>),
    PickSessionFolder,
    SetSessionFolder(Option<PathBuf>),
    AcknowledgeAlarms,
}

/// A recording being loaded off the UI thread.
struct Loading {
    path: PathBuf,
    progress: Arc<Mutex<f32>>,
    result: Receiver<Result<Recording, String>>,
    speed: f64,
}

/// A replayed recording.
pub struct ReplaySession {
    pub player: Player,
    pub patient: Patient,
    pub target: Target,
    pub notice: Option<String>,
}

enum Active {
    None,
    Starting(Receiver<Result<LiveSession, String>>),
    Live(Box<LiveSession>),
    Replay(Box<ReplaySession>),
}

/// The application state.
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent window and prompt flags"
)]
pub struct MonitorApp {
    pub settings: Settings,
    active: Active,
    loading: Option<Loading>,
    ports: Vec<PortListing>,
    ports_pending: Option<Receiver<Result<Vec<PortListing>, String>>>,
    port_text: String,
    baud: u32,
    demo_speed: f64,
    pub setup: SetupForm,
    pub show_setup: bool,
    pub note: NoteForm,
    pub show_note: bool,
    plot_view: PlotView,
    commands: Vec<Command>,
    message: Option<String>,
    file_dialog: Option<Receiver<Option<PathBuf>>>,
    clock: Clock,
    title: String,
    last_frame: Option<Instant>,
    ctx: Option<egui::Context>,
    pending_launch: Option<Launch>,
    applied_theme: Option<Theme>,
    library: Option<Vec<SessionListing>>,
    library_pending: Option<Receiver<Vec<SessionListing>>>,
    /// An interrupted recording to offer for resuming.
    pub recovery: Option<SessionListing>,
    recovery_checked: bool,
    folder_dialog: Option<Receiver<Option<PathBuf>>>,
    sound: crate::alarms::sound::AlarmSound,
    frame_stats: FrameStats,
    /// The open "Export summary" window.
    pub export: Option<ExportWindow>,
    pub show_alarm_settings: bool,
    pub show_about: bool,
}

/// Interrupted recordings older than this are not offered for resuming at start.
const RECOVERY_MAX_AGE_S: f64 = 12.0 * 3600.0;

impl MonitorApp {
    /// A new app with `settings`, opening as `launch` says.
    pub fn new(settings: Settings, launch: Launch, clock: Clock) -> MonitorApp {
        let baud = settings.baud;
        let port_text = settings.last_port.clone();
        let demo_speed = settings.demo_speed;
        let setup = SetupForm::new(settings.default_target_tbv);
        MonitorApp {
            settings,
            active: Active::None,
            loading: None,
            ports: Vec::new(),
            ports_pending: None,
            port_text,
            baud,
            demo_speed,
            setup,
            show_setup: false,
            note: NoteForm::default(),
            show_note: false,
            plot_view: PlotView::default(),
            commands: vec![Command::RefreshPorts, Command::RefreshLibrary],
            message: None,
            file_dialog: None,
            clock,
            title: String::new(),
            last_frame: None,
            ctx: None,
            pending_launch: Some(launch),
            applied_theme: None,
            library: None,
            library_pending: None,
            recovery: None,
            recovery_checked: false,
            folder_dialog: None,
            sound: crate::alarms::sound::AlarmSound::default(),
            frame_stats: FrameStats::new(),
            export: None,
            show_alarm_settings: false,
            show_about: false,
        }
    }

    /// The live session, if one is running.
    pub fn live(&self) -> Option<&LiveSession> {
        match &self.active {
            Active::Live(s) => Some(s),
            _ => None,
        }
    }

    /// The live session, mutable (tests feed it).
    pub fn live_mut(&mut self) -> Option<&mut LiveSession> {
        match &mut self.active {
            Active::Live(s) => Some(s),
            _ => None,
        }
    }

    /// The replayed session, if one is open.
    pub fn replay(&self) -> Option<&ReplaySession> {
        match &self.active {
            Active::Replay(s) => Some(s),
            _ => None,
        }
    }

    pub fn replay_mut(&mut self) -> Option<&mut ReplaySession> {
        match &mut self.active {
            Active::Replay(s) => Some(s),
            _ => None,
        }
    }

    /// Whether a session is being started or loaded.
    pub fn is_busy(&self) -> bool {
        matches!(self.active, Active::Starting(_)) || self.loading.is_some()
    }

    /// The error or notice shown at the top, if any.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Work that is not drawing: take in data, advance replay, finish background jobs.
    /// Runs every frame, and also while the window is hidden.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if self.ctx.is_none() {
            self.ctx = Some(ctx.clone());
        }
        if self.applied_theme != Some(self.settings.theme) {
            theme::apply(ctx, self.settings.theme);
            self.applied_theme = Some(self.settings.theme);
        }
        if let Some(launch) = self.pending_launch.take() {
            self.launch(launch);
        }
        let frame_dt = self.last_frame.map(|t| t.elapsed()).unwrap_or_default();
        self.last_frame = Some(Instant::now());
        self.poll_background();
        if let Some(export) = &mut self.export {
            export.poll();
        }
        match &mut self.active {
            Active::Live(session) => {
                let (_, more) = session.drain(Duration::from_millis(8));
                if more {
                    ctx.request_repaint();
                }
                let sounding = session.update_alarms(self.clock.now(), self.settings.alarms);
                self.sound.update(sounding);
            }
            Active::Replay(replay) => {
                if replay.player.is_playing() {
                    replay
                        .player
                        .advance(frame_dt.min(Duration::from_millis(250)));
                    ctx.request_repaint_after(Duration::from_millis(33));
                }
            }
            Active::Starting(_) | Active::None => {}
        }
        // The clock and the data's age move even when no data arrives.
        ctx.request_repaint_after(Duration::from_secs(1));
        self.update_title(ctx);
    }

    fn launch(&mut self, launch: Launch) {
        match launch {
            Launch::Start => {}
            Launch::Port { port, baud } => self.commands.push(Command::Connect { port, baud }),
            Launch::Demo { speed } => self.commands.push(Command::StartDemo { speed }),
            Launch::Replay { path, speed } => self.open_recording(path, speed),
        }
    }

    fn wake(&self) -> Box<dyn Fn() + Send> {
        wake_for(self.ctx.as_ref())
    }

    fn poll_background(&mut self) {
        if let Active::Starting(rx) = &self.active
            && let Ok(result) = rx.try_recv()
        {
            match result {
                Ok(session) => {
                    self.settings.remember_session(session.recording.clone());
                    self.setup =
                        SetupForm::from_meta(&session.meta, self.settings.default_target_tbv);
                    let has_patient = session
                        .meta
                        .patient
                        .as_ref()
                        .is_some_and(|p| p.weight_kg.is_some());
                    self.show_setup = !has_patient;
                    self.plot_view = PlotView::default();
                    self.active = Active::Live(Box::new(session));
                }
                Err(e) => {
                    self.message = Some(e);
                    self.active = Active::None;
                }
            }
        }
        if let Some(loading) = &self.loading
            && let Ok(result) = loading.result.try_recv()
        {
            let path = loading.path.clone();
            let speed = loading.speed;
            self.loading = None;
            match result {
                Ok(recording) => {
                    let notice = recording
                        .problems_summary()
                        .into_iter()
                        .chain(recording.meta_problem.clone())
                        .collect::<Vec<_>>()
                        .join("\n");
                    let patient = Patient::from_meta(
                        recording.meta.as_ref().and_then(|m| m.patient.as_ref()),
                    );
                    let (target, _) =
                        Target::from_meta(recording.meta.as_ref().and_then(|m| m.targets.as_ref()));
                    let mut player = Player::new(recording);
                    player.set_speed(speed);
                    self.settings.remember_session(path);
                    self.plot_view = PlotView::default();
                    self.active = Active::Replay(Box::new(ReplaySession {
                        player,
                        patient,
                        target,
                        notice: (!notice.is_empty()).then_some(notice),
                    }));
                }
                Err(e) => self.message = Some(e),
            }
        }
        if let Some(rx) = &self.ports_pending
            && let Ok(result) = rx.try_recv()
        {
            self.ports_pending = None;
            match result {
                Ok(ports) => self.ports = ports,
                Err(e) => self.message = Some(format!("cannot list serial ports: {e}")),
            }
        }
        if let Some(rx) = &self.library_pending
            && let Ok(listings) = rx.try_recv()
        {
            self.library_pending = None;
            if !self.recovery_checked {
                self.recovery_checked = true;
                let launched_into_session = !matches!(self.active, Active::None);
                if !launched_into_session {
                    self.recovery =
                        recoverable(&listings, self.clock.now(), RECOVERY_MAX_AGE_S).cloned();
                }
            }
            self.library = Some(listings);
        }
        if let Some(rx) = &self.folder_dialog
            && let Ok(picked) = rx.try_recv()
        {
            self.folder_dialog = None;
            if let Some(path) = picked {
                self.commands.push(Command::SetSessionFolder(Some(path)));
            }
        }
        if let Some(rx) = &self.file_dialog
            && let Ok(picked) = rx.try_recv()
        {
            self.file_dialog = None;
            if let Some(path) = picked {
                self.commands.push(Command::OpenRecording(path));
            }
        }
    }

    fn update_title(&mut self, ctx: &egui::Context) {
        let title = match &self.active {
            Active::Live(s) => format!(
                "Apheresis Monitor — {} — {}",
                s.meta
                    .patient
                    .as_ref()
                    .and_then(|p| p.id.clone())
                    .unwrap_or_else(|| "no patient ID".into()),
                file_name(&s.recording)
            ),
            Active::Replay(r) => format!(
                "Apheresis Monitor — {} — {} (recorded)",
                r.patient
                    .id
                    .clone()
                    .unwrap_or_else(|| "no patient ID".into()),
                file_name(&r.player.recording.path)
            ),
            _ => "Apheresis Monitor".into(),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    /// Draws the whole window, then runs what was asked for.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let started = Instant::now();
        self.draw(ui);
        self.frame_stats.record(started.elapsed());
    }

    fn draw(&mut self, ui: &mut egui::Ui) {
        if let Some(message) = self.message.clone() {
            egui::Panel::top("message").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(&message)
                            .color(egui::Color32::from_rgb(0xFF, 0x8A, 0x8A))
                            .size(16.0),
                    );
                    if ui.button("Dismiss").clicked() {
                        self.message = None;
                    }
                });
            });
        }
        match &self.active {
            Active::None | Active::Starting(_) => self.start_screen_ui(ui),
            Active::Live(_) => self.live_ui(ui),
            Active::Replay(_) => self.replay_ui(ui),
        }
        self.windows_ui(ui.ctx());
        self.run_commands();
    }

    fn start_screen_ui(&mut self, ui: &mut egui::Ui) {
        let starting = matches!(self.active, Active::Starting(_));
        egui::CentralPanel::default().show(ui, |ui| {
            ui.add_space(12.0);
            ui.heading(RichText::new("Apheresis session monitor").size(30.0));
            ui.label("Live monitoring, recording and review of apheresis collections.");
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(
                        "A secondary display: the apheresis machine's own alarms remain the alarm system.",
                    )
                    .weak(),
                );
                if ui.button("About").clicked() {
                    self.show_about = true;
                }
            });
            ui.add_space(16.0);
            if starting {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Starting the session…");
                });
            }
            if let Some(loading) = &self.loading {
                let fraction = loading.progress.lock().map_or(0.0, |p| *p);
                ui.label(format!("Loading {}…", file_name(&loading.path)));
                ui.add(egui::ProgressBar::new(fraction).show_percentage());
            }
            ui.columns(2, |columns| {
                self.connect_ui(&mut columns[0], starting);
                self.recordings_ui(&mut columns[1]);
            });
            ui.add_space(12.0);
            ui.separator();
            match library_ui(ui, self.library.as_deref()) {
                Some(LibraryAction::Open(path)) => self.commands.push(Command::OpenRecording(path)),
                Some(LibraryAction::Reveal(path)) => self.commands.push(Command::Reveal(path)),
                Some(LibraryAction::Export(path)) => self.commands.push(Command::ExportSummary(path)),
                Some(LibraryAction::Refresh) => self.commands.push(Command::RefreshLibrary),
                None => {}
            }
        });
    }

    fn connect_ui(&mut self, ui: &mut egui::Ui, starting: bool) {
        ui.group(|ui| {
            ui.heading("Connect to a machine");
            ui.horizontal(|ui| {
                let label = ui.label("Serial port");
                egui::ComboBox::from_id_salt("port-picker")
                    .selected_text(if self.port_text.is_empty() { "choose…".to_owned() } else { self.port_text.clone() })
                    .width(260.0)
                    .show_ui(ui, |ui| {
                        if self.ports.is_empty() {
                            ui.label("no ports found");
                        }
                        for port in &self.ports {
                            let text = format!("{}  {}", port.path, port.description);
                            ui.selectable_value(&mut self.port_text, port.path.clone(), text);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                if ui.button("Refresh ports").clicked() {
                    self.commands.push(Command::RefreshPorts);
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label("Port path");
                ui.add(egui::TextEdit::singleline(&mut self.port_text).hint_text("/dev/ttyUSB0").desired_width(260.0))
                    .labelled_by(label.id);
            });
            ui.horizontal(|ui| {
                let label = ui.label("Baud");
                egui::ComboBox::from_id_salt("baud-picker")
                    .selected_text(self.baud.to_string())
                    .show_ui(ui, |ui| {
                        for baud in STANDARD_BAUDS {
                            ui.selectable_value(&mut self.baud, baud, baud.to_string());
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
            let can_connect = !starting && !self.port_text.trim().is_empty();
            if ui.add_enabled(can_connect, egui::Button::new(RichText::new("Connect").size(18.0))).clicked() {
                self.commands.push(Command::Connect {
                    port: self.port_text.trim().to_owned(),
                    baud: self.baud,
                });
            }
            ui.add_space(16.0);
            ui.heading("Try it without a machine");
            ui.horizontal(|ui| {
                let label = ui.label("Demo speed");
                ui.add(egui::DragValue::new(&mut self.demo_speed).range(1.0..=600.0).suffix("×"))
                    .labelled_by(label.id);
                if ui.add_enabled(!starting, egui::Button::new(RichText::new("Start demo").size(18.0))).clicked() {
                    self.commands.push(Command::StartDemo { speed: self.demo_speed });
                }
            });
            ui.label(RichText::new("A simulated apheresis machine on a pseudo-terminal, through the real serial path.").weak());
        });
    }

    fn recordings_ui(&mut self, ui: &mut egui::Ui) {
        ui.group(|ui| {
            ui.heading("Recorded sessions");
            if ui
                .button(RichText::new("Open recording…").size(18.0))
                .clicked()
            {
                self.commands.push(Command::PickRecording);
            }
            ui.add_space(8.0);
            ui.label("Recent sessions");
            if self.settings.recent_sessions.is_empty() {
                ui.label(RichText::new("none yet").weak());
            }
            for path in self.settings.recent_sessions.clone() {
                if ui
                    .button(file_name(&path))
                    .on_hover_text(path.display().to_string())
                    .clicked()
                {
                    self.commands.push(Command::OpenRecording(path));
                }
            }
            ui.add_space(8.0);
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new(format!(
                        "Recordings are kept in {}",
                        self.settings.session_folder().display()
                    ))
                    .weak(),
                );
                if ui.button("Change folder…").clicked() {
                    self.commands.push(Command::PickSessionFolder);
                }
                if self.settings.session_folder.is_some()
                    && ui.button("Use default folder").clicked()
                {
                    self.commands.push(Command::SetSessionFolder(None));
                }
            });
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                ui.label("Theme");
                let mut theme = self.settings.theme;
                ui.selectable_value(&mut theme, Theme::Night, "Night");
                ui.selectable_value(&mut theme, Theme::Day, "Day");
                if theme != self.settings.theme {
                    self.commands.push(Command::SetTheme(theme));
                }
            });
        });
    }

    fn live_ui(&mut self, ui: &mut egui::Ui) {
        let Active::Live(session) = &self.active else {
            return;
        };
        let now = self.clock.now();
        let patient = Patient::from_meta(session.meta.patient.as_ref());
        let (target, _) = Target::from_meta(session.meta.targets.as_ref());
        let connection = match &session.link {
            LinkView::Connecting => Connection::Connecting {
                port: session.port.clone(),
            },
            LinkView::Status(crate::acquisition::LinkStatus::Up) => Connection::Up {
                port: session.port.clone(),
            },
            LinkView::Status(crate::acquisition::LinkStatus::Silent) => Connection::Silent {
                port: session.port.clone(),
            },
            LinkView::Status(crate::acquisition::LinkStatus::Down { reason }) => Connection::Down {
                port: session.port.clone(),
                reason: reason.clone(),
                since: session.link_since,
            },
            LinkView::Closed => Connection::Closed,
        };
        // The link counts as up as soon as samples flow.
        let connection = match connection {
            Connection::Connecting { port } if session.timeline.last_sample_utc().is_some() => {
                Connection::Up { port }
            }
            other => other,
        };
        let model = MonitorModel {
            timeline: session.timeline.now(),
            progress: progress(session.timeline.now(), &patient, target),
            patient: &patient,
            target,
            machine: session
                .identity
                .as_ref()
                .map(|m| format!("{} {}", m.model, m.serial_no)),
            now,
            connection,
            badge: session
                .is_demo()
                .then(|| format!("DEMO {}×", self.demo_speed)),
        };
        let engine_alarms = session.alarms.active();
        let messages = banner_messages(
            &model,
            session.recorder_error.as_ref(),
            Some(&engine_alarms),
        );
        let audio_paused = session
            .alarms
            .audio_paused_for(now)
            .map(|d| d.as_secs_f64());
        let can_acknowledge = !engine_alarms.is_empty();
        let recording = session.recording.clone();
        let recording_on = session.is_recording();
        let stats = session.stats;
        let notice = session.notice.clone();
        egui::Panel::top("header").show(ui, |ui| header_ui(ui, &model));
        if let Some(notice) = notice {
            egui::Panel::top("notice").show(ui, |ui| {
                ui.label(
                    RichText::new(notice)
                        .size(16.0)
                        .color(egui::Color32::from_rgb(0xF5, 0xC2, 0x11)),
                );
            });
        }
        egui::Panel::top("banner").show(ui, |ui| {
            if banner_ui(ui, &messages, audio_paused, can_acknowledge) {
                self.commands.push(Command::AcknowledgeAlarms);
            }
        });
        egui::Panel::top("tiles").show(ui, |ui| {
            tiles_ui(ui, &model);
            progress_ui(ui, &model);
        });
        egui::Panel::bottom("footer").show(ui, |ui| {
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(
                        recording_on,
                        egui::Button::new(RichText::new("+ Note").size(18.0)),
                    )
                    .clicked()
                {
                    self.show_note = true;
                }
                if ui.button(RichText::new("Setup").size(18.0)).clicked() {
                    self.show_setup = true;
                }
                if ui.button("About").clicked() {
                    self.show_about = true;
                }
                if ui.button("Alarm limits").clicked() {
                    self.show_alarm_settings = true;
                }
                if recording_on {
                    if ui.button("Stop recording").clicked() {
                        self.commands.push(Command::StopRecording);
                    }
                } else {
                    if ui
                        .button(RichText::new("Export summary…").size(18.0))
                        .clicked()
                    {
                        self.commands
                            .push(Command::ExportSummary(recording.clone()));
                    }
                    if ui.button("Close session").clicked() {
                        self.commands.push(Command::CloseSession);
                    }
                }
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    ui.label(RichText::new(file_name(&recording)).size(15.0))
                        .on_hover_text(recording.display().to_string());
                    if recording_on {
                        ui.label(
                            RichText::new("REC")
                                .size(15.0)
                                .strong()
                                .color(egui::Color32::from_rgb(0xE0, 0x40, 0x40)),
                        );
                    } else {
                        ui.label(RichText::new("recorded").size(15.0));
                    }
                    ui.label(
                        RichText::new(format!(
                            "{} sentences · {} rejected · {} lost",
                            stats.sentences,
                            stats.rejected(),
                            stats.lost_sentences
                        ))
                        .weak(),
                    )
                    .on_hover_text(stats.summary_line());
                });
            });
        });
        let timeline = &session.timeline;
        let view = &mut self.plot_view;
        egui::CentralPanel::default().show(ui, |ui| {
            plots_ui(ui, timeline, view, PressureLimits::default(), None);
        });
    }

    fn replay_ui(&mut self, ui: &mut egui::Ui) {
        let Active::Replay(replay) = &mut self.active else {
            return;
        };
        let mut ask = ReplayAsk::default();
        egui::Panel::bottom("replay-controls").show(ui, |ui| {
            ask = replay_controls_ui(ui, &mut replay.player);
        });
        if ask.export {
            self.commands
                .push(Command::ExportSummary(replay.player.recording.path.clone()));
        }
        let close = ask.close;
        let player = &replay.player;
        let shown = player.full().moment(player.position());
        let model = MonitorModel {
            timeline: shown,
            progress: progress(shown, &replay.patient, replay.target),
            patient: &replay.patient,
            target: replay.target,
            machine: player
                .recording
                .meta
                .as_ref()
                .and_then(|m| m.machine.as_ref())
                .map(|m| format!("{} {}", m.model, m.serial_no)),
            now: shown
                .clock_at(player.position())
                .unwrap_or_else(|| self.clock.now()),
            connection: Connection::Replay,
            badge: Some(format!(
                "REPLAY {} {}×",
                if player.is_playing() {
                    "playing"
                } else {
                    "paused"
                },
                player.speed()
            )),
        };
        let messages = banner_messages(&model, None, None);
        egui::Panel::top("header").show(ui, |ui| header_ui(ui, &model));
        if let Some(notice) = &replay.notice {
            egui::Panel::top("notice").show(ui, |ui| {
                ui.label(RichText::new(notice).color(egui::Color32::from_rgb(0xF5, 0xC2, 0x11)));
            });
        }
        egui::Panel::top("banner").show(ui, |ui| {
            banner_ui(ui, &messages, None, false);
        });
        egui::Panel::top("tiles").show(ui, |ui| {
            tiles_ui(ui, &model);
            progress_ui(ui, &model);
        });
        let full = player.full();
        let position = player.position();
        let mut seek_to = None;
        let view = &mut self.plot_view;
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(x) = plots_ui(ui, full, view, PressureLimits::default(), Some(position)) {
                seek_to = Some(x);
            }
        });
        if let (Some(x), Active::Replay(replay)) = (seek_to, &mut self.active) {
            replay.player.seek(x);
        }
        if close {
            self.commands.push(Command::CloseSession);
        }
    }

    fn windows_ui(&mut self, ctx: &egui::Context) {
        if self.show_about {
            let mut open = true;
            let folder = self.settings.session_folder();
            egui::Window::new("About")
                .open(&mut open)
                .collapsible(false)
                .default_width(560.0)
                .show(ctx, |ui| about_ui(ui, &folder));
            self.show_about = open;
        }
        if let Some(export) = &mut self.export {
            let mut open = true;
            let waker_ctx = self.ctx.clone();
            let wake = move || wake_for(waker_ctx.as_ref());
            egui::Window::new("Export summary")
                .open(&mut open)
                .collapsible(false)
                .default_width(720.0)
                .show(ctx, |ui| export_ui(ui, export, &wake));
            if !open {
                self.export = None;
            }
        }
        if self.show_alarm_settings {
            let mut open = true;
            egui::Window::new("Alarm limits")
                .open(&mut open)
                .collapsible(false)
                .default_width(560.0)
                .show(ctx, |ui| {
                    super::alarm_settings::alarm_settings_ui(ui, &mut self.settings.alarms);
                });
            self.show_alarm_settings = open;
        }
        if let Some(listing) = self.recovery.clone() {
            let port = self.resume_port(&listing);
            let mut choice = None;
            egui::Window::new("Resume the interrupted recording?")
                .collapsible(false)
                .resizable(false)
                .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
                .default_width(560.0)
                .show(ctx, |ui| choice = recovery_ui(ui, &listing, &port));
            match choice {
                Some(RecoveryChoice::Resume) => {
                    self.recovery = None;
                    self.commands.push(Command::Resume(Box::new(listing)));
                }
                Some(RecoveryChoice::Review) => {
                    self.recovery = None;
                    self.commands.push(Command::OpenRecording(listing.path));
                }
                Some(RecoveryChoice::Dismiss) => self.recovery = None,
                None => {}
            }
        }
        if self.show_setup {
            let mut open = true;
            let mut action = SetupAction::None;
            egui::Window::new("Session setup")
                .open(&mut open)
                .collapsible(false)
                .default_width(620.0)
                .show(ctx, |ui| action = setup_form_ui(ui, &mut self.setup));
            match action {
                SetupAction::Save => {
                    self.commands.push(Command::SaveSetup);
                    self.show_setup = false;
                }
                SetupAction::Cancel => self.show_setup = false,
                SetupAction::None => {}
            }
            if !open {
                self.show_setup = false;
            }
        }
        if self.show_note {
            let mut open = true;
            let mut action = NoteAction::None;
            egui::Window::new("Add a note")
                .open(&mut open)
                .collapsible(false)
                .default_width(640.0)
                .show(ctx, |ui| action = note_form_ui(ui, &mut self.note));
            match action {
                NoteAction::Add(note) => {
                    self.commands.push(Command::AddNote(note));
                    self.show_note = false;
                    self.note = NoteForm::default();
                }
                NoteAction::Cancel => self.show_note = false,
                NoteAction::None => {}
            }
            if !open {
                self.show_note = false;
            }
        }
    }

    fn run_commands(&mut self) {
        for command in std::mem::take(&mut self.commands) {
            self.run(command);
        }
    }

    /// Runs one command now (tests call this directly).
    pub fn run(&mut self, command: Command) {
        match command {
            Command::RefreshPorts => {
                let (tx, rx) = crossbeam_channel::bounded(1);
                let spawned =
                    std::thread::Builder::new()
                        .name("list-ports".into())
                        .spawn(move || {
                            let _ = tx.send(list_ports().map_err(|e| e.to_string()));
                        });
                if spawned.is_ok() {
                    self.ports_pending = Some(rx);
                }
            }
            Command::Connect { port, baud } => {
                self.settings.last_port.clone_from(&port);
                self.settings.baud = baud;
                self.start_live(port, baud, SessionMeta::default(), None);
            }
            Command::StartDemo { speed } => self.start_demo(speed),
            Command::PickRecording => self.pick_recording(),
            Command::OpenRecording(path) => self.open_recording(
                path,
                self.settings.demo_speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1),
            ),
            Command::SaveSetup => {
                let form = self.setup.clone();
                if let Active::Live(session) = &mut self.active {
                    session.edit_meta(move |meta| form.apply_to(meta));
                } else if let Active::Replay(replay) = &mut self.active {
                    let mut meta = replay.player.recording.meta.clone().unwrap_or_default();
                    form.apply_to(&mut meta);
                    replay.patient = Patient::from_meta(meta.patient.as_ref());
                    replay.target = Target::from_meta(meta.targets.as_ref()).0;
                }
                if let Ok(tbv) = self.setup.target_value()
                    && !self.setup.target_in_litres
                {
                    self.settings.default_target_tbv = tbv;
                }
            }
            Command::AddNote(note) => {
                if let Active::Live(session) = &self.active {
                    session.add_note(note);
                }
            }
            Command::StopRecording => {
                if let Active::Live(session) = &mut self.active {
                    session.stop();
                }
            }
            Command::CloseSession => {
                if let Active::Live(session) = &mut self.active {
                    session.stop();
                }
                self.active = Active::None;
                self.show_setup = false;
                self.show_note = false;
            }
            Command::SetTheme(theme) => self.settings.theme = theme,
            Command::RefreshLibrary => {
                let folder = self.settings.session_folder();
                let (tx, rx) = crossbeam_channel::bounded(1);
                let wake = self.wake();
                let spawned = std::thread::Builder::new()
                    .name("scan-library".into())
                    .spawn(move || {
                        let _ = tx.send(crate::session::library::scan(&folder).unwrap_or_default());
                        wake();
                    });
                if spawned.is_ok() {
                    self.library_pending = Some(rx);
                }
            }
            Command::Reveal(path) => {
                let folder = path
                    .parent()
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_default();
                if let Err(e) = std::process::Command::new("xdg-open").arg(&folder).spawn() {
                    self.message =
                        Some(format!("cannot open the folder {}: {e}", folder.display()));
                }
            }
            Command::ExportSummary(path) => self.export_summary(&path),
            Command::Resume(listing) => self.resume(&listing),
            Command::PickSessionFolder => {
                let (tx, rx) = crossbeam_channel::bounded(1);
                let start = self.settings.session_folder();
                let spawned = std::thread::Builder::new()
                    .name("folder-dialog".into())
                    .spawn(move || {
                        let picked = rfd::FileDialog::new()
                            .set_title("Folder for session recordings")
                            .set_directory(start)
                            .pick_folder();
                        let _ = tx.send(picked);
                    });
                if spawned.is_ok() {
                    self.folder_dialog = Some(rx);
                }
            }
            Command::AcknowledgeAlarms => {
                let now = self.clock.now();
                if let Active::Live(session) = &mut self.active {
                    session.acknowledge_alarms(now);
                }
            }
            Command::SetSessionFolder(folder) => {
                self.settings.session_folder = folder;
                self.library = None;
                self.commands.push(Command::RefreshLibrary);
            }
        }
        // Commands queued by commands run on the next frame.
    }

    /// The port an interrupted session was recorded from (or the last one used).
    fn resume_port(&self, listing: &SessionListing) -> String {
        if listing.demo.is_some() {
            return "the simulated machine (demo)".into();
        }
        listing
            .port
            .clone()
            .unwrap_or_else(|| self.settings.last_port.clone())
    }

    fn resume(&mut self, listing: &SessionListing) {
        let mut demo = None;
        let mut port = listing
            .port
            .clone()
            .unwrap_or_else(|| self.settings.last_port.clone());
        #[cfg(unix)]
        if let Some((seed, speed)) = listing.demo {
            // The simulated machine kept running while the monitor was down: start it where
            // it would be now.
            let down_s = listing.last_row_utc.map_or(0.0, |t| {
                self.clock.now().duration_since(t).as_secs_f64().max(0.0)
            });
            let at_ms = listing.last_t_ms.unwrap_or(0) + (down_s * speed * 1000.0) as u64;
            let config = crate::simulator::SimConfig {
                seed,
                ..crate::simulator::SimConfig::default()
            };
            match crate::simulator::DemoMachine::spawn(config, speed, 0.0, at_ms) {
                Ok(machine) => {
                    port = String::from(machine.path());
                    self.demo_speed = speed;
                    demo = Some(machine);
                }
                Err(e) => {
                    self.message = Some(format!("cannot start the simulated machine: {e}"));
                    return;
                }
            }
        }
        if port.is_empty() {
            self.message =
                Some("no port is known for this recording: connect from the start screen".into());
            return;
        }
        let plan = LivePlan {
            port,
            baud: self.settings.baud,
            folder: self.settings.session_folder(),
            meta: SessionMeta::default(),
            #[cfg(unix)]
            demo,
            resume: Some(listing.path.clone()),
        };
        self.message = None;
        self.active = Active::Starting(start_live_in_background(plan, self.wake()));
    }

    fn start_live(
        &mut self,
        port: String,
        baud: u32,
        meta: SessionMeta,
        #[cfg_attr(not(unix), allow(unused_variables))] demo: Option<crate::simulator::DemoMachine>,
    ) {
        if let Active::Live(session) = &mut self.active {
            session.stop();
        }
        let plan = LivePlan {
            port,
            baud,
            folder: self.settings.session_folder(),
            meta,
            #[cfg(unix)]
            demo,
            resume: None,
        };
        self.message = None;
        self.active = Active::Starting(start_live_in_background(plan, self.wake()));
    }

    #[cfg(unix)]
    fn start_demo(&mut self, speed: f64) {
        let speed = speed.clamp(1.0, 600.0);
        self.demo_speed = speed;
        self.settings.demo_speed = speed;
        let config = crate::simulator::SimConfig::default();
        match crate::simulator::DemoMachine::spawn(config.clone(), speed, 0.0, 0) {
            Ok(demo) => {
                let mut meta = SessionMeta {
                    patient: Some(PatientMeta {
                        id: Some("DEMO-001".into()),
                        weight_kg: Some(config.weight_kg.into()),
                        height_cm: Some(config.height_cm.into()),
                        sex: Some(config.sex.as_str().into()),
                        ..PatientMeta::default()
                    }),
                    targets: Some(crate::recording::meta::TargetsMeta {
                        tbv_processed: Some(config.target_tbv.into()),
                        ..Default::default()
                    }),
                    ..SessionMeta::default()
                };
                // Marks the recording as a demo, so a resume after a crash restarts the machine.
                meta.extra.insert(
                    "demo".into(),
                    serde_json::json!({ "seed": config.seed, "speed": speed }),
                );
                let port = demo.path().to_owned();
                self.start_live(port, crate::acquisition::DEFAULT_BAUD, meta, Some(demo));
            }
            Err(e) => self.message = Some(format!("cannot start the simulated machine: {e}")),
        }
    }

    #[cfg(not(unix))]
    fn start_demo(&mut self, _speed: f64) {
        self.message = Some("the demo needs pseudo-terminals, which this system lacks".into());
    }

    fn pick_recording(&mut self) {
        if self.file_dialog.is_some() {
            return;
        }
        let folder = self.settings.session_folder();
        let (tx, rx) = crossbeam_channel::bounded(1);
        // The native dialog blocks its thread; keep it off the UI thread.
        let spawned = std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                let picked = rfd::FileDialog::new()
                    .set_title("Open a session recording")
                    .add_filter("Session recording", &["csv"])
                    .set_directory(folder)
                    .pick_file();
                let _ = tx.send(picked);
            });
        match spawned {
            Ok(_) => self.file_dialog = Some(rx),
            Err(e) => self.message = Some(format!("cannot open the file dialog: {e}")),
        }
    }

    /// Opens an already loaded recording for replay (tests and benchmarks).
    pub fn open_loaded(&mut self, recording: Recording, speed: f64) {
        let patient = Patient::from_meta(recording.meta.as_ref().and_then(|m| m.patient.as_ref()));
        let (target, _) =
            Target::from_meta(recording.meta.as_ref().and_then(|m| m.targets.as_ref()));
        let mut player = Player::new(recording);
        player.set_speed(speed);
        self.plot_view = PlotView::default();
        self.active = Active::Replay(Box::new(ReplaySession {
            player,
            patient,
            target,
            notice: None,
        }));
    }

    /// The plot view (follow, window), for tests and benchmarks.
    pub fn plot_view_mut(&mut self) -> &mut PlotView {
        &mut self.plot_view
    }

    /// Loads a recording off the UI thread, then opens it for replay.
    pub fn open_recording(&mut self, path: PathBuf, speed: f64) {
        if let Active::Live(session) = &mut self.active {
            session.stop();
        }
        let progress = Arc::new(Mutex::new(0.0f32));
        let shared = progress.clone();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let wake = self.wake();
        let load_path = path.clone();
        let spawned = std::thread::Builder::new()
            .name("load-recording".into())
            .spawn(move || {
                let result = crate::recording::load(&load_path, |done, total| {
                    if let Ok(mut p) = shared.lock() {
                        *p = if total == 0 {
                            1.0
                        } else {
                            done as f32 / total as f32
                        };
                    }
                    wake();
                    true
                })
                .map_err(|e| e.to_string());
                let _ = tx.send(result);
                wake();
            });
        match spawned {
            Ok(_) => {
                self.message = None;
                self.active = Active::None;
                self.loading = Some(Loading {
                    path,
                    progress,
                    result: rx,
                    speed,
                });
            }
            Err(e) => self.message = Some(format!("cannot start loading: {e}")),
        }
    }

    fn export_summary(&mut self, path: &std::path::Path) {
        self.export = Some(ExportWindow::open(path.to_owned(), self.wake()));
    }

    /// Stops any live session (on exit).
    pub fn shutdown(&mut self) {
        if let Active::Live(session) = &mut self.active {
            session.stop();
        }
    }
}

/// What the monitor is, and what it is not.
fn about_ui(ui: &mut egui::Ui, folder: &std::path::Path) {
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

/// A waker for background work: at most one frame per 10 ms however fast it calls.
fn wake_for(ctx: Option<&egui::Context>) -> Box<dyn Fn() + Send> {
    match ctx {
        Some(ctx) => {
            let ctx = ctx.clone();
            Box::new(move || ctx.request_repaint_after(Duration::from_millis(10)))
        }
        None => Box::new(|| {}),
    }
}

/// With `APH_FRAME_STATS=1`, logs the UI's CPU time per frame every 10 s (mean, max, frames).
struct FrameStats {
    enabled: bool,
    since: Instant,
    frames: u32,
    total: Duration,
    max: Duration,
}

impl FrameStats {
    fn new() -> FrameStats {
        FrameStats {
            enabled: std::env::var_os("APH_FRAME_STATS").is_some(),
            since: Instant::now(),
            frames: 0,
            total: Duration::ZERO,
            max: Duration::ZERO,
        }
    }

    fn record(&mut self, frame: Duration) {
        if !self.enabled {
            return;
        }
        self.frames += 1;
        self.total += frame;
        self.max = self.max.max(frame);
        if self.since.elapsed() >= Duration::from_secs(10) {
            let mean = self.total / self.frames.max(1);
            tracing::info!(
                target: "frame",
                frames = self.frames,
                mean_ms = mean.as_secs_f64() * 1000.0,
                max_ms = self.max.as_secs_f64() * 1000.0,
                "ui frame time"
            );
            *self = FrameStats::new();
        }
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// What the replay controls asked for besides moving the playhead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct ReplayAsk {
    close: bool,
    export: bool,
}

/// Play/pause, speed, step, jump, and a seek bar.
fn replay_controls_ui(ui: &mut egui::Ui, player: &mut Player) -> ReplayAsk {
    let mut close = false;
    let mut export = false;
    let (start, end) = player.range();
    ui.input(|i| {
        if i.key_pressed(egui::Key::Space) {
            player.toggle();
        }
        if i.key_pressed(egui::Key::ArrowRight) {
            player.step(if i.modifiers.shift { 600.0 } else { 60.0 });
        }
        if i.key_pressed(egui::Key::ArrowLeft) {
            player.step(if i.modifiers.shift { -600.0 } else { -60.0 });
        }
        if i.key_pressed(egui::Key::Home) {
            player.seek(start);
        }
        if i.key_pressed(egui::Key::End) {
            player.seek(end);
        }
    });
    ui.horizontal(|ui| {
        if ui.button("|< Start").on_hover_text("Home").clicked() {
            player.seek(start);
        }
        if ui
            .button("< 1 min")
            .on_hover_text("Left arrow (Shift: 10 min)")
            .clicked()
        {
            player.step(-60.0);
        }
        let play_label = if player.is_playing() { "Pause" } else { "Play" };
        if ui
            .button(RichText::new(play_label).size(18.0))
            .on_hover_text("Space")
            .clicked()
        {
            player.toggle();
        }
        if ui
            .button("1 min >")
            .on_hover_text("Right arrow (Shift: 10 min)")
            .clicked()
        {
            player.step(60.0);
        }
        if ui.button("End >|").on_hover_text("End").clicked() {
            player.seek(end);
        }
        let label = ui.label("Speed");
        let mut speed = player.speed();
        egui::ComboBox::from_id_salt("replay-speed")
            .selected_text(format!("{speed}×"))
            .show_ui(ui, |ui| {
                for s in [1.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0] {
                    ui.selectable_value(&mut speed, s, format!("{s}×"));
                }
            })
            .response
            .labelled_by(label.id);
        if speed != player.speed() {
            player.set_speed(speed);
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if ui.button("Close").clicked() {
                close = true;
            }
            if ui.button("Export summary…").clicked() {
                export = true;
            }
            let mut position = player.position();
            let width = ui.available_width() - 12.0;
            ui.spacing_mut().slider_width = width.max(100.0);
            let slider = egui::Slider::new(&mut position, start..=end.max(start + 1.0))
                .show_value(false)
                .text("");
            let response = ui.add(slider).on_hover_text("Seek: click or drag");
            if response.changed() {
                player.seek(position);
            }
        });
    });
    ReplayAsk { close, export }
}
