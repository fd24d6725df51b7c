//! Starting a recording: the one way the app and the headless `record` command set a session
//! up, so the two write the same file.
//!
//! Two steps, both file and port I/O (run them off the UI thread):
//! [`SessionStart::prepare`] opens the port, creates the recording (or takes an interrupted
//! one back) and works out where the journal resumes; [`Prepared::start`] hands all of it to
//! the acquisition worker. Between the two the app reads an interrupted recording's rows for
//! the screen, before the worker appends to it.

use std::io::Read;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::acquisition::{
    Acquisition, Journalist, PortError, ResumeCheck, SerialOpener, WorkerConfig, open_serial,
};
use crate::recording::format::format_time_utc;
use crate::recording::{
    RecordError, Recorder, SessionMeta, create_private_dir_all, new_recording_path, read_meta,
};
use crate::session::library::{self, SessionStatus};
#[cfg(unix)]
use crate::simulator::DemoMachine;

/// Where the recording goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A new recording in this folder, named by the time it starts.
    NewIn(PathBuf),
    /// A new recording at this path (which must not exist).
    NewAt(PathBuf),
    /// Append to this interrupted recording.
    Resume(PathBuf),
}

/// What to start.
pub struct SessionStart {
    pub port: String,
    pub baud: u32,
    pub destination: Destination,
    /// The metadata of a new recording (a resumed one keeps its own).
    pub meta: SessionMeta,
    /// The simulated machine behind `port`, for the demo.
    #[cfg(unix)]
    pub demo: Option<DemoMachine>,
}

/// Why a session could not be started. Nothing is left half-made: a failed start creates no
/// recording, or leaves the interrupted one as it was.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("cannot create the session folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot resume {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{path} is {status}: only an interrupted recording can be resumed")]
    NotInterrupted { path: PathBuf, status: &'static str },
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("cannot start the acquisition thread: {0}")]
    Thread(std::io::Error),
}

/// A session with its port open and its recording ready, not yet recording.
pub struct Prepared {
    port_name: String,
    baud: u32,
    port: Box<dyn Read + Send>,
    config: WorkerConfig,
    journalist: Journalist,
    recorder: Recorder,
    meta: SessionMeta,
    resumed: bool,
    #[cfg(unix)]
    demo: Option<DemoMachine>,
}

/// A recording session handed to its worker.
pub struct Started {
    pub acquisition: Acquisition,
    pub port: String,
    pub baud: u32,
    pub recording: PathBuf,
    pub meta: SessionMeta,
    #[cfg(unix)]
    pub demo: Option<DemoMachine>,
}

impl SessionStart {
    /// Opens the port and makes the recording ready; `now` is when the session starts.
    ///
    /// The port is opened first, so a wrong port leaves no empty recording behind.
    pub fn prepare(self, now: Timestamp) -> Result<Prepared, StartError> {
        let mut config = WorkerConfig::new(self.port.clone(), self.baud);
        let port: Box<dyn Read + Send> = open_serial(&self.port, self.baud, config.read_timeout)?;
        let mut meta = self.meta;
        let mut journalist = Journalist::new();
        let resumed = matches!(self.destination, Destination::Resume(_));
        let recorder = match self.destination {
            Destination::NewIn(folder) => {
                create_private_dir_all(&folder).map_err(|source| StartError::Folder {
                    path: folder.clone(),
                    source,
                })?;
                Recorder::create(&new_recording_path(&folder, now))?
            }
            Destination::NewAt(path) => Recorder::create(&path)?,
            Destination::Resume(path) => {
                let listing = library::inspect(&path).map_err(|reason| StartError::Unreadable {
                    path: path.clone(),
                    reason,
                })?;
                if listing.status != SessionStatus::Interrupted {
                    return Err(StartError::NotInterrupted {
                        path,
                        status: listing.status.label(),
                    });
                }
                if let Ok(Some(saved)) = read_meta(&path) {
                    meta = saved;
                }
                journalist = Journalist::resuming(
                    listing.last_t_ms,
                    listing.last_seq,
                    listing.last_row_utc.unwrap_or(now),
                );
                config.resume = Some(ResumeCheck {
                    last_t_ms: listing.last_t_ms.unwrap_or(0),
                    identity: meta.machine.clone(),
                });
                Recorder::resume(&path)?
            }
        };
        meta.started_utc.get_or_insert_with(|| format_time_utc(now));
        Ok(Prepared {
            port_name: self.port,
            baud: self.baud,
            port,
            config,
            journalist,
            recorder,
            meta,
            resumed,
            #[cfg(unix)]
            demo: self.demo,
        })
    }
}

impl Prepared {
    /// The recording the session writes to.
    pub fn recording(&self) -> &Path {
        self.recorder.path()
    }

    /// Whether the recording is an interrupted one taken back.
    pub fn is_resumed(&self) -> bool {
        self.resumed
    }

    pub fn meta(&self) -> &SessionMeta {
        &self.meta
    }

    /// Starts the worker on the open port; `wake` is called when it has news.
    pub fn start(self, wake: Box<dyn Fn() + Send>) -> Result<Started, StartError> {
        let recording = self.recorder.path().to_owned();
        let opener = SerialOpener::for_config(&self.config);
        let acquisition = Acquisition::start(
            self.config,
            Some(self.port),
            Box::new(opener),
            self.recorder,
            self.meta.clone(),
            self.journalist,
            wake,
        )
        .map_err(StartError::Thread)?;
        Ok(Started {
            acquisition,
            port: self.port_name,
            baud: self.baud,
            recording,
            meta: self.meta,
            #[cfg(unix)]
            demo: self.demo,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn start(port: &str, destination: Destination) -> SessionStart {
        SessionStart {
            port: port.to_owned(),
            baud: 115_200,
            destination,
            meta: SessionMeta::default(),
            #[cfg(unix)]
            demo: None,
        }
    }

    #[test]
    fn a_port_that_cannot_be_opened_leaves_no_recording_behind() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("sessions");
        let result = start("/dev/no-such-port", Destination::NewIn(folder.clone()))
            .prepare(Timestamp::now());
        let Err(StartError::Port(e)) = result else {
            panic!("expected a port error");
        };
        assert!(e.to_string().contains("/dev/no-such-port"), "{e}");
        assert!(!folder.exists(), "a recording folder was made for nothing");
    }

    #[cfg(unix)]
    #[test]
    fn only_an_interrupted_recording_is_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let (_master, slave) = serialport::TTYPort::pair().unwrap();
        let port = serialport::SerialPort::name(&slave).unwrap();
        // A recording that was stopped (its last row is CLOSED) is complete as it is.
        let path = dir.path().join("stopped.csv");
        let prepared = start(&port, Destination::NewAt(path.clone()))
            .prepare(Timestamp::now())
            .unwrap();
        let started = prepared.start(Box::new(|| {})).unwrap();
        started.acquisition.stop().unwrap();
        let before = std::fs::read(&path).unwrap();
        let result = start(&port, Destination::Resume(path.clone())).prepare(Timestamp::now());
        match result {
            Err(StartError::NotInterrupted { status, .. }) => assert_eq!(status, "stopped early"),
            Err(e) => panic!("expected NotInterrupted, got {e}"),
            Ok(_) => panic!("a stopped recording was resumed"),
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the file was touched"
        );
    }
}
