//! The headless commands of the binary: `record`, `simulate`, `ports`, `summary`, `alarms`. Only
//! `main.rs` uses them; the library crate knows nothing of clap or anyhow.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};

use apheresis_monitor::acquisition::devices::device_now;
use apheresis_monitor::acquisition::{
    AcqEvent, DEFAULT_BAUD, DEFAULT_BY_ID_DIR, LinkState, StopReason, list_ports,
};
use apheresis_monitor::alarms::{AlarmSettings, SessionLimits, audit};
use apheresis_monitor::analysis::patient::Sex;
use apheresis_monitor::analysis::{Patient, Target};
use apheresis_monitor::export::{self, ExportError, Format, Report, Written};
use apheresis_monitor::model::{MachineState, Payload};
use apheresis_monitor::recording::{self, LoadError};
use apheresis_monitor::session::{Destination, Machine, SessionStart};
use apheresis_monitor::simulator::{FaultInjector, RunOptions, SimConfig, SimMachine, SimOutput};

mod patient;
#[cfg(feature = "ward")]
mod publish;
#[cfg(feature = "ward")]
pub mod ward;

/// `record`: headless recording from a serial port.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Serial port to read: a /dev/serial/by-id/… link (found again if the adapter comes back
    /// as another ttyUSB), usb:VID:PID:SERIAL, /dev/ttyUSB0, COM3 or a pseudo-terminal path
    /// (`ports` lists them).
    #[arg(long)]
    pub port: String,
    /// Baud rate (9600 to 921600).
    #[arg(long, default_value_t = DEFAULT_BAUD)]
    pub baud: u32,
    /// Recording to create (never overwritten); the metadata goes beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Stop after this many seconds.
    #[arg(long = "for", value_name = "SECONDS")]
    pub for_secs: Option<f64>,
    /// Append to the interrupted recording at --out (after a crash) instead of creating it.
    /// If the machine is no longer running the same procedure, the old recording is closed
    /// and a new one is started beside it.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub patient: patient::PatientArgs,
    #[cfg(feature = "ward")]
    #[command(flatten)]
    pub publish: publish::PublishArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SexArg {
    Male,
    Female,
}

impl From<SexArg> for Sex {
    fn from(value: SexArg) -> Sex {
        match value {
            SexArg::Male => Sex::Male,
            SexArg::Female => Sex::Female,
        }
    }
}

/// The simulated patient and procedure of `simulate`. Only `simulate` reads these options: the
/// GUI demo runs `SimConfig::default()` at its own --speed. The defaults here are that same
/// configuration, so `simulate` with no options sends the demo's sentences (at real time).
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Machine time per wall time (1 = real time, up to 100000); `0` runs flat out.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Seed: the same seed gives the same session.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of sentences damaged on the wire (0 to 1; 0.04 is 4 %).
    #[arg(long, default_value_t = 0.0)]
    pub faults: f64,
    /// Simulated patient's weight, kg.
    #[arg(long, default_value_t = 80.0)]
    pub weight: f64,
    /// Simulated patient's height, cm.
    #[arg(long, default_value_t = 178.0)]
    pub height: f64,
    #[arg(long, value_enum, default_value_t = SexArg::Male)]
    pub sex: SexArg,
    /// Total blood volumes to process.
    #[arg(long, default_value_t = 2.5)]
    pub target_tbv: f64,
    /// Citrate rate the simulated operator aims for, mg/kg/min.
    #[arg(long, default_value_t = 1.1)]
    pub citrate: f64,
    /// Samples per second.
    #[arg(long, default_value_t = 1.0)]
    pub hz: f64,
    /// Comfort pauses during the run.
    #[arg(long, default_value_t = 1)]
    pub pauses: usize,
    /// Access-pressure alarms (each pauses the run).
    #[arg(long, default_value_t = 1)]
    pub access_alarms: usize,
}

impl SimArgs {
    pub fn config(&self) -> Result<SimConfig> {
        if !(self.speed == 0.0 || (0.01..=100_000.0).contains(&self.speed)) {
            bail!(
                "--speed {} is outside 0.01 to 100000 (or 0 for flat out)",
                self.speed
            );
        }
        if !(0.0..=1.0).contains(&self.faults) {
            bail!("--faults {} is outside 0 to 1", self.faults);
        }
        apheresis_monitor::analysis::patient::validate_weight_kg(self.weight)
            .map_err(anyhow::Error::msg)?;
        apheresis_monitor::analysis::patient::validate_height_cm(self.height)
            .map_err(anyhow::Error::msg)?;
        if !(0.1..=50.0).contains(&self.hz) {
            bail!("--hz {} is outside 0.1 to 50", self.hz);
        }
        if !(0.05..=6.0).contains(&self.target_tbv) {
            bail!("--target-tbv {} is outside 0.05 to 6", self.target_tbv);
        }
        Ok(SimConfig {
            seed: self.seed,
            weight_kg: self.weight,
            height_cm: self.height,
            sex: self.sex.into(),
            target_tbv: self.target_tbv,
            citrate_target_mg_kg_min: self.citrate,
            sample_interval_ms: (1000.0 / self.hz).round() as u64,
            comfort_pauses: self.pauses,
            access_alarms: self.access_alarms,
            ..SimConfig::default()
        })
    }

    pub fn speed(&self) -> f64 {
        if self.speed == 0.0 {
            f64::INFINITY
        } else {
            self.speed
        }
    }
}

/// `simulate`: the simulated machine on a pseudo-terminal or a named port.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Create a pseudo-terminal and print its path (the default; unix only).
    #[arg(long, conflicts_with = "port")]
    pub pty: bool,
    /// Write to this serial port instead (on Windows always: one end of a virtual serial
    /// pair such as com0com's, the monitor on the other end).
    #[arg(long)]
    pub port: Option<String>,
    #[arg(long, default_value_t = DEFAULT_BAUD)]
    pub baud: u32,
    #[command(flatten)]
    pub sim: SimArgs,
}

fn stop_flag_on_signals() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C/SIGTERM handler")?;
    Ok(stop)
}

/// Runs `record` and returns the process exit code.
pub fn record(args: &RecordArgs) -> Result<i32> {
    let plan = SessionStart {
        machine: Machine::Port {
            port: args.port.clone(),
            baud: args.baud,
        },
        destination: if args.resume {
            Destination::Resume(args.out.clone())
        } else {
            Destination::NewAt(args.out.clone())
        },
        meta: args.patient.meta(),
    };
    let prepared = match plan.prepare(jiff::Timestamp::now()) {
        Ok(prepared) => prepared,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    #[cfg(feature = "ward")]
    let seed = match publish::Seed::read(&prepared, args.publish.publish.is_some()) {
        Ok(seed) => seed,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    let stop = stop_flag_on_signals()?;
    let acquisition = match prepared.start(Box::new(|| {})) {
        Ok(started) => started.acquisition,
        Err(e) => bail!("{e}"),
    };
    let now_on = device_now(&args.port, Path::new(DEFAULT_BY_ID_DIR))
        .filter(|device| *device != args.port)
        .map(|device| format!(" (now {device})"))
        .unwrap_or_default();
    eprintln!(
        "recording {} from {}{now_on} at {} baud; Ctrl-C stops",
        args.out.display(),
        args.port,
        args.baud
    );
    #[cfg(feature = "ward")]
    let mut ward = publish::RecordPublisher::start(&args.publish, &args.out, seed);
    let deadline = args
        .for_secs
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut recorder_failed = false;
    let report = loop {
        let stop_now = stop.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d);
        if stop_now {
            break acquisition.stop();
        }
        let event = acquisition
            .events()
            .recv_timeout(Duration::from_millis(100));
        #[cfg(feature = "ward")]
        if let Some(ward) = &mut ward {
            if let Ok(event) = &event {
                ward.observe(event);
            }
            ward.tick();
        }
        match event {
            Ok(AcqEvent::Finished(report)) => {
                drop(acquisition);
                break Some(report);
            }
            Ok(AcqEvent::Link(status)) => match status {
                LinkState::Up => eprintln!("link: data flowing again"),
                LinkState::Silent => eprintln!("link: no data from the machine"),
                LinkState::Down { reason } => eprintln!("link lost: {reason}; reconnecting"),
                LinkState::Closed => {}
            },
            Ok(AcqEvent::RecorderError { message, .. }) => {
                recorder_failed = true;
                eprintln!("RECORDING ERROR: {message}");
            }
            Ok(AcqEvent::RecorderRecovered) => eprintln!("recording: writing again"),
            Ok(AcqEvent::NewRecording { path }) => eprintln!(
                "the machine started a new procedure: recording continues in {}",
                path.display()
            ),
            Ok(_) | Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break acquisition.stop(),
        }
    };
    #[cfg(feature = "ward")]
    if let Some(ward) = ward {
        ward.finish();
    }
    let Some(report) = report else {
        bail!("the acquisition thread failed; see the log above");
    };
    let why = match report.reason {
        StopReason::ProcedureEnded => "the machine reported END",
        StopReason::Requested => "stopped",
    };
    println!(
        "recorded {} rows to {} ({why})",
        report.rows_written,
        report.recording.display()
    );
    println!("{}", report.stats.summary_line());
    if report.unwritten_rows > 0 {
        eprintln!(
            "error: {} rows could not be written: {}",
            report.unwritten_rows,
            report.last_error.as_deref().unwrap_or("unknown error")
        );
        return Ok(1);
    }
    if recorder_failed {
        eprintln!(
            "warning: writing failed for a while; every row was written once it worked again"
        );
    }
    Ok(0)
}

/// Runs `simulate` and returns the process exit code.
pub fn simulate(args: &SimulateArgs) -> Result<i32> {
    let config = args.sim.config()?;
    let stop = stop_flag_on_signals()?;
    let mut output: Box<dyn SimOutput> = match &args.port {
        Some(port) => match apheresis_monitor::simulator::PortOutput::open(port, args.baud) {
            Ok(out) => {
                eprintln!("simulated machine writing to {port}");
                Box::new(out)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(2);
            }
        },
        None => pty_output()?,
    };
    let target_wb = config.target_wb_ml();
    eprintln!(
        "patient {} kg {} cm {}: TBV {:.0} mL, target {:.1} TBV = {:.0} mL; speed {}×, seed {}, faults {:.1} %",
        config.weight_kg,
        config.height_cm,
        config.sex.as_str(),
        config.tbv_ml(),
        config.target_tbv,
        target_wb,
        args.sim.speed,
        config.seed,
        args.sim.faults * 100.0
    );
    let mut machine = SimMachine::new(config.clone());
    let mut faults = FaultInjector::new(args.sim.faults, config.seed);
    let options = RunOptions {
        speed: args.sim.speed(),
        wait_for_listener: args.port.is_none(),
        stop,
    };
    if options.wait_for_listener {
        eprintln!("waiting for a monitor to open the port…");
    }
    let report = apheresis_monitor::simulator::run(
        &mut machine,
        &mut faults,
        output.as_mut(),
        &options,
        |sent| {
            if let Payload::State(state) = sent.sentence.payload {
                let secs = sent.sentence.t_ms / 1000;
                eprintln!(
                    "{:>3}:{:02}:{:02}  {state}{}",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60,
                    if state == MachineState::End {
                        " — procedure complete"
                    } else {
                        ""
                    }
                );
            }
        },
    )
    .context("writing to the serial line failed")?;
    // The last sentences may still sit in the line's buffer: like a machine that stays
    // powered after END, keep the line open a moment so a monitor can read them all.
    if !report.stopped_early {
        std::thread::sleep(Duration::from_secs(2));
    }
    let faults_text: Vec<String> = faults
        .counts()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{} {n}", kind.name()))
        .collect();
    eprintln!(
        "sent {} sentences ({} intact, {} damaged{}{}), {} while nobody listened{}",
        report.sentences,
        report.delivered_intact,
        report.faulted,
        if faults_text.is_empty() { "" } else { ": " },
        faults_text.join(", "),
        report.unheard,
        if report.stopped_early {
            "; stopped before END"
        } else {
            ""
        }
    );
    Ok(0)
}

#[cfg(unix)]
fn pty_output() -> Result<Box<dyn SimOutput>> {
    let pty = apheresis_monitor::simulator::PtyOutput::create()
        .context("cannot create a pseudo-terminal")?;
    println!("{}", pty.path());
    std::io::stdout().flush()?;
    eprintln!("simulated machine on {}", pty.path());
    Ok(Box::new(pty))
}

#[cfg(not(unix))]
fn pty_output() -> Result<Box<dyn SimOutput>> {
    bail!(
        "Windows has no pseudo-terminals: pass --port COMx, one end of a virtual serial pair \
         (com0com), and connect the monitor to the other end"
    )
}

/// Runs `ports` and returns the process exit code.
pub fn ports() -> i32 {
    let ports = match list_ports() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot list serial ports: {e}");
            return 1;
        }
    };
    if ports.is_empty() {
        println!(
            "no serial ports found (pseudo-terminals are not listed: pass their path to --port)"
        );
    }
    // Each port as what it is, then the name to record it by: its by-id link (or USB serial
    // number), which still finds it if it comes back under another ttyUSB number.
    for port in ports {
        println!("{}", port.label());
        println!("    --port {}", port.identity());
    }
    0
}

/// `summary`: the summary of a recorded session, as text, JSON, CSV or a PDF report.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// The session recording; its `.session.json` metadata is read from beside it.
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,
    /// Print the summary as one JSON object.
    #[arg(long, group = "format")]
    pub json: bool,
    /// Print the summary as CSV: a header and one row.
    #[arg(long, group = "format")]
    pub csv: bool,
    /// Write the A4 PDF report to this file (replaced if it exists).
    #[arg(long, value_name = "OUT.pdf", group = "format")]
    pub pdf: Option<PathBuf>,
    /// Also append the summary's row to this register (created with its header if missing).
    #[arg(long, value_name = "REGISTER.csv")]
    pub append: Option<PathBuf>,
    /// Leave the patient's identifiers (hospital number, NHS number, date of birth) out of the
    /// CSV and register rows.
    #[arg(long)]
    pub no_identifiers: bool,
}

/// Runs `summary` and returns the process exit code: 0 when the summary was made (even if
/// some figures could not be computed: it says which and why), 2 when the file cannot be read
/// or is not a recording, 1 when an output cannot be written.
pub fn summary(args: &SummaryArgs) -> Result<i32> {
    let recording = match recording::load(&args.file, |_, _| true) {
        Ok(r) => r,
        Err(e @ (LoadError::NotARecording { .. } | LoadError::Io { .. })) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(problems) = recording.problems_summary() {
        eprintln!("warning: {problems}");
    }
    if let Some(problem) = &recording.meta_problem {
        eprintln!("warning: {problem}");
    }
    // Only the PDF needs the chart's timeline and the file's hash.
    let mut report = if args.pdf.is_some() {
        Report::from_recording(&recording)
    } else {
        Report::summary_only(&recording)
    };
    report.identifiers = !args.no_identifiers;
    let s = &report.summary;
    let mut stdout = std::io::stdout().lock();
    let written = if args.json {
        stdout.write_all(export::to_json(s).as_bytes())
    } else if args.csv {
        stdout.write_all(&export::csv_header_and_row_with(s, report.identifiers))
    } else if let Some(out) = &args.pdf {
        match export::write(Format::Pdf, &report, out) {
            Ok(Written::Pages(pages)) => writeln!(
                stdout,
                "wrote {} ({pages} page{})",
                out.display(),
                if pages == 1 { "" } else { "s" }
            ),
            Ok(written) => writeln!(stdout, "wrote {} ({written})", out.display()),
            Err(e) => return Ok(export_failed(&e)),
        }
    } else {
        stdout.write_all(export::render_text(s).as_bytes())
    };
    written
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")?;
    if let Some(register) = &args.append {
        if let Err(e) = export::write(Format::Register, &report, register) {
            return Ok(export_failed(&e));
        }
        eprintln!("appended the summary to {}", register.display());
    }
    Ok(0)
}

fn export_failed(e: &ExportError) -> i32 {
    eprintln!("error: {e}");
    1
}

/// `alarms`: every alarm of the monitor's own a recorded session would raise, found by
/// replaying it through the alarm engine the window runs, with the session's patient and
/// limits or the limits of a file.
#[derive(Debug, Args)]
pub struct AlarmsArgs {
    /// The session recording; its `.session.json` metadata (patient, target, limits) is read
    /// from beside it.
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,
    /// Limits to try instead of the session's: a JSON object shaped like the metadata's
    /// `limits` (what it leaves out stays as the session had it), or a session's metadata file,
    /// whose limits are taken.
    #[arg(long, value_name = "LIMITS.json")]
    pub limits: Option<PathBuf>,
    /// Print the alarms as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Largest limits file read.
const MAX_LIMITS_BYTES: u64 = 1 << 20;

/// Runs `alarms` and returns the process exit code: 0 when the replay ran, 2 when the
/// recording or the limits cannot be used, 1 when the output cannot be written.
pub fn alarms(args: &AlarmsArgs) -> Result<i32> {
    let recording = match recording::load(&args.file, |_, _| true) {
        Ok(r) => r,
        Err(e @ (LoadError::NotARecording { .. } | LoadError::Io { .. })) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(problems) = recording.problems_summary() {
        if recording.entries.is_empty() {
            eprintln!("error: no row could be read: {problems}");
            return Ok(2);
        }
        eprintln!("warning: {problems}");
    }
    if let Some(problem) = &recording.meta_problem {
        eprintln!("warning: {problem}");
    }
    let meta = recording.meta.as_ref();
    let session = SessionLimits::from_meta(
        &AlarmSettings::default(),
        meta.and_then(|m| m.limits.as_ref()),
    );
    for complaint in session.complaints() {
        eprintln!("warning: the session's {complaint}");
    }
    let (settings, whose) = match &args.limits {
        None if meta.is_some_and(|m| m.limits.is_some()) => (session.settings, "its own limits"),
        None => (session.settings, "the default limits"),
        Some(path) => match limits_from_file(path, &session.settings) {
            Ok(settings) => (settings, "the limits given"),
            Err(why) => {
                eprintln!("error: {why}");
                return Ok(2);
            }
        },
    };
    let patient = Patient::from_meta(meta.and_then(|m| m.patient.as_ref()));
    let target = Target::from_meta(meta.and_then(|m| m.targets.as_ref())).0;
    let rule = audit::citrate_rule(&settings, &patient);
    if settings.citrate_high.enabled && patient.tbv_ml().is_none() {
        eprintln!("warning: {rule}");
    }
    let found = audit::audit(&recording.entries, &patient, target, &settings);
    let mut stdout = std::io::stdout().lock();
    let written = if args.json {
        stdout.write_all(found.to_json().as_bytes())
    } else {
        writeln!(
            stdout,
            "{} replayed through the alarm engine with {whose}; {rule}",
            args.file.display()
        )
        .and_then(|()| stdout.write_all(found.to_text().as_bytes()))
    };
    written
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")?;
    Ok(0)
}

/// The limits in `path` over `session`'s; the error says why they cannot be used (any value
/// or key that cannot be used: a file meant to change limits must not be half read).
fn limits_from_file(path: &Path, session: &AlarmSettings) -> Result<AlarmSettings, String> {
    let name = path.display();
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {name}: {e}"))?
        .len();
    if size > MAX_LIMITS_BYTES {
        return Err(format!(
            "{name} is not a limits file: {size} bytes is too large"
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{name} is not JSON: {e}"))?;
    // A session's metadata: its limits.
    let value = match value.get("format") {
        Some(_) => match recording::meta::parse_meta(&text) {
            Ok(meta) => match meta.limits {
                Some(limits) => limits.0,
                None => return Err(format!("{name} is session metadata without limits")),
            },
            Err(e) => return Err(format!("{name} is not session metadata: {e}")),
        },
        None => value,
    };
    let tried = SessionLimits::from_json(session, &value);
    let complaints = tried.complaints();
    if complaints.is_empty() {
        Ok(tried.settings)
    } else {
        Err(format!("{name}: {}", complaints.join("; ")))
    }
}
