//! Latency from a sentence written into a pseudo-terminal to its sample being in the UI's
//! state (the live session's timeline), through the real worker, recorder and channel.
//!
//! Two figures: the pipeline alone (the UI thread drains as soon as the worker wakes it), and
//! with the app's repaint batching (the worker asks for a repaint within 10 ms, so the UI
//! drains 10 ms after the first wake at worst, which is what is modelled).
//!
//!     cargo bench --bench latency

// Pseudo-terminals are unix-only: elsewhere the benchmark only says so.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

use std::io::Write as _;
use std::time::{Duration, Instant};

use apheresis_monitor::model::{Payload, Quantity, Sample, Sentence};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::session::{LiveSession, SessionStart};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[cfg(not(unix))]
fn main() {
    eprintln!("the latency benchmark needs pseudo-terminals (unix)");
}

#[cfg(unix)]
fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut master, slave) = serialport::TTYPort::pair().expect("pty");
    let port = serialport::SerialPort::name(&slave).expect("pty name");
    drop(slave);
    let (wake_tx, wake_rx) = crossbeam_channel::bounded::<Instant>(1);
    let mut live = LiveSession::start(
        SessionStart::new_on_port(port, 115_200, dir.path().to_owned()),
        Box::new(move || {
            let _ = wake_tx.try_send(Instant::now());
        }),
    )
    .expect("start");
    std::thread::sleep(Duration::from_millis(300));
    let mut seq = 0u32;
    let n = 1000;
    println!("sentence written → sample in the UI state, {n} sentences each, 1 every 5 ms");
    for batched in [false, true] {
        let mut latencies = Vec::with_capacity(n);
        for _ in 0..n {
            let sentence = Sentence {
                seq,
                t_ms: u64::from(seq) * 100,
                payload: Payload::Sample(
                    Sample::default()
                        .with(Quantity::InletMlMin, 55.0)
                        .with(Quantity::InletMl, f64::from(seq)),
                ),
                unknown_keys: 0,
            };
            seq += 1;
            let expected_samples = seq as usize;
            let wire = encode(&sentence);
            let written = Instant::now();
            master.write_all(wire.as_bytes()).expect("write");
            while live.timeline.sample_count() < expected_samples {
                let Ok(woken) = wake_rx.recv_timeout(Duration::from_secs(2)) else {
                    live.drain(Duration::from_millis(8));
                    continue;
                };
                if batched {
                    let due = woken + Duration::from_millis(10);
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                }
                live.drain(Duration::from_millis(8));
            }
            latencies.push(written.elapsed());
            std::thread::sleep(Duration::from_millis(5));
        }
        latencies.sort();
        println!(
            "  {:<34} p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms",
            if batched {
                "with the app's 10 ms repaint batching"
            } else {
                "pipeline (worker → channel → drain)"
            },
            percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies[latencies.len() - 1].as_secs_f64() * 1000.0
        );
    }
    live.stop_and_wait();
}
