//! The serial worker: a named thread that owns the port, decodes, records, then tells the UI.
//!
//! Order of work for every byte batch: decode → journal entries → recorder → channel → wake.
//! The worker never waits on the UI: when the channel is full, events queue in the worker and
//! are handed over as soon as there is room; the recording is never held back.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use jiff::Timestamp;

use crate::model::{Entry, EntryBody, LinkCode, LinkEvent, MachineIdentity, MachineState, Note};
use crate::protocol::{DecodeStats, Decoder};
use crate::recording::{Recorder, SessionMeta, write_meta};

use super::journal::{Journalist, Observed};
use super::port::{PortError, open_serial};

/// Capacity of the channel to the UI.
pub const EVENT_CHANNEL_CAPACITY: usize = 4096;

/// How the worker reads and when it calls the link lost.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The port's name, as reopened after a loss.
    pub port: String,
    pub baud: u32,
    /// How long one read waits for data; bounds how quickly commands are handled.
    pub read_timeout: Duration,
    /// No byte for this long while the port stays open is a silent link.
    pub silence_timeout: Duration,
    /// How often a lost port is reopened.
    pub reconnect_interval: Duration,
    /// Stop recording when the machine reports `END`.
    pub stop_on_end: bool,
    /// Set when appending to an existing recording: what the machine must continue.
    pub resume: Option<ResumeCheck>,
}

/// What a resumed recording expects of the machine: the same procedure, still going.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumeCheck {
    /// The last machine time in the recording; the procedure continues if `t_ms` does not go
    /// back.
    pub last_t_ms: u64,
    /// The machine that made the recording, if known; a different one is a new procedure.
    pub identity: Option<MachineIdentity>,
}

impl WorkerConfig {
    pub fn new(port: impl Into<String>, baud: u32) -> WorkerConfig {
        WorkerConfig {
            port: port.into(),
            baud,
            read_timeout: Duration::from_millis(50),
            silence_timeout: Duration::from_secs(5),
            reconnect_interval: Duration::from_millis(500),
            stop_on_end: true,
            resume: None,
        }
    }
}

/// Something the worker can (re)open to read bytes from.
pub trait PortOpener: Send {
    fn open(&mut self) -> Result<Box<dyn Read + Send>, PortError>;
}

/// Opens a serial port by name; the real thing.
#[derive(Debug, Clone)]
pub struct SerialOpener {
    pub path: String,
    pub baud: u32,
    pub read_timeout: Duration,
}

impl SerialOpener {
    /// Opens the port `config` names, at its baud and read timeout.
    pub fn for_config(config: &WorkerConfig) -> SerialOpener {
        SerialOpener {
            path: config.port.clone(),
            baud: config.baud,
            read_timeout: config.read_timeout,
        }
    }
}

impl PortOpener for SerialOpener {
    fn open(&mut self) -> Result<Box<dyn Read + Send>, PortError> {
        let port = open_serial(&self.path, self.baud, self.read_timeout)?;
        Ok(port)
    }
}

/// The state of the data link, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// The port is open and data arrives.
    Up,
    /// The port is open but nothing has arrived for the silence timeout.
    Silent,
    /// The port failed or vanished; it is being reopened.
    Down { reason: String },
}

/// What the worker tells the UI.
#[derive(Debug, Clone)]
pub enum AcqEvent {
    /// A journal entry, already handed to the recorder.
    Entry(Entry),
    Identity(MachineIdentity),
    Link(LinkStatus),
    Stats(DecodeStats),
    /// Writing the recording failed; rows are kept in memory meanwhile.
    RecorderError {
        message: String,
        pending_rows: usize,
    },
    /// Writing works again and the queued rows are on disk.
    RecorderRecovered,
    /// The machine is not continuing the resumed procedure: the old recording was closed and
    /// recording goes on in this new file (with fresh metadata: the patient may be another).
    NewRecording {
        path: PathBuf,
    },
    /// The worker has stopped; nothing follows.
    Finished(WorkerReport),
}

/// Why the worker stopped, and its final counters.
#[derive(Debug, Clone)]
pub struct WorkerReport {
    pub reason: StopReason,
    pub stats: DecodeStats,
    pub rows_written: u64,
    /// Rows that could not be written by the time the worker stopped.
    pub unwritten_rows: usize,
    pub last_error: Option<String>,
    pub recording: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Asked to stop (user, signal, time limit, app closing).
    Requested,
    /// The machine reported `END`.
    ProcedureEnded,
}

/// A change the UI asks for in the session's metadata.
pub type MetaEdit = Box<dyn FnOnce(&mut SessionMeta) + Send>;

enum Command {
    Note(Note),
    Alarm(crate::model::Alarm),
    EditMeta(MetaEdit),
    Stop,
}

/// A running acquisition: the worker thread and its channels. Dropping it stops the worker and
/// waits for the recording to be synced.
pub struct Acquisition {
    commands: Sender<Command>,
    events: Receiver<AcqEvent>,
    handle: Option<JoinHandle<WorkerReport>>,
}

impl Acquisition {
    /// Starts the worker thread.
    ///
    /// `initial` is an already open port (so that the caller can report an open error once,
    /// clearly); without it the worker opens the port itself, retrying. `wake` is called after
    /// each batch of events (the UI's `request_repaint`).
    pub fn start(
        config: WorkerConfig,
        initial: Option<Box<dyn Read + Send>>,
        opener: Box<dyn PortOpener>,
        recorder: Recorder,
        meta: SessionMeta,
        journalist: Journalist,
        wake: Box<dyn Fn() + Send>,
    ) -> io::Result<Acquisition> {
        let (event_tx, event_rx) = crossbeam_channel::bounded(EVENT_CHANNEL_CAPACITY);
        let (command_tx, command_rx) = crossbeam_channel::unbounded();
        let worker = Worker {
            config,
            opener,
            port: None,
            decoder: Decoder::new(),
            journalist,
            recorder,
            meta,
            events: event_tx,
            backlog: VecDeque::new(),
            wake,
            commands: command_rx,
            last_data: Instant::now(),
            last_attempt: None,
            last_stats: DecodeStats::default(),
            last_stats_sent: Instant::now(),
            recorder_failing: false,
            last_error: None,
            last_error_sent: None,
        };
        let handle = std::thread::Builder::new()
            .name("serial-acquisition".into())
            .spawn(move || worker.run(initial))?;
        Ok(Acquisition {
            commands: command_tx,
            events: event_rx,
            handle: Some(handle),
        })
    }

    /// Events from the worker, to drain with `try_recv`.
    pub fn events(&self) -> &Receiver<AcqEvent> {
        &self.events
    }

    /// Records a nurse's note (as a `note` row, in arrival order with the machine's rows).
    pub fn add_note(&self, note: Note) {
        let _ = self.commands.send(Command::Note(note));
    }

    /// Records an alarm the monitor raised or cleared (as an `alarm` row).
    pub fn record_alarm(&self, alarm: crate::model::Alarm) {
        let _ = self.commands.send(Command::Alarm(alarm));
    }

    /// Changes the session's metadata; the worker rewrites the metadata file.
    pub fn edit_meta(&self, edit: MetaEdit) {
        let _ = self.commands.send(Command::EditMeta(edit));
    }

    /// Stops the worker, syncs the recording and returns the final report.
    pub fn stop(mut self) -> Option<WorkerReport> {
        self.stop_and_join()
    }

    /// Whether the worker thread has finished (after `END`, for instance).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    fn stop_and_join(&mut self) -> Option<WorkerReport> {
        let _ = self.commands.send(Command::Stop);
        let handle = self.handle.take()?;
        let report = handle.join().ok();
        if report.is_none() {
            tracing::error!("the acquisition worker panicked");
        }
        report
    }
}

impl Drop for Acquisition {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

struct Worker {
    config: WorkerConfig,
    opener: Box<dyn PortOpener>,
    port: Option<Box<dyn Read + Send>>,
    decoder: Decoder,
    journalist: Journalist,
    recorder: Recorder,
    meta: SessionMeta,
    events: Sender<AcqEvent>,
    backlog: VecDeque<AcqEvent>,
    wake: Box<dyn Fn() + Send>,
    commands: Receiver<Command>,
    last_data: Instant,
    last_attempt: Option<Instant>,
    last_stats: DecodeStats,
    last_stats_sent: Instant,
    recorder_failing: bool,
    last_error: Option<String>,
    last_error_sent: Option<Instant>,
}

enum Flow {
    Continue,
    Stop(StopReason),
}

impl Worker {
    fn run(mut self, initial: Option<Box<dyn Read + Send>>) -> WorkerReport {
        self.save_meta();
        let now = Timestamp::now();
        if self.config.resume.is_some() {
            let entry = self.journalist.link_entry(
                now,
                LinkEvent::new(
                    LinkCode::Resumed,
                    "recording resumed after the monitor restarted",
                ),
            );
            self.emit(entry);
        }
        let connected = LinkEvent::new(
            LinkCode::Connected,
            format!("{} at {} baud", self.config.port, self.config.baud),
        );
        let entry = self.journalist.link_entry(now, connected);
        self.emit(entry);
        match initial {
            Some(port) => self.connected(port),
            None => self.try_reconnect(),
        }
        let mut buf = vec![0u8; 4096];
        let reason = loop {
            if let Flow::Stop(reason) = self.handle_commands() {
                break reason;
            }
            let flow = if self.port.is_some() {
                self.read_once(&mut buf)
            } else {
                self.wait_and_reconnect();
                Flow::Continue
            };
            self.housekeeping();
            self.flush_backlog();
            if let Flow::Stop(reason) = flow {
                break reason;
            }
        };
        self.finish(reason)
    }

    fn read_once(&mut self, buf: &mut [u8]) -> Flow {
        let Some(port) = self.port.as_mut() else {
            return Flow::Continue;
        };
        match port.read(buf) {
            Ok(0) => {
                self.lost("the port reported end of data".into());
                Flow::Continue
            }
            Ok(n) => {
                self.last_data = Instant::now();
                let now = Timestamp::now();
                let mut results = Vec::new();
                self.decoder.feed(&buf[..n], |d| results.push(d));
                // Everything from this read on belongs to the new procedure's recording.
                if self.new_procedure_at(&results) {
                    self.switch_recording(now);
                }
                let was_down = self.journalist.link_down();
                let mut entries = Vec::with_capacity(results.len() + 2);
                let mut flow = Flow::Continue;
                for decoded in results {
                    if let Some(Observed::NewIdentity(identity)) =
                        self.journalist.on_decoded(decoded, now, &mut entries)
                    {
                        self.meta.machine = Some(identity.clone());
                        self.save_meta();
                        self.send(AcqEvent::Identity(identity));
                    }
                }
                if was_down && !self.journalist.link_down() {
                    self.send(AcqEvent::Link(LinkStatus::Up));
                }
                for entry in entries {
                    let ended = matches!(entry.body, EntryBody::State(MachineState::End));
                    self.emit(entry);
                    if ended && self.config.stop_on_end {
                        flow = Flow::Stop(StopReason::ProcedureEnded);
                    }
                }
                (self.wake)();
                flow
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                Flow::Continue
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Flow::Continue,
            Err(e) => {
                self.lost(format!("read failed: {e}"));
                Flow::Continue
            }
        }
    }

    /// While resuming: whether these sentences show the machine is not continuing the recorded
    /// procedure (its time went back, or another machine identified itself). The check ends
    /// at the first sentence that confirms the procedure continues (or, when the machine's
    /// identity is known, at its first identity sentence).
    fn new_procedure_at(&mut self, results: &[crate::protocol::Decoded]) -> bool {
        use crate::model::Payload;
        use crate::protocol::Decoded;
        for decoded in results {
            let Some(check) = &self.config.resume else {
                return false;
            };
            let Decoded::Sentence { sentence, .. } = decoded else {
                continue;
            };
            let time_went_back = sentence.t_ms < check.last_t_ms;
            let other_machine = match (&sentence.payload, &check.identity) {
                (Payload::Identity(id), Some(known)) => {
                    id.serial_no != known.serial_no || id.model != known.model
                }
                _ => false,
            };
            if time_went_back || other_machine {
                self.config.resume = None;
                return true;
            }
            // Time continues; keep checking only until the machine has identified itself.
            if matches!(sentence.payload, Payload::Identity(_)) || check.identity.is_none() {
                self.config.resume = None;
            }
        }
        false
    }

    /// Closes the resumed recording and continues in a new one beside it.
    fn switch_recording(&mut self, now: Timestamp) {
        let folder = self
            .recorder
            .path()
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let path = crate::recording::new_recording_path(&folder, now);
        let new = match Recorder::create(&path) {
            Ok(r) => r,
            Err(e) => {
                // Keep recording into the old file rather than lose data.
                tracing::error!(error = %e, "cannot create a recording for the new procedure");
                self.recorder_failed(&e);
                return;
            }
        };
        let text = format!(
            "the machine started a new procedure; recording continues in {}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let entry = self
            .journalist
            .link_entry(now, LinkEvent::new(LinkCode::Closed, text));
        self.emit(entry);
        if let Err(e) = self.recorder.sync() {
            self.recorder_failed(&e);
        }
        self.recorder = new;
        self.journalist = Journalist::new();
        self.meta = SessionMeta {
            started_utc: Some(crate::recording::format::format_time_utc(now)),
            ..SessionMeta::default()
        };
        self.save_meta();
        let connected = LinkEvent::new(
            LinkCode::Connected,
            format!("{} at {} baud", self.config.port, self.config.baud),
        );
        let entry = self.journalist.link_entry(now, connected);
        self.emit(entry);
        self.send(AcqEvent::NewRecording { path });
    }

    fn connected(&mut self, port: Box<dyn Read + Send>) {
        tracing::info!(port = %self.config.port, "serial port open");
        self.port = Some(port);
        self.last_data = Instant::now();
    }

    fn lost(&mut self, reason: String) {
        tracing::warn!(port = %self.config.port, %reason, "serial link lost");
        self.port = None;
        self.last_attempt = Some(Instant::now());
        let now = Timestamp::now();
        // A sentence cut off by the loss is counted as truncated; the next connection starts
        // afresh.
        let _ = self.decoder.finish();
        if let Some(entry) = self.journalist.link_lost(
            now,
            LinkCode::Lost,
            format!("{}: {reason}", self.config.port),
        ) {
            self.emit(entry);
        }
        self.send(AcqEvent::Link(LinkStatus::Down { reason }));
        (self.wake)();
    }

    fn wait_and_reconnect(&mut self) {
        let due = self.last_attempt.map_or(Duration::ZERO, |t| {
            self.config.reconnect_interval.saturating_sub(t.elapsed())
        });
        if !due.is_zero() {
            // Sleep in short steps so commands are still handled promptly.
            std::thread::sleep(due.min(self.config.read_timeout));
            return;
        }
        self.try_reconnect();
    }

    fn try_reconnect(&mut self) {
        self.last_attempt = Some(Instant::now());
        match self.opener.open() {
            Ok(port) => self.connected(port),
            Err(e) => {
                tracing::debug!(error = %e, "reopen failed");
                let reason = e.to_string();
                // Only the first failure of an outage is recorded; retries are not.
                if let Some(entry) =
                    self.journalist
                        .link_lost(Timestamp::now(), LinkCode::Lost, reason.clone())
                {
                    self.emit(entry);
                    self.send(AcqEvent::Link(LinkStatus::Down { reason }));
                    (self.wake)();
                }
            }
        }
    }

    fn housekeeping(&mut self) {
        if self.port.is_some()
            && !self.journalist.link_down()
            && self.last_data.elapsed() >= self.config.silence_timeout
        {
            let text = format!(
                "{}: no data for {} s",
                self.config.port,
                self.config.silence_timeout.as_secs()
            );
            if let Some(entry) = self
                .journalist
                .link_lost(Timestamp::now(), LinkCode::Silent, text)
            {
                self.emit(entry);
                self.send(AcqEvent::Link(LinkStatus::Silent));
                (self.wake)();
            }
        }
        match self.recorder.sync_if_due() {
            Ok(()) => self.recorder_ok(),
            Err(e) => self.recorder_failed(&e),
        }
        let stats = *self.decoder.stats();
        if stats != self.last_stats && self.last_stats_sent.elapsed() >= Duration::from_secs(1) {
            self.last_stats = stats;
            self.last_stats_sent = Instant::now();
            // No wake: counters ride along with the next frame (data or the UI's 1 s tick),
            // so they never cost a frame of their own.
            self.send(AcqEvent::Stats(stats));
        }
    }

    fn handle_commands(&mut self) -> Flow {
        loop {
            match self.commands.try_recv() {
                Ok(Command::Note(note)) => {
                    let entry = self.journalist.note_entry(Timestamp::now(), note);
                    self.emit(entry);
                    (self.wake)();
                }
                Ok(Command::Alarm(alarm)) => {
                    let entry = self.journalist.alarm_entry(Timestamp::now(), alarm);
                    self.emit(entry);
                    (self.wake)();
                }
                Ok(Command::EditMeta(edit)) => {
                    edit(&mut self.meta);
                    self.save_meta();
                }
                Ok(Command::Stop) | Err(TryRecvError::Disconnected) => {
                    return Flow::Stop(StopReason::Requested);
                }
                Err(TryRecvError::Empty) => return Flow::Continue,
            }
        }
    }

    fn save_meta(&mut self) {
        if let Err(e) = write_meta(self.recorder.path(), &self.meta) {
            tracing::error!(error = %e, "cannot write session metadata");
            self.send(AcqEvent::RecorderError {
                message: e.to_string(),
                pending_rows: self.recorder.pending_rows(),
            });
        }
    }

    /// Records `entry`, then hands it to the UI.
    fn emit(&mut self, entry: Entry) {
        match self.recorder.append(&entry) {
            Ok(()) => self.recorder_ok(),
            Err(e) => self.recorder_failed(&e),
        }
        self.send(AcqEvent::Entry(entry));
    }

    fn recorder_ok(&mut self) {
        if self.recorder_failing {
            self.recorder_failing = false;
            tracing::info!("recording writes again; queued rows written");
            self.send(AcqEvent::RecorderRecovered);
        }
    }

    fn recorder_failed(&mut self, error: &crate::recording::RecordError) {
        let message = error.to_string();
        if !self.recorder_failing {
            tracing::error!(error = %message, "recording write failed; rows kept in memory");
        }
        self.recorder_failing = true;
        // Tell the UI at once, then at most once a second while it lasts.
        let due = self
            .last_error_sent
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if due {
            self.last_error_sent = Some(Instant::now());
            self.send(AcqEvent::RecorderError {
                message: message.clone(),
                pending_rows: self.recorder.pending_rows(),
            });
        }
        self.last_error = Some(message);
    }

    fn send(&mut self, event: AcqEvent) {
        if self.backlog.is_empty() {
            match self.events.try_send(event) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => {}
                Err(TrySendError::Full(event)) => self.backlog.push_back(event),
            }
        } else {
            self.backlog.push_back(event);
        }
    }

    fn flush_backlog(&mut self) {
        while let Some(event) = self.backlog.pop_front() {
            match self.events.try_send(event) {
                Ok(()) => {}
                Err(TrySendError::Disconnected(_)) => {
                    self.backlog.clear();
                    return;
                }
                Err(TrySendError::Full(event)) => {
                    self.backlog.push_front(event);
                    (self.wake)();
                    return;
                }
            }
        }
    }

    fn finish(mut self, reason: StopReason) -> WorkerReport {
        // Counts a sentence cut off by the stop as truncated.
        let _ = self.decoder.finish();
        let text = match reason {
            StopReason::Requested => "recording stopped",
            StopReason::ProcedureEnded => "procedure ended",
        };
        let entry = self
            .journalist
            .link_entry(Timestamp::now(), LinkEvent::new(LinkCode::Closed, text));
        self.emit(entry);
        let synced = self.recorder.sync();
        if let Err(e) = &synced {
            self.recorder_failed(e);
        }
        self.port = None;
        let report = WorkerReport {
            reason,
            stats: *self.decoder.stats(),
            rows_written: self.recorder.rows_written(),
            unwritten_rows: self.recorder.pending_rows(),
            last_error: if synced.is_ok() && self.recorder.pending_rows() == 0 {
                None
            } else {
                self.last_error.clone()
            },
            recording: self.recorder.path().to_owned(),
        };
        if report.unwritten_rows > 0 {
            tracing::error!(
                rows = report.unwritten_rows,
                "recording stopped with rows that could not be written"
            );
        }
        // Hand over everything still queued; the UI may be slow, so wait a little for room.
        let deadline = Instant::now() + Duration::from_secs(2);
        while !self.backlog.is_empty() && Instant::now() < deadline {
            self.flush_backlog();
            if !self.backlog.is_empty() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        self.send(AcqEvent::Finished(report.clone()));
        self.flush_backlog();
        (self.wake)();
        report
    }
}
