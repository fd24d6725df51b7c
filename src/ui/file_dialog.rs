//! The desktop's file chooser, and what to do where there is none: the chooser runs in a
//! [`crate::job::Job`] (it blocks its thread); where it cannot open (no desktop file-chooser
//! service) the nurse gets a path field with the reason, never silence. Also opening a file
//! or folder with the system's default handler, off the UI thread.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::job::{Job, Wake};

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
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
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

/// The file chooser for a recording to open, in a job of its own (it blocks its thread).
pub fn pick_recording(folder: PathBuf, wake: Wake) -> Job<Chosen> {
    Job::spawn("file-dialog", wake, move || {
        run(|| {
            rfd::FileDialog::new()
                .set_title("Open a session recording")
                .add_filter("Session recording", &["csv"])
                .set_directory(folder)
                .pick_file()
        })
    })
}

/// The folder chooser for the session folder, in a job of its own.
pub fn pick_folder(start: PathBuf, wake: Wake) -> Job<Chosen> {
    Job::spawn("folder-dialog", wake, move || {
        run(|| {
            rfd::FileDialog::new()
                .set_title("Folder for session recordings")
                .set_directory(start)
                .pick_folder()
        })
    })
}

/// The path typed for `purpose`, or why it will not do. Checked by its text alone (the UI
/// thread never waits on a disk): whether the file is there is found out by the job that
/// opens or writes it, which reports what went wrong.
pub fn check_typed(purpose: Purpose, text: &str) -> Result<PathBuf, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("type the path".into());
    }
    let path = PathBuf::from(text);
    let names_a_file =
        !text.ends_with(['/', std::path::MAIN_SEPARATOR]) && path.file_name().is_some();
    match purpose {
        Purpose::Folder => Ok(path),
        _ if !names_a_file => Err(format!("{text}: add the file's name")),
        Purpose::Open if path.extension().is_none_or(|e| e != "csv") => {
            Err(format!("{text}: a recording is a .csv file"))
        }
        Purpose::Open | Purpose::Save => Ok(path),
    }
}

/// The path field shown when no file chooser could open.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPrompt {
    pub purpose: Purpose,
    /// Why the chooser did not open.
    pub reason: String,
    pub text: String,
    /// Whether the nurse has typed: what is wrong with the path shows only then.
    edited: bool,
    /// Whether the field has been given the keyboard focus (once, when it appears).
    focused: bool,
}

impl PathPrompt {
    /// A field for `purpose`, filled with `suggested` (for a file to open, its folder, ending
    /// with a separator, so typing the file's name completes it).
    pub fn new(purpose: Purpose, reason: String, suggested: Option<&Path>) -> PathPrompt {
        let mut text = suggested
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if purpose == Purpose::Open
            && !text.is_empty()
            && !text.ends_with(std::path::MAIN_SEPARATOR)
        {
            text.push(std::path::MAIN_SEPARATOR);
        }
        PathPrompt {
            purpose,
            reason,
            text,
            edited: false,
            focused: false,
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
        if !self.focused {
            self.focused = true;
            edit.request_focus();
        }
        self.edited |= edit.changed();
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
        if self.edited
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
        let sessions = Path::new("/data/sessions");
        assert_eq!(
            check_typed(Purpose::Open, " /data/sessions/a.csv "),
            Ok(sessions.join("a.csv"))
        );
        assert!(check_typed(Purpose::Open, "  ").is_err());
        assert!(
            check_typed(Purpose::Open, "/data/sessions/")
                .unwrap_err()
                .contains("add the file's name")
        );
        assert!(
            check_typed(Purpose::Open, "/data/sessions/a.pdf")
                .unwrap_err()
                .contains(".csv")
        );
        assert_eq!(
            check_typed(Purpose::Save, "/data/report.pdf"),
            Ok(PathBuf::from("/data/report.pdf"))
        );
        assert!(check_typed(Purpose::Save, "/data/").is_err());
        assert_eq!(
            check_typed(Purpose::Folder, "/data/sessions/"),
            Ok(PathBuf::from("/data/sessions/"))
        );
        // The folder suggested for a recording ends with a separator, ready for its name.
        let prompt = PathPrompt::new(Purpose::Open, NO_CHOOSER.into(), Some(sessions));
        assert_eq!(
            prompt.text,
            format!("/data/sessions{}", std::path::MAIN_SEPARATOR)
        );
        assert!(check_typed(prompt.purpose, &prompt.text).is_err());
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
