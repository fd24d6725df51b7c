//! Helpers shared by the integration tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure should stop the test

use std::path::Path;
use std::time::{Duration, Instant};

use apheresis_monitor::acquisition::{
    AcqEvent, Acquisition, Journalist, SerialOpener, WorkerConfig,
};
use apheresis_monitor::model::{Entry, EntryBody, Payload, Sentence};
use apheresis_monitor::recording::{self, Recorder, SessionMeta};

/// Starts the real serial worker on `port`, recording to `out`.
pub fn start_worker(port: &str, out: &Path, stop_on_end: bool) -> Acquisition {
    let mut config = WorkerConfig::new(port, 115_200);
    config.stop_on_end = stop_on_end;
    let opener = SerialOpener {
        path: port.to_owned(),
        baud: 115_200,
        read_timeout: config.read_timeout,
    };
    Acquisition::start(
        config,
        None,
        Box::new(opener),
        Recorder::create(out).expect("create recording"),
        SessionMeta::default(),
        Journalist::new(),
        Box::new(|| {}),
    )
    .expect("start worker")
}

/// Drains events until `done` says so, or panics after `timeout`.
pub fn drain_until(
    acquisition: &Acquisition,
    timeout: Duration,
    mut done: impl FnMut(&AcqEvent) -> bool,
) -> Vec<AcqEvent> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out waiting; saw {} events",
            seen.len()
        );
        if let Ok(event) = acquisition
            .events()
            .recv_timeout(left.min(Duration::from_millis(100)))
        {
            let stop = done(&event);
            seen.push(event);
            if stop {
                return seen;
            }
        }
    }
}

/// The recording's rows that came from the machine (they carry a `seq`), as
/// `(seq, t_ms, body)`, link rows excluded.
pub fn machine_rows(path: &Path) -> Vec<(u32, u64, EntryBody)> {
    let recording = recording::load(path, |_, _| true).expect("load recording");
    assert_eq!(recording.skipped_rows, 0, "{:?}", recording.problems);
    recording
        .entries
        .into_iter()
        .filter(|e| !matches!(e.body, EntryBody::Link(_)))
        .filter_map(
            |Entry {
                 seq,
                 elapsed_ms,
                 body,
                 ..
             }| Some((seq?, elapsed_ms?, body)),
        )
        .collect()
}

/// What a sentence should look like in the recording (identities are not data rows).
pub fn expected_row(sentence: &Sentence) -> Option<(u32, u64, EntryBody)> {
    let body = match &sentence.payload {
        Payload::Identity(_) => return None,
        Payload::State(s) => EntryBody::State(*s),
        Payload::Sample(s) => EntryBody::Sample(*s),
        Payload::Alarm(a) => EntryBody::Alarm(a.clone()),
    };
    Some((sentence.seq, sentence.t_ms, body))
}
