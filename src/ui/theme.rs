//! Colours and type: one colour per quantity everywhere (tile, plot, report), a palette that
//! stays distinguishable for colour-blind readers (Okabe–Ito), and alarm colours kept for
//! alarms alone.

use egui::{Color32, FontId, TextStyle};

use crate::analysis::Series;
use crate::model::{MachineState, Priority, Quantity};

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

/// Applies the theme and the bedside type sizes.
pub fn apply(ctx: &egui::Context, theme: Theme) {
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
            (TextStyle::Body, FontId::proportional(16.0)),
            (TextStyle::Monospace, FontId::monospace(15.0)),
            (TextStyle::Button, FontId::proportional(16.0)),
            (TextStyle::Heading, FontId::proportional(24.0)),
        ]
        .into();
        style.spacing.button_padding = egui::vec2(10.0, 5.0);
        style.spacing.interact_size.y = 28.0;
    });
}

/// The colour of a series, the same on every plot, tile and report.
pub fn series_color(series: Series, dark: bool) -> Color32 {
    let quantity = match series {
        Series::WbProcessedMl => Quantity::InletMl,
        Series::Measured(q) => q,
    };
    quantity_color(quantity, dark)
}

/// The colour of a quantity (flows and volumes of one line share it).
pub fn quantity_color(quantity: Quantity, dark: bool) -> Color32 {
    use Quantity::{
        AcMl, AcMlMin, AcRatio, AccessMmhg, CentrifugeRpm, CollectMl, CollectMlMin, InletMl,
        InletMlMin, PlasmaMl, PlasmaMlMin, ReplaceMl, ReturnMlMin, ReturnMmhg,
    };
    let (light_theme, dark_theme) = match quantity {
        // Blood drawn: blue.
        InletMlMin | InletMl => (
            Color32::from_rgb(0x00, 0x62, 0xB2),
            Color32::from_rgb(0x4C, 0x9B, 0xFF),
        ),
        // Anticoagulant: orange.
        AcMlMin | AcMl | AcRatio => (
            Color32::from_rgb(0xC0, 0x7A, 0x00),
            Color32::from_rgb(0xE6, 0x9F, 0x00),
        ),
        // Product: bluish green.
        CollectMlMin | CollectMl => (
            Color32::from_rgb(0x00, 0x7A, 0x5A),
            Color32::from_rgb(0x00, 0xB8, 0x8A),
        ),
        // Plasma: reddish purple.
        PlasmaMlMin | PlasmaMl => (
            Color32::from_rgb(0xA0, 0x4A, 0x80),
            Color32::from_rgb(0xCC, 0x79, 0xA7),
        ),
        // Return line: grey.
        ReturnMlMin | ReturnMmhg | ReplaceMl => (
            Color32::from_rgb(0x50, 0x50, 0x50),
            Color32::from_rgb(0xC8, 0xC8, 0xC8),
        ),
        // Access line: violet.
        AccessMmhg => (
            Color32::from_rgb(0x6A, 0x3D, 0x9A),
            Color32::from_rgb(0xB3, 0x9D, 0xDB),
        ),
        CentrifugeRpm => (
            Color32::from_rgb(0x70, 0x70, 0x70),
            Color32::from_rgb(0xA0, 0xA0, 0xA0),
        ),
    };
    if dark { dark_theme } else { light_theme }
}

/// Alarm colours (IEC 60601-1-8): high red, medium yellow, low cyan. Used for nothing else.
pub fn priority_color(priority: Priority) -> Color32 {
    match priority {
        Priority::High => Color32::from_rgb(0xE0, 0x1B, 0x1B),
        Priority::Medium => Color32::from_rgb(0xF5, 0xC2, 0x11),
        Priority::Low => Color32::from_rgb(0x00, 0xD8, 0xE8),
        Priority::Info => Color32::from_rgb(0x90, 0x90, 0x90),
    }
}

/// Text colour readable on an alarm colour.
pub fn on_priority_color(priority: Priority) -> Color32 {
    match priority {
        Priority::High => Color32::WHITE,
        _ => Color32::BLACK,
    }
}

/// Background band for a machine state on the plots (transparent for RUN).
pub fn state_band_color(state: MachineState, dark: bool) -> Option<Color32> {
    let alpha = if dark { 34 } else { 40 };
    match state {
        MachineState::Prime => Some(Color32::from_rgba_unmultiplied(0x80, 0x80, 0xFF, alpha)),
        MachineState::Pause => Some(Color32::from_rgba_unmultiplied(
            0xB0,
            0xB0,
            0xB0,
            alpha + 20,
        )),
        MachineState::Rinseback => Some(Color32::from_rgba_unmultiplied(0x00, 0xB8, 0x8A, alpha)),
        MachineState::Idle | MachineState::End => {
            Some(Color32::from_rgba_unmultiplied(0x60, 0x60, 0x60, alpha / 2))
        }
        MachineState::Run => None,
    }
}

/// Colour of the machine state pill in the header.
pub fn state_color(state: MachineState) -> Color32 {
    match state {
        MachineState::Run => Color32::from_rgb(0x00, 0x9E, 0x73),
        MachineState::Pause => Color32::from_rgb(0x9A, 0x9A, 0x9A),
        MachineState::Prime => Color32::from_rgb(0x6A, 0x6A, 0xE0),
        MachineState::Rinseback => Color32::from_rgb(0x00, 0x80, 0x80),
        MachineState::Idle | MachineState::End => Color32::from_rgb(0x60, 0x60, 0x60),
    }
}
