//! The monitor's typeface, DejaVu Sans in regular and bold (and condensed, regular and bold,
//! for the screen's strip of big figures), compiled in from `assets/fonts/` (its licence is there), so nothing
//! is looked up at run time. The screen and the reports set every word in it. Its figures are
//! tabular: every digit has the same advance, so a number that changes keeps its place.

/// The regular face (TrueType).
pub const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The bold face (TrueType): headings, and the big figures on screen.
pub const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The condensed regular face: the words around the screen's big figures.
pub const CONDENSED: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed.ttf");

/// The condensed bold face: the screen's big figures and headings, so six primary values fit
/// across a 1366 px screen at 60 px and more.
pub const CONDENSED_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed-Bold.ttf");
