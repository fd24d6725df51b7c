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
use crate::alarms::{AlarmOff, SampleAge};
use crate::analysis::patient::citrate_mg_kg_min;
use crate::analysis::{Moment, Patient, Progress, Series, Target};
use crate::model::{MachineState, Priority, Quantity};
use crate::session::Link;

pub use super::banner::{BannerMessage, banner_messages, banner_ui, flash_hz, flash_on};
use super::format::{age, clock_hm, duration_hms, grouped, in_duration};
use super::theme::{priority_color, quantity_color, series_color, state_color};

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

/// The header line.
pub fn header_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>) {
    ui.horizontal(|ui| {
        let patient = model.patient;
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
        ui.label(RichText::new(who).size(20.0).strong());
        if let Some(machine) = &model.machine {
            ui.separator();
            ui.label(RichText::new(machine).size(16.0));
        }
        ui.separator();
        let state = model.timeline.state();
        let confirmed = model.timeline.state_confirmed();
        let (state_text, color) = match state {
            Some(s) if confirmed => (s.as_str().to_owned(), state_color(s)),
            Some(s) => (format!("{}?", s.as_str()), Color32::GRAY),
            None => ("—".to_owned(), Color32::GRAY),
        };
        let pill = egui::Frame::new()
            .fill(color)
            .corner_radius(6.0)
            .inner_margin(egui::Margin::symmetric(10, 2))
            .show(ui, |ui| {
                ui.label(
                    RichText::new(state_text)
                        .size(20.0)
                        .strong()
                        .color(Color32::WHITE),
                );
            });
        if !confirmed {
            pill.response.on_hover_text(
                "The link was lost since the machine last stated its state: it may have changed",
            );
        }
        ui.separator();
        let (link_text, link_color) = match model.link.map(|l| &l.state) {
            Some(LinkState::Up | LinkState::Silent) => match model.sample_age {
                Some(SampleAge::Secs(a)) if SampleAge::Secs(a).is_fresh() => (
                    // Tenths rounded down: 9.99 s old is never shown as "10.0 s".
                    format!("link ok ({:.1} s)", (a * 10.0).floor() / 10.0),
                    Color32::from_rgb(0x00, 0x9E, 0x73),
                ),
                Some(SampleAge::Secs(a)) => (
                    format!("no data ({})", age(a.floor())),
                    priority_color(Priority::Medium),
                ),
                Some(SampleAge::Unknown) => (
                    "no data (age unknown)".into(),
                    priority_color(Priority::Medium),
                ),
                None => ("port open, waiting for data".into(), Color32::GRAY),
            },
            Some(LinkState::Down { .. }) => ("link lost".into(), priority_color(Priority::Medium)),
            Some(LinkState::Closed) => ("recording stopped".into(), Color32::GRAY),
            None => ("recorded session".into(), Color32::GRAY),
        };
        ui.label(RichText::new(link_text).size(16.0).color(link_color));
        if let Some(badge) = &model.badge {
            ui.separator();
            ui.label(
                RichText::new(badge)
                    .size(14.0)
                    .strong()
                    .color(Color32::from_rgb(0xE6, 0x9F, 0x00)),
            );
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(RichText::new(clock_hm(model.now)).size(22.0).strong());
            if let Some(run_start) = first_state_x(model.timeline, MachineState::Run)
                && let Some((_, last)) = model.timeline.x_range()
            {
                ui.label(
                    RichText::new(format!("elapsed {}", duration_hms(last - run_start))).size(16.0),
                )
                .on_hover_text("since the run started");
            }
        });
    });
}

fn first_state_x(timeline: Moment<'_>, state: MachineState) -> Option<f64> {
    timeline
        .states()
        .find(|s| s.state == state)
        .map(|s| s.start_x)
}

/// One value tile.
struct Tile<'a> {
    title: &'a str,
    value: String,
    unit: &'a str,
    sub: String,
    color: Color32,
    hover: Option<&'a str>,
}

/// How much of its colour a value keeps when it is not current: dim enough to read as "not
/// now" from two metres, in either theme, while the number stays legible up close.
pub const STALE_DIM: f32 = 0.35;

/// Draws one tile; `not_current` (why the value is not current, with its age) dims the title,
/// the value and the unit and puts the age in place of the tile's second line.
fn tile_ui(ui: &mut egui::Ui, width: f32, tile: &Tile<'_>, not_current: Option<&str>) {
    let frame = egui::Frame::new()
        .stroke(Stroke::new(
            1.0,
            ui.visuals().widgets.noninteractive.bg_stroke.color,
        ))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(10, 6));
    let strong = ui.visuals().strong_text_color();
    let normal = ui.visuals().text_color();
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
            // Values scale with the tile, so a wide screen reads from further away.
            let value_size = (width / 5.8).clamp(24.0, 46.0);
            ui.vertical(|ui| {
                ui.label(
                    RichText::new(tile.title)
                        .size(16.0)
                        .color(dim(tile.color))
                        .strong(),
                );
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 4.0;
                    ui.add(
                        egui::Label::new(
                            RichText::new(&tile.value)
                                .size(value_size)
                                .strong()
                                .color(dim(strong)),
                        )
                        .extend(),
                    );
                    ui.label(RichText::new(tile.unit).size(15.0).color(dim(normal)));
                });
                match not_current {
                    // A badge in the text colours inverted: it catches the eye from the bed
                    // without taking an alarm colour.
                    Some(why) => {
                        egui::Frame::new()
                            .fill(strong)
                            .corner_radius(4.0)
                            .inner_margin(egui::Margin::symmetric(6, 0))
                            .show(ui, |ui| {
                                let panel = ui.visuals().panel_fill;
                                ui.add(
                                    egui::Label::new(
                                        RichText::new(why).size(18.0).strong().color(panel),
                                    )
                                    .truncate(),
                                );
                            });
                    }
                    None => {
                        ui.add(egui::Label::new(RichText::new(&tile.sub).size(15.0)).truncate());
                    }
                }
            });
        })
        .response;
    match (not_current, tile.hover) {
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

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.decimals$}"))
}

/// The row of big value tiles.
pub fn tiles_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>) {
    let dark = ui.visuals().dark_mode;
    let t = model.timeline;
    let latest = |q: Quantity| t.latest_value(Series::Measured(q));
    let wb = model.progress.wb_processed_ml;
    let tbv_line = match (model.progress.tbv_processed, model.target) {
        (Some(done), Target::Tbv(target)) => format!("{done:.2} / {target:.2} TBV"),
        (Some(done), Target::WbLitres(l)) => format!("{done:.2} TBV · target {l:.1} L"),
        (None, Target::WbLitres(l)) => format!("target {l:.1} L"),
        (None, Target::Tbv(target)) => format!("— / {target:.2} TBV"),
    };
    let tbv_hover = model
        .patient
        .tbv_unavailable_reason()
        .map(|r| format!("TBVs {r}"));
    let pressures = format!(
        "{} / {}",
        number(latest(Quantity::AccessMmhg), 0),
        number(latest(Quantity::ReturnMmhg), 0)
    );
    // Live, the tile reads what the citrate alarm reads: the AC infused, averaged, per litre of
    // TBV, with mg/kg/min beside it. Otherwise (a replay, or under two minutes of data) an
    // estimate from the AC flow of the moment, in mg/kg/min.
    let (citrate, citrate_unit, citrate_sub, citrate_hover) = match (
        &model.citrate,
        latest(Quantity::AcMlMin),
        model.patient.weight_kg,
    ) {
        (Some(r), _, _) => (
            format!("{:.2}", r.ml_min_per_l),
            "mL/min/L",
            match r.mg_kg_min {
                Some(mg) => format!("= {mg:.2} mg/kg/min"),
                None => format!("{:.0}-min mean", r.average_min),
            },
            "ACD-A-equivalent mL/min per litre of TBV, averaged over the citrate alarm's window \
             (5 min unless the limits say otherwise): the number the alarm compares",
        ),
        (None, Some(ac), Some(w)) => (
            format!("{:.2}", citrate_mg_kg_min(ac, w)),
            "mg/kg/min",
            "from AC flow now".to_owned(),
            "ACD-A 21.3 mg/mL × AC flow ÷ weight, at this moment",
        ),
        (None, None, Some(_)) => (
            "—".to_owned(),
            "mg/kg/min",
            "from AC flow".to_owned(),
            "no AC flow from the machine yet",
        ),
        (None, _, None) => (
            "—".to_owned(),
            "mg/kg/min",
            "from AC flow".to_owned(),
            "needs a valid patient weight (Setup)",
        ),
    };
    let tiles = [
        Tile {
            title: "WB processed",
            value: wb.map_or_else(|| "—".into(), grouped),
            unit: "mL",
            sub: tbv_line,
            color: series_color(Series::WbProcessedMl, dark),
            hover: tbv_hover.as_deref(),
        },
        Tile {
            title: "Inlet",
            value: number(latest(Quantity::InletMlMin), 1),
            unit: "mL/min",
            sub: "whole blood + AC".into(),
            color: quantity_color(Quantity::InletMlMin, dark),
            hover: None,
        },
        Tile {
            title: "AC",
            value: number(latest(Quantity::AcMlMin), 2),
            unit: "mL/min",
            sub: latest(Quantity::AcRatio)
                .map_or_else(|| "ratio —".into(), |r| format!("ratio {r:.0}:1")),
            color: quantity_color(Quantity::AcMlMin, dark),
            hover: None,
        },
        Tile {
            title: "AC used",
            value: latest(Quantity::AcMl).map_or_else(|| "—".into(), grouped),
            unit: "mL",
            sub: "ACD-A to patient".into(),
            color: quantity_color(Quantity::AcMl, dark),
            hover: None,
        },
        Tile {
            title: "Product",
            value: number(latest(Quantity::CollectMl), 0),
            unit: "mL",
            sub: latest(Quantity::CollectMlMin)
                .map_or_else(|| "collect —".into(), |v| format!("collect {v:.2} mL/min")),
            color: quantity_color(Quantity::CollectMl, dark),
            hover: None,
        },
        Tile {
            title: "Access / return",
            value: pressures,
            unit: "mmHg",
            sub: "line pressures".into(),
            color: quantity_color(Quantity::AccessMmhg, dark),
            hover: None,
        },
        Tile {
            title: "Citrate (est.)",
            value: citrate,
            unit: citrate_unit,
            sub: citrate_sub,
            color: quantity_color(Quantity::AcMlMin, dark),
            hover: Some(citrate_hover),
        },
    ];
    let count = tiles.len() as f32;
    let spacing = ui.spacing().item_spacing.x;
    let width = ((ui.available_width() - spacing * (count - 1.0)) / count).max(120.0);
    let not_current = model.not_current();
    ui.horizontal(|ui| {
        for tile in &tiles {
            tile_ui(ui, width, tile, not_current.as_deref());
        }
    });
}

/// Progress to target with the projected end, counted from now (or from the replay's
/// moment): when data stops, the end moves later with the clock. Dimmed, with the data's age,
/// when the data is not current.
pub fn progress_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>) {
    let p = &model.progress;
    let mut text = match (p.fraction, p.remaining_s) {
        (Some(f), Some(_)) if f >= 1.0 => format!("{:.0} %  target reached", f * 100.0),
        (Some(f), Some(remaining)) => {
            let clock = p.projected_end(model.now).map(clock_hm).unwrap_or_default();
            format!(
                "{:.0} %   projected end {clock} (in {})   at {:.0} mL/min WB",
                f * 100.0,
                in_duration(remaining),
                p.rate_ml_min.unwrap_or_default()
            )
        }
        (Some(f), None) => format!(
            "{:.0} %   {}",
            f * 100.0,
            p.unavailable.clone().unwrap_or_default()
        ),
        (None, _) => p.unavailable.clone().unwrap_or_else(|| "no target".into()),
    };
    let not_current = model.not_current();
    if let Some(why) = &not_current {
        let _ = write!(text, "   · {why}");
    }
    let fraction = p.fraction.unwrap_or(0.0).clamp(0.0, 1.0) as f32;
    let mut bar = egui::ProgressBar::new(fraction)
        .text(RichText::new(text).size(18.0).strong())
        .desired_height(30.0);
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
    let dark = ui.visuals().dark_mode;
    let (fill, text) = if dark {
        (Color32::from_gray(0x3C), Color32::from_gray(0xF0))
    } else {
        (Color32::from_gray(0xD8), Color32::from_gray(0x10))
    };
    egui::Frame::new()
        .fill(fill)
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(12, 4))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new("ALARM OFF").size(18.0).strong().color(text));
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
