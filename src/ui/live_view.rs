//! The live view: header, attention banner, alarm-off indicator, tiles and progress, the
//! plots, and the footer with the session's actions.

use egui::{Align, Layout, RichText};
use jiff::Timestamp;

use crate::analysis::forecast::{ExpectedCe, live_forecast};
use crate::analysis::progress;
use crate::model::MachineState;
use crate::protocol::DecodeStats;
use crate::session::LiveSession;

use super::app::Command;
use super::monitor::{
    MonitorModel, alarms_off_ui, banner_messages, banner_panel, banner_ui, header_ui,
    primary_strips_ui, secondary_ui,
};
use super::plots::{PlotView, PressureLimits, plots_ui};
use super::primary::TypeSizes;
use super::start_screen::file_name;
use super::theme::{Accent, accent_color};
use super::value_alarms::ValueAlarms;

/// Draws a live session as it stands at `now`; what the nurse asks for goes into `commands`.
pub fn live_view(
    ui: &mut egui::Ui,
    session: &LiveSession,
    now: Timestamp,
    view: &mut PlotView,
    commands: &mut Vec<Command>,
    form: &mut dyn FnMut(&mut egui::Ui, &mut Vec<Command>),
    past_ce: Option<ExpectedCe>,
) {
    let timeline = session.timeline.now();
    let shown_progress = progress(timeline, session.patient(), session.target());
    // Observed in a product sample, else typed, else the median of the unit's past collections.
    let forecast = live_forecast(
        session.meta().lab.as_ref(),
        timeline,
        &shown_progress,
        now,
        past_ce,
    );
    let engine_alarms = session.alarms.active();
    let model = MonitorModel {
        timeline,
        progress: shown_progress,
        patient: session.patient(),
        target: session.target(),
        machine: session
            .identity
            .as_ref()
            .map(|m| format!("{} {}", m.model, m.serial_no)),
        now,
        link: Some(&session.link),
        link_down_s: session.link_down_for_s(),
        sample_age: session.sample_age(now),
        badge: session.demo_speed().map(|speed| format!("DEMO {speed}×")),
        citrate: session.citrate,
        limits: session.alarms.settings,
        in_alarm: ValueAlarms::from_engine(&engine_alarms),
        forecast,
    };
    let messages = banner_messages(
        &model,
        session.recorder_error.as_ref(),
        Some(&engine_alarms),
    );
    let audio_paused = session
        .alarms
        .audio_paused_for(now)
        .map(|d| d.as_secs_f64());
    egui::Panel::top("header").show(ui, |ui| header_ui(ui, &model));
    // The banner's space is kept whether or not there is an alarm, so nothing below it jumps
    // when one comes; the notice and the alarm-off indicator come after the values.
    banner_panel(ui).show(ui, |ui| {
        if banner_ui(ui, &messages, audio_paused, !engine_alarms.is_empty()) {
            commands.push(Command::AcknowledgeAlarms);
        }
    });
    // The primary values keep the whole width; a form opens below them, beside the rest.
    let sizes = TypeSizes::for_width(ui.available_width());
    egui::Panel::top("tiles").show(ui, |ui| primary_strips_ui(ui, &model, messages.first()));
    // The footer keeps the whole width too: its actions never crowd beside a form.
    egui::Panel::bottom("footer").show(ui, |ui| footer_ui(ui, session, commands));
    form(ui, commands);
    egui::Panel::top("secondary").show(ui, |ui| secondary_ui(ui, &model, sizes));
    if let Some(notice) = &session.notice {
        egui::Panel::top("notice").show(ui, |ui| {
            let dark = ui.visuals().dark_mode;
            ui.label(
                RichText::new(notice)
                    .size(18.0)
                    .color(accent_color(Accent::Notice, dark)),
            );
        });
    }
    if !session.alarms_off.is_empty() {
        egui::Panel::top("alarms-off").show(ui, |ui| alarms_off_ui(ui, &session.alarms_off));
    }
    egui::CentralPanel::default().show(ui, |ui| {
        plots_ui(
            ui,
            &session.timeline,
            view,
            PressureLimits::from_settings(&model.limits),
            None,
        );
    });
}

fn footer_ui(ui: &mut egui::Ui, session: &LiveSession, commands: &mut Vec<Command>) {
    let recording_on = session.is_recording();
    let stats = session.stats;
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                recording_on,
                egui::Button::new(RichText::new("+ Note").size(18.0)),
            )
            .clicked()
        {
            commands.push(Command::ShowNote);
        }
        if ui.button(RichText::new("Setup").size(18.0)).clicked() {
            commands.push(Command::ShowSetup);
        }
        if ui.button("About").clicked() {
            commands.push(Command::ShowAbout);
        }
        if ui.button("Alarm limits").clicked() {
            commands.push(Command::ShowAlarmLimits);
        }
        let alarms = session.alarm_review().len();
        if ui
            .button(format!("Alarm list ({alarms})"))
            .on_hover_text("Every alarm of the session: raised, cleared, acknowledged and by whom")
            .clicked()
        {
            commands.push(Command::ShowAlarmReview);
        }
        if recording_on {
            if ui.button("Stop recording").clicked() {
                // During RUN the nurse is asked first; otherwise it stops at once.
                let running = session.timeline.now().state() == Some(MachineState::Run);
                commands.push(if running {
                    Command::AskStopRecording
                } else {
                    Command::StopRecording
                });
            }
        } else if session.is_stopping() {
            ui.spinner();
            ui.label("Closing the recording…");
        } else {
            if ui
                .button(RichText::new("Export summary…").size(18.0))
                .clicked()
            {
                commands.push(Command::ExportSummary(session.recording.clone()));
            }
            if ui.button("Close session").clicked() {
                commands.push(Command::CloseSession);
            }
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            #[cfg(feature = "ward")]
            super::app::publish::footer_ui(ui);
            ui.label(RichText::new(file_name(&session.recording)).size(15.0))
                .on_hover_text(session.recording.display().to_string());
            if recording_on {
                ui.label(
                    RichText::new("● REC")
                        .size(15.0)
                        .strong()
                        .color(accent_color(Accent::Recording, ui.visuals().dark_mode)),
                );
            } else {
                ui.label(RichText::new("recorded").size(15.0));
            }
            ui.label(
                RichText::new(format!(
                    "{} messages · {} rejected · {} lost",
                    stats.sentences,
                    stats.rejected(),
                    stats.lost_sentences
                ))
                .weak(),
            )
            .on_hover_text(stats_in_words(&stats));
        });
    });
}

/// The link's counters in a nurse's words: messages from the machine, not protocol sentences.
fn stats_in_words(stats: &DecodeStats) -> String {
    format!(
        "{} messages from the machine ({} readings, {} state changes, {} alarms, {} \
         identifications)\n{} messages lost on the way\n{} messages rejected: {} damaged, {} \
         too long, {} cut short, {} line noise, {} unreadable, {} with a value out of range, {} \
         of an unknown kind",
        stats.sentences,
        stats.samples,
        stats.states,
        stats.alarms,
        stats.identities,
        stats.lost_sentences,
        stats.rejected(),
        stats.checksum,
        stats.overlong,
        stats.truncated,
        stats.noise,
        stats.malformed,
        stats.out_of_range,
        stats.unknown_type,
    )
}
