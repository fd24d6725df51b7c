//! The session summary for the patient record: totals, times, rates, alarms, notes, link quality
//! and the collection efficiency, computed from a recording's entries and its metadata.
//!
//! The figures are the rows of one table, [`figures`] (key, label, unit, decimals, place in the
//! reports); the summary keeps a value per row and every export is generated from the table.
//! Every figure that cannot be computed is `None` and listed in [`Summary::unavailable`] with
//! the reason, so a report never shows a number it could not stand behind, and never leaves a
//! blank without saying why.
//!
//! Decisions taken where the protocol is silent:
//! - Times are on the [`Timeline`]'s session axis, which keeps running forward across a machine
//!   reset. Totals are the timeline's, by the protocol's counter rule
//!   ([`super::counters`]): each counter on its own, a fall of 1 mL or less is jitter (held,
//!   never counted twice or down), a larger fall restarts that counter alone (a bag change), a
//!   machine restart restarts them all; so they are totals of the whole session.
//! - `started_utc`/`ended_utc` are the recording's first and last rows; the procedure's own
//!   times are `run_start_utc` (the first RUN), `collection_end_utc` (the first RINSEBACK or
//!   END after it) and `end_utc` (the first END after it; the first END when the machine never
//!   ran), each the receipt time of its state row. A recording begun mid-run (the monitor
//!   connected late) has the first RUN the machine announced to it.
//! - Rates over RUN time hold each sample's value until the next sample (sample-and-hold),
//!   counting only the part of that interval spent in RUN. An interval longer than
//!   [`MAX_HOLD_S`] (the link was lost, samples stopped) is not counted: the value there is
//!   unknown.
//! - An alarm `ON` for a code that is already active is the machine announcing the same alarm
//!   condition again (machines repeat active alarms, e.g. after a reconnection), not a new
//!   alarm: it is not counted and does not start a new log entry. Information events (`I`)
//!   are logged but are not alarms and are not counted.
//! - `link_losses` counts `LINK_LOST` and `LINK_SILENT` rows alike: the recorder writes one of
//!   them, once, for each interruption of the data (the first failure of an outage only), so
//!   together they count the interruptions.
//! - `notes` counts every note row, `ALARM_ACK` and `PATIENT_CHANGED` included: acknowledging
//!   an alarm and changing the patient's details are acts of the nurse that belong in the
//!   record, and the note log shows them with the others.
//! - The TBV is the patient's as last saved in the metadata, by the rule of
//!   [`Patient::tbv`] (Nadler from 25 kg, per kg by age band below, or entered); its method is
//!   `tbv_method`. The figures per kg (citrate) and per TBV (TBV processed) use the details as
//!   last saved for the whole session; when the weight or the TBV changed during the session
//!   (the `PATIENT_CHANGED` notes of [`super::changes`]) the summary says so in `notices`.
//! - The citrate peak is the highest mean over any 60 s *of session time* (a time window over
//!   the sample-and-hold RUN pieces, zero outside them), not the mean of a number of samples:
//!   samples are not evenly spaced.
//! - `alarms_high`/`_medium`/`_low` count the machine's alarms; the monitor's own (`MON_`
//!   codes) are counted apart, in `monitor_alarms_high`/`_medium`/`_low`.
//!
//! `scripts/pandas_summary.py` computes these figures independently, from the recording format
//! and the rules above; `tests/summary_oracle.rs` compares the two figure by figure.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Entry, EntryBody, LinkCode, MachineIdentity, MachineState, Priority, Quantity};
use crate::recording::{Recording, SessionMeta};

use super::changes;
use super::patient::{Patient, TbvMethod, citrate_mg_kg_min};
use super::timeline::{Series, Timeline};

pub mod figures;
mod json;
mod lab;
mod rates;
pub mod record;

pub use figures::{FIGURE_COUNT, Figure, FigureDef, Value};

use json::{priority_code, utc, utc_or_null};
use lab::lab_figures;
use rates::{peak_window_mean, run_pieces, time_weighted_mean};
pub use record::CollectionRecord;

/// Longest interval a sample's value is held for in rates over RUN time, seconds. Matches the
/// gap at which the timeline breaks a plotted line.
pub const MAX_HOLD_S: f64 = 30.0;
/// Window of the moving average the citrate peak is taken over, seconds.
pub const CITRATE_PEAK_WINDOW_S: f64 = 60.0;
/// The code prefix of the monitor's own alarms (the machine's have none).
pub const MONITOR_ALARM_PREFIX: &str = "MON_";

/// The machine that ran the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineSummary {
    pub model: String,
    pub serial_no: String,
    pub software_version: String,
}

/// One alarm (or information event) from raise to clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmRecord {
    pub code: String,
    /// Written `H`, `M`, `L` or `I`.
    #[serde(with = "priority_code")]
    pub priority: Priority,
    pub text: String,
    #[serde(with = "utc")]
    pub raised_utc: Timestamp,
    /// Seconds from the start of the recording.
    pub raised_s: f64,
    #[serde(with = "utc_or_null", default)]
    pub cleared_utc: Option<Timestamp>,
    pub cleared_s: Option<f64>,
    /// `None` when the alarm was never cleared (and always for information events).
    pub duration_s: Option<f64>,
}

/// One nurse's note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteRecord {
    #[serde(with = "utc")]
    pub time_utc: Timestamp,
    /// Seconds from the start of the recording.
    pub at_s: f64,
    /// Preset category, or empty for free text.
    pub code: String,
    pub text: String,
}

/// A figure that could not be computed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailable {
    /// Written as the figure's key.
    pub figure: Figure,
    pub reason: String,
}

/// The summary of one session: who and what, the figures of the [`figures`] table, the logs.
/// Its JSON (see `json.rs`) has the identity fields, every figure under its key, the logs and
/// `unavailable`.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The recording's file name (no folder).
    pub recording_file: Option<String>,
    /// Pseudonymous patient id from the metadata.
    pub patient_id: Option<String>,
    pub machine: Option<MachineSummary>,
    pub operator: Option<String>,
    /// How the TBV (`tbv_ml`) was arrived at, when there is one.
    pub tbv_method: Option<TbvMethod>,
    /// What the reader must know to read the figures right (a weight changed during the
    /// session, and which one the figures use).
    pub notices: Vec<String>,
    /// The figures' values, in [`Figure`]'s order; `None` when not computed.
    values: [Option<Value>; FIGURE_COUNT],
    pub alarm_log: Vec<AlarmRecord>,
    pub note_log: Vec<NoteRecord>,
    /// The figures that are `None`, with the reason.
    pub unavailable: Vec<Unavailable>,
    /// The collection record: identity, consumables, labs with units, product volumes, the
    /// target dose, calcium, reactions and vital signs.
    pub record: CollectionRecord,
}

impl Default for Summary {
    fn default() -> Summary {
        Summary {
            recording_file: None,
            patient_id: None,
            machine: None,
            operator: None,
            tbv_method: None,
            notices: Vec::new(),
            values: [None; FIGURE_COUNT],
            alarm_log: Vec::new(),
            record: CollectionRecord::default(),
            note_log: Vec::new(),
            unavailable: Vec::new(),
        }
    }
}

impl Summary {
    /// The figure's value, `None` when it could not be computed.
    pub fn get(&self, figure: Figure) -> Option<Value> {
        self.values[figure as usize]
    }

    /// A number figure's value (`None` also for a figure that is not a number).
    pub fn number(&self, figure: Figure) -> Option<f64> {
        match self.get(figure)? {
            Value::Number(v) => Some(v),
            Value::Time(_) | Value::Count(_) => None,
        }
    }

    /// A count figure's value (`None` also for a figure that is not a count).
    pub fn count(&self, figure: Figure) -> Option<u64> {
        match self.get(figure)? {
            Value::Count(n) => Some(n),
            Value::Time(_) | Value::Number(_) => None,
        }
    }

    /// A time figure's value (`None` also for a figure that is not a time).
    pub fn time(&self, figure: Figure) -> Option<Timestamp> {
        match self.get(figure)? {
            Value::Time(t) => Some(t),
            Value::Count(_) | Value::Number(_) => None,
        }
    }

    /// Sets the figure's value. The value's kind must be the one of the figure's unit.
    pub fn set(&mut self, figure: Figure, value: impl Into<Value>) {
        let value = value.into();
        debug_assert_eq!(value.kind(), figure.def().unit.kind(), "{figure}");
        self.values[figure as usize] = Some(value);
    }

    /// Sets the figure's value, or leaves it not computed.
    fn set_some(&mut self, figure: Figure, value: Option<impl Into<Value>>) {
        if let Some(value) = value {
            self.set(figure, value);
        }
    }

    /// Why `figure` could not be computed, if it could not.
    pub fn unavailable_reason(&self, figure: Figure) -> Option<&str> {
        self.unavailable
            .iter()
            .find(|u| u.figure == figure)
            .map(|u| u.reason.as_str())
    }

    /// Unavailable figures grouped by reason, in first-seen order: `(figures, reason)`.
    pub fn unavailable_grouped(&self) -> Vec<(Vec<Figure>, &str)> {
        let mut groups: Vec<(Vec<Figure>, &str)> = Vec::new();
        for u in &self.unavailable {
            match groups.iter_mut().find(|(_, r)| *r == u.reason) {
                Some((figures, _)) => figures.push(u.figure),
                None => groups.push((vec![u.figure], &u.reason)),
            }
        }
        groups
    }
}

/// What a summary is computed from, besides the entries.
#[derive(Debug, Clone, Copy, Default)]
pub struct SummaryInput<'a> {
    pub entries: &'a [Entry],
    pub meta: Option<&'a SessionMeta>,
    /// Why the metadata could not be read, if it could not.
    pub meta_problem: Option<&'a str>,
    /// The recording's file name, for the report.
    pub recording_file: Option<&'a str>,
    pub rows_skipped: u64,
}

/// Summarises a loaded recording with the metadata it was loaded with.
pub fn summarize(recording: &Recording) -> Summary {
    let file = recording
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    summarize_input(&SummaryInput {
        entries: &recording.entries,
        meta: recording.meta.as_ref(),
        meta_problem: recording.meta_problem.as_deref(),
        recording_file: file.as_deref(),
        rows_skipped: recording.skipped_rows,
    })
}

/// The recorded volumes, each with its figure.
const VOLUMES: [(Quantity, Figure); 5] = [
    (Quantity::InletMl, Figure::InletMl),
    (Quantity::AcMl, Figure::AcMl),
    (Quantity::CollectMl, Figure::CollectMl),
    (Quantity::PlasmaMl, Figure::PlasmaMl),
    (Quantity::ReplaceMl, Figure::ReplaceMl),
];

/// Summarises entries and metadata (for a live session, or metadata edited since loading).
pub fn summarize_input(input: &SummaryInput<'_>) -> Summary {
    use Figure::{
        AcMl, AlarmsHigh, AlarmsLow, AlarmsMedium, CitrateMeanMgKgMin, CitratePeakMgKgMin,
        DurationS, EndedUtc, InletMl, LinkLosses, LostSentences, MeanInletMlMin, MonitorAlarmsHigh,
        MonitorAlarmsLow, MonitorAlarmsMedium, Notes, PauseCount, PauseTimeS, RowsSkipped,
        RunTimeS, StartedUtc, TbvMl, TbvProcessed, WbProcessedMl,
    };

    let mut timeline = Timeline::for_analysis();
    let mut inlet_flow: Vec<(f64, f64)> = Vec::new();
    let mut ac_flow: Vec<(f64, f64)> = Vec::new();
    let mut state_rows = 0usize;
    let mut procedure = ProcedureTimes::default();
    let mut identity_text: Option<&str> = None;
    let mut lost_sentences = 0u64;
    let mut link_losses = 0u64;
    for entry in input.entries {
        let x = timeline.push(entry);
        match &entry.body {
            EntryBody::Sample(sample) => {
                if let Some(x) = x {
                    if let Some(v) = sample.get(Quantity::InletMlMin) {
                        inlet_flow.push((x, v));
                    }
                    if let Some(v) = sample.get(Quantity::AcMlMin) {
                        ac_flow.push((x, v));
                    }
                }
            }
            EntryBody::State(state) => {
                state_rows += 1;
                procedure.see(*state, entry.time_utc);
            }
            EntryBody::Link(link) => match link.code {
                LinkCode::SequenceGap => lost_sentences += link.lost,
                LinkCode::Lost | LinkCode::Silent => link_losses += 1,
                LinkCode::Identity => identity_text = Some(&link.text),
                _ => {}
            },
            EntryBody::Alarm(_) | EntryBody::Note(_) => {}
        }
    }

    let meta = input.meta;
    let patient = Patient::from_meta(meta.and_then(|m| m.patient.as_ref()));
    let mut gaps = Unavailables::default();
    let first_x = timeline.x_range().map_or(0.0, |(first, _)| first);

    let mut s = Summary {
        recording_file: input.recording_file.map(str::to_owned),
        patient_id: patient.id.clone(),
        machine: meta
            .and_then(|m| m.machine.as_ref())
            .map(machine_summary)
            .or_else(|| identity_text.and_then(parse_identity_text)),
        operator: meta
            .and_then(|m| m.operator.as_deref())
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned),
        alarm_log: alarm_log(&timeline, first_x),
        note_log: timeline
            .notes
            .iter()
            .map(|n| NoteRecord {
                time_utc: n.time_utc,
                at_s: n.x - first_x,
                code: n.code.clone(),
                text: n.text.clone(),
            })
            .collect(),
        ..Summary::default()
    };
    s.set(RowsSkipped, input.rows_skipped);
    let count = |priority, monitor: bool| {
        timeline
            .alarms
            .iter()
            .filter(|a| a.priority == priority)
            .filter(|a| a.code.starts_with(MONITOR_ALARM_PREFIX) == monitor)
            .count() as u64
    };
    s.set(AlarmsHigh, count(Priority::High, false));
    s.set(AlarmsMedium, count(Priority::Medium, false));
    s.set(AlarmsLow, count(Priority::Low, false));
    s.set(MonitorAlarmsHigh, count(Priority::High, true));
    s.set(MonitorAlarmsMedium, count(Priority::Medium, true));
    s.set(MonitorAlarmsLow, count(Priority::Low, true));
    s.set(Notes, timeline.notes.len() as u64);
    s.set(LostSentences, lost_sentences);
    s.set(LinkLosses, link_losses);

    // Times.
    match timeline.utc_range() {
        Some((first, last)) => {
            s.set(StartedUtc, first);
            s.set(EndedUtc, last);
        }
        None => gaps.add(&[StartedUtc, EndedUtc], "the recording has no rows"),
    }
    match timeline.x_range() {
        Some((first, last)) => s.set(DurationS, last - first),
        None => gaps.add(&[DurationS], "no row carries the machine's time"),
    }
    procedure.set(&mut s, &mut gaps, state_rows > 0);
    let run_spans: Vec<(f64, f64)> = if state_rows == 0 {
        gaps.add(
            &[
                RunTimeS,
                PauseCount,
                PauseTimeS,
                MeanInletMlMin,
                CitrateMeanMgKgMin,
                CitratePeakMgKgMin,
            ],
            "no machine state in the recording",
        );
        Vec::new()
    } else {
        s.set(RunTimeS, timeline.time_in_state(MachineState::Run));
        s.set(PauseTimeS, timeline.time_in_state(MachineState::Pause));
        // Entries into PAUSE: a PAUSE repeated while paused is not a new pause.
        let pauses = timeline
            .states
            .iter()
            .zip(std::iter::once(None).chain(timeline.states.iter().map(Some)))
            .filter(|(span, before)| {
                span.state == MachineState::Pause
                    && before.is_none_or(|b| b.state != MachineState::Pause)
            })
            .count();
        s.set(PauseCount, pauses as u64);
        let end = timeline.x_range().map_or(0.0, |(_, last)| last);
        timeline
            .states
            .iter()
            .filter(|span| span.state == MachineState::Run)
            .map(|span| (span.start_x, span.end_x.unwrap_or(end).max(span.start_x)))
            .collect()
    };

    // Volumes.
    let no_samples = timeline.sample_count() == 0;
    for (quantity, figure) in VOLUMES {
        match timeline.latest_value(Series::Measured(quantity)) {
            Some(value) => s.set(figure, value),
            None if no_samples => gaps.add(&[figure], "no samples in the recording"),
            None => gaps.add(&[figure], &format!("no sample carries {}", quantity.key())),
        }
    }
    let wb_processed = s.number(InletMl).zip(s.number(AcMl));
    match wb_processed {
        Some((inlet, ac)) => s.set(WbProcessedMl, inlet - ac),
        None => gaps.add(&[WbProcessedMl], "needs inlet_ml and ac_ml"),
    }

    // Patient.
    let patient_detail = patient_detail(&patient, meta.is_some(), input.meta_problem);
    if let Some(tbv) = patient.tbv() {
        s.set(TbvMl, tbv.ml);
        s.tbv_method = Some(tbv.method);
    } else {
        let reason = patient.tbv_unavailable_reason().unwrap_or_default();
        gaps.add(&[TbvMl], &format!("{reason}{patient_detail}"));
    }
    match (s.number(WbProcessedMl), s.number(TbvMl)) {
        (Some(wb), Some(tbv)) => s.set(TbvProcessed, wb / tbv),
        (None, _) => gaps.add(&[TbvProcessed], "needs wb_processed_ml"),
        (Some(_), None) => gaps.add(&[TbvProcessed], "needs tbv_ml"),
    }

    // Rates over RUN time.
    if state_rows > 0 {
        let inlet = run_pieces(&inlet_flow, &run_spans);
        match time_weighted_mean(&inlet) {
            Some(mean) => s.set(MeanInletMlMin, mean),
            None => gaps.add(
                &[MeanInletMlMin],
                &no_run_reason(&inlet_flow, "inlet_ml_min", no_samples),
            ),
        }
        match patient.weight_kg {
            None => gaps.add(
                &[CitrateMeanMgKgMin, CitratePeakMgKgMin],
                &format!("needs a valid weight{patient_detail}"),
            ),
            Some(weight_kg) => {
                let ac = run_pieces(&ac_flow, &run_spans);
                let mean = time_weighted_mean(&ac).map(|ac| citrate_mg_kg_min(ac, weight_kg));
                let peak = peak_window_mean(&ac, CITRATE_PEAK_WINDOW_S)
                    .map(|ac| citrate_mg_kg_min(ac, weight_kg));
                s.set_some(CitrateMeanMgKgMin, mean);
                s.set_some(CitratePeakMgKgMin, peak);
                if mean.is_none() {
                    gaps.add(
                        &[CitrateMeanMgKgMin],
                        &no_run_reason(&ac_flow, "ac_ml_min", no_samples),
                    );
                }
                if peak.is_none() {
                    let reason = if mean.is_some() {
                        "needs a minute of RUN with AC flow samples".to_owned()
                    } else {
                        no_run_reason(&ac_flow, "ac_ml_min", no_samples)
                    };
                    gaps.add(&[CitratePeakMgKgMin], &reason);
                }
            }
        }
    }

    s.notices = changes::notices(
        timeline
            .notes
            .iter()
            .map(|n| (n.code.as_str(), n.text.as_str())),
        &patient,
    );
    lab_figures(&mut s, meta.and_then(|m| m.lab.as_ref()), &mut gaps);
    s.record = record::collection_record(&s, meta, &s.note_log);
    s.unavailable = gaps.0;
    s
}

/// The procedure's times, from the state rows in order: their receipt times.
#[derive(Debug, Default)]
struct ProcedureTimes {
    run_start: Option<Timestamp>,
    collection_end: Option<Timestamp>,
    /// The first END after the first RUN.
    end_after_run: Option<Timestamp>,
    first_end: Option<Timestamp>,
}

impl ProcedureTimes {
    fn see(&mut self, state: MachineState, time_utc: Timestamp) {
        let running = self.run_start.is_some();
        match state {
            MachineState::Run => {
                self.run_start.get_or_insert(time_utc);
            }
            MachineState::Rinseback if running => {
                self.collection_end.get_or_insert(time_utc);
            }
            MachineState::End => {
                self.first_end.get_or_insert(time_utc);
                if running {
                    self.collection_end.get_or_insert(time_utc);
                    self.end_after_run.get_or_insert(time_utc);
                }
            }
            _ => {}
        }
    }

    /// Sets the three figures, or says why each is missing.
    fn set(&self, s: &mut Summary, gaps: &mut Unavailables, any_state: bool) {
        use Figure::{CollectionEndUtc, EndUtc, RunStartUtc};
        if !any_state {
            gaps.add(
                &[RunStartUtc, CollectionEndUtc, EndUtc],
                "no machine state in the recording",
            );
            return;
        }
        let end = match self.run_start {
            Some(_) => self.end_after_run,
            None => self.first_end,
        };
        match self.run_start {
            Some(t) => s.set(RunStartUtc, t),
            None => gaps.add(
                &[RunStartUtc, CollectionEndUtc],
                "the machine never entered RUN",
            ),
        }
        match (self.run_start, self.collection_end) {
            (Some(_), Some(t)) => s.set(CollectionEndUtc, t),
            (Some(_), None) => gaps.add(
                &[CollectionEndUtc],
                "no RINSEBACK or END after RUN: collection had not ended when the recording \
                 stopped",
            ),
            (None, _) => {}
        }
        match (end, self.run_start) {
            (Some(t), _) => s.set(EndUtc, t),
            (None, Some(_)) => gaps.add(
                &[EndUtc],
                "no END after RUN: the recording stopped before the procedure ended",
            ),
            (None, None) => gaps.add(&[EndUtc], "no END in the recording"),
        }
    }
}

/// Collects unavailable figures.
#[derive(Default)]
struct Unavailables(Vec<Unavailable>);

impl Unavailables {
    fn add(&mut self, figures: &[Figure], reason: &str) {
        for &figure in figures {
            self.0.push(Unavailable {
                figure,
                reason: reason.to_owned(),
            });
        }
    }
}

fn machine_summary(identity: &MachineIdentity) -> MachineSummary {
    MachineSummary {
        model: identity.model.clone(),
        serial_no: identity.serial_no.clone(),
        software_version: identity.software_version.clone(),
    }
}

/// Reads the machine identity back from a `MACHINE_IDENTITY` link row's text
/// (`<model> <serial_no> software <version> protocol <protocol>`), for recordings without
/// metadata.
fn parse_identity_text(text: &str) -> Option<MachineSummary> {
    let (head, rest) = text.rsplit_once(" software ")?;
    let (model, serial_no) = head.rsplit_once(' ')?;
    let software_version = rest.split(" protocol ").next().unwrap_or(rest);
    Some(MachineSummary {
        model: model.trim().to_owned(),
        serial_no: serial_no.trim().to_owned(),
        software_version: software_version.trim().to_owned(),
    })
}

/// The detail appended to a patient-dependent reason: why the inputs could not be used.
fn patient_detail(patient: &Patient, has_meta: bool, meta_problem: Option<&str>) -> String {
    if let Some(problem) = meta_problem {
        return format!(" (the metadata file could not be used: {problem})");
    }
    if !has_meta {
        return " (no metadata file beside the recording)".to_owned();
    }
    if patient.problems.is_empty() {
        String::new()
    } else {
        format!(" ({})", patient.problems.join("; "))
    }
}

fn alarm_log(timeline: &Timeline, first_x: f64) -> Vec<AlarmRecord> {
    timeline
        .alarms
        .iter()
        .map(|a| AlarmRecord {
            code: a.code.clone(),
            priority: a.priority,
            text: a.text.clone(),
            raised_utc: a.raised_utc,
            raised_s: a.raised_x - first_x,
            cleared_utc: a.cleared_utc,
            cleared_s: a.cleared_x.map(|x| x - first_x),
            duration_s: a.cleared_x.map(|x| (x - a.raised_x).max(0.0)),
        })
        .collect()
}

/// Why a rate over RUN time has no value.
fn no_run_reason(points: &[(f64, f64)], key: &str, no_samples: bool) -> String {
    if no_samples {
        "no samples in the recording".to_owned()
    } else if points.is_empty() {
        format!("no sample carries {key}")
    } else {
        format!("no RUN time with {key} samples")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Alarm, LinkEvent, Note, Sample};
    use crate::recording::meta::{PatientMeta, parse_meta};

    const T0: i64 = 1_773_475_500; // 2026-03-14T08:05:00Z

    fn entry(secs: u64, body: EntryBody) -> Entry {
        Entry {
            time_utc: Timestamp::from_second(T0 + secs as i64).unwrap(),
            elapsed_ms: Some(secs * 1000),
            seq: None,
            body,
        }
    }

    fn utc(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn flows(inlet_ml_min: f64, ac_ml_min: f64) -> EntryBody {
        EntryBody::Sample(
            Sample::default()
                .with(Quantity::InletMlMin, inlet_ml_min)
                .with(Quantity::AcMlMin, ac_ml_min),
        )
    }

    fn alarm(code: &str, priority: Priority, active: bool) -> EntryBody {
        EntryBody::Alarm(Alarm {
            code: code.into(),
            priority,
            active,
            text: format!("{code} text"),
        })
    }

    fn note(code: &str, text: &str) -> EntryBody {
        EntryBody::Note(Note {
            code: code.into(),
            text: text.into(),
        })
    }

    fn link(code: LinkCode, lost: u64) -> EntryBody {
        EntryBody::Link(LinkEvent {
            code,
            lost,
            text: String::new(),
        })
    }

    /// A 12-minute session with round numbers (session seconds):
    ///
    /// ```text
    ///   0– 60 PRIME      flows 0
    ///  60–300 RUN        inlet 60 mL/min, AC 5 mL/min       (240 s)
    /// 300–360 PAUSE      flows 0                            (60 s)
    /// 360–480 RUN        inlet 90 mL/min, AC 10 mL/min      (120 s)
    /// 480–660 RUN        inlet 60 mL/min, AC 5 mL/min       (180 s)
    /// 660–720 RINSEBACK  flows 0
    ///     720 END
    /// ```
    /// Samples every 10 s from 0 to 720; the last one carries the totals.
    fn hand_session() -> Vec<Entry> {
        let mut e = Vec::new();
        e.push(entry(0, EntryBody::State(MachineState::Prime)));
        for t in (0..=720).step_by(10) {
            match t {
                60 | 360 => e.push(entry(t, EntryBody::State(MachineState::Run))),
                300 => e.push(entry(t, EntryBody::State(MachineState::Pause))),
                660 => e.push(entry(t, EntryBody::State(MachineState::Rinseback))),
                _ => {}
            }
            let body = match t {
                60..300 | 480..660 => flows(60.0, 5.0),
                360..480 => flows(90.0, 10.0),
                720 => EntryBody::Sample(
                    Sample::default()
                        .with(Quantity::InletMlMin, 0.0)
                        .with(Quantity::AcMlMin, 0.0)
                        .with(Quantity::InletMl, 600.0)
                        .with(Quantity::AcMl, 50.0)
                        .with(Quantity::CollectMl, 40.0)
                        .with(Quantity::PlasmaMl, 100.0)
                        .with(Quantity::ReplaceMl, 50.0),
                ),
                _ => flows(0.0, 0.0),
            };
            e.push(entry(t, body));
            match t {
                200 => e.push(entry(t, link(LinkCode::SequenceGap, 3))),
                // Raised at 290, then announced again at 295 while active: not a new alarm.
                290 | 295 => e.push(entry(t, alarm("ACCESS_PRESSURE_LOW", Priority::High, true))),
                320 => e.push(entry(t, note("OBSERVATION", "=1+1 arm repositioned"))),
                350 => e.push(entry(
                    t,
                    alarm("ACCESS_PRESSURE_LOW", Priority::High, false),
                )),
                400 => {
                    e.push(entry(
                        t,
                        alarm("RETURN_PRESSURE_HIGH", Priority::Medium, true),
                    ));
                    e.push(entry(t, link(LinkCode::SequenceGap, 2)));
                }
                410 => e.push(entry(
                    t,
                    alarm("RETURN_PRESSURE_HIGH", Priority::Medium, false),
                )),
                450 => e.push(entry(t, link(LinkCode::Lost, 0))),
                460 | 610 => e.push(entry(t, link(LinkCode::Restored, 0))),
                500 => {
                    e.push(entry(t, alarm("AC_RATE_LIMIT", Priority::Low, true)));
                    e.push(entry(t, note("TINGLING", "tingling lips")));
                }
                600 => {
                    e.push(entry(t, alarm("BAG_CHANGE", Priority::Info, true)));
                    e.push(entry(t, link(LinkCode::Silent, 0)));
                }
                _ => {}
            }
        }
        e.push(entry(720, EntryBody::State(MachineState::End)));
        e
    }

    fn hand_meta() -> SessionMeta {
        parse_meta(
            r#"{
              "format": "aph-session/1",
              "patient": { "id": "P-0042", "weight_kg": 71, "height_cm": 175, "sex": "male" },
              "machine": { "model": "SIM-OPTIA", "serial_no": "SN1", "software_version": "1.0.0" },
              "operator": "RN Example",
              "lab": { "pre_cd3_per_ul": 1000, "product_cd3_per_ul": 5500,
                       "product_volume_ml": 40, "target_cd3_cells": 1e9 }
            }"#,
        )
        .unwrap()
    }

    fn summarize_entries(entries: &[Entry], meta: Option<&SessionMeta>) -> Summary {
        summarize_input(&SummaryInput {
            entries,
            meta,
            recording_file: Some("s.csv"),
            ..SummaryInput::default()
        })
    }

    fn close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("figure computed");
        assert!(
            (actual - expected).abs() < 1e-6 * expected.abs().max(1.0),
            "{actual} != {expected}"
        );
    }

    #[test]
    fn every_figure_matches_the_hand_calculation() {
        let meta = hand_meta();
        let s = summarize_entries(&hand_session(), Some(&meta));
        assert!(s.unavailable.is_empty(), "{:?}", s.unavailable);

        assert_eq!(s.patient_id.as_deref(), Some("P-0042"));
        assert_eq!(s.operator.as_deref(), Some("RN Example"));
        assert_eq!(s.machine.as_ref().unwrap().serial_no, "SN1");
        assert_eq!(s.recording_file.as_deref(), Some("s.csv"));
        // First and last rows at 0 s and 720 s after 08:05:00.
        assert_eq!(
            s.time(Figure::StartedUtc),
            Some(utc("2026-03-14T08:05:00.000Z"))
        );
        assert_eq!(
            s.time(Figure::EndedUtc),
            Some(utc("2026-03-14T08:17:00.000Z"))
        );
        close(s.number(Figure::DurationS), 720.0);
        // The procedure: RUN from 60 s (08:06:00), RINSEBACK at 660 s (08:16:00) ends the
        // collection, END at 720 s (08:17:00).
        assert_eq!(
            s.time(Figure::RunStartUtc),
            Some(utc("2026-03-14T08:06:00.000Z"))
        );
        assert_eq!(
            s.time(Figure::CollectionEndUtc),
            Some(utc("2026-03-14T08:16:00.000Z"))
        );
        assert_eq!(
            s.time(Figure::EndUtc),
            Some(utc("2026-03-14T08:17:00.000Z"))
        );

        // RUN 60–300 and 360–660: 240 + 300 = 540 s. One PAUSE, 300–360: 60 s.
        close(s.number(Figure::RunTimeS), 540.0);
        assert_eq!(s.count(Figure::PauseCount), Some(1));
        close(s.number(Figure::PauseTimeS), 60.0);

        // Totals from the last sample; WB = 600 − 50 = 550 mL.
        close(s.number(Figure::InletMl), 600.0);
        close(s.number(Figure::AcMl), 50.0);
        close(s.number(Figure::CollectMl), 40.0);
        close(s.number(Figure::PlasmaMl), 100.0);
        close(s.number(Figure::ReplaceMl), 50.0);
        close(s.number(Figure::WbProcessedMl), 550.0);

        // Nadler, male, 1.75 m, 71 kg: 0.3669 × 1.75³ + 0.03219 × 71 + 0.6041
        //   = 0.3669 × 5.359375 + 2.28549 + 0.6041 = 1.9663547 + 2.28549 + 0.6041
        //   = 4.8559447 L. TBV processed = 550 ÷ 4855.9447 = 0.1132631.
        close(s.number(Figure::TbvMl), 4_855.944_687_5);
        close(s.number(Figure::TbvProcessed), 550.0 / 4_855.944_687_5);

        // Mean inlet over RUN: (60 × 240 + 90 × 120 + 60 × 180) ÷ 540
        //   = (14400 + 10800 + 10800) ÷ 540 = 36000 ÷ 540 = 66.667 mL/min.
        close(s.number(Figure::MeanInletMlMin), 36_000.0 / 540.0);
        // Mean AC over RUN: (5 × 240 + 10 × 120 + 5 × 180) ÷ 540 = 3300 ÷ 540 = 6.1111 mL/min;
        // citrate = 6.1111 × 21.3 ÷ 71 = 6.1111 × 0.3 = 1.8333 mg/kg/min.
        close(s.number(Figure::CitrateMeanMgKgMin), 3300.0 / 540.0 * 0.3);
        // Peak: any minute within 360–480 runs AC at 10 mL/min: 10 × 0.3 = 3.0 mg/kg/min.
        close(s.number(Figure::CitratePeakMgKgMin), 3.0);

        // One high (the repeated ON is the same alarm), one medium, one low; the information
        // event is logged but not counted.
        assert_eq!(
            (
                s.count(Figure::AlarmsHigh),
                s.count(Figure::AlarmsMedium),
                s.count(Figure::AlarmsLow)
            ),
            (Some(1), Some(1), Some(1))
        );
        // No monitor alarm in this session.
        assert_eq!(
            (
                s.count(Figure::MonitorAlarmsHigh),
                s.count(Figure::MonitorAlarmsMedium),
                s.count(Figure::MonitorAlarmsLow)
            ),
            (Some(0), Some(0), Some(0))
        );
        let log: Vec<(&str, f64, Option<f64>)> = s
            .alarm_log
            .iter()
            .map(|a| (a.code.as_str(), a.raised_s, a.duration_s))
            .collect();
        assert_eq!(
            log,
            [
                ("ACCESS_PRESSURE_LOW", 290.0, Some(60.0)),
                ("RETURN_PRESSURE_HIGH", 400.0, Some(10.0)),
                ("AC_RATE_LIMIT", 500.0, None),
                ("BAG_CHANGE", 600.0, None),
            ]
        );
        assert_eq!(s.alarm_log[0].priority, Priority::High);
        assert_eq!(
            s.alarm_log[0].cleared_utc,
            Some(utc("2026-03-14T08:10:50.000Z"))
        );

        assert_eq!(s.count(Figure::Notes), Some(2));
        assert_eq!(s.note_log[0].at_s, 320.0);
        assert_eq!(s.note_log[0].text, "=1+1 arm repositioned");
        assert_eq!(s.note_log[1].code, "TINGLING");

        // SEQ_GAP 3 + 2 = 5; one LINK_LOST and one LINK_SILENT: 2 interruptions.
        assert_eq!(s.count(Figure::LostSentences), Some(5));
        assert_eq!(s.count(Figure::LinkLosses), Some(2));

        // Yield: 5500/µL × 1000 µL/mL × 40 mL = 2.2e8 cells.
        // CE2: 100 × 2.2e8 ÷ (1000/µL × 1000 × 550 mL) = 100 × 2.2e8 ÷ 5.5e8 = 40 %.
        // WB needed: 1e9 ÷ (1000 × 1000 × 0.40) = 1e9 ÷ 4e5 = 2500 mL.
        close(s.number(Figure::Cd3YieldCells), 2.2e8);
        close(s.number(Figure::Ce2Percent), 40.0);
        close(s.number(Figure::WbNeededForTargetMl), 2500.0);
    }

    #[test]
    fn times_and_priorities_are_written_in_the_json_as_in_the_recording() {
        let meta = hand_meta();
        let s = summarize_entries(&hand_session(), Some(&meta));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["started_utc"], "2026-03-14T08:05:00.000Z");
        assert_eq!(json["ended_utc"], "2026-03-14T08:17:00.000Z");
        // ACCESS_PRESSURE_LOW, raised 290 s and cleared 350 s after 08:05:00.
        assert_eq!(json["alarm_log"][0]["priority"], "H");
        assert_eq!(
            json["alarm_log"][0]["raised_utc"],
            "2026-03-14T08:09:50.000Z"
        );
        assert_eq!(
            json["alarm_log"][0]["cleared_utc"],
            "2026-03-14T08:10:50.000Z"
        );
        // AC_RATE_LIMIT (low) was never cleared; BAG_CHANGE is an information event.
        assert_eq!(json["alarm_log"][2]["priority"], "L");
        assert!(json["alarm_log"][2]["cleared_utc"].is_null());
        assert_eq!(json["alarm_log"][3]["priority"], "I");
        // The first note, 320 s in.
        assert_eq!(json["note_log"][0]["time_utc"], "2026-03-14T08:10:20.000Z");
        let back: Summary = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);

        let without_times = summarize_entries(&[], None);
        let json = serde_json::to_value(&without_times).unwrap();
        assert!(json["started_utc"].is_null());
        let back: Summary = serde_json::from_value(json).unwrap();
        assert_eq!(back, without_times);
    }

    #[test]
    fn totals_carry_over_a_machine_reset_and_time_keeps_running() {
        let sample = |inlet: f64, ac: f64| {
            EntryBody::Sample(
                Sample::default()
                    .with(Quantity::InletMl, inlet)
                    .with(Quantity::AcMl, ac),
            )
        };
        let entries = [
            entry(0, EntryBody::State(MachineState::Run)),
            entry(100, sample(120.0, 10.0)),
            entry(100, link(LinkCode::MachineReset, 0)),
            // The machine restarted: its time and totals start from zero again.
            entry(0, EntryBody::State(MachineState::Run)),
            entry(50, sample(60.0, 5.0)),
        ];
        let s = summarize_entries(&entries, None);
        // 120 + 60 = 180 mL inlet, 10 + 5 = 15 mL AC, WB 165 mL.
        close(s.number(Figure::InletMl), 180.0);
        close(s.number(Figure::WbProcessedMl), 165.0);
        // 100 s before the reset + 50 s after it.
        close(s.number(Figure::DurationS), 150.0);
        close(s.number(Figure::RunTimeS), 150.0);
    }

    #[test]
    fn without_samples_or_metadata_every_gap_is_explained() {
        let entries = [entry(0, EntryBody::State(MachineState::Idle))];
        let s = summarize_entries(&entries, None);
        assert_eq!(s.number(Figure::InletMl), None);
        assert_eq!(
            s.unavailable_reason(Figure::InletMl),
            Some("no samples in the recording")
        );
        assert_eq!(
            s.unavailable_reason(Figure::TbvMl),
            Some("needs a valid sex, height, weight (no metadata file beside the recording)")
        );
        assert_eq!(
            s.unavailable_reason(Figure::Ce2Percent),
            Some("no lab values in the metadata")
        );
        assert_eq!(
            s.unavailable_reason(Figure::MeanInletMlMin),
            Some("no samples in the recording")
        );
        assert_eq!(s.number(Figure::RunTimeS), Some(0.0));
        // Every None figure is listed.
        for figure in [
            Figure::CollectMl,
            Figure::WbProcessedMl,
            Figure::TbvProcessed,
            Figure::CitratePeakMgKgMin,
        ] {
            assert!(s.unavailable_reason(figure).is_some(), "{figure}");
        }

        let s = summarize_entries(&[], None);
        assert_eq!(
            s.unavailable_reason(Figure::StartedUtc),
            Some("the recording has no rows")
        );
        assert_eq!(
            s.unavailable_reason(Figure::RunTimeS),
            Some("no machine state in the recording")
        );
    }

    #[test]
    fn a_small_childs_tbv_is_per_kg_by_age_and_the_summary_names_the_method() {
        let mut meta = hand_meta();
        meta.patient = Some(
            serde_json::from_str(
                r#"{"weight_kg":10,"height_cm":80,"sex":"male","age":{"value":3,"unit":"years"}}"#,
            )
            .unwrap(),
        );
        let s = summarize_entries(&hand_session(), Some(&meta));
        // 75 mL/kg × 10 kg = 750 mL (Nadler would say 1114 mL); TBV processed 550 ÷ 750.
        close(s.number(Figure::TbvMl), 750.0);
        assert_eq!(
            s.tbv_method,
            Some(TbvMethod::PerKg(super::super::patient::AgeBand::Child))
        );
        close(s.number(Figure::TbvProcessed), 550.0 / 750.0);
        // Without the age, no TBV, and the reason says what to enter.
        meta.patient.as_mut().unwrap().age = None;
        let s = summarize_entries(&hand_session(), Some(&meta));
        assert_eq!((s.number(Figure::TbvMl), s.tbv_method), (None, None));
        assert!(
            s.unavailable_reason(Figure::TbvMl)
                .unwrap()
                .starts_with("needs the patient's age")
        );
        // The adult of the hand session: Nadler.
        let s = summarize_entries(&hand_session(), Some(&hand_meta()));
        assert_eq!(s.tbv_method, Some(TbvMethod::Nadler));
        assert!(s.notices.is_empty());
    }

    #[test]
    fn a_weight_changed_during_the_session_is_stated_with_the_weight_used() {
        // The nurse entered 80 kg, then corrected it to 71 kg at 400 s (in RUN).
        let mut before = hand_meta();
        before.patient.as_mut().unwrap().weight_kg = Some(80.into());
        let after = hand_meta();
        let change = changes::change_note(&before, &after).unwrap();
        let mut entries = hand_session();
        let at = entries
            .iter()
            .position(|e| e.elapsed_ms == Some(400_000))
            .unwrap();
        entries.insert(at, entry(400, EntryBody::Note(change)));
        let s = summarize_entries(&entries, Some(&after));
        // Nadler, male, 1.75 m: 0.3669 × 5.359375 = 1.9663546875;
        //   80 kg: + 2.5752 + 0.6041 = 5.1456546875 L → 5146 mL;
        //   71 kg: + 2.28549 + 0.6041 = 4.8559446875 L → 4856 mL.
        assert_eq!(
            s.notices,
            [
                "The weight changed during the session (from 80 to 71 kg; see the PATIENT_CHANGED \
                 notes): the citrate figures (per kg) are computed for the whole session with \
                 the weight last saved, 71 kg.",
                "The TBV changed during the session (from 5146 to 4856 mL): TBV processed is \
                 computed with the TBV last saved, 4856 mL (Nadler).",
            ]
        );
        // The figures use 71 kg for the whole session: 6.1111 mL/min × 21.3 ÷ 71 = 1.8333.
        close(s.number(Figure::CitrateMeanMgKgMin), 3300.0 / 540.0 * 0.3);
        // The change is in the note log (and counted with the notes: 2 + 1).
        assert_eq!(s.count(Figure::Notes), Some(3));
        assert_eq!(s.note_log[1].code, "PATIENT_CHANGED");
        assert_eq!(
            s.note_log[1].text,
            "patient.weight_kg: 80 -> 71; tbv_ml: 5146 -> 4856"
        );
    }

    #[test]
    fn invalid_patient_data_is_explained_and_never_used() {
        let mut meta = hand_meta();
        meta.patient = Some(
            serde_json::from_str::<PatientMeta>(
                r#"{"id":"P-9","weight_kg":0,"height_cm":900,"sex":"male"}"#,
            )
            .unwrap(),
        );
        let s = summarize_entries(&hand_session(), Some(&meta));
        assert_eq!(s.number(Figure::TbvMl), None);
        let tbv = s.unavailable_reason(Figure::TbvMl).unwrap();
        assert!(tbv.starts_with("needs a valid height, weight ("), "{tbv}");
        assert!(tbv.contains("40–230 cm"), "{tbv}");
        let citrate = s.unavailable_reason(Figure::CitrateMeanMgKgMin).unwrap();
        assert!(citrate.starts_with("needs a valid weight"), "{citrate}");
        assert_eq!(
            s.unavailable_reason(Figure::TbvProcessed),
            Some("needs tbv_ml")
        );
        // What does not depend on the patient is still there.
        close(s.number(Figure::WbProcessedMl), 550.0);
        close(s.number(Figure::Ce2Percent), 40.0);
        let grouped = s.unavailable_grouped();
        assert!(grouped.iter().any(
            |(figures, _)| figures == &[Figure::CitrateMeanMgKgMin, Figure::CitratePeakMgKgMin]
        ));
    }

    /// The hand session's labs (pre 1000/µL, product 5500/µL) typed in each count unit.
    fn labs_in(unit: &str, scale: f64) -> Summary {
        let mut meta = hand_meta();
        meta.lab = Some(
            serde_json::from_value(serde_json::json!({
                "pre_cd3": {"value": 1000.0 * scale, "unit": unit},
                "product_cd3": {"value": 5500.0 * scale, "unit": unit},
                "product_volume_ml": {"value": 40, "unit": "mL"},
                "target_cd3_cells": 1e9,
            }))
            .unwrap(),
        );
        summarize_entries(&hand_session(), Some(&meta))
    }

    #[test]
    fn labs_in_any_count_unit_give_the_same_yield_and_ce2() {
        let reference = summarize_entries(&hand_session(), Some(&hand_meta()));
        let figures = [
            Figure::Cd3YieldCells,
            Figure::Ce2Percent,
            Figure::WbNeededForTargetMl,
        ];
        for (unit, scale) in [("/uL", 1.0), ("10*9/L", 1e-3), ("10*6/mL", 1e-3)] {
            let s = labs_in(unit, scale);
            for figure in figures {
                assert_eq!(
                    s.number(figure),
                    reference.number(figure),
                    "{unit} {figure:?}"
                );
                assert!(s.number(figure).is_some(), "{unit} {figure:?}");
            }
        }
    }

    #[test]
    fn a_count_in_the_wrong_unit_and_a_ce2_above_100_percent_are_refused() {
        // 1 ×10⁹/L typed as cells/µL: refused, with its range.
        let s = labs_in("/uL", 1e-3);
        assert_eq!(s.number(Figure::Ce2Percent), None);
        assert!(
            s.unavailable_reason(Figure::Cd3YieldCells)
                .unwrap()
                .contains("outside the plausible 100–1000000 cells/µL"),
            "{:?}",
            s.unavailable_reason(Figure::Cd3YieldCells)
        );
        // Plausible counts whose CE2 is not: a pre count of 5/µL.
        let mut meta = hand_meta();
        meta.lab = Some(
            serde_json::from_str(
                r#"{"pre_cd3": {"value": 5, "unit": "/uL"}, "product_cd3_per_ul": 500000,
                    "product_volume_ml": 400, "target_cd3_cells": 1e9}"#,
            )
            .unwrap(),
        );
        let s = summarize_entries(&hand_session(), Some(&meta));
        assert_eq!(s.number(Figure::Ce2Percent), None);
        assert_eq!(s.number(Figure::WbNeededForTargetMl), None);
        let why = s.unavailable_reason(Figure::Ce2Percent).unwrap();
        assert!(why.contains("above 100 %: implausible"), "{why}");
        // The yield itself stands: it does not depend on the pre count.
        close(s.number(Figure::Cd3YieldCells), 500_000.0 * 1000.0 * 400.0);
    }

    #[test]
    fn bad_lab_values_are_named() {
        let mut meta = hand_meta();
        meta.lab = Some(
            serde_json::from_str(r#"{"pre_cd3_per_ul":0,"product_cd3_per_ul":"lots"}"#).unwrap(),
        );
        let s = summarize_entries(&hand_session(), Some(&meta));
        assert_eq!(
            s.unavailable_reason(Figure::Cd3YieldCells),
            Some("product CD3+ \"lots\" is not a number; lab product_volume_ml is missing")
        );
        assert_eq!(
            s.unavailable_reason(Figure::Ce2Percent),
            Some(
                "needs cd3_yield_cells; pre-collection CD3+ 0 cells/µL is outside the plausible \
                 5–50000 cells/µL: check the unit"
            )
        );
        assert_eq!(
            s.unavailable_reason(Figure::WbNeededForTargetMl),
            Some("needs ce2_percent; lab target_cd3_cells is missing")
        );
    }

    #[test]
    fn the_identity_row_names_the_machine_without_metadata() {
        let entries = [entry(
            0,
            EntryBody::Link(LinkEvent::new(
                LinkCode::Identity,
                "SIM OPTIA SN000123 software 1.0.0 protocol APH/1",
            )),
        )];
        let s = summarize_entries(&entries, None);
        assert_eq!(
            s.machine,
            Some(MachineSummary {
                model: "SIM OPTIA".into(),
                serial_no: "SN000123".into(),
                software_version: "1.0.0".into(),
            })
        );
    }

    #[test]
    fn a_pause_repeated_while_paused_is_one_pause() {
        let entries = [
            entry(0, EntryBody::State(MachineState::Run)),
            entry(100, EntryBody::State(MachineState::Pause)),
            entry(130, EntryBody::State(MachineState::Pause)),
            entry(160, EntryBody::State(MachineState::Run)),
            entry(200, EntryBody::State(MachineState::Pause)),
            entry(210, EntryBody::State(MachineState::End)),
        ];
        let s = summarize_entries(&entries, None);
        assert_eq!(s.count(Figure::PauseCount), Some(2));
        // 100–160 and 200–210.
        close(s.number(Figure::PauseTimeS), 70.0);
        close(s.number(Figure::RunTimeS), 140.0);
    }

    #[test]
    fn rates_skip_gaps_in_the_samples() {
        // RUN 0–100 at 60 mL/min, then nothing for 60 s (link lost), then 120 mL/min to 200.
        let mut entries = vec![entry(0, EntryBody::State(MachineState::Run))];
        for t in (0..=100).step_by(10) {
            entries.push(entry(t, flows(60.0, 5.0)));
        }
        for t in (160..=200).step_by(10) {
            entries.push(entry(t, flows(120.0, 5.0)));
        }
        let s = summarize_entries(&entries, None);
        // Counted: 0–100 at 60 (100 s) and 160–200 at 120 (40 s); the 100–160 gap is not.
        // (60 × 100 + 120 × 40) ÷ 140 = 10800 ÷ 140 = 77.14 mL/min.
        close(s.number(Figure::MeanInletMlMin), 10_800.0 / 140.0);
        close(s.number(Figure::RunTimeS), 200.0);
    }

    #[test]
    fn peak_window_finds_the_best_minute_across_steps() {
        // 30 s at 10, then 30 s at 20, then 60 s at 0: the best minute is 0–60,
        // (10 × 30 + 20 × 30) ÷ 60 = 15.
        let pieces = [(0.0, 30.0, 10.0), (30.0, 60.0, 20.0), (60.0, 120.0, 0.0)];
        close(peak_window_mean(&pieces, 60.0), 15.0);
        // A 20 s spike of 60 inside 0 elsewhere: 60 × 20 ÷ 60 = 20.
        let pieces = [(0.0, 50.0, 0.0), (50.0, 70.0, 60.0), (70.0, 200.0, 0.0)];
        close(peak_window_mean(&pieces, 60.0), 20.0);
        // Less than a minute: no peak.
        assert_eq!(peak_window_mean(&[(0.0, 59.0, 1.0)], 60.0), None);
        // Exactly one minute at 3 mL/min: that minute is the peak.
        close(peak_window_mean(&[(0.0, 60.0, 3.0)], 60.0), 3.0);
        // 40 s of RUN starting 40 s into the session is still less than a minute, and so is
        // a hair less than a minute (within the tolerance the window edges are compared with).
        assert_eq!(peak_window_mean(&[(40.0, 80.0, 5.0)], 60.0), None);
        assert_eq!(peak_window_mean(&[(40.0, 100.0 - 5e-10, 5.0)], 60.0), None);
    }

    #[test]
    fn the_peak_minute_may_start_at_a_step_or_end_at_one() {
        // 0 until 100 s, 10 from 100 to 130 s, then 5: the best minute starts at the step,
        // 100–160 s: (10 × 30 + 5 × 30) ÷ 60 = 7.5. No minute that ends at a step does as
        // well (ending at 130: 10 × 30 ÷ 60 = 5; at 300: 5).
        let pieces = [(0.0, 100.0, 0.0), (100.0, 130.0, 10.0), (130.0, 300.0, 5.0)];
        close(peak_window_mean(&pieces, 60.0), 7.5);
        // Its mirror: 5 until 170 s, 10 from 170 to 200 s, then 0: the best minute ends at the
        // step, 140–200 s: (5 × 30 + 10 × 30) ÷ 60 = 7.5; none starting at a step does as well.
        let pieces = [(0.0, 170.0, 5.0), (170.0, 200.0, 10.0), (200.0, 300.0, 0.0)];
        close(peak_window_mean(&pieces, 60.0), 7.5);
    }

    #[test]
    fn the_peak_minute_lies_within_the_session() {
        // Two minutes at −1: every minute within them averages −1. A minute hanging over
        // either end would take in nothing beyond it and average more; it does not count.
        let pieces = [(0.0, 60.0, -1.0), (60.0, 120.0, -1.0)];
        close(peak_window_mean(&pieces, 60.0), -1.0);
    }

    #[test]
    fn a_run_span_of_no_length_adds_no_piece_and_does_not_stretch_the_peak_window() {
        // RUN at 10.5 s and PAUSE at the same 10.5 s, between two samples; then RUN 20–75 s.
        // A sample every second.
        let points: Vec<(f64, f64)> = (0..=100).map(|t| (f64::from(t), 4.0)).collect();
        let runs = [(10.5, 10.5), (20.0, 75.0)];
        let pieces = run_pieces(&points, &runs);
        assert!(pieces.iter().all(|&(a, b, _)| b > a), "{pieces:?}");
        assert_eq!(pieces.first().map(|p| p.0), Some(20.0));
        assert_eq!(pieces.last().map(|p| p.1), Some(75.0));
        assert_eq!(pieces.len(), 55, "one piece per second of RUN");
        // 55 s of RUN: no minute to take a peak over.
        assert_eq!(peak_window_mean(&pieces, 60.0), None);
    }

    #[test]
    fn times_in_the_logs_count_from_the_first_row() {
        // The monitor was connected 100 s into the machine's procedure: the report's times
        // count from its first row (machine time 100 s), not from the machine's zero.
        let entries = [
            entry(100, EntryBody::State(MachineState::Run)),
            entry(100, flows(60.0, 5.0)),
            entry(130, alarm("AIR", Priority::High, true)),
            entry(150, note("OBSERVATION", "checked the line")),
            entry(160, alarm("AIR", Priority::High, false)),
            entry(200, flows(60.0, 5.0)),
        ];
        let s = summarize_entries(&entries, None);
        // 100 → 200 s: 100 s.
        close(s.number(Figure::DurationS), 100.0);
        // Raised at 130 − 100 = 30 s, cleared at 160 − 100 = 60 s, lasted 30 s.
        let air = &s.alarm_log[0];
        assert_eq!(
            (air.raised_s, air.cleared_s, air.duration_s),
            (30.0, Some(60.0), Some(30.0))
        );
        // The note at 150 − 100 = 50 s.
        assert_eq!(s.note_log[0].at_s, 50.0);
    }

    #[test]
    fn without_states_each_rate_is_listed_once_with_its_reason() {
        // Samples with flows but no state row: the rates over RUN time cannot be computed,
        // and the report says so once per figure.
        let entries = [entry(0, flows(60.0, 5.0)), entry(10, flows(60.0, 5.0))];
        let meta = hand_meta();
        let s = summarize_entries(&entries, Some(&meta));
        for figure in [
            Figure::MeanInletMlMin,
            Figure::CitrateMeanMgKgMin,
            Figure::CitratePeakMgKgMin,
        ] {
            let listed: Vec<&str> = s
                .unavailable
                .iter()
                .filter(|u| u.figure == figure)
                .map(|u| u.reason.as_str())
                .collect();
            assert_eq!(listed, ["no machine state in the recording"], "{figure}");
        }
    }

    #[test]
    fn no_whole_blood_processed_gives_no_collection_efficiency() {
        // The machine primed and stopped: inlet 0 mL and AC 0 mL, so WB processed is 0 mL and
        // CE2 (cells ÷ blood processed) has no value, rather than an infinite one.
        let entries = [
            entry(0, EntryBody::State(MachineState::Prime)),
            entry(
                10,
                EntryBody::Sample(
                    Sample::default()
                        .with(Quantity::InletMl, 0.0)
                        .with(Quantity::AcMl, 0.0),
                ),
            ),
        ];
        let meta = hand_meta();
        let s = summarize_entries(&entries, Some(&meta));
        close(s.number(Figure::WbProcessedMl), 0.0);
        // The yield needs only the lab: 5500 × 1000 × 40 = 2.2e8 cells.
        close(s.number(Figure::Cd3YieldCells), 2.2e8);
        assert_eq!(s.number(Figure::Ce2Percent), None);
        assert_eq!(
            s.unavailable_reason(Figure::Ce2Percent),
            Some("no whole blood was processed")
        );
        assert_eq!(s.number(Figure::WbNeededForTargetMl), None);
        assert_eq!(
            s.unavailable_reason(Figure::WbNeededForTargetMl),
            Some("needs ce2_percent")
        );
    }

    #[test]
    fn the_procedure_runs_from_the_first_run_to_the_first_end_after_it() {
        use MachineState::{End, Idle, Pause, Prime, Rinseback, Run};
        // (states at their seconds, run start, collection end, end)
        type Case = (
            Vec<(u64, MachineState)>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        );
        let t = |secs: i64| Timestamp::from_second(T0 + secs).unwrap();
        let cases: Vec<Case> = vec![
            // An END left from before (machine time 10 s) and a RINSEBACK before any RUN do not
            // count; the second RUN is no start; no RINSEBACK, so END ends the collection.
            (
                vec![
                    (0, Idle),
                    (5, Rinseback),
                    (10, End),
                    (20, Prime),
                    (60, Run),
                    (100, Pause),
                    (120, Run),
                    (300, End),
                    (310, Run),
                    (400, End),
                ],
                Some(60),
                Some(300),
                Some(300),
            ),
            // RINSEBACK ends the collection, END the procedure.
            (
                vec![
                    (60, Run),
                    (200, Rinseback),
                    (210, Run),
                    (220, Rinseback),
                    (260, End),
                ],
                Some(60),
                Some(200),
                Some(260),
            ),
            // Never ran: the END is the end all the same.
            (vec![(0, Prime), (50, End)], None, None, Some(50)),
            // Still running when the recording stopped.
            (
                vec![(0, Prime), (60, Run), (90, Pause)],
                Some(60),
                None,
                None,
            ),
            // RINSEBACK and never END.
            (vec![(60, Run), (90, Rinseback)], Some(60), Some(90), None),
        ];
        for (states, run_start, collection_end, end) in cases {
            let entries: Vec<Entry> = states
                .iter()
                .map(|&(secs, state)| entry(secs, EntryBody::State(state)))
                .collect();
            let s = summarize_entries(&entries, None);
            assert_eq!(s.time(Figure::RunStartUtc), run_start.map(t), "{states:?}");
            assert_eq!(
                s.time(Figure::CollectionEndUtc),
                collection_end.map(t),
                "{states:?}"
            );
            assert_eq!(s.time(Figure::EndUtc), end.map(t), "{states:?}");
            // Each missing time says why.
            for figure in [
                Figure::RunStartUtc,
                Figure::CollectionEndUtc,
                Figure::EndUtc,
            ] {
                assert_eq!(
                    s.time(figure).is_none(),
                    s.unavailable_reason(figure).is_some(),
                    "{figure} {states:?}"
                );
            }
        }
        let s = summarize_entries(&[entry(0, EntryBody::State(Prime))], None);
        assert_eq!(
            s.unavailable_reason(Figure::RunStartUtc),
            Some("the machine never entered RUN")
        );
        assert_eq!(
            s.unavailable_reason(Figure::CollectionEndUtc),
            Some("the machine never entered RUN")
        );
        assert_eq!(
            s.unavailable_reason(Figure::EndUtc),
            Some("no END in the recording")
        );
        let s = summarize_entries(&[entry(0, EntryBody::State(Run))], None);
        assert_eq!(
            s.unavailable_reason(Figure::CollectionEndUtc),
            Some(
                "no RINSEBACK or END after RUN: collection had not ended when the recording \
                 stopped"
            )
        );
        assert_eq!(
            s.unavailable_reason(Figure::EndUtc),
            Some("no END after RUN: the recording stopped before the procedure ended")
        );
        let s = summarize_entries(&[entry(0, flows(60.0, 5.0))], None);
        for figure in [
            Figure::RunStartUtc,
            Figure::CollectionEndUtc,
            Figure::EndUtc,
        ] {
            assert_eq!(
                s.unavailable_reason(figure),
                Some("no machine state in the recording"),
                "{figure}"
            );
        }
    }

    #[test]
    fn the_machines_alarms_and_the_monitors_are_counted_apart() {
        let entries = [
            entry(0, EntryBody::State(MachineState::Run)),
            entry(10, alarm("AIR_DETECTED", Priority::High, true)),
            entry(20, alarm("MON_ACCESS_PRESSURE_LOW", Priority::High, true)),
            entry(25, alarm("MON_ACCESS_PRESSURE_LOW", Priority::High, false)),
            entry(30, alarm("MON_ACCESS_PRESSURE_LOW", Priority::High, true)),
            entry(40, alarm("MON_CITRATE_HIGH", Priority::Medium, true)),
            entry(50, alarm("RETURN_PRESSURE_HIGH", Priority::Medium, true)),
            entry(55, alarm("AC_RATE_LIMIT", Priority::Low, true)),
            entry(60, alarm("MON_TARGET_REACHED", Priority::Low, true)),
            entry(61, alarm("MON_TARGET_REACHED", Priority::Low, false)),
            entry(62, alarm("MON_TARGET_REACHED", Priority::Low, true)),
            entry(63, alarm("MON_TARGET_REACHED", Priority::Low, false)),
            entry(64, alarm("MON_TARGET_REACHED", Priority::Low, true)),
            // Information events are no alarms, the machine's or the monitor's.
            entry(70, alarm("SAMPLE_TAKEN", Priority::Info, true)),
            entry(71, alarm("MON_NOTE", Priority::Info, true)),
            // "MON" without the underscore is a machine's code.
            entry(80, alarm("MONITOR_LINE", Priority::Medium, true)),
        ];
        let s = summarize_entries(&entries, None);
        // The machine: AIR_DETECTED high; RETURN_PRESSURE_HIGH and MONITOR_LINE medium;
        // AC_RATE_LIMIT low.
        let counts = |figures: [Figure; 3]| figures.map(|f| s.count(f));
        assert_eq!(
            counts([Figure::AlarmsHigh, Figure::AlarmsMedium, Figure::AlarmsLow]),
            [Some(1), Some(2), Some(1)]
        );
        // The monitor: access pressure raised twice (high), citrate once (medium), the target
        // three times (low).
        assert_eq!(
            counts([
                Figure::MonitorAlarmsHigh,
                Figure::MonitorAlarmsMedium,
                Figure::MonitorAlarmsLow
            ]),
            [Some(2), Some(1), Some(3)]
        );
        // The log keeps every raise: 1 + 2 + 1 + 1 + 1 + 3 + 2 information + 1 = 12.
        assert_eq!(s.alarm_log.len(), 12);
    }
}
