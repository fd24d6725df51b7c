//! The attention banner: the alarm engine's alarms, most urgent first, flashing by priority
//! (IEC 60601-1-8), with the live counters of the link, data and recording alarms and the
//! acknowledge button.

use std::fmt::Write as _;

use egui::{Align, Color32, Layout, RichText};

use crate::acquisition::LinkState;
use crate::alarms::{ActiveAlarm, AlarmSource, SampleAge};
use crate::model::Priority;

use super::format::{age, clock_hms};
use super::monitor::MonitorModel;
use super::theme::{self, Accent, accent_color, on_priority_color, priority_color};

/// One message in the attention banner.
#[derive(Debug, Clone, PartialEq)]
pub struct BannerMessage {
    pub priority: Priority,
    pub text: String,
    pub detail: String,
    /// The condition is over but the alarm latches until acknowledged.
    pub latched: bool,
    /// A machine alarm not confirmed since a link loss: shown steady, not flashing.
    pub unconfirmed: bool,
}

/// The messages that need attention now, most urgent first. Live (`alarms` given): the alarm
/// engine's alarms and nothing else, the link, data and recording alarms with live counters
/// while they last. Recorded (`alarms` is `None`): the alarms active at the moment shown.
pub fn banner_messages(
    model: &MonitorModel<'_>,
    recorder_error: Option<&(String, usize)>,
    alarms: Option<&[&ActiveAlarm]>,
) -> Vec<BannerMessage> {
    let mut out = Vec::new();
    if let Some(engine) = alarms {
        out.extend(
            engine
                .iter()
                .map(|alarm| engine_message(model, recorder_error, alarm)),
        );
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
                unconfirmed: false,
            });
        }
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.priority));
    out
}

/// How the banner shows one of the engine's alarms: the link, data and recording alarms with
/// live counters while their condition lasts, the others with the engine's text.
fn engine_message(
    model: &MonitorModel<'_>,
    recorder_error: Option<&(String, usize)>,
    alarm: &ActiveAlarm,
) -> BannerMessage {
    let port = model.link.map_or("", |l| l.port.as_str());
    let lasting = alarm.condition_ended.is_none();
    let live = match (&alarm.source, model.sample_age) {
        (AlarmSource::NoData, Some(SampleAge::Secs(secs))) if lasting => Some((
            format!("No data from machine for {}", age(secs.floor())),
            format!("The port {port} is open but no sample has arrived"),
        )),
        (AlarmSource::NoData, Some(SampleAge::Unknown)) if lasting => Some((
            "No current data from machine: the last sample's time is ahead of the clock".into(),
            "The clock went back: the last sample's age cannot be known".into(),
        )),
        (AlarmSource::LinkLost, _) if lasting => model.link_down_s.map(|secs| {
            let reason = match model.link.map(|l| &l.state) {
                Some(LinkState::Down { reason }) => reason.clone(),
                _ => String::new(),
            };
            (
                match model.link.and_then(|l| l.device.as_deref()) {
                    // A by-id link or USB identity is long: name the device it was last on.
                    Some(device) => format!(
                        "Link to machine lost for {} — reconnecting (last on {device})",
                        age(secs.floor())
                    ),
                    None => format!(
                        "Link to machine lost for {} — reconnecting to {port}",
                        age(secs.floor())
                    ),
                },
                reason,
            )
        }),
        (AlarmSource::RecordingFailed, _) if lasting => recorder_error.map(|(message, pending)| {
            (
                format!("Recording is failing — {pending} rows kept in memory"),
                message.clone(),
            )
        }),
        _ => None,
    };
    let (text, detail) = live.unwrap_or_else(|| {
        let mut text = alarm.text.clone();
        if let Some(since) = alarm.unconfirmed_since {
            let _ = write!(
                text,
                " — not confirmed since the link was lost at {}",
                clock_hms(since)
            );
        }
        // One condition raised by the machine and a rule of the monitor's is one alarm: its
        // detail names both.
        let sources = if alarm.also.is_empty() {
            alarm.source.code()
        } else {
            alarm.sources_text()
        };
        (text, format!("{sources} since {}", clock_hms(alarm.raised)))
    });
    BannerMessage {
        priority: alarm.priority,
        text,
        detail,
        latched: alarm.condition_ended.is_some(),
        unconfirmed: alarm.unconfirmed_since.is_some(),
    }
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

/// The alarm colour of `priority` in one half of its flash: full when `bright`, else dimmed.
pub fn flash_color(priority: Priority, bright: bool) -> Color32 {
    let base = priority_color(priority);
    if bright {
        base
    } else {
        base.gamma_multiply(0.55)
    }
}

impl BannerMessage {
    /// Whether it shows in its full colour at `seconds`: steady when latched or unconfirmed,
    /// else in the bright half of its flash.
    pub fn bright_at(&self, seconds: f64) -> bool {
        self.latched || self.unconfirmed || flash_on(self.priority, seconds)
    }
}

/// The attention banner: the most urgent alarm large on its priority colour, the other alarms
/// listed below it, then information messages in a neutral frame (information is not an alarm
/// and takes no alarm colour); the acknowledge button, and while the audio is paused a crossed
/// bell with the time left. Returns whether acknowledge was clicked.
pub fn banner_ui(
    ui: &mut egui::Ui,
    messages: &[BannerMessage],
    audio_paused_s: Option<f64>,
    can_acknowledge: bool,
) -> bool {
    let (alarms, infos): (Vec<&BannerMessage>, Vec<&BannerMessage>) =
        messages.iter().partition(|m| m.priority != Priority::Info);
    let mut acknowledged = false;
    if let Some(first) = alarms.first() {
        let fill = flash_color(first.priority, first.bright_at(ui.input(|i| i.time)));
        let text_color = on_priority_color(first.priority);
        if alarms
            .iter()
            .any(|m| !m.latched && !m.unconfirmed && flash_hz(m.priority).is_some())
        {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(125));
        }
        egui::Frame::new()
            .fill(fill)
            .inner_margin(egui::Margin::symmetric(12, 6))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                let row = Headline {
                    message: first,
                    color: text_color,
                    fill,
                    audio_paused_s,
                    can_acknowledge,
                };
                acknowledged |= row.show(ui);
                for other in &alarms[1..] {
                    let latched = if other.latched {
                        " (cleared, not acknowledged)"
                    } else {
                        ""
                    };
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!(
                                "{} {}  {}{latched}",
                                other.priority.marker(),
                                other.priority.name(),
                                other.text
                            ))
                            .size(16.0)
                            .color(text_color),
                        )
                        .wrap(),
                    )
                    .on_hover_text(&other.detail);
                }
            });
    }
    if !infos.is_empty() {
        let dark = ui.visuals().dark_mode;
        let fill = ui.visuals().faint_bg_color;
        let color = ui.visuals().strong_text_color();
        egui::Frame::new()
            .fill(fill)
            .stroke(egui::Stroke::new(1.0, accent_color(Accent::Notice, dark)))
            .inner_margin(egui::Margin::symmetric(12, 6))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                for (i, info) in infos.iter().enumerate() {
                    if i == 0 && alarms.is_empty() {
                        let row = Headline {
                            message: info,
                            color,
                            fill,
                            audio_paused_s,
                            can_acknowledge,
                        };
                        acknowledged |= row.show(ui);
                    } else {
                        ui.add(
                            egui::Label::new(
                                RichText::new(info_text(info)).size(18.0).color(color),
                            )
                            .wrap(),
                        )
                        .on_hover_text(&info.detail);
                    }
                }
            });
    }
    acknowledged
}

/// An information message as the banner writes it (no priority marker: it is no alarm).
fn info_text(message: &BannerMessage) -> String {
    format!("Information: {}", message.text)
}

/// The banner's first line: the message, wrapped in the space left of the acknowledge button
/// and the audio-paused countdown.
struct Headline<'a> {
    message: &'a BannerMessage,
    color: egui::Color32,
    /// The fill behind it (the crossed bell's bar is cut out of it).
    fill: egui::Color32,
    audio_paused_s: Option<f64>,
    can_acknowledge: bool,
}

impl Headline<'_> {
    fn show(&self, ui: &mut egui::Ui) -> bool {
        let mut clicked = false;
        let m = self.message;
        ui.horizontal(|ui| {
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                if self.can_acknowledge {
                    let label = RichText::new("Acknowledge").font(theme::bold(18.0)).strong();
                    clicked = ui
                        .button(label)
                        .on_hover_text(
                            "Silences the sound for 2 minutes; the alarm stays shown while it lasts",
                        )
                        .clicked();
                }
                if let Some(left) = self.audio_paused_s {
                    ui.label(
                        RichText::new(format!("audio paused {}", age(left)))
                            .size(18.0)
                            .strong()
                            .color(self.color),
                    );
                    crossed_bell(ui, self.color, self.fill);
                }
                // What is left of the row, left of the button: the text wraps in it.
                ui.with_layout(Layout::top_down(Align::Min), |ui| {
                    let text = if m.priority == Priority::Info {
                        info_text(m)
                    } else {
                        let latched = if m.latched {
                            "  (cleared, not acknowledged)"
                        } else {
                            ""
                        };
                        format!(
                            "{} {}  {}{latched}",
                            m.priority.marker(),
                            m.priority.name(),
                            m.text
                        )
                    };
                    let size = if m.priority == Priority::Info { 18.0 } else { 24.0 };
                    ui.add(
                        egui::Label::new(RichText::new(text).font(theme::bold(size)).strong().color(self.color))
                            .wrap(),
                    )
                    .on_hover_text(&m.detail);
                });
            });
        });
        clicked
    }
}

/// A bell with a bar across it (audio paused), drawn with the painter so that it does not
/// depend on the font having the glyph.
fn crossed_bell(ui: &mut egui::Ui, color: egui::Color32, fill: egui::Color32) {
    use egui::{Pos2, Shape, Stroke, pos2, vec2};
    let (rect, response) = ui.allocate_exact_size(vec2(26.0, 26.0), egui::Sense::hover());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, "crossed bell"));
    let p = ui.painter_at(rect.expand(2.0));
    let c = rect.center();
    let at = |x: f32, y: f32| -> Pos2 { pos2(c.x + x, c.y + y) };
    let dome = vec![
        at(-8.0, 6.0),
        at(-6.5, -3.0),
        at(-3.5, -8.0),
        at(3.5, -8.0),
        at(6.5, -3.0),
        at(8.0, 6.0),
    ];
    p.add(Shape::convex_polygon(dome, color, Stroke::NONE));
    p.line_segment([at(-10.0, 6.5), at(10.0, 6.5)], Stroke::new(2.0, color));
    p.circle_filled(at(0.0, 9.5), 2.2, color);
    p.circle_filled(at(0.0, -9.5), 1.6, color);
    // The bar: cut out in the background's colour, then drawn.
    p.line_segment([at(-11.0, -11.0), at(11.0, 11.0)], Stroke::new(5.0, fill));
    p.line_segment([at(-11.0, -11.0), at(11.0, 11.0)], Stroke::new(2.2, color));
}
