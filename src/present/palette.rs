//! The colours: one per quantity everywhere (tile, plot, report chart), a palette that stays
//! distinguishable for colour-blind readers (Okabe–Ito), alarm colours kept for alarms alone,
//! and the colours of the machine states.

use crate::analysis::Series;
use crate::model::{MachineState, Priority, Quantity};

/// A colour, 8 bits per channel, opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

pub const WHITE: Rgb = Rgb(0xFF, 0xFF, 0xFF);
pub const BLACK: Rgb = Rgb(0x00, 0x00, 0x00);
/// The report's headings and rules.
pub const REPORT_ACCENT: Rgb = Rgb(0x00, 0x62, 0xB2);
/// The report's table stripes.
pub const REPORT_STRIPE: Rgb = Rgb(0xF2, 0xF4, 0xF6);

/// The colour of a series: its quantity's (whole blood processed takes the inlet's).
pub fn series(series: Series, dark: bool) -> Rgb {
    let quantity = match series {
        Series::WbProcessedMl => Quantity::InletMl,
        Series::Measured(q) => q,
    };
    self::quantity(quantity, dark)
}

/// The colour of a quantity (flows and volumes of one line share it), on a dark background
/// (`dark`) or a light one (day theme, paper).
pub fn quantity(quantity: Quantity, dark: bool) -> Rgb {
    use Quantity::{
        AcMl, AcMlMin, AcRatio, AccessMmhg, CentrifugeRpm, CollectMl, CollectMlMin, InletMl,
        InletMlMin, PlasmaMl, PlasmaMlMin, ReplaceMl, ReturnMlMin, ReturnMmhg,
    };
    let (light, on_dark) = match quantity {
        // Blood drawn: blue.
        InletMlMin | InletMl => (Rgb(0x00, 0x62, 0xB2), Rgb(0x4C, 0x9B, 0xFF)),
        // Anticoagulant: orchid (not orange: orange reads as the yellow of a medium alarm).
        AcMlMin | AcMl | AcRatio => (Rgb(0x8E, 0x3B, 0xB0), Rgb(0xD0, 0x7C, 0xF0)),
        // Product: green (not bluish: that reads as the cyan of a low alarm).
        CollectMlMin | CollectMl => (Rgb(0x1A, 0x7A, 0x3C), Rgb(0x2E, 0xC0, 0x6E)),
        // Plasma: reddish purple.
        PlasmaMlMin | PlasmaMl => (Rgb(0xA0, 0x4A, 0x80), Rgb(0xCC, 0x79, 0xA7)),
        // Return line: grey.
        ReturnMlMin | ReturnMmhg | ReplaceMl => (Rgb(0x50, 0x50, 0x50), Rgb(0xC8, 0xC8, 0xC8)),
        // Access line: violet.
        AccessMmhg => (Rgb(0x6A, 0x3D, 0x9A), Rgb(0xB3, 0x9D, 0xDB)),
        CentrifugeRpm => (Rgb(0x70, 0x70, 0x70), Rgb(0xA0, 0xA0, 0xA0)),
    };
    if dark { on_dark } else { light }
}

/// The accents that are not alarms: recording, mode badges, the replay playhead, messages and
/// form errors. None of them is an alarm colour (red, yellow, cyan), so an accent never reads
/// as an alarm from across the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Accent {
    /// The recording indicator (REC).
    Recording,
    /// DEMO and REPLAY badges.
    Badge,
    /// The replay playhead.
    Playhead,
    /// An information message (not an alarm).
    Notice,
    /// A form's validation error, or an action that failed.
    Error,
    /// An action that succeeded (export written).
    Success,
    /// The link carries fresh data.
    LinkOk,
}

impl Accent {
    pub const ALL: [Accent; 7] = [
        Accent::Recording,
        Accent::Badge,
        Accent::Playhead,
        Accent::Notice,
        Accent::Error,
        Accent::Success,
        Accent::LinkOk,
    ];
}

/// An accent's colour on a dark background (`dark`) or a light one.
pub fn accent(accent: Accent, dark: bool) -> Rgb {
    let (light, on_dark) = match accent {
        // Violet: a recording is running.
        Accent::Recording => (Rgb(0x6A, 0x3D, 0xC8), Rgb(0xA8, 0x8C, 0xFF)),
        // Soft blue: a mode, not a condition.
        Accent::Badge | Accent::Playhead | Accent::Notice => {
            (Rgb(0x1F, 0x4E, 0xB4), Rgb(0x7A, 0xA2, 0xF7))
        }
        // Magenta: a form or an action needs the nurse, but nothing about the patient does.
        Accent::Error => (Rgb(0xA0, 0x1E, 0x78), Rgb(0xF0, 0x8C, 0xD8)),
        Accent::Success | Accent::LinkOk => (Rgb(0x1E, 0x7A, 0x46), Rgb(0x3C, 0xC0, 0x78)),
    };
    if dark { on_dark } else { light }
}

/// Alarm colours (IEC 60601-1-8): high red, medium yellow, low cyan. Used for nothing else.
pub fn priority(priority: Priority) -> Rgb {
    match priority {
        Priority::High => Rgb(0xE0, 0x1B, 0x1B),
        Priority::Medium => Rgb(0xF5, 0xC2, 0x11),
        Priority::Low => Rgb(0x00, 0xD8, 0xE8),
        Priority::Info => Rgb(0x90, 0x90, 0x90),
    }
}

/// Text colour readable on an alarm colour.
pub fn on_priority(priority: Priority) -> Rgb {
    match priority {
        Priority::High => WHITE,
        _ => BLACK,
    }
}

/// The machine state's own colour (the state pill in the header).
pub fn state(state: MachineState) -> Rgb {
    match state {
        MachineState::Run => Rgb(0x1E, 0x9E, 0x50),
        MachineState::Pause => Rgb(0x9A, 0x9A, 0x9A),
        MachineState::Prime => Rgb(0x8A, 0x5A, 0xD0),
        MachineState::Rinseback => Rgb(0x4A, 0x6E, 0xC0),
        MachineState::Idle | MachineState::End => Rgb(0x60, 0x60, 0x60),
    }
}

/// The colour a machine state shades the time axis with, behind the lines; RUN is not shaded.
/// Each medium lays it on translucent, as strongly as suits it.
pub fn state_band(state: MachineState) -> Option<Rgb> {
    match state {
        MachineState::Prime => Some(Rgb(0x8A, 0x5A, 0xD0)),
        MachineState::Pause => Some(Rgb(0xB0, 0xB0, 0xB0)),
        MachineState::Rinseback => Some(Rgb(0x4A, 0x6E, 0xC0)),
        MachineState::Idle | MachineState::End => Some(Rgb(0x60, 0x60, 0x60)),
        MachineState::Run => None,
    }
}

/// Whether a colour reads as an alarm colour from across a room: a saturated, not dark red,
/// orange or yellow (high and medium priority), or cyan (low priority).
pub fn looks_like_an_alarm(Rgb(r, g, b): Rgb) -> bool {
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let (value, saturation) = (max / 255.0, if max > 0.0 { (max - min) / max } else { 0.0 });
    if saturation < 0.3 || value < 0.3 {
        return false;
    }
    let span = max - min;
    let hue = if max == r {
        (60.0 * (g - b) / span).rem_euclid(360.0)
    } else if max == g {
        60.0 * (b - r) / span + 120.0
    } else {
        60.0 * (r - g) / span + 240.0
    };
    // Red through orange to yellow, and cyan, with a margin either side.
    !(70.0..330.0).contains(&hue) || (165.0..=205.0).contains(&hue)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every colour that is not an alarm's keeps clear of the alarm colours, in both themes;
    /// the alarm colours themselves are caught by the same test, so it can fail.
    #[test]
    fn no_colour_but_an_alarm_looks_like_one() {
        for p in [Priority::High, Priority::Medium, Priority::Low] {
            assert!(looks_like_an_alarm(priority(p)), "{p:?}");
        }
        assert!(!looks_like_an_alarm(priority(Priority::Info)));
        assert!(!looks_like_an_alarm(REPORT_ACCENT));
        // The colours that were wrong before: orange AC, bluish-green product, teal rinseback.
        for old in [
            Rgb(0xE6, 0x9F, 0x00),
            Rgb(0x00, 0xB8, 0x8A),
            Rgb(0x00, 0x80, 0x80),
        ] {
            assert!(looks_like_an_alarm(old), "{old:?}");
        }
        for dark in [false, true] {
            for q in Quantity::ALL {
                assert!(!looks_like_an_alarm(quantity(q, dark)), "{q:?} dark={dark}");
            }
            for a in Accent::ALL {
                assert!(!looks_like_an_alarm(accent(a, dark)), "{a:?} dark={dark}");
            }
        }
        for s in MachineState::ALL {
            assert!(!looks_like_an_alarm(state(s)), "{s:?}");
            if let Some(band) = state_band(s) {
                assert!(!looks_like_an_alarm(band), "{s:?} band");
            }
        }
    }
}
