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

use crate::alarms::AlarmEngine;
use crate::analysis::Timeline;

use crate::acquisition::{
    Acquisition, Journalist, PortError, PortOpener, ResumeCheck, SerialOpener, WorkerConfig,
    open_serial,
};
use crate::recording::format::format_time_utc;
use crate::recording::meta::{DemoMarker, PatientMeta, TargetsMeta};
use crate::recording::{
    RecordError, Recorder, SessionMeta, create_private_dir_all, new_recording_path, read_meta,
};
use crate::session::library::{self, SessionListing, SessionStatus};
use crate::simulator::{DemoMachine, IN_MEMORY_PORT, NoReopen, SimConfig};

/// Whether the demo's machine talks over an in-memory line rather than a pseudo-terminal:
/// only where there are no pseudo-terminals (Windows).
const DEMO_IN_MEMORY: bool = cfg!(not(unix));

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

/// The machine to record from.
#[derive(Debug, Clone, PartialEq)]
pub enum Machine {
    /// A machine on a serial port.
    Port { port: String, baud: u32 },
    /// The built-in simulated machine, started at `start_at_ms` of its procedure on a
    /// pseudo-terminal of its own (unix) or on an in-memory line (Windows).
    Demo {
        seed: u64,
        speed: f64,
        start_at_ms: u64,
    },
}

/// What to start.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionStart {
    pub machine: Machine,
    pub destination: Destination,
    /// The metadata of a new recording (a resumed one keeps its own).
    pub meta: SessionMeta,
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
    #[error("cannot resume: {0}")]
    Inspect(#[from] library::InspectError),
    #[error("cannot resume: {source}")]
    Unreadable {
        path: PathBuf,
        source: crate::recording::LoadError,
    },
    #[error("{path} is {status}: only an interrupted recording can be resumed")]
    NotInterrupted { path: PathBuf, status: &'static str },
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("cannot start the acquisition thread: {0}")]
    Thread(std::io::Error),
    #[error("cannot start the simulated machine: {0}")]
    Demo(std::io::Error),
    #[error("no port is known for this recording: connect from the start screen")]
    NoPort,
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
    /// What the worker reopens the port with after a loss; `None`: the serial port by name.
    reopen: Option<Box<dyn PortOpener>>,
    demo: Option<DemoMachine>,
}

/// A recording session handed to its worker.
pub struct Started {
    pub acquisition: Acquisition,
    pub port: String,
    pub baud: u32,
    pub recording: PathBuf,
    pub meta: SessionMeta,
    pub demo: Option<DemoMachine>,
}

impl SessionStart {
    /// A new recording in `folder` from a machine on `port`.
    pub fn new_on_port(port: String, baud: u32, folder: PathBuf) -> SessionStart {
        SessionStart {
            machine: Machine::Port { port, baud },
            destination: Destination::NewIn(folder),
            meta: SessionMeta::default(),
        }
    }

    /// The demo: the simulated machine from the start of its procedure, with its patient and
    /// target entered, recorded in `folder`. The recording is marked as a demo, so resuming it
    /// after a crash restarts the machine where it would be by then.
    pub fn demo(folder: PathBuf, speed: f64) -> SessionStart {
        let config = SimConfig::default();
        SessionStart {
            machine: Machine::Demo {
                seed: config.seed,
                speed,
                start_at_ms: 0,
            },
            destination: Destination::NewIn(folder),
            meta: SessionMeta {
                patient: Some(PatientMeta {
                    id: Some("DEMO-001".into()),
                    weight_kg: Some(config.weight_kg.into()),
                    height_cm: Some(config.height_cm.into()),
                    sex: Some(config.sex.as_str().into()),
                    ..PatientMeta::default()
                }),
                targets: Some(TargetsMeta {
                    tbv_processed: Some(config.target_tbv.into()),
                    ..TargetsMeta::default()
                }),
                demo: Some(DemoMarker {
                    seed: config.seed,
                    speed,
                }),
                ..SessionMeta::default()
            },
        }
    }

    /// Takes back the interrupted recording `listing` describes, at `now`: from the port it
    /// was recorded from (or `fallback_port`), or, for a demo, from the simulated machine
    /// restarted where it would be by now (it kept running while the monitor was down).
    pub fn resume(
        listing: &SessionListing,
        fallback_port: &str,
        baud: u32,
        now: Timestamp,
    ) -> Result<SessionStart, StartError> {
        let destination = Destination::Resume(listing.path.clone());
        if let Some(marker) = listing.demo {
            let down_s = listing
                .last_row_utc
                .map_or(0.0, |t| now.duration_since(t).as_secs_f64().max(0.0));
            let start_at_ms =
                listing.last_t_ms.unwrap_or(0) + (down_s * marker.speed * 1000.0) as u64;
            return Ok(SessionStart {
                machine: Machine::Demo {
                    seed: marker.seed,
                    speed: marker.speed,
                    start_at_ms,
                },
                destination,
                meta: SessionMeta::default(),
            });
        }
        let port = listing
            .port
            .clone()
            .unwrap_or_else(|| fallback_port.to_owned());
        if port.trim().is_empty() {
            return Err(StartError::NoPort);
        }
        Ok(SessionStart {
            machine: Machine::Port { port, baud },
            destination,
            meta: SessionMeta::default(),
        })
    }

    /// Opens the port and makes the recording ready; `now` is when the session starts.
    ///
    /// The port is opened first, so a wrong port leaves no empty recording behind.
    pub fn prepare(self, now: Timestamp) -> Result<Prepared, StartError> {
        self.prepare_with(now, DEMO_IN_MEMORY)
    }

    /// [`SessionStart::prepare`], with the demo's line chosen (tests run the in-memory line
    /// on unix too).
    fn prepare_with(self, now: Timestamp, demo_in_memory: bool) -> Result<Prepared, StartError> {
        let mut demo = None;
        let mut in_memory: Option<Box<dyn Read + Send>> = None;
        let mut reopen: Option<Box<dyn PortOpener>> = None;
        let (port_name, baud) = match self.machine {
            Machine::Port { port, baud } => (port, baud),
            Machine::Demo {
                seed,
                speed,
                start_at_ms,
            } => {
                let config = SimConfig {
                    seed,
                    ..SimConfig::default()
                };
                let baud = crate::acquisition::DEFAULT_BAUD;
                if demo_in_memory {
                    let read_timeout = WorkerConfig::new(IN_MEMORY_PORT, baud).read_timeout;
                    let (machine, reader) =
                        DemoMachine::spawn_in_memory(config, speed, 0.0, start_at_ms, read_timeout)
                            .map_err(StartError::Demo)?;
                    demo = Some(machine);
                    in_memory = Some(Box::new(reader));
                    reopen = Some(Box::new(NoReopen));
                    (IN_MEMORY_PORT.to_owned(), baud)
                } else {
                    let (machine, path) = spawn_pty_demo(config, speed, start_at_ms)?;
                    demo = Some(machine);
                    (path, baud)
                }
            }
        };
        let mut config = WorkerConfig::new(port_name.clone(), baud);
        let port: Box<dyn Read + Send> = match in_memory {
            Some(reader) => reader,
            None => open_serial(&port_name, baud, config.read_timeout)?,
        };
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
                let listing = library::inspect(&path)?;
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
                )
                .with_last_counters(&listing.last_counters);
                config.resume = Some(ResumeCheck {
                    last_t_ms: listing.last_t_ms.unwrap_or(0),
                    identity: meta.machine.clone(),
                });
                Recorder::resume(&path)?
            }
        };
        meta.started_utc.get_or_insert_with(|| format_time_utc(now));
        Ok(Prepared {
            port_name,
            baud,
            port,
            config,
            journalist,
            recorder,
            meta,
            resumed,
            reopen,
            demo,
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

    /// A resumed recording's rows so far, read back before the worker appends to it: a
    /// timeline holding them and an alarm engine that has seen them, with the machine's alarms
    /// unknown from the last row (the monitor did not hear the machine while it was down)
    /// until it re-announces itself. `None` for a new recording.
    pub fn read_back(&self) -> Result<Option<(Timeline, AlarmEngine)>, StartError> {
        if !self.resumed {
            return Ok(None);
        }
        let path = self.recording();
        let recording =
            crate::recording::load(path, |_, _| true).map_err(|source| StartError::Unreadable {
                path: path.to_owned(),
                source,
            })?;
        let mut timeline = Timeline::new();
        let mut alarms = AlarmEngine::default();
        for entry in &recording.entries {
            timeline.push(entry);
            alarms.observe(entry);
        }
        if let Some(last) = recording.entries.last() {
            alarms.machine_link_lost(last.time_utc);
        }
        Ok(Some((timeline, alarms)))
    }

    pub fn meta(&self) -> &SessionMeta {
        &self.meta
    }

    /// Keeps recording after the machine reports `END`, until stopped: notes can then still
    /// be recorded (the app's live session; the `record` command stops at `END`).
    #[must_use]
    pub fn keep_recording_after_end(mut self) -> Prepared {
        self.config.stop_on_end = false;
        self
    }

    /// Starts the worker on the open port; `wake` is called when it has news.
    pub fn start(self, wake: Box<dyn Fn() + Send>) -> Result<Started, StartError> {
        let recording = self.recorder.path().to_owned();
        let opener = self
            .reopen
            .unwrap_or_else(|| Box::new(SerialOpener::for_config(&self.config)));
        let acquisition = Acquisition::start(
            self.config,
            Some(self.port),
            opener,
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
            demo: self.demo,
        })
    }
}

/// Starts the demo's machine on a fresh pseudo-terminal; returns it and the port path.
#[cfg(unix)]
fn spawn_pty_demo(
    config: SimConfig,
    speed: f64,
    start_at_ms: u64,
) -> Result<(DemoMachine, String), StartError> {
    DemoMachine::spawn(config, speed, 0.0, start_at_ms).map_err(StartError::Demo)
}

/// There are no pseudo-terminals here: the demo runs on the in-memory line instead
/// ([`DEMO_IN_MEMORY`]), so this is never reached.
#[cfg(not(unix))]
fn spawn_pty_demo(
    _config: SimConfig,
    _speed: f64,
    _start_at_ms: u64,
) -> Result<(DemoMachine, String), StartError> {
    Err(StartError::Demo(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "this system has no pseudo-terminals",
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn start(port: &str, destination: Destination) -> SessionStart {
        SessionStart {
            machine: Machine::Port {
                port: port.to_owned(),
                baud: 115_200,
            },
            destination,
            meta: SessionMeta::default(),
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
            Err(StartError::NotInterrupted { status, .. }) => assert_eq!(status, "stopped"),
            Err(e) => panic!("expected NotInterrupted, got {e}"),
            Ok(_) => panic!("a stopped recording was resumed"),
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the file was touched"
        );
    }

    fn interrupted(
        port: Option<&str>,
        demo: Option<DemoMarker>,
        last_row: Timestamp,
    ) -> SessionListing {
        SessionListing {
            path: PathBuf::from("/sessions/session.csv"),
            started_utc: None,
            last_row_utc: Some(last_row),
            patient_id: None,
            duration_s: None,
            wb_processed_ml: None,
            status: SessionStatus::Interrupted,
            machine: None,
            port: port.map(str::to_owned),
            last_t_ms: Some(60_000),
            last_seq: Some(60),
            last_state: None,
            demo,
            last_counters: crate::model::Sample::default(),
            target_fraction: None,
            collection: crate::session::library::CollectionListing::default(),
        }
    }

    #[test]
    fn a_port_recording_resumes_on_its_own_port_or_else_the_last_one_used() {
        let now = Timestamp::now();
        let own = SessionStart::resume(
            &interrupted(Some("/dev/ttyUSB1"), None, now),
            "/dev/ttyS0",
            9600,
            now,
        )
        .unwrap();
        assert_eq!(
            own.machine,
            Machine::Port {
                port: "/dev/ttyUSB1".into(),
                baud: 9600
            }
        );
        assert_eq!(
            own.destination,
            Destination::Resume("/sessions/session.csv".into())
        );
        let fallback =
            SessionStart::resume(&interrupted(None, None, now), "/dev/ttyS0", 9600, now).unwrap();
        assert_eq!(
            fallback.machine,
            Machine::Port {
                port: "/dev/ttyS0".into(),
                baud: 9600
            }
        );
        assert!(matches!(
            SessionStart::resume(&interrupted(None, None, now), " ", 9600, now),
            Err(StartError::NoPort)
        ));
    }

    #[test]
    fn a_demo_resumes_where_its_machine_would_be_after_the_time_the_monitor_was_down() {
        let now = Timestamp::now();
        let last_row = now - jiff::SignedDuration::from_secs(10);
        let marker = DemoMarker {
            seed: 7,
            speed: 30.0,
        };
        let plan = SessionStart::resume(&interrupted(None, Some(marker), last_row), "", 9600, now)
            .unwrap();
        // 60 s of machine time recorded, then 10 s down at 30×: 300 s more of the procedure.
        assert_eq!(
            plan.machine,
            Machine::Demo {
                seed: 7,
                speed: 30.0,
                start_at_ms: 360_000
            }
        );
        // A clock behind the last row does not wind the machine back.
        let early = SessionStart::resume(
            &interrupted(None, Some(marker), now + jiff::SignedDuration::from_secs(5)),
            "",
            9600,
            now,
        )
        .unwrap();
        assert!(matches!(
            early.machine,
            Machine::Demo {
                start_at_ms: 60_000,
                ..
            }
        ));
    }

    #[test]
    fn the_demo_is_marked_and_carries_its_patient_and_target() {
        let plan = SessionStart::demo(PathBuf::from("/sessions"), 45.0);
        let config = SimConfig::default();
        assert_eq!(
            plan.meta.demo,
            Some(DemoMarker {
                seed: config.seed,
                speed: 45.0
            })
        );
        let patient = plan.meta.patient.unwrap();
        assert_eq!(patient.weight_kg, Some(config.weight_kg.into()));
        assert_eq!(
            plan.meta.targets.unwrap().tbv_processed,
            Some(config.target_tbv.into())
        );
        assert_eq!(plan.destination, Destination::NewIn("/sessions".into()));
    }

    /// The Windows demo's line, run here on unix: the simulated machine's sentences reach the
    /// worker and the recording, and stopping the session stops the machine.
    #[test]
    fn the_in_memory_demo_records_the_simulated_machine() {
        let dir = tempfile::tempdir().unwrap();
        let mut plan = SessionStart::demo(dir.path().to_owned(), 600.0);
        plan.destination = Destination::NewAt(dir.path().join("demo.csv"));
        let prepared = plan.prepare_with(Timestamp::now(), true).unwrap();
        let started = prepared.start(Box::new(|| {})).unwrap();
        assert_eq!(started.port, IN_MEMORY_PORT);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut samples = 0;
        while samples < 3 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "no samples from the in-memory demo");
            if let Ok(crate::acquisition::AcqEvent::Entry(entry)) =
                started.acquisition.events().recv_timeout(left)
                && matches!(entry.body, crate::model::EntryBody::Sample(_))
            {
                samples += 1;
            }
        }
        started.acquisition.stop().unwrap();
        drop(started.demo);
        let recording = crate::recording::load(&dir.path().join("demo.csv"), |_, _| true).unwrap();
        let rows = recording
            .entries
            .iter()
            .filter(|e| matches!(e.body, crate::model::EntryBody::Sample(_)))
            .count();
        assert!(rows >= 3, "{rows} sample rows recorded");
    }
}
