//! `record --publish`: the recorder's side of the ward. It keeps a timeline and an alarm engine
//! of its own beside the recording loop (the monitor's alarms are shown to the ward, not
//! recorded: `record`'s recording stays the same bytes as before) and hands the publisher what
//! it would show. Nothing here waits on the broker; a bad configuration prints one line and
//! recording goes on.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use jiff::Timestamp;

use apheresis_monitor::acquisition::{AcqEvent, LinkState};
use apheresis_monitor::alarms::{AlarmEngine, AlarmInputs, AlarmSettings};
use apheresis_monitor::analysis::{Patient, Target, Timeline};
use apheresis_monitor::model::EntryBody;
use apheresis_monitor::session::start::{Prepared, StartError};
use apheresis_monitor::ward::bedside::{BedView, Bedside};
use apheresis_monitor::ward::broker::{BrokerConfig, ConfigError, PASSWORD_ENV};
use apheresis_monitor::ward::publish::{PublishConfig, PublishState, Publisher};
use apheresis_monitor::ward::topic::Bed;

/// How the recorder publishes to the ward (all optional: without --publish nothing is sent).
#[derive(Debug, Clone, Args)]
pub struct PublishArgs {
    /// Publish this bedside's status to an MQTT broker: mqtt://USER@HOST:PORT or
    /// mqtts://USER@HOST:PORT (with --ca). The password: --password-file, else the
    /// `APHERESIS_MQTT_PASSWORD` environment variable (or USER:PASS in the URL, visible to
    /// other users in the process list).
    #[arg(long, value_name = "URL")]
    pub publish: Option<String>,
    /// This bed's name on the ward (letters, digits, - and _); the URL's user by default.
    #[arg(long, value_name = "NAME", requires = "publish")]
    pub bed: Option<String>,
    /// The broker's CA certificate (PEM), for mqtts://.
    #[arg(long, value_name = "FILE", requires = "publish")]
    pub ca: Option<PathBuf>,
    /// A file whose first line is the broker password.
    #[arg(long, value_name = "FILE", requires = "publish")]
    pub password_file: Option<PathBuf>,
    /// Also send the patient's identifier (off by default: the ward sees the bed name only).
    #[arg(long, requires = "publish")]
    pub publish_patient: bool,
}

/// The publishing configuration from the options, or why it cannot be used.
fn config(args: &PublishArgs, url: &str) -> Result<(PublishConfig, String), ConfigError> {
    let broker = BrokerConfig::new(
        url,
        args.password_file.as_deref(),
        std::env::var(PASSWORD_ENV).ok(),
        args.ca.as_deref(),
    )?;
    let bed = Bed::new(args.bed.as_deref().unwrap_or(&broker.url.user))?;
    let shown = format!("{} as bed {bed}", broker.url);
    Ok((PublishConfig::new(broker, bed), shown))
}

/// What the session holds when publishing starts: a resumed recording's rows so far (read
/// back before the worker appends) and the patient and target of its metadata, so that a
/// resumed bedside publishes the whole session's figures, not those since it came back.
pub struct Seed {
    timeline: Timeline,
    alarms: AlarmEngine,
    patient: Patient,
    target: Target,
}

impl Seed {
    /// Reads it from the prepared session; only when `publishing` (otherwise a new one).
    pub fn read(prepared: &Prepared, publishing: bool) -> Result<Seed, StartError> {
        let meta = prepared.meta();
        let (timeline, alarms) = if publishing {
            prepared.read_back()?
        } else {
            None
        }
        .unwrap_or_else(|| (Timeline::new(), AlarmEngine::default()));
        Ok(Seed {
            timeline,
            alarms,
            patient: Patient::from_meta(meta.patient.as_ref()),
            target: Target::from_meta(meta.targets.as_ref()).0,
        })
    }
}

/// What the recorder publishes from.
pub struct RecordPublisher {
    bedside: Bedside,
    timeline: Timeline,
    alarms: AlarmEngine,
    patient: Patient,
    target: Target,
    link: LinkState,
    recording: PathBuf,
    last_sample: Option<Instant>,
    last_tick: Option<Instant>,
    /// The state last printed, by its short name.
    printed: Option<&'static str>,
}

impl RecordPublisher {
    /// Starts publishing if --publish was given; a configuration that cannot be used is one
    /// line on stderr and no publishing.
    pub fn start(args: &PublishArgs, recording: &Path, seed: Seed) -> Option<RecordPublisher> {
        let url = args.publish.as_deref()?;
        let (config, shown) = match config(args, url) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("ward: {e}; recording without publishing");
                return None;
            }
        };
        eprintln!("ward: publishing to {shown}");
        let publish_patient = args.publish_patient;
        Some(RecordPublisher {
            bedside: Bedside::new(Publisher::start(config), publish_patient),
            timeline: seed.timeline,
            alarms: seed.alarms,
            patient: seed.patient,
            target: seed.target,
            link: LinkState::Up,
            recording: recording.to_owned(),
            last_sample: None,
            last_tick: None,
            printed: None,
        })
    }

    /// Takes in what the worker reported.
    pub fn observe(&mut self, event: &AcqEvent) {
        match event {
            AcqEvent::Entry(entry) => {
                self.timeline.push(entry);
                if matches!(entry.body, EntryBody::Sample(_)) {
                    self.last_sample = Some(Instant::now());
                }
                self.alarms.observe(entry);
            }
            AcqEvent::Link(state) => self.link = state.clone(),
            AcqEvent::NewRecording { path } => {
                self.recording.clone_from(path);
                self.timeline = Timeline::new();
                self.last_sample = None;
            }
            AcqEvent::Finished(_) => self.link = LinkState::Closed,
            _ => {}
        }
    }

    /// Runs the monitor's rules and publishes, at most once a second; prints a change of the
    /// connection's state as one line.
    pub fn tick(&mut self) {
        if self
            .last_tick
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last_tick = Some(Instant::now());
        let now = Timestamp::now();
        let target = self.target;
        let settings = AlarmSettings::default();
        let sample_age_s = self.last_sample.map(|t| t.elapsed().as_secs_f64());
        let inputs = AlarmInputs {
            sample_age_s,
            connected: matches!(self.link, LinkState::Up | LinkState::Silent),
            link_lost: matches!(self.link, LinkState::Down { .. }),
            ..AlarmInputs::from_timeline(&self.timeline, &self.patient, target, &settings)
        };
        self.alarms.evaluate(now, &inputs);
        let view = BedView {
            timeline: &self.timeline,
            alarms: &self.alarms,
            patient: &self.patient,
            target,
            citrate_ml_min_l: inputs.citrate.map(|c| c.ml_min_per_l),
            sample_age_s,
            link: &self.link,
            recording: &self.recording,
            patient_id: None,
        };
        self.bedside.update(&view, now);
        let state = self.bedside.state();
        if self.printed != Some(state.short()) {
            self.printed = Some(state.short());
            match &state {
                PublishState::Connecting => {}
                PublishState::Connected => eprintln!("ward: {state}"),
                PublishState::Failed(_) => {
                    eprintln!("ward: {state}; recording continues, retrying");
                }
            }
        }
    }

    /// Publishes the last status and `online` = `false`, waiting at most 2 s (the recording
    /// is already closed).
    pub fn finish(mut self) {
        self.last_tick = None;
        self.tick();
        self.bedside.stop(Duration::from_secs(2));
    }
}
