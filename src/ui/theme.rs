//! Colours and type on screen: the palette of [`crate::present::palette`] (one colour per
//! quantity everywhere, Okabe–Ito, alarm colours for alarms alone) as egui colours, the night
//! and day themes and the bedside type sizes.

use egui::{Color32, FontId, TextStyle};

use crate::analysis::Series;
use crate::model::{MachineState, Priority, Quantity};
pub use crate::present::palette::Accent;
use crate::present::palette::{self, Rgb};

/// Night (dark) or day (light).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Theme {
    #[default]
    Night,
    Day,
}

impl Theme {
    pub fn is_dark(self) -> bool {
        self == Theme::Night
    }
}

/// The name of the bold face's family ([`bold`]).
const BOLD_FAMILY: &str = "bold";

/// The name of the condensed regular face's family ([`condensed`]).
const CONDENSED_FAMILY: &str = "condensed";

/// The condensed regular face at `size` points: the words around the big figures.
pub fn condensed(size: f32) -> FontId {
    FontId::new(size, egui::FontFamily::Name(CONDENSED_FAMILY.into()))
}

/// The bold face (condensed) at `size` points: headings and the big figures.
pub fn bold(size: f32) -> FontId {
    FontId::new(size, egui::FontFamily::Name(BOLD_FAMILY.into()))
}

/// Installs the monitor's typeface (DejaVu Sans, regular and bold, compiled in from
/// `assets/fonts/`) ahead of egui's own fonts, which stay as fallbacks for symbols such as ⏸.
pub fn install_fonts(ctx: &egui::Context) {
    use crate::present::typeface::{CONDENSED, CONDENSED_BOLD, REGULAR};
    use egui::{FontData, FontDefinitions, FontFamily};
    use std::sync::Arc;

    let mut fonts = FontDefinitions::default();
    for (name, bytes) in [
        ("DejaVuSans", REGULAR),
        ("DejaVuSansCondensed", CONDENSED),
        ("DejaVuSansCondensed-Bold", CONDENSED_BOLD),
    ] {
        fonts
            .font_data
            .insert(name.to_owned(), Arc::new(FontData::from_static(bytes)));
    }
    let fallbacks = fonts
        .families
        .get(&FontFamily::Proportional)
        .cloned()
        .unwrap_or_default();
    let family = |first: &str| {
        std::iter::once(first.to_owned())
            .chain(fallbacks.iter().cloned())
            .collect::<Vec<_>>()
    };
    let bold = family("DejaVuSansCondensed-Bold");
    let condensed = family("DejaVuSansCondensed");
    fonts
        .families
        .insert(FontFamily::Proportional, family("DejaVuSans"));
    fonts
        .families
        .insert(FontFamily::Name(BOLD_FAMILY.into()), bold);
    fonts
        .families
        .insert(FontFamily::Name(CONDENSED_FAMILY.into()), condensed);
    ctx.set_fonts(fonts);
}

/// Applies the theme, the typeface and the bedside type sizes.
pub fn apply(ctx: &egui::Context, theme: Theme) {
    install_fonts(ctx);
    let mut visuals = if theme.is_dark() {
        egui::Visuals::dark()
    } else {
        egui::Visuals::light()
    };
    if theme.is_dark() {
        visuals.panel_fill = Color32::from_rgb(0x12, 0x14, 0x18);
        visuals.window_fill = Color32::from_rgb(0x1a, 0x1d, 0x22);
        visuals.extreme_bg_color = Color32::from_rgb(0x0b, 0x0c, 0x0f);
    }
    ctx.set_visuals(visuals);
    ctx.global_style_mut(|style| {
        style.text_styles = [
            (TextStyle::Small, FontId::proportional(13.0)),
            // DejaVu Sans is set larger than most faces at one size: 15 px reads as 16 did.
            (TextStyle::Body, FontId::proportional(15.0)),
            (TextStyle::Monospace, FontId::monospace(15.0)),
            (TextStyle::Button, FontId::proportional(15.0)),
            (TextStyle::Heading, bold(24.0)),
        ]
        .into();
        style.spacing.button_padding = egui::vec2(10.0, 5.0);
        style.spacing.interact_size.y = 28.0;
    });
}

fn color(rgb: Rgb) -> Color32 {
    Color32::from_rgb(rgb.0, rgb.1, rgb.2)
}

/// The colour of a series, the same on every plot, tile and report.
pub fn series_color(series: Series, dark: bool) -> Color32 {
    color(palette::series(series, dark))
}

/// The colour of a quantity (flows and volumes of one line share it).
pub fn quantity_color(quantity: Quantity, dark: bool) -> Color32 {
    color(palette::quantity(quantity, dark))
}

/// Alarm colours (IEC 60601-1-8): high red, medium yellow, low cyan. Used for nothing else.
pub fn priority_color(priority: Priority) -> Color32 {
    color(palette::priority(priority))
}

/// A non-alarm accent (REC, badges, playhead, messages, form errors): never an alarm colour.
pub fn accent_color(accent: Accent, dark: bool) -> Color32 {
    color(palette::accent(accent, dark))
}

/// Text colour readable on an alarm colour.
pub fn on_priority_color(priority: Priority) -> Color32 {
    color(palette::on_priority(priority))
}

/// Background band for a machine state on the plots (transparent for RUN): the state's band
/// colour, translucent, a pause more strongly and the idle and ended states less.
pub fn state_band_color(state: MachineState, dark: bool) -> Option<Color32> {
    let alpha = if dark { 34 } else { 40 };
    let alpha = match state {
        MachineState::Pause => alpha + 20,
        MachineState::Idle | MachineState::End => alpha / 2,
        MachineState::Prime | MachineState::Rinseback | MachineState::Run => alpha,
    };
    palette::state_band(state).map(|Rgb(r, g, b)| Color32::from_rgba_unmultiplied(r, g, b, alpha))
}

/// Colour of the machine state pill in the header.
pub fn state_color(state: MachineState) -> Color32 {
    color(palette::state(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn rgb(r: u8, g: u8, b: u8) -> Color32 {
        Color32::from_rgb(r, g, b)
    }

    /// The screen's colours, value by value: they must not change when the palette moves.
    #[test]
    fn the_screen_colours_are_the_specified_ones() {
        use Quantity::*;
        // (quantity, day, night)
        let quantities = [
            (InletMlMin, rgb(0x00, 0x62, 0xB2), rgb(0x4C, 0x9B, 0xFF)),
            (InletMl, rgb(0x00, 0x62, 0xB2), rgb(0x4C, 0x9B, 0xFF)),
            (AcMlMin, rgb(0x8E, 0x3B, 0xB0), rgb(0xD0, 0x7C, 0xF0)),
            (AcMl, rgb(0x8E, 0x3B, 0xB0), rgb(0xD0, 0x7C, 0xF0)),
            (AcRatio, rgb(0x8E, 0x3B, 0xB0), rgb(0xD0, 0x7C, 0xF0)),
            (CollectMlMin, rgb(0x1A, 0x7A, 0x3C), rgb(0x2E, 0xC0, 0x6E)),
            (CollectMl, rgb(0x1A, 0x7A, 0x3C), rgb(0x2E, 0xC0, 0x6E)),
            (PlasmaMlMin, rgb(0xA0, 0x4A, 0x80), rgb(0xCC, 0x79, 0xA7)),
            (PlasmaMl, rgb(0xA0, 0x4A, 0x80), rgb(0xCC, 0x79, 0xA7)),
            (ReturnMlMin, rgb(0x50, 0x50, 0x50), rgb(0xC8, 0xC8, 0xC8)),
            (ReturnMmhg, rgb(0x50, 0x50, 0x50), rgb(0xC8, 0xC8, 0xC8)),
            (ReplaceMl, rgb(0x50, 0x50, 0x50), rgb(0xC8, 0xC8, 0xC8)),
            (AccessMmhg, rgb(0x6A, 0x3D, 0x9A), rgb(0xB3, 0x9D, 0xDB)),
            (CentrifugeRpm, rgb(0x70, 0x70, 0x70), rgb(0xA0, 0xA0, 0xA0)),
        ];
        assert_eq!(quantities.len(), Quantity::ALL.len());
        for (q, day, night) in quantities {
            assert_eq!(quantity_color(q, false), day, "{q:?}");
            assert_eq!(quantity_color(q, true), night, "{q:?}");
            assert_eq!(series_color(Series::Measured(q), true), night, "{q:?}");
        }
        // Whole blood processed is drawn in the inlet's blue.
        assert_eq!(
            series_color(Series::WbProcessedMl, false),
            rgb(0x00, 0x62, 0xB2)
        );
        assert_eq!(
            series_color(Series::WbProcessedMl, true),
            rgb(0x4C, 0x9B, 0xFF)
        );

        for (p, color, text) in [
            (Priority::High, rgb(0xE0, 0x1B, 0x1B), Color32::WHITE),
            (Priority::Medium, rgb(0xF5, 0xC2, 0x11), Color32::BLACK),
            (Priority::Low, rgb(0x00, 0xD8, 0xE8), Color32::BLACK),
            (Priority::Info, rgb(0x90, 0x90, 0x90), Color32::BLACK),
        ] {
            assert_eq!(priority_color(p), color, "{p:?}");
            assert_eq!(on_priority_color(p), text, "{p:?}");
        }

        let band = Color32::from_rgba_unmultiplied;
        // (state, pill, band by day, band by night)
        for (state, pill, day, night) in [
            (MachineState::Run, rgb(0x1E, 0x9E, 0x50), None, None),
            (
                MachineState::Pause,
                rgb(0x9A, 0x9A, 0x9A),
                Some(band(0xB0, 0xB0, 0xB0, 60)),
                Some(band(0xB0, 0xB0, 0xB0, 54)),
            ),
            (
                MachineState::Prime,
                rgb(0x8A, 0x5A, 0xD0),
                Some(band(0x8A, 0x5A, 0xD0, 40)),
                Some(band(0x8A, 0x5A, 0xD0, 34)),
            ),
            (
                MachineState::Rinseback,
                rgb(0x4A, 0x6E, 0xC0),
                Some(band(0x4A, 0x6E, 0xC0, 40)),
                Some(band(0x4A, 0x6E, 0xC0, 34)),
            ),
            (
                MachineState::Idle,
                rgb(0x60, 0x60, 0x60),
                Some(band(0x60, 0x60, 0x60, 20)),
                Some(band(0x60, 0x60, 0x60, 17)),
            ),
            (
                MachineState::End,
                rgb(0x60, 0x60, 0x60),
                Some(band(0x60, 0x60, 0x60, 20)),
                Some(band(0x60, 0x60, 0x60, 17)),
            ),
        ] {
            assert_eq!(state_color(state), pill, "{state:?}");
            assert_eq!(state_band_color(state, false), day, "{state:?}");
            assert_eq!(state_band_color(state, true), night, "{state:?}");
        }
    }
}
