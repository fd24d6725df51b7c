//! Shared by the benchmarks: realistic sessions from the simulated machine.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use apheresis_monitor::acquisition::Journalist;
use apheresis_monitor::model::Entry;
use apheresis_monitor::protocol::{Decoder, encode};
use apheresis_monitor::recording::meta::{PatientMeta, TargetsMeta};
use apheresis_monitor::recording::{Recorder, SessionMeta, write_meta};
use apheresis_monitor::simulator::{SimConfig, SimMachine};

/// The simulator's wire bytes for `hours` of a procedure at `hz`.
pub fn wire(hours: f64, hz: f64) -> (Vec<u8>, usize) {
    let mut machine = SimMachine::new(SimConfig {
        sample_interval_ms: (1000.0 / hz) as u64,
        target_tbv: 6.0,
        ..SimConfig::default()
    });
    let end_ms = (hours * 3_600_000.0) as u64;
    let mut bytes = Vec::new();
    let mut sentences = 0;
    while let Some(sentence) = machine.next_sentence() {
        if sentence.t_ms > end_ms {
            break;
        }
        bytes.extend_from_slice(encode(&sentence).as_bytes());
        sentences += 1;
    }
    (bytes, sentences)
}

/// The entries a monitor would record from `hours` at `hz`, stamped as if received live.
pub fn entries(hours: f64, hz: f64) -> Vec<Entry> {
    let (bytes, _) = wire(hours, hz);
    let start = jiff::Timestamp::from_second(1_773_475_500).expect("valid time");
    let mut decoder = Decoder::new();
    let mut journalist = Journalist::new();
    let mut out = Vec::new();
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let (result, consumed) = decoder.decode(rest);
        rest = &rest[consumed..];
        if let Some(decoded) = result {
            let t_ms = match &decoded {
                apheresis_monitor::protocol::Decoded::Sentence { sentence, .. } => sentence.t_ms,
                apheresis_monitor::protocol::Decoded::Rejected(_) => 0,
            };
            let now = start
                .checked_add(jiff::SignedDuration::from_millis(t_ms as i64 + 40))
                .expect("in range");
            journalist.on_decoded(decoded, now, &mut out);
        }
    }
    out
}

/// A recording file of `hours` at `hz` in `target/bench-data/`, made once and reused.
pub fn recording_file(hours: f64, hz: f64) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let path = dir.join(format!("session-{hours}h-{hz}hz.csv"));
    if path.exists() {
        return path;
    }
    let tmp = dir.join(format!("tmp-{}.csv", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut recorder = Recorder::create(&tmp).expect("create the bench recording");
    for entry in entries(hours, hz) {
        recorder.append(&entry).expect("write the bench recording");
    }
    recorder.sync().expect("sync");
    drop(recorder);
    let meta = SessionMeta {
        patient: Some(PatientMeta {
            id: Some("BENCH".into()),
            weight_kg: Some(80.0.into()),
            height_cm: Some(178.0.into()),
            sex: Some("male".into()),
            ..PatientMeta::default()
        }),
        targets: Some(TargetsMeta {
            tbv_processed: Some(2.5.into()),
            ..TargetsMeta::default()
        }),
        ..SessionMeta::default()
    };
    std::fs::rename(&tmp, &path).expect("rename");
    write_meta(&path, &meta).expect("metadata");
    path
}

/// Median of `runs` timings of `f`.
pub fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = std::time::Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}
