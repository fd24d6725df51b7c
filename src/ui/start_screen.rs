//! The start screen: connect to a machine, start the demo, open a recording, the library.

use egui::RichText;

use crate::acquisition::devices::short_name;
use crate::acquisition::{PortListing, STANDARD_BAUDS};
use crate::session::library::SessionListing;

use super::app::Command;
use super::file_dialog::{PathPrompt, Purpose};
use super::library::{LibraryAction, library_ui};
use super::settings::Settings;
use super::theme::Theme;

/// What a typed port looks like on this platform.
const PORT_HINT: &str = if cfg!(windows) {
    "COM3"
} else {
    "/dev/serial/by-id/… or /dev/ttyUSB0"
};

/// How wide the port picker and the port path are: a USB adapter's label names its vendor,
/// product, serial number and by-id link.
const PICKER_WIDTH: f32 = 436.0;

/// What the start screen keeps between frames.
pub struct StartScreen {
    /// The port typed or picked.
    pub port_text: String,
    pub baud: u32,
    pub demo_speed: f64,
    /// The serial ports found at the last listing.
    pub ports: Vec<PortListing>,
    /// The session folder as last read (`None` while it is being read).
    pub library: Option<Vec<SessionListing>>,
    /// The path field shown when no file chooser could open.
    pub path_prompt: Option<PathPrompt>,
}

/// What is going on behind the start screen.
pub struct Busy<'a> {
    /// A session is being started.
    pub starting: bool,
    /// A live session is being stopped (its recording closed).
    pub stopping: bool,
    /// A recording being loaded, and how far.
    pub loading: Option<(&'a str, f32)>,
}

impl StartScreen {
    pub fn new(settings: &Settings) -> StartScreen {
        StartScreen {
            port_text: settings.last_port.clone(),
            baud: settings.baud,
            demo_speed: settings.demo_speed,
            ports: Vec::new(),
            library: None,
            path_prompt: None,
        }
    }

    /// Takes a new listing of the ports. A port chosen by its plain name (as settings from
    /// before stable identities hold it, or as typed) that the listing knows by a stable
    /// identity (by-id link, USB serial number) is chosen by that identity from now on, so it
    /// is found again if it comes back under another name.
    pub fn set_ports(&mut self, ports: Vec<PortListing>) {
        let chosen = self.port_text.trim();
        if let Some(port) = ports.iter().find(|p| p.path == chosen) {
            self.port_text = port.identity().to_string();
        }
        self.ports = ports;
    }

    /// Draws the screen; what the nurse asks for goes into `commands`.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        settings: &Settings,
        busy: &Busy<'_>,
        commands: &mut Vec<Command>,
    ) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.add_space(12.0);
            ui.heading(RichText::new("Apheresis session monitor").size(30.0));
            ui.label("Live monitoring, recording and review of apheresis collections.");
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(
                        "A secondary display: the apheresis machine's own alarms remain the alarm system.",
                    )
                    .weak(),
                );
                if ui.button("About").clicked() {
                    commands.push(Command::ShowAbout);
                }
            });
            ui.add_space(16.0);
            if busy.starting || busy.stopping {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(if busy.stopping {
                        "Closing the recording…"
                    } else {
                        "Starting the session…"
                    });
                });
            }
            if let Some((name, fraction)) = busy.loading {
                ui.label(format!("Loading {name}…"));
                ui.add(egui::ProgressBar::new(fraction).show_percentage());
            }
            let idle = !busy.starting && !busy.stopping;
            ui.columns(2, |columns| {
                self.connect_ui(&mut columns[0], idle, commands);
                let listed = self.library.as_deref().unwrap_or_default();
                recordings_ui(&mut columns[1], settings, listed, commands);
                path_prompt_ui(&mut columns[1], &mut self.path_prompt, commands);
            });
            ui.add_space(12.0);
            ui.separator();
            match library_ui(ui, self.library.as_deref()) {
                Some(LibraryAction::Open(path)) => commands.push(Command::OpenRecording(path)),
                Some(LibraryAction::Reveal(path)) => commands.push(Command::Reveal(path)),
                Some(LibraryAction::Export(path)) => commands.push(Command::ExportSummary(path)),
                Some(LibraryAction::Refresh) => commands.push(Command::RefreshLibrary),
                None => {}
            }
        });
    }

    fn connect_ui(&mut self, ui: &mut egui::Ui, idle: bool, commands: &mut Vec<Command>) {
        ui.group(|ui| {
            ui.heading("Connect to a machine");
            ui.horizontal(|ui| {
                let label = ui.label("Serial port");
                let chosen = self.port_text.trim();
                // The chosen adapter by what it is and its name now; its by-id link is in the
                // port path below.
                let selected = self
                    .ports
                    .iter()
                    .find(|p| p.identity().to_string() == chosen)
                    .map_or_else(
                        || if chosen.is_empty() { "choose…".to_owned() } else { chosen.to_owned() },
                        |p| format!("{} ({})", p.what(), short_name(&p.path)),
                    );
                ui.scope(|ui| {
                    ui.set_max_width(PICKER_WIDTH + ui.spacing().icon_width);
                    egui::ComboBox::from_id_salt("port-picker")
                        .selected_text(selected)
                        .width(PICKER_WIDTH)
                        .truncate()
                        .show_ui(ui, |ui| {
                            if self.ports.is_empty() {
                                ui.label("no ports found");
                            }
                            for port in &self.ports {
                                // What it is, then where: the by-id link and its name now.
                                let text = format!("{}\n{}", port.what(), port.place());
                                ui.selectable_value(&mut self.port_text, port.identity().to_string(), text);
                            }
                        })
                        .response
                        .labelled_by(label.id);
                });
                if ui.button("Refresh ports").clicked() {
                    commands.push(Command::RefreshPorts);
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label("Port path");
                ui.add(egui::TextEdit::singleline(&mut self.port_text).hint_text(PORT_HINT).desired_width(PICKER_WIDTH))
                    .labelled_by(label.id);
            });
            ui.horizontal(|ui| {
                let label = ui.label("Baud");
                egui::ComboBox::from_id_salt("baud-picker")
                    .selected_text(self.baud.to_string())
                    .show_ui(ui, |ui| {
                        for baud in STANDARD_BAUDS {
                            ui.selectable_value(&mut self.baud, baud, baud.to_string());
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
            let can_connect = idle && !self.port_text.trim().is_empty();
            if ui.add_enabled(can_connect, egui::Button::new(RichText::new("Connect").size(18.0))).clicked() {
                commands.push(Command::Connect {
                    port: self.port_text.trim().to_owned(),
                    baud: self.baud,
                });
            }
            ui.add_space(16.0);
            ui.heading("Try it without a machine");
            ui.horizontal(|ui| {
                let label = ui.label("Demo speed");
                ui.add(egui::DragValue::new(&mut self.demo_speed).range(1.0..=600.0).suffix("×"))
                    .labelled_by(label.id);
                if ui.add_enabled(idle, egui::Button::new(RichText::new("Start demo").size(18.0))).clicked() {
                    commands.push(Command::StartDemo { speed: self.demo_speed });
                }
            });
            ui.label(RichText::new("A simulated apheresis machine on a pseudo-terminal (on Windows an in-memory line), through the real acquisition path.").weak());
        });
    }
}

/// The path field shown when the file chooser could not open.
fn path_prompt_ui(ui: &mut egui::Ui, prompt: &mut Option<PathPrompt>, commands: &mut Vec<Command>) {
    let Some(field) = prompt else {
        return;
    };
    let action = match field.purpose {
        Purpose::Folder => "Use this folder",
        _ => "Open",
    };
    match field.ui(ui, action) {
        Some(Ok(path)) => {
            commands.push(match field.purpose {
                Purpose::Folder => Command::SetSessionFolder(Some(path)),
                _ => Command::OpenRecording(path),
            });
            *prompt = None;
        }
        Some(Err(())) => *prompt = None,
        None => {}
    }
}

/// The recent sessions not already in the library below (those in the session folder are
/// listed there, once). Paths are compared made absolute, without touching the disk.
pub fn recent_outside<'a>(
    settings: &'a Settings,
    listed: &[SessionListing],
) -> Vec<&'a std::path::Path> {
    let key = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let in_library: Vec<_> = listed.iter().map(|l| key(&l.path)).collect();
    settings
        .recent_sessions
        .iter()
        .filter(|p| !in_library.contains(&key(p)))
        .map(std::path::PathBuf::as_path)
        .collect()
}

fn recordings_ui(
    ui: &mut egui::Ui,
    settings: &Settings,
    listed: &[SessionListing],
    commands: &mut Vec<Command>,
) {
    ui.group(|ui| {
        ui.heading("Recorded sessions");
        if ui
            .button(RichText::new("Open recording…").size(18.0))
            .clicked()
        {
            commands.push(Command::PickRecording);
        }
        ui.add_space(8.0);
        ui.label("Recent sessions in other folders");
        let recent = recent_outside(settings, listed);
        if recent.is_empty() {
            ui.label(RichText::new("none").weak());
        }
        for path in recent {
            if ui
                .button(file_name(path))
                .on_hover_text(path.display().to_string())
                .clicked()
            {
                commands.push(Command::OpenRecording(path.to_owned()));
            }
        }
        ui.add_space(8.0);
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!(
                    "Recordings are kept in {}",
                    settings.session_folder().display()
                ))
                .weak(),
            );
            if ui.button("Change folder…").clicked() {
                commands.push(Command::PickSessionFolder);
            }
            if settings.session_folder.is_some() && ui.button("Use default folder").clicked() {
                commands.push(Command::SetSessionFolder(None));
            }
        });
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.label("Theme");
            let mut theme = settings.theme;
            ui.selectable_value(&mut theme, Theme::Night, "Night");
            ui.selectable_value(&mut theme, Theme::Day, "Day");
            if theme != settings.theme {
                commands.push(Command::SetTheme(theme));
            }
        });
        #[cfg(feature = "ward")]
        super::app::publish::settings_ui(ui, settings, commands);
    });
}

/// The file's name, for the screen (its folder is in the hover text).
pub fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entry, EntryBody, MachineState};
    use crate::recording::Recorder;

    #[test]
    fn a_recent_session_in_the_library_is_not_listed_again_among_the_recent_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut recorder = Recorder::create(&dir.path().join("a.csv")).unwrap();
        recorder
            .append(&Entry {
                time_utc: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
                elapsed_ms: Some(0),
                seq: Some(0),
                body: EntryBody::State(MachineState::Run),
            })
            .unwrap();
        drop(recorder);
        let listed = crate::session::library::scan(dir.path()).unwrap();
        assert_eq!(listed.len(), 1);
        let elsewhere = std::path::PathBuf::from("/elsewhere/b.csv");
        let settings = Settings {
            // The library's file, spelled another way, and one from another folder.
            recent_sessions: vec![dir.path().join(".").join("a.csv"), elsewhere.clone()],
            ..Settings::default()
        };
        assert_eq!(recent_outside(&settings, &listed), [elsewhere.as_path()]);
    }

    #[test]
    fn a_port_stored_by_its_old_plain_name_is_chosen_by_its_stable_identity_once_listed() {
        use crate::acquisition::{PortKind, UsbDevice};
        let link = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K3X9Z-if00-port0";
        let adapter = |path: &str, by_id: Option<&str>| PortListing {
            path: path.to_owned(),
            kind: PortKind::Usb,
            usb: Some(UsbDevice {
                vid: 0x0403,
                pid: 0x6001,
                serial_number: Some("A10K3X9Z".to_owned()),
                ..UsbDevice::default()
            }),
            by_id: by_id.map(str::to_owned),
        };
        let old = Settings {
            last_port: "/dev/ttyUSB0".to_owned(),
            ..Settings::default()
        };
        let mut screen = StartScreen::new(&old);
        screen.set_ports(vec![adapter("/dev/ttyUSB0", Some(link))]);
        assert_eq!(screen.port_text, link);
        // Without a by-id link (Windows), by its USB serial number.
        let mut screen = StartScreen::new(&Settings {
            last_port: "COM4".to_owned(),
            ..Settings::default()
        });
        screen.set_ports(vec![adapter("COM4", None)]);
        assert_eq!(screen.port_text, "usb:0403:6001:A10K3X9Z");
        // A path the listing does not know (a pseudo-terminal) stays as typed.
        let mut screen = StartScreen::new(&Settings {
            last_port: "/dev/pts/4".to_owned(),
            ..Settings::default()
        });
        screen.set_ports(vec![adapter("/dev/ttyUSB0", Some(link))]);
        assert_eq!(screen.port_text, "/dev/pts/4");
    }
}
