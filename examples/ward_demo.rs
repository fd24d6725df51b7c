//! The ward window fed with six synthetic beds, without a broker: for looking at the screen
//! (and taking screenshots of it).
//!
//!     cargo run --example ward_demo          (six beds)
//!     WARD_DEMO_BEDS=8 cargo run --example ward_demo
//!
//! The beds: one with a HIGH alarm, one with a MEDIUM alarm (acknowledged), one paused, one
//! whose data went stale, one offline since a few minutes ago, one running quietly. Each
//! publishes its status once a second and its trend once, as a bedside would.

#![allow(clippy::expect_used)] // a demo: a failure should stop it

use std::time::{Duration, Instant};

use apheresis_monitor::ward::board::{BrokerState, WardInput};
use apheresis_monitor::ward::message::{BedAlarm, BedStatus, SCHEMA, Trend, TrendPoint};
use apheresis_monitor::ward::topic::Bed;
use crossbeam_channel::Sender;
use jiff::{SignedDuration, Timestamp};

struct Demo {
    name: &'static str,
    state: &'static str,
    progress: f64,
    alarm: Option<(&'static str, &'static str, bool)>,
    /// How old the bedside says its data is (seconds).
    data_age_s: f64,
    online: bool,
}

const BEDS: [Demo; 8] = [
    Demo {
        name: "Bay-1",
        state: "RUN",
        progress: 0.62,
        alarm: None,
        data_age_s: 0.4,
        online: true,
    },
    Demo {
        name: "Bay-2",
        state: "RUN",
        progress: 0.35,
        alarm: Some(("HIGH", "Air detected in return line", false)),
        data_age_s: 0.3,
        online: true,
    },
    Demo {
        name: "Bay-3",
        state: "PAUSE",
        progress: 0.81,
        alarm: None,
        data_age_s: 0.5,
        online: true,
    },
    Demo {
        name: "Bay-4",
        state: "RUN",
        progress: 0.18,
        alarm: Some(("MEDIUM", "Citrate rate above limit", true)),
        data_age_s: 0.6,
        online: true,
    },
    Demo {
        name: "Bay-5",
        state: "RUN",
        progress: 0.47,
        alarm: None,
        data_age_s: 42.0,
        online: true,
    },
    Demo {
        name: "Bay-6",
        state: "RUN",
        progress: 0.55,
        alarm: None,
        data_age_s: 0.4,
        online: false,
    },
    Demo {
        name: "Bay-7",
        state: "PRIME",
        progress: 0.0,
        alarm: None,
        data_age_s: 0.3,
        online: true,
    },
    Demo {
        name: "Bay-8",
        state: "RUN",
        progress: 0.91,
        alarm: Some(("LOW", "Collect line flow low", false)),
        data_age_s: 0.5,
        online: true,
    },
];

fn send(tx: &Sender<WardInput>, topic: String, payload: Vec<u8>, wall: Timestamp) -> bool {
    tx.send(WardInput::Message {
        topic,
        payload,
        received: Instant::now(),
        wall,
        retained: false,
    })
    .is_ok()
}

fn status(demo: &Demo, now: Timestamp, elapsed_s: f64) -> Vec<u8> {
    let target = 12_400.0;
    let progress = demo.progress
        + if demo.state == "RUN" {
            elapsed_s / 40_000.0
        } else {
            0.0
        };
    let end = now
        .checked_add(SignedDuration::from_secs(
            ((1.0 - progress).max(0.0) * 4.0 * 3600.0) as i64,
        ))
        .expect("in range");
    serde_json::to_vec(&BedStatus {
        schema: SCHEMA,
        bed: Bed::new(demo.name).expect("valid"),
        published_utc: now.to_string(),
        state: Some(demo.state.into()),
        wb_processed_ml: Some(progress * target),
        tbv_processed: Some(progress * 2.4),
        target_wb_ml: Some(target),
        progress: Some(progress),
        projected_end_utc: Some(end.to_string()),
        citrate_ml_min_l: Some(if demo.alarm.is_some_and(|a| a.0 == "MEDIUM") {
            1.34
        } else {
            0.78
        }),
        alarms: demo
            .alarm
            .iter()
            .map(|(priority, text, acknowledged)| BedAlarm {
                code: "DEMO".into(),
                priority: (*priority).into(),
                text: (*text).into(),
                acknowledged: *acknowledged,
                raised_utc: now.to_string(),
            })
            .collect(),
        data_age_s: Some(demo.data_age_s + elapsed_s * f64::from(u8::from(demo.data_age_s > 10.0))),
        link: if demo.data_age_s > 10.0 {
            "silent"
        } else {
            "up"
        }
        .into(),
        recording: None,
        patient: None,
    })
    .expect("json")
}

fn trend(demo: &Demo) -> Vec<u8> {
    let minutes = (demo.progress * 240.0) as u32;
    serde_json::to_vec(&Trend {
        schema: SCHEMA,
        bed: Bed::new(demo.name).expect("valid"),
        points: (0..minutes)
            .map(|m| {
                let t = f64::from(m);
                TrendPoint {
                    t_s: t * 60.0,
                    wb_processed_ml: Some(t * 52.0),
                    inlet_ml_min: Some(55.0),
                    access_mmhg: Some(-45.0 + (t / 9.0).sin() * 12.0),
                    return_mmhg: Some(115.0 + (t / 13.0).cos() * 18.0),
                }
            })
            .collect(),
    })
    .expect("json")
}

fn main() {
    let (tx, rx) = crossbeam_channel::unbounded();
    let (ctx_tx, ctx_rx) = crossbeam_channel::bounded::<egui::Context>(1);
    std::thread::spawn(move || {
        let _ = tx.send(WardInput::Connection(BrokerState::Connecting));
        let ctx = ctx_rx.recv().ok();
        let _ = tx.send(WardInput::Connection(BrokerState::Connected));
        let started = Timestamp::now();
        let count = std::env::var("WARD_DEMO_BEDS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(6)
            .clamp(1, BEDS.len());
        let beds = &BEDS[..count];
        for demo in beds {
            let bed = Bed::new(demo.name).expect("valid");
            send(&tx, bed.online(), b"true".to_vec(), started);
            send(&tx, bed.trend(), trend(demo), started);
            send(&tx, bed.status(), status(demo, started, 0.0), started);
            if !demo.online {
                let went = started
                    .checked_sub(SignedDuration::from_mins(7))
                    .expect("in range");
                send(&tx, bed.online(), b"false".to_vec(), went);
            }
        }
        let mut elapsed = 0.0;
        loop {
            std::thread::sleep(Duration::from_secs(1));
            elapsed += 1.0;
            let now = Timestamp::now();
            for demo in beds.iter().filter(|d| d.online) {
                let bed = Bed::new(demo.name).expect("valid");
                if !send(&tx, bed.status(), status(demo, now, elapsed), now) {
                    return;
                }
            }
            if let Some(ctx) = &ctx {
                ctx.request_repaint();
            }
        }
    });
    if let Err(e) = apheresis_monitor::ui::ward::run_ward_window(rx, None, move |ctx| {
        let _ = ctx_tx.send(ctx);
    }) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
