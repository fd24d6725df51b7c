//! One bed's tile on the ward screen, read from 2 m: the bed's name large over its state's
//! colour band, progress to the target, projected end and citrate, the worst active alarm in
//! its IEC 60601-1-8 colour flashing as the monitor's banner does, and how old the data is.
//! An offline bed is greyed and says since when; a bed whose status stopped says for how long.

use egui::{Align, Color32, Layout, RichText, Sense, Stroke, UiBuilder, pos2, vec2};

use crate::model::Priority;
use crate::present::text::{age, grouped};
use crate::ward::board::BedView;

use super::banner::{flash_color, flash_hz, flash_on};
use super::monitor::STALE_DIM;
use super::theme::{self, Accent, accent_color, on_priority_color, state_color};

/// The narrowest a tile gets before the grid takes a column away.
pub const MIN_TILE_WIDTH: f32 = 300.0;
/// The lowest a tile gets before the grid scrolls.
pub const MIN_TILE_HEIGHT: f32 = 330.0;
/// The tallest a tile gets (a few beds do not stretch to the whole screen).
pub const MAX_TILE_HEIGHT: f32 = 380.0;

/// The height of the state's colour band at the top of the tile.
const BAND: f32 = 14.0;
const MARGIN: f32 = 12.0;

/// The accessible name of a bed's tile (what a click or a screen reader finds).
pub fn tile_label(bed: &str) -> String {
    format!("bed {bed}")
}

/// Type sizes for a tile `width` wide.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    name: f32,
    value: f32,
    title: f32,
    alarm: f32,
}

impl Sizes {
    /// Sizes for a tile `width` × `height`: the name scales with the width, and down so that
    /// everything fits the height (the tile's contents are about 160 px plus 3.9 names high).
    fn for_tile(width: f32, height: f32) -> Sizes {
        let name = (width * 0.13).min((height - 160.0) / 3.9).clamp(30.0, 54.0);
        Sizes {
            name,
            value: (name * 0.7).clamp(26.0, 36.0),
            title: 18.0,
            alarm: (name * 0.5).clamp(22.0, 27.0),
        }
    }
}

/// Draws the tile of `view` in `rect`; returns whether it was clicked.
pub fn tile_ui(ui: &mut egui::Ui, rect: egui::Rect, view: &BedView, selected: bool) -> bool {
    let dark = ui.visuals().dark_mode;
    let id = egui::Id::unique(("ward-tile", view.bed.as_str()));
    let response = ui.interact(rect, id, Sense::click());
    let label = tile_label(view.bed.as_str());
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &label));
    let visuals = ui.visuals().clone();
    let hovered = response.hovered();
    let painter = ui.painter_at(rect);
    let fill = if view.online {
        visuals.faint_bg_color
    } else {
        visuals.extreme_bg_color
    };
    let stroke = if selected {
        Stroke::new(3.0, accent_color(Accent::Notice, dark))
    } else if hovered {
        visuals.widgets.hovered.bg_stroke
    } else {
        Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color)
    };
    painter.rect_filled(rect, 8.0, fill);
    // The state's colour band (grey when offline or the state is unknown).
    let band = egui::Rect::from_min_size(rect.min, vec2(rect.width(), BAND));
    let band_color = match view.machine_state {
        Some(state) if view.online => state_color(state),
        _ => visuals.weak_text_color().gamma_multiply(0.5),
    };
    painter.rect_filled(
        band,
        egui::CornerRadius {
            nw: 8,
            ne: 8,
            sw: 0,
            se: 0,
        },
        band_color,
    );
    painter.rect_stroke(rect, 8.0, stroke, egui::StrokeKind::Inside);

    let inner = egui::Rect::from_min_max(
        pos2(rect.left() + MARGIN, band.bottom() + 6.0),
        pos2(rect.right() - MARGIN, rect.bottom() - MARGIN * 0.6),
    );
    let sizes = Sizes::for_tile(rect.width(), rect.height());
    // A child placed on the tile, not allocated in the grid (the grid placed the tile).
    let mut child = ui.new_child(
        UiBuilder::new()
            .id_salt(("ward-tile-contents", view.bed.as_str()))
            .max_rect(inner)
            .layout(Layout::top_down(Align::Min)),
    );
    // Labels inside a tile must not take its click.
    child.style_mut().interaction.selectable_labels = false;
    child.set_clip_rect(inner.intersect(ui.clip_rect()));
    child.spacing_mut().item_spacing.y = 4.0;
    contents(&mut child, view, sizes, dark);
    response.clicked()
}

fn contents(ui: &mut egui::Ui, view: &BedView, sizes: Sizes, dark: bool) {
    let strong = ui.visuals().strong_text_color();
    let normal = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    let width = ui.available_width();
    // The bed's name, and its state on the right.
    ui.horizontal(|ui| {
        ui.set_width(width);
        let name_color = if view.online { strong } else { weak };
        ui.label(
            RichText::new(view.bed.as_str())
                .font(theme::bold(sizes.name))
                .color(name_color),
        );
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if let (Some(state), true) = (&view.state, view.online) {
                let color = view.machine_state.map_or(normal, state_color);
                ui.label(
                    RichText::new(state)
                        .font(theme::bold(sizes.value))
                        .color(color),
                );
            }
        });
    });
    if !view.online {
        let since = view.offline_since.as_deref().unwrap_or("--:--");
        ui.label(
            RichText::new(format!("offline since {since}"))
                .font(theme::bold(sizes.value))
                .color(strong),
        );
        // Gone dark in the middle of a run: nobody on the ward sees it. Closed after its end
        // (or before it started): routine.
        match view.state.as_deref() {
            Some(state) if view.dark_mid_procedure() => {
                ui.label(
                    RichText::new(format!("was in {state}: check the bed"))
                        .font(theme::bold(sizes.value * 0.8))
                        .color(strong),
                );
            }
            Some("END") => {
                ui.label(
                    RichText::new("its run had ended")
                        .size(sizes.title)
                        .color(normal),
                );
            }
            _ => {}
        }
        ui.label(
            RichText::new("the bedside stopped publishing; its last values are not shown")
                .size(sizes.title)
                .color(weak),
        );
        return;
    }
    let dim = view.stale || view.no_status_s.is_some();
    let value_color = if dim {
        strong.gamma_multiply(STALE_DIM + 0.25)
    } else {
        strong
    };
    progress_ui(ui, view, sizes, dim, value_color);
    ui.add_space(2.0);
    // Projected end and citrate, side by side.
    ui.columns(2, |cols| {
        figure_ui(
            &mut cols[0],
            "end",
            view.projected_end.clone(),
            sizes,
            value_color,
        );
        figure_ui(
            &mut cols[1],
            "citrate mL/min/L",
            view.citrate_ml_min_l.map(|c| format!("{c:.2}")),
            sizes,
            value_color,
        );
    });
    ui.add_space(4.0);
    alarm_ui(ui, view, sizes);
    // Whatever room is left pushes the age to the bottom.
    ui.with_layout(Layout::bottom_up(Align::Min), |ui| {
        age_ui(ui, view, sizes, dark);
    });
}

/// The progress bar with its percentage, and the volume against the target under it.
fn progress_ui(ui: &mut egui::Ui, view: &BedView, sizes: Sizes, dim: bool, text: Color32) {
    let weak = ui.visuals().weak_text_color();
    let height = sizes.value + 10.0;
    let (rect, _) = ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    let fraction = view.progress.unwrap_or(0.0).clamp(0.0, 1.0) as f32;
    let mut fill = ui.visuals().selection.bg_fill;
    if dim {
        fill = fill.gamma_multiply(STALE_DIM);
    }
    let done = egui::Rect::from_min_size(rect.min, vec2(rect.width() * fraction, height));
    painter.rect_filled(done, 4.0, fill);
    painter.rect_stroke(
        rect,
        4.0,
        Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
        egui::StrokeKind::Inside,
    );
    let percent = view
        .progress
        .map_or_else(|| "no target".to_owned(), |p| format!("{:.0} %", p * 100.0));
    painter.text(
        rect.left_center() + vec2(8.0, 0.0),
        egui::Align2::LEFT_CENTER,
        &percent,
        theme::bold(sizes.value),
        text,
    );
    let volume = match (view.wb_processed_ml, view.target_wb_ml) {
        (Some(wb), Some(target)) => format!("{} / {} mL WB", grouped(wb), grouped(target)),
        (Some(wb), None) => format!("{} mL WB", grouped(wb)),
        _ => "no volume yet".to_owned(),
    };
    let tbv = view
        .tbv_processed
        .map(|t| format!("  ·  {t:.2} TBV"))
        .unwrap_or_default();
    // The same figures for a screen reader, and in words under the bar.
    ui.add(
        egui::Label::new(
            RichText::new(format!("{volume}{tbv}"))
                .size(sizes.title)
                .color(weak),
        )
        .truncate(),
    )
    .on_hover_text(format!("progress {percent}"));
}

fn figure_ui(ui: &mut egui::Ui, title: &str, value: Option<String>, sizes: Sizes, color: Color32) {
    let weak = ui.visuals().weak_text_color();
    ui.spacing_mut().item_spacing.y = 0.0;
    ui.label(RichText::new(title).size(sizes.title).color(weak));
    ui.label(
        RichText::new(value.unwrap_or_else(|| "–".to_owned()))
            .font(theme::bold(sizes.value))
            .color(color),
    );
}

/// The worst active alarm, on its priority colour, flashing as the banner does; or a quiet
/// line when there is none.
fn alarm_ui(ui: &mut egui::Ui, view: &BedView, sizes: Sizes) {
    let Some(alarm) = &view.worst_alarm else {
        ui.label(
            RichText::new("no alarms")
                .size(sizes.title + 2.0)
                .color(ui.visuals().weak_text_color()),
        );
        return;
    };
    let seconds = ui.input(|i| i.time);
    if flash_hz(alarm.priority).is_some() {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(125));
    }
    let fill = flash_color(alarm.priority, flash_on(alarm.priority, seconds));
    let text_color = on_priority_color(alarm.priority);
    egui::Frame::new()
        .fill(fill)
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(8, 4))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.spacing_mut().item_spacing.y = 0.0;
            let marker = if alarm.priority == Priority::Info {
                "i".to_owned()
            } else {
                format!("{} ", alarm.priority.marker())
            };
            // Two lines at most: a long alarm text is cut after its second line.
            let mut job = egui::text::LayoutJob::single_section(
                format!("{marker}{}", alarm.text),
                egui::TextFormat::simple(theme::bold(sizes.alarm), text_color),
            );
            job.wrap.max_rows = 2;
            ui.add(egui::Label::new(job).wrap()).on_hover_text(format!(
                "{} {}",
                alarm.priority.name(),
                alarm.code
            ));
            let mut notes = Vec::new();
            if alarm.acknowledged {
                notes.push("acknowledged".to_owned());
            }
            if view.alarm_count > 1 {
                notes.push(format!("{} more alarms", view.alarm_count - 1));
            }
            if !notes.is_empty() {
                ui.label(
                    RichText::new(notes.join("  ·  "))
                        .size(sizes.title)
                        .color(text_color),
                );
            }
        });
}

/// How old the data is; marked when stale, and "no status for …" when the bed went quiet.
fn age_ui(ui: &mut egui::Ui, view: &BedView, sizes: Sizes, dark: bool) {
    let weak = ui.visuals().weak_text_color();
    let (text, color) = match (view.no_status_s, view.age_s) {
        (Some(silent), _) => (
            format!("no status for {}", age(silent.floor())),
            accent_color(Accent::Error, dark),
        ),
        (None, Some(secs)) if view.stale => (
            format!("STALE — {} old", age(secs.max(0.0).floor())),
            accent_color(Accent::Error, dark),
        ),
        (None, Some(secs)) => (format!("data {} old", age(secs.floor())), weak),
        (None, None) => ("no data yet".to_owned(), accent_color(Accent::Error, dark)),
    };
    // A quiet line while the data is current; large and marked when it is not.
    let size = if color == weak {
        sizes.title
    } else {
        sizes.alarm
    };
    ui.label(RichText::new(text).size(size).color(color));
    // The bedside's serial link, when it is not up (bottom-up: this goes above the age).
    if let Some(link) = view.link.as_deref().filter(|l| *l != "up") {
        ui.label(
            RichText::new(format!("serial link {link}"))
                .size(sizes.title)
                .color(weak),
        );
    }
}
