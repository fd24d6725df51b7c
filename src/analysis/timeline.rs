//! The session timeline: every entry of a session laid on one continuous time axis, with the
//! series, state spans, alarms, notes and link events the monitor view and the summary need.
//!
//! The axis is *session seconds*: the machine's `t_ms` in seconds, shifted after a machine reset
//! so that time never runs backwards. Cumulative volumes are the session's totals, by the
//! protocol's counter rule ([`Counters`]: each counter on its own, jitter of 1 mL or less held,
//! a larger fall restarting that counter alone, a machine restart restarting them all), decided
//! from the values themselves, so a recording with or without the journal's `link` rows gives
//! the same totals.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use crate::model::{
    Entry, EntryBody, LinkCode, MachineState, Priority, QUANTITY_COUNT, Quantity, Sample,
};

use super::counters::Counters;
use super::decimate::{Column, decimate};

/// A series the timeline keeps: a sample quantity, or one derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Series {
    Measured(Quantity),
    /// Whole blood processed: inlet volume − AC volume.
    WbProcessedMl,
}

impl Series {
    fn index(self) -> usize {
        match self {
            Series::Measured(q) => q.index(),
            Series::WbProcessedMl => QUANTITY_COUNT,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Series::Measured(q) => q.label(),
            Series::WbProcessedMl => "WB processed",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Series::Measured(q) => q.unit(),
            Series::WbProcessedMl => "mL",
        }
    }
}

const SERIES_COUNT: usize = QUANTITY_COUNT + 1;

/// The series drawn on the timeline plots: these keep a min/max pyramid so drawing them costs
/// the same however long the session. The others are kept flat (values only).
pub const PLOTTED: [Series; 10] = [
    Series::WbProcessedMl,
    Series::Measured(Quantity::AcMl),
    Series::Measured(Quantity::CollectMl),
    Series::Measured(Quantity::PlasmaMl),
    Series::Measured(Quantity::InletMlMin),
    Series::Measured(Quantity::AcMlMin),
    Series::Measured(Quantity::ReturnMlMin),
    Series::Measured(Quantity::CollectMlMin),
    Series::Measured(Quantity::AccessMmhg),
    Series::Measured(Quantity::ReturnMmhg),
];

/// A stretch of time in one machine state.
#[derive(Debug, Clone, PartialEq)]
pub struct StateSpan {
    pub state: MachineState,
    pub start_x: f64,
    /// `None` while it lasts.
    pub end_x: Option<f64>,
}

/// One alarm from raise to clear.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpan {
    pub code: String,
    pub priority: Priority,
    pub text: String,
    pub raised_x: f64,
    pub raised_utc: Timestamp,
    pub cleared_x: Option<f64>,
    pub cleared_utc: Option<Timestamp>,
}

/// A nurse's note on the axis.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteMark {
    pub x: f64,
    pub time_utc: Timestamp,
    pub code: String,
    pub text: String,
}

/// A link event on the axis.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkMark {
    pub x: Option<f64>,
    pub time_utc: Timestamp,
    pub code: LinkCode,
    pub lost: u64,
    pub text: String,
}

/// Gap between samples that breaks a plotted line, seconds.
const BREAK_GAP_SECS: f64 = 30.0;

/// All of a session, on one axis.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    xs: Vec<f64>,
    states_per_sample: Vec<Option<MachineState>>,
    columns: Vec<Column>,
    /// Ranges of sample indices drawn as one line each.
    segments: Vec<std::ops::Range<usize>>,
    break_next: bool,
    pub states: Vec<StateSpan>,
    pub alarms: Vec<AlarmSpan>,
    active_alarms: HashMap<String, usize>,
    pub notes: Vec<NoteMark>,
    pub links: Vec<LinkMark>,
    /// The latest value of each quantity and the session time it came at.
    latest: [Option<(f64, f64)>; SERIES_COUNT],
    last_sample_utc: Option<Timestamp>,
    state: Option<MachineState>,
    /// When the machine last stated its state (a change or a repeat).
    state_seen_x: Option<f64>,
    anchor: Option<(Timestamp, f64)>,
    offset_secs: f64,
    last_elapsed_secs: Option<f64>,
    /// The machine's counters, and so the session's totals.
    counters: Counters,
    first_utc: Option<Timestamp>,
    last_utc: Option<Timestamp>,
    first_x: Option<f64>,
    last_x: Option<f64>,
    entries: usize,
}

impl Timeline {
    pub fn new() -> Timeline {
        let mut columns = vec![Column::flat(); SERIES_COUNT];
        for series in PLOTTED {
            columns[series.index()] = Column::default();
        }
        Timeline {
            columns,
            ..Timeline::default()
        }
    }

    /// A timeline for figures only: no plotting pyramids are kept (drawing it still works,
    /// at a cost that grows with the session).
    pub fn for_analysis() -> Timeline {
        Timeline {
            columns: vec![Column::flat(); SERIES_COUNT],
            ..Timeline::default()
        }
    }

    /// Builds a timeline from entries in order.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Timeline {
        let mut timeline = Timeline::new();
        for entry in entries {
            timeline.push(entry);
        }
        timeline
    }

    /// Number of entries taken in.
    pub fn entry_count(&self) -> usize {
        self.entries
    }

    /// Number of samples.
    pub fn sample_count(&self) -> usize {
        self.xs.len()
    }

    /// Session time of every sample.
    pub fn xs(&self) -> &[f64] {
        &self.xs
    }

    /// The machine state current at each sample (`None` before the first state).
    pub fn sample_states(&self) -> &[Option<MachineState>] {
        &self.states_per_sample
    }

    /// A series' value at sample `index`.
    pub fn value(&self, series: Series, index: usize) -> Option<f64> {
        self.column(series).get(index).map(f64::from)
    }

    fn column(&self, series: Series) -> &Column {
        &self.columns[series.index()]
    }

    /// The latest value of a series and the session time it came at.
    pub fn latest(&self, series: Series) -> Option<(f64, f64)> {
        self.latest[series.index()]
    }

    /// The latest value of a series.
    pub fn latest_value(&self, series: Series) -> Option<f64> {
        self.latest(series).map(|(_, v)| v)
    }

    /// The machine's current state.
    pub fn state(&self) -> Option<MachineState> {
        self.state
    }

    /// When the last sample was received.
    pub fn last_sample_utc(&self) -> Option<Timestamp> {
        self.last_sample_utc
    }

    /// First and last session time of anything on the axis.
    pub fn x_range(&self) -> Option<(f64, f64)> {
        Some((self.first_x?, self.last_x?))
    }

    /// First and last receipt time of any entry.
    pub fn utc_range(&self) -> Option<(Timestamp, Timestamp)> {
        Some((self.first_utc?, self.last_utc?))
    }

    /// The wall-clock time at session time `x` (from the first sample's receipt time).
    pub fn clock_at(&self, x: f64) -> Option<Timestamp> {
        let (utc, x0) = self.anchor?;
        let offset = SignedDuration::try_from_secs_f64(x - x0).ok()?;
        utc.checked_add(offset).ok()
    }

    /// The session time at wall-clock time `t`: the inverse of [`Timeline::clock_at`].
    pub fn x_at(&self, t: Timestamp) -> Option<f64> {
        let (utc, x0) = self.anchor?;
        Some(x0 + t.duration_since(utc).as_secs_f64())
    }

    /// Alarms raised and not cleared.
    pub fn active_alarms(&self) -> impl Iterator<Item = &AlarmSpan> {
        self.active_alarms.values().map(|&i| &self.alarms[i])
    }

    /// Seconds spent in `state` (up to the last sample for a span still open).
    pub fn time_in_state(&self, state: MachineState) -> f64 {
        let end = self.last_x.unwrap_or(0.0);
        self.states
            .iter()
            .filter(|s| s.state == state)
            .map(|s| (s.end_x.unwrap_or(end) - s.start_x).max(0.0))
            .sum()
    }

    /// Takes in one entry; returns the session time it was placed at, if it has one.
    pub fn push(&mut self, entry: &Entry) -> Option<f64> {
        if self.columns.is_empty() {
            self.columns = Timeline::new().columns;
        }
        self.entries += 1;
        self.first_utc.get_or_insert(entry.time_utc);
        self.last_utc = Some(entry.time_utc);
        let from_machine = entry.seq.is_some()
            || matches!(
                entry.body,
                EntryBody::Sample(_) | EntryBody::State(_) | EntryBody::Alarm(_)
            );
        let x = entry.elapsed_ms.map(|ms| self.session_x(ms, from_machine));
        if from_machine && let Some(ms) = entry.elapsed_ms {
            let sample = match &entry.body {
                EntryBody::Sample(sample) => Some(sample),
                _ => None,
            };
            self.counters.observe(ms, sample);
        }
        if let Some(x) = x {
            self.first_x.get_or_insert(x);
            self.last_x = Some(self.last_x.map_or(x, |l| l.max(x)));
        }
        match &entry.body {
            EntryBody::Sample(sample) => {
                if let Some(x) = x {
                    self.push_sample(x, entry.time_utc, sample);
                }
            }
            EntryBody::State(state) => {
                let x = x.or(self.last_x).unwrap_or(0.0);
                self.state_seen_x = Some(x);
                // The same state again (a machine re-announcing itself) confirms it and
                // opens no new span.
                if self.state == Some(*state) {
                    return Some(x);
                }
                if let Some(open) = self.states.last_mut().filter(|s| s.end_x.is_none()) {
                    open.end_x = Some(x);
                }
                self.states.push(StateSpan {
                    state: *state,
                    start_x: x,
                    end_x: (*state == MachineState::End).then_some(x),
                });
                self.state = Some(*state);
            }
            EntryBody::Alarm(alarm) => {
                let x = x.or(self.last_x).unwrap_or(0.0);
                if alarm.active {
                    if self.active_alarms.contains_key(&alarm.code) {
                        return Some(x);
                    }
                    self.alarms.push(AlarmSpan {
                        code: alarm.code.clone(),
                        priority: alarm.priority,
                        text: alarm.text.clone(),
                        raised_x: x,
                        raised_utc: entry.time_utc,
                        cleared_x: None,
                        cleared_utc: None,
                    });
                    // Information events have no alarm condition to clear.
                    if alarm.priority != Priority::Info {
                        self.active_alarms
                            .insert(alarm.code.clone(), self.alarms.len() - 1);
                    }
                } else if let Some(i) = self.active_alarms.remove(&alarm.code) {
                    self.alarms[i].cleared_x = Some(x);
                    self.alarms[i].cleared_utc = Some(entry.time_utc);
                }
            }
            EntryBody::Note(note) => self.notes.push(NoteMark {
                x: x.or(self.last_x).unwrap_or(0.0),
                time_utc: entry.time_utc,
                code: note.code.clone(),
                text: note.text.clone(),
            }),
            EntryBody::Link(link) => {
                if link.code.is_loss() || link.code == LinkCode::MachineReset {
                    self.break_next = true;
                }
                self.links.push(LinkMark {
                    x: x.or(self.last_x),
                    time_utc: entry.time_utc,
                    code: link.code,
                    lost: link.lost,
                    text: link.text.clone(),
                });
            }
        }
        x
    }

    /// Session seconds for a machine time, shifting the axis when the machine time goes back.
    fn session_x(&mut self, elapsed_ms: u64, from_machine: bool) -> f64 {
        let secs = elapsed_ms as f64 / 1000.0;
        // Monitor rows (notes, connection events) carry the last machine time; only rows from
        // the machine move the clock.
        if from_machine {
            if let Some(last) = self.last_elapsed_secs
                && secs < last
            {
                self.offset_secs += last - secs;
            }
            self.last_elapsed_secs = Some(secs);
        }
        secs + self.offset_secs
    }

    fn push_sample(&mut self, x: f64, time_utc: Timestamp, sample: &Sample) {
        let index = self.xs.len();
        let gap = self.xs.last().is_some_and(|last| x - last > BREAK_GAP_SECS);
        if self.segments.is_empty() || self.break_next || gap {
            self.segments.push(index..index);
            self.break_next = false;
        }
        self.xs.push(x);
        self.states_per_sample.push(self.state);
        if let Some(segment) = self.segments.last_mut() {
            segment.end = index + 1;
        }
        self.anchor.get_or_insert((time_utc, x));
        self.last_sample_utc = Some(time_utc);
        let mut values = [f64::NAN; SERIES_COUNT];
        for (q, raw) in sample.iter() {
            values[q.index()] = if q.is_cumulative() {
                self.counters.total(q).unwrap_or(raw)
            } else {
                raw
            };
        }
        let (inlet, ac) = (
            values[Quantity::InletMl.index()],
            values[Quantity::AcMl.index()],
        );
        values[Series::WbProcessedMl.index()] = inlet - ac;
        for (i, value) in values.into_iter().enumerate() {
            self.columns[i].push(value as f32);
            if !value.is_nan() {
                self.latest[i] = Some((x, value));
            }
        }
    }

    /// Index range of samples with `x` in `[from, to]`, widened by one on each side so lines
    /// reach the edges.
    pub fn index_range(&self, from: f64, to: f64) -> std::ops::Range<usize> {
        let start = self.xs.partition_point(|&x| x < from).saturating_sub(1);
        let end = (self.xs.partition_point(|&x| x <= to) + 1).min(self.xs.len());
        start..end.max(start)
    }

    /// Line pieces to draw for `series` over `[from, to]` at most about `2 × columns` points
    /// each; a piece ends where the link was lost or samples stopped.
    pub fn plot_points(
        &self,
        series: Series,
        from: f64,
        to: f64,
        columns: usize,
    ) -> Vec<Vec<[f64; 2]>> {
        let visible = self.index_range(from, to);
        let column = self.column(series);
        self.segments
            .iter()
            .filter_map(|segment| {
                let start = segment.start.max(visible.start);
                let end = segment.end.min(visible.end);
                (start < end).then(|| decimate(&self.xs, column, start..end, columns))
            })
            .filter(|points| !points.is_empty())
            .collect()
    }

    /// The sample nearest to session time `x`.
    pub fn nearest_sample(&self, x: f64) -> Option<usize> {
        if self.xs.is_empty() {
            return None;
        }
        let i = self.xs.partition_point(|&v| v < x);
        let candidates = [i.saturating_sub(1), i.min(self.xs.len() - 1)];
        candidates
            .into_iter()
            .min_by(|&a, &b| (self.xs[a] - x).abs().total_cmp(&(self.xs[b] - x).abs()))
    }

    /// The rate whole blood was processed at over the last `window_secs` of RUN, mL/min.
    pub fn recent_wb_rate_ml_min(&self, window_secs: f64) -> Option<f64> {
        self.wb_rate_before(self.xs.len(), window_secs)
    }

    /// The processing rate over the last `window_secs` of RUN among the first `samples`.
    fn wb_rate_before(&self, samples: usize, window_secs: f64) -> Option<f64> {
        let wb = self.column(Series::WbProcessedMl);
        let mut run_secs = 0.0;
        let mut volume = 0.0;
        let mut i = samples.min(self.xs.len());
        while i >= 2 && run_secs < window_secs {
            i -= 1;
            let running = self.states_per_sample[i] == Some(MachineState::Run);
            if let (true, Some(a), Some(b)) = (running, wb.get(i - 1), wb.get(i)) {
                let dt = self.xs[i] - self.xs[i - 1];
                if dt > 0.0 && dt < BREAK_GAP_SECS {
                    run_secs += dt;
                    volume += f64::from(b - a).max(0.0);
                }
            }
        }
        (run_secs >= 60.0).then(|| volume / run_secs * 60.0)
    }
}

/// How far back a moment looks for a series' last value (a series missing for longer shows
/// nothing rather than a stale value).
const MOMENT_LOOKBACK_SAMPLES: usize = 6000;

/// The session as it stood at one moment: every query answers as of then. The live monitor
/// asks at the end ([`Timeline::now`]); replay asks at the playhead ([`Timeline::moment`]).
/// One timeline serves both, so a replayed session is held in memory once.
#[derive(Debug, Clone, Copy)]
pub struct Moment<'a> {
    pub timeline: &'a Timeline,
    /// Samples at or before the moment.
    samples: usize,
    /// `None` at the end of the session (live).
    x: Option<f64>,
}

impl Timeline {
    /// The session as it stands now (everything received).
    pub fn now(&self) -> Moment<'_> {
        Moment {
            timeline: self,
            samples: self.xs.len(),
            x: None,
        }
    }

    /// The session as it stood at session time `x`.
    pub fn moment(&self, x: f64) -> Moment<'_> {
        if self.last_x.is_none_or(|last| x >= last) {
            return self.now();
        }
        Moment {
            timeline: self,
            samples: self.xs.partition_point(|&sx| sx <= x),
            x: Some(x),
        }
    }
}

impl<'a> Moment<'a> {
    /// The latest value of a series and the session time it came at.
    pub fn latest(&self, series: Series) -> Option<(f64, f64)> {
        if self.x.is_none() {
            return self.timeline.latest(series);
        }
        let column = self.timeline.column(series);
        (self.samples.saturating_sub(MOMENT_LOOKBACK_SAMPLES)..self.samples)
            .rev()
            .find_map(|i| column.get(i).map(|v| (self.timeline.xs[i], f64::from(v))))
    }

    pub fn latest_value(&self, series: Series) -> Option<f64> {
        self.latest(series).map(|(_, v)| v)
    }

    /// The machine state at the moment.
    pub fn state(&self) -> Option<MachineState> {
        match self.x {
            None => self.timeline.state,
            Some(x) => self
                .timeline
                .states
                .iter()
                .rev()
                .find(|s| s.start_x <= x)
                .map(|s| s.state),
        }
    }

    /// Whether the machine has stated its state since the link was last lost or silent (if
    /// not, it may have changed unseen). Replay answers for the live end only.
    pub fn state_confirmed(&self) -> bool {
        if self.x.is_some() {
            return true;
        }
        let t = self.timeline;
        let last_loss = t
            .links
            .iter()
            .rev()
            .find(|l| l.code.is_loss())
            .and_then(|l| l.x);
        match (last_loss, t.state_seen_x) {
            (Some(loss), Some(seen)) => seen >= loss,
            (Some(_), None) => false,
            (None, _) => true,
        }
    }

    /// When the last sample before the moment was received.
    pub fn last_sample_utc(&self) -> Option<Timestamp> {
        match self.x {
            None => self.timeline.last_sample_utc,
            Some(_) => self
                .samples
                .checked_sub(1)
                .and_then(|i| self.timeline.clock_at(self.timeline.xs[i])),
        }
    }

    /// First session time, and the moment (or the last time, live).
    pub fn x_range(&self) -> Option<(f64, f64)> {
        let (first, last) = self.timeline.x_range()?;
        Some((first, self.x.map_or(last, |x| x.min(last))))
    }

    pub fn clock_at(&self, x: f64) -> Option<Timestamp> {
        self.timeline.clock_at(x)
    }

    /// State spans begun by the moment.
    pub fn states(&self) -> impl Iterator<Item = &'a StateSpan> + '_ {
        let x = self.x;
        self.timeline
            .states
            .iter()
            .filter(move |s| x.is_none_or(|x| s.start_x <= x))
    }

    /// Alarms active at the moment.
    pub fn active_alarms(&self) -> Box<dyn Iterator<Item = &'a AlarmSpan> + 'a> {
        match self.x {
            None => Box::new(self.timeline.active_alarms()),
            Some(x) => Box::new(self.timeline.alarms.iter().filter(move |a| {
                a.priority != Priority::Info && a.raised_x <= x && a.cleared_x.is_none_or(|c| c > x)
            })),
        }
    }

    /// The processing rate over the last `window_secs` of RUN before the moment, mL/min.
    pub fn recent_wb_rate_ml_min(&self, window_secs: f64) -> Option<f64> {
        self.timeline.wb_rate_before(self.samples, window_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Alarm, LinkEvent, Note};

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    fn entry(secs: u64, body: EntryBody) -> Entry {
        Entry {
            time_utc: at(secs as i64),
            elapsed_ms: Some(secs * 1000),
            seq: None,
            body,
        }
    }

    fn sample(inlet_ml: f64, ac_ml: f64) -> EntryBody {
        EntryBody::Sample(
            Sample::default()
                .with(Quantity::InletMl, inlet_ml)
                .with(Quantity::AcMl, ac_ml)
                .with(Quantity::InletMlMin, 60.0),
        )
    }

    #[test]
    fn wb_processed_is_inlet_minus_ac_and_carried_over_a_reset() {
        let mut t = Timeline::new();
        t.push(&entry(0, EntryBody::State(MachineState::Run)));
        t.push(&entry(10, sample(120.0, 10.0)));
        t.push(&entry(
            11,
            EntryBody::Link(LinkEvent::new(LinkCode::MachineReset, "reset")),
        ));
        // The machine restarted: its time and totals start again from zero.
        t.push(&entry(2, sample(12.0, 1.0)));
        assert_eq!(t.latest_value(Series::WbProcessedMl), Some(121.0));
        assert_eq!(
            t.latest_value(Series::Measured(Quantity::InletMl)),
            Some(132.0)
        );
        // Time keeps running forward across the reset.
        assert_eq!(t.xs(), &[10.0, 10.0]);
        assert_eq!(
            t.plot_points(Series::WbProcessedMl, 0.0, 100.0, 100).len(),
            2
        );
    }

    /// The bag-change stream of `tests/fixtures/bag-change.csv`, every 10 s from 0 to 300 s:
    /// inlet = t mL, AC = t/12 mL to 0.1 except a 0.1 mL dip at 200 s (15.7 after 15.8), collect
    /// 1 mL/min to 0.1, the bag changed at 150 s (2.3 mL, then from 0 again). `links` adds the
    /// rows an older journal wrote before the bag change and the dip.
    fn bag_change(links: Option<LinkCode>) -> Vec<Entry> {
        let tenth = |v: f64| (v * 10.0).round() / 10.0;
        let mut entries = vec![entry(0, EntryBody::State(MachineState::Run))];
        for t in (0..=300u64).step_by(10) {
            let secs = t as f64;
            let ac = if t == 200 {
                15.7
            } else {
                tenth(secs * 5.0 / 60.0)
            };
            let collect = tenth(if t < 150 { secs } else { secs - 150.0 } / 60.0);
            if let (Some(code), 150 | 200) = (links, t) {
                entries.push(entry(
                    t,
                    EntryBody::Link(LinkEvent::new(code, "older journal")),
                ));
            }
            entries.push(entry(
                t,
                EntryBody::Sample(
                    Sample::default()
                        .with(Quantity::InletMl, secs)
                        .with(Quantity::AcMl, ac)
                        .with(Quantity::CollectMl, collect),
                ),
            ));
        }
        entries
    }

    #[test]
    fn a_bag_change_restarts_the_bag_alone_and_a_dip_is_held_whatever_the_link_rows_say() {
        let inlet = Series::Measured(Quantity::InletMl);
        let ac = Series::Measured(Quantity::AcMl);
        let collect = Series::Measured(Quantity::CollectMl);
        // By hand: inlet never fell, 300 mL; AC dipped 0.1 mL (jitter), 25.0 mL; the bag
        // restarted after 2.3 mL, + 2.5 mL = 4.8 mL; WB 300 − 25 = 275 mL.
        for links in [
            None,
            Some(LinkCode::MachineReset),
            Some(LinkCode::CounterRestart),
        ] {
            let t = Timeline::from_entries(&bag_change(links));
            assert_eq!(t.latest_value(inlet), Some(300.0), "{links:?}");
            assert_eq!(t.latest_value(ac), Some(25.0), "{links:?}");
            assert_eq!(t.latest_value(collect), Some(4.8), "{links:?}");
            assert_eq!(
                t.latest_value(Series::WbProcessedMl),
                Some(275.0),
                "{links:?}"
            );
            // Samples 19, 20, 21 are at 190, 200 (the dip) and 210 s: AC holds at 15.8 through
            // the dip, never 15.8 + 15.7, never down to 15.7.
            let at = |i| t.value(ac, i).map(|v| (v * 10.0).round() / 10.0);
            assert_eq!(
                [at(19), at(20), at(21)],
                [Some(15.8), Some(15.8), Some(17.5)]
            );
            // The bag: 2.3 at 140 s, then 2.3 + 0 at 150 s, 2.3 + 0.2 at 160 s.
            let bag = |i| t.value(collect, i).map(|v| (v * 10.0).round() / 10.0);
            assert_eq!(
                [bag(14), bag(15), bag(16)],
                [Some(2.3), Some(2.3), Some(2.5)]
            );
        }
    }

    #[test]
    fn states_alarms_and_notes_land_on_the_axis() {
        let mut t = Timeline::new();
        t.push(&entry(0, EntryBody::State(MachineState::Prime)));
        t.push(&entry(100, EntryBody::State(MachineState::Run)));
        t.push(&entry(150, sample(10.0, 1.0)));
        let alarm = |active| Alarm {
            code: "ACCESS_PRESSURE_LOW".into(),
            priority: Priority::High,
            active,
            text: "low".into(),
        };
        t.push(&entry(200, EntryBody::Alarm(alarm(true))));
        t.push(&entry(205, EntryBody::Alarm(alarm(true))));
        assert_eq!(t.active_alarms().count(), 1);
        t.push(&entry(260, EntryBody::Alarm(alarm(false))));
        t.push(&entry(
            300,
            EntryBody::Note(Note {
                code: String::new(),
                text: "ok".into(),
            }),
        ));
        t.push(&entry(400, sample(20.0, 2.0)));
        assert_eq!(t.active_alarms().count(), 0);
        assert_eq!(t.alarms.len(), 1);
        assert_eq!(t.alarms[0].cleared_x, Some(260.0));
        assert_eq!(t.notes[0].x, 300.0);
        assert_eq!(t.time_in_state(MachineState::Prime), 100.0);
        assert_eq!(t.time_in_state(MachineState::Run), 300.0);
        assert_eq!(t.clock_at(160.0), Some(at(160)));
    }

    #[test]
    fn a_lost_link_breaks_the_plotted_line() {
        let mut t = Timeline::new();
        for s in 0..10 {
            t.push(&entry(s, sample(s as f64, 0.0)));
        }
        t.push(&entry(
            10,
            EntryBody::Link(LinkEvent::new(LinkCode::Lost, "cable")),
        ));
        for s in 12..20 {
            t.push(&entry(s, sample(s as f64, 0.0)));
        }
        let pieces = t.plot_points(Series::Measured(Quantity::InletMl), 0.0, 30.0, 100);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].len() + pieces[1].len(), 18);
    }

    #[test]
    fn a_moment_answers_as_the_session_stood_then() {
        let mut t = Timeline::new();
        t.push(&entry(0, EntryBody::State(MachineState::Run)));
        let alarm = |active| Alarm {
            code: "AIR".into(),
            priority: Priority::High,
            active,
            text: String::new(),
        };
        for s in 1..=100 {
            t.push(&entry(s, sample(s as f64 * 10.0, 0.0)));
            if s == 40 {
                t.push(&entry(40, EntryBody::Alarm(alarm(true))));
            }
            if s == 60 {
                t.push(&entry(60, EntryBody::Alarm(alarm(false))));
            }
        }
        t.push(&entry(101, EntryBody::State(MachineState::Pause)));
        let then = t.moment(50.5);
        assert_eq!(
            then.latest_value(Series::Measured(Quantity::InletMl)),
            Some(500.0)
        );
        assert_eq!(then.state(), Some(MachineState::Run));
        assert_eq!(then.active_alarms().count(), 1);
        assert_eq!(then.x_range(), Some((0.0, 50.5)));
        assert_eq!(then.last_sample_utc(), Some(at(50)));
        assert_eq!(t.moment(70.0).active_alarms().count(), 0);
        let now = t.now();
        assert_eq!(now.state(), Some(MachineState::Pause));
        assert_eq!(
            now.latest_value(Series::Measured(Quantity::InletMl)),
            Some(1000.0)
        );
        assert_eq!(t.moment(1e9).state(), Some(MachineState::Pause));
    }

    #[test]
    fn after_a_lost_link_the_state_is_unconfirmed_until_the_machine_states_it_again() {
        let mut t = Timeline::new();
        t.push(&entry(0, EntryBody::State(MachineState::Prime)));
        t.push(&entry(1, sample(0.0, 0.0)));
        assert!(t.now().state_confirmed());
        t.push(&entry(
            2,
            EntryBody::Link(LinkEvent::new(LinkCode::Lost, "cable")),
        ));
        t.push(&entry(600, sample(500.0, 40.0)));
        assert!(!t.now().state_confirmed());
        assert_eq!(t.now().state(), Some(MachineState::Prime));
        // The machine says RUN; later it repeats RUN, which opens no new span.
        t.push(&entry(601, EntryBody::State(MachineState::Run)));
        assert!(t.now().state_confirmed());
        t.push(&entry(
            700,
            EntryBody::Link(LinkEvent::new(LinkCode::Silent, "quiet")),
        ));
        t.push(&entry(710, EntryBody::State(MachineState::Run)));
        assert!(t.now().state_confirmed());
        assert_eq!(t.states.len(), 2);
    }

    #[test]
    fn recent_rate_counts_run_time_only() {
        let mut t = Timeline::new();
        t.push(&entry(0, EntryBody::State(MachineState::Run)));
        for s in 0..=600 {
            t.push(&entry(s, sample(s as f64, 0.0)));
        }
        t.push(&entry(601, EntryBody::State(MachineState::Pause)));
        for s in 601..=900 {
            t.push(&entry(s, sample(600.0, 0.0)));
        }
        // 600 mL over 600 s of running: 60 mL/min, the pause does not dilute it.
        let rate = t.recent_wb_rate_ml_min(600.0).unwrap();
        assert!((rate - 60.0).abs() < 0.5, "{rate}");
    }

    #[test]
    fn series_are_named_with_their_units_for_the_plots() {
        // The derived series has its own name; the measured ones keep the quantity's.
        assert_eq!(Series::WbProcessedMl.label(), "WB processed");
        assert_eq!(Series::WbProcessedMl.unit(), "mL");
        assert_eq!(Series::Measured(Quantity::AcMlMin).label(), "AC flow");
        assert_eq!(Series::Measured(Quantity::AcMlMin).unit(), "mL/min");
        assert_eq!(Series::Measured(Quantity::AccessMmhg).unit(), "mmHg");
    }

    #[test]
    fn each_sample_keeps_its_values_and_the_state_it_came_in() {
        let mut t = Timeline::new();
        // A sample before any state, then RUN, then a sample without AC.
        t.push(&entry(0, sample(5.0, 1.0)));
        t.push(&entry(1, EntryBody::State(MachineState::Run)));
        t.push(&entry(
            2,
            EntryBody::Note(Note {
                code: String::new(),
                text: "note".into(),
            }),
        ));
        t.push(&entry(
            3,
            EntryBody::Sample(Sample::default().with(Quantity::InletMl, 9.0)),
        ));
        // 4 entries in, 2 of them samples.
        assert_eq!(t.entry_count(), 4);
        assert_eq!(t.sample_count(), 2);
        assert_eq!(t.sample_states(), &[None, Some(MachineState::Run)]);
        let inlet = Series::Measured(Quantity::InletMl);
        assert_eq!(t.value(inlet, 0), Some(5.0));
        assert_eq!(t.value(inlet, 1), Some(9.0));
        // WB processed at sample 0: 5 − 1 = 4 mL; sample 1 has no AC, so no WB figure.
        assert_eq!(t.value(Series::WbProcessedMl, 0), Some(4.0));
        assert_eq!(t.value(Series::Measured(Quantity::AcMl), 1), None);
        assert_eq!(t.value(Series::WbProcessedMl, 1), None);
        assert_eq!(t.value(inlet, 2), None);
    }

    #[test]
    fn the_nearest_sample_is_found_on_either_side() {
        let mut t = Timeline::new();
        assert_eq!(t.nearest_sample(5.0), None);
        for s in [10, 20, 30] {
            t.push(&entry(s, sample(s as f64, 0.0)));
        }
        // Samples at 10, 20, 30 s: indices 0, 1, 2.
        assert_eq!(t.nearest_sample(0.0), Some(0));
        assert_eq!(t.nearest_sample(14.0), Some(0));
        assert_eq!(t.nearest_sample(16.0), Some(1));
        assert_eq!(t.nearest_sample(20.0), Some(1));
        assert_eq!(t.nearest_sample(24.0), Some(1));
        assert_eq!(t.nearest_sample(26.0), Some(2));
        assert_eq!(t.nearest_sample(100.0), Some(2));
    }

    #[test]
    fn the_visible_range_reaches_one_sample_past_each_edge() {
        let mut t = Timeline::new();
        assert_eq!(t.index_range(0.0, 10.0), 0..0);
        for s in [0, 10, 20, 30, 40] {
            t.push(&entry(s, sample(s as f64, 0.0)));
        }
        // [12, 28] holds the samples at 20 (index 2); widened: 10 and 30, indices 1..4.
        assert_eq!(t.index_range(12.0, 28.0), 1..4);
        // [10, 20] holds indices 1 and 2; widened: 0..4.
        assert_eq!(t.index_range(10.0, 20.0), 0..4);
        // Wider than the session: everything, and no further.
        assert_eq!(t.index_range(-5.0, 100.0), 0..5);
    }

    #[test]
    fn a_silence_longer_than_30_s_breaks_the_line_and_other_link_rows_do_not() {
        let mut t = Timeline::new();
        // 0, 30 (30 s apart: one line), 61 (31 s later: a new line), then a sequence gap,
        // a restored link and the identity row, none of which loses the line.
        t.push(&entry(0, sample(0.0, 0.0)));
        t.push(&entry(30, sample(1.0, 0.0)));
        t.push(&entry(61, sample(2.0, 0.0)));
        for code in [
            LinkCode::SequenceGap,
            LinkCode::Restored,
            LinkCode::Identity,
        ] {
            t.push(&entry(62, EntryBody::Link(LinkEvent::new(code, ""))));
        }
        t.push(&entry(63, sample(3.0, 0.0)));
        let pieces = t.plot_points(Series::Measured(Quantity::InletMl), 0.0, 100.0, 100);
        assert_eq!(
            pieces,
            [
                vec![[0.0, 0.0], [30.0, 1.0]],
                vec![[61.0, 2.0], [63.0, 3.0]]
            ]
        );
    }

    #[test]
    fn the_recent_rate_is_the_last_window_only_and_skips_gaps() {
        let mut t = Timeline::new();
        t.push(&entry(0, EntryBody::State(MachineState::Run)));
        // 0–100 s at 2 mL/s (120 mL/min), then 100–160 s at 1 mL/s (60 mL/min).
        for s in 0..=160u64 {
            let wb = if s <= 100 { 2 * s } else { 200 + (s - 100) };
            t.push(&entry(s, sample(wb as f64, 0.0)));
        }
        // The last 60 s of RUN ran at 60 mL/min exactly; the faster minute before is older.
        assert_eq!(t.recent_wb_rate_ml_min(60.0), Some(60.0));
        // The link was lost for 100 s and the machine had stopped meanwhile (volume unchanged):
        // then 30 s more at 1 mL/s. The gap is not running time: the last 60 s of samples are
        // 30 s after it and 30 s before it, 60 mL in 60 s = 60 mL/min.
        for s in 260..=290u64 {
            t.push(&entry(s, sample((260 + (s - 260)) as f64, 0.0)));
        }
        assert_eq!(t.recent_wb_rate_ml_min(60.0), Some(60.0));
    }

    #[test]
    fn a_moment_reads_states_clock_and_alarms_as_they_were() {
        let mut t = Timeline::new();
        t.push(&entry(0, EntryBody::State(MachineState::Prime)));
        t.push(&entry(10, sample(0.0, 0.0)));
        t.push(&entry(100, EntryBody::State(MachineState::Run)));
        let alarm = |code: &str, priority, active| Alarm {
            code: code.into(),
            priority,
            active,
            text: String::new(),
        };
        t.push(&entry(
            110,
            EntryBody::Alarm(alarm("BAG_CHANGE", Priority::Info, true)),
        ));
        t.push(&entry(
            120,
            EntryBody::Alarm(alarm("AIR", Priority::High, true)),
        ));
        t.push(&entry(
            130,
            EntryBody::Alarm(alarm("AIR", Priority::High, false)),
        ));
        t.push(&entry(200, sample(100.0, 5.0)));
        let then = t.moment(115.0);
        // At 115 s: PRIME and RUN have begun; the information event is no active alarm.
        let begun: Vec<MachineState> = then.states().map(|s| s.state).collect();
        assert_eq!(begun, [MachineState::Prime, MachineState::Run]);
        assert_eq!(t.moment(50.0).states().count(), 1);
        assert_eq!(t.now().states().count(), 2);
        assert_eq!(then.active_alarms().count(), 0);
        // The alarm is active from 120 s and gone at the instant it cleared, 130 s.
        assert_eq!(t.moment(120.0).active_alarms().count(), 1);
        assert_eq!(t.moment(130.0).active_alarms().count(), 0);
        // The first sample came at 10 s, received at T0 + 10 s: 115 s is T0 + 115 s.
        assert_eq!(then.clock_at(115.0), Some(at(115)));
    }
}
