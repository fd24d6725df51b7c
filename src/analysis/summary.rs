//! The session summary for the patient record: totals, times, rates, alarms, notes, link quality
//! and the collection efficiency, computed from a recording's entries and its metadata.
//!
//! Every figure that cannot be computed is `None` and listed in [`Summary::unavailable`] with
//! the reason, so a report never shows a number it could not stand behind, and never leaves a
//! blank without saying why.
//!
//! Decisions taken where the protocol is silent:
//! - Times are on the [`Timeline`]'s session axis, which keeps running forward across a machine
//!   reset; totals are carried across a reset, so they are totals of the whole session.
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
//! - `notes` counts every note row, `ALARM_ACK` included: acknowledging an alarm is an act of
//!   the nurse that belongs in the record, and the note log shows it with the others.
//! - The citrate peak is the highest mean over any 60 s *of session time* (a time window over
//!   the sample-and-hold RUN pieces, zero outside them), not the mean of a number of samples:
//!   samples are not evenly spaced.
//! - Monitor alarms (`MON_` codes) are counted with the machine's (issue 13 will split them).
//!
//! `scripts/pandas_summary.py` computes these figures independently, from the recording format
//! and the rules above; `tests/summary_oracle.rs` compares the two figure by figure. One
//! difference is known and pinned there: the counter-restart rule. Today the timeline carries
//! every cumulative counter at each `MACHINE_RESET` row (which the journal also writes when a
//! single counter falls, e.g. a bag change or a 0.1 mL dip) and nothing without one; the shared
//! protocol restarts only the counter that fell by more than 1 mL, and every counter when the
//! machine restarts. Issue 13 changes the monitor to the protocol's rule.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Entry, EntryBody, LinkCode, MachineIdentity, MachineState, Priority, Quantity};
use crate::recording::meta::LabMeta;
use crate::recording::{Recording, SessionMeta};

use super::patient::{Patient, citrate_mg_kg_min};
use super::timeline::{Series, Timeline};

/// Longest interval a sample's value is held for in rates over RUN time, seconds. Matches the
/// gap at which the timeline breaks a plotted line.
pub const MAX_HOLD_S: f64 = 30.0;
/// Window of the moving average the citrate peak is taken over, seconds.
pub const CITRATE_PEAK_WINDOW_S: f64 = 60.0;

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
    /// The figure's key, as in [`Summary`]'s JSON.
    pub figure: String,
    pub reason: String,
}

/// The summary of one session. Field names are the JSON keys of the exported summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The recording's file name (no folder).
    pub recording_file: Option<String>,
    /// Pseudonymous patient id from the metadata.
    pub patient_id: Option<String>,
    pub machine: Option<MachineSummary>,
    pub operator: Option<String>,
    /// Rows of the recording that could not be read.
    pub rows_skipped: u64,
    /// Receipt time of the first record (written RFC 3339, UTC, to the millisecond).
    #[serde(with = "utc_or_null", default)]
    pub started_utc: Option<Timestamp>,
    /// Receipt time of the last record (written as `started_utc`).
    #[serde(with = "utc_or_null", default)]
    pub ended_utc: Option<Timestamp>,
    /// Session time from the first record to the last.
    pub duration_s: Option<f64>,
    pub run_time_s: Option<f64>,
    /// Number of times the machine entered PAUSE.
    pub pause_count: Option<u64>,
    pub pause_time_s: Option<f64>,
    /// Final cumulative inlet volume (whole blood + AC).
    pub inlet_ml: Option<f64>,
    pub ac_ml: Option<f64>,
    /// Product bag volume.
    pub collect_ml: Option<f64>,
    pub plasma_ml: Option<f64>,
    pub replace_ml: Option<f64>,
    /// `inlet_ml − ac_ml`.
    pub wb_processed_ml: Option<f64>,
    /// Nadler's total blood volume.
    pub tbv_ml: Option<f64>,
    /// `wb_processed_ml ÷ tbv_ml`.
    pub tbv_processed: Option<f64>,
    /// Time-weighted mean inlet flow over RUN time.
    pub mean_inlet_ml_min: Option<f64>,
    /// Time-weighted mean citrate infusion rate over RUN time (ACD-A).
    pub citrate_mean_mg_kg_min: Option<f64>,
    /// Highest citrate rate averaged over any minute of the session (RUN time only infuses).
    pub citrate_peak_mg_kg_min: Option<f64>,
    pub alarms_high: u64,
    pub alarms_medium: u64,
    pub alarms_low: u64,
    pub alarm_log: Vec<AlarmRecord>,
    pub notes: u64,
    pub note_log: Vec<NoteRecord>,
    /// Sentences lost on the wire (sum of the `SEQ_GAP` rows).
    pub lost_sentences: u64,
    /// Interruptions of the data (`LINK_LOST` and `LINK_SILENT` rows).
    pub link_losses: u64,
    /// CD3+ cells in the product: product CD3+/µL × 1000 × product volume mL.
    pub cd3_yield_cells: Option<f64>,
    /// Collection efficiency CE2, %: product cells ÷ (pre-count/µL × 1000 × WB processed mL).
    pub ce2_percent: Option<f64>,
    /// Whole blood to process for the target dose at this efficiency, mL.
    pub wb_needed_for_target_ml: Option<f64>,
    /// The figures above that are `None`, with the reason.
    pub unavailable: Vec<Unavailable>,
}

impl Summary {
    /// Why `figure` could not be computed, if it could not.
    pub fn unavailable_reason(&self, figure: &str) -> Option<&str> {
        self.unavailable
            .iter()
            .find(|u| u.figure == figure)
            .map(|u| u.reason.as_str())
    }

    /// Unavailable figures grouped by reason, in first-seen order: `(figures, reason)`.
    pub fn unavailable_grouped(&self) -> Vec<(Vec<&str>, &str)> {
        let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
        for u in &self.unavailable {
            match groups.iter_mut().find(|(_, r)| *r == u.reason) {
                Some((figures, _)) => figures.push(&u.figure),
                None => groups.push((vec![&u.figure], &u.reason)),
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

/// Summarises entries and metadata (for a live session, or metadata edited since loading).
pub fn summarize_input(input: &SummaryInput<'_>) -> Summary {
    let mut timeline = Timeline::for_analysis();
    let mut inlet_flow: Vec<(f64, f64)> = Vec::new();
    let mut ac_flow: Vec<(f64, f64)> = Vec::new();
    let mut state_rows = 0usize;
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
            EntryBody::State(_) => state_rows += 1,
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
        rows_skipped: input.rows_skipped,
        started_utc: None,
        ended_utc: None,
        duration_s: None,
        run_time_s: None,
        pause_count: None,
        pause_time_s: None,
        inlet_ml: None,
        ac_ml: None,
        collect_ml: None,
        plasma_ml: None,
        replace_ml: None,
        wb_processed_ml: None,
        tbv_ml: None,
        tbv_processed: None,
        mean_inlet_ml_min: None,
        citrate_mean_mg_kg_min: None,
        citrate_peak_mg_kg_min: None,
        alarms_high: 0,
        alarms_medium: 0,
        alarms_low: 0,
        alarm_log: alarm_log(&timeline, first_x),
        notes: timeline.notes.len() as u64,
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
        lost_sentences,
        link_losses,
        cd3_yield_cells: None,
        ce2_percent: None,
        wb_needed_for_target_ml: None,
        unavailable: Vec::new(),
    };
    for alarm in &timeline.alarms {
        match alarm.priority {
            Priority::High => s.alarms_high += 1,
            Priority::Medium => s.alarms_medium += 1,
            Priority::Low => s.alarms_low += 1,
            Priority::Info => {}
        }
    }

    // Times.
    match timeline.utc_range() {
        Some((first, last)) => {
            s.started_utc = Some(first);
            s.ended_utc = Some(last);
        }
        None => gaps.add(&["started_utc", "ended_utc"], "the recording has no rows"),
    }
    match timeline.x_range() {
        Some((first, last)) => s.duration_s = Some(last - first),
        None => gaps.add(&["duration_s"], "no row carries the machine's time"),
    }
    let run_spans: Vec<(f64, f64)> = if state_rows == 0 {
        gaps.add(
            &[
                "run_time_s",
                "pause_count",
                "pause_time_s",
                "mean_inlet_ml_min",
                "citrate_mean_mg_kg_min",
                "citrate_peak_mg_kg_min",
            ],
            "no machine state in the recording",
        );
        Vec::new()
    } else {
        s.run_time_s = Some(timeline.time_in_state(MachineState::Run));
        s.pause_time_s = Some(timeline.time_in_state(MachineState::Pause));
        // Entries into PAUSE: a PAUSE repeated while paused is not a new pause.
        s.pause_count = Some(
            timeline
                .states
                .iter()
                .zip(std::iter::once(None).chain(timeline.states.iter().map(Some)))
                .filter(|(span, before)| {
                    span.state == MachineState::Pause
                        && before.is_none_or(|b| b.state != MachineState::Pause)
                })
                .count() as u64,
        );
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
    let volume = |q: Quantity, gaps: &mut Unavailables| {
        let value = timeline.latest_value(Series::Measured(q));
        if value.is_none() {
            let reason = if no_samples {
                "no samples in the recording".to_owned()
            } else {
                format!("no sample carries {}", q.key())
            };
            gaps.add(&[q.key()], &reason);
        }
        value
    };
    s.inlet_ml = volume(Quantity::InletMl, &mut gaps);
    s.ac_ml = volume(Quantity::AcMl, &mut gaps);
    s.collect_ml = volume(Quantity::CollectMl, &mut gaps);
    s.plasma_ml = volume(Quantity::PlasmaMl, &mut gaps);
    s.replace_ml = volume(Quantity::ReplaceMl, &mut gaps);
    s.wb_processed_ml = s.inlet_ml.zip(s.ac_ml).map(|(inlet, ac)| inlet - ac);
    if s.wb_processed_ml.is_none() {
        gaps.add(&["wb_processed_ml"], "needs inlet_ml and ac_ml");
    }

    // Patient.
    let patient_detail = patient_detail(&patient, meta.is_some(), input.meta_problem);
    s.tbv_ml = patient.tbv_ml();
    if s.tbv_ml.is_none() {
        let reason = patient.tbv_unavailable_reason().unwrap_or_default();
        gaps.add(&["tbv_ml"], &format!("{reason}{patient_detail}"));
    }
    s.tbv_processed = match (s.wb_processed_ml, s.tbv_ml) {
        (Some(wb), Some(tbv)) => Some(wb / tbv),
        (None, _) => {
            gaps.add(&["tbv_processed"], "needs wb_processed_ml");
            None
        }
        (Some(_), None) => {
            gaps.add(&["tbv_processed"], "needs tbv_ml");
            None
        }
    };

    // Rates over RUN time.
    if state_rows > 0 {
        let inlet = run_pieces(&inlet_flow, &run_spans);
        s.mean_inlet_ml_min = time_weighted_mean(&inlet);
        if s.mean_inlet_ml_min.is_none() {
            gaps.add(
                &["mean_inlet_ml_min"],
                &no_run_reason(&inlet_flow, "inlet_ml_min", no_samples),
            );
        }
        match patient.weight_kg {
            None => gaps.add(
                &["citrate_mean_mg_kg_min", "citrate_peak_mg_kg_min"],
                &format!("needs a valid weight{patient_detail}"),
            ),
            Some(weight_kg) => {
                let ac = run_pieces(&ac_flow, &run_spans);
                s.citrate_mean_mg_kg_min =
                    time_weighted_mean(&ac).map(|ac| citrate_mg_kg_min(ac, weight_kg));
                s.citrate_peak_mg_kg_min = peak_window_mean(&ac, CITRATE_PEAK_WINDOW_S)
                    .map(|ac| citrate_mg_kg_min(ac, weight_kg));
                if s.citrate_mean_mg_kg_min.is_none() {
                    gaps.add(
                        &["citrate_mean_mg_kg_min"],
                        &no_run_reason(&ac_flow, "ac_ml_min", no_samples),
                    );
                }
                if s.citrate_peak_mg_kg_min.is_none() {
                    let reason = if s.citrate_mean_mg_kg_min.is_some() {
                        "needs a minute of RUN with AC flow samples".to_owned()
                    } else {
                        no_run_reason(&ac_flow, "ac_ml_min", no_samples)
                    };
                    gaps.add(&["citrate_peak_mg_kg_min"], &reason);
                }
            }
        }
    }

    lab_figures(&mut s, meta.and_then(|m| m.lab.as_ref()), &mut gaps);
    s.unavailable = gaps.0;
    s
}

/// A time in the summary's JSON: RFC 3339 in UTC to the millisecond, as in the recording.
mod utc {
    use jiff::Timestamp;
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _};

    use crate::recording::format::format_time_utc;

    pub fn serialize<S: Serializer>(time: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_time_utc(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// An optional time in the summary's JSON: as [`utc`], or `null`.
mod utc_or_null {
    use jiff::Timestamp;
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _};

    #[expect(clippy::ref_option, reason = "serde's `with` passes a reference")]
    pub fn serialize<S: Serializer>(time: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => super::utc::serialize(time, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| text.parse().map_err(D::Error::custom))
            .transpose()
    }
}

/// An alarm priority in the summary's JSON: its one-letter code (`H`, `M`, `L`, `I`).
mod priority_code {
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _};

    use crate::model::Priority;

    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "serde's `with` passes a reference"
    )]
    pub fn serialize<S: Serializer>(priority: &Priority, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(priority.code())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Priority, D::Error> {
        let code = String::deserialize(d)?;
        Priority::from_code(&code)
            .ok_or_else(|| D::Error::custom(format!("{code:?} is not an alarm priority")))
    }
}

/// Collects unavailable figures.
#[derive(Default)]
struct Unavailables(Vec<Unavailable>);

impl Unavailables {
    fn add(&mut self, figures: &[&str], reason: &str) {
        for figure in figures {
            self.0.push(Unavailable {
                figure: (*figure).to_owned(),
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

/// A stretch of RUN time over which a sample's value held: `(start_s, end_s, value)`.
type Piece = (f64, f64, f64);

/// The sample-and-hold pieces of `points` (sorted by time) that fall within `runs` (sorted,
/// disjoint `(start_s, end_s)` spans). An interval longer than [`MAX_HOLD_S`] is left out.
fn run_pieces(points: &[(f64, f64)], runs: &[(f64, f64)]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut first_run = 0;
    for pair in points.windows(2) {
        let ((x0, value), (x1, _)) = (pair[0], pair[1]);
        let dt = x1 - x0;
        if !(dt > 0.0 && dt <= MAX_HOLD_S) {
            continue;
        }
        while first_run < runs.len() && runs[first_run].1 <= x0 {
            first_run += 1;
        }
        for &(run_start, run_end) in runs[first_run..].iter().take_while(|r| r.0 < x1) {
            let (a, b) = (x0.max(run_start), x1.min(run_end));
            if b > a {
                pieces.push((a, b, value));
            }
        }
    }
    pieces
}

/// The time-weighted mean of the pieces, `None` when they cover no time.
fn time_weighted_mean(pieces: &[Piece]) -> Option<f64> {
    let (weighted, time) = pieces.iter().fold((0.0, 0.0), |(w, t), &(a, b, v)| {
        (w + v * (b - a), t + (b - a))
    });
    (time > 0.0).then(|| weighted / time)
}

/// The highest mean of the piecewise-constant function `pieces` (zero between them) over any
/// window of `window_s` seconds lying between the first piece's start and the last one's end.
///
/// The mean over a sliding window of a step function is piecewise linear in the window's
/// position, so its maximum is at a position where one edge of the window meets a step: only
/// those positions are tried.
fn peak_window_mean(pieces: &[Piece], window_s: f64) -> Option<f64> {
    let first = pieces.first()?.0;
    let last = pieces.last()?.1;
    if last - first < window_s {
        return None;
    }
    // integral_before[i]: the integral up to the start of piece i.
    let mut integral_before = Vec::with_capacity(pieces.len() + 1);
    let mut total = 0.0;
    for &(a, b, v) in pieces {
        integral_before.push(total);
        total += v * (b - a);
    }
    // The integral up to `t`, for `t` that only grow between calls (a cursor per edge).
    let integral_to = |cursor: &mut usize, t: f64| -> f64 {
        while *cursor < pieces.len() && pieces[*cursor].0 <= t {
            *cursor += 1;
        }
        if *cursor == 0 {
            return 0.0;
        }
        let (a, b, v) = pieces[*cursor - 1];
        integral_before[*cursor - 1] + v * (t.min(b) - a).max(0.0)
    };
    // Candidate window ends: every step edge, and every step edge plus the window. Pieces are
    // in order and do not overlap, so both lists are sorted; merged, the window's two edges
    // only move forward and the integrals are found with two cursors, in linear time.
    let edges: Vec<f64> = pieces.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    let (mut i, mut j) = (0, 0);
    let (mut end_cursor, mut start_cursor) = (0, 0);
    let tolerance = 1e-9;
    let mut best: Option<f64> = None;
    while i < edges.len() || j < edges.len() {
        let shifted = edges.get(j).map(|e| e + window_s);
        let end = match (edges.get(i), shifted) {
            (Some(&e), Some(s)) if e <= s => {
                i += 1;
                e
            }
            (_, Some(s)) => {
                j += 1;
                s
            }
            (Some(&e), None) => {
                i += 1;
                e
            }
            (None, None) => break,
        };
        if end - window_s >= first - tolerance && end <= last + tolerance {
            let mean = (integral_to(&mut end_cursor, end)
                - integral_to(&mut start_cursor, end - window_s))
                / window_s;
            best = Some(best.map_or(mean, |b| b.max(mean)));
        }
    }
    best
}

/// A lab value that must be a positive number; the error says why it cannot be used.
fn lab_value(value: Option<&Value>, key: &str) -> Result<f64, String> {
    match value {
        None | Some(Value::Null) => Err(format!("lab {key} is missing")),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| format!("lab {key} {n} is not a positive number")),
        Some(other) => Err(format!("lab {key} {other} is not a number")),
    }
}

/// The collection-efficiency figures from the nurse's lab values.
fn lab_figures(s: &mut Summary, lab: Option<&LabMeta>, gaps: &mut Unavailables) {
    let Some(lab) = lab else {
        gaps.add(
            &["cd3_yield_cells", "ce2_percent", "wb_needed_for_target_ml"],
            "no lab values in the metadata",
        );
        return;
    };
    let pre = lab_value(lab.pre_cd3_per_ul.as_ref(), "pre_cd3_per_ul");
    let product = lab_value(lab.product_cd3_per_ul.as_ref(), "product_cd3_per_ul");
    let volume = lab_value(lab.product_volume_ml.as_ref(), "product_volume_ml");
    let target = lab_value(lab.target_cd3_cells.as_ref(), "target_cd3_cells");
    let needs = |problems: Vec<&String>| {
        problems
            .into_iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("; ")
    };

    match (&product, &volume) {
        (Ok(product), Ok(volume)) => s.cd3_yield_cells = Some(product * 1000.0 * volume),
        _ => gaps.add(
            &["cd3_yield_cells"],
            &needs(
                [&product, &volume]
                    .into_iter()
                    .filter_map(|r| r.as_ref().err())
                    .collect(),
            ),
        ),
    }
    match (s.cd3_yield_cells, &pre, s.wb_processed_ml) {
        (Some(cells), Ok(pre), Some(wb)) if wb > 0.0 => {
            s.ce2_percent = Some(100.0 * cells / (pre * 1000.0 * wb));
        }
        _ => {
            let mut problems: Vec<String> = Vec::new();
            if s.cd3_yield_cells.is_none() {
                problems.push("needs cd3_yield_cells".into());
            }
            if let Err(e) = &pre {
                problems.push(e.clone());
            }
            match s.wb_processed_ml {
                None => problems.push("needs wb_processed_ml".into()),
                Some(wb) if wb <= 0.0 => problems.push("no whole blood was processed".into()),
                Some(_) => {}
            }
            gaps.add(&["ce2_percent"], &problems.join("; "));
        }
    }
    match (s.ce2_percent, &pre, &target) {
        (Some(ce2), Ok(pre), Ok(target)) if ce2 > 0.0 => {
            s.wb_needed_for_target_ml = Some(target / (pre * 1000.0 * ce2 / 100.0));
        }
        _ => {
            let mut problems: Vec<String> = Vec::new();
            if s.ce2_percent.is_none() {
                problems.push("needs ce2_percent".into());
            }
            if let Err(e) = &target {
                problems.push(e.clone());
            }
            if s.ce2_percent.is_some() && pre.is_err() {
                problems.push("needs pre_cd3_per_ul".into());
            }
            gaps.add(&["wb_needed_for_target_ml"], &problems.join("; "));
        }
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
        assert_eq!(s.started_utc, Some(utc("2026-03-14T08:05:00.000Z")));
        assert_eq!(s.ended_utc, Some(utc("2026-03-14T08:17:00.000Z")));
        close(s.duration_s, 720.0);

        // RUN 60–300 and 360–660: 240 + 300 = 540 s. One PAUSE, 300–360: 60 s.
        close(s.run_time_s, 540.0);
        assert_eq!(s.pause_count, Some(1));
        close(s.pause_time_s, 60.0);

        // Totals from the last sample; WB = 600 − 50 = 550 mL.
        close(s.inlet_ml, 600.0);
        close(s.ac_ml, 50.0);
        close(s.collect_ml, 40.0);
        close(s.plasma_ml, 100.0);
        close(s.replace_ml, 50.0);
        close(s.wb_processed_ml, 550.0);

        // Nadler, male, 1.75 m, 71 kg: 0.3669 × 1.75³ + 0.03219 × 71 + 0.6041
        //   = 0.3669 × 5.359375 + 2.28549 + 0.6041 = 1.9663547 + 2.28549 + 0.6041
        //   = 4.8559447 L. TBV processed = 550 ÷ 4855.9447 = 0.1132631.
        close(s.tbv_ml, 4_855.944_687_5);
        close(s.tbv_processed, 550.0 / 4_855.944_687_5);

        // Mean inlet over RUN: (60 × 240 + 90 × 120 + 60 × 180) ÷ 540
        //   = (14400 + 10800 + 10800) ÷ 540 = 36000 ÷ 540 = 66.667 mL/min.
        close(s.mean_inlet_ml_min, 36_000.0 / 540.0);
        // Mean AC over RUN: (5 × 240 + 10 × 120 + 5 × 180) ÷ 540 = 3300 ÷ 540 = 6.1111 mL/min;
        // citrate = 6.1111 × 21.3 ÷ 71 = 6.1111 × 0.3 = 1.8333 mg/kg/min.
        close(s.citrate_mean_mg_kg_min, 3300.0 / 540.0 * 0.3);
        // Peak: any minute within 360–480 runs AC at 10 mL/min: 10 × 0.3 = 3.0 mg/kg/min.
        close(s.citrate_peak_mg_kg_min, 3.0);

        // One high (the repeated ON is the same alarm), one medium, one low; the information
        // event is logged but not counted.
        assert_eq!((s.alarms_high, s.alarms_medium, s.alarms_low), (1, 1, 1));
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

        assert_eq!(s.notes, 2);
        assert_eq!(s.note_log[0].at_s, 320.0);
        assert_eq!(s.note_log[0].text, "=1+1 arm repositioned");
        assert_eq!(s.note_log[1].code, "TINGLING");

        // SEQ_GAP 3 + 2 = 5; one LINK_LOST and one LINK_SILENT: 2 interruptions.
        assert_eq!(s.lost_sentences, 5);
        assert_eq!(s.link_losses, 2);

        // Yield: 5500/µL × 1000 µL/mL × 40 mL = 2.2e8 cells.
        // CE2: 100 × 2.2e8 ÷ (1000/µL × 1000 × 550 mL) = 100 × 2.2e8 ÷ 5.5e8 = 40 %.
        // WB needed: 1e9 ÷ (1000 × 1000 × 0.40) = 1e9 ÷ 4e5 = 2500 mL.
        close(s.cd3_yield_cells, 2.2e8);
        close(s.ce2_percent, 40.0);
        close(s.wb_needed_for_target_ml, 2500.0);
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
        close(s.inlet_ml, 180.0);
        close(s.wb_processed_ml, 165.0);
        // 100 s before the reset + 50 s after it.
        close(s.duration_s, 150.0);
        close(s.run_time_s, 150.0);
    }

    #[test]
    fn without_samples_or_metadata_every_gap_is_explained() {
        let entries = [entry(0, EntryBody::State(MachineState::Idle))];
        let s = summarize_entries(&entries, None);
        assert_eq!(s.inlet_ml, None);
        assert_eq!(
            s.unavailable_reason("inlet_ml"),
            Some("no samples in the recording")
        );
        assert_eq!(
            s.unavailable_reason("tbv_ml"),
            Some("needs a valid sex, height, weight (no metadata file beside the recording)")
        );
        assert_eq!(
            s.unavailable_reason("ce2_percent"),
            Some("no lab values in the metadata")
        );
        assert_eq!(
            s.unavailable_reason("mean_inlet_ml_min"),
            Some("no samples in the recording")
        );
        assert_eq!(s.run_time_s, Some(0.0));
        // Every None figure is listed.
        for figure in [
            "collect_ml",
            "wb_processed_ml",
            "tbv_processed",
            "citrate_peak_mg_kg_min",
        ] {
            assert!(s.unavailable_reason(figure).is_some(), "{figure}");
        }

        let s = summarize_entries(&[], None);
        assert_eq!(
            s.unavailable_reason("started_utc"),
            Some("the recording has no rows")
        );
        assert_eq!(
            s.unavailable_reason("run_time_s"),
            Some("no machine state in the recording")
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
        assert_eq!(s.tbv_ml, None);
        let tbv = s.unavailable_reason("tbv_ml").unwrap();
        assert!(tbv.starts_with("needs a valid height, weight ("), "{tbv}");
        assert!(tbv.contains("40–230 cm"), "{tbv}");
        let citrate = s.unavailable_reason("citrate_mean_mg_kg_min").unwrap();
        assert!(citrate.starts_with("needs a valid weight"), "{citrate}");
        assert_eq!(s.unavailable_reason("tbv_processed"), Some("needs tbv_ml"));
        // What does not depend on the patient is still there.
        close(s.wb_processed_ml, 550.0);
        close(s.ce2_percent, 40.0);
        let grouped = s.unavailable_grouped();
        assert!(
            grouped.iter().any(
                |(figures, _)| figures == &["citrate_mean_mg_kg_min", "citrate_peak_mg_kg_min"]
            )
        );
    }

    #[test]
    fn bad_lab_values_are_named() {
        let mut meta = hand_meta();
        meta.lab = Some(
            serde_json::from_str(r#"{"pre_cd3_per_ul":0,"product_cd3_per_ul":"lots"}"#).unwrap(),
        );
        let s = summarize_entries(&hand_session(), Some(&meta));
        assert_eq!(
            s.unavailable_reason("cd3_yield_cells"),
            Some(
                "lab product_cd3_per_ul \"lots\" is not a number; lab product_volume_ml is missing"
            )
        );
        assert_eq!(
            s.unavailable_reason("ce2_percent"),
            Some("needs cd3_yield_cells; lab pre_cd3_per_ul 0 is not a positive number")
        );
        assert_eq!(
            s.unavailable_reason("wb_needed_for_target_ml"),
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
        assert_eq!(s.pause_count, Some(2));
        // 100–160 and 200–210.
        close(s.pause_time_s, 70.0);
        close(s.run_time_s, 140.0);
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
        close(s.mean_inlet_ml_min, 10_800.0 / 140.0);
        close(s.run_time_s, 200.0);
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
        close(s.duration_s, 100.0);
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
            "mean_inlet_ml_min",
            "citrate_mean_mg_kg_min",
            "citrate_peak_mg_kg_min",
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
        close(s.wb_processed_ml, 0.0);
        // The yield needs only the lab: 5500 × 1000 × 40 = 2.2e8 cells.
        close(s.cd3_yield_cells, 2.2e8);
        assert_eq!(s.ce2_percent, None);
        assert_eq!(
            s.unavailable_reason("ce2_percent"),
            Some("no whole blood was processed")
        );
        assert_eq!(s.wb_needed_for_target_ml, None);
        assert_eq!(
            s.unavailable_reason("wb_needed_for_target_ml"),
            Some("needs ce2_percent")
        );
    }
}
