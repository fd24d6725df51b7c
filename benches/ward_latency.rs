//! Broker → tile latency: 16 bedsides publish their status once a second through a real
//! mosquitto (started here on a free loopback port, with a password file and per-bed ACLs, as
//! the tests start it), and the ward's subscriber hands each message to the board that draws
//! the tiles. The latency of a message is from the moment its status was made (its
//! `published_utc`, stamped just before it is handed to the publisher) to the moment the
//! board has taken it in; both ends run on this machine's clock.
//!
//!     cargo bench --bench ward_latency
//!
//! Needs `mosquitto` and `mosquitto_passwd` on the PATH.

#[path = "../tests/support/broker.rs"]
mod broker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use apheresis_monitor::ward::board::{Board, WardInput};
use apheresis_monitor::ward::broker::BrokerConfig;
use apheresis_monitor::ward::message::{BedStatus, SCHEMA};
use apheresis_monitor::ward::publish::{PublishConfig, Publisher};
use apheresis_monitor::ward::subscribe::Subscriber;
use apheresis_monitor::ward::topic::Bed;
use jiff::Timestamp;

const BEDS: usize = 16;
const SECONDS: u64 = 30;

fn status(bed: &Bed, t: u64) -> BedStatus {
    BedStatus {
        schema: SCHEMA,
        bed: bed.clone(),
        published_utc: Timestamp::now().to_string(),
        state: Some("RUN".into()),
        wb_processed_ml: Some(50.0 * t as f64),
        tbv_processed: Some(0.01 * t as f64),
        target_wb_ml: Some(12_000.0),
        progress: Some(50.0 * t as f64 / 12_000.0),
        projected_end_utc: None,
        citrate_ml_min_l: Some(0.8),
        alarms: Vec::new(),
        data_age_s: Some(0.2),
        link: "up".into(),
        recording: Some("session.csv".into()),
        patient: None,
    }
}

fn main() {
    let users: Vec<(String, String)> = (1..=BEDS)
        .map(|i| (format!("bay{i}"), format!("pw-{i}")))
        .collect();
    let user_refs: Vec<(&str, &str)> = users
        .iter()
        .map(|(u, p)| (u.as_str(), p.as_str()))
        .collect();
    let broker = broker::Broker::start(&user_refs, false);

    let ward = BrokerConfig::new(
        &broker.url(broker::WARD_USER.0),
        None,
        Some(broker::WARD_USER.1.to_owned()),
        None,
    )
    .expect("ward config");
    let (tx, rx) = crossbeam_channel::unbounded();
    let subscriber = Subscriber::start(&ward, tx, Arc::new(|| {}));

    let publishers: Vec<(Bed, Publisher)> = users
        .iter()
        .map(|(user, password)| {
            let bed = Bed::new(user).expect("bed");
            let config = BrokerConfig::new(&broker.url(user), None, Some(password.clone()), None)
                .expect("bedside config");
            let publisher = Publisher::start(PublishConfig::new(config, bed.clone()));
            (bed, publisher)
        })
        .collect();
    // Let every bedside connect before measuring.
    std::thread::sleep(Duration::from_secs(2));

    let mut board = Board::default();
    let mut latencies_ms: Vec<f64> = Vec::new();
    let start = Instant::now();
    let mut next_second = 0;
    while start.elapsed() < Duration::from_secs(SECONDS + 2) {
        if next_second < SECONDS && start.elapsed() >= Duration::from_secs(next_second) {
            for (bed, publisher) in &publishers {
                publisher.publish_status(status(bed, next_second));
            }
            next_second += 1;
        }
        while let Ok(input) = rx.recv_timeout(Duration::from_millis(5)) {
            let sent = match &input {
                WardInput::Message { topic, payload, .. } if topic.ends_with("/status") => {
                    serde_json::from_slice::<BedStatus>(payload)
                        .ok()
                        .and_then(|s| s.published_utc.parse::<Timestamp>().ok())
                }
                _ => None,
            };
            board.input(input);
            if let Some(sent) = sent {
                let ms = Timestamp::now().duration_since(sent).as_secs_f64() * 1000.0;
                latencies_ms.push(ms);
            }
        }
    }
    subscriber.stop();
    drop(publishers);

    latencies_ms.sort_by(f64::total_cmp);
    let at = |q: f64| latencies_ms[((latencies_ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "ward latency, {BEDS} bedsides at 1 Hz for {SECONDS} s through mosquitto on loopback: \
         {} statuses, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} beds on the board)",
        latencies_ms.len(),
        at(0.5),
        at(0.99),
        at(1.0),
        board.len()
    );
    assert!(
        latencies_ms.len() >= BEDS * (SECONDS as usize - 2),
        "only {} statuses arrived",
        latencies_ms.len()
    );
}
