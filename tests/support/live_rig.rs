//! The monitor app in a 1366×768 `egui_kittest` harness, with data coming through the real
//! serial path (APH/1 written into a pseudo-terminal, read by the worker) and the app's clocks
//! in the test's hands: the rig every window test drives, and a sample to send.

#![allow(dead_code)] // each test file uses its own part of the rig

use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apheresis_monitor::acquisition::{AcqEvent, LinkState};
use apheresis_monitor::model::{
    Entry, EntryBody, LinkCode, LinkEvent, Payload, Quantity, Sample, Sentence,
};
use apheresis_monitor::protocol::encode;
use apheresis_monitor::session::Monotonic;
use apheresis_monitor::ui::{Clock, Launch, MonitorApp, Settings};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use jiff::{SignedDuration, Timestamp};

/// How long any wait in these tests may take before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Rig {
    pub harness: Harness<'static, MonitorApp>,
    /// The machine's side of the pseudo-terminal; `None` once the cable is pulled.
    pub master: Option<serialport::TTYPort>,
    pub seq: u32,
    pub clock: Arc<Mutex<Timestamp>>,
    /// The app's monotonic clock, which data ages are measured on.
    pub monotonic: Arc<Mutex<Instant>>,
    /// The pseudo-terminal the monitor reads (the slave side).
    pub port: String,
    _dir: tempfile::TempDir,
}

/// A live session on a pseudo-terminal.
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
    build_rig(true, |_, _| {}, configure, prepare)
}

/// The app on its start screen (`launch_port` false) or live on the pseudo-terminal, its
/// session folder filled by `fill(folder, port)` before it starts.
pub fn rig_prepared(launch_port: bool, fill: impl FnOnce(&Path, &str)) -> Rig {
    build_rig(launch_port, fill, |settings| settings, |app| app)
}

fn build_rig(
    launch_port: bool,
    fill: impl FnOnce(&Path, &str),
    configure: impl FnOnce(Settings) -> Settings,
    prepare: impl FnOnce(MonitorApp) -> MonitorApp,
) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let (master, slave) = serialport::TTYPort::pair().unwrap();
    let port = serialport::SerialPort::name(&slave).unwrap();
    drop(slave);
    fill(dir.path(), &port);
    let settings = configure(Settings {
        session_folder: Some(dir.path().to_owned()),
        ..Settings::default()
    });
    let (monotonic, monotonic_cell) = Monotonic::fake(Instant::now());
    let (clock, cell) = Clock::fake(Timestamp::now());
    let clock = clock.with_monotonic(monotonic);
    let launch = if launch_port {
        Launch::Port {
            port: port.clone(),
            baud: 115_200,
        }
    } else {
        Launch::Start
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
        master: Some(master),
        seq: 0,
        clock: cell,
        monotonic: monotonic_cell,
        port,
        _dir: dir,
    };
    if launch_port {
        rig.step_until("the live session starts", |h| h.state().live().is_some());
        rig.wait_until_port_open();
    }
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

    pub fn wait_for_label_contains(&mut self, part: &str) {
        let wanted = part.to_owned();
        self.step_until(&format!("a label with `{part}` shows"), move |h| {
            h.query_by_label_contains(&wanted).is_some()
        });
    }

    /// Writes one sentence into the pseudo-terminal, as the machine would.
    pub fn send(&mut self, t_ms: u64, payload: Payload) {
        let line = encode(&Sentence {
            seq: self.seq,
            t_ms,
            payload,
            unknown_keys: 0,
        });
        self.seq += 1;
        let master = self.master.as_mut().expect("the cable is plugged in");
        master.write_all(line.as_bytes()).unwrap();
    }

    /// Waits until the serial worker (a thread of this process) holds the port open, so what is
    /// written next is read from an open port.
    pub fn wait_until_port_open(&self) {
        let port = Path::new(&self.port);
        crate::support::wait_until(WAIT, "the worker opens the port", || {
            crate::support::has_open(std::process::id(), port)
        });
    }

    /// Runs `n` frames (the app's logic and drawing), with the clock where it is.
    pub fn frames(&mut self, n: usize) {
        for _ in 0..n {
            self.harness.step();
        }
    }

    /// Runs frames until the app has drawn what the clocks say now.
    pub fn settle(&mut self) {
        self.frames(2);
    }

    /// The app's wall clock.
    pub fn now(&self) -> Timestamp {
        *self.clock.lock().unwrap()
    }

    /// Sets the wall clock alone (the monotonic clock stays).
    pub fn set_clock(&self, t: Timestamp) {
        *self.clock.lock().unwrap() = t;
    }

    /// Time passes: the wall clock and the monotonic clock move on together.
    pub fn advance_ms(&self, ms: u64) {
        let t = self.now();
        self.set_clock(plus_ms(t, ms as i64));
        *self.monotonic.lock().unwrap() += Duration::from_millis(ms);
    }

    /// [`Rig::advance_ms`] in seconds.
    pub fn advance_s(&self, secs: i64) {
        self.advance_ms(secs as u64 * 1000);
    }

    /// The rectangle of the widget labelled `label`, or else of the first whose label holds it.
    pub fn rect(&self, label: &str) -> egui::Rect {
        self.harness
            .query_by_label(label)
            .or_else(|| self.harness.query_all_by_label_contains(label).next())
            .unwrap_or_else(|| panic!("no `{label}` on screen"))
            .rect()
    }

    /// Types `text` into the one-line field labelled `field`, replacing what it held.
    pub fn type_into(&mut self, field: &str, text: &str) {
        self.harness
            .get_by_role_and_label(Role::TextInput, field)
            .set_text_value_accesskit(text);
        self.harness.step();
        self.harness.step();
    }

    /// Hands the live session a link event and its row, as the worker does when the port is
    /// lost or data comes back.
    pub fn inject_link(&mut self, code: LinkCode, state: LinkState) {
        let at = self.now();
        let live = self.harness.state_mut().live_mut().unwrap();
        let last_ms = live.timeline.x_range().map(|(_, x)| (x * 1000.0) as u64);
        live.apply(AcqEvent::Entry(Entry {
            time_utc: at,
            elapsed_ms: last_ms,
            seq: None,
            body: EntryBody::Link(LinkEvent::new(code, String::new())),
        }));
        live.apply(AcqEvent::Link(state));
    }

    /// Hands the live session an entry received at `time_utc`, as the worker would: the test
    /// chooses the receipt time, so it is on the same clock as the app's.
    pub fn inject(&mut self, time_utc: Timestamp, t_ms: u64, body: EntryBody) {
        let entry = Entry {
            time_utc,
            elapsed_ms: Some(t_ms),
            seq: Some(self.seq),
            body,
        };
        self.seq += 1;
        self.harness
            .state_mut()
            .live_mut()
            .unwrap()
            .apply(AcqEvent::Entry(entry));
    }
}

/// `t` plus `ms` milliseconds.
pub fn plus_ms(t: Timestamp, ms: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_millis(ms)).unwrap()
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
