//! What a bedside publishes, built from what it shows: its status from the timeline, the alarm
//! engine and the link ([`status`], [`live_status`]), its alarm events from the changes in the
//! engine's active alarms ([`AlarmTracker`]), and its trend, one point a minute
//! ([`TrendBuilder`]). [`Bedside`] ties them to a [`Publisher`] for the app and `record`.
//!
//! Never sent: the recording's folder (only its file name), notes' text, and patient
//! identifiers unless the bedside's setting allows them.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use jiff::Timestamp;

use crate::acquisition::LinkState;
use crate::alarms::AlarmEngine;
use crate::analysis::progress::progress;
use crate::analysis::timeline::Series;
use crate::analysis::{Patient, Target, Timeline};
use crate::model::{Priority, Quantity};
use crate::session::LiveSession;

use super::message::{AlarmMessage, BedAlarm, BedStatus, SCHEMA, TREND_POINTS, Trend, TrendPoint};
use super::topic::Bed;

/// What a bedside shows now, gathered for its messages.
#[derive(Debug, Clone, Copy)]
pub struct BedView<'a> {
    pub timeline: &'a Timeline,
    pub alarms: &'a AlarmEngine,
    pub patient: &'a Patient,
    pub target: Target,
    /// The citrate rule's reading, mL AC/min per L TBV.
    pub citrate_ml_min_l: Option<f64>,
    /// How old the newest sample is, seconds.
    pub sample_age_s: Option<f64>,
    pub link: &'a LinkState,
    pub recording: &'a Path,
    /// The patient's identifier, only when the bedside's setting allows sending it.
    pub patient_id: Option<&'a str>,
}

/// The message word of a priority: `HIGH`, `MEDIUM`, `LOW`, `INFO`.
pub fn priority_word(priority: Priority) -> &'static str {
    match priority {
        Priority::High => "HIGH",
        Priority::Medium => "MEDIUM",
        Priority::Low => "LOW",
        Priority::Info => "INFO",
    }
}

/// The message word of a link state: `up`, `silent`, `down`, `closed`.
pub fn link_word(link: &LinkState) -> &'static str {
    match link {
        LinkState::Up => "up",
        LinkState::Silent => "silent",
        LinkState::Down { .. } => "down",
        LinkState::Closed => "closed",
    }
}

fn utc(t: Timestamp) -> String {
    t.round(jiff::Unit::Millisecond).unwrap_or(t).to_string()
}

/// The status of `bed` as `view` shows it at `now`.
pub fn status(bed: &Bed, view: &BedView<'_>, now: Timestamp) -> BedStatus {
    let p = progress(view.timeline.now(), view.patient, view.target);
    BedStatus {
        schema: SCHEMA,
        bed: bed.clone(),
        published_utc: utc(now),
        state: view.timeline.state().map(|s| s.as_str().to_owned()),
        wb_processed_ml: p.wb_processed_ml,
        tbv_processed: p.tbv_processed,
        target_wb_ml: p.target_wb_ml,
        progress: p.fraction,
        projected_end_utc: p.projected_end(now).map(utc),
        citrate_ml_min_l: view.citrate_ml_min_l,
        alarms: view
            .alarms
            .active()
            .into_iter()
            .map(|a| BedAlarm {
                code: a.source.code(),
                priority: priority_word(a.priority).to_owned(),
                text: a.text.clone(),
                acknowledged: a.acknowledged,
                raised_utc: utc(a.raised),
            })
            .collect(),
        data_age_s: view.sample_age_s,
        link: link_word(view.link).to_owned(),
        recording: view
            .recording
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
        patient: view.patient_id.map(str::to_owned),
    }
}

/// The patient's identifier in the session's details (its id, else the hospital number).
fn patient_id(session: &LiveSession) -> Option<String> {
    let patient = session.meta().patient.as_ref()?;
    patient
        .id
        .clone()
        .filter(|id| !id.trim().is_empty())
        .or_else(|| {
            patient.hospital_number.as_ref().map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        })
}

/// The status of a live session at `now`; the patient's identifier only with
/// `publish_patient`.
pub fn live_status(
    bed: &Bed,
    session: &LiveSession,
    now: Timestamp,
    publish_patient: bool,
) -> BedStatus {
    let id = publish_patient.then(|| patient_id(session)).flatten();
    let view = BedView {
        timeline: &session.timeline,
        alarms: &session.alarms,
        patient: session.patient(),
        target: session.target(),
        citrate_ml_min_l: session.citrate.map(|c| c.ml_min_per_l),
        sample_age_s: session
            .sample_age(now)
            .map(crate::alarms::SampleAge::as_secs),
        link: &session.link.state,
        recording: &session.recording,
        patient_id: id.as_deref(),
    };
    status(bed, &view, now)
}

/// Turns the changes in the engine's active alarms into alarm events: raised (a code not
/// shown before, or shown again), acknowledged (shown, now acknowledged), cleared (no longer
/// shown).
#[derive(Debug, Default)]
pub struct AlarmTracker {
    /// Each alarm shown at the last look: its priority, text, acknowledgement and raise time.
    shown: BTreeMap<String, (Priority, String, bool, Timestamp)>,
}

impl AlarmTracker {
    /// The events since the last call, for `bed`, stamped `now`.
    pub fn events(&mut self, bed: &Bed, engine: &AlarmEngine, now: Timestamp) -> Vec<AlarmMessage> {
        let message = |event: &str, code: &str, priority: Priority, text: &str| AlarmMessage {
            schema: SCHEMA,
            bed: bed.clone(),
            event: event.to_owned(),
            code: code.to_owned(),
            priority: priority_word(priority).to_owned(),
            text: text.to_owned(),
            at_utc: utc(now),
        };
        let mut out = Vec::new();
        let mut shown = BTreeMap::new();
        for alarm in engine.active() {
            let code = alarm.source.code();
            match self.shown.get(&code) {
                Some((_, _, _, raised)) if *raised == alarm.raised => {
                    if alarm.acknowledged && !self.shown[&code].2 {
                        out.push(message("acknowledged", &code, alarm.priority, &alarm.text));
                    }
                }
                _ => out.push(message("raised", &code, alarm.priority, &alarm.text)),
            }
            shown.insert(
                code,
                (
                    alarm.priority,
                    alarm.text.clone(),
                    alarm.acknowledged,
                    alarm.raised,
                ),
            );
        }
        for (code, (priority, text, _, _)) in &self.shown {
            if !shown.contains_key(code) {
                out.push(message("cleared", code, *priority, text));
            }
        }
        self.shown = shown;
        out
    }
}

/// The recent trend, one point per minute of session time, at most [`TREND_POINTS`].
#[derive(Debug, Default)]
pub struct TrendBuilder {
    points: VecDeque<TrendPoint>,
}

impl TrendBuilder {
    /// Takes a point when the session has reached a new minute since the last; returns the
    /// trend to publish when it changed.
    pub fn update(&mut self, bed: &Bed, timeline: &Timeline) -> Option<Trend> {
        let (t_s, wb) = timeline.latest(Series::WbProcessedMl).map_or_else(
            || {
                timeline
                    .latest(Series::Measured(Quantity::InletMlMin))
                    .map(|(x, _)| (x, None))
            },
            |(x, v)| Some((x, Some(v))),
        )?;
        if let Some(last) = self.points.back() {
            if t_s < last.t_s {
                // A new recording (the machine started a new procedure): a new trend.
                self.points.clear();
            } else if (t_s / 60.0).floor() <= (last.t_s / 60.0).floor() {
                return None;
            }
        }
        let latest = |q: Quantity| timeline.latest_value(Series::Measured(q));
        self.points.push_back(TrendPoint {
            t_s,
            wb_processed_ml: wb,
            inlet_ml_min: latest(Quantity::InletMlMin),
            access_mmhg: latest(Quantity::AccessMmhg),
            return_mmhg: latest(Quantity::ReturnMmhg),
        });
        while self.points.len() > TREND_POINTS {
            self.points.pop_front();
        }
        Some(Trend {
            schema: SCHEMA,
            bed: bed.clone(),
            points: self.points.iter().copied().collect(),
        })
    }
}

#[cfg(feature = "ward")]
pub use publishing::Bedside;

#[cfg(feature = "ward")]
mod publishing {
    use std::time::{Duration, Instant};

    use jiff::Timestamp;

    use super::super::publish::{PublishState, Publisher, STATUS_INTERVAL};
    use super::{AlarmTracker, BedView, TrendBuilder, live_status, status};
    use crate::session::LiveSession;

    /// The least time between two trends sent (a demo's minutes pass in a fraction of a second;
    /// the trend is retained and up to 6 h long).
    pub const TREND_INTERVAL: Duration = Duration::from_secs(10);

    /// A bedside publishing what it shows: hand it the view as often as you like; it builds a
    /// status at most once a second, alarm events as they come, and the trend (a point per
    /// minute of the session) at most every [`TREND_INTERVAL`].
    pub struct Bedside {
        publisher: Publisher,
        alarms: AlarmTracker,
        trend: TrendBuilder,
        /// The trend with points not yet sent.
        trend_waiting: Option<super::Trend>,
        last_trend: Option<Instant>,
        last_status: Option<Instant>,
        publish_patient: bool,
    }

    impl Bedside {
        pub fn new(publisher: Publisher, publish_patient: bool) -> Bedside {
            Bedside {
                publisher,
                alarms: AlarmTracker::default(),
                trend: TrendBuilder::default(),
                trend_waiting: None,
                last_trend: None,
                last_status: None,
                publish_patient,
            }
        }

        /// Whether patient identifiers may be sent.
        pub fn publishes_patient(&self) -> bool {
            self.publish_patient
        }

        fn trend_update(&mut self, bed: &super::Bed, timeline: &crate::analysis::Timeline) {
            if let Some(trend) = self.trend.update(bed, timeline) {
                self.trend_waiting = Some(trend);
            }
            if self
                .last_trend
                .is_none_or(|t| t.elapsed() >= TREND_INTERVAL)
                && let Some(trend) = self.trend_waiting.take()
            {
                self.last_trend = Some(Instant::now());
                self.publisher.publish_trend(trend);
            }
        }

        fn due(&mut self) -> bool {
            let due = self
                .last_status
                .is_none_or(|t| t.elapsed() >= STATUS_INTERVAL);
            if due {
                self.last_status = Some(Instant::now());
            }
            due
        }

        /// Publishes what `view` shows at `now` (its `patient_id` is dropped unless allowed).
        pub fn update(&mut self, view: &BedView<'_>, now: Timestamp) {
            let bed = self.publisher.bed().clone();
            for event in self.alarms.events(&bed, view.alarms, now) {
                self.publisher.publish_alarm(event);
            }
            self.trend_update(&bed, view.timeline);
            if self.due() {
                let mut view = *view;
                if !self.publish_patient {
                    view.patient_id = None;
                }
                self.publisher.publish_status(status(&bed, &view, now));
            }
        }

        /// Publishes what a live session shows at `now`.
        pub fn update_live(&mut self, session: &LiveSession, now: Timestamp) {
            let bed = self.publisher.bed().clone();
            for event in self.alarms.events(&bed, &session.alarms, now) {
                self.publisher.publish_alarm(event);
            }
            self.trend_update(&bed, &session.timeline);
            if self.due() {
                self.publisher.publish_status(live_status(
                    &bed,
                    session,
                    now,
                    self.publish_patient,
                ));
            }
        }

        pub fn state(&self) -> PublishState {
            self.publisher.state()
        }

        pub fn bed(&self) -> &super::Bed {
            self.publisher.bed()
        }

        /// Stops publishing, waiting at most `wait` (see [`Publisher::stop`]).
        pub fn stop(self, wait: Duration) {
            self.publisher.stop(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::AlarmInputs;
    use crate::model::{Alarm, Entry, EntryBody, MachineState, Sample};
    use crate::recording::meta::PatientMeta;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn entry(s: i64, body: EntryBody) -> Entry {
        Entry {
            time_utc: at(s),
            elapsed_ms: Some(s as u64 * 1000),
            seq: Some(s as u32),
            body,
        }
    }

    fn sample(inlet_ml: f64, ac_ml: f64) -> EntryBody {
        EntryBody::Sample(
            Sample::default()
                .with(Quantity::InletMl, inlet_ml)
                .with(Quantity::AcMl, ac_ml)
                .with(Quantity::InletMlMin, 60.0)
                .with(Quantity::AccessMmhg, -40.0),
        )
    }

    /// Male, 178 cm, 80 kg. Nadler: 0.3669 × 1.78³ + 0.03219 × 80 + 0.6041
    ///   = 0.3669 × 5.639752 + 2.5752 + 0.6041 = 2.0692250 + 3.1793 = 5.2485250 L.
    fn adult() -> Patient {
        Patient::from_meta(Some(&PatientMeta {
            weight_kg: Some(80.0.into()),
            height_cm: Some(178.0.into()),
            sex: Some("male".into()),
            ..PatientMeta::default()
        }))
    }

    #[test]
    fn a_status_says_what_the_bedside_shows_and_no_folder_or_patient() {
        let mut timeline = Timeline::new();
        timeline.push(&entry(0, EntryBody::State(MachineState::Run)));
        timeline.push(&entry(600, sample(1100.0, 100.0)));
        let engine = AlarmEngine::default();
        let patient = adult();
        let bed = Bed::new("bay1").unwrap();
        let view = BedView {
            timeline: &timeline,
            alarms: &engine,
            patient: &patient,
            target: Target::Tbv(2.5),
            citrate_ml_min_l: Some(0.8),
            sample_age_s: Some(1.5),
            link: &LinkState::Up,
            recording: Path::new("/srv/sessions/private/session-2026-12-01-100000.csv"),
            patient_id: None,
        };
        let s = status(&bed, &view, at(601));
        assert_eq!(s.state.as_deref(), Some("RUN"));
        // WB = inlet − AC = 1100 − 100 = 1000 mL; 1000 / 5248.525 = 0.19053 TBV;
        // target 2.5 × 5248.525 = 13121.31 mL; progress 1000 / 13121.31 = 0.07621.
        assert_eq!(s.wb_processed_ml, Some(1000.0));
        assert!((s.tbv_processed.unwrap() - 0.19053).abs() < 1e-4);
        assert!((s.target_wb_ml.unwrap() - 13_121.31).abs() < 0.01);
        assert!((s.progress.unwrap() - 0.07621).abs() < 1e-4);
        assert_eq!(s.citrate_ml_min_l, Some(0.8));
        assert_eq!(s.data_age_s, Some(1.5));
        assert_eq!(s.link, "up");
        assert_eq!(
            s.recording.as_deref(),
            Some("session-2026-12-01-100000.csv")
        );
        let json = serde_json::to_string(&s).unwrap();
        assert!(
            !json.contains("/srv") && !json.contains("patient"),
            "{json}"
        );
        let with_id = status(
            &bed,
            &BedView {
                patient_id: Some("P-1"),
                ..view
            },
            at(601),
        );
        assert_eq!(with_id.patient.as_deref(), Some("P-1"));
    }

    #[test]
    fn alarm_events_follow_the_engine_raised_acknowledged_cleared() {
        let bed = Bed::new("bay2").unwrap();
        let mut engine = AlarmEngine::default();
        let mut tracker = AlarmTracker::default();
        let inputs = |machine: Vec<Alarm>| AlarmInputs {
            state: Some(MachineState::Run),
            sample_age_s: Some(0.5),
            connected: true,
            machine,
            ..AlarmInputs::default()
        };
        let occlusion = Alarm {
            code: "OCCLUSION".into(),
            priority: Priority::Medium,
            active: true,
            text: "return line occluded".into(),
        };
        engine.evaluate(at(0), &inputs(vec![occlusion.clone()]));
        let events = tracker.events(&bed, &engine, at(0));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            (events[0].event.as_str(), events[0].code.as_str()),
            ("raised", "OCCLUSION")
        );
        assert_eq!(events[0].priority, "MEDIUM");
        assert!(tracker.events(&bed, &engine, at(1)).is_empty(), "no change");
        engine.acknowledge(at(2), "nurse");
        engine.evaluate(at(2), &inputs(vec![occlusion]));
        let events = tracker.events(&bed, &engine, at(2));
        assert_eq!(
            events.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(),
            ["acknowledged"]
        );
        engine.evaluate(at(3), &inputs(vec![]));
        let events = tracker.events(&bed, &engine, at(3));
        assert_eq!(
            events.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(),
            ["cleared"]
        );
        assert_eq!(events[0].at_utc, "2027-01-15T08:00:03Z");
    }

    #[test]
    fn the_trend_takes_one_point_a_minute_and_starts_again_with_a_new_recording() {
        let bed = Bed::new("bay3").unwrap();
        let mut trend = TrendBuilder::default();
        let mut timeline = Timeline::new();
        let mut published = 0;
        for s in 0..=180 {
            timeline.push(&entry(s, sample(s as f64 * 2.0, 0.0)));
            if trend.update(&bed, &timeline).is_some() {
                published += 1;
            }
        }
        // Minutes 0, 1, 2 and 3 (t = 0, 60, 120, 180 s).
        assert_eq!(published, 4);
        let last = trend.update(&bed, &timeline);
        assert!(last.is_none());
        let mut fresh = Timeline::new();
        fresh.push(&entry(5, sample(10.0, 0.0)));
        let again = trend.update(&bed, &fresh).unwrap();
        assert_eq!(again.points.len(), 1);
        assert_eq!(again.points[0].t_s, 5.0);
        assert_eq!(again.points[0].wb_processed_ml, Some(10.0));
    }
}
