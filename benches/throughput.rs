//! Decoder throughput on a realistic APH/1 stream, and recorder append throughput with its
//! real write-per-row, fsync-each-second policy.
//!
//!     cargo bench --bench throughput

mod common;

use apheresis_monitor::protocol::Decoder;
use apheresis_monitor::recording::Recorder;

fn main() {
    let (bytes, sentences) = common::wire(6.0, 1.0);
    let mb = bytes.len() as f64 / 1e6;
    println!("decoder: a 6 h session at 1 Hz, {sentences} sentences, {mb:.1} MB");
    for chunk in [bytes.len(), 4096, 64] {
        let time = common::median(9, || {
            let mut decoder = Decoder::new();
            let mut n = 0u64;
            for piece in bytes.chunks(chunk) {
                decoder.feed(piece, |_| n += 1);
            }
            std::hint::black_box(n);
        });
        let secs = time.as_secs_f64();
        println!(
            "  fed in {:>9}-byte reads: {:>7.1} MB/s, {:>10.0} sentences/s ({:.1} ms)",
            chunk.min(bytes.len()),
            mb / secs,
            sentences as f64 / secs,
            secs * 1000.0
        );
    }

    let entries = common::entries(1.0, 10.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut runs = 0;
    let time = common::median(5, || {
        runs += 1;
        let mut recorder =
            Recorder::create(&dir.path().join(format!("r{runs}.csv"))).expect("create");
        for entry in &entries {
            recorder.append(entry).expect("append");
        }
        recorder.sync().expect("sync");
    });
    let bytes = std::fs::metadata(dir.path().join("r1.csv"))
        .expect("file")
        .len() as f64;
    let secs = time.as_secs_f64();
    println!(
        "recorder: {} rows ({:.1} MB), one write per row, fsync at least every second",
        entries.len(),
        bytes / 1e6
    );
    println!(
        "  {:>10.0} rows/s, {:.1} MB/s ({:.0} ms) — a 10 Hz machine needs 10 rows/s",
        entries.len() as f64 / secs,
        bytes / 1e6 / secs,
        secs * 1000.0
    );
}
