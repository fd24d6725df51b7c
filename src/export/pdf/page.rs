//! The PDF's pages as drawing operations: the page geometry and inks, the [`Layout`] that puts
//! text, rules, stripes and tables on pages top to bottom (starting a new page where a row
//! would not fit), and drawing the operations with krilla.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla_svg::{SurfaceExt as _, SvgSettings};

use crate::present::palette::{self, Rgb};
use crate::present::typeface::drawable;

use crate::export::chart::{CHART_HEIGHT_PT, CHART_WIDTH_PT};
use crate::export::fonts::Metrics;

/// A4, points.
pub const PAGE_WIDTH_PT: f32 = 595.28;
pub const PAGE_HEIGHT_PT: f32 = 841.89;
pub(super) const LEFT: f32 = 42.0;
pub(super) const RIGHT: f32 = PAGE_WIDTH_PT - 42.0;
pub(super) const CONTENT_WIDTH: f32 = RIGHT - LEFT;
pub(super) const TOP: f32 = 40.0;
/// Lowest point of the content; the footer sits below.
pub(super) const BOTTOM: f32 = PAGE_HEIGHT_PT - 62.0;

pub(super) const BLACK: Rgb = Rgb(0x10, 0x10, 0x10);
pub(super) const GREY: Rgb = Rgb(0x60, 0x60, 0x60);
pub(super) const LIGHT: Rgb = Rgb(0xB0, 0xB0, 0xB0);
/// What stands in for a figure that could not be computed.
pub(super) const MUTED: Rgb = Rgb(0x8A, 0x8A, 0x8A);
pub(super) const STRIPE: Rgb = palette::REPORT_STRIPE;
pub(super) const ACCENT: Rgb = palette::REPORT_ACCENT;

/// One drawing operation on a page. `y` of text is its baseline; coordinates run from the top
/// left corner, in points.
#[derive(Debug, Clone)]
pub(super) enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
        bold: bool,
        color: Rgb,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        color: Rgb,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
    Chart {
        x: f32,
        y: f32,
    },
}

/// Pages being laid out, top to bottom.
pub(super) struct Layout<'m> {
    pub(super) m: &'m Metrics,
    pub(super) pages: Vec<Vec<Op>>,
    /// Top of the free space on the current page.
    pub(super) y: f32,
}

impl<'m> Layout<'m> {
    pub(super) fn new(m: &'m Metrics) -> Layout<'m> {
        Layout {
            m,
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` points still fit on this one.
    pub(super) fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.new_page();
        }
    }

    pub(super) fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    pub(super) fn text(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        text: impl Into<String>,
        bold: bool,
        color: Rgb,
    ) {
        let text = text.into();
        if !text.is_empty() {
            self.push(Op::Text {
                x,
                y,
                size,
                text,
                bold,
                color,
            });
        }
    }

    pub(super) fn text_right(&mut self, right: f32, y: f32, size: f32, text: &str, color: Rgb) {
        let x = right - self.m.width(text, size);
        self.text(x, y, size, text, false, color);
    }

    pub(super) fn rule(&mut self, y: f32, color: Rgb) {
        self.push(Op::Line {
            from: (LEFT, y),
            to: (RIGHT, y),
            width: 0.6,
            color,
        });
    }

    /// A section heading, kept on the page with at least `keep` points of what follows.
    pub(super) fn heading(&mut self, title: &str, keep: f32) {
        self.ensure(22.0 + keep);
        self.y += 8.0;
        self.text(LEFT, self.y + 10.0, 11.0, title, true, ACCENT);
        self.y += 15.0;
        self.rule(self.y, LIGHT);
        self.y += 5.0;
    }
}

pub(super) fn paint(color: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(color.0, color.1, color.2).into()
}

/// The report's two faces, embedded.
pub(super) struct Faces {
    pub(super) regular: Font,
    pub(super) bold: Font,
}

pub(super) fn draw(surface: &mut Surface<'_>, faces: &Faces, chart: Option<&usvg::Tree>, op: &Op) {
    match op {
        Op::Text {
            x,
            y,
            size,
            text,
            bold,
            color,
        } => {
            surface.set_fill(Some(Fill {
                paint: paint(*color),
                opacity: NormalizedF32::ONE,
                rule: FillRule::NonZero,
            }));
            surface.set_stroke(None);
            let face = if *bold { &faces.bold } else { &faces.regular };
            surface.draw_text(
                Point::from_xy(*x, *y),
                face.clone(),
                *size,
                &drawable(text),
                false,
                TextDirection::Auto,
            );
            surface.set_stroke(None);
        }
        Op::Line {
            from,
            to,
            width,
            color,
        } => {
            let mut builder = PathBuilder::new();
            builder.move_to(from.0, from.1);
            builder.line_to(to.0, to.1);
            if let Some(path) = builder.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: paint(*color),
                    width: *width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
        Op::Rect { x, y, w, h, color } => {
            let mut builder = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                builder.push_rect(rect);
            }
            if let Some(path) = builder.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(Fill {
                    paint: paint(*color),
                    opacity: NormalizedF32::ONE,
                    rule: FillRule::NonZero,
                }));
                surface.draw_path(&path);
            }
        }
        Op::Chart { x, y } => {
            if let (Some(tree), Some(size)) = (
                chart,
                Size::from_wh(CHART_WIDTH_PT as f32, CHART_HEIGHT_PT as f32),
            ) {
                surface.push_transform(&Transform::from_translate(*x, *y));
                surface.draw_svg(tree, size, SvgSettings::default());
                surface.pop();
            }
        }
    }
}

/// A column of a log table: header, left edge (from the margin) and width.
pub(super) struct Col {
    pub(super) title: &'static str,
    pub(super) x: f32,
    pub(super) w: f32,
}

pub(super) const fn col(title: &'static str, x: f32, w: f32) -> Col {
    Col { title, x, w }
}

pub(super) const TABLE_SIZE: f32 = 8.0;
pub(super) const TABLE_LINE_H: f32 = 10.0;

/// Draws a table header row.
pub(super) fn table_header(l: &mut Layout<'_>, cols: &[Col]) {
    for col in cols {
        l.text(LEFT + col.x, l.y + 8.0, 7.5, col.title, true, GREY);
    }
    l.y += 11.0;
    l.rule(l.y, LIGHT);
    l.y += 2.0;
}

/// Draws one table row of wrapped cells, starting a new page (with the header again) if it
/// does not fit.
pub(super) fn table_row(l: &mut Layout<'_>, cols: &[Col], cells: &[(String, Rgb)], stripe: bool) {
    let wrapped: Vec<Vec<String>> = cols
        .iter()
        .zip(cells)
        .map(|(col, (text, _))| l.m.wrap(text, TABLE_SIZE, col.w - 4.0))
        .collect();
    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let height = lines as f32 * TABLE_LINE_H + 3.0;
    if l.y + height > BOTTOM {
        l.new_page();
        table_header(l, cols);
    }
    if stripe {
        l.push(Op::Rect {
            x: LEFT,
            y: l.y,
            w: CONTENT_WIDTH,
            h: height,
            color: STRIPE,
        });
    }
    for ((col, (_, color)), cell) in cols.iter().zip(cells).zip(wrapped) {
        for (i, line) in cell.into_iter().enumerate() {
            let y = l.y + 8.5 + i as f32 * TABLE_LINE_H;
            l.text(LEFT + col.x, y, TABLE_SIZE, line, false, *color);
        }
    }
    l.y += height;
}
