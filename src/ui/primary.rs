//! The primary strip: what the nurse acts on, first and in the largest type, readable from two
//! metres — the machine state, whole blood processed against the target, the time left and the
//! projected end, the citrate rate and the worst active alarm.
//!
//! The type scales with the width of the window; the primary values are [`PRIMARY_MIN_PX`] or
//! more at 1366 wide. When what is shown would not fit (a long state, a large volume on a
//! narrow window) the whole strip's type shrinks together, so blocks never overlap.

use std::fmt::Write as _;
use std::sync::Arc;

use egui::{Color32, FontId, Galley, RichText, Stroke};

use crate::analysis::patient::citrate_mg_kg_min;
use crate::analysis::{Series, Target};
use crate::model::{MachineState, Priority, Quantity};

use super::banner::BannerMessage;
use super::format::{clock_hm, duration_hm, duration_hms, grouped};
use super::monitor::{MonitorModel, STALE_DIM, alarm_fill};
use super::theme::{
    self, on_priority_color, priority_color, quantity_color, series_color, state_color,
};

/// The least size of the primary values at 1366 × 768, in points (about 9 mm on a 15.6"
/// screen): readable from the chair beside the bed.
pub const PRIMARY_MIN_PX: f32 = 60.0;

/// The type sizes of the monitor's strips, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypeSizes {
    /// The primary values.
    pub primary: f32,
    /// Beside a primary value: its unit or its target.
    pub beside: f32,
    /// Block titles, the lines under the values, the elapsed time.
    pub title: f32,
    /// The secondary values (inlet, AC, AC used, product, the pressures).
    pub secondary: f32,
}

impl TypeSizes {
    /// The sizes for a strip `width` points wide: the primary values are 4.5 % of it (61 px in
    /// the 1350 points a 1366-wide window leaves inside its margins), between 40 and 92.
    pub fn for_width(width: f32) -> TypeSizes {
        TypeSizes::with_primary((width * 0.045).clamp(40.0, 92.0))
    }

    /// Secondary tiles' titles: 18 px at 1366 wide.
    pub fn small_title(self) -> f32 {
        (self.title * 0.9).max(18.0)
    }

    /// Units and second lines of the secondary tiles: 16 px at 1366 wide.
    pub fn small(self) -> f32 {
        (self.title * 0.8).max(16.0)
    }

    fn with_primary(primary: f32) -> TypeSizes {
        TypeSizes {
            primary,
            beside: (primary * 0.36).max(22.0),
            title: (primary * 0.33).max(20.0),
            secondary: (primary * 0.62).max(28.0),
        }
    }
}

/// One block of the strip.
struct Block {
    title: String,
    title_color: Color32,
    value: String,
    /// Overrides the strong text colour of the value (the state's colour).
    value_color: Option<Color32>,
    /// Drawn at a smaller size right of the value.
    beside: String,
    sub: String,
    hover: Option<String>,
    /// In alarm: its priority and the limit (`"limit 1.20"`), printed under `beside`.
    alarm: Option<(Priority, String)>,
    /// Not current: why (with the age), shown in place of `sub`.
    why: Option<String>,
    /// Dimmed (not current) without a badge: computed from data that is not current.
    dim: bool,
}

impl Block {
    fn new(title: &str, title_color: Color32, value: String) -> Block {
        Block {
            title: title.to_owned(),
            title_color,
            value,
            value_color: None,
            beside: String::new(),
            sub: String::new(),
            hover: None,
            alarm: None,
            why: None,
            dim: false,
        }
    }
}

const MARGIN_X: i8 = 8;
const MARGIN_Y: i8 = 4;

fn text_width(ui: &egui::Ui, text: &str, size: f32) -> f32 {
    font_width(ui, text, theme::condensed(size))
}

/// The width of `text` in the bold face (the figures) at `size`.
fn bold_width(ui: &egui::Ui, text: &str, size: f32) -> f32 {
    font_width(ui, text, theme::bold(size))
}

fn font_width(ui: &egui::Ui, text: &str, font: FontId) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    ui.painter()
        .layout_no_wrap(text.to_owned(), font, Color32::PLACEHOLDER)
        .size()
        .x
}

/// The width a block needs at `sizes`, margins included.
fn natural_width(ui: &egui::Ui, b: &Block, sizes: TypeSizes, value_size: f32) -> f32 {
    let beside = text_width(ui, &b.beside, sizes.beside).max(
        b.alarm
            .as_ref()
            .map_or(0.0, |(_, limit)| text_width(ui, limit, sizes.beside)),
    );
    let value_row =
        bold_width(ui, &b.value, value_size) + if beside > 0.0 { 6.0 + beside } else { 0.0 };
    let sub = b.why.as_deref().unwrap_or(&b.sub);
    let inner = text_width(ui, &b.title, sizes.title)
        .max(value_row)
        .max(text_width(ui, sub, sizes.title) + 12.0);
    inner + 2.0 * f32::from(MARGIN_X) + 4.0
}

/// The blocks of the strip, left to right, without the alarm.
fn blocks(model: &MonitorModel<'_>, dark: bool, weak: Color32) -> Vec<Block> {
    let not_current = model.not_current();
    vec![
        state_block(model, weak),
        wb_block(model, dark, not_current.clone()),
        time_left_block(model, weak, not_current.is_some()),
        end_block(model, weak, not_current.is_some()),
        citrate_block(model, dark, not_current),
    ]
}

fn state_block(model: &MonitorModel<'_>, weak: Color32) -> Block {
    let state = model.timeline.state();
    let confirmed = model.timeline.state_confirmed();
    let (text, color) = match state {
        Some(s) if confirmed => (s.as_str().to_owned(), state_color(s)),
        Some(s) => (format!("{}?", s.as_str()), weak),
        None => ("—".to_owned(), weak),
    };
    let mut b = Block::new("State", weak, text);
    b.value_color = Some(color);
    if let Some(run_start) = first_run_x(model)
        && let Some((_, last)) = model.timeline.x_range()
    {
        b.sub = format!("elapsed {}", duration_hms(last - run_start));
    }
    if !confirmed {
        b.hover = Some(
            "The link was lost since the machine last stated its state: it may have changed".into(),
        );
    }
    b
}

fn first_run_x(model: &MonitorModel<'_>) -> Option<f64> {
    model
        .timeline
        .states()
        .find(|s| s.state == MachineState::Run)
        .map(|s| s.start_x)
}

fn wb_block(model: &MonitorModel<'_>, dark: bool, why: Option<String>) -> Block {
    let p = &model.progress;
    let litres = |ml: f64| format!("{:.2}", ml / 1000.0);
    let mut b = Block::new(
        "WB processed",
        series_color(Series::WbProcessedMl, dark),
        p.wb_processed_ml.map_or_else(|| "—".into(), litres),
    );
    b.beside = match p.target_wb_ml {
        Some(target) => format!("/ {} L", litres(target)),
        None => "L".into(),
    };
    b.sub = match (p.tbv_processed, model.target) {
        (Some(done), Target::Tbv(target)) => format!("{done:.2} / {target:.2} TBV"),
        (Some(done), Target::WbLitres(_)) => format!("{done:.2} TBV"),
        (None, Target::WbLitres(_)) => "TBV unknown".into(),
        (None, Target::Tbv(target)) => format!("— / {target:.2} TBV"),
    };
    let mut hover = p
        .wb_processed_ml
        .map(|ml| format!("{} mL of whole blood processed", grouped(ml)))
        .unwrap_or_default();
    if let Some(reason) = model.patient.tbv_unavailable_reason() {
        let _ = write!(hover, "\nTBVs {reason}");
    }
    b.hover = (!hover.is_empty()).then_some(hover);
    b.why = why;
    b
}

fn time_left_block(model: &MonitorModel<'_>, weak: Color32, dim: bool) -> Block {
    let p = &model.progress;
    let reached = p.fraction.is_some_and(|f| f >= 1.0);
    let mut b = Block::new(
        "Time left h:mm",
        weak,
        match p.remaining_s {
            Some(_) if reached => "0:00".into(),
            Some(s) => duration_hm(s),
            None => "—".into(),
        },
    );
    b.sub = match p.remaining_s {
        Some(_) if reached => "target reached".into(),
        Some(_) => "to the target".into(),
        None => "no projection".into(),
    };
    b.hover.clone_from(&p.unavailable);
    b.dim = dim;
    b
}

fn end_block(model: &MonitorModel<'_>, weak: Color32, dim: bool) -> Block {
    let p = &model.progress;
    let reached = p.fraction.is_some_and(|f| f >= 1.0);
    let mut b = Block::new(
        "Projected end",
        weak,
        match p.projected_end(model.now) {
            Some(_) if reached => "—".into(),
            Some(end) => clock_hm(end),
            None => "—".into(),
        },
    );
    b.sub = match (p.rate_ml_min, p.remaining_s) {
        _ if reached => "target reached".into(),
        (Some(rate), Some(_)) => format!("at {rate:.0} mL/min WB"),
        _ => "no projection".into(),
    };
    b.hover.clone_from(&p.unavailable);
    b.dim = dim;
    b
}

/// Live, the block reads what the citrate alarm reads: the AC infused, averaged, per litre of
/// TBV, with mg/kg/min beside it. Otherwise (a replay, or under two minutes of data) an
/// estimate from the AC flow of the moment, in mg/kg/min.
fn citrate_block(model: &MonitorModel<'_>, dark: bool, why: Option<String>) -> Block {
    let ac = model
        .timeline
        .latest_value(Series::Measured(Quantity::AcMlMin));
    let color = quantity_color(Quantity::AcMlMin, dark);
    let mut b = match (&model.citrate, ac, model.patient.weight_kg) {
        (Some(r), _, _) => {
            let mut b = Block::new("Citrate", color, format!("{:.2}", r.ml_min_per_l));
            b.beside = "mL/min/L".into();
            b.sub = match r.mg_kg_min {
                Some(mg) => format!("= {mg:.2} mg/kg/min"),
                None => format!("{:.0}-min mean", r.average_min),
            };
            b.hover = Some(
                "ACD-A-equivalent mL/min per litre of TBV, averaged over the citrate alarm's \
                 window (5 min unless the limits say otherwise): the number the alarm compares"
                    .into(),
            );
            b
        }
        (None, Some(ac), Some(w)) => {
            let mut b = Block::new(
                "Citrate (est.)",
                color,
                format!("{:.2}", citrate_mg_kg_min(ac, w)),
            );
            b.beside = "mg/kg/min".into();
            b.sub = "from AC flow now".into();
            b.hover = Some("ACD-A 21.3 mg/mL × AC flow ÷ weight, at this moment".into());
            b
        }
        (None, _, weight) => {
            let mut b = Block::new("Citrate (est.)", color, "—".into());
            b.beside = "mg/kg/min".into();
            b.sub = "from AC flow".into();
            b.hover = Some(
                if weight.is_some() {
                    "no AC flow from the machine yet"
                } else {
                    "needs a valid patient weight (Setup)"
                }
                .into(),
            );
            b
        }
    };
    b.alarm = model
        .in_alarm
        .citrate
        .map(|p| (p, format!("limit {:.2}", model.limits.citrate_high.limit)));
    b.why = why;
    b
}

/// The sizes the strip is drawn at in `width`: [`TypeSizes::for_width`], made smaller only if
/// the blocks would not leave the alarm 18 % of the width.
fn fitted_sizes(ui: &egui::Ui, blocks: &[Block], width: f32) -> Fitted {
    let spacing = ui.spacing().item_spacing.x;
    let room = width * 0.82 - spacing * blocks.len() as f32;
    let measure = |sizes: TypeSizes| {
        let state = state_size(ui, &blocks[0].value, sizes.primary);
        let widths: Vec<f32> = blocks
            .iter()
            .enumerate()
            .map(|(i, b)| natural_width(ui, b, sizes, if i == 0 { state } else { sizes.primary }))
            .collect();
        Fitted {
            sizes,
            state,
            widths,
        }
    };
    let mut fitted = measure(TypeSizes::for_width(width));
    for _ in 0..6 {
        let used: f32 = fitted.widths.iter().sum();
        if used <= room {
            break;
        }
        let primary = (fitted.sizes.primary * room / used).max(28.0);
        fitted = measure(TypeSizes::with_primary(primary));
    }
    fitted
}

/// The strip's type sizes, the state's size and each block's width, fitted to the window.
struct Fitted {
    sizes: TypeSizes,
    state: f32,
    widths: Vec<f32>,
}

/// The state's size: the primary size, smaller for a word wider than "PAUSE" (RINSEBACK), so
/// a long state does not shrink the numbers.
fn state_size(ui: &egui::Ui, state: &str, primary: f32) -> f32 {
    let widest = bold_width(ui, "PAUSE", primary);
    let width = bold_width(ui, state, primary);
    if width > widest {
        primary * widest / width
    } else {
        primary
    }
}

/// The primary strip; `worst` is the most urgent of the banner's messages.
pub fn primary_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>, worst: Option<&BannerMessage>) {
    let dark = ui.visuals().dark_mode;
    let weak = ui.visuals().weak_text_color();
    let blocks = blocks(model, dark, weak);
    let width = ui.available_width();
    let fitted = fitted_sizes(ui, &blocks, width);
    let sizes = fitted.sizes;
    let spacing = ui.spacing().item_spacing.x;
    let height = sizes.title * 1.3 + sizes.primary * 1.25 + sizes.title * 1.3;
    ui.horizontal(|ui| {
        let mut used = 0.0;
        for (i, (b, w)) in blocks.iter().zip(&fitted.widths).enumerate() {
            let size = if i == 0 { fitted.state } else { sizes.primary };
            block_ui(ui, *w, height, b, sizes, size);
            used += w + spacing;
        }
        alarm_ui(ui, (width - used).max(80.0), height, worst, sizes);
    });
}

fn dimmed(color: Color32, dim: bool) -> Color32 {
    if dim {
        color.gamma_multiply(STALE_DIM)
    } else {
        color
    }
}

fn block_ui(ui: &mut egui::Ui, width: f32, height: f32, b: &Block, sizes: TypeSizes, size: f32) {
    let dim = b.dim || b.why.is_some();
    let strong = ui.visuals().strong_text_color();
    let normal = ui.visuals().text_color();
    let (fill, title_color, value_color, text_color) = match &b.alarm {
        Some((priority, _)) => {
            let on = on_priority_color(*priority);
            (alarm_fill(ui, *priority), on, on, on)
        }
        None => (
            Color32::TRANSPARENT,
            b.title_color,
            b.value_color.unwrap_or(strong),
            normal,
        ),
    };
    let frame = egui::Frame::new()
        .fill(fill)
        .stroke(Stroke::new(
            1.0,
            ui.visuals().widgets.noninteractive.bg_stroke.color,
        ))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(MARGIN_X, MARGIN_Y));
    let response = frame
        .show(ui, |ui| {
            let inner = width - 2.0 * f32::from(MARGIN_X) - 2.0;
            ui.set_width(inner);
            ui.set_min_height(height);
            ui.spacing_mut().item_spacing.y = 0.0;
            ui.vertical(|ui| {
                ui.label(
                    RichText::new(&b.title)
                        .font(theme::condensed(sizes.title))
                        .color(dimmed(title_color, dim)),
                );
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 6.0;
                    ui.add(
                        egui::Label::new(
                            RichText::new(&b.value)
                                .font(theme::bold(size))
                                .color(dimmed(value_color, dim)),
                        )
                        .extend(),
                    );
                    if !b.beside.is_empty() || b.alarm.is_some() {
                        ui.vertical(|ui| {
                            ui.add_space(size * 0.2);
                            if !b.beside.is_empty() {
                                ui.label(
                                    RichText::new(&b.beside)
                                        .font(theme::condensed(sizes.beside))
                                        .color(dimmed(text_color, dim)),
                                );
                            }
                            if let Some((_, limit)) = &b.alarm {
                                ui.label(
                                    RichText::new(limit)
                                        .font(theme::bold(sizes.beside))
                                        .strong()
                                        .color(text_color),
                                );
                            }
                        });
                    }
                });
                match &b.why {
                    Some(why) => badge_ui(ui, why, sizes.title),
                    None => {
                        ui.add(
                            egui::Label::new(
                                RichText::new(&b.sub)
                                    .font(theme::condensed(sizes.title))
                                    .color(dimmed(text_color, dim)),
                            )
                            .truncate(),
                        );
                    }
                }
            });
        })
        .response;
    match (&b.why, &b.hover) {
        (Some(why), _) => {
            response.on_hover_text(format!(
                "Not current ({why}): the last value received, kept for reference"
            ));
        }
        (None, Some(hover)) => {
            response.on_hover_text(hover);
        }
        (None, None) => {}
    }
}

/// Why a value is not current, in the text colours inverted: it catches the eye from the bed
/// without taking an alarm colour.
pub fn badge_ui(ui: &mut egui::Ui, why: &str, size: f32) {
    let strong = ui.visuals().strong_text_color();
    egui::Frame::new()
        .fill(strong)
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(6, 0))
        .show(ui, |ui| {
            let panel = ui.visuals().panel_fill;
            ui.add(
                egui::Label::new(
                    RichText::new(why)
                        .font(theme::bold(size))
                        .strong()
                        .color(panel),
                )
                .truncate(),
            );
        });
}

/// The worst active alarm, its text in its priority colour (flashing as the banner does), or a
/// quiet "no alarms". Painted rather than labelled: the banner above carries it for assistive
/// technology, and a second copy would be read twice.
fn alarm_ui(
    ui: &mut egui::Ui,
    width: f32,
    height: f32,
    worst: Option<&BannerMessage>,
    sizes: TypeSizes,
) {
    let weak = ui.visuals().weak_text_color();
    // One stroke width either way: the strip keeps its height when an alarm comes.
    let stroke = match worst {
        Some(m) => Stroke::new(2.0, priority_color(m.priority)),
        None => Stroke::new(2.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
    };
    let dark = ui.visuals().dark_mode;
    let filled = !dark && worst.is_some();
    let seconds = ui.input(|i| i.time);
    let bright = worst.is_some_and(|m| m.bright_at(seconds));
    let (fill, alarm_text) = worst.map_or((Color32::TRANSPARENT, weak), |m| {
        alarm_block_colors(m.priority, dark, bright)
    });
    egui::Frame::new()
        .fill(fill)
        .stroke(stroke)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(MARGIN_X, MARGIN_Y))
        .show(ui, |ui| {
            let inner = width - 2.0 * f32::from(MARGIN_X) - 4.0;
            ui.set_width(inner);
            ui.set_min_height(height);
            ui.spacing_mut().item_spacing.y = 0.0;
            ui.vertical(|ui| {
                let title = match worst {
                    Some(m) if filled => on_priority_color(m.priority),
                    _ => weak,
                };
                ui.label(RichText::new("Alarm").size(sizes.title).color(title));
                let (text, color, size) = match worst {
                    Some(m) => {
                        // First, so that a text cut short never hides it.
                        let ended = if m.latched { "Cleared: " } else { "" };
                        (
                            format!("{} {ended}{}", m.priority.marker(), m.text),
                            alarm_text,
                            (sizes.primary * 0.5).max(24.0),
                        )
                    }
                    None => ("no alarms".to_owned(), weak, sizes.title * 1.2),
                };
                let rows_height = height - sizes.title * 1.3;
                let galley = fit_text(ui, &text, size, color, inner, rows_height);
                let (rect, response) =
                    ui.allocate_exact_size(egui::vec2(inner, rows_height), egui::Sense::hover());
                ui.painter()
                    .with_clip_rect(rect)
                    .galley(rect.min, galley, color);
                if let Some(m) = worst {
                    response.on_hover_text(&m.detail);
                }
            });
        });
}

/// The alarm block's fill and text colour for an alarm of `priority`, in its bright or dimmed
/// flash half. By night the text is in the alarm colour on the dark panel. By day an alarm
/// colour as text on white cannot be read from across the room (yellow least of all), so the
/// block is filled with it, as the banner is, and the text is the colour readable on it.
fn alarm_block_colors(priority: Priority, dark: bool, bright: bool) -> (Color32, Color32) {
    let shown = super::banner::flash_color(priority, bright);
    if dark {
        (Color32::TRANSPARENT, shown)
    } else {
        (shown, on_priority_color(priority))
    }
}

/// `text` in bold, laid out to fit `width` × `height`: at `size` if it fits, else smaller, down
/// to 60 % (never under 16 px); if it still does not fit, its last row ends in "…", so that a
/// text cut short says so.
fn fit_text(
    ui: &egui::Ui,
    text: &str,
    size: f32,
    color: Color32,
    width: f32,
    height: f32,
) -> Arc<Galley> {
    let floor = (size * 0.6).max(16.0).min(size);
    let mut try_size = size;
    loop {
        let galley = ui
            .painter()
            .layout(text.to_owned(), theme::bold(try_size), color, width);
        if galley.size().y <= height {
            return galley;
        }
        if try_size <= floor {
            break;
        }
        try_size = (try_size * 0.9).max(floor);
    }
    let font = theme::bold(floor);
    let row = ui.fonts_mut(|f| f.row_height(&font));
    let mut job = egui::text::LayoutJob::simple(text.to_owned(), font, color, width);
    // Whole rows only; at least one.
    job.wrap.max_rows = ((height / row).floor() as usize).max(1);
    job.wrap.overflow_character = Some('…');
    ui.painter().layout_job(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG 2 contrast ratio of `text` on `background` (`text` blended over it).
    fn contrast(text: Color32, background: Color32) -> f32 {
        // One channel (alpha `alpha`) over the same channel of what is under it, linearised.
        let linear = |channel: u8, under: u8, alpha: u8| {
            let (channel, under, alpha) = (f32::from(channel), f32::from(under), f32::from(alpha));
            let value = (channel * alpha + under * (255.0 - alpha)) / 255.0 / 255.0;
            if value <= 0.04045 {
                value / 12.92
            } else {
                ((value + 0.055) / 1.055).powf(2.4)
            }
        };
        let luminance = |colour: Color32, under: Color32| {
            let [red, green, blue, alpha] = colour.to_srgba_unmultiplied();
            0.2126 * linear(red, under.r(), alpha)
                + 0.7152 * linear(green, under.g(), alpha)
                + 0.0722 * linear(blue, under.b(), alpha)
        };
        let (fore, back) = (
            luminance(text, background),
            luminance(background, background),
        );
        (fore.max(back) + 0.05) / (fore.min(back) + 0.05)
    }

    #[test]
    fn the_alarm_blocks_text_can_be_read_on_its_background_by_day_and_by_night() {
        for (dark, panel) in [
            (true, Color32::from_rgb(0x12, 0x14, 0x18)),
            (false, egui::Visuals::light().panel_fill),
        ] {
            for priority in [Priority::High, Priority::Medium, Priority::Low] {
                // The bright half of the flash is where it must be read from across the room.
                let (fill, text) = alarm_block_colors(priority, dark, true);
                let background = if fill == Color32::TRANSPARENT {
                    panel
                } else {
                    fill
                };
                let ratio = contrast(text, background);
                // 3:1 is WCAG's floor for large text; the block's text is 24 px bold or more.
                assert!(ratio >= 3.0, "{priority:?} dark={dark}: {ratio:.2}");
            }
        }
    }

    /// Runs `check` in a panel of a context with the monitor's typeface (two passes: fonts are
    /// loaded at the start of the second).
    fn in_ui(mut check: impl FnMut(&mut egui::Ui)) {
        let ctx = egui::Context::default();
        theme::install_fonts(&ctx);
        let mut checked = false;
        for pass in 0..2 {
            let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
                if pass == 1 && !checked {
                    check(ui);
                    checked = true;
                }
            });
            // Nothing is drawn: the font atlas's updates are dropped.
            output.textures_delta.clear();
        }
        assert!(checked, "the check never ran");
    }

    #[test]
    fn alarm_text_shrinks_to_fit_and_a_text_cut_short_ends_in_an_ellipsis() {
        in_ui(|ui| {
            let white = Color32::WHITE;
            let text = "!!! Cleared: Access pressure low - check patient arm";
            // Room enough: its size, whole.
            let g = fit_text(ui, text, 32.0, white, 2000.0, 100.0);
            assert!(!g.elided && g.rows.len() == 1, "{:?}", g.size());
            // Three rows' room at 32 px would cut it: a smaller size fits it whole.
            let g = fit_text(ui, text, 32.0, white, 240.0, 110.0);
            assert!(!g.elided, "{:?}", g.size());
            assert!(g.size().y <= 110.0 && g.text().ends_with("arm"));
            // No room even at the smallest size: cut, and the last row says so.
            let g = fit_text(ui, text, 32.0, white, 120.0, 40.0);
            assert!(g.elided && g.size().y <= 40.0, "{:?}", g.size());
            assert!(g.rows.last().is_some_and(|r| r.text().ends_with('…')));
        });
    }
}
