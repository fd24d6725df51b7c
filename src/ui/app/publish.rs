//! The app's side of the ward: while a live session records and publishing is switched on in
//! the settings, what the screen shows is published to the broker ([`Bedside`]), never waiting
//! on it (the password and CA files are read by a [`Job`], the broker by the publisher's own
//! threads). Its state is a few quiet words in the live footer ("ward: connected", "ward:
//! wrong user or password"), never an alarm. And the settings' section to edit it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::RichText;
use jiff::Timestamp;

use crate::job::{Job, Poll, Wake};
use crate::session::LiveSession;
use crate::ward::bedside::Bedside;
use crate::ward::broker::{BrokerConfig, BrokerUrl, PASSWORD_ENV};
use crate::ward::publish::{PublishConfig, Publisher};
use crate::ward::topic::Bed;

use super::super::command::Command;
use super::super::settings::{PublishSettings, Settings};

/// Where the live footer finds the ward's state (egui's temporary data).
const FOOTER_ID: &str = "ward-publish-state";

fn footer_id() -> egui::Id {
    egui::Id::unique(FOOTER_ID)
}

/// How often the session is looked at for publishing (the status itself goes at most once a
/// second).
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// Publishing from the app.
#[derive(Default)]
pub struct Publishing {
    /// The settings publishing was started with.
    started_with: Option<PublishSettings>,
    starting: Option<Job<Result<Bedside, String>>>,
    bedside: Option<Bedside>,
    /// Why the configuration cannot be used, until the settings change.
    problem: Option<String>,
    last_look: Option<Instant>,
}

/// The configuration from the settings (reads the password and CA files: off the UI thread).
fn configure(settings: &PublishSettings) -> Result<Bedside, String> {
    if settings.url_has_password() {
        return Err("remove the password from the broker URL (use a password file)".into());
    }
    let broker = BrokerConfig::new(
        &settings.broker_url,
        settings.password_file.as_deref(),
        std::env::var(PASSWORD_ENV).ok(),
        settings.ca_file.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let bed = if settings.bed.trim().is_empty() {
        broker.url.user.clone()
    } else {
        settings.bed.trim().to_owned()
    };
    let bed = Bed::new(&bed).map_err(|e| e.to_string())?;
    let publisher = Publisher::start(PublishConfig::new(broker, bed));
    Ok(Bedside::new(publisher, settings.publish_patient))
}

impl Publishing {
    /// Publishes what `session` shows (if publishing is on and it records), starting or
    /// stopping the publisher as the settings and the session say. Never waits.
    pub fn update(
        &mut self,
        ctx: &egui::Context,
        settings: &PublishSettings,
        session: Option<&LiveSession>,
        now: Timestamp,
        wake: Wake,
    ) {
        let wanted = settings.enabled && session.is_some_and(LiveSession::is_recording);
        if self.started_with.as_ref() != Some(settings) || !wanted {
            // Dropping the publisher stops it on its own threads.
            self.bedside = None;
            self.starting = None;
            if self.started_with.as_ref() != Some(settings) {
                self.problem = None;
            }
            self.started_with = wanted.then(|| settings.clone());
        }
        if wanted && self.bedside.is_none() && self.starting.is_none() && self.problem.is_none() {
            let settings = settings.clone();
            self.starting = Some(Job::spawn("ward-publish-start", wake, move || {
                configure(&settings)
            }));
        }
        if let Some(job) = &mut self.starting {
            match job.poll() {
                Poll::Pending => {}
                Poll::Ready(Ok(bedside)) => {
                    self.starting = None;
                    self.bedside = Some(bedside);
                }
                Poll::Ready(Err(problem)) | Poll::Lost(problem) => {
                    self.starting = None;
                    self.problem = Some(problem);
                }
            }
        }
        if let (Some(bedside), Some(session)) = (&mut self.bedside, session)
            && self.last_look.is_none_or(|t| t.elapsed() >= LOOK_EVERY)
        {
            self.last_look = Some(Instant::now());
            bedside.update_live(session, now);
        }
        let footer = wanted.then(|| self.footer_text()).flatten();
        ctx.data_mut(|d| match footer {
            Some(text) => {
                d.insert_temp(footer_id(), text);
            }
            None => d.remove::<(String, String)>(footer_id()),
        });
    }

    /// `ward: connected`, `ward: wrong user or password`, … (the full reason on hover).
    fn footer_text(&self) -> Option<(String, String)> {
        if let Some(problem) = &self.problem {
            return Some(("ward: not configured".into(), problem.clone()));
        }
        let state = self.bedside.as_ref()?.state();
        Some((format!("ward: {}", state.short()), state.to_string()))
    }
}

impl super::MonitorApp {
    /// Publishes the live session, if publishing is on (see [`Publishing::update`]).
    pub(super) fn update_publishing(&mut self, ctx: &egui::Context) {
        let session = match &self.active {
            super::Active::Live(session) => Some(&**session),
            _ => None,
        };
        let wake = self.wake();
        self.publishing
            .update(ctx, &self.settings.publish, session, self.clock.now(), wake);
    }
}

/// The ward's state for the live footer, with its full text for the hover, when publishing.
pub fn footer_state(ui: &egui::Ui) -> Option<(String, String)> {
    ui.data(|d| d.get_temp::<(String, String)>(footer_id()))
}

/// Draws the ward's state in the footer, quietly (weak text; the reason on hover).
pub fn footer_ui(ui: &mut egui::Ui) {
    if let Some((short, full)) = footer_state(ui) {
        ui.label(RichText::new(short).size(15.0).weak())
            .on_hover_text(full);
    }
}

/// The settings' section: publish to the ward's broker, as whom and as which bed.
pub fn settings_ui(ui: &mut egui::Ui, settings: &Settings, commands: &mut Vec<Command>) {
    let mut p = settings.publish.clone();
    ui.checkbox(&mut p.enabled, "Publish this bedside to the ward (MQTT)");
    if p.enabled || settings.publish.enabled {
        egui::Grid::new("publish-settings")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label("Broker");
                ui.add(
                    egui::TextEdit::singleline(&mut p.broker_url)
                        .hint_text("mqtts://bed1@broker.ward:8883"),
                );
                ui.end_row();
                ui.label("Bed");
                ui.add(egui::TextEdit::singleline(&mut p.bed).hint_text("the broker user"));
                ui.end_row();
                ui.label("CA file");
                path_edit(ui, &mut p.ca_file, "for mqtts://");
                ui.end_row();
                ui.label("Password file");
                path_edit(ui, &mut p.password_file, &format!("else ${PASSWORD_ENV}"));
                ui.end_row();
            });
        ui.checkbox(&mut p.publish_patient, "Also send the patient's identifier");
        if let Some(problem) = problem(&p) {
            let dark = ui.visuals().dark_mode;
            ui.label(
                RichText::new(problem).color(super::super::theme::accent_color(
                    super::super::theme::Accent::Error,
                    dark,
                )),
            );
        }
    }
    if p != settings.publish {
        commands.push(Command::SetPublish(Box::new(p)));
    }
}

/// What is wrong with the URL or the bed name, as typed (no file is read here).
fn problem(p: &PublishSettings) -> Option<String> {
    if p.broker_url.trim().is_empty() {
        return Some("Give the broker's URL.".into());
    }
    if p.url_has_password() {
        return Some(
            "No password in the URL: it would be stored in clear; use a password file.".into(),
        );
    }
    let url = match BrokerUrl::parse(&p.broker_url) {
        Ok(url) => url,
        Err(e) => return Some(e.to_string()),
    };
    let bed = if p.bed.trim().is_empty() {
        url.user.as_str()
    } else {
        p.bed.trim()
    };
    Bed::new(bed).err().map(|e| e.to_string())
}

fn path_edit(ui: &mut egui::Ui, path: &mut Option<PathBuf>, hint: &str) {
    let mut text = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if ui
        .add(egui::TextEdit::singleline(&mut text).hint_text(hint))
        .changed()
    {
        *path = (!text.trim().is_empty()).then(|| PathBuf::from(text.trim()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_settings_are_checked_without_reading_files() {
        let mut p = PublishSettings {
            enabled: true,
            broker_url: "mqtt://bay1@ward:1883".into(),
            ..PublishSettings::default()
        };
        assert_eq!(problem(&p), None);
        p.bed = "bay 1".into();
        assert!(problem(&p).unwrap().contains("topic level"));
        p.bed.clear();
        p.broker_url = "mqtt://bay1:pw@ward:1883".into();
        assert!(problem(&p).unwrap().contains("password file"));
        assert!(configure(&p).err().unwrap().contains("password"));
        p.broker_url = "ward:1883".into();
        assert!(problem(&p).unwrap().contains("mqtt://"));
    }
}
