//! The files in `assets/` are what their generators make of their sources, and each is named in
//! `assets/README.md` with its source and licence.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test: a failure should stop it

#[path = "support/icon.rs"]
mod icon;

use std::path::Path;

fn assets() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
}

#[test]
fn the_png_icons_are_the_svg_rendered() {
    let svg = std::fs::read(assets().join("icon.svg")).unwrap();
    for size in [256, 512] {
        let name = format!("icon-{size}.png");
        let on_disk = std::fs::read(assets().join(&name)).unwrap_or_default();
        assert!(
            on_disk == icon::render(&svg, size),
            "assets/{name} differs from assets/icon.svg rendered: run `cargo run --example icon`"
        );
    }
}

#[test]
fn every_asset_has_its_source_and_licence_in_the_readme() {
    let readme = std::fs::read_to_string(assets().join("README.md")).unwrap();
    let mut folders = vec![assets()];
    let mut files = 0;
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path.strip_prefix(assets()).unwrap().to_string_lossy();
            files += 1;
            if name != "README.md" {
                assert!(
                    readme.contains(&format!("`{name}`")),
                    "{name} is not in assets/README.md"
                );
            }
        }
    }
    assert!(files >= 13, "only {files} files found under assets/");
}
