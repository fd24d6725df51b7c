//! Renders the app icon, `assets/icon.svg`, to `assets/icon-256.png` and `assets/icon-512.png`:
//!
//!     cargo run --example icon
//!
//! `tests/assets.rs` fails when the PNGs differ from this rendering.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a generator: any failure should stop it

#[path = "../tests/support/icon.rs"]
mod icon;
use icon::render;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    for size in [256, 512] {
        let png = render(&std::fs::read(dir.join("icon.svg")).unwrap(), size);
        std::fs::write(dir.join(format!("icon-{size}.png")), png).unwrap();
        println!("wrote assets/icon-{size}.png");
    }
}
