//! The serial worker: a named thread that owns the port, decodes, records, then tells the UI.
//!
//! Order of work for every byte batch: decode → journal entries → recorder → channel → wake.
//! The worker never waits on the UI: when the channel is full, events queue in the worker and
//! are handed over as soon as there is room; the recording is never held back.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, Read};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use jiff::Timestamp;

use crate::model::{Entry, EntryBody, LinkCode, LinkEvent, MachineIdentity, MachineState, Note};
use crate::protocol::{DecodeStats, Decoder};
use crate::recording::{Recorder, SessionMeta, write_meta};

pub use super::events::{AcqEvent, LinkState, StopReason, WorkerReport};
use super::journal::{Journalist, Observed};
pub use super::opener::{PortOpener, SerialOpener};

/// Capacity of the channel to the UI.
pub const EVENT_CHANNEL_CAPACITY: usize = 4096;

/// How the worker reads and when it calls the link lost.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The port as the session names it: a by-id link, `usb:VID:PID:SERIAL` or a path. After
    /// a loss it is found again by that identity, under whatever name it has then.
    pub port: String,
    pub baud: u32,
    /// How long one read waits for data; bounds how quickly commands are handled.
    pub read_timeout: Duration,
    /// No byte for this long while the port stays open is a silent link.
    pub silence_timeout: Duration,
    /// How often a lost port is reopened.
    pub reconnect_interval: Duration,
    /// Stop recording when the machine reports `END` (the `record` command). The app keeps
    /// recording after `END` so that notes (post-disconnect vitals) can still be recorded,
    /// until the nurse stops it; a stop asked for while the machine is at `END` is then
    /// recorded as the procedure's end, the same `RECORDING_CLOSED` row as `record` writes.
    pub stop_on_end: bool,
    /// Set when appending to an existing recording: what the machine must continue.
    pub resume: Option<ResumeCheck>,
    /// Where the stable `by-id` links of USB adapters are (`/dev/serial/by-id`).
    pub by_id_dir: PathBuf,
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
            by_id_dir: PathBuf::from(super::devices::DEFAULT_BY_ID_DIR),
        }
    }
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
            at_end: false,
            device: None,
            reopened_on: None,
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
    /// Whether the machine's latest state is `END`.
    at_end: bool,
    /// The device the port was last open on (`/dev/ttyUSB1` for a by-id link), if known.
    device: Option<String>,
    /// "connected on /dev/ttyUSB1 (by-id …)": the port was reopened under a new name; said in
    /// the `LINK_RESTORED` row of the first sentence after.
    reopened_on: Option<String>,
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
        self.device = self.opener.device();
        self.send_device();
        let entry = self.journalist.link_entry(now, self.connected_event());
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
                // Sequence numbers only (never patient data), for the kill test's log of what
                // was received; collected only when that log is on.
                let received: Vec<u32> = if tracing::enabled!(tracing::Level::TRACE) {
                    results
                        .iter()
                        .filter_map(|d| match d {
                            crate::protocol::Decoded::Sentence { sentence, .. } => {
                                Some(sentence.seq)
                            }
                            crate::protocol::Decoded::Rejected(_) => None,
                        })
                        .collect()
                } else {
                    Vec::new()
                };
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
                self.say_where_reopened(&mut entries);
                if was_down && !self.journalist.link_down() {
                    self.send(AcqEvent::Link(LinkState::Up));
                }
                for entry in entries {
                    let ended = matches!(entry.body, EntryBody::State(MachineState::End));
                    if let EntryBody::State(_) = entry.body {
                        self.at_end = ended;
                    }
                    self.emit(entry);
                    if ended && self.config.stop_on_end {
                        flow = Flow::Stop(StopReason::ProcedureEnded);
                    }
                }
                // Logged after the rows were handed to the recorder: a sentence in this log
                // was read from the port and its row given to the kernel (or queued, if
                // writing fails).
                for seq in received {
                    tracing::trace!(seq, "received");
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
        let entry = self.journalist.link_entry(now, self.connected_event());
        self.emit(entry);
        self.send(AcqEvent::NewRecording { path });
    }

    /// The `CONNECTED` row: "PORT at BAUD baud", and the device it is on when the port names
    /// it otherwise (a by-id link): "…; on /dev/ttyUSB0". (The library reads the port back
    /// from before the last " at ".)
    fn connected_event(&self) -> LinkEvent {
        let mut text = format!("{} at {} baud", self.config.port, self.config.baud);
        if let Some(device) = self.device.as_deref().filter(|d| *d != self.config.port) {
            let _ = write!(text, "; on {device}");
        }
        LinkEvent::new(LinkCode::Connected, text)
    }

    /// After a reopen under a new name: the `LINK_RESTORED` row among `entries` says where.
    fn say_where_reopened(&mut self, entries: &mut [Entry]) {
        let restored = entries.iter_mut().find_map(|e| match &mut e.body {
            EntryBody::Link(link) if link.code == LinkCode::Restored => Some(link),
            _ => None,
        });
        if let Some(link) = restored
            && let Some(text) = self.reopened_on.take()
        {
            let _ = write!(link.text, "; {text}");
        }
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
        self.send(AcqEvent::Link(LinkState::Down { reason }));
        (self.wake)();
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
                self.send(AcqEvent::Link(LinkState::Silent));
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
        let reason = match reason {
            StopReason::Requested if self.at_end => StopReason::ProcedureEnded,
            other => other,
        };
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

mod reconnect;

#[cfg(test)]
#[cfg(unix)] // the tests run on pseudo-terminals
mod tests {
    //! The worker's own paths, on real pseudo-terminals: a silent link, and a UI that does not
    //! drain its channel. Expected rows are computed from what each test wrote to the line.

    use std::io::Write as _;
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::acquisition::PortError;
    use crate::model::{Payload, Quantity, Sample, Sentence};
    use crate::protocol::encode;

    /// A pseudo-terminal: the master for the test to write into (writes wait up to 10 s for
    /// room, so a slow reader is never mistaken for a failure), and the slave's path.
    fn pty() -> (serialport::TTYPort, String) {
        let (mut master, slave) = serialport::TTYPort::pair().expect("pseudo-terminal pair");
        let path = serialport::SerialPort::name(&slave).expect("pseudo-terminal name");
        drop(slave);
        serialport::SerialPort::set_timeout(&mut master, Duration::from_secs(10)).unwrap();
        (master, path)
    }

    /// Writes `bytes` to the line as the machine would, on a thread of its own, and waits
    /// up to 30 s for it: a write into a line nobody reads can block in the kernel, and a
    /// test must fail, not hang.
    fn send(master: &serialport::TTYPort, bytes: Vec<u8>) {
        let mut line = master.try_clone_native().unwrap();
        let (done_tx, done) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = done_tx.send(line.write_all(&bytes));
        });
        match done.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("the worker stopped reading the port: {e}"),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                panic!("the worker stopped reading the port: a write waited 30 s")
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                panic!("the thread writing to the line died")
            }
        }
    }

    /// Opens the port by name, as the worker does in service, and counts the opens: a port
    /// kept open is opened once.
    struct CountingOpener {
        inner: SerialOpener,
        opens: Arc<AtomicUsize>,
    }

    impl PortOpener for CountingOpener {
        fn open(&mut self) -> Result<Box<dyn Read + Send>, PortError> {
            let port = self.inner.open()?;
            self.opens.fetch_add(1, Ordering::SeqCst);
            Ok(port)
        }
    }

    /// Starts the worker on `config.port`, recording to `out`, and waits (with a deadline)
    /// until it has opened the port: opening flushes the line, so nothing may be written
    /// before.
    fn start(config: WorkerConfig, out: &Path) -> (Running, Arc<AtomicUsize>) {
        let opens = Arc::new(AtomicUsize::new(0));
        let opener = CountingOpener {
            inner: SerialOpener::for_config(&config),
            opens: opens.clone(),
        };
        let acquisition = Acquisition::start(
            config,
            None,
            Box::new(opener),
            Recorder::create(out).unwrap(),
            SessionMeta::default(),
            Journalist::new(),
            Box::new(|| {}),
        )
        .unwrap();
        let running = Running(Some(acquisition));
        wait_until(Duration::from_secs(10), "the worker opens the port", || {
            opens.load(Ordering::SeqCst) == 1
        });
        (running, opens)
    }

    /// A running worker that a failing test leaves behind rather than joins: a worker stuck
    /// on a bug (blocked on the UI's channel, say) would never join, and the failure would
    /// become a hang.
    struct Running(Option<Acquisition>);

    impl std::ops::Deref for Running {
        type Target = Acquisition;
        fn deref(&self) -> &Acquisition {
            self.0.as_ref().unwrap()
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            if std::thread::panicking() {
                std::mem::forget(self.0.take());
            }
        }
    }

    impl Running {
        /// Stops the worker (within 30 s, or the test fails) and returns its report and the
        /// events it sent that were not received yet.
        fn stop(mut self) -> (WorkerReport, Vec<AcqEvent>) {
            let acquisition = self.0.take().unwrap();
            let events = acquisition.events().clone();
            let (tx, rx) = crossbeam_channel::bounded(1);
            std::thread::spawn(move || {
                let _ = tx.send(acquisition.stop());
            });
            let report = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("the worker did not stop within 30 s")
                .expect("the worker panicked");
            (report, events.try_iter().collect())
        }
    }

    /// Polls `done` every 5 ms until it holds; panics naming `what` after `timeout`.
    fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !done() {
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting until {what}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sentence `seq` of the test machine: one sample a tenth of a second, inlet = seq.
    fn sentence(seq: u32) -> Sentence {
        Sentence {
            seq,
            t_ms: u64::from(seq) * 100,
            payload: Payload::Sample(Sample::default().with(Quantity::InletMl, f64::from(seq))),
            unknown_keys: 0,
        }
    }

    fn wire(seqs: impl IntoIterator<Item = u32>) -> Vec<u8> {
        seqs.into_iter()
            .flat_map(|seq| encode(&sentence(seq)).into_bytes())
            .collect()
    }

    /// What the recording (and the UI) should hold for sentence `seq`: seq, machine time, body.
    fn expected(seq: u32) -> (Option<u32>, Option<u64>, String) {
        let s = sentence(seq);
        let Payload::Sample(sample) = s.payload else {
            unreachable!()
        };
        (
            Some(seq),
            Some(s.t_ms),
            format!("{:?}", EntryBody::Sample(sample)),
        )
    }

    /// An entry as the tests compare it: seq, machine time, body; link rows by their code alone.
    fn shape(entry: &Entry) -> (Option<u32>, Option<u64>, String) {
        match &entry.body {
            EntryBody::Link(link) => (None, None, link.code.as_str().to_owned()),
            body => (entry.seq, entry.elapsed_ms, format!("{body:?}")),
        }
    }

    fn link(code: LinkCode) -> (Option<u32>, Option<u64>, String) {
        (None, None, code.as_str().to_owned())
    }

    /// Complete rows in the recording so far (the header excluded).
    fn rows_on_disk(path: &Path) -> usize {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        text.matches('\n').count().saturating_sub(1)
    }

    fn recorded(path: &Path) -> Vec<Entry> {
        let recording = crate::recording::load(path, |_, _| true).unwrap();
        assert_eq!(recording.skipped_rows, 0, "{:?}", recording.problems);
        recording.entries
    }

    #[test]
    fn the_silence_timeout_is_five_seconds_by_default() {
        let config = WorkerConfig::new("/dev/ttyUSB0", 115_200);
        assert_eq!(config.silence_timeout, Duration::from_secs(5));
    }

    #[test]
    fn a_silent_port_is_recorded_as_link_silent_kept_open_and_restored_when_data_returns() {
        let silence = Duration::from_secs(1);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("session.csv");
        let (master, path) = pty();
        let mut config = WorkerConfig::new(path.clone(), 115_200);
        config.silence_timeout = silence;
        config.stop_on_end = false;
        let (acquisition, opens) = start(config, &out);

        // Data for longer than the silence timeout, a sentence every 100 ms: not silent.
        let before = 1..=15;
        for seq in before.clone() {
            send(&master, wire([seq]));
            std::thread::sleep(Duration::from_millis(100));
        }
        // Then nothing, with the port left open. Each entry the UI gets must be on disk when
        // the test looks (this cannot see a row written microseconds after it was sent).
        let mut entries = Vec::new();
        let mut links = Vec::new();
        let take =
            |event: AcqEvent, entries: &mut Vec<Entry>, links: &mut Vec<LinkState>| match event {
                AcqEvent::Entry(entry) => {
                    entries.push(entry);
                    assert!(
                        rows_on_disk(&out) >= entries.len(),
                        "the UI has entry {} and the recording does not",
                        entries.len()
                    );
                }
                AcqEvent::Link(status) => links.push(status),
                _ => {}
            };
        let deadline = Instant::now() + silence + Duration::from_secs(10);
        while !links.contains(&LinkState::Silent) {
            assert!(Instant::now() < deadline, "no LINK_SILENT; links {links:?}");
            if let Ok(event) = acquisition.events().recv_timeout(Duration::from_millis(50)) {
                take(event, &mut entries, &mut links);
            }
        }
        let silent_seen = Instant::now();
        // Stay silent a while longer: still one LINK_SILENT, and the port is not reopened.
        let quiet_after = silence + silence / 2;
        while silent_seen.elapsed() < quiet_after {
            if let Ok(event) = acquisition.events().recv_timeout(Duration::from_millis(50)) {
                take(event, &mut entries, &mut links);
            }
        }
        // Data comes back on the same open port.
        let after = 16..=20;
        send(&master, wire(after.clone()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while entries.last().and_then(|e| e.seq) != Some(*after.end()) {
            assert!(Instant::now() < deadline, "data after the silence not seen");
            if let Ok(event) = acquisition.events().recv_timeout(Duration::from_millis(50)) {
                take(event, &mut entries, &mut links);
            }
        }
        let (report, rest) = acquisition.stop();
        assert_eq!(report.unwritten_rows, 0);
        for event in rest {
            take(event, &mut entries, &mut links);
        }

        assert_eq!(
            opens.load(Ordering::SeqCst),
            1,
            "a silent port must be kept open, not reopened"
        );
        assert_eq!(links, [LinkState::Silent, LinkState::Up]);

        let mut want = vec![link(LinkCode::Connected)];
        want.extend(before.clone().map(expected));
        want.push(link(LinkCode::Silent));
        want.push(link(LinkCode::Restored));
        want.extend(after.clone().map(expected));
        want.push(link(LinkCode::Closed));
        let seen: Vec<_> = entries.iter().map(shape).collect();
        assert_eq!(seen, want, "what the UI was given");
        let on_disk = recorded(&out);
        assert_eq!(
            on_disk.iter().map(shape).collect::<Vec<_>>(),
            want,
            "the recording"
        );

        // Silence is called no earlier than the timeout after the last byte, and promptly.
        let row = |code: LinkCode| {
            on_disk
                .iter()
                .find(|e| matches!(&e.body, EntryBody::Link(l) if l.code == code))
                .unwrap()
        };
        let last_before = on_disk
            .iter()
            .find(|e| e.seq == Some(*before.end()))
            .unwrap();
        let silent = row(LinkCode::Silent);
        let waited = silent.time_utc.duration_since(last_before.time_utc);
        let silence_signed = jiff::SignedDuration::try_from(silence).unwrap();
        // The CSV keeps milliseconds: allow one for each of the two times.
        assert!(
            waited >= silence_signed - jiff::SignedDuration::from_millis(2),
            "LINK_SILENT after only {waited:?} of silence"
        );
        assert!(
            waited <= silence_signed + jiff::SignedDuration::from_secs(3),
            "LINK_SILENT {waited:?} after the last sentence"
        );
        let EntryBody::Link(silent_link) = &silent.body else {
            unreachable!()
        };
        assert!(
            silent_link.text.contains(&path) && silent_link.text.contains("no data for 1 s"),
            "{}",
            silent_link.text
        );
        assert_eq!(silent.elapsed_ms, sentence(*before.end()).t_ms.into());

        // The restored row: at the first sentence after the silence, none missed, and an
        // outage at least as long as the test stayed quiet after seeing LINK_SILENT.
        let restored = row(LinkCode::Restored);
        assert_eq!(restored.elapsed_ms, Some(sentence(*after.start()).t_ms));
        let EntryBody::Link(restored_link) = &restored.body else {
            unreachable!()
        };
        let missed = after.start() - before.end() - 1;
        assert!(
            restored_link
                .text
                .ends_with(&format!("; {missed} sentences sent while disconnected")),
            "{}",
            restored_link.text
        );
        let outage_s: f64 = restored_link
            .text
            .strip_prefix("data again after ")
            .and_then(|t| t.split(' ').next())
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("{}", restored_link.text));
        assert!(
            outage_s >= quiet_after.as_secs_f64() - 0.1,
            "{}",
            restored_link.text
        );
    }

    #[test]
    fn a_full_ui_channel_never_holds_up_the_recording_and_the_ui_later_gets_every_entry_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("session.csv");
        let (master, path) = pty();
        let mut config = WorkerConfig::new(path, 115_200);
        config.stop_on_end = false;
        // However slow the machine running the test, no silence row between bursts.
        config.silence_timeout = Duration::from_mins(10);
        let (acquisition, _) = start(config, &out);

        // The UI does not drain. More sentences than the channel holds fill it.
        let first = u32::try_from(EVENT_CHANNEL_CAPACITY).unwrap() + 500;
        send(&master, wire(1..=first));
        wait_until(Duration::from_mins(1), "the UI channel is full", || {
            acquisition.events().is_full()
        });
        // The machine keeps sending while the channel stays full: every row is still
        // recorded, so the worker is not waiting on the UI.
        let total = first + 3000;
        send(&master, wire(first + 1..=total));
        let rows_wanted = 1 + total as usize; // CONNECTED, then one row a sentence
        let deadline = Instant::now() + Duration::from_mins(1);
        loop {
            let rows = rows_on_disk(&out);
            if rows == rows_wanted {
                break;
            }
            assert!(
                rows < rows_wanted,
                "{rows} rows recorded, {rows_wanted} sent"
            );
            assert!(
                Instant::now() < deadline,
                "the recording stopped at {rows} of {rows_wanted} rows while the UI channel \
                 was full: the worker is held up by the UI"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(acquisition.events().is_full(), "nothing was drained yet");

        // The UI drains at last, until it has as many entries as were recorded or nothing more
        // comes for 5 s; then the worker is stopped and the rest taken.
        let mut events = Vec::new();
        let entry_count = |events: &[AcqEvent]| {
            events
                .iter()
                .filter(|e| matches!(e, AcqEvent::Entry(_)))
                .count()
        };
        let deadline = Instant::now() + Duration::from_mins(1);
        let mut last_event = Instant::now();
        while entry_count(&events) < rows_wanted
            && last_event.elapsed() < Duration::from_secs(5)
            && Instant::now() < deadline
        {
            if let Ok(event) = acquisition.events().recv_timeout(Duration::from_millis(50)) {
                events.push(event);
                last_event = Instant::now();
            }
        }
        let (report, rest) = acquisition.stop();
        events.extend(rest);
        assert_eq!(report.unwritten_rows, 0);

        // Every entry, in order, none lost or repeated: what was sent, then RECORDING_CLOSED.
        let mut want = vec![link(LinkCode::Connected)];
        want.extend((1..=total).map(expected));
        want.push(link(LinkCode::Closed));
        let seen: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                AcqEvent::Entry(entry) => Some(shape(entry)),
                _ => None,
            })
            .collect();
        if let Some(i) = (0..want.len().max(seen.len())).find(|&i| seen.get(i) != want.get(i)) {
            panic!(
                "the UI received {} entries for {} sent; the first difference is at {i}: \
                 {:?}, expected {:?}",
                seen.len(),
                want.len(),
                seen.get(i),
                want.get(i)
            );
        }
        let on_disk: Vec<_> = recorded(&out).iter().map(shape).collect();
        assert!(on_disk == want, "the recording differs from what was sent");
        assert_eq!(report.rows_written, want.len() as u64);
    }
}
