//! Entry point: parse the command line, run a headless command or open the app.

mod cli;

use std::process::ExitCode;

#[cfg(feature = "gui")]
use apheresis_monitor::ui::{self, Launch};
use clap::{Parser, Subcommand};

/// Bedside apheresis session monitor.
#[derive(Debug, Parser)]
#[command(name = "apheresis-monitor", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the monitor window (the default), optionally straight into a session.
    #[cfg(feature = "gui")]
    Gui(GuiArgs),
    /// Record a session from a serial port without a window.
    Record(cli::RecordArgs),
    /// Run the simulated apheresis machine on a pseudo-terminal or a serial port.
    Simulate(cli::SimulateArgs),
    /// List serial ports.
    Ports,
    /// Summarise a recorded session: text (default), --json, --csv or a --pdf report.
    Summary(cli::SummaryArgs),
    /// List the monitor's alarms a recorded session would raise, replayed through the alarm
    /// engine with its patient and limits (or --limits LIMITS.json).
    Alarms(cli::AlarmsArgs),
    /// The ward: every bedside publishing to an MQTT broker on one screen (or --once --json).
    #[cfg(feature = "ward")]
    Ward(cli::ward::WardArgs),
}

#[cfg(feature = "gui")]
#[derive(Debug, clap::Args)]
struct GuiArgs {
    /// Connect to this serial port.
    #[arg(long, conflicts_with_all = ["demo", "replay"])]
    port: Option<String>,
    /// Baud rate for --port.
    #[arg(long, default_value_t = apheresis_monitor::acquisition::DEFAULT_BAUD, requires = "port")]
    baud: u32,
    /// Run the built-in simulated machine and monitor it.
    #[arg(long, conflicts_with = "replay")]
    demo: bool,
    /// Open a recorded session.
    #[arg(long, value_name = "FILE.csv")]
    replay: Option<std::path::PathBuf>,
    /// Window size, e.g. 1920x1080 (default 1366x768).
    #[arg(long, value_parser = parse_size)]
    window_size: Option<(f32, f32)>,
    /// Demo or replay speed (1 to 600).
    #[arg(long, default_value_t = 30.0)]
    speed: f64,
}

#[cfg(feature = "gui")]
impl GuiArgs {
    fn launch(&self) -> Launch {
        let speed = self.speed.clamp(1.0, 600.0);
        if let Some(port) = &self.port {
            Launch::Port {
                port: port.clone(),
                baud: self.baud,
            }
        } else if self.demo {
            Launch::Demo { speed }
        } else if let Some(path) = &self.replay {
            Launch::Replay {
                path: path.clone(),
                speed,
            }
        } else {
            Launch::Start
        }
    }
}

#[cfg(feature = "gui")]
fn parse_size(text: &str) -> Result<(f32, f32), String> {
    let (w, h) = text
        .split_once('x')
        .ok_or_else(|| format!("`{text}` is not WIDTHxHEIGHT"))?;
    let parse = |v: &str| {
        v.parse::<f32>()
            .ok()
            .filter(|v| (320.0..=10_000.0).contains(v))
            .ok_or_else(|| format!("`{v}` is not a window dimension (320 to 10000)"))
    };
    Ok((parse(w)?, parse(h)?))
}

fn main() -> ExitCode {
    #[cfg(feature = "gui")]
    let _ = ui::PROCESS_START.set(std::time::Instant::now());
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Record(args)) => cli::record(&args),
        Some(Command::Simulate(args)) => cli::simulate(&args),
        Some(Command::Ports) => Ok(cli::ports()),
        Some(Command::Summary(args)) => cli::summary(&args),
        Some(Command::Alarms(args)) => cli::alarms(&args),
        #[cfg(feature = "ward")]
        Some(Command::Ward(args)) => cli::ward::ward(&args),
        #[cfg(feature = "gui")]
        Some(Command::Gui(args)) => window(args.launch(), args.window_size),
        #[cfg(feature = "gui")]
        None => window(Launch::Start, None),
        #[cfg(not(feature = "gui"))]
        None => {
            eprintln!(
                "error: this build has no window (built without the `gui` feature); see --help"
            );
            Ok(2)
        }
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the window; its exit code is 0 once it is closed.
#[cfg(feature = "gui")]
fn window(launch: Launch, window_size: Option<(f32, f32)>) -> anyhow::Result<i32> {
    // eframe's error is not `Send`, so anyhow takes the message (which already includes it).
    ui::run(launch, window_size).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(0)
}

/// Logs go to stderr, warnings and up unless `RUST_LOG` says otherwise. No patient data is
/// ever logged.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
