//! What the serial worker tells the session: entries, the link's state, counters, recording
//! trouble, and its final report.

use std::path::PathBuf;

use crate::model::{Entry, MachineIdentity};
use crate::protocol::DecodeStats;

/// The state of the data link. The worker reports the changes between `Up`, `Silent` and
/// `Down`; a session is `Up` from the moment its port is open, and `Closed` once the worker
/// has finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// The port is open (data arrives, or none has been due yet).
    Up,
    /// The port is open but nothing has arrived for the silence timeout.
    Silent,
    /// The port failed or vanished; it is being reopened.
    Down { reason: String },
    /// Recording has stopped; the port is closed.
    Closed,
}

/// What the worker tells the UI.
#[derive(Debug, Clone)]
pub enum AcqEvent {
    /// A journal entry, already handed to the recorder.
    Entry(Entry),
    Identity(MachineIdentity),
    Link(LinkState),
    /// The device the port is on now, when that is not the port's own name (a by-id link or
    /// a USB serial number resolved, at the start and after each reopen under a new name).
    Device(String),
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
