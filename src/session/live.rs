//! A live session as the monitor holds it: the acquisition worker, the timeline it feeds, and
//! what the screen shows about the link and the recording. Headless: the UI is a view of it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};
use jiff::Timestamp;

use crate::acquisition::{AcqEvent, Acquisition, LinkState, WorkerReport};
use crate::alarms::{
    AlarmEngine, AlarmEvent, AlarmInputs, AlarmOff, AlarmRecord, AlarmSettings, AlarmSource,
    SampleAge, SessionLimits, limits_meta,
};
use crate::analysis::changes::change_note;
use crate::analysis::patient::stamp_tbv_method;
use crate::analysis::{Patient, Target, Timeline};
use crate::job::{Job, Poll, Wake};
use crate::model::{MachineIdentity, MachineState, Note, Priority};
use crate::protocol::DecodeStats;
use crate::recording::SessionMeta;
use crate::simulator::DemoMachine;

use super::monotonic::Monotonic;
use super::start::{SessionStart, StartError};

/// The note code an acknowledgement is recorded under. It is the nurse's act, so the summary
/// counts and lists it with the other notes.
pub const ACK_NOTE_CODE: &str = "ALARM_ACK";

/// Who the review says acknowledged, when the session's details name no operator.
pub const ACK_AT_THIS_MONITOR: &str = "at this monitor";

/// The data link as the screen shows it: the port, named once, and its state since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub port: String,
    /// The device the port is on now, when that is not its name (a by-id link followed).
    pub device: Option<String>,
    pub baud: u32,
    pub state: LinkState,
    pub since: Timestamp,
}

/// A running (or finished) live session.
pub struct LiveSession {
    acquisition: Option<Acquisition>,
    events: Receiver<AcqEvent>,
    stopping: Option<Job<Option<WorkerReport>>>,
    demo: Option<DemoMachine>,
    demo_speed: Option<f64>,
    pub link: Link,
    pub recording: PathBuf,
    pub timeline: Timeline,
    meta: SessionMeta,
    patient: Patient,
    target: Target,
    pub stats: DecodeStats,
    /// The last recording error and the rows waiting in memory, while writing fails.
    pub recorder_error: Option<(String, usize)>,
    /// Why the monitor cannot sound its alarms (from the sound thread), if it cannot.
    alarm_sound_problem: Option<String>,
    pub identity: Option<MachineIdentity>,
    pub finished: Option<WorkerReport>,
    /// Something the nurse should know about the session itself.
    pub notice: Option<String>,
    /// The alarm engine: machine alarms and the monitor's own rules.
    pub alarms: AlarmEngine,
    /// The rules that cannot raise their alarm (switched off, or missing an input), as of the
    /// last [`LiveSession::update_alarms`].
    pub alarms_off: Vec<AlarmOff>,
    /// The citrate rule's reading (the AC infused, averaged, per litre of TBV) as of the last
    /// [`LiveSession::update_alarms`]: what the citrate tile shows, so the tile and the alarm
    /// read the same number.
    pub citrate: Option<crate::alarms::citrate::CitrateReading>,
    /// Where data ages are measured (the system's monotonic clock unless a test hands one in).
    monotonic: Monotonic,
    /// When the latest sample was taken in, on `monotonic`; `None` before the first sample
    /// of this run of the monitor (a resumed recording's rows have only their wall-clock time).
    last_sample_received: Option<Instant>,
    /// When the link state last changed, on `monotonic`.
    link_changed: Instant,
    /// The app's alarm settings last given and the session's limits over them.
    limits: Option<(AlarmSettings, AlarmSettings)>,
}

impl LiveSession {
    /// Opens the port, creates the recording (or takes back an interrupted one, whose rows are
    /// read for the screen first) and starts the worker. File and port I/O: run it off the UI
    /// thread (see [`start_live_in_background`]).
    pub fn start(
        plan: SessionStart,
        wake: Box<dyn Fn() + Send>,
    ) -> Result<LiveSession, StartError> {
        let now = Timestamp::now();
        let prepared = plan.prepare(now)?;
        // A resumed recording's rows so far, read before the worker appends to the file.
        let (timeline, alarms) = prepared
            .read_back()?
            .unwrap_or_else(|| (Timeline::new(), AlarmEngine::default()));
        // The recording stays open after END, for the notes written after the machine stops,
        // until the nurse stops it or closes the session.
        let started = prepared.keep_recording_after_end().start(wake)?;
        let events = started.acquisition.events().clone();
        let meta = started.meta;
        Ok(LiveSession {
            acquisition: Some(started.acquisition),
            events,
            stopping: None,
            demo_speed: meta.demo.map(|d| d.speed),
            demo: started.demo,
            link: Link {
                port: started.port,
                device: None,
                baud: started.baud,
                state: LinkState::Up,
                since: now,
            },
            recording: started.recording,
            timeline,
            patient: Patient::from_meta(meta.patient.as_ref()),
            target: Target::from_meta(meta.targets.as_ref()).0,
            meta,
            stats: DecodeStats::default(),
            recorder_error: None,
            alarm_sound_problem: None,
            identity: None,
            finished: None,
            notice: None,
            alarms,
            alarms_off: Vec::new(),
            citrate: None,
            monotonic: Monotonic::default(),
            last_sample_received: None,
            link_changed: Instant::now(),
            limits: None,
        })
    }

    /// Measures data ages on `clock` from now on (a test's fake; the system's by default).
    pub fn set_monotonic_clock(&mut self, clock: Monotonic) {
        self.link_changed = clock.now();
        self.monotonic = clock;
    }

    /// How old the latest sample is at wall-clock time `now`: on the monotonic clock since the
    /// session took it in, or, for a sample read back from a resumed recording, on the wall
    /// clock (a receipt time after `now` is an unknown age). `None` before any sample.
    pub fn sample_age(&self, now: Timestamp) -> Option<SampleAge> {
        SampleAge::of_latest(
            self.last_sample_received
                .map(|received| (received, self.monotonic.now())),
            self.timeline
                .last_sample_utc()
                .map(|received| (received, now)),
        )
    }

    /// How long the link has been down, seconds (monotonic), while it is.
    pub fn link_down_for_s(&self) -> Option<f64> {
        matches!(self.link.state, LinkState::Down { .. }).then(|| {
            self.monotonic
                .now()
                .saturating_duration_since(self.link_changed)
                .as_secs_f64()
        })
    }

    /// The session's metadata (change it with [`LiveSession::edit_meta`]).
    pub fn meta(&self) -> &SessionMeta {
        &self.meta
    }

    /// The patient, as validated from the metadata when it last changed.
    pub fn patient(&self) -> &Patient {
        &self.patient
    }

    /// The target, from the metadata when it last changed.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The simulated machine's speed factor, when this session is a demo.
    pub fn demo_speed(&self) -> Option<f64> {
        self.demo_speed
    }

    /// Whether this session runs on the built-in simulated machine.
    pub fn is_demo(&self) -> bool {
        self.demo_speed.is_some()
    }

    /// Whether the worker is still recording (and no stop has been asked for).
    pub fn is_recording(&self) -> bool {
        self.acquisition.is_some() && self.stopping.is_none() && self.finished.is_none()
    }

    /// Whether a stop was asked for and the recording is still being closed.
    pub fn is_stopping(&self) -> bool {
        self.stopping.is_some()
    }

    /// Takes in the worker's events for at most `budget`, and finishes a stop that is done;
    /// returns whether anything changed and whether events are left for the next frame.
    pub fn drain(&mut self, budget: Duration) -> (bool, bool) {
        let start = Instant::now();
        let mut changed = self.poll_stop();
        loop {
            match self.events.try_recv() {
                Ok(event) => {
                    changed = true;
                    self.apply(event);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return (changed, false),
            }
            if start.elapsed() >= budget {
                return (changed, !self.events.is_empty());
            }
        }
    }

    /// Takes in one event from the worker (the UI drains them with [`LiveSession::drain`]; tests
    /// may hand one in directly).
    pub fn apply(&mut self, event: AcqEvent) {
        match event {
            AcqEvent::Entry(entry) => {
                self.timeline.push(&entry);
                if matches!(entry.body, crate::model::EntryBody::Sample(_)) {
                    self.last_sample_received = Some(self.monotonic.now());
                }
                self.alarms.observe(&entry);
            }
            AcqEvent::Identity(identity) => {
                self.meta.machine = Some(identity.clone());
                self.identity = Some(identity);
            }
            AcqEvent::Link(state) => self.set_link(state),
            AcqEvent::Device(device) => self.link.device = Some(device),
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
                self.last_sample_received = None;
                self.set_meta(SessionMeta::default());
                self.identity = None;
            }
            AcqEvent::Finished(report) => self.finish(report),
        }
    }

    fn set_link(&mut self, state: LinkState) {
        if self.link.state != state {
            self.link.state = state;
            self.link.since = Timestamp::now();
            self.link_changed = self.monotonic.now();
        }
    }

    fn set_meta(&mut self, meta: SessionMeta) {
        self.patient = Patient::from_meta(meta.patient.as_ref());
        self.target = Target::from_meta(meta.targets.as_ref()).0;
        self.meta = meta;
        self.limits = None;
    }

    fn finish(&mut self, report: WorkerReport) {
        if self.finished.is_some() {
            return;
        }
        self.stats = report.stats;
        self.set_link(LinkState::Closed);
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

    /// The settings this session's rules run with: its limits (in its metadata) over
    /// `defaults`, the app's settings.
    pub fn alarm_settings(&self, defaults: &AlarmSettings) -> AlarmSettings {
        match self.limits {
            Some((given, settings)) if given == *defaults => settings,
            _ => SessionLimits::from_meta(defaults, self.meta.limits.as_ref()).settings,
        }
    }

    /// Stores `settings` as this session's alarm limits, in its metadata.
    pub fn set_alarm_limits(&mut self, settings: AlarmSettings) {
        self.edit_meta(move |meta| {
            meta.limits = Some(limits_meta(&settings, meta.limits.as_ref()));
        });
    }

    /// Gives a session without limits of its own (a new one, or one recorded before limits
    /// were stored) `defaults`, the app's settings now, as its limits: later changes to the
    /// app's settings then do not move them.
    /// Setting them is not a change the nurse made during the run, so it leaves no
    /// `PATIENT_CHANGED` row; changes made later in the alarm limits window do.
    pub fn keep_alarm_limits(&mut self, defaults: AlarmSettings) {
        if self.meta.limits.is_none() {
            self.change_meta(
                move |meta: &mut SessionMeta| {
                    meta.limits = Some(limits_meta(&defaults, meta.limits.as_ref()));
                },
                false,
            );
        }
    }

    /// Tells the session whether its alarms can be heard: `Some(why)` raises the technical
    /// alarm "No alarm sound" at the next [`LiveSession::update_alarms`], `None` clears it.
    pub fn set_alarm_sound_problem(&mut self, problem: Option<String>) {
        self.alarm_sound_problem = problem;
    }

    /// Runs the alarm rules at `now` with the session's limits over `defaults` (the app's
    /// settings; data ages on the session's monotonic clock), records what the monitor raised
    /// or cleared, notes which rules are off, and returns the priority that should sound.
    pub fn update_alarms(&mut self, now: Timestamp, defaults: AlarmSettings) -> Option<Priority> {
        let settings = self.alarm_settings(&defaults);
        self.limits = Some((defaults, settings));
        self.alarms.settings = settings;
        // After END the recording stays open for notes, while the machine may fall silent or
        // be unplugged: that is no data or link alarm.
        let recording =
            self.is_recording() && self.timeline.now().state() != Some(MachineState::End);
        let inputs = AlarmInputs {
            sample_age_s: self.sample_age(now).map(SampleAge::as_secs),
            connected: recording && matches!(self.link.state, LinkState::Up | LinkState::Silent),
            link_lost: recording && matches!(self.link.state, LinkState::Down { .. }),
            recording_failed: self.recorder_error.as_ref().map(|(m, _)| m.clone()),
            alarm_sound_failed: self.alarm_sound_problem.clone(),
            ..AlarmInputs::from_timeline(&self.timeline, &self.patient, self.target, &settings)
        };
        self.alarms_off = self.alarms.alarms_off(&inputs);
        self.citrate = inputs.citrate;
        for event in self.alarms.evaluate(now, &inputs) {
            if let (Some(row), Some(acquisition)) = (event.monitor_alarm_row(), &self.acquisition) {
                acquisition.record_alarm(row);
            }
        }
        self.alarms.sounding(now)
    }

    /// Acknowledges the alarms shown (audio pause) and records it as an `ALARM_ACK` note. The
    /// review names who acknowledged: the operator in the session's details, if entered, or
    /// [`ACK_AT_THIS_MONITOR`].
    pub fn acknowledge_alarms(&mut self, now: Timestamp) {
        let by = self.acknowledged_by();
        if let Some(AlarmEvent::Acknowledged { sources, .. }) = self.alarms.acknowledge(now, &by) {
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

    /// Who an acknowledgement now is recorded as made by: the session's operator, if entered,
    /// else [`ACK_AT_THIS_MONITOR`].
    pub fn acknowledged_by(&self) -> String {
        self.meta
            .operator
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map_or_else(|| ACK_AT_THIS_MONITOR.to_owned(), str::to_owned)
    }

    /// Every alarm of the session so far, in the order raised: raised, cleared, acknowledged
    /// and by whom (the alarm review list).
    pub fn alarm_review(&self) -> &[AlarmRecord] {
        self.alarms.review()
    }

    /// Records a nurse's note.
    pub fn add_note(&self, note: Note) {
        if let Some(acquisition) = &self.acquisition {
            acquisition.add_note(note);
        }
    }

    /// Changes the metadata here and in the file beside the recording. A change to the
    /// session's clinical details is recorded first, as a `PATIENT_CHANGED` note saying what
    /// changed from what to what (see [`crate::analysis::changes`]); the TBV method stored is
    /// the one the new details give.
    pub fn edit_meta(&mut self, edit: impl Fn(&mut SessionMeta) + Send + Clone + 'static) {
        self.change_meta(edit, true);
    }

    /// Applies `edit` here and, through the worker, to the metadata file; with `trail`, a
    /// change to the clinical details is recorded first as a `PATIENT_CHANGED` note.
    fn change_meta(
        &mut self,
        edit: impl Fn(&mut SessionMeta) + Send + Clone + 'static,
        trail: bool,
    ) {
        let edit = move |meta: &mut SessionMeta| {
            edit(meta);
            stamp_tbv_method(meta);
        };
        let mut meta = self.meta.clone();
        edit(&mut meta);
        let note = trail.then(|| change_note(&self.meta, &meta)).flatten();
        self.set_meta(meta);
        if let Some(acquisition) = &self.acquisition {
            if let Some(note) = note {
                acquisition.add_note(note);
            }
            acquisition.edit_meta(Box::new(edit));
        }
    }

    /// Asks the worker to stop, without waiting: the worker closes and syncs the recording on
    /// its own thread (however slow the disk), and [`LiveSession::drain`] takes in the end.
    /// The simulated machine of a demo stops with it.
    pub fn stop(&mut self, wake: Wake) {
        if self.stopping.is_some() {
            return;
        }
        let acquisition = self.acquisition.take();
        let demo = self.demo.take();
        if acquisition.is_none() {
            return;
        }
        self.stopping = Some(Job::spawn("session-stop", wake, move || {
            let report = acquisition.and_then(Acquisition::stop);
            drop(demo);
            report
        }));
    }

    /// Whether the session has stopped for good: asked to stop and the recording closed. It
    /// does not stop at `END`: notes can be added until the nurse stops the recording.
    pub fn is_stopped(&self) -> bool {
        self.finished.is_some() && self.stopping.is_none()
    }

    /// Stops and waits until the recording is closed. Blocks: for the command line, tests and
    /// benchmarks, never the UI thread.
    pub fn stop_and_wait(&mut self) {
        self.stop(crate::job::no_wake());
        while self.stopping.is_some() {
            self.drain(Duration::from_millis(10));
            if self.stopping.is_some() {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }

    /// Finishes a stop whose job is done; returns whether it did.
    fn poll_stop(&mut self) -> bool {
        let Some(job) = &mut self.stopping else {
            return false;
        };
        match job.poll() {
            Poll::Pending => false,
            Poll::Ready(report) => {
                self.stopping = None;
                // Everything the worker sent before it ended is in the channel: take it in
                // before the report.
                while let Ok(event) = self.events.try_recv() {
                    self.apply(event);
                }
                if let Some(report) = report {
                    self.finish(report);
                } else if self.finished.is_none() {
                    self.recorder_error = Some((
                        "the recording worker failed; the file holds what was written".into(),
                        0,
                    ));
                    self.set_link(LinkState::Closed);
                }
                true
            }
            Poll::Lost(why) => {
                self.stopping = None;
                self.recorder_error = Some((why, 0));
                self.set_link(LinkState::Closed);
                true
            }
        }
    }
}

impl Drop for LiveSession {
    /// A session dropped without a stop is stopped on a thread of its own, so that dropping it
    /// never waits on the worker, the disk or the simulated machine.
    fn drop(&mut self) {
        let acquisition = self.acquisition.take();
        let demo = self.demo.take();
        if acquisition.is_none() && demo.is_none() {
            return;
        }
        let _ = std::thread::Builder::new()
            .name("session-drop".into())
            .spawn(move || {
                drop(acquisition);
                drop(demo);
            });
    }
}

/// Starts a live session on a background thread (opening the port and creating files is I/O
/// the UI thread must not wait on).
pub fn start_live_in_background(
    plan: SessionStart,
    wake: Wake,
) -> Job<Result<LiveSession, StartError>> {
    let worker_wake = wake.clone();
    Job::spawn("session-start", wake, move || {
        LiveSession::start(plan, Box::new(move || worker_wake()))
    })
}
