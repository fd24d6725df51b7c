//! Writes the alarm bursts (IEC 60601-1-8's pulse patterns, `alarms::tones`) to `assets/`:
//!
//!     cargo run --example alarm_tones
//!
//! The files are the renderings byte for byte; a test fails when they drift apart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a generator: any failure should stop it

use apheresis_monitor::alarms::tones::{Burst, asset_name};
use apheresis_monitor::model::Priority;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    std::fs::create_dir_all(&dir).unwrap();
    for priority in [Priority::High, Priority::Medium, Priority::Low] {
        let (Some(burst), Some(name)) = (Burst::of(priority), asset_name(priority)) else {
            continue;
        };
        std::fs::write(dir.join(name), burst.wav()).unwrap();
        println!("wrote assets/{name}");
    }
}
