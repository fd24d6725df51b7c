//! The app's shell: which screen is up, the windows over it, the background jobs, and the
//! commands. Widgets record intent as [`Command`]s; the commands run after drawing.
//!
//! Architecture Invariant: nothing here waits on a file, a port, a dialog or a thread. Such
//! work runs as a [`Job`] and is polled once a frame.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::RichText;

use crate::acquisition::{PortListing, list_ports};
use crate::alarms::sound::AlarmSound;
use crate::job::{Job, Poll, Wake};
use crate::session::library::{SessionListing, recoverable};
use crate::session::replay::{Replay, SPEED_RANGE};
use crate::session::{LiveSession, SessionStart, StartError, start_live_in_background};

pub use super::clock::Clock;
pub use super::command::Command;
use super::export::ExportWindow;
use super::file_dialog::{self, Chosen, PathPrompt, Purpose};
use super::forms::Form;
use super::frame_stats::FrameStats;
use super::live_view::live_view;
use super::plots::PlotView;
use super::replay_view::replay_view;
use super::settings::Settings;
use super::setup::SetupWindow;
use super::start_screen::{Busy, StartScreen, file_name};
use super::theme::{self, Theme};
use super::windows::Windows;

#[cfg(feature = "ward")]
pub mod publish;
mod replay;

/// How the app opens.
#[derive(Debug, Clone, PartialEq)]
pub enum Launch {
    /// The start screen.
    Start,
    /// Straight into a live session on a port.
    Port { port: String, baud: u32 },
    /// Straight into the demo: the simulated machine on a pseudo-terminal (Windows: in memory).
    Demo { speed: f64 },
    /// Straight into a recorded session.
    Replay { path: PathBuf, speed: f64 },
}

/// A recording being loaded off the UI thread, to open for replay.
struct Loading {
    path: PathBuf,
    job: Job<Result<Replay, String>>,
}

/// What to do once a live session has stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterStop {
    StartScreen,
    Quit,
}

enum Active {
    None,
    Starting(Job<Result<LiveSession, StartError>>),
    Live(Box<LiveSession>),
    /// A live session closing its recording, off the UI thread.
    Stopping(Box<LiveSession>, AfterStop),
    Replay(Box<Replay>),
}

/// Background jobs of the start screen.
#[derive(Default)]
struct Jobs {
    ports: Option<Job<Result<Vec<PortListing>, String>>>,
    library: Option<Job<Vec<SessionListing>>>,
    file_dialog: Option<Job<Chosen>>,
    folder_dialog: Option<Job<Chosen>>,
    /// A file or folder being opened with the system's default handler.
    reveal: Option<Job<Result<(), String>>>,
}

/// The application state.
pub struct MonitorApp {
    pub settings: Settings,
    active: Active,
    loading: Option<Loading>,
    start: StartScreen,
    jobs: Jobs,
    windows: Windows,
    plot_view: PlotView,
    commands: Vec<Command>,
    message: Option<String>,
    clock: Clock,
    title: String,
    last_frame: Option<Instant>,
    ctx: Option<egui::Context>,
    pending_launch: Option<Launch>,
    applied_theme: Option<Theme>,
    recovery_checked: bool,
    sound: AlarmSound,
    frame_stats: FrameStats,
    #[cfg(feature = "ward")]
    publishing: publish::Publishing,
}

/// Interrupted recordings older than this are not offered for resuming at start.
const RECOVERY_MAX_AGE_S: f64 = 12.0 * 3600.0;

impl MonitorApp {
    /// A new app with `settings`, opening as `launch` says.
    pub fn new(settings: Settings, launch: Launch, clock: Clock) -> MonitorApp {
        MonitorApp {
            start: StartScreen::new(&settings),
            settings,
            active: Active::None,
            loading: None,
            jobs: Jobs::default(),
            windows: Windows::default(),
            plot_view: PlotView::default(),
            commands: vec![Command::RefreshPorts, Command::RefreshLibrary],
            message: None,
            clock,
            title: String::new(),
            last_frame: None,
            ctx: None,
            pending_launch: Some(launch),
            applied_theme: None,
            recovery_checked: false,
            sound: AlarmSound::default(),
            frame_stats: FrameStats::new(),
            #[cfg(feature = "ward")]
            publishing: publish::Publishing::default(),
        }
    }

    /// The app sounding its alarms through `sound` (the window passes [`AlarmSound::start`];
    /// without it, alarms are shown and counted but make no sound, as in tests).
    #[must_use]
    pub fn with_sound(mut self, sound: AlarmSound) -> MonitorApp {
        self.sound = sound;
        self
    }

    /// The live session, if one is running (or closing its recording).
    pub fn live(&self) -> Option<&LiveSession> {
        match &self.active {
            Active::Live(s) | Active::Stopping(s, _) => Some(s),
            _ => None,
        }
    }

    /// The live session, mutable (tests feed it).
    pub fn live_mut(&mut self) -> Option<&mut LiveSession> {
        match &mut self.active {
            Active::Live(s) | Active::Stopping(s, _) => Some(s),
            _ => None,
        }
    }

    /// The replayed session, if one is open.
    pub fn replay(&self) -> Option<&Replay> {
        match &self.active {
            Active::Replay(s) => Some(s),
            _ => None,
        }
    }

    pub fn replay_mut(&mut self) -> Option<&mut Replay> {
        match &mut self.active {
            Active::Replay(s) => Some(s),
            _ => None,
        }
    }

    /// Whether a session is being started, stopped or loaded.
    pub fn is_busy(&self) -> bool {
        matches!(self.active, Active::Starting(_) | Active::Stopping(..)) || self.loading.is_some()
    }

    /// The error or notice shown at the top, if any.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The interrupted recording offered for resuming, if any.
    pub fn recovery_offer(&self) -> Option<&SessionListing> {
        self.windows.recovery.listing.as_ref()
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
        if ctx.input(|i| i.viewport().close_requested()) {
            self.close_requested(ctx);
        }
        let frame_dt = self.last_frame.map(|t| t.elapsed()).unwrap_or_default();
        self.last_frame = Some(Instant::now());
        self.poll_jobs();
        if let Some(export) = &mut self.windows.export {
            export.poll();
        }
        match &mut self.active {
            Active::Live(session) => {
                let (_, more) = session.drain(Duration::from_millis(8));
                if more {
                    ctx.request_repaint();
                }
                session.set_alarm_sound_problem(self.sound.problem());
                let sounding = session.update_alarms(self.clock.now(), self.settings.alarms);
                self.sound.update(sounding);
            }
            Active::Stopping(session, then) => {
                let then = *then;
                session.drain(Duration::from_millis(8));
                self.sound.update(None);
                if session.is_stopped() {
                    self.active = Active::None;
                    self.commands.push(Command::RefreshLibrary);
                    if then == AfterStop::Quit {
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                }
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
        #[cfg(feature = "ward")]
        self.update_publishing(ctx);
        // The clock and the data's age move even when no data arrives.
        ctx.request_repaint_after(Duration::from_secs(1));
        self.update_title(ctx);
    }

    /// The window is being closed: a recording is never stopped by accident. While one runs
    /// the nurse is asked; a recording being closed is waited for (off the UI thread).
    fn close_requested(&mut self, ctx: &egui::Context) {
        match &self.active {
            Active::Live(session) if session.is_recording() || session.is_stopping() => {
                ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
                self.windows.quit.open = true;
            }
            Active::Stopping(..) | Active::Starting(_) => {
                ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            }
            _ => {}
        }
    }

    fn launch(&mut self, launch: Launch) {
        match launch {
            Launch::Start => {}
            Launch::Port { port, baud } => self.commands.push(Command::Connect { port, baud }),
            Launch::Demo { speed } => self.commands.push(Command::StartDemo { speed }),
            Launch::Replay { path, speed } => self.open_recording(path, speed),
        }
    }

    fn wake(&self) -> Wake {
        match &self.ctx {
            Some(ctx) => {
                let ctx = ctx.clone();
                // At most one frame per 10 ms however often the work calls.
                Arc::new(move || ctx.request_repaint_after(Duration::from_millis(10)))
            }
            None => crate::job::no_wake(),
        }
    }

    fn poll_jobs(&mut self) {
        if let Active::Starting(job) = &mut self.active {
            match job.poll() {
                Poll::Pending => {}
                Poll::Ready(Ok(session)) => self.started(session),
                Poll::Ready(Err(e)) => {
                    self.message = Some(e.to_string());
                    self.active = Active::None;
                }
                Poll::Lost(why) => {
                    self.message = Some(why);
                    self.active = Active::None;
                }
            }
        }
        if let Some(loading) = &mut self.loading {
            match loading.job.poll() {
                Poll::Pending => {}
                Poll::Ready(Ok(replay)) => {
                    let path = loading.path.clone();
                    self.loading = None;
                    self.settings.remember_session(path);
                    self.open_replay(replay);
                }
                Poll::Ready(Err(why)) | Poll::Lost(why) => {
                    self.loading = None;
                    self.message = Some(why);
                }
            }
        }
        match Job::take_ready(&mut self.jobs.ports) {
            Some(Ok(ports)) => self.start.set_ports(ports),
            Some(Err(e)) => self.message = Some(format!("cannot list serial ports: {e}")),
            None => {}
        }
        if let Some(listings) = Job::take_ready(&mut self.jobs.library) {
            if !self.recovery_checked {
                self.recovery_checked = true;
                if matches!(self.active, Active::None) {
                    self.windows.recovery.listing =
                        recoverable(&listings, self.clock.now(), RECOVERY_MAX_AGE_S).cloned();
                }
            }
            self.start.library = Some(listings);
        }
        match Job::take_ready(&mut self.jobs.folder_dialog) {
            Some(Chosen::Path(path)) => self.commands.push(Command::SetSessionFolder(Some(path))),
            Some(Chosen::Unavailable(why)) => {
                let folder = self.settings.session_folder();
                self.start.path_prompt = Some(PathPrompt::new(Purpose::Folder, why, Some(&folder)));
            }
            Some(Chosen::Cancelled) | None => {}
        }
        match Job::take_ready(&mut self.jobs.file_dialog) {
            Some(Chosen::Path(path)) => self.commands.push(Command::OpenRecording(path)),
            Some(Chosen::Unavailable(why)) => {
                let folder = self.settings.session_folder();
                self.start.path_prompt = Some(PathPrompt::new(Purpose::Open, why, Some(&folder)));
            }
            Some(Chosen::Cancelled) | None => {}
        }
        if let Some(Err(why)) = Job::take_ready(&mut self.jobs.reveal) {
            self.message = Some(why);
        }
    }

    fn started(&mut self, mut session: LiveSession) {
        session.set_monotonic_clock(self.clock.monotonic());
        self.settings.remember_session(session.recording.clone());
        session.keep_alarm_limits(self.settings.alarms);
        let mut setup = SetupWindow::new(self.settings.default_target_tbv);
        setup.form =
            super::setup::SetupForm::from_meta(session.meta(), self.settings.default_target_tbv);
        // Without a weight the setup opens by itself, in the side panel: the banner, the
        // primary values and the Acknowledge button stay in view beside it.
        if session.patient().weight_kg.is_none() {
            self.windows.open_form(Form::Setup);
        }
        self.windows.setup = Some(setup);
        self.plot_view = PlotView::default();
        self.active = Active::Live(Box::new(session));
    }

    /// The window title names the app and the recording's file, never the patient.
    fn update_title(&mut self, ctx: &egui::Context) {
        let title = match &self.active {
            Active::Live(s) | Active::Stopping(s, _) => {
                format!("Apheresis Monitor — {}", file_name(&s.recording))
            }
            Active::Replay(r) => format!(
                "Apheresis Monitor — {} (recorded)",
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
            // On the start screen it heads the page. During a session it goes at the bottom,
            // so the banner, the values and the alarm block never move when it comes or goes.
            let panel = if matches!(self.active, Active::None) {
                egui::Panel::top("message")
            } else {
                egui::Panel::bottom("message")
            };
            panel.show(ui, |ui| {
                ui.horizontal(|ui| {
                    // An error or a notice, not an alarm: never an alarm colour.
                    let color = super::forms::accent(ui, theme::Accent::Error);
                    ui.label(RichText::new(&message).color(color).size(16.0));
                    if ui.button("Dismiss").clicked() {
                        self.message = None;
                    }
                });
            });
        }
        let now = self.clock.now();
        let past_ce = match &self.active {
            Active::Replay(r) => self.past_ce(Some(&r.player.recording.path)),
            _ => self.past_ce(None),
        };
        let (windows, settings) = (&mut self.windows, &mut self.settings);
        // Live, the forms' panel goes below the banner and the primary values, which keep the
        // whole width; elsewhere it comes first and the screen lays out in the width it leaves.
        if !matches!(self.active, Active::Live(_)) {
            windows.form_panel(ui, settings, None, &mut self.commands, now);
        }
        match &mut self.active {
            Active::Live(session) => {
                let session: &LiveSession = session;
                let mut form = |ui: &mut egui::Ui, commands: &mut Vec<Command>| {
                    windows.form_panel(ui, settings, Some(session), commands, now);
                };
                live_view(
                    ui,
                    session,
                    now,
                    &mut self.plot_view,
                    &mut self.commands,
                    &mut form,
                    past_ce,
                );
            }
            Active::Replay(replay) => {
                let (view, commands) = (&mut self.plot_view, &mut self.commands);
                replay_view(ui, replay, now, view, commands, past_ce);
            }
            Active::None | Active::Starting(_) | Active::Stopping(..) => {
                let loading = self
                    .loading
                    .as_ref()
                    .map(|l| (file_name(&l.path), l.job.progress()));
                let busy = Busy {
                    starting: matches!(self.active, Active::Starting(_)),
                    stopping: matches!(self.active, Active::Stopping(..)),
                    loading: loading.as_ref().map(|(name, f)| (name.as_str(), *f)),
                };
                self.start
                    .show(ui, &self.settings, &busy, &mut self.commands);
            }
        }
        self.windows_ui(ui.ctx());
        self.run_commands();
    }

    fn windows_ui(&mut self, ctx: &egui::Context) {
        let live = match &self.active {
            Active::Live(session) => Some(session.as_ref()),
            _ => None,
        };
        self.windows
            .show(ctx, &self.settings, live, &mut self.commands);
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
                self.jobs.ports = Some(Job::spawn("list-ports", self.wake(), || {
                    list_ports().map_err(|e| e.to_string())
                }));
            }
            Command::Connect { port, baud } => {
                self.settings.last_port.clone_from(&port);
                self.settings.baud = baud;
                self.start_live(SessionStart::new_on_port(
                    port,
                    baud,
                    self.settings.session_folder(),
                ));
            }
            Command::StartDemo { speed } => self.start_demo(speed),
            Command::PickRecording => self.pick_recording(),
            Command::OpenRecording(path) => self.open_recording(
                path,
                self.settings.demo_speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1),
            ),
            Command::SaveSetup => self.save_setup(),
            Command::AddNote(note) => {
                if let Active::Live(session) = &self.active {
                    session.add_note(note);
                }
            }
            Command::StopRecording => {
                let wake = self.wake();
                if let Active::Live(session) = &mut self.active {
                    session.stop(wake);
                }
            }
            Command::AskStopRecording => self.windows.confirm_stop.open = true,
            Command::CloseSession => {
                self.stop_live(AfterStop::StartScreen);
                if matches!(self.active, Active::Replay(_)) {
                    self.active = Active::None;
                }
                self.windows.setup = None;
                if matches!(self.windows.form, Some(Form::Setup | Form::Note)) {
                    self.windows.form = None;
                }
            }
            Command::SetTheme(theme) => self.settings.theme = theme,
            Command::SetPublish(publish) => self.settings.publish = *publish,
            Command::RefreshLibrary => {
                let folder = self.settings.session_folder();
                self.jobs.library = Some(Job::spawn("scan-library", self.wake(), move || {
                    crate::session::library::scan(&folder).unwrap_or_default()
                }));
            }
            Command::Reveal(path) => {
                let folder = path
                    .parent()
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_default();
                // The opener can take its time: never on the UI thread.
                self.jobs.reveal = Some(Job::spawn("reveal", self.wake(), move || {
                    file_dialog::open_with_system(&folder)
                }));
            }
            Command::ExportSummary(path) => {
                self.windows.export = Some(match &self.active {
                    // The replay has the session laid out and summarised already.
                    Active::Replay(replay) if replay.player.recording.path == path => {
                        ExportWindow::from_parts(
                            path,
                            replay.summary().clone(),
                            replay.player.shared_timeline(),
                            self.wake(),
                        )
                    }
                    _ => ExportWindow::open(path, self.wake()),
                });
                self.windows.open_form(Form::Export);
            }
            Command::Resume(listing) => self.resume(&listing),
            Command::PickSessionFolder => {
                if self.jobs.folder_dialog.is_none() {
                    let start = self.settings.session_folder();
                    self.jobs.folder_dialog = Some(file_dialog::pick_folder(start, self.wake()));
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
                self.start.library = None;
                self.commands.push(Command::RefreshLibrary);
            }
            Command::ShowAbout => self.windows.about.open = true,
            Command::ShowSetup => {
                if self.windows.setup.is_none() {
                    self.windows.setup = Some(SetupWindow::new(self.settings.default_target_tbv));
                }
                self.windows.open_form(Form::Setup);
            }
            Command::ShowNote => self.windows.open_form(Form::Note),
            Command::ShowAlarmLimits => self.windows.open_form(Form::AlarmLimits),
            Command::ShowAlarmReview => self.windows.open_form(Form::AlarmReview),
            Command::SetAlarmLimits(limits) => {
                if let Active::Live(session) = &mut self.active {
                    session.set_alarm_limits(*limits);
                }
            }
            Command::StopAndQuit => self.stop_live(AfterStop::Quit),
        }
        // Commands queued by commands run on the next frame.
    }

    fn save_setup(&mut self) {
        let Some(setup) = &self.windows.setup else {
            return;
        };
        let form = setup.form.clone();
        if let Ok(tbv) = form.target_value()
            && !form.target_in_litres
        {
            self.settings.default_target_tbv = tbv;
        }
        match &mut self.active {
            Active::Live(session) => session.edit_meta(move |meta| form.apply_to(meta)),
            Active::Replay(replay) => replay.edit_meta(|meta| form.apply_to(meta)),
            _ => {}
        }
    }

    /// Stops the live session, if one is up, off the UI thread; `then` says what follows.
    fn stop_live(&mut self, then: AfterStop) {
        let active = std::mem::replace(&mut self.active, Active::None);
        self.active = match active {
            Active::Live(mut session) | Active::Stopping(mut session, _) => {
                session.stop(self.wake());
                self.windows.quit.open = false;
                Active::Stopping(session, then)
            }
            other => other,
        };
        if then == AfterStop::Quit
            && !matches!(self.active, Active::Stopping(..))
            && let Some(ctx) = &self.ctx
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn resume(&mut self, listing: &SessionListing) {
        match SessionStart::resume(
            listing,
            &self.settings.last_port,
            self.settings.baud,
            self.clock.now(),
        ) {
            Ok(plan) => self.start_live(plan),
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    fn start_live(&mut self, plan: SessionStart) {
        if !matches!(self.active, Active::None) {
            self.message = Some("close the current session first".into());
            return;
        }
        self.message = None;
        self.active = Active::Starting(start_live_in_background(plan, self.wake()));
    }

    fn start_demo(&mut self, speed: f64) {
        let speed = speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1);
        self.start.demo_speed = speed;
        self.settings.demo_speed = speed;
        self.start_live(SessionStart::demo(self.settings.session_folder(), speed));
    }

    /// Stops any live session and waits for its recording to close. For the end of the
    /// process only (eframe's `on_exit`, tests): the window's close button goes through the
    /// non-blocking stop first, so by then there is nothing left to wait for.
    pub fn shutdown(&mut self) {
        if let Active::Live(session) | Active::Stopping(session, _) = &mut self.active {
            session.stop_and_wait();
        }
    }
}
