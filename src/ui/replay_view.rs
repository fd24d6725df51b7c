//! The replay view: the monitor as it stood at the playhead, the whole session in the plots,
//! and the playback controls.

use egui::{Align, Layout, RichText};
use jiff::Timestamp;

use crate::alarms::SampleAge;
use crate::alarms::engine::AlarmSettings;
use crate::analysis::forecast::{ExpectedCe, live_forecast};
use crate::analysis::progress;
use crate::session::replay::{Player, Replay};

use super::app::Command;
use super::monitor::{
    MonitorModel, banner_messages, banner_panel, banner_ui, header_ui, strips_ui,
};
use super::plots::{PlotView, PressureLimits, plots_ui};
use super::theme::{Accent, accent_color};
use super::value_alarms::{ValueAlarms, recorded_limits};

/// Draws a recorded session at its playhead; `now` is the wall clock, shown when the
/// recording has no time for the playhead.
pub fn replay_view(
    ui: &mut egui::Ui,
    replay: &mut Replay,
    now: Timestamp,
    view: &mut PlotView,
    commands: &mut Vec<Command>,
    past_ce: Option<ExpectedCe>,
) {
    egui::Panel::bottom("replay-controls").show(ui, |ui| {
        let ask = replay_controls_ui(ui, &mut replay.player);
        if ask.export {
            commands.push(Command::ExportSummary(replay.player.recording.path.clone()));
        }
        if ask.close {
            commands.push(Command::CloseSession);
        }
    });
    let player = &replay.player;
    let position = player.position();
    let shown = player.full().moment(position);
    let shown_now = shown.clock_at(position).unwrap_or(now);
    let limits = recording_limits(ui, replay);
    let shown_progress = progress(shown, replay.patient(), replay.target());
    // As of the playhead: its progress and the product samples noted by then.
    let forecast = live_forecast(
        replay.meta().and_then(|m| m.lab.as_ref()),
        shown,
        &shown_progress,
        shown_now,
        past_ce,
    );
    let model = MonitorModel {
        timeline: shown,
        progress: shown_progress,
        patient: replay.patient(),
        target: replay.target(),
        machine: replay
            .meta()
            .and_then(|m| m.machine.as_ref())
            .map(|m| format!("{} {}", m.model, m.serial_no)),
        now: shown_now,
        link: None,
        link_down_s: None,
        // As it stood at the playhead: a gap in the recording shows as stale data.
        sample_age: SampleAge::of_latest(None, shown.last_sample_utc().map(|t| (t, shown_now))),
        badge: Some(format!(
            "REPLAY {} {}×",
            if player.is_playing() {
                "playing"
            } else {
                "paused"
            },
            player.speed()
        )),
        citrate: None,
        limits,
        in_alarm: ValueAlarms::from_recorded(shown),
        forecast,
    };
    let messages = banner_messages(&model, None, None);
    egui::Panel::top("header").show(ui, |ui| header_ui(ui, &model));
    banner_panel(ui).show(ui, |ui| {
        banner_ui(ui, &messages, None, false);
    });
    egui::Panel::top("tiles").show(ui, |ui| strips_ui(ui, &model, messages.first()));
    if let Some(notice) = &replay.notice {
        egui::Panel::top("notice").show(ui, |ui| {
            let dark = ui.visuals().dark_mode;
            ui.label(
                RichText::new(notice)
                    .size(18.0)
                    .color(accent_color(Accent::Notice, dark)),
            );
        });
    }
    let mut seek_to = None;
    egui::CentralPanel::default().show(ui, |ui| {
        seek_to = plots_ui(
            ui,
            player.full(),
            view,
            PressureLimits::from_settings(&limits),
            Some(position),
        );
    });
    if let Some(x) = seek_to {
        replay.player.seek(x);
    }
}

/// The limits the recording's rules ran with (its metadata's over the defaults), read once per
/// recording and kept in the context's memory: the metadata does not change during a replay.
fn recording_limits(ui: &egui::Ui, replay: &Replay) -> AlarmSettings {
    let id = egui::Id::unique(("recording-limits", &replay.player.recording.path));
    if let Some(limits) = ui.data(|d| d.get_temp::<AlarmSettings>(id)) {
        return limits;
    }
    let limits = recorded_limits(replay.meta().and_then(|m| m.limits.as_ref()));
    ui.data_mut(|d| d.insert_temp(id, limits));
    limits
}

/// What the replay controls asked for besides moving the playhead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct ReplayAsk {
    close: bool,
    export: bool,
}

/// Play/pause, speed, step, jump, and a seek bar.
fn replay_controls_ui(ui: &mut egui::Ui, player: &mut Player) -> ReplayAsk {
    let mut close = false;
    let mut export = false;
    let (start, end) = player.range();
    ui.input(|i| {
        if i.key_pressed(egui::Key::Space) {
            player.toggle();
        }
        if i.key_pressed(egui::Key::ArrowRight) {
            player.step(if i.modifiers.shift { 600.0 } else { 60.0 });
        }
        if i.key_pressed(egui::Key::ArrowLeft) {
            player.step(if i.modifiers.shift { -600.0 } else { -60.0 });
        }
        if i.key_pressed(egui::Key::Home) {
            player.seek(start);
        }
        if i.key_pressed(egui::Key::End) {
            player.seek(end);
        }
    });
    ui.horizontal(|ui| {
        if ui.button("⏮ Start").on_hover_text("Home").clicked() {
            player.seek(start);
        }
        if ui
            .button("⏪ 1 min")
            .on_hover_text("Left arrow (Shift: 10 min)")
            .clicked()
        {
            player.step(-60.0);
        }
        let play_label = if player.is_playing() {
            "⏸ Pause"
        } else {
            "▶ Play"
        };
        if ui
            .button(RichText::new(play_label).size(18.0))
            .on_hover_text("Space")
            .clicked()
        {
            player.toggle();
        }
        if ui
            .button("1 min ⏩")
            .on_hover_text("Right arrow (Shift: 10 min)")
            .clicked()
        {
            player.step(60.0);
        }
        if ui.button("End ⏭").on_hover_text("End").clicked() {
            player.seek(end);
        }
        let label = ui.label("Speed");
        let mut speed = player.speed();
        egui::ComboBox::from_id_salt("replay-speed")
            .selected_text(format!("{speed}×"))
            .show_ui(ui, |ui| {
                for s in [1.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0] {
                    ui.selectable_value(&mut speed, s, format!("{s}×"));
                }
            })
            .response
            .labelled_by(label.id);
        if speed != player.speed() {
            player.set_speed(speed);
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if ui.button("Close").clicked() {
                close = true;
            }
            if ui.button("Export summary…").clicked() {
                export = true;
            }
            let mut position = player.position();
            let width = ui.available_width() - 12.0;
            ui.spacing_mut().slider_width = width.max(100.0);
            let slider = egui::Slider::new(&mut position, start..=end.max(start + 1.0))
                .show_value(false)
                .text("");
            let response = ui.add(slider).on_hover_text("Seek: click or drag");
            if response.changed() {
                player.seek(position);
            }
        });
    });
    ReplayAsk { close, export }
}
