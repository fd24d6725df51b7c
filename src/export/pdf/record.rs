//! The collection record in the PDF: the product label block (patient, date of birth,
//! collection ID, when collection ended), the record's parts (identity, consumables, labs with
//! their units, the product, calcium, reactions, vital signs, what was refused), and the
//! operator's and checker's signature lines.

use crate::analysis::summary::{Figure, Summary};
use crate::export::format::record_sections;
use crate::present::text::{clock_hms, local_date};

use super::{BLACK, CONTENT_WIDTH, GREY, LEFT, LIGHT, Layout, Op, STRIPE};

/// The product label block: what identifies the bag, boxed, in large type.
pub(super) fn product_label(l: &mut Layout<'_>, s: &Summary) {
    let record = &s.record;
    if record.is_empty() {
        return;
    }
    let end = s
        .time(Figure::CollectionEndUtc)
        .map(|t| format!("{} {}", local_date(t), clock_hms(t)));
    let rows = [
        ("Patient", s.patient_id.clone()),
        ("Date of birth", record.date_of_birth.clone()),
        ("Collection ID", record.collection_id.clone()),
        ("Collection ended", end),
    ];
    let row_h = 15.0;
    let height = rows.len() as f32 * row_h + 16.0;
    l.heading("Product label", height);
    let (left, top, width) = (LEFT, l.y, CONTENT_WIDTH * 0.62);
    let (right, bottom) = (left + width, top + height);
    for (from, to) in [
        ((left, top), (right, top)),
        ((right, top), (right, bottom)),
        ((right, bottom), (left, bottom)),
        ((left, bottom), (left, top)),
    ] {
        l.push(Op::Line {
            from,
            to,
            width: 1.2,
            color: BLACK,
        });
    }
    let mut baseline = top + 18.0;
    for (label, value) in rows {
        l.text(left + 8.0, baseline, 8.5, label, false, GREY);
        match value {
            Some(v) => {
                let size = l.m.bold_size_to_fit(&v, 11.0, width - 100.0);
                l.text(left + 92.0, baseline, size, v, true, BLACK);
            }
            None => l.text(left + 92.0, baseline, 9.0, "(not recorded)", false, GREY),
        }
        baseline += row_h;
    }
    l.y = bottom + 4.0;
}

/// The record's parts, each a heading and its rows (label, wrapped value).
pub(super) fn sections(l: &mut Layout<'_>, s: &Summary) {
    let size = 8.5;
    let line_h = 11.0;
    let label_w = 130.0;
    for section in record_sections(s) {
        l.heading(section.title, line_h * 2.0);
        for (i, (label, value)) in section.rows.iter().enumerate() {
            let lines = l.m.wrap(value, size, CONTENT_WIDTH - label_w - 8.0);
            let height = lines.len().max(1) as f32 * line_h + 2.0;
            l.ensure(height);
            if i % 2 == 0 {
                l.push(Op::Rect {
                    x: LEFT,
                    y: l.y,
                    w: CONTENT_WIDTH,
                    h: height,
                    color: STRIPE,
                });
            }
            l.text(LEFT + 4.0, l.y + 8.5, size, label.clone(), false, GREY);
            for (j, line) in lines.into_iter().enumerate() {
                l.text(
                    LEFT + label_w,
                    l.y + 8.5 + j as f32 * line_h,
                    size,
                    line,
                    false,
                    BLACK,
                );
            }
            l.y += height;
        }
    }
}

/// Signature lines for the operator and the second checker, with their names.
pub(super) fn signatures(l: &mut Layout<'_>, s: &Summary) {
    if s.record.is_empty() {
        return;
    }
    l.heading("Signatures", 40.0);
    let half = CONTENT_WIDTH / 2.0;
    let names = [
        ("Operator", s.operator.as_deref()),
        ("Second checker", s.record.checker.as_deref()),
    ];
    for (i, (role, name)) in names.into_iter().enumerate() {
        let x = LEFT + i as f32 * half;
        l.push(Op::Line {
            from: (x, l.y + 26.0),
            to: (x + half - 24.0, l.y + 26.0),
            width: 0.6,
            color: LIGHT,
        });
        let caption = match name {
            Some(n) => format!("{role}: {n}   date and time"),
            None => format!("{role}   date and time"),
        };
        l.text(x, l.y + 36.0, 7.5, caption, false, GREY);
    }
    l.y += 44.0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::labs::LabUnit;
    use crate::present::typeface::undrawable;

    #[test]
    fn the_font_has_every_glyph_the_collection_record_writes() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/cart-day1.csv");
        let recording = crate::recording::load(&path, |_, _| true).unwrap();
        let s = crate::analysis::summarize(&recording);
        let sections = record_sections(&s);
        assert!(sections.len() >= 6, "{sections:?}");
        for section in &sections {
            for (label, value) in &section.rows {
                assert_eq!(undrawable(label), Vec::<char>::new(), "{label}");
                assert_eq!(undrawable(value), Vec::<char>::new(), "{value}");
            }
        }
        for unit in LabUnit::ALL {
            assert_eq!(undrawable(unit.label()), Vec::<char>::new(), "{unit}");
        }
        // The check can fail: a glyph the font lacks is found.
        assert_eq!(undrawable("Ca²⁺ 血"), ['血']);
    }
}
