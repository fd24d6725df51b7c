//! The monitor's typeface, DejaVu Sans in regular and bold, compiled in from `assets/fonts/`
//! (its licence is there), so nothing is looked up at run time. The screen and the reports set
//! every word in it. Its figures are tabular: every digit has the same advance, so a number
//! that changes keeps its place.

/// The regular face (TrueType).
pub const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The bold face (TrueType): headings, and the big figures on screen.
pub const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
