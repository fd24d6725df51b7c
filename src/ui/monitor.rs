//! The monitor view: header, attention banner, alarm-off indicator, value tiles, progress,
//! plots, footer. Readable from two metres: the biggest type is for what the nurse acts on.
//!
//! The banner shows the alarm engine's alarms and nothing else; the link, data and recording
//! alarms get live counters here. Data older than the one stale limit
//! ([`crate::alarms::STALE_AFTER_S`]), or from a link that is down, is never shown as current:
//! the tiles are dimmed with their age and the header says so.

use std::fmt::Write as _;

use egui::{Align, Color32, Layout, RichText, Stroke};
use jiff::Timestamp;

use crate::acquisition::LinkState;
use crate::alarms::citrate::CitrateReading;
use crate::alarms::engine::AlarmSettings;
use crate::alarms::{AlarmOff, SampleAge};
use crate::analysis::forecast::LiveForecast;
use crate::analysis::{Moment, Patient, Progress, Series, Target};
use crate::model::{Priority, Quantity};
use crate::session::Link;

pub use super::banner::{BannerMessage, banner_messages, banner_ui, flash_hz, flash_on};
use super::forecast::forecast_ui;
use super::format::{age, clock_hm, grouped};
use super::pressure_bar::pressures_ui;
use super::primary::{TypeSizes, badge_ui, primary_ui};
use super::theme::{self, Accent, accent_color, on_priority_color, priority_color, quantity_color};
use super::value_alarms::{ValueAlarms, integer};

/// Everything the monitor view shows, gathered from a live or replayed session.
pub struct MonitorModel<'a> {
    /// The session as it stands (live) or stood (at the replay's playhead).
    pub timeline: Moment<'a>,
    pub patient: &'a Patient,
    pub target: Target,
    pub progress: Progress,
    pub machine: Option<String>,
    pub now: Timestamp,
    /// The live session's link; `None` for a recorded session.
    pub link: Option<&'a Link>,
    /// How long the live link has been down, seconds (monotonic), while it is.
    pub link_down_s: Option<f64>,
    /// How old the latest sample is (live: on the monotonic clock); `None` before the first.
    pub sample_age: Option<SampleAge>,
    /// Demo speed factor, or replay description, shown in the header.
    pub badge: Option<String>,
    /// The citrate alarm rule's reading (live), shown in the citrate tile; without it the tile
    /// estimates from the AC flow of the moment.
    pub citrate: Option<CitrateReading>,
    /// The limits the monitor's rules compare with (live: the engine's; a replay: the
    /// recording's), for the pressure bars, the values in alarm and the plots.
    pub limits: AlarmSettings,
    /// Which values are in alarm now.
    pub in_alarm: ValueAlarms,
    /// The live dose forecast as of the moment shown.
    pub forecast: LiveForecast,
}

impl MonitorModel<'_> {
    /// Why the values shown are not current, if they are not: the link is down or closed, or
    /// the latest sample is stale (`"18 s old"`, `"link lost · 3 s old"`).
    pub fn not_current(&self) -> Option<String> {
        let old = match self.sample_age? {
            SampleAge::Secs(s) => format!("{} old", age_words(s)),
            SampleAge::Unknown => "age unknown".to_owned(),
        };
        match self.link.map(|l| &l.state) {
            Some(LinkState::Down { .. }) => Some(format!("link lost · {old}")),
            Some(LinkState::Closed) => Some(format!("recording stopped · {old}")),
            _ if self.sample_age.is_some_and(SampleAge::is_fresh) => None,
            _ => Some(old),
        }
    }
}

/// An age in words for a value's label: `18 s`, `4 min`, `2 h 05 min`. Ages of data are
/// rounded down everywhere (banner, header, tiles), so the screen never shows two ages for one
/// sample, nor a value younger than it is.
pub fn age_words(secs: f64) -> String {
    let total = secs.max(0.0).floor() as u64;
    match total {
        0..60 => format!("{total} s"),
        60..3600 => format!("{} min", total / 60),
        _ => format!("{} h {:02} min", total / 3600, total / 60 % 60),
    }
}

/// The header line: who, the machine, the link, the badge and the clock. The state and the
/// elapsed time are in the primary strip.
pub fn header_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>) {
    let dark = ui.visuals().dark_mode;
    let weak = ui.visuals().weak_text_color();
    // 20 px at 1366 wide, more on a wider screen.
    let size = TypeSizes::for_width(ui.available_width()).title;
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(who(model.patient))
                .font(theme::bold(size))
                .strong(),
        );
        if let Some(machine) = &model.machine {
            ui.separator();
            ui.label(RichText::new(machine).size(size * 0.8));
        }
        ui.separator();
        // The link's words and their colour; `None` for a warning (no data, link lost).
        let (link_text, link_color) = match model.link.map(|l| &l.state) {
            Some(LinkState::Up | LinkState::Silent) => match model.sample_age {
                Some(SampleAge::Secs(a)) if SampleAge::Secs(a).is_fresh() => (
                    // Tenths rounded down: 9.99 s old is never shown as "10.0 s".
                    format!("link ok ({:.1} s)", (a * 10.0).floor() / 10.0),
                    Some(accent_color(Accent::LinkOk, dark)),
                ),
                Some(SampleAge::Secs(a)) => (format!("no data ({})", age(a.floor())), None),
                Some(SampleAge::Unknown) => ("no data (age unknown)".into(), None),
                None => ("port open, waiting for data".into(), Some(weak)),
            },
            Some(LinkState::Down { .. }) => ("link lost".into(), None),
            Some(LinkState::Closed) => ("recording stopped".into(), Some(weak)),
            None => ("recorded session".into(), Some(weak)),
        };
        let link = RichText::new(link_text).size(size * 0.9);
        let warning = priority_color(Priority::Medium);
        ui.label(match link_color {
            Some(color) => link.color(color),
            None if dark => link.color(warning),
            // Yellow text on white cannot be read: by day it is a yellow patch with dark text.
            None => link
                .background_color(warning)
                .color(on_priority_color(Priority::Medium)),
        });
        if let Some(badge) = &model.badge {
            ui.separator();
            ui.label(
                RichText::new(badge)
                    .size(size * 0.9)
                    .strong()
                    .color(accent_color(Accent::Badge, dark)),
            );
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(
                RichText::new(clock_hm(model.now))
                    .font(theme::bold(size * 1.2))
                    .strong(),
            );
        });
    });
}

/// The patient line: ID, weight, height, sex, age and TBV with its method.
fn who(patient: &Patient) -> String {
    let mut who = patient.id.clone().unwrap_or_else(|| "No patient ID".into());
    let mut body = Vec::new();
    if let Some(w) = patient.weight_kg {
        // To 0.1 kg: a 3.5 kg neonate is not "4 kg".
        body.push(format!("{} kg", (w * 10.0).round() / 10.0));
    }
    if let Some(h) = patient.height_cm {
        body.push(format!("{h:.0} cm"));
    }
    if let Some(s) = patient.sex {
        body.push(
            if s == crate::analysis::Sex::Male {
                "M"
            } else {
                "F"
            }
            .to_owned(),
        );
    }
    if let Some(age) = patient.age {
        body.push(age.to_string());
    }
    if !body.is_empty() {
        who.push_str(" · ");
        who.push_str(&body.join(" "));
    }
    if let Some(tbv) = patient.tbv() {
        let _ = write!(
            who,
            " · TBV {:.2} L ({})",
            tbv.ml / 1000.0,
            tbv.method.short()
        );
    }
    who
}

/// The fill of a value in alarm: its priority colour, flashing as the banner does (bright and
/// dimmed halves at the priority's rate).
pub fn alarm_fill(ui: &egui::Ui, priority: Priority) -> Color32 {
    if flash_hz(priority).is_some() {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(125));
    }
    super::banner::flash_color(priority, flash_on(priority, ui.input(|i| i.time)))
}

/// One value tile.
struct Tile<'a> {
    title: &'a str,
    value: String,
    unit: &'a str,
    sub: String,
    color: Color32,
    /// In alarm: its priority and limit (`"limit 0"`), printed beside the value.
    alarm: Option<(Priority, String)>,
}

/// How much of its colour a value keeps when it is not current: dim enough to read as "not
/// now" from two metres, in either theme, while the number stays legible up close.
pub const STALE_DIM: f32 = 0.35;

/// Draws one secondary tile; `not_current` (why the value is not current, with its age) dims
/// the title, the value and the unit and puts the age in place of the tile's second line.
fn tile_ui(
    ui: &mut egui::Ui,
    width: f32,
    tile: &Tile<'_>,
    not_current: Option<&str>,
    sizes: TypeSizes,
) {
    let strong = ui.visuals().strong_text_color();
    let normal = ui.visuals().text_color();
    let (fill, title_color, value_color, text_color) = match &tile.alarm {
        Some((p, _)) => {
            let on = on_priority_color(*p);
            (alarm_fill(ui, *p), on, on, on)
        }
        None => (Color32::TRANSPARENT, tile.color, strong, normal),
    };
    let frame = egui::Frame::new()
        .fill(fill)
        .stroke(Stroke::new(
            1.0,
            ui.visuals().widgets.noninteractive.bg_stroke.color,
        ))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(10, 4));
    let dim = |color: Color32| {
        if not_current.is_some() {
            color.gamma_multiply(STALE_DIM)
        } else {
            color
        }
    };
    let response = frame
        .show(ui, |ui| {
            ui.set_width(width - 22.0);
            ui.spacing_mut().item_spacing.y = 0.0;
            ui.vertical(|ui| {
                ui.label(
                    RichText::new(tile.title)
                        .size(sizes.small_title())
                        .color(dim(title_color)),
                );
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 4.0;
                    ui.add(
                        egui::Label::new(
                            RichText::new(&tile.value)
                                .font(theme::bold(sizes.secondary))
                                .color(dim(value_color)),
                        )
                        .extend(),
                    );
                    ui.label(RichText::new(tile.unit).size(16.0).color(dim(text_color)));
                    if let Some((_, limit)) = &tile.alarm {
                        ui.label(
                            RichText::new(limit)
                                .font(theme::bold(16.0))
                                .strong()
                                .color(text_color),
                        );
                    }
                });
                match not_current {
                    Some(why) => badge_ui(ui, why, 18.0),
                    None => {
                        ui.add(
                            egui::Label::new(RichText::new(&tile.sub).size(16.0).color(text_color))
                                .truncate(),
                        );
                    }
                }
            });
        })
        .response;
    if let Some(why) = not_current {
        response.on_hover_text(format!(
            "Not current ({why}): the last value received, kept for reference"
        ));
    }
}

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.decimals$}"))
}

/// The second row: inlet, AC, AC used and product, and the access and return pressure bars,
/// smaller than the primary strip's values; under it, the dose forecast when there is one.
pub fn secondary_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>, sizes: TypeSizes) {
    let dark = ui.visuals().dark_mode;
    let t = model.timeline;
    let latest = |q: Quantity| t.latest_value(Series::Measured(q));
    let tiles = [
        Tile {
            title: "Inlet",
            value: number(latest(Quantity::InletMlMin), 1),
            unit: "mL/min",
            sub: "whole blood + AC".into(),
            color: quantity_color(Quantity::InletMlMin, dark),
            alarm: model.in_alarm.inlet.map(|p| {
                (
                    p,
                    format!("limit {}", integer(model.limits.inlet_stopped.limit)),
                )
            }),
        },
        Tile {
            title: "AC",
            value: number(latest(Quantity::AcMlMin), 2),
            unit: "mL/min",
            sub: latest(Quantity::AcRatio)
                .map_or_else(|| "ratio —".into(), |r| format!("ratio {r:.0}:1")),
            color: quantity_color(Quantity::AcMlMin, dark),
            alarm: None,
        },
        Tile {
            title: "AC used",
            value: latest(Quantity::AcMl).map_or_else(|| "—".into(), grouped),
            unit: "mL",
            sub: "ACD-A to patient".into(),
            color: quantity_color(Quantity::AcMl, dark),
            alarm: None,
        },
        Tile {
            title: "Product",
            value: number(latest(Quantity::CollectMl), 0),
            unit: "mL",
            sub: latest(Quantity::CollectMlMin)
                .map_or_else(|| "collect —".into(), |v| format!("collect {v:.2} mL/min")),
            color: quantity_color(Quantity::CollectMl, dark),
            alarm: None,
        },
    ];
    // Four tiles and the pressures, which take two tiles' width.
    let spacing = ui.spacing().item_spacing.x;
    let unit = ((ui.available_width() - spacing * 4.0) / 6.0).max(110.0);
    let not_current = model.not_current();
    ui.horizontal(|ui| {
        for tile in &tiles {
            tile_ui(ui, unit, tile, not_current.as_deref(), sizes);
        }
        pressures_ui(ui, unit * 2.0 + spacing, model, sizes);
    });
    // The dose forecast of a CAR-T collection on a line of its own (nothing otherwise).
    forecast_ui(ui, model, sizes);
}

/// How many messages under the first the banner's reserved space holds; more are listed in
/// the alarm review, and the worst is in the primary strip.
pub const BANNER_EXTRA_LINES: usize = 1;

/// The banner's panel, of one height whether or not there is an alarm (the first message's
/// line with its acknowledge button, and [`BANNER_EXTRA_LINES`] more), so the values below it
/// never move when an alarm comes or goes.
pub fn banner_panel(ui: &egui::Ui) -> egui::Panel {
    let row = |size: f32| ui.fonts_mut(|f| f.row_height(&egui::FontId::proportional(size)));
    let spacing = ui.spacing();
    let first = row(24.0)
        .max(row(18.0) + 2.0 * spacing.button_padding.y)
        .max(spacing.interact_size.y);
    let others = (row(16.0) + spacing.item_spacing.y) * BANNER_EXTRA_LINES as f32;
    egui::Panel::top("banner")
        .frame(egui::Frame::new().fill(ui.visuals().panel_fill))
        .show_separator_line(false)
        .exact_size((12.0 + first + others).ceil())
}

/// The primary strip, the progress bar, the second row and the dose forecast, their type
/// scaled to the width.
pub fn strips_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>, worst: Option<&BannerMessage>) {
    let sizes = TypeSizes::for_width(ui.available_width());
    primary_strips_ui(ui, model, worst);
    secondary_ui(ui, model, sizes);
}

/// The primary strip and the progress bar.
pub fn primary_strips_ui(
    ui: &mut egui::Ui,
    model: &MonitorModel<'_>,
    worst: Option<&BannerMessage>,
) {
    primary_ui(ui, model, worst);
    progress_ui(ui, model);
}

/// Progress to the target as a bar under the primary strip (the time left and the projected
/// end are in the strip). Dimmed, with the data's age, when the data is not current.
pub fn progress_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>) {
    let p = &model.progress;
    let mut text = match p.fraction {
        Some(f) if f >= 1.0 => format!("{:.0} % of target: target reached", f * 100.0),
        Some(f) => format!("{:.0} % of target", f * 100.0),
        None => p.unavailable.clone().unwrap_or_else(|| "no target".into()),
    };
    let not_current = model.not_current();
    if let Some(why) = &not_current {
        let _ = write!(text, "   · {why}");
    }
    let fraction = p.fraction.unwrap_or(0.0).clamp(0.0, 1.0) as f32;
    let mut bar = egui::ProgressBar::new(fraction)
        .text(RichText::new(text).font(theme::bold(18.0)).strong())
        .desired_height(24.0);
    if not_current.is_some() {
        bar = bar.fill(ui.visuals().selection.bg_fill.gamma_multiply(STALE_DIM));
    }
    ui.add(bar);
}

/// The persistent "alarm off" indicator: every rule that cannot raise its alarm, named, with
/// why (IEC 60601-1-8). Neutral colours: it must be seen, not mistaken for an alarm.
pub fn alarms_off_ui(ui: &mut egui::Ui, off: &[AlarmOff]) {
    if off.is_empty() {
        return;
    }
    let fill = ui.visuals().widgets.inactive.bg_fill;
    let text = ui.visuals().strong_text_color();
    egui::Frame::new()
        .fill(fill)
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(12, 4))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new("ALARM OFF")
                        .font(theme::bold(18.0))
                        .strong()
                        .color(text),
                );
                for rule in off {
                    ui.label(
                        RichText::new(format!("{}: {}", rule.source.rule_name(), rule.why))
                            .size(18.0)
                            .color(text),
                    );
                }
            });
        });
}

#[cfg(test)]
mod tests {
    use super::age_words;

    #[test]
    fn an_age_is_said_in_whole_units_rounded_down() {
        for (secs, words) in [
            (-3.0, "0 s"),
            (0.4, "0 s"),
            (18.9, "18 s"),
            (59.99, "59 s"),
            (60.0, "1 min"),
            (3599.0, "59 min"),
            (3600.0, "1 h 00 min"),
            (7530.0, "2 h 05 min"),
        ] {
            assert_eq!(age_words(secs), words, "{secs} s");
        }
    }
}
