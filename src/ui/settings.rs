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
