//! Settings that persist between runs (eframe storage). Never ports, channels or threads.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::acquisition::DEFAULT_BAUD;
use crate::analysis::progress::DEFAULT_TARGET_TBV;

use super::theme::Theme;

/// How many recent sessions the start screen lists.
pub const RECENT_MAX: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The port last connected to, by its stable identity: a `/dev/serial/by-id/…` link or
    /// `usb:VID:PID:SERIAL` (from the picker), or a plain path (typed, or stored by an older
    /// version: the start screen takes it to the identity once the listing knows it).
    pub last_port: String,
    pub baud: u32,
    pub theme: Theme,
    pub default_target_tbv: f64,
    /// Where recordings go; the platform's data folder when unset.
    pub session_folder: Option<PathBuf>,
    pub recent_sessions: Vec<PathBuf>,
    pub demo_speed: f64,
    pub alarms: crate::alarms::AlarmSettings,
    /// Publishing this bedside to the ward's broker.
    pub publish: PublishSettings,
}

/// Publishing this bedside to the ward's MQTT broker. The password is never stored with the
/// settings: it is read, when publishing starts, from `password_file` (its first line) or else
/// from the environment variable `APHERESIS_MQTT_PASSWORD`; a password written into the URL is
/// refused here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PublishSettings {
    /// Publish while a live session runs.
    pub enabled: bool,
    /// `mqtt://USER@HOST:PORT` or `mqtts://USER@HOST:PORT`, without a password.
    pub broker_url: String,
    /// This bed's name on the ward; the URL's user when empty.
    pub bed: String,
    /// The broker's CA certificate (PEM), for `mqtts://`.
    pub ca_file: Option<PathBuf>,
    /// A file whose first line is the broker password.
    pub password_file: Option<PathBuf>,
    /// Also send the patient's identifier (off: the ward sees the bed name only).
    pub publish_patient: bool,
}

impl PublishSettings {
    /// Whether the URL holds a password (refused: it would be stored in clear).
    pub fn url_has_password(&self) -> bool {
        self.broker_url
            .split_once("://")
            .and_then(|(_, rest)| rest.rsplit_once('@'))
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            last_port: String::new(),
            baud: DEFAULT_BAUD,
            theme: Theme::Night,
            default_target_tbv: DEFAULT_TARGET_TBV,
            session_folder: None,
            recent_sessions: Vec::new(),
            demo_speed: 30.0,
            alarms: crate::alarms::AlarmSettings::default(),
            publish: PublishSettings::default(),
        }
    }
}

impl Settings {
    /// The folder recordings are created in.
    pub fn session_folder(&self) -> PathBuf {
        self.session_folder
            .clone()
            .unwrap_or_else(default_session_folder)
    }

    /// Puts `path` first in the recent list, once however it was written (relative or not).
    pub fn remember_session(&mut self, path: PathBuf) {
        let path = std::path::absolute(&path).unwrap_or(path);
        self.recent_sessions
            .retain(|p| std::path::absolute(p).as_ref().unwrap_or(p) != &path);
        self.recent_sessions.insert(0, path);
        self.recent_sessions.truncate(RECENT_MAX);
    }
}

/// The platform's per-user data folder for sessions (e.g. `~/.local/share/apheresis-monitor/sessions`).
pub fn default_session_folder() -> PathBuf {
    directories::ProjectDirs::from("org", "apheresis-monitor", "apheresis-monitor").map_or_else(
        || PathBuf::from("sessions"),
        |dirs| dirs.data_dir().join("sessions"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_settings_default_off_and_old_settings_still_load() {
        let old: Settings = serde_json::from_str(r#"{"baud": 9600}"#).unwrap();
        assert_eq!(old.publish, PublishSettings::default());
        assert!(!old.publish.enabled && !old.publish.publish_patient);
        let mut p = PublishSettings {
            broker_url: "mqtt://bay1@ward:1883".into(),
            ..PublishSettings::default()
        };
        assert!(!p.url_has_password());
        p.broker_url = "mqtt://bay1:secret@ward:1883".into();
        assert!(p.url_has_password());
    }

    #[test]
    fn a_session_remembered_twice_under_two_spellings_is_listed_once() {
        let mut settings = Settings::default();
        let cwd = std::env::current_dir().unwrap();
        settings.remember_session(PathBuf::from("sessions/a.csv"));
        settings.remember_session(cwd.join("sessions/b.csv"));
        settings.remember_session(cwd.join("sessions/a.csv"));
        assert_eq!(
            settings.recent_sessions,
            [cwd.join("sessions/a.csv"), cwd.join("sessions/b.csv")]
        );
    }
}
