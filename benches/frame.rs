//! Frame time of the real monitor view, headless (egui pass + tessellation, no GPU), with a
//! recorded session of 1, 3 and 6 hours at 10 Hz loaded, the whole session visible and zoomed
//! to the last 10 minutes.
//!
//!     cargo bench --bench frame

use std::path::PathBuf;
use std::time::{Duration, Instant};

use apheresis_monitor::acquisition::Journalist;
use apheresis_monitor::protocol::{Decoder, encode};
use apheresis_monitor::recording::{Recording, SessionMeta};
use apheresis_monitor::simulator::{SimConfig, SimMachine};
use apheresis_monitor::ui::{Clock, Launch, MonitorApp, Settings};

/// A session of `hours` at `hz` as the monitor would have recorded it.
fn session(hours: f64, hz: f64) -> Recording {
    let mut machine = SimMachine::new(SimConfig {
        sample_interval_ms: (1000.0 / hz) as u64,
        target_tbv: 6.0,
        ..SimConfig::default()
    });
    let mut decoder = Decoder::new();
    let mut journalist = Journalist::new();
    let start = jiff::Timestamp::from_second(1_773_475_500).expect("valid time");
    let end_ms = (hours * 3_600_000.0) as u64;
    let mut entries = Vec::new();
    while let Some(sentence) = machine.next_sentence() {
        if sentence.t_ms > end_ms {
            break;
        }
        let now = start
            .checked_add(jiff::SignedDuration::from_millis(sentence.t_ms as i64))
            .expect("in range");
        decoder.feed(encode(&sentence).as_bytes(), |d| {
            journalist.on_decoded(d, now, &mut entries);
        });
    }
    Recording {
        path: PathBuf::from("bench.csv"),
        entries,
        problems: Vec::new(),
        skipped_rows: 0,
        meta: Some(SessionMeta::default()),
        meta_problem: None,
    }
}

fn raw_input() -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1366.0, 768.0),
        )),
        ..Default::default()
    }
}

/// Median and 95th percentile of `frames` frames, after a warm-up.
fn measure(app: &mut MonitorApp, ctx: &egui::Context, frames: usize) -> (Duration, Duration) {
    let frame = |app: &mut MonitorApp| {
        let mut input = raw_input();
        input.time = Some(ctx.input(|i| i.time) + 0.1);
        app.logic(ctx);
        let t0 = Instant::now();
        let output = ctx.run_ui(input, |ui| app.ui(ui));
        let t1 = Instant::now();
        let n_shapes = output.shapes.len();
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        if std::env::var_os("FRAME_SPLIT").is_some() {
            let vertices: usize = primitives
                .iter()
                .map(|p| match &p.primitive {
                    egui::epaint::Primitive::Mesh(m) => m.vertices.len(),
                    egui::epaint::Primitive::Callback(_) => 0,
                })
                .sum();
            eprintln!(
                "ui {:?} tess {:?} shapes {n_shapes} vertices {vertices}",
                t1 - t0,
                t1.elapsed()
            );
        }
        std::hint::black_box(primitives.len());
    };
    for _ in 0..40 {
        frame(app);
    }
    let mut times: Vec<Duration> = (0..frames)
        .map(|_| {
            let start = Instant::now();
            frame(app);
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[frames / 2], times[frames * 95 / 100])
}

fn main() {
    if let Ok(hours) = std::env::var("FRAME_ONLY_HOURS") {
        // Profiling aid: one case, many frames (run under valgrind --tool=callgrind).
        let hours: f64 = hours.parse().expect("hours");
        let ctx = egui::Context::default();
        let mut app = MonitorApp::new(Settings::default(), Launch::Start, Clock::default());
        app.open_loaded(session(hours, 10.0), 60.0);
        app.replay_mut().expect("replay open").player.seek(f64::MAX);
        let (median, _) = measure(&mut app, &ctx, 50);
        let rss = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS"))
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        println!("{hours} h: {:.3} ms; {rss}", median.as_secs_f64() * 1000.0);
        return;
    }
    let frames = 200;
    println!("frame time, headless egui pass + tessellation, 1366×768, {frames} frames each");
    println!(
        "{:<22} {:>10} {:>12} {:>12}",
        "session", "samples", "median (ms)", "p95 (ms)"
    );
    let mut baseline = None;
    // The first context in a process pays for font loading and cold caches: warm up once.
    {
        let ctx = egui::Context::default();
        let mut app = MonitorApp::new(Settings::default(), Launch::Start, Clock::default());
        app.open_loaded(session(0.5, 10.0), 60.0);
        measure(&mut app, &ctx, 50);
    }
    for hours in [1.0, 3.0, 6.0] {
        let recording = session(hours, 10.0);
        let ctx = egui::Context::default();
        let mut app = MonitorApp::new(Settings::default(), Launch::Start, Clock::default());
        app.open_loaded(recording, 60.0);
        app.replay_mut().expect("replay open").player.seek(f64::MAX);
        let samples = app
            .replay()
            .expect("replay open")
            .player
            .full()
            .sample_count();
        for (label, window) in [("whole session", None), ("last 10 min", Some(600.0))] {
            app.plot_view_mut().follow = true;
            app.plot_view_mut().window_secs = window;
            let (mean, p95) = measure(&mut app, &ctx, frames);
            println!(
                "{:<22} {samples:>10} {:>12.3} {:>12.3}",
                format!("{hours} h × 10 Hz, {label}"),
                mean.as_secs_f64() * 1000.0,
                p95.as_secs_f64() * 1000.0
            );
            if window.is_none() {
                let base = *baseline.get_or_insert(mean);
                if hours > 1.0 {
                    println!(
                        "{:<22} ratio to 1 h: {:.2}",
                        "",
                        mean.as_secs_f64() / base.as_secs_f64()
                    );
                }
            }
        }
    }
}
