//! A live session on a pseudo-terminal in a 1366×768 `egui_kittest` harness, for the tests that
//! drive the monitor's forms: the rig, its clocks, and a sample to send.

#![allow(dead_code)] // each test file uses its own part of the rig

use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apheresis_monitor::model::{Payload, Quantity, Sample, Sentence};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::session::Monotonic;
use apheresis_monitor::ui::{Clock, Launch, MonitorApp, Settings};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use jiff::Timestamp;

pub const WAIT: Duration = Duration::from_secs(20);

pub struct Rig {
    pub harness: Harness<'static, MonitorApp>,
    pub master: serialport::TTYPort,
    pub seq: u32,
    pub clock: Arc<Mutex<Timestamp>>,
    pub monotonic: Arc<Mutex<Instant>>,
    _dir: tempfile::TempDir,
}

/// A live session on a pseudo-terminal, in a 1366×768 window.
pub fn live_rig() -> Rig {
    live_rig_with(|app| app)
}

/// [`live_rig`] with the app made ready by `prepare` (e.g. given a sound output).
pub fn live_rig_with(prepare: impl FnOnce(MonitorApp) -> MonitorApp) -> Rig {
    live_rig_configured(|settings| settings, prepare)
}

/// [`live_rig_with`], the app's settings first changed by `configure`.
pub fn live_rig_configured(
    configure: impl FnOnce(Settings) -> Settings,
    prepare: impl FnOnce(MonitorApp) -> MonitorApp,
) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let (master, slave) = serialport::TTYPort::pair().unwrap();
    let port = serialport::SerialPort::name(&slave).unwrap();
    drop(slave);
    let settings = configure(Settings {
        session_folder: Some(dir.path().to_owned()),
        ..Settings::default()
    });
    let (monotonic, monotonic_cell) = Monotonic::fake(Instant::now());
    let (clock, cell) = Clock::fake(Timestamp::now());
    let clock = clock.with_monotonic(monotonic);
    let launch = Launch::Port {
        port: port.clone(),
        baud: 115_200,
    };
    let app = prepare(MonitorApp::new(settings, launch, clock));
    let harness = Harness::builder()
        .with_size([1366.0, 768.0])
        .build_ui_state(
            |ui, app: &mut MonitorApp| {
                app.logic(ui.ctx());
                app.ui(ui);
            },
            app,
        );
    let mut rig = Rig {
        harness,
        master,
        seq: 0,
        clock: cell,
        monotonic: monotonic_cell,
        _dir: dir,
    };
    rig.step_until("the live session starts", |h| h.state().live().is_some());
    crate::support::wait_until(WAIT, "the worker opens the port", || {
        crate::support::has_open(std::process::id(), Path::new(&port))
    });
    rig
}

impl Rig {
    pub fn step_until(
        &mut self,
        what: &str,
        mut done: impl FnMut(&Harness<'static, MonitorApp>) -> bool,
    ) {
        let deadline = Instant::now() + WAIT;
        loop {
            self.harness.step();
            if done(&self.harness) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn wait_for_label(&mut self, label: &str) {
        let wanted = label.to_owned();
        self.step_until(&format!("`{label}` shows"), move |h| {
            h.query_by_label(&wanted).is_some()
        });
    }

    pub fn send(&mut self, t_ms: u64, payload: Payload) {
        let line = encode(&Sentence {
            seq: self.seq,
            t_ms,
            payload,
            unknown_keys: 0,
        });
        self.seq += 1;
        self.master.write_all(line.as_bytes()).unwrap();
    }

    pub fn now(&self) -> Timestamp {
        *self.clock.lock().unwrap()
    }

    /// Time passes: the wall clock and the monotonic clock move on together.
    pub fn advance_s(&self, secs: i64) {
        let t = self.now();
        *self.clock.lock().unwrap() = t
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap();
        *self.monotonic.lock().unwrap() += Duration::from_secs(secs as u64);
    }

    /// The rectangle of the widget labelled `label`, or else of the first whose label holds it.
    pub fn rect(&self, label: &str) -> egui::Rect {
        self.harness
            .query_by_label(label)
            .or_else(|| self.harness.query_all_by_label_contains(label).next())
            .unwrap_or_else(|| panic!("no `{label}` on screen"))
            .rect()
    }

    pub fn type_into(&mut self, field: &str, text: &str) {
        self.harness
            .get_by_role_and_label(Role::TextInput, field)
            .set_text_value_accesskit(text);
        self.harness.step();
        self.harness.step();
    }
}

pub fn sample(inlet_ml_min: f64, inlet_ml: f64) -> Payload {
    Payload::Sample(
        Sample::default()
            .with(Quantity::InletMlMin, inlet_ml_min)
            .with(Quantity::InletMl, inlet_ml)
            .with(Quantity::AcMlMin, 4.5)
            .with(Quantity::AccessMmhg, -80.0)
            .with(Quantity::ReturnMmhg, 120.0),
    )
}
