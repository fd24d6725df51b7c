//! Stale data stays stale whatever the wall clock does: a live session measures the age of its
//! data on a monotonic clock, so a wall clock put back cannot make an old sample look fresh
//! (and one put forward cannot make a fresh sample look old). Headless: a real worker on a
//! pseudo-terminal, the session's monotonic clock a fake the test moves.

#![cfg(unix)] // pseudo-terminals, socat, unix file modes (Windows: scripts/check-windows.sh)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

mod support;

use std::io::Write as _;
use std::time::{Duration, Instant};

use apheresis_monitor::alarms::{AlarmSettings, AlarmSource, SampleAge};
use apheresis_monitor::model::{Payload, Priority, Quantity, Sample, Sentence};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::recording::SessionMeta;
use apheresis_monitor::session::{Destination, LiveSession, Machine, Monotonic, SessionStart};
use jiff::{SignedDuration, Timestamp};

fn wait_for(live: &mut LiveSession, what: &str, done: impl Fn(&LiveSession) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(live) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        live.drain(Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn shown(live: &LiveSession) -> Vec<AlarmSource> {
    live.alarms
        .active()
        .into_iter()
        .map(|a| a.source.clone())
        .collect()
}

#[test]
fn a_wall_clock_put_back_does_not_make_old_data_fresh_nor_one_put_forward_fresh_data_old() {
    let dir = tempfile::tempdir().unwrap();
    let (mut master, port) = support::pty();
    let mut live = LiveSession::start(
        SessionStart {
            machine: Machine::Port {
                port: port.clone(),
                baud: 115_200,
            },
            destination: Destination::NewIn(dir.path().to_owned()),
            meta: SessionMeta::default(),
        },
        Box::new(|| {}),
    )
    .unwrap();
    let start = Instant::now();
    let (clock, monotonic) = Monotonic::fake(start);
    live.set_monotonic_clock(clock);
    let port_path = std::path::PathBuf::from(&port);
    support::wait_until(Duration::from_secs(20), "the worker opens the port", || {
        support::has_open(std::process::id(), &port_path)
    });
    let wire = encode(&Sentence {
        seq: 0,
        t_ms: 1000,
        payload: Payload::Sample(Sample::default().with(Quantity::AccessMmhg, -300.0)),
        unknown_keys: 0,
    });
    master.write_all(wire.as_bytes()).unwrap();
    wait_for(&mut live, "the sample", |live| {
        live.timeline.sample_count() == 1
    });
    // The worker stamped its wall-clock receipt time; the session its monotonic one (`start`:
    // the fake has not moved).
    let received = live.timeline.last_sample_utc().unwrap();
    let wall = |secs: i64| {
        received
            .checked_add(SignedDuration::from_secs(secs))
            .unwrap()
    };
    let settings = AlarmSettings::default();

    // 30 s later by the monotonic clock, but the wall clock was put back an hour: by the wall
    // clock the sample is from the future (−3570 s old).
    *monotonic.lock().unwrap() = start + Duration::from_secs(30);
    let put_back = wall(30 - 3600);
    assert_eq!(live.sample_age(put_back), Some(SampleAge::Secs(30.0)));
    assert!(!live.sample_age(put_back).unwrap().is_fresh());
    // The engine calls it stale: no data, and no access-pressure alarm judged on it.
    assert_eq!(
        live.update_alarms(put_back, settings),
        Some(Priority::Medium)
    );
    assert_eq!(shown(&live), [AlarmSource::NoData]);
    for s in 31..=90 {
        *monotonic.lock().unwrap() = start + Duration::from_secs(s);
        let _ = live.update_alarms(wall(s as i64 - 3600), settings);
        assert_eq!(shown(&live), [AlarmSource::NoData], "at {s} s");
    }

    // A new sample; 2 s later by the monotonic clock the wall clock jumps forward a day: the
    // sample is 2 s old, fresh, and the no-data alarm ends.
    let wire = encode(&Sentence {
        seq: 1,
        t_ms: 2000,
        payload: Payload::Sample(Sample::default().with(Quantity::AccessMmhg, -40.0)),
        unknown_keys: 0,
    });
    master.write_all(wire.as_bytes()).unwrap();
    wait_for(&mut live, "the second sample", |live| {
        live.timeline.sample_count() == 2
    });
    *monotonic.lock().unwrap() = start + Duration::from_secs(92);
    let day_later = Timestamp::now()
        .checked_add(SignedDuration::from_hours(24))
        .unwrap();
    assert_eq!(live.sample_age(day_later), Some(SampleAge::Secs(2.0)));
    assert_eq!(live.update_alarms(day_later, settings), None);
    assert!(shown(&live).is_empty(), "{:?}", shown(&live));
    live.stop_and_wait();
}
