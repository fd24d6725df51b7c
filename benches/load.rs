//! Loading a recording and computing its summary: 6 h at 1 Hz and 6 h at 10 Hz
//! (216,000 samples). The whole-process comparison with pandas is in scripts/bench.sh.
//!
//!     cargo bench --bench load

mod common;

use apheresis_monitor::analysis::summary::summarize;
use apheresis_monitor::recording;

fn main() {
    println!("load + summary (in process, median of 5)");
    for hz in [1.0, 10.0] {
        let path = common::recording_file(6.0, hz);
        let size = std::fs::metadata(&path).expect("file").len() as f64 / 1e6;
        let mut samples = 0;
        let load = common::median(5, || {
            let r = recording::load(&path, |_, _| true).expect("load");
            samples = r.entries.len();
            std::hint::black_box(r);
        });
        let both = common::median(5, || {
            let r = recording::load(&path, |_, _| true).expect("load");
            std::hint::black_box(summarize(&r));
        });
        println!(
            "  6 h × {hz} Hz: {samples} rows, {size:.1} MB: load {:.0} ms, load + summary {:.0} ms ({:.0} rows/s)",
            load.as_secs_f64() * 1000.0,
            both.as_secs_f64() * 1000.0,
            samples as f64 / both.as_secs_f64()
        );
        println!("    file: {}", path.display());
    }
}
