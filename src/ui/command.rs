//! What the nurse asks for. Widgets record intent as a [`Command`]; the app runs the commands
//! after the frame is drawn.

use std::path::PathBuf;

use crate::model::Note;
use crate::session::library::SessionListing;

use super::theme::Theme;

/// Something the user asked for, run after the frame is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    RefreshPorts,
    Connect {
        port: String,
        baud: u32,
    },
    StartDemo {
        speed: f64,
    },
    PickRecording,
    OpenRecording(PathBuf),
    SaveSetup,
    AddNote(Note),
    StopRecording,
    /// Ask before stopping the recording (the machine is in RUN).
    AskStopRecording,
    CloseSession,
    SetTheme(Theme),
    /// The ward publishing settings, as edited.
    SetPublish(Box<super::settings::PublishSettings>),
    RefreshLibrary,
    Reveal(PathBuf),
    ExportSummary(PathBuf),
    Resume(Box<SessionListing>),
    PickSessionFolder,
    SetSessionFolder(Option<PathBuf>),
    AcknowledgeAlarms,
    ShowAbout,
    ShowSetup,
    ShowNote,
    ShowAlarmLimits,
    /// The session's alarm list, in the side panel.
    ShowAlarmReview,
    /// The live session's alarm limits, as set in the alarm limits form.
    SetAlarmLimits(Box<crate::alarms::AlarmSettings>),
    /// Stop the recording, then close the window.
    StopAndQuit,
}
