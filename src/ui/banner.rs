//! The attention banner: the alarm engine's alarms, most urgent first, flashing by priority
//! (IEC 60601-1-8), with the live counters of the link, data and recording alarms and the
//! acknowledge button.

use std::fmt::Write as _;

use egui::{Align, Layout, RichText};

use crate::acquisition::LinkState;
use crate::alarms::{ActiveAlarm, AlarmSource, SampleAge};
use crate::model::Priority;

use super::format::{age, clock_hms};
use super::monitor::MonitorModel;
use super::theme::{on_priority_color, priority_color};

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
                format!(
                    "Link to machine lost for {} — reconnecting to {port}",
                    age(secs.floor())
                ),
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
        (
            text,
            format!("{} since {}", alarm.source.code(), clock_hms(alarm.raised)),
        )
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
    let steady = first.latched || first.unconfirmed;
    let bright = steady || flash_on(first.priority, seconds);
    let base = priority_color(first.priority);
    let fill = if bright {
        base
    } else {
        base.gamma_multiply(0.55)
    };
    let text_color = on_priority_color(first.priority);
    if messages
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
