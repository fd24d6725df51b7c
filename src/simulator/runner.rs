//! Runs the simulated machine in real time (times a speed factor) onto a serial line: a
//! pseudo-terminal it creates, or a named port.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::acquisition::open_serial;
use crate::model::Sentence;

use super::faults::{FaultInjector, FaultKind};
use super::machine::SimMachine;

/// Where the simulated machine writes.
pub trait SimOutput {
    /// Writes one line's bytes; `Ok(false)` when nobody is listening (the bytes are lost, as
    /// on a serial line with nothing plugged in).
    fn send(&mut self, bytes: &[u8]) -> io::Result<bool>;
}

/// A pseudo-terminal pair created by the simulator: it writes to the master side; a monitor
/// opens the slave side by its path, like a serial port.
#[cfg(unix)]
pub struct PtyOutput {
    master: serialport::TTYPort,
    path: String,
}

#[cfg(unix)]
impl PtyOutput {
    pub fn create() -> io::Result<PtyOutput> {
        use serialport::SerialPort as _;
        let (mut master, slave) = serialport::TTYPort::pair().map_err(io::Error::other)?;
        let path = slave
            .name()
            .ok_or_else(|| io::Error::other("the pseudo-terminal has no name"))?;
        // Close our slave side: the monitor opens it. Until someone does, writes report that
        // nobody is listening.
        drop(slave);
        master
            .set_timeout(Duration::from_millis(500))
            .map_err(io::Error::other)?;
        Ok(PtyOutput { master, path })
    }

    /// The path a monitor opens, e.g. `/dev/pts/5`.
    pub fn path(&self) -> &str {
        &self.path
    }
}

#[cfg(unix)]
impl SimOutput for PtyOutput {
    fn send(&mut self, bytes: &[u8]) -> io::Result<bool> {
        match self.master.write_all(bytes) {
            Ok(()) => Ok(true),
            // No reader (hung up) or a reader that does not read: the bytes are lost.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(false)
            }
            Err(e) if e.raw_os_error() == Some(5) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// A named serial port; reopened every half second while it is gone.
pub struct PortOutput {
    path: String,
    baud: u32,
    port: Option<Box<dyn serialport::SerialPort>>,
    last_attempt: Option<Instant>,
}

impl PortOutput {
    /// Opens the port once, so that a wrong name or permission is reported at start.
    pub fn open(path: &str, baud: u32) -> Result<PortOutput, crate::acquisition::PortError> {
        let port = open_serial(path, baud, Duration::from_millis(500))?;
        Ok(PortOutput {
            path: path.to_owned(),
            baud,
            port: Some(port),
            last_attempt: None,
        })
    }
}

impl SimOutput for PortOutput {
    fn send(&mut self, bytes: &[u8]) -> io::Result<bool> {
        if self.port.is_none() {
            if self
                .last_attempt
                .is_some_and(|t| t.elapsed() < Duration::from_millis(500))
            {
                return Ok(false);
            }
            self.last_attempt = Some(Instant::now());
            self.port = open_serial(&self.path, self.baud, Duration::from_millis(500)).ok();
        }
        let Some(port) = self.port.as_mut() else {
            return Ok(false);
        };
        if port.write_all(bytes).is_ok() {
            return Ok(true);
        }
        self.port = None;
        self.last_attempt = Some(Instant::now());
        Ok(false)
    }
}

/// What happened to one sentence, for tests and logs.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub sentence: Sentence,
    pub fault: Option<FaultKind>,
    /// The sentence reached a listener whole and undamaged.
    pub delivered_intact: bool,
}

/// Counters for a finished run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    pub sentences: u64,
    pub delivered_intact: u64,
    pub faulted: u64,
    /// Sentences written while nobody was listening.
    pub unheard: u64,
    pub last_t_ms: u64,
    pub stopped_early: bool,
}

/// Pacing and stopping for [`run`].
pub struct RunOptions {
    /// Machine time per wall time; `f64::INFINITY` runs as fast as the line takes it.
    pub speed: f64,
    /// Wait for the first listener before the procedure starts.
    pub wait_for_listener: bool,
    pub stop: Arc<AtomicBool>,
}

/// Runs `machine` to `END` (or until `stop`), writing each sentence at its machine time
/// divided by the speed, through `faults`, to `output`. `on_sent` sees every sentence.
pub fn run(
    machine: &mut SimMachine,
    faults: &mut FaultInjector,
    output: &mut dyn SimOutput,
    options: &RunOptions,
    mut on_sent: impl FnMut(&Sent),
) -> io::Result<RunReport> {
    let mut report = RunReport::default();
    let mut clock: Option<(Instant, u64)> = None;
    let mut listening = true;
    while let Some(sentence) = machine.next_sentence() {
        if options.stop.load(Ordering::Relaxed) {
            report.stopped_early = true;
            break;
        }
        let wire = faults.wire(&sentence);
        if let Some((start, first_t_ms)) = clock {
            pace(start, first_t_ms, sentence.t_ms, options);
        } else if options.wait_for_listener {
            // Hold the procedure until a monitor listens: probe with the first sentence.
            loop {
                if options.stop.load(Ordering::Relaxed) {
                    report.stopped_early = true;
                    return Ok(report);
                }
                if output.send(&wire.bytes)? {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            clock = Some((Instant::now(), sentence.t_ms));
            record(&mut report, &mut on_sent, sentence, &wire, true);
            continue;
        }
        if clock.is_none() {
            clock = Some((Instant::now(), sentence.t_ms));
        }
        let heard = wire.bytes.is_empty() || output.send(&wire.bytes)?;
        if !wire.bytes.is_empty() {
            // The line came back: introduce ourselves again.
            if heard && !listening {
                machine.announce();
            }
            listening = heard;
        }
        record(&mut report, &mut on_sent, sentence, &wire, heard);
    }
    Ok(report)
}

fn record(
    report: &mut RunReport,
    on_sent: &mut impl FnMut(&Sent),
    sentence: Sentence,
    wire: &super::faults::Wire,
    heard: bool,
) {
    report.sentences += 1;
    report.last_t_ms = sentence.t_ms;
    if wire.fault.is_some() {
        report.faulted += 1;
    }
    if !heard {
        report.unheard += 1;
    }
    let delivered_intact = heard && wire.intact;
    if delivered_intact {
        report.delivered_intact += 1;
    }
    on_sent(&Sent {
        sentence,
        fault: wire.fault,
        delivered_intact,
    });
}

fn pace(start: Instant, first_t_ms: u64, t_ms: u64, options: &RunOptions) {
    if !options.speed.is_finite() || options.speed <= 0.0 {
        return;
    }
    let machine_secs = (t_ms.saturating_sub(first_t_ms)) as f64 / 1000.0;
    let due = start + Duration::from_secs_f64(machine_secs / options.speed);
    loop {
        let now = Instant::now();
        if now >= due || options.stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep((due - now).min(Duration::from_millis(100)));
    }
}

/// A simulated machine running on its own thread for the demo, on a fresh pseudo-terminal
/// (unix) or an in-memory line (where there are no pseudo-terminals). Dropping it stops the
/// machine.
pub struct DemoMachine {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl DemoMachine {
    /// Creates the pseudo-terminal and starts the machine on it; returns the machine and the
    /// port path the monitor opens. The machine waits for the monitor to open the port before
    /// the procedure starts. `start_at_ms` skips the procedure forward (resuming a demo after
    /// a restart).
    #[cfg(unix)]
    pub fn spawn(
        config: super::SimConfig,
        speed: f64,
        fault_rate: f64,
        start_at_ms: u64,
    ) -> io::Result<(DemoMachine, String)> {
        let output = PtyOutput::create()?;
        let path = output.path().to_owned();
        let machine = DemoMachine::spawn_on(output, config, speed, fault_rate, start_at_ms)?;
        Ok((machine, path))
    }

    /// Starts the machine on an in-memory line (see [`super::pipe`]); returns the machine and
    /// the end the monitor reads, whose reads wait at most `read_timeout`.
    pub fn spawn_in_memory(
        config: super::SimConfig,
        speed: f64,
        fault_rate: f64,
        start_at_ms: u64,
        read_timeout: Duration,
    ) -> io::Result<(DemoMachine, super::pipe::PipeReader)> {
        let (writer, reader) = super::pipe::in_memory_line(read_timeout);
        let machine = DemoMachine::spawn_on(writer, config, speed, fault_rate, start_at_ms)?;
        Ok((machine, reader))
    }

    fn spawn_on(
        mut output: impl SimOutput + Send + 'static,
        config: super::SimConfig,
        speed: f64,
        fault_rate: f64,
        start_at_ms: u64,
    ) -> io::Result<DemoMachine> {
        let stop = Arc::new(AtomicBool::new(false));
        let options = RunOptions {
            speed,
            wait_for_listener: true,
            stop: stop.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("simulated-machine".into())
            .spawn(move || {
                let mut faults = FaultInjector::new(fault_rate, config.seed);
                let mut machine = SimMachine::new(config);
                machine.skip_until(start_at_ms);
                if let Err(e) = run(&mut machine, &mut faults, &mut output, &options, |_| {}) {
                    tracing::warn!(error = %e, "simulated machine stopped");
                }
            })?;
        Ok(DemoMachine {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for DemoMachine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
