//! The monitor's typeface, DejaVu Sans in regular and bold (and condensed, regular and bold,
//! for the screen's strip of big figures), compiled in from `assets/fonts/` (its licence is there), so nothing
//! is looked up at run time. The screen and the reports set every word in it. Its figures are
//! tabular: every digit has the same advance, so a number that changes keeps its place.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef};

/// The regular face (TrueType).
pub const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The bold face (TrueType): headings, and the big figures on screen.
pub const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The condensed regular face: the words around the screen's big figures.
pub const CONDENSED: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed.ttf");

/// The condensed bold face: the screen's big figures and headings, so six primary values fit
/// across a 1366 px screen at 60 px and more.
pub const CONDENSED_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed-Bold.ttf");

/// The regular and bold faces, parsed once.
fn faces() -> Option<&'static (FontRef<'static>, FontRef<'static>)> {
    static FACES: OnceLock<Option<(FontRef<'static>, FontRef<'static>)>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Some((
                FontRef::try_from_slice(REGULAR).ok()?,
                FontRef::try_from_slice(BOLD).ok()?,
            ))
        })
        .as_ref()
}

/// Whether the typeface, regular and bold, can draw `c` (white space always can).
pub fn can_draw(c: char) -> bool {
    c.is_whitespace()
        || faces()
            .is_some_and(|(regular, bold)| regular.glyph_id(c).0 != 0 && bold.glyph_id(c).0 != 0)
}

/// The characters of `text` the typeface cannot draw (it has no CJK, for one), each once, in
/// the order they come. A screen or a report would show them as empty boxes.
pub fn undrawable(text: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if !can_draw(c) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// `text` with each character the typeface cannot draw written as its code point, `[U+6F22]`:
/// what a report prints for text that came in before it could be refused (an older journal, a
/// hand-edited one), so that nothing is lost or shown as an empty box.
pub fn drawable(text: &str) -> Cow<'_, str> {
    if text.chars().all(can_draw) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if can_draw(c) {
            out.push(c);
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "[U+{:04X}]", u32::from(c));
        }
    }
    Cow::Owned(out)
}

/// Why text typed into a form cannot be kept, if it cannot be printed: `None` when every
/// character can be drawn. Names the characters (the message is shown beside the field the
/// nurse is typing in, never recorded).
pub fn undrawable_problem(what: &str, text: &str) -> Option<String> {
    let missing = undrawable(text);
    if missing.is_empty() {
        return None;
    }
    let shown: String = missing.iter().take(5).collect();
    Some(format!(
        "{what}: the record cannot print “{shown}” (its typeface has Latin, Greek and Cyrillic \
         letters, not these); write it without them"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_greek_cyrillic_and_the_symbols_used_are_drawable_cjk_and_emoji_are_not() {
        assert_eq!(
            undrawable("Zoë Ødegård Ελένη Дмитрий µ×–…°C ≤ ▶ ● Ca²⁺ 10⁹"),
            Vec::<char>::new()
        );
        assert_eq!(
            undrawable("山田 太郎 👍 山"),
            ['山', '田', '太', '郎', '👍']
        );
    }

    #[test]
    fn undrawable_characters_are_written_as_code_points_and_nothing_else_changes() {
        assert!(matches!(
            drawable("Dose 10 ml"),
            Cow::Borrowed("Dose 10 ml")
        ));
        assert_eq!(drawable("ok 👍 血"), "ok [U+1F44D] [U+8840]");
        assert_eq!(drawable(&drawable("血")), "[U+8840]");
    }

    #[test]
    fn the_problem_names_the_field_and_the_characters() {
        assert_eq!(undrawable_problem("Note", "fine"), None);
        let problem = undrawable_problem("Note", "feels 👍").unwrap_or_default();
        assert!(
            problem.starts_with("Note: the record cannot print “👍”"),
            "{problem}"
        );
    }
}
