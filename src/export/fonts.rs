//! The report's typeface ([`crate::present::typeface`], regular and bold): embedded in the PDF,
//! registered with plotters for the chart, and measured here for the layout.

use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef};

use crate::present::typeface::drawable;
pub use crate::present::typeface::{BOLD, REGULAR};

/// The name the chart's text asks for: plotters' sans-serif family.
pub const CHART_FAMILY: &str = "sans-serif";

/// Text measurement in the report's font, regular and bold.
pub struct Metrics {
    font: FontRef<'static>,
    bold: FontRef<'static>,
    units_per_em: f32,
    bold_units_per_em: f32,
}

impl Metrics {
    /// The shared metrics, `None` if the font cannot be read (it is compiled in, so never).
    pub fn get() -> Option<&'static Metrics> {
        static METRICS: OnceLock<Option<Metrics>> = OnceLock::new();
        METRICS
            .get_or_init(|| {
                let font = FontRef::try_from_slice(REGULAR).ok()?;
                let bold = FontRef::try_from_slice(BOLD).ok()?;
                Some(Metrics {
                    units_per_em: font.units_per_em().unwrap_or(1000.0),
                    bold_units_per_em: bold.units_per_em().unwrap_or(1000.0),
                    font,
                    bold,
                })
            })
            .as_ref()
    }

    /// Width of `text` set in the regular face at `size` points, in points: as it is drawn,
    /// characters the face lacks written as their code points ([`drawable`]).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        advance(&self.font, &drawable(text)) / self.units_per_em * size
    }

    /// Width of `text` set in the bold face at `size` points, in points (as drawn).
    pub fn width_bold(&self, text: &str, size: f32) -> f32 {
        advance(&self.bold, &drawable(text)) / self.bold_units_per_em * size
    }

    /// `text` broken into lines no wider than `width` points at `size` (at spaces; a word
    /// longer than a line is broken where it must be). Existing line breaks are kept.
    /// Characters the face lacks come back as their code points ([`drawable`]).
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let text = drawable(text);
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

    /// The size, at most `size`, at which `text` in the bold face fits `width` points: an
    /// identifier is set smaller rather than cut.
    pub fn bold_size_to_fit(&self, text: &str, size: f32, width: f32) -> f32 {
        let natural = self.width_bold(text, size);
        if natural <= width || natural <= 0.0 {
            size
        } else {
            size * width / natural
        }
    }

    /// `text` shortened with `…` to fit `width` points at `size`.
    pub fn ellipsize(&self, text: &str, size: f32, width: f32) -> String {
        let text = drawable(text);
        if self.width(&text, size) <= width {
            return text.into_owned();
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

/// The advance of `text` in `font`, kerning included, in font units.
fn advance(font: &FontRef<'_>, text: &str) -> f32 {
    let mut units = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            units += font.kern_unscaled(p, id);
        }
        units += font.h_advance_unscaled(id);
        previous = Some(id);
    }
    units
}

/// The report's font cannot be used. It is compiled in, so this would be a defect of the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FontError {
    /// Plotters cannot read it for the chart.
    #[error("the report font cannot be read")]
    Unreadable,
}

/// Registers both faces with plotters under [`CHART_FAMILY`] (once per process).
pub fn register_chart_font() -> Result<(), FontError> {
    static REGISTERED: OnceLock<Result<(), FontError>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            use plotters::style::{FontStyle, register_font};
            register_font(CHART_FAMILY, FontStyle::Normal, REGULAR)
                .and_then(|()| register_font(CHART_FAMILY, FontStyle::Bold, BOLD))
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
        // Both faces cover what the report and the screen write.
        assert_eq!(
            crate::present::typeface::undrawable("µ×–—…·±≥ ▶ ● ■ ▲ ▼ ✓ °C ≤"),
            Vec::<char>::new()
        );
    }

    #[test]
    fn bold_is_a_face_of_its_own_and_figures_are_tabular() {
        let m = Metrics::get().unwrap();
        // A real bold face is wider than the regular one (no faked outline).
        let text = "Whole blood processed";
        assert!(m.width_bold(text, 10.0) > m.width(text, 10.0) * 1.05);
        // Every digit has the same advance in both faces, so a changing number keeps its place.
        for width in [Metrics::width, Metrics::width_bold] {
            let one = width(m, "1", 10.0);
            for digit in "023456789".chars() {
                let w = width(m, &digit.to_string(), 10.0);
                assert!((w - one).abs() < 1e-4, "{digit}: {w} vs {one}");
            }
            // The figure space matches too, for padding.
            assert!((width(m, "\u{2007}", 10.0) - one).abs() < 1e-4);
        }
        // An identifier too wide for its box is set smaller, never cut.
        let id = "W0000 26 123456 00 PAT-0000000000-LONG";
        let size = m.bold_size_to_fit(id, 11.0, 150.0);
        assert!(size < 11.0 && m.width_bold(id, size) <= 150.01, "{size}");
        assert!((m.bold_size_to_fit("12345", 11.0, 150.0) - 11.0).abs() < f32::EPSILON);
    }
}
