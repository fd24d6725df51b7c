//! The desktop's file chooser, and what to do where there is none: the chooser runs in a
//! [`crate::job::Job`] (it blocks its thread); where it cannot open (no desktop file-chooser
//! service) the nurse gets a path field with the reason, never silence. Also opening a file
//! or folder with the system's default handler, off the UI thread.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::forms::error_text;

/// What the nurse is choosing a path for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A recording to open (an existing file).
    Open,
    /// A file to write (its folder must exist).
    Save,
    /// The session folder (an existing folder).
    Folder,
}

/// How a file chooser ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    Path(PathBuf),
    /// The nurse closed the chooser without choosing.
    Cancelled,
    /// No chooser could open; the reason, for the nurse.
    Unavailable(String),
}

/// A chooser that returns nothing sooner than this never showed: nobody opens a dialog, reads
/// it and cancels it in a fifth of a second.
pub const NEVER_SHOWN_WITHIN: Duration = Duration::from_millis(200);

/// The text shown beside the path field.
pub const NO_CHOOSER: &str = "no file chooser available: type the path";

/// Why no file chooser can open here, judged from the environment before trying: on Linux the
/// chooser is the desktop portal (over the D-Bus session bus) or zenity.
pub fn unavailable_reason(dbus_session: bool, zenity: bool) -> Option<String> {
    if cfg!(target_os = "linux") && !dbus_session && !zenity {
        Some(format!("{NO_CHOOSER} (no desktop session bus, no zenity)"))
    } else {
        None
    }
}

/// The chooser's answer, read with how long it took: nothing back at once means it never
/// showed (the portal fails fast where no file-chooser service runs).
pub fn judge(result: Option<PathBuf>, took: Duration) -> Chosen {
    match result {
        Some(path) => Chosen::Path(path),
        None if took < NEVER_SHOWN_WITHIN => Chosen::Unavailable(NO_CHOOSER.to_owned()),
        None => Chosen::Cancelled,
    }
}

fn dbus_session() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).join("bus").exists())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())
    })
}

/// Runs `dialog` (an rfd call that blocks), telling a cancel from a chooser that cannot open.
/// For a job's thread only.
pub fn run(dialog: impl FnOnce() -> Option<PathBuf>) -> Chosen {
    if let Some(reason) = unavailable_reason(dbus_session(), on_path("zenity")) {
        return Chosen::Unavailable(reason);
    }
    let started = Instant::now();
    let result = dialog();
    judge(result, started.elapsed())
}

/// The path typed for `purpose`, or why it will not do.
pub fn check_typed(purpose: Purpose, text: &str) -> Result<PathBuf, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("type the path".into());
    }
    let path = PathBuf::from(text);
    match purpose {
        Purpose::Open if path.is_file() => Ok(path),
        Purpose::Open => Err(format!("{text}: no such file")),
        Purpose::Folder if path.is_dir() => Ok(path),
        Purpose::Folder => Err(format!("{text}: no such folder")),
        Purpose::Save if path.is_dir() => Err(format!("{text} is a folder: add a file name")),
        Purpose::Save => match path.parent() {
            Some(dir) if dir.as_os_str().is_empty() || dir.is_dir() => Ok(path),
            _ => Err(format!("{text}: its folder does not exist")),
        },
    }
}

/// The path field shown when no file chooser could open.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPrompt {
    pub purpose: Purpose,
    /// Why the chooser did not open.
    pub reason: String,
    pub text: String,
}

impl PathPrompt {
    pub fn new(purpose: Purpose, reason: String, suggested: Option<&Path>) -> PathPrompt {
        PathPrompt {
            purpose,
            reason,
            text: suggested.map(|p| p.display().to_string()).unwrap_or_default(),
        }
    }

    /// Draws the field with its reason; returns the checked path when the nurse confirms it,
    /// or `Err(())` when the nurse gives up.
    pub fn ui(&mut self, ui: &mut egui::Ui, action: &str) -> Option<Result<PathBuf, ()>> {
        let mut outcome = None;
        error_text(ui, &self.reason);
        let label = ui.label("Path");
        let edit = ui
            .add(egui::TextEdit::singleline(&mut self.text).desired_width(f32::INFINITY))
            .labelled_by(label.id);
        let checked = check_typed(self.purpose, &self.text);
        ui.horizontal(|ui| {
            let go = ui.add_enabled(checked.is_ok(), egui::Button::new(action));
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if let Ok(path) = &checked
                && (go.clicked() || entered)
            {
                outcome = Some(Ok(path.clone()));
            }
            if ui.button("Cancel").clicked() {
                outcome = Some(Err(()));
            }
        });
        if !self.text.trim().is_empty()
            && let Err(problem) = &checked
        {
            error_text(ui, problem);
        }
        outcome
    }
}

/// The command that opens `path` with the system's default handler.
pub fn opener(path: &Path) -> std::process::Command {
    if cfg!(target_os = "windows") {
        let mut command = std::process::Command::new("cmd");
        // `start` takes its first quoted argument as a title.
        command.args(["/C", "start", ""]).arg(path);
        command
    } else if cfg!(target_os = "macos") {
        let mut command = std::process::Command::new("open");
        command.arg(path);
        command
    } else {
        let mut command = std::process::Command::new("xdg-open");
        command.arg(path);
        command
    }
}

/// Opens `path` with the system's default handler and waits for the opener to say whether it
/// could. For a job's thread only.
pub fn open_with_system(path: &Path) -> Result<(), String> {
    let mut command = opener(path);
    let program = command.get_program().to_string_lossy().into_owned();
    let status = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot open {}: {program}: {e}", path.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cannot open {}: {program} found no application for it ({status})",
            path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chooser_that_answers_nothing_at_once_never_showed_and_a_slow_nothing_is_a_cancel() {
        assert_eq!(
            judge(None, Duration::from_millis(20)),
            Chosen::Unavailable(NO_CHOOSER.to_owned())
        );
        assert_eq!(judge(None, Duration::from_secs(4)), Chosen::Cancelled);
        let path = PathBuf::from("/tmp/x.csv");
        assert_eq!(
            judge(Some(path.clone()), Duration::from_millis(1)),
            Chosen::Path(path)
        );
    }

    #[test]
    fn without_a_session_bus_or_zenity_there_is_no_chooser_on_linux() {
        let none = unavailable_reason(false, false);
        if cfg!(target_os = "linux") {
            assert!(none.unwrap().starts_with(NO_CHOOSER));
        } else {
            assert!(none.is_none());
        }
        assert!(unavailable_reason(true, false).is_none());
        assert!(unavailable_reason(false, true).is_none());
    }

    #[test]
    fn a_typed_path_is_checked_for_what_it_is_for() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("session.csv");
        std::fs::write(&file, "x").unwrap();
        let text = |p: &Path| p.display().to_string();
        assert_eq!(check_typed(Purpose::Open, &text(&file)), Ok(file.clone()));
        assert!(
            check_typed(Purpose::Open, &text(&dir.path().join("nope.csv")))
                .unwrap_err()
                .contains("no such file")
        );
        assert!(check_typed(Purpose::Open, "  ").is_err());
        assert_eq!(
            check_typed(Purpose::Folder, &text(dir.path())),
            Ok(dir.path().to_owned())
        );
        assert!(check_typed(Purpose::Folder, &text(&file)).is_err());
        let out = dir.path().join("report.pdf");
        assert_eq!(check_typed(Purpose::Save, &text(&out)), Ok(out));
        assert!(
            check_typed(Purpose::Save, &text(dir.path()))
                .unwrap_err()
                .contains("is a folder")
        );
        assert!(
            check_typed(Purpose::Save, &text(&dir.path().join("gone/report.pdf")))
                .unwrap_err()
                .contains("folder does not exist")
        );
    }

    #[test]
    fn the_system_opener_is_the_platforms() {
        let command = opener(Path::new("/tmp/report.pdf"));
        let program = command.get_program().to_string_lossy().into_owned();
        let expected = if cfg!(target_os = "windows") {
            "cmd"
        } else if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        assert_eq!(program, expected);
        assert_eq!(
            command.get_args().last(),
            Some(std::ffi::OsStr::new("/tmp/report.pdf"))
        );
    }
}
