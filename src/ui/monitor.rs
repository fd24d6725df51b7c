//! The monitor view: header, attention banner, value tiles, progress, plots, footer.
//! Readable from two metres: the biggest type is for what the nurse acts on.

use std::fmt::Write as _;

use egui::{Align, Color32, Layout, RichText, Stroke};
use jiff::Timestamp;

use crate::acquisition::LinkState;
use crate::alarms::{ActiveAlarm, AlarmSource};
use crate::analysis::patient::citrate_mg_kg_min;
use crate::analysis::{Moment, Patient, Progress, Series, Target};
use crate::model::{MachineState, Priority, Quantity};
use crate::session::Link;

use super::format::{age, clock_hm, clock_hms, duration_hms, grouped, in_duration};
use super::theme::{on_priority_color, priority_color, quantity_color, series_color, state_color};

/// No sample for this long while connected raises the stale-data banner.
pub const STALE_AFTER_SECS: f64 = 5.0;

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
    /// Demo speed factor, or replay description, shown in the header.
    pub badge: Option<String>,
}

/// One message in the attention banner.
#[derive(Debug, Clone, PartialEq)]
pub struct BannerMessage {
    pub priority: Priority,
    pub text: String,
    pub detail: String,
    /// The condition is over but the alarm latches until acknowledged.
    pub latched: bool,
}

/// The messages that need attention now, most urgent first.
pub fn banner_messages(
    model: &MonitorModel<'_>,
    recorder_error: Option<&(String, usize)>,
    alarms: Option<&[&ActiveAlarm]>,
) -> Vec<BannerMessage> {
    let mut out = Vec::new();
    if let Some((message, pending)) = recorder_error {
        out.push(BannerMessage {
            priority: Priority::High,
            text: format!("Recording is failing — {pending} rows kept in memory"),
            detail: message.clone(),
            latched: false,
        });
    }
    let sample_age = model
        .timeline
        .last_sample_utc()
        .map(|t| model.now.duration_since(t).as_secs_f64());
    if let Some(link) = model.link {
        match &link.state {
            LinkState::Down { reason } => out.push(BannerMessage {
                priority: Priority::Medium,
                text: format!(
                    "Link to machine lost for {} — reconnecting to {}",
                    age(model.now.duration_since(link.since).as_secs_f64()),
                    link.port
                ),
                detail: reason.clone(),
                latched: false,
            }),
            LinkState::Up | LinkState::Silent => {
                if let Some(secs) = sample_age.filter(|s| *s >= STALE_AFTER_SECS) {
                    out.push(BannerMessage {
                        priority: Priority::Medium,
                        text: format!("No data from machine for {}", age(secs)),
                        detail: format!("The port {} is open but no sample has arrived", link.port),
                        latched: false,
                    });
                }
            }
            LinkState::Closed => {}
        }
    }
    if let Some(engine) = alarms {
        for alarm in engine {
            // The link, data and recording states are shown above with live counters.
            if matches!(
                alarm.source,
                AlarmSource::NoData | AlarmSource::LinkLost | AlarmSource::RecordingFailed
            ) && alarm.condition_ended.is_none()
            {
                continue;
            }
            out.push(BannerMessage {
                priority: alarm.priority,
                text: alarm.text.clone(),
                detail: format!("{} since {}", alarm.source.code(), clock_hms(alarm.raised)),
                latched: alarm.condition_ended.is_some(),
            });
        }
    } else {
        let mut recorded: Vec<_> = model.timeline.active_alarms().collect();
        recorded.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(b.raised_x.total_cmp(&a.raised_x))
        });
        for alarm in recorded {
            out.push(BannerMessage {
                priority: alarm.priority,
                text: if alarm.text.is_empty() {
                    alarm.code.clone()
                } else {
                    alarm.text.clone()
                },
                detail: format!("alarm {} since {}", alarm.code, clock_hms(alarm.raised_utc)),
                latched: false,
            });
        }
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.priority));
    out
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
        let sample_age = model
            .timeline
            .last_sample_utc()
            .map(|t| model.now.duration_since(t).as_secs_f64());
        let (link_text, link_color) = match model.link.map(|l| &l.state) {
            Some(LinkState::Up | LinkState::Silent) => match sample_age {
                Some(a) if a < STALE_AFTER_SECS => (
                    format!("link ok ({a:.1} s)"),
                    Color32::from_rgb(0x00, 0x9E, 0x73),
                ),
                Some(a) => (
                    format!("no data ({})", age(a)),
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

/// Flash rates after IEC 60601-1-8: high about 2 Hz, medium about 0.5 Hz, low steady.
pub fn flash_hz(priority: Priority) -> Option<f64> {
    match priority {
        Priority::High => Some(2.0),
        Priority::Medium => Some(0.5),
        Priority::Low | Priority::Info => None,
    }
}

/// Whether a flashing alarm is in its bright half at `seconds` (a monotonic clock).
pub fn flash_on(priority: Priority, seconds: f64) -> bool {
    flash_hz(priority).is_none_or(|hz| (seconds * hz).fract() < 0.5)
}

/// The attention banner: the most urgent message large, the others listed below it, and the
/// acknowledge button with the audio pause countdown. Returns whether acknowledge was clicked.
pub fn banner_ui(
    ui: &mut egui::Ui,
    messages: &[BannerMessage],
    audio_paused_s: Option<f64>,
    can_acknowledge: bool,
) -> bool {
    let Some(first) = messages.first() else {
        return false;
    };
    let seconds = ui.input(|i| i.time);
    let mut acknowledged = false;
    let bright = first.latched || flash_on(first.priority, seconds);
    let base = priority_color(first.priority);
    let fill = if bright {
        base
    } else {
        base.gamma_multiply(0.55)
    };
    let text_color = on_priority_color(first.priority);
    if messages
        .iter()
        .any(|m| !m.latched && flash_hz(m.priority).is_some())
    {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(125));
    }
    egui::Frame::new()
        .fill(fill)
        .inner_margin(egui::Margin::symmetric(12, 6))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                let latched = if first.latched { "  (ended — acknowledge to clear)" } else { "" };
                ui.label(
                    RichText::new(format!(
                        "{} {}  {}{latched}",
                        first.priority.marker(),
                        first.priority.name(),
                        first.text
                    ))
                    .size(24.0)
                    .strong()
                    .color(text_color),
                )
                .on_hover_text(&first.detail);
                if can_acknowledge {
                    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                        if let Some(left) = audio_paused_s {
                            ui.label(
                                RichText::new(format!("audio paused {}", age(left)))
                                    .size(18.0)
                                    .strong()
                                    .color(text_color),
                            );
                        }
                        let label = RichText::new("Acknowledge").size(18.0).strong();
                        if ui.button(label).on_hover_text("Silences the sound for 2 minutes; the alarm stays shown while it lasts").clicked() {
                            acknowledged = true;
                        }
                    });
                }
            });
            for other in &messages[1..] {
                let latched = if other.latched { " (ended)" } else { "" };
                ui.label(
                    RichText::new(format!(
                        "{} {}  {}{latched}",
                        other.priority.marker(),
                        other.priority.name(),
                        other.text
                    ))
                    .size(16.0)
                    .color(text_color),
                )
                .on_hover_text(&other.detail);
            }
        });
    acknowledged
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

fn tile_ui(ui: &mut egui::Ui, width: f32, tile: &Tile<'_>) {
    let frame = egui::Frame::new()
        .stroke(Stroke::new(
            1.0,
            ui.visuals().widgets.noninteractive.bg_stroke.color,
        ))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(10, 6));
    let response = frame
        .show(ui, |ui| {
            ui.set_width(width - 22.0);
            // Values scale with the tile, so a wide screen reads from further away.
            let value_size = (width / 5.8).clamp(24.0, 46.0);
            ui.vertical(|ui| {
                ui.label(
                    RichText::new(tile.title)
                        .size(16.0)
                        .color(tile.color)
                        .strong(),
                );
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 4.0;
                    ui.add(
                        egui::Label::new(RichText::new(&tile.value).size(value_size).strong())
                            .extend(),
                    );
                    ui.label(RichText::new(tile.unit).size(15.0));
                });
                ui.add(egui::Label::new(RichText::new(&tile.sub).size(15.0)).truncate());
            });
        })
        .response;
    if let Some(hover) = tile.hover {
        response.on_hover_text(hover);
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
    let (citrate, citrate_hover) = match (latest(Quantity::AcMlMin), model.patient.weight_kg) {
        (Some(ac), Some(w)) => (
            format!("{:.2}", citrate_mg_kg_min(ac, w)),
            "ACD-A 21.3 mg/mL × AC flow ÷ weight",
        ),
        (None, Some(_)) => ("—".to_owned(), "no AC flow from the machine yet"),
        (_, None) => ("—".to_owned(), "needs a valid patient weight (Setup)"),
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
            unit: "mg/kg/min",
            sub: "from AC flow".into(),
            color: quantity_color(Quantity::AcMlMin, dark),
            hover: Some(citrate_hover),
        },
    ];
    let count = tiles.len() as f32;
    let spacing = ui.spacing().item_spacing.x;
    let width = ((ui.available_width() - spacing * (count - 1.0)) / count).max(120.0);
    ui.horizontal(|ui| {
        for tile in &tiles {
            tile_ui(ui, width, tile);
        }
    });
}

/// Progress to target with the projected end.
pub fn progress_ui(ui: &mut egui::Ui, model: &MonitorModel<'_>) {
    let p = &model.progress;
    let text = match (p.fraction, p.end_x) {
        (Some(f), Some(end_x)) if f >= 1.0 => {
            let _ = end_x;
            format!("{:.0} %  target reached", f * 100.0)
        }
        (Some(f), Some(end_x)) => {
            let last_x = model.timeline.x_range().map_or(end_x, |r| r.1);
            let remaining = end_x - last_x;
            let clock = model
                .timeline
                .clock_at(end_x)
                .map(clock_hm)
                .unwrap_or_default();
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
    let fraction = p.fraction.unwrap_or(0.0).clamp(0.0, 1.0) as f32;
    ui.add(
        egui::ProgressBar::new(fraction)
            .text(RichText::new(text).size(18.0).strong())
            .desired_height(30.0),
    );
}
