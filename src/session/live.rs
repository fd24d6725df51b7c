//! A live session as the monitor holds it: the acquisition worker, the timeline it feeds, and
//! what the screen shows about the link and the recording. Headless: the UI is a view of it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};
use jiff::Timestamp;

use crate::acquisition::{
    AcqEvent, Acquisition, Journalist, LinkStatus, ResumeCheck, SerialOpener, WorkerConfig,
    WorkerReport,
};
use crate::alarms::{AlarmEngine, AlarmEvent, AlarmInputs, AlarmSettings, AlarmSource};
use crate::analysis::{Patient, Target, Timeline};
use crate::model::{MachineIdentity, Note, Priority};

/// The note code an acknowledgement is recorded under (not a nurse's note in the summary).
pub const ACK_NOTE_CODE: &str = "ALARM_ACK";
use crate::protocol::DecodeStats;
use crate::recording::format::format_time_utc;
use crate::recording::{Recorder, SessionMeta, create_private_dir_all};
#[cfg(unix)]
use crate::simulator::DemoMachine;

/// What to start.
pub struct LivePlan {
    pub port: String,
    pub baud: u32,
    /// Folder the recording is created in.
    pub folder: PathBuf,
    pub meta: SessionMeta,
    /// The simulated machine behind `port`, for the demo.
    #[cfg(unix)]
    pub demo: Option<DemoMachine>,
    /// Append to this interrupted recording instead of creating a new one.
    pub resume: Option<PathBuf>,
}

/// The link as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkView {
    /// The worker is opening the port; no data yet.
    Connecting,
    Status(LinkStatus),
    /// Recording has stopped.
    Closed,
}

/// A running (or finished) live session.
pub struct LiveSession {
    acquisition: Option<Acquisition>,
    #[cfg(unix)]
    demo: Option<DemoMachine>,
    pub port: String,
    pub baud: u32,
    pub recording: PathBuf,
    pub timeline: Timeline,
    pub meta: SessionMeta,
    pub link: LinkView,
    pub link_since: Timestamp,
    pub stats: DecodeStats,
    /// The last recording error and the rows waiting in memory, while writing fails.
    pub recorder_error: Option<(String, usize)>,
    pub identity: Option<MachineIdentity>,
    pub finished: Option<WorkerReport>,
    /// Something the nurse should know about the session itself.
    pub notice: Option<String>,
    /// The alarm engine: machine alarms and the monitor's own rules.
    pub alarms: AlarmEngine,
}

impl LiveSession {
    /// Creates the recording and starts the worker. Does file I/O: call it off the UI thread
    /// (see [`start_live_in_background`]).
    pub fn start(plan: LivePlan, wake: Box<dyn Fn() + Send>) -> Result<LiveSession, String> {
        create_private_dir_all(&plan.folder).map_err(|e| {
            format!(
                "cannot create the session folder {}: {e}",
                plan.folder.display()
            )
        })?;
        let now = Timestamp::now();
        let mut config = WorkerConfig::new(plan.port.clone(), plan.baud);
        let mut timeline = Timeline::new();
        let mut journalist = Journalist::new();
        let mut meta = plan.meta;
        let (path, recorder) = if let Some(path) = &plan.resume {
            // Show the session so far, then append to it.
            let recording = crate::recording::load(path, |_, _| true).map_err(|e| e.to_string())?;
            for entry in &recording.entries {
                timeline.push(entry);
            }
            let last = recording.entries.last();
            let last_t_ms = recording.entries.iter().rev().find_map(|e| e.elapsed_ms);
            let last_seq = recording.entries.iter().rev().find_map(|e| e.seq);
            journalist =
                Journalist::resuming(last_t_ms, last_seq, last.map_or(now, |e| e.time_utc));
            if let Some(saved) = recording.meta {
                meta = saved;
            }
            config.resume = Some(ResumeCheck {
                last_t_ms: last_t_ms.unwrap_or(0),
                identity: meta.machine.clone(),
            });
            let recorder = Recorder::resume(path).map_err(|e| e.to_string())?;
            (path.clone(), recorder)
        } else {
            let path = crate::recording::new_recording_path(&plan.folder, now);
            let recorder = Recorder::create(&path).map_err(|e| e.to_string())?;
            (path, recorder)
        };
        meta.started_utc.get_or_insert_with(|| format_time_utc(now));
        let opener = SerialOpener::for_config(&config);
        let acquisition = Acquisition::start(
            config,
            None,
            Box::new(opener),
            recorder,
            meta.clone(),
            journalist,
            wake,
        )
        .map_err(|e| format!("cannot start the acquisition thread: {e}"))?;
        Ok(LiveSession {
            acquisition: Some(acquisition),
            #[cfg(unix)]
            demo: plan.demo,
            port: plan.port,
            baud: plan.baud,
            recording: path,
            timeline,
            meta,
            link: LinkView::Connecting,
            link_since: now,
            stats: DecodeStats::default(),
            recorder_error: None,
            identity: None,
            finished: None,
            notice: None,
            alarms: AlarmEngine::default(),
        })
    }

    /// Whether this session runs on the built-in simulated machine.
    pub fn is_demo(&self) -> bool {
        #[cfg(unix)]
        {
            self.demo.is_some()
        }
        #[cfg(not(unix))]
        {
            false
        }
    }

    /// Whether the worker is still recording.
    pub fn is_recording(&self) -> bool {
        self.acquisition.is_some() && self.finished.is_none()
    }

    /// Takes in the worker's events for at most `budget`; returns whether anything changed and
    /// whether events are left for the next frame.
    pub fn drain(&mut self, budget: Duration) -> (bool, bool) {
        let Some(acquisition) = &self.acquisition else {
            return (false, false);
        };
        let events = acquisition.events().clone();
        self.drain_from(&events, budget)
    }

    fn drain_from(&mut self, events: &Receiver<AcqEvent>, budget: Duration) -> (bool, bool) {
        let start = Instant::now();
        let mut changed = false;
        loop {
            match events.try_recv() {
                Ok(event) => {
                    changed = true;
                    self.apply(event);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return (changed, false),
            }
            if start.elapsed() >= budget {
                return (changed, !events.is_empty());
            }
        }
    }

    /// Takes in one event from the worker (the UI drains them with [`LiveSession::drain`]; tests
    /// may hand one in directly).
    pub fn apply(&mut self, event: AcqEvent) {
        match event {
            AcqEvent::Entry(entry) => {
                self.timeline.push(&entry);
            }
            AcqEvent::Identity(identity) => {
                self.meta.machine = Some(identity.clone());
                self.identity = Some(identity);
            }
            AcqEvent::Link(status) => {
                self.link = LinkView::Status(status);
                self.link_since = Timestamp::now();
            }
            AcqEvent::Stats(stats) => self.stats = stats,
            AcqEvent::RecorderError {
                message,
                pending_rows,
            } => self.recorder_error = Some((message, pending_rows)),
            AcqEvent::RecorderRecovered => self.recorder_error = None,
            AcqEvent::NewRecording { path } => {
                self.notice = Some(format!(
                    "The machine started a new procedure: the resumed recording was closed and \
                     recording continues in {}. Enter this patient's details (Setup).",
                    path.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                ));
                self.recording = path;
                self.timeline = Timeline::new();
                self.meta = SessionMeta::default();
                self.identity = None;
            }
            AcqEvent::Finished(report) => {
                self.stats = report.stats;
                self.link = LinkView::Closed;
                self.link_since = Timestamp::now();
                if report.unwritten_rows > 0 {
                    self.recorder_error = Some((
                        report
                            .last_error
                            .clone()
                            .unwrap_or_else(|| "rows could not be written".into()),
                        report.unwritten_rows,
                    ));
                }
                self.finished = Some(report);
            }
        }
    }

    /// Runs the alarm rules at `now` with `settings`, records what the monitor raised or
    /// cleared, and returns the priority that should sound.
    pub fn update_alarms(&mut self, now: Timestamp, settings: AlarmSettings) -> Option<Priority> {
        self.alarms.settings = settings;
        let patient = Patient::from_meta(self.meta.patient.as_ref());
        let (target, _) = Target::from_meta(self.meta.targets.as_ref());
        let inputs = AlarmInputs {
            sample_age_s: self
                .timeline
                .last_sample_utc()
                .map(|t| now.duration_since(t).as_secs_f64()),
            connected: self.is_recording()
                && matches!(
                    self.link,
                    LinkView::Connecting | LinkView::Status(LinkStatus::Up | LinkStatus::Silent)
                ),
            link_lost: self.is_recording()
                && matches!(self.link, LinkView::Status(LinkStatus::Down { .. })),
            recording_failed: self.recorder_error.as_ref().map(|(m, _)| m.clone()),
            ..AlarmInputs::from_timeline(&self.timeline, &patient, target)
        };
        for event in self.alarms.evaluate(now, &inputs) {
            if let (Some(row), Some(acquisition)) = (event.monitor_alarm_row(), &self.acquisition) {
                acquisition.record_alarm(row);
            }
        }
        self.alarms.sounding(now)
    }

    /// Acknowledges the alarms shown (audio pause) and records it as an `ALARM_ACK` note.
    pub fn acknowledge_alarms(&mut self, now: Timestamp) {
        if let Some(AlarmEvent::Acknowledged { sources, .. }) = self.alarms.acknowledge(now) {
            let codes: Vec<String> = sources.iter().map(AlarmSource::code).collect();
            self.add_note(Note {
                code: ACK_NOTE_CODE.into(),
                text: format!(
                    "alarms acknowledged, audio paused {:.0} s: {}",
                    self.alarms.settings.audio_pause_s,
                    codes.join(", ")
                ),
            });
        }
    }

    /// Records a nurse's note.
    pub fn add_note(&self, note: Note) {
        if let Some(acquisition) = &self.acquisition {
            acquisition.add_note(note);
        }
    }

    /// Changes the metadata here and in the file beside the recording.
    pub fn edit_meta(&mut self, edit: impl Fn(&mut SessionMeta) + Send + Clone + 'static) {
        edit(&mut self.meta);
        if let Some(acquisition) = &self.acquisition {
            acquisition.edit_meta(Box::new(edit));
        }
    }

    /// Stops recording (and the demo machine); blocks until the recording is synced.
    pub fn stop(&mut self) {
        if let Some(acquisition) = self.acquisition.take()
            && let Some(report) = acquisition.stop()
        {
            self.apply(AcqEvent::Finished(report));
        }
        #[cfg(unix)]
        {
            self.demo = None;
        }
    }
}

/// Starts a live session on a background thread (creating files is I/O the UI thread must not
/// wait on); the result arrives on the returned channel.
pub fn start_live_in_background(
    plan: LivePlan,
    wake: Box<dyn Fn() + Send>,
) -> Receiver<Result<LiveSession, String>> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let spawned = std::thread::Builder::new()
        .name("session-start".into())
        .spawn(move || {
            let _ = tx.send(LiveSession::start(plan, wake));
        });
    if let Err(e) = spawned {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let _ = tx.send(Err(format!("cannot start a thread: {e}")));
        return rx;
    }
    rx
}
