//! Entry point: parse the command line, run a headless command or open the app.

use std::process::ExitCode;

use apheresis_monitor::cli;
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
    /// Record a session from a serial port without a window.
    Record(cli::RecordArgs),
    /// Run the simulated apheresis machine on a pseudo-terminal or a serial port.
    Simulate(cli::SimulateArgs),
    /// List serial ports.
    Ports,
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Record(args)) => cli::record(&args),
        Some(Command::Simulate(args)) => cli::simulate(&args),
        Some(Command::Ports) => cli::ports(),
        None => {
            eprintln!("error: the app is not built yet; use a subcommand");
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
