//! The types every layer shares: what the machine measures, its states and alarms, and the
//! journal entries that flow from the serial worker to the recorder and the screen.
//!
//! One concept, one name: a [`Quantity`]'s key is the APH/1 sample key, the CSV column and the
//! name the UI shows next to its unit.

use std::fmt;

/// A measured quantity carried in an `APHS` sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quantity {
    InletMlMin,
    AcMlMin,
    ReturnMlMin,
    CollectMlMin,
    PlasmaMlMin,
    InletMl,
    AcMl,
    CollectMl,
    PlasmaMl,
    ReplaceMl,
    AccessMmhg,
    ReturnMmhg,
    CentrifugeRpm,
    AcRatio,
}

/// How many quantities a sample can carry.
pub const QUANTITY_COUNT: usize = 14;

impl Quantity {
    /// Every quantity, in the order of the recording's columns.
    pub const ALL: [Quantity; QUANTITY_COUNT] = [
        Quantity::InletMlMin,
        Quantity::AcMlMin,
        Quantity::ReturnMlMin,
        Quantity::CollectMlMin,
        Quantity::PlasmaMlMin,
        Quantity::InletMl,
        Quantity::AcMl,
        Quantity::CollectMl,
        Quantity::PlasmaMl,
        Quantity::ReplaceMl,
        Quantity::AccessMmhg,
        Quantity::ReturnMmhg,
        Quantity::CentrifugeRpm,
        Quantity::AcRatio,
    ];

    /// Index into [`Quantity::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The APH/1 sample key, which is also the CSV column name.
    pub fn key(self) -> &'static str {
        match self {
            Quantity::InletMlMin => "inlet_ml_min",
            Quantity::AcMlMin => "ac_ml_min",
            Quantity::ReturnMlMin => "return_ml_min",
            Quantity::CollectMlMin => "collect_ml_min",
            Quantity::PlasmaMlMin => "plasma_ml_min",
            Quantity::InletMl => "inlet_ml",
            Quantity::AcMl => "ac_ml",
            Quantity::CollectMl => "collect_ml",
            Quantity::PlasmaMl => "plasma_ml",
            Quantity::ReplaceMl => "replace_ml",
            Quantity::AccessMmhg => "access_mmhg",
            Quantity::ReturnMmhg => "return_mmhg",
            Quantity::CentrifugeRpm => "centrifuge_rpm",
            Quantity::AcRatio => "ac_ratio",
        }
    }

    /// The quantity for an APH/1 key, if it is one of the known keys.
    pub fn from_key(key: &str) -> Option<Quantity> {
        Quantity::ALL.into_iter().find(|q| q.key() == key)
    }

    /// Short human name, as shown next to plots and in reports.
    pub fn label(self) -> &'static str {
        match self {
            Quantity::InletMlMin => "Inlet flow",
            Quantity::AcMlMin => "AC flow",
            Quantity::ReturnMlMin => "Return flow",
            Quantity::CollectMlMin => "Collect flow",
            Quantity::PlasmaMlMin => "Plasma flow",
            Quantity::InletMl => "Inlet volume",
            Quantity::AcMl => "AC volume",
            Quantity::CollectMl => "Product volume",
            Quantity::PlasmaMl => "Plasma volume",
            Quantity::ReplaceMl => "Replacement volume",
            Quantity::AccessMmhg => "Access pressure",
            Quantity::ReturnMmhg => "Return pressure",
            Quantity::CentrifugeRpm => "Centrifuge",
            Quantity::AcRatio => "Inlet:AC ratio",
        }
    }

    /// The unit as printed to people.
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::InletMlMin
            | Quantity::AcMlMin
            | Quantity::ReturnMlMin
            | Quantity::CollectMlMin
            | Quantity::PlasmaMlMin => "mL/min",
            Quantity::InletMl
            | Quantity::AcMl
            | Quantity::CollectMl
            | Quantity::PlasmaMl
            | Quantity::ReplaceMl => "mL",
            Quantity::AccessMmhg | Quantity::ReturnMmhg => "mmHg",
            Quantity::CentrifugeRpm => "rpm",
            Quantity::AcRatio => ":1",
        }
    }

    /// The plausible range from the protocol: a value outside it is rejected.
    pub fn plausible_range(self) -> (f64, f64) {
        match self {
            Quantity::InletMlMin | Quantity::PlasmaMlMin => (0.0, 150.0),
            Quantity::AcMlMin | Quantity::CollectMlMin => (0.0, 20.0),
            Quantity::ReturnMlMin => (0.0, 250.0),
            Quantity::InletMl => (0.0, 50_000.0),
            Quantity::AcMl | Quantity::CentrifugeRpm => (0.0, 5_000.0),
            Quantity::CollectMl => (0.0, 2_000.0),
            Quantity::PlasmaMl | Quantity::ReplaceMl => (0.0, 10_000.0),
            Quantity::AccessMmhg => (-500.0, 300.0),
            Quantity::ReturnMmhg => (-300.0, 600.0),
            Quantity::AcRatio => (1.0, 50.0),
        }
    }

    /// Whether the value accumulates over a procedure (and so never decreases within one).
    pub fn is_cumulative(self) -> bool {
        matches!(
            self,
            Quantity::InletMl
                | Quantity::AcMl
                | Quantity::CollectMl
                | Quantity::PlasmaMl
                | Quantity::ReplaceMl
        )
    }
}

/// One `APHS` sample: any subset of the known quantities.
///
/// Stored densely (a value array and a presence mask) so that a six-hour session at 10 Hz stays
/// small in memory.
#[derive(Clone, Copy, PartialEq, Default)]
pub struct Sample {
    values: [f64; QUANTITY_COUNT],
    present: u16,
}

impl Sample {
    /// The value of `quantity`, if the sample carries it.
    pub fn get(&self, quantity: Quantity) -> Option<f64> {
        (self.present & (1 << quantity.index()) != 0).then(|| self.values[quantity.index()])
    }

    /// Sets `quantity` to `value`.
    pub fn set(&mut self, quantity: Quantity, value: f64) {
        self.values[quantity.index()] = value;
        self.present |= 1 << quantity.index();
    }

    /// Builder form of [`Sample::set`].
    #[must_use]
    pub fn with(mut self, quantity: Quantity, value: f64) -> Sample {
        self.set(quantity, value);
        self
    }

    /// The quantities present, in column order, with their values.
    pub fn iter(&self) -> impl Iterator<Item = (Quantity, f64)> + '_ {
        Quantity::ALL
            .into_iter()
            .filter_map(|q| self.get(q).map(|v| (q, v)))
    }

    /// Whether the sample carries no known quantity.
    pub fn is_empty(&self) -> bool {
        self.present == 0
    }
}

impl fmt::Debug for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(q, v)| (q.key(), v)))
            .finish()
    }
}

/// The machine's procedure state, from `APHT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MachineState {
    Idle,
    Prime,
    Run,
    Pause,
    Rinseback,
    End,
}

impl MachineState {
    pub const ALL: [MachineState; 6] = [
        MachineState::Idle,
        MachineState::Prime,
        MachineState::Run,
        MachineState::Pause,
        MachineState::Rinseback,
        MachineState::End,
    ];

    /// The protocol spelling (`RUN`), also used in recordings and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            MachineState::Idle => "IDLE",
            MachineState::Prime => "PRIME",
            MachineState::Run => "RUN",
            MachineState::Pause => "PAUSE",
            MachineState::Rinseback => "RINSEBACK",
            MachineState::End => "END",
        }
    }

    /// Parses the protocol spelling.
    pub fn from_protocol(text: &str) -> Option<MachineState> {
        MachineState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for MachineState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Alarm priority, after IEC 60601-1-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// Information: no alarm condition, no sound.
    Info,
    Low,
    Medium,
    High,
}

impl Priority {
    /// The one-letter protocol and recording code (`H`, `M`, `L`, `I`).
    pub fn code(self) -> &'static str {
        match self {
            Priority::High => "H",
            Priority::Medium => "M",
            Priority::Low => "L",
            Priority::Info => "I",
        }
    }

    /// Parses the one-letter code.
    pub fn from_code(code: &str) -> Option<Priority> {
        match code {
            "H" => Some(Priority::High),
            "M" => Some(Priority::Medium),
            "L" => Some(Priority::Low),
            "I" => Some(Priority::Info),
            _ => None,
        }
    }

    /// The word shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Priority::High => "HIGH",
            Priority::Medium => "MEDIUM",
            Priority::Low => "LOW",
            Priority::Info => "INFO",
        }
    }

    /// The IEC 60601-1-8 priority marker, so colour is never the only cue.
    pub fn marker(self) -> &'static str {
        match self {
            Priority::High => "!!!",
            Priority::Medium => "!!",
            Priority::Low => "!",
            Priority::Info => "i",
        }
    }
}

/// An alarm or event raised or cleared (`APHE`, or the monitor's own rules).
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// Upper-case identifier, e.g. `ACCESS_PRESSURE_LOW`.
    pub code: String,
    pub priority: Priority,
    /// `true` when raised (`ON`), `false` when cleared (`OFF`).
    pub active: bool,
    pub text: String,
}

/// The machine's identity, from `APHI`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct MachineIdentity {
    pub model: String,
    pub serial_no: String,
    pub software_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
}

/// What a decoded sentence carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Identity(MachineIdentity),
    State(MachineState),
    Sample(Sample),
    Alarm(Alarm),
}

/// One valid APH/1 sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence {
    pub seq: u32,
    pub t_ms: u64,
    pub payload: Payload,
    /// How many keys the sample carried that are not in the protocol's table.
    pub unknown_keys: u16,
}

/// A connection or continuity event, written by the monitor as a `link` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkCode {
    /// The port was opened (at the start of recording).
    Connected,
    /// The port errored or vanished.
    Lost,
    /// No byte arrived for the silence timeout while the port stayed open.
    Silent,
    /// Data flows again after `Lost` or `Silent`.
    Restored,
    /// Sentences were lost on the wire (a jump in `seq`).
    SequenceGap,
    /// `seq` went backwards without wrapping: the machine restarted its numbering.
    SequenceRestart,
    /// The machine restarted: `t_ms` went backwards (a new procedure), or every counter fell at
    /// once. Every cumulative counter starts a new count.
    MachineReset,
    /// One cumulative counter fell by more than 1 mL while the others went on (a product-bag
    /// change): that counter alone starts a new count.
    CounterRestart,
    /// The machine identified itself (first `APHI` of a connection, or a different one).
    Identity,
    /// Recording stopped cleanly (the user stopped it, or the procedure ended).
    Closed,
    /// Recording resumed into an existing file after the monitor restarted.
    Resumed,
}

impl LinkCode {
    pub const ALL: [LinkCode; 11] = [
        LinkCode::Connected,
        LinkCode::Lost,
        LinkCode::Silent,
        LinkCode::Restored,
        LinkCode::SequenceGap,
        LinkCode::SequenceRestart,
        LinkCode::MachineReset,
        LinkCode::CounterRestart,
        LinkCode::Identity,
        LinkCode::Closed,
        LinkCode::Resumed,
    ];

    /// The code written in the recording's `code` column.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkCode::Connected => "CONNECTED",
            LinkCode::Lost => "LINK_LOST",
            LinkCode::Silent => "LINK_SILENT",
            LinkCode::Restored => "LINK_RESTORED",
            LinkCode::SequenceGap => "SEQ_GAP",
            LinkCode::SequenceRestart => "SEQ_RESTART",
            LinkCode::MachineReset => "MACHINE_RESET",
            LinkCode::CounterRestart => "COUNTER_RESTART",
            LinkCode::Identity => "MACHINE_IDENTITY",
            LinkCode::Closed => "RECORDING_CLOSED",
            LinkCode::Resumed => "RECORDING_RESUMED",
        }
    }

    pub fn from_code(code: &str) -> Option<LinkCode> {
        LinkCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// Whether this event means the data link is down.
    pub fn is_loss(self) -> bool {
        matches!(self, LinkCode::Lost | LinkCode::Silent)
    }
}

/// A `link` row: what happened to the connection, with human-readable detail.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkEvent {
    pub code: LinkCode,
    /// For [`LinkCode::SequenceGap`], the number of sentences lost.
    pub lost: u64,
    pub text: String,
}

impl LinkEvent {
    pub fn new(code: LinkCode, text: impl Into<String>) -> LinkEvent {
        LinkEvent {
            code,
            lost: 0,
            text: text.into(),
        }
    }
}

/// A nurse's annotation typed into the monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Preset category code (e.g. `OBSERVATION`, `TINGLING`), or empty for free text.
    pub code: String,
    pub text: String,
}

/// What one recorded row holds.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryBody {
    Sample(Sample),
    State(MachineState),
    Alarm(Alarm),
    Note(Note),
    Link(LinkEvent),
}

impl EntryBody {
    /// The recording's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            EntryBody::Sample(_) => "sample",
            EntryBody::State(_) => "state",
            EntryBody::Alarm(_) => "alarm",
            EntryBody::Note(_) => "note",
            EntryBody::Link(_) => "link",
        }
    }
}

/// One journal entry: a row of the session recording, as received or written by the monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// When the monitor received (or wrote) it.
    pub time_utc: jiff::Timestamp,
    /// The machine's procedure time; for monitor-written rows, the machine time they belong to
    /// (`None` before the machine has sent anything).
    pub elapsed_ms: Option<u64>,
    /// The machine's sequence number, for rows that came from the machine.
    pub seq: Option<u32>,
    pub body: EntryBody,
}

/// Elapsed milliseconds as the recording's `elapsed_s` (seconds, three decimals, exact).
pub fn format_elapsed_s(elapsed_ms: u64) -> String {
    format!("{}.{:03}", elapsed_ms / 1000, elapsed_ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quantity_key_round_trips() {
        for q in Quantity::ALL {
            assert_eq!(Quantity::from_key(q.key()), Some(q));
            assert_eq!(Quantity::ALL[q.index()], q);
        }
    }

    #[test]
    fn sample_reports_only_what_was_set() {
        let s = Sample::default().with(Quantity::AcMl, 95.7);
        assert_eq!(s.get(Quantity::AcMl), Some(95.7));
        assert_eq!(s.get(Quantity::InletMl), None);
        assert_eq!(s.iter().count(), 1);
    }

    #[test]
    fn elapsed_is_formatted_with_three_exact_decimals() {
        assert_eq!(format_elapsed_s(1_260_000), "1260.000");
        assert_eq!(format_elapsed_s(7), "0.007");
        assert_eq!(format_elapsed_s(u64::MAX), "18446744073709551.615");
    }

    #[test]
    fn priorities_order_from_info_to_high() {
        assert!(Priority::High > Priority::Medium);
        assert!(Priority::Low > Priority::Info);
        for p in [
            Priority::High,
            Priority::Medium,
            Priority::Low,
            Priority::Info,
        ] {
            assert_eq!(Priority::from_code(p.code()), Some(p));
        }
    }
}
