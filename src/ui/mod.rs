//! The eframe app: a thin layer over the headless core. The only module that imports egui.

pub mod about;
pub mod alarm_review;
pub mod alarm_settings;
pub mod app;
pub mod banner;
pub mod clock;
pub mod command;
pub mod confirm_stop;
pub mod export;
pub mod file_dialog;
pub mod forecast;
pub mod format;
pub mod forms;
pub mod frame_stats;
pub mod library;
pub mod live_view;
pub mod monitor;
pub mod notes;
pub mod notes_records;
pub mod plots;
pub mod pressure_bar;
pub mod primary;
pub mod replay_view;
pub mod settings;
pub mod setup;
pub mod setup_record;
pub mod start_screen;
pub mod theme;
pub mod value_alarms;
pub mod ward;
pub mod ward_tile;
pub mod ward_trend;
pub mod windows;

pub use app::{Clock, Command, Launch, MonitorApp};
pub use settings::Settings;

/// When the process started, for the time-to-first-frame figure (`RUST_LOG=startup=info`).
pub static PROCESS_START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The eframe wrapper: persistence and the frame loop.
struct EframeApp {
    app: MonitorApp,
    first_frame_logged: bool,
}

impl eframe::App for EframeApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.app.logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app.ui(ui);
        if !self.first_frame_logged {
            self.first_frame_logged = true;
            if let Some(start) = PROCESS_START.get() {
                tracing::info!(
                    target: "startup",
                    ms = start.elapsed().as_secs_f64() * 1000.0,
                    "first frame drawn"
                );
            }
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.app.settings);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.app.shutdown();
    }
}

/// Why the window could not run.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    #[error(
        "no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set): run the monitor from \
         a desktop session, or under `xvfb-run`; the headless commands (record, simulate, ports) \
         need no display"
    )]
    NoDisplay,
    #[error("the window could not be opened: {source}")]
    Open { source: eframe::Error },
}

/// The window's icon (`assets/icon-256.png`).
const ICON_PNG: &[u8] = include_bytes!("../../assets/icon-256.png");

/// Opens the window and runs until it is closed.
pub fn run(launch: Launch, window_size: Option<(f32, f32)>) -> Result<(), WindowError> {
    #[cfg(all(unix, not(target_os = "macos")))]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err(WindowError::NoDisplay);
    }
    // The icon is embedded: nothing is looked up at run time.
    let mut viewport = egui::ViewportBuilder::default();
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON_PNG) {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    let options = eframe::NativeOptions {
        viewport: viewport
            .with_title("Apheresis Monitor")
            .with_inner_size(window_size.map_or([1366.0, 768.0], |(w, h)| [w, h]))
            .with_min_inner_size([1024.0, 640.0]),
        ..Default::default()
    };
    eframe::run_native(
        "apheresis-monitor",
        options,
        Box::new(move |cc| {
            let settings: Settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            Ok(Box::new(EframeApp {
                app: MonitorApp::new(settings, launch, Clock::default())
                    .with_sound(crate::alarms::sound::AlarmSound::start()),
                first_frame_logged: false,
            }))
        }),
    )
    .map_err(|source| WindowError::Open { source })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_icon_decodes() {
        let icon = eframe::icon_data::from_png_bytes(super::ICON_PNG).unwrap();
        assert_eq!((icon.width, icon.height), (256, 256));
    }
}
