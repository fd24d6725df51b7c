//! The alarms of a past session, found again: its recording replayed through the same alarm
//! engine the window runs, fed as [`crate::session::LiveSession::update_alarms`] feeds it, with
//! the session's patient and limits (or others, to try them). A unit tunes its limits on real
//! past sessions this way before changing them at the bedside, and the alarm rules are tested
//! without a window.
//!
//! How the replay feeds the engine:
//! - "now" is each entry's receipt time (`time_utc`), once every entry received within
//!   [`FRAME_MS`] of it is in (the window is woken at most 100 times a second and drains what
//!   has arrived before it evaluates, so rows received together, such as `RESTORED` and the
//!   sample it came with, are judged together), and once a second between entries while the
//!   monitor was recording, as the window evaluates at least once a second; not across a gap
//!   the monitor was down for (the next row is `RESUMED`).
//! - The link is as the recording's link rows say: up from `CONNECTED`, `RESUMED` and
//!   `RESTORED`, silent from `SILENT`, lost from `LOST`, closed from `CLOSED`.
//! - The monitor's own alarm rows in the recording (`MON_` codes) are not inputs: the engine
//!   decides again. Nobody acknowledges during a replay.
//! - The target reached is listed as the monitor's only when the machine did not announce its
//!   own `TARGET_REACHED` within [`super::engine::TARGET_GRACE_S`], as live; it is listed at the
//!   time the monitor records it, the end of that grace.
//! - A time is the session time (the timeline's axis, the recording's `elapsed_s` until a
//!   machine reset) of the last entry, plus the receipt time since it.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::citrate;
use super::engine::{AlarmEngine, AlarmEvent, AlarmInputs, AlarmSettings, AlarmSource};
use crate::analysis::{Patient, Target, Timeline};
use crate::model::{Entry, EntryBody, LinkCode, Priority};
use crate::present::text::offset_hms;

/// Rows received within this many milliseconds of each other are taken in by one frame of the
/// window before it evaluates (it is woken at most 100 times a second).
pub const FRAME_MS: i64 = 10;

/// The most evaluations between two entries (a day of seconds): a bound, not a rule.
const MAX_TICKS_PER_GAP: u32 = 86_400;

/// A monitor alarm the engine raised during the replay.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditedAlarm {
    /// The code the monitor records it under (`MON_…`).
    pub code: String,
    pub priority: Priority,
    /// Session time it was raised at, seconds.
    pub raised_elapsed_s: f64,
    /// Session time its condition ended at; `None` if it never did within the recording.
    pub cleared_elapsed_s: Option<f64>,
    /// Its text when raised.
    pub text: String,
}

/// Every monitor alarm of a replayed session, in the order raised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audit {
    pub alarms: Vec<AuditedAlarm>,
}

impl Audit {
    /// `{"alarms": [{"code", "priority", "raised_elapsed_s", "cleared_elapsed_s"}]}`, the
    /// priority as its letter (`H`, `M`, `L`, `I`), a time never cleared as `null`.
    pub fn to_json(&self) -> String {
        /// One alarm as the JSON shows it, its keys in this order.
        #[derive(Serialize)]
        struct Row<'a> {
            code: &'a str,
            priority: &'static str,
            raised_elapsed_s: f64,
            cleared_elapsed_s: Option<f64>,
        }
        #[derive(Serialize)]
        struct Rows<'a> {
            alarms: Vec<Row<'a>>,
        }
        let rows = Rows {
            alarms: self
                .alarms
                .iter()
                .map(|a| Row {
                    code: &a.code,
                    priority: a.priority.code(),
                    raised_elapsed_s: a.raised_elapsed_s,
                    cleared_elapsed_s: a.cleared_elapsed_s,
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&rows)
            .unwrap_or_else(|_| String::from("{\"alarms\": []}"));
        text.push('\n');
        text
    }

    /// For people: one line per alarm (raised and cleared as session offsets, priority, code,
    /// text when raised), then how many.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut text = String::new();
        for a in &self.alarms {
            let cleared = a
                .cleared_elapsed_s
                .map_or_else(|| "not cleared".to_owned(), offset_hms);
            let _ = writeln!(
                text,
                "{} – {cleared:<11}  {:<6}  {:<24}  {}",
                offset_hms(a.raised_elapsed_s),
                a.priority.name(),
                a.code,
                a.text
            );
        }
        let _ = match self.alarms.len() {
            0 => writeln!(text, "no monitor alarm"),
            1 => writeln!(text, "1 monitor alarm"),
            n => writeln!(text, "{n} monitor alarms"),
        };
        text
    }

    /// The alarms of one code.
    pub fn of(&self, code: &str) -> impl Iterator<Item = &AuditedAlarm> {
        self.alarms.iter().filter(move |a| a.code == code)
    }
}

/// The citrate rule as a replay runs it, for people: its limit (in mg/kg/min too for the
/// patient), window, clearing level and anticoagulant; or why it cannot run.
pub fn citrate_rule(settings: &AlarmSettings, patient: &Patient) -> String {
    let rule = settings.citrate_high;
    if !rule.enabled {
        return "citrate rule off".to_owned();
    }
    let Some(tbv_ml) = patient.tbv_ml() else {
        return format!(
            "citrate rule not evaluated: the patient's TBV is unknown ({})",
            patient.tbv_unavailable_reason().unwrap_or_default()
        );
    };
    let mg = citrate::limit_mg_kg_min(rule.limit, patient)
        .map_or_else(String::new, |mg| format!(" = {mg:.2} mg/kg/min"));
    let c = settings.citrate;
    let content = c
        .anticoagulant
        .citrate_mg_per_ml()
        .map_or_else(String::new, |mg| format!(", {mg} mg/mL citrate"));
    format!(
        "citrate above {:.2} mL/min per L TBV as ACD-A (TBV {:.2} L{mg}), {}-min mean, clears \
         below {:.2}; anticoagulant {}{content}",
        rule.limit,
        tbv_ml / 1000.0,
        c.window_min(),
        citrate::clears_below(rule.limit),
        c.anticoagulant.name(),
    )
}

/// The link as the recording's rows tell it, in the terms the live session feeds the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Up,
    Silent,
    Lost,
    Closed,
}

impl Link {
    fn after(self, code: LinkCode) -> Link {
        match code {
            LinkCode::Connected | LinkCode::Resumed | LinkCode::Restored => Link::Up,
            LinkCode::Silent => Link::Silent,
            LinkCode::Lost => Link::Lost,
            LinkCode::Closed => Link::Closed,
            LinkCode::SequenceGap
            | LinkCode::SequenceRestart
            | LinkCode::MachineReset
            | LinkCode::CounterRestart
            | LinkCode::Identity => self,
        }
    }
}

/// The replay's state: the engine, the timeline it reads, and the alarms found so far.
struct Replay<'a> {
    engine: AlarmEngine,
    timeline: Timeline,
    patient: &'a Patient,
    target: Target,
    link: Link,
    /// The session time of the last entry that had one, and that entry's receipt time.
    clock: Option<(f64, Timestamp)>,
    audit: Audit,
    /// Index in `audit.alarms` of each alarm raised and not cleared.
    open: Vec<(AlarmSource, usize)>,
}

impl Replay<'_> {
    /// What [`crate::session::LiveSession::update_alarms`] gives the engine at `now`.
    fn evaluate(&mut self, now: Timestamp) {
        let settings = self.engine.settings;
        let recording = self.link != Link::Closed;
        let inputs = AlarmInputs {
            sample_age_s: self
                .timeline
                .last_sample_utc()
                .map(|t| now.duration_since(t).as_secs_f64()),
            connected: recording && matches!(self.link, Link::Up | Link::Silent),
            link_lost: recording && self.link == Link::Lost,
            recording_failed: None,
            ..AlarmInputs::from_timeline(&self.timeline, self.patient, self.target, &settings)
        };
        let at = self.elapsed_at(now);
        for event in self.engine.evaluate(now, &inputs) {
            match event {
                AlarmEvent::Raised {
                    source,
                    priority,
                    text,
                } if source.is_monitor() => {
                    self.audit.alarms.push(AuditedAlarm {
                        code: source.code(),
                        priority,
                        raised_elapsed_s: at,
                        cleared_elapsed_s: None,
                        text,
                    });
                    self.open.retain(|(s, _)| s != &source);
                    self.open.push((source, self.audit.alarms.len() - 1));
                }
                AlarmEvent::Cleared { source, .. } if source.is_monitor() => {
                    if let Some(i) = self.open.iter().position(|(s, _)| s == &source) {
                        let (_, index) = self.open.remove(i);
                        self.audit.alarms[index].cleared_elapsed_s = Some(at);
                    }
                }
                _ => {}
            }
        }
    }

    /// Session seconds at `now`, to the millisecond.
    fn elapsed_at(&self, now: Timestamp) -> f64 {
        let (x, utc) = self.clock.unwrap_or((0.0, now));
        let secs = x + now.duration_since(utc).as_secs_f64();
        (secs * 1000.0).round() / 1000.0
    }
}

/// Replays `entries` (a recording, in order) through the alarm engine with `settings`, for
/// `patient` and `target`, and lists every alarm of the monitor's own it raises.
pub fn audit(
    entries: &[Entry],
    patient: &Patient,
    target: Target,
    settings: &AlarmSettings,
) -> Audit {
    let mut replay = Replay {
        engine: AlarmEngine::new(*settings),
        timeline: Timeline::for_analysis(),
        patient,
        target,
        link: Link::Up,
        clock: None,
        audit: Audit::default(),
        open: Vec::new(),
    };
    let mut now: Option<Timestamp> = None;
    for (i, entry) in entries.iter().enumerate() {
        if let Some(x) = replay.timeline.push(entry) {
            replay.clock = Some((x, entry.time_utc));
        }
        // As the live session shows the engine every row (machine alarms across link losses).
        replay.engine.observe(entry);
        if let EntryBody::Link(link) = &entry.body {
            replay.link = replay.link.after(link.code);
        }
        let now = *now.insert(now.map_or(entry.time_utc, |t| t.max(entry.time_utc)));
        let next = entries.get(i + 1);
        let frame_end = now
            .checked_add(SignedDuration::from_millis(FRAME_MS))
            .unwrap_or(now);
        if next.is_some_and(|n| n.time_utc <= frame_end) {
            continue;
        }
        replay.evaluate(now);
        let Some(next) = next else {
            break;
        };
        let monitor_was_down =
            matches!(&next.body, EntryBody::Link(l) if l.code == LinkCode::Resumed);
        if replay.link == Link::Closed || monitor_was_down {
            continue;
        }
        let mut tick = now;
        for _ in 0..MAX_TICKS_PER_GAP {
            match tick.checked_add(SignedDuration::from_secs(1)) {
                Ok(t) if t < next.time_utc => tick = t,
                _ => break,
            }
            replay.evaluate(tick);
        }
    }
    replay.audit
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each monitor alarm the replay of `entries` raises with no patient, no target and the
    /// default limits: its code, when it was raised and when cleared.
    fn default_times(entries: &[Entry]) -> Vec<(String, f64, Option<f64>)> {
        audit(
            entries,
            &Patient::default(),
            Target::default(),
            &AlarmSettings::default(),
        )
        .alarms
        .into_iter()
        .map(|a| (a.code, a.raised_elapsed_s, a.cleared_elapsed_s))
        .collect()
    }
    use crate::analysis::Sex;
    use crate::model::{LinkEvent, MachineState, Quantity, Sample};
    use crate::recording::meta::PatientMeta;

    fn at(s: f64) -> Timestamp {
        Timestamp::from_millisecond(1_700_000_000_000 + (s * 1000.0).round() as i64).unwrap()
    }

    fn entry(s: f64, body: EntryBody) -> Entry {
        let from_machine = !matches!(body, EntryBody::Link(_) | EntryBody::Note(_));
        Entry {
            time_utc: at(s),
            elapsed_ms: Some((s * 1000.0).round() as u64),
            seq: from_machine.then_some(0),
            body,
        }
    }

    fn sample(ac: f64, access: f64) -> EntryBody {
        EntryBody::Sample(
            Sample::default()
                .with(Quantity::AcMlMin, ac)
                .with(Quantity::AccessMmhg, access)
                .with(Quantity::InletMlMin, 60.0),
        )
    }

    fn link(code: LinkCode) -> EntryBody {
        EntryBody::Link(LinkEvent::new(code, "test"))
    }

    /// Male, 175 cm, 70 kg: Nadler 0.3669 × 1.75³ + 0.03219 × 70 + 0.6041 = 4.8237547 L.
    fn patient() -> Patient {
        Patient::from_meta(Some(&PatientMeta {
            weight_kg: Some(70.0.into()),
            height_cm: Some(175.0.into()),
            sex: Some(Sex::Male.as_str().into()),
            ..PatientMeta::default()
        }))
    }

    #[test]
    fn a_short_access_dip_and_a_link_loss_are_found_with_their_times() {
        // RUN from 0 s, a sample a second at AC 4 mL/min (4 ÷ 4.8237547 = 0.83 mL/min per L: no
        // citrate alarm). Access −250 mmHg from 100 s to 110 s: raised after the 5 s delay at
        // 105 s, cleared by the sample at 111 s. The link is lost at 200.5 s and restored with
        // the sample at 230 s (the restored row and that sample are received together).
        let mut entries = vec![
            entry(0.0, link(LinkCode::Connected)),
            entry(0.0, EntryBody::State(MachineState::Run)),
        ];
        for s in 0..=300 {
            let s = f64::from(s);
            if (200.5..230.0).contains(&s) {
                continue;
            }
            if s == 230.0 {
                entries.push(entry(230.0, link(LinkCode::Restored)));
            }
            let access = if (100.0..=110.0).contains(&s) {
                -250.0
            } else {
                -60.0
            };
            entries.push(entry(s, sample(4.0, access)));
            if s == 200.0 {
                entries.push(entry(200.5, link(LinkCode::Lost)));
            }
        }
        let found = audit(
            &entries,
            &patient(),
            Target::default(),
            &AlarmSettings::default(),
        );
        let summary: Vec<(&str, Priority, f64, Option<f64>)> = found
            .alarms
            .iter()
            .map(|a| {
                (
                    a.code.as_str(),
                    a.priority,
                    a.raised_elapsed_s,
                    a.cleared_elapsed_s,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "MON_ACCESS_PRESSURE_LOW",
                    Priority::Medium,
                    105.0,
                    Some(111.0)
                ),
                ("MON_LINK_LOST", Priority::Medium, 200.5, Some(230.0)),
                // The machine's own alarms are unknown from the loss on: it sent no state
                // sentence after the link came back.
                ("MON_MACHINE_ALARMS_UNKNOWN", Priority::Low, 200.5, None),
            ]
        );
        assert_eq!(
            found.to_json(),
            "{\n  \"alarms\": [\n    {\n      \"code\": \"MON_ACCESS_PRESSURE_LOW\",\n      \
             \"priority\": \"M\",\n      \"raised_elapsed_s\": 105.0,\n      \
             \"cleared_elapsed_s\": 111.0\n    },\n    {\n      \"code\": \"MON_LINK_LOST\",\n      \
             \"priority\": \"M\",\n      \"raised_elapsed_s\": 200.5,\n      \
             \"cleared_elapsed_s\": 230.0\n    },\n    {\n      \"code\": \
             \"MON_MACHINE_ALARMS_UNKNOWN\",\n      \"priority\": \"L\",\n      \
             \"raised_elapsed_s\": 200.5,\n      \"cleared_elapsed_s\": null\n    }\n  ]\n}\n"
        );
    }

    #[test]
    fn silence_is_found_between_rows_but_not_across_the_monitor_being_down() {
        // Samples 0–20 s; the link goes silent at 25 s (the worker's row) and nothing comes
        // until 60 s. The window evaluates each second: no data is raised when the last sample
        // (20 s) is 10 s old, at 30 s, and cleared by the sample at 60 s.
        let mut entries = vec![entry(0.0, link(LinkCode::Connected))];
        for s in 0..=20 {
            entries.push(entry(f64::from(s), sample(0.0, -60.0)));
        }
        entries.push(entry(25.0, link(LinkCode::Silent)));
        entries.push(entry(60.0, link(LinkCode::Restored)));
        entries.push(entry(60.0, sample(0.0, -60.0)));
        // The monitor stopped (crashed: no closing row) after 60 s and took the recording back
        // (resumed) at 500 s: nothing was evaluated meanwhile, so no data is not raised.
        entries.push(entry(500.0, link(LinkCode::Resumed)));
        for s in 500..=505 {
            entries.push(entry(f64::from(s), sample(0.0, -60.0)));
        }
        let times = default_times(&entries);
        // The silent link at 25 s makes the machine's alarms unknown (no state sentence follows).
        assert_eq!(
            times,
            [
                ("MON_MACHINE_ALARMS_UNKNOWN".to_owned(), 25.0, None),
                ("MON_NO_DATA".to_owned(), 30.0, Some(60.0))
            ]
        );
    }

    #[test]
    fn people_read_the_alarms_and_the_citrate_rule() {
        let audit = Audit {
            alarms: vec![
                AuditedAlarm {
                    code: "MON_ACCESS_PRESSURE_LOW".into(),
                    priority: Priority::Medium,
                    raised_elapsed_s: 105.0,
                    cleared_elapsed_s: Some(3725.4),
                    text: "Access pressure low".into(),
                },
                AuditedAlarm {
                    code: "MON_TARGET_REACHED".into(),
                    priority: Priority::Info,
                    raised_elapsed_s: 7200.0,
                    cleared_elapsed_s: None,
                    text: "Target volume processed".into(),
                },
            ],
        };
        assert_eq!(
            audit.to_text(),
            "+0:01:45 – +1:02:05     MEDIUM  MON_ACCESS_PRESSURE_LOW   Access pressure low\n\
             +2:00:00 – not cleared  INFO    MON_TARGET_REACHED        Target volume processed\n\
             2 monitor alarms\n"
        );
        assert_eq!(Audit::default().to_text(), "no monitor alarm\n");
        // Male 175 cm 70 kg: TBV 4.8237547 L; 1.2 × 21.3 × 4.8237547 ÷ 70 = 1.7614 mg/kg/min.
        assert_eq!(
            citrate_rule(&AlarmSettings::default(), &patient()),
            "citrate above 1.20 mL/min per L TBV as ACD-A (TBV 4.82 L = 1.76 mg/kg/min), 5-min \
             mean, clears below 1.08; anticoagulant ACD-A, 21.3 mg/mL citrate"
        );
        assert!(
            citrate_rule(&AlarmSettings::default(), &Patient::default())
                .starts_with("citrate rule not evaluated: the patient's TBV is unknown (")
        );
        let mut off = AlarmSettings::default();
        off.citrate_high.enabled = false;
        assert_eq!(citrate_rule(&off, &patient()), "citrate rule off");
    }

    #[test]
    fn rows_received_together_are_taken_in_together() {
        // After a 60-s loss, the restored row is stamped 50 ms after the first sample it came
        // with but written ahead of it, and the next sample 7 ms after it: the engine sees all
        // three before it judges, as the window drains them in one frame. No "no data"
        // flicker at the reconnection.
        let mut entries = vec![entry(0.0, link(LinkCode::Connected))];
        for s in 0..=20 {
            entries.push(entry(f64::from(s), sample(0.0, -60.0)));
        }
        entries.push(entry(20.5, link(LinkCode::Lost)));
        entries.push(entry(80.05, link(LinkCode::Restored)));
        entries.push(entry(80.0, sample(0.0, -60.0)));
        entries.push(entry(80.057, sample(0.0, -60.0)));
        for s in 81..=90 {
            entries.push(entry(f64::from(s), sample(0.0, -60.0)));
        }
        let times = default_times(&entries);
        assert_eq!(
            times,
            [
                ("MON_LINK_LOST".to_owned(), 20.5, Some(80.057)),
                ("MON_MACHINE_ALARMS_UNKNOWN".to_owned(), 20.5, None)
            ]
        );
    }

    /// A RUN replayed with one sample a second at `ac(s)` mL/min, from 0 s to `end` s; the
    /// citrate alarms found, as (raised, cleared) session seconds.
    fn citrate_alarms(end: u32, ac: impl Fn(u32) -> f64) -> Vec<(f64, Option<f64>)> {
        let mut entries = vec![
            entry(0.0, link(LinkCode::Connected)),
            entry(0.0, EntryBody::State(MachineState::Run)),
        ];
        for s in 0..=end {
            entries.push(entry(f64::from(s), sample(ac(s), -60.0)));
        }
        audit(
            &entries,
            &patient(),
            Target::default(),
            &AlarmSettings::default(),
        )
        .of("MON_CITRATE_HIGH")
        .map(|a| (a.raised_elapsed_s, a.cleared_elapsed_s))
        .collect()
    }

    #[test]
    fn a_brief_spike_raises_nothing() {
        // RUN at 4 mL/min (0.83 per L). A 30-s spike to the pump's 20 mL/min, and later a
        // 60-s one to 12 mL/min (12 × 21.3 ÷ 70 = 3.65 mg/kg/min: the old instantaneous rule
        // would have alarmed after its 30 s). The 5-min mean of the samples T − 300 … T − 1
        // peaks at (4 × 270 + 20 × 30) ÷ 300 = 5.6 and (4 × 240 + 12 × 60) ÷ 300 = 5.6 mL/min,
        // under 1.2 × 4.8237547 = 5.7885.
        let found = citrate_alarms(1500, |s| match s {
            600..630 => 20.0,
            1000..1060 => 12.0,
            _ => 4.0,
        });
        assert_eq!(found, []);
    }

    #[test]
    fn hysteresis_keeps_the_alarm_on_until_ten_percent_under_the_limit() {
        // 4 mL/min to 600 s, 6.5 (1.35 per L) to 1200 s, 5.5 (1.14 per L: under the 1.2 limit,
        // over the 1.08 that clears it) to 2400 s, then 4 again.
        // Raised: k samples of 6.5 in the window (T = 600 + k): (1200 + 2.5 k) ÷ 300 > 5.78851
        //   ⇔ 2.5 k > 536.55 ⇔ k ≥ 215: T = 815 s.
        // From 1200 s the mean falls from 6.5 towards 5.5 and stays above 5.20966
        //   (1.08 × 4.8237547): the alarm stays on for those 20 minutes (without hysteresis it
        //   would have cleared at 1414 s, where (1950 − j) ÷ 300 ≤ 5.78851, j ≥ 214).
        // Cleared: j samples of 4 (T = 2400 + j): (1650 − 1.5 j) ÷ 300 < 5.20966
        //   ⇔ 1.5 j > 87.10 ⇔ j ≥ 59: T = 2459 s.
        let found = citrate_alarms(3000, |s| match s {
            600..1200 => 6.5,
            1200..2400 => 5.5,
            _ => 4.0,
        });
        assert_eq!(found, [(815.0, Some(2459.0))]);
    }

    #[test]
    fn no_entries_no_alarms() {
        let found = audit(
            &[],
            &patient(),
            Target::default(),
            &AlarmSettings::default(),
        );
        assert!(found.alarms.is_empty());
        assert_eq!(found.to_json(), "{\n  \"alarms\": []\n}\n");
    }
}
