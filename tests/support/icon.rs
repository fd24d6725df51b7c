//! The app icon's rendering, shared by `examples/icon.rs` (which writes the PNGs) and
//! `tests/assets.rs` (which checks them).

/// The SVG at `size` × `size` pixels, as PNG bytes.
pub fn render(svg: &[u8], size: u32) -> Vec<u8> {
    let tree = resvg::usvg::Tree::from_data(svg, &resvg::usvg::Options::default())
        .expect("the icon's SVG parses");
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size, size).expect("a non-empty size");
    let scale = size as f32 / tree.size().width();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().expect("PNG encoding")
}
