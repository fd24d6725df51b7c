//! `ward`: the central station, reading every bedside from the broker. `ward --broker URL`
//! opens the window; `ward --broker URL --once --json` prints the current snapshot and exits
//! within 5 s, non-zero with a one-line error when the broker cannot be reached or refuses.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use apheresis_monitor::ward::board::{Board, BrokerState, WardInput};
use apheresis_monitor::ward::broker::{BrokerConfig, PASSWORD_ENV};
use apheresis_monitor::ward::subscribe::Subscriber;

/// `ward`: every bed on one screen, from the broker.
#[derive(Debug, clap::Args)]
pub struct WardArgs {
    /// The broker: `mqtt://USER@HOST:PORT`, or `mqtts://USER@HOST:PORT` with --ca. The
    /// password comes from --password-file or `APHERESIS_MQTT_PASSWORD`.
    #[arg(long, value_name = "URL")]
    pub broker: String,
    /// The CA certificate (PEM) that signed the broker's certificate, for mqtts://.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// A file whose first line is the password.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Print the current snapshot of every bed and exit (within 5 s).
    #[arg(long)]
    pub once: bool,
    /// With --once: print it as JSON (`{"beds": [...]}`).
    #[arg(long, requires = "once")]
    pub json: bool,
}

/// How long `--once` waits for the broker, in all.
const ONCE_WITHIN: Duration = Duration::from_secs(5);
/// `--once` prints when the retained messages have stopped coming for this long.
const QUIET: Duration = Duration::from_millis(300);
/// … and not before this long after the subscription.
const SETTLE: Duration = Duration::from_millis(500);

pub fn ward(args: &WardArgs) -> Result<i32> {
    let config = match BrokerConfig::new(
        &args.broker,
        args.password_file.as_deref(),
        std::env::var(PASSWORD_ENV).ok(),
        args.ca.as_deref(),
    ) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    if args.once {
        return Ok(once(&config, args.json));
    }
    window(&config)
}

/// Connects, takes in the retained messages, prints the snapshot.
fn once(config: &BrokerConfig, json: bool) -> i32 {
    let (tx, rx) = crossbeam_channel::unbounded();
    let subscriber = Subscriber::start(config, tx, Arc::new(|| {}));
    let started = Instant::now();
    let mut board = Board::default();
    let mut connected: Option<Instant> = None;
    let mut last_message: Option<Instant> = None;
    let code = loop {
        let now = Instant::now();
        if let Some(at) = connected {
            let quiet_since = last_message.map_or(at, |m| m.max(at));
            if now.duration_since(at) >= SETTLE && now.duration_since(quiet_since) >= QUIET {
                let snapshot = board.snapshot(now);
                if json {
                    match serde_json::to_string(&snapshot) {
                        Ok(text) => println!("{text}"),
                        Err(e) => {
                            eprintln!("error: the snapshot cannot be written: {e}");
                            break 1;
                        }
                    }
                } else {
                    print_text(&board, now);
                }
                break 0;
            }
        }
        if now.duration_since(started) >= ONCE_WITHIN {
            eprintln!(
                "error: no answer from the broker {} within {} s",
                config.url,
                ONCE_WITHIN.as_secs()
            );
            break 1;
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(WardInput::Connection(BrokerState::Connected)) => connected = Some(Instant::now()),
            Ok(WardInput::Connection(BrokerState::Failed(why))) => {
                eprintln!("error: {why}");
                break 1;
            }
            Ok(input @ WardInput::Message { .. }) => {
                last_message = Some(Instant::now());
                board.input(input);
            }
            Ok(WardInput::Connection(BrokerState::Connecting)) | Err(_) => {}
        }
    };
    // The process ends here: no need to wait for the connection to close.
    subscriber.detach();
    code
}

/// The snapshot as lines: bed, online, state, WB, alarms, age.
fn print_text(board: &Board, now: Instant) {
    let beds = board.beds(now);
    if beds.is_empty() {
        println!("no beds on the broker");
    }
    for bed in beds {
        let alarm = bed
            .worst_alarm
            .as_ref()
            .map_or_else(|| "no alarm".to_owned(), |a| a.text.clone());
        println!(
            "{}\t{}\t{}\t{}\t{}",
            bed.bed,
            if bed.online { "online" } else { "offline" },
            bed.state.as_deref().unwrap_or("—"),
            bed.wb_processed_ml
                .map_or_else(|| "—".to_owned(), |v| format!("{v:.0} mL")),
            alarm
        );
    }
}

#[cfg(feature = "gui")]
fn window(config: &BrokerConfig) -> Result<i32> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let (wake, on_start) = apheresis_monitor::ui::ward::waker();
    let subscriber = Subscriber::start(config, tx, wake);
    let opened = apheresis_monitor::ui::ward::run_ward_window(rx, None, on_start);
    subscriber.detach();
    opened.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(0)
}

#[cfg(not(feature = "gui"))]
fn window(_config: &BrokerConfig) -> Result<i32> {
    eprintln!("error: this build has no window (built without the `gui` feature): use --once");
    Ok(2)
}
