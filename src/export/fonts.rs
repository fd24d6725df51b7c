//! The report's one typeface, Ubuntu Light (from the `epaint_default_fonts` crate): embedded
//! in the PDF, registered with plotters for the chart, and measured here for the layout.

use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef};

/// The font's bytes (TrueType).
pub const FONT_BYTES: &[u8] = epaint_default_fonts::UBUNTU_LIGHT;

/// The name the chart's text asks for: plotters' sans-serif family.
pub const CHART_FAMILY: &str = "sans-serif";

/// Text measurement in the report's font.
pub struct Metrics {
    font: FontRef<'static>,
    units_per_em: f32,
}

impl Metrics {
    /// The shared metrics, `None` if the font cannot be read (it is compiled in, so never).
    pub fn get() -> Option<&'static Metrics> {
        static METRICS: OnceLock<Option<Metrics>> = OnceLock::new();
        METRICS
            .get_or_init(|| {
                let font = FontRef::try_from_slice(FONT_BYTES).ok()?;
                let units_per_em = font.units_per_em().unwrap_or(1000.0);
                Some(Metrics { font, units_per_em })
            })
            .as_ref()
    }

    /// The characters of `text` the font has no glyph for (drawn as empty boxes), spaces
    /// and line breaks aside.
    #[cfg(test)]
    pub fn missing(&self, text: &str) -> Vec<char> {
        text.chars()
            .filter(|c| !c.is_whitespace() && self.font.glyph_id(*c).0 == 0)
            .collect()
    }

    /// Width of `text` set at `size` points, in points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let mut units = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = self.font.glyph_id(c);
            if let Some(p) = previous {
                units += self.font.kern_unscaled(p, id);
            }
            units += self.font.h_advance_unscaled(id);
            previous = Some(id);
        }
        units / self.units_per_em * size
    }

    /// `text` broken into lines no wider than `width` points at `size` (at spaces; a word
    /// longer than a line is broken where it must be). Existing line breaks are kept.
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone may still be too long: cut it.
                let mut rest = word.to_owned();
                while self.width(&rest, size) > width {
                    let mut cut = rest.len();
                    while cut > 0 && self.width(&rest[..cut], size) > width {
                        cut = rest[..cut].char_indices().next_back().map_or(0, |(i, _)| i);
                    }
                    if cut == 0 {
                        // Not even one character fits: put one per line.
                        cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
                    }
                    let tail = rest.split_off(cut);
                    lines.push(std::mem::replace(&mut rest, tail));
                }
                line = rest;
            }
            lines.push(line);
        }
        lines
    }

    /// `text` shortened with `…` to fit `width` points at `size`.
    pub fn ellipsize(&self, text: &str, size: f32, width: f32) -> String {
        if self.width(text, size) <= width {
            return text.to_owned();
        }
        let mut end = text.len();
        while end > 0 {
            end = text[..end].char_indices().next_back().map_or(0, |(i, _)| i);
            let candidate = format!("{}…", text[..end].trim_end());
            if self.width(&candidate, size) <= width {
                return candidate;
            }
        }
        "…".to_owned()
    }
}

/// The report's font cannot be used. It is compiled in, so this would be a defect of the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FontError {
    /// Plotters cannot read it for the chart.
    #[error("the report font cannot be read")]
    Unreadable,
}

/// Registers the font with plotters under [`CHART_FAMILY`] (once per process).
pub fn register_chart_font() -> Result<(), FontError> {
    static REGISTERED: OnceLock<Result<(), FontError>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(
                CHART_FAMILY,
                plotters::style::FontStyle::Normal,
                FONT_BYTES,
            )
            .map_err(|_| FontError::Unreadable)
        })
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_fits_the_width() {
        let m = Metrics::get().unwrap();
        let text = "Access pressure low - check patient arm and reposition the needle please";
        let lines = m.wrap(text, 9.0, 120.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), text);
        for line in &lines {
            assert!(m.width(line, 9.0) <= 120.0, "{line}");
        }
        let long = "x".repeat(200);
        let lines = m.wrap(&long, 9.0, 50.0);
        assert_eq!(lines.concat(), long);
        assert!(m.width(&m.ellipsize(&long, 9.0, 50.0), 9.0) <= 50.0);
        // The font covers what the report writes.
        for c in "µ×–—…·±≥".chars() {
            assert_ne!(m.font.glyph_id(c).0, 0, "{c}");
        }
    }
}
