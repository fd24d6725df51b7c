//! The alarm engine: the machine's own alarms plus the monitor's rules, with IEC 60601-1-8
//! priorities, latching, acknowledgement and audio pause. Pure: time is passed in.
//!
//! The monitor is a secondary display; the machine's alarm system stays the alarm system of
//! record. Its rules add what only the monitor knows: the citrate infused for the patient's
//! blood volume (averaged, with hysteresis: [`super::citrate`]), data that stopped, a failing
//! recording.
//!
//! The engine is the one truth of what is alarming: the banner shows its alarms and nothing
//! else. It also says which rules are off ([`AlarmEngine::alarms_off`]: switched off, or
//! missing an input) and, from the rows it is shown ([`AlarmEngine::observe`]), whether the
//! machine's own alarms are known: after a link loss they are unknown until the machine
//! re-announces itself (see docs/stale-data-and-alarm-off.md).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::citrate::{self, CitrateReading, CitrateSettings};
use crate::analysis::{Patient, Series, Target, Timeline, progress};
use crate::model::{Alarm, MachineState, Priority, Quantity};

use super::stale::{STALE_AFTER_S, is_fresh};

mod merge;
mod review;
mod status;
mod technical;

pub use merge::{MACHINE_TARGET_REACHED, SAME_CONDITION};
pub use review::{Acknowledgement, AlarmRecord};
pub use status::AlarmOff;
use status::MachineKnowledge;

/// One configurable rule's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleSettings {
    pub enabled: bool,
    /// The limit (unit depends on the rule).
    pub limit: f64,
    /// How long the condition must hold before the alarm is raised, seconds.
    pub delay_s: f64,
    /// A latching alarm stays shown after its condition ends, until acknowledged.
    pub latching: bool,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            enabled: true,
            limit: 0.0,
            delay_s: 0.0,
            latching: false,
        }
    }
}

/// Every rule's settings; persisted with the app's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlarmSettings {
    /// Access pressure below `limit` mmHg.
    pub access_low: RuleSettings,
    /// Return pressure above `limit` mmHg.
    pub return_high: RuleSettings,
    /// Citrate infused above `limit` ACD-A mL/min per L of TBV, averaged over
    /// `citrate.average_min` (needs the patient's TBV). Stored under its own key: the limit of
    /// the old `citrate_high` was in mg/kg/min and must not be read as this one.
    #[serde(rename = "citrate_acd_a_ml_min_per_l_tbv")]
    pub citrate_high: RuleSettings,
    /// The citrate rule's averaging window and the anticoagulant it converts.
    pub citrate: CitrateSettings,
    /// Inlet flow at zero for more than `delay_s` while the machine is in RUN.
    pub inlet_stopped: RuleSettings,
    /// No sample for [`STALE_AFTER_S`] while connected: the data is stale. Its `limit` and
    /// `delay_s` are not used (one definition of stale for the engine, tiles and header); they
    /// stay so that saved settings still load.
    pub no_data: RuleSettings,
    /// The serial link lost.
    pub link_lost: RuleSettings,
    /// The target volume reached (information).
    pub target_reached: RuleSettings,
    /// How long an acknowledgement silences the alarms active at the time, seconds.
    pub audio_pause_s: f64,
}

impl Default for AlarmSettings {
    fn default() -> Self {
        AlarmSettings {
            access_low: RuleSettings {
                limit: -200.0,
                delay_s: 5.0,
                ..RuleSettings::default()
            },
            return_high: RuleSettings {
                limit: 300.0,
                delay_s: 5.0,
                ..RuleSettings::default()
            },
            // The moving average is the delay; the alarm ends with its condition (hysteresis
            // keeps it from coming and going).
            citrate_high: RuleSettings {
                limit: citrate::DEFAULT_LIMIT,
                delay_s: 0.0,
                latching: false,
                ..RuleSettings::default()
            },
            citrate: CitrateSettings::default(),
            inlet_stopped: RuleSettings {
                delay_s: 60.0,
                ..RuleSettings::default()
            },
            no_data: RuleSettings {
                limit: STALE_AFTER_S,
                ..RuleSettings::default()
            },
            link_lost: RuleSettings::default(),
            target_reached: RuleSettings::default(),
            audio_pause_s: 120.0,
        }
    }
}

/// Which alarm: the monitor's own, or one the machine raised.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlarmSource {
    AccessLow,
    ReturnHigh,
    CitrateHigh,
    InletStopped,
    NoData,
    LinkLost,
    TargetReached,
    RecordingFailed,
    /// The monitor cannot sound its alarms (no audio output device, or it failed): a
    /// technical alarm, shown so nobody relies on a sound that will not come.
    NoAlarmSound,
    /// The machine's own alarms are not known: the link was lost and the machine has not
    /// re-announced itself since.
    MachineAlarmsUnknown,
    /// A machine alarm (`APHE`) by its code.
    Machine(String),
}

impl AlarmSource {
    /// The code recorded in the session CSV; the monitor's own codes start with `MON_`.
    pub fn code(&self) -> String {
        match self {
            AlarmSource::AccessLow => "MON_ACCESS_PRESSURE_LOW".into(),
            AlarmSource::ReturnHigh => "MON_RETURN_PRESSURE_HIGH".into(),
            AlarmSource::CitrateHigh => "MON_CITRATE_HIGH".into(),
            AlarmSource::InletStopped => "MON_INLET_STOPPED".into(),
            AlarmSource::NoData => "MON_NO_DATA".into(),
            AlarmSource::LinkLost => "MON_LINK_LOST".into(),
            AlarmSource::TargetReached => "MON_TARGET_REACHED".into(),
            AlarmSource::RecordingFailed => "MON_RECORDING_FAILED".into(),
            AlarmSource::NoAlarmSound => "MON_NO_ALARM_SOUND".into(),
            AlarmSource::MachineAlarmsUnknown => "MON_MACHINE_ALARMS_UNKNOWN".into(),
            AlarmSource::Machine(code) => code.clone(),
        }
    }

    /// The rule's name as the nurse reads it (the alarm-off indicator, the settings window).
    pub fn rule_name(&self) -> String {
        match self {
            AlarmSource::AccessLow => "Access pressure low".into(),
            AlarmSource::ReturnHigh => "Return pressure high".into(),
            AlarmSource::CitrateHigh => "Citrate rate high".into(),
            AlarmSource::InletStopped => "Inlet stopped".into(),
            AlarmSource::NoData => "No data".into(),
            AlarmSource::LinkLost => "Link lost".into(),
            AlarmSource::TargetReached => "Target reached".into(),
            AlarmSource::RecordingFailed => "Recording failed".into(),
            AlarmSource::NoAlarmSound => "No alarm sound".into(),
            AlarmSource::MachineAlarmsUnknown => "Machine alarms unknown".into(),
            AlarmSource::Machine(code) => code.clone(),
        }
    }

    /// Whether the monitor raised it (and so records it).
    pub fn is_monitor(&self) -> bool {
        !matches!(self, AlarmSource::Machine(_))
    }
}

/// What the rules look at, gathered by the caller at `now`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmInputs {
    pub state: Option<MachineState>,
    pub access_mmhg: Option<f64>,
    pub return_mmhg: Option<f64>,
    pub inlet_ml_min: Option<f64>,
    /// The citrate rule's reading (averaged AC flow for the patient's TBV).
    pub citrate: Option<CitrateReading>,
    /// Seconds since the last sample arrived; `None` before the first.
    pub sample_age_s: Option<f64>,
    /// The port is open (or opening) and data is expected.
    pub connected: bool,
    pub link_lost: bool,
    /// The recording cannot be written (rows wait in memory).
    pub recording_failed: Option<String>,
    /// Why the monitor cannot sound its alarms, if it cannot.
    pub alarm_sound_failed: Option<String>,
    /// Fraction of the target processed.
    pub target_fraction: Option<f64>,
    /// Machine alarms active now (from `APHE`).
    pub machine: Vec<Alarm>,
    /// Rules that cannot be evaluated for want of an input, and what they need (see
    /// [`AlarmInputs::unavailable_rules`]); shown as "alarm off".
    pub unavailable: Vec<(AlarmSource, String)>,
}

impl AlarmInputs {
    /// What the session's data says: state, pressures, inlet, the citrate reading for the
    /// patient's TBV (over the window `settings` give), progress to the target, the machine's
    /// active alarms, and the rules the patient's details leave unable to run. The caller adds
    /// what it knows of the link and the recording.
    pub fn from_timeline(
        timeline: &Timeline,
        patient: &Patient,
        target: Target,
        settings: &AlarmSettings,
    ) -> AlarmInputs {
        let latest = |q: Quantity| timeline.latest_value(Series::Measured(q));
        AlarmInputs {
            state: timeline.state(),
            access_mmhg: latest(Quantity::AccessMmhg),
            return_mmhg: latest(Quantity::ReturnMmhg),
            inlet_ml_min: latest(Quantity::InletMlMin),
            citrate: citrate::reading(timeline, patient, &settings.citrate),
            target_fraction: progress(timeline.now(), patient, target).fraction,
            // The monitor's own alarms come back as rows too; the engine keeps those itself.
            machine: timeline
                .active_alarms()
                .filter(|a| !a.code.starts_with("MON_"))
                .map(|a| Alarm {
                    code: a.code.clone(),
                    priority: a.priority,
                    active: true,
                    text: a.text.clone(),
                })
                .collect(),
            unavailable: AlarmInputs::unavailable_rules(patient, target),
            ..AlarmInputs::default()
        }
    }
}

/// An alarm being shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveAlarm {
    pub source: AlarmSource,
    pub priority: Priority,
    pub text: String,
    pub raised: Timestamp,
    /// The condition has ended but the alarm latches until acknowledged.
    pub condition_ended: Option<Timestamp>,
    /// Acknowledged since it was raised: the audio pause covers it. An alarm raised again (a
    /// new alarm condition) starts unacknowledged.
    pub acknowledged: bool,
    /// A machine alarm active when the link was lost at this time, and not re-announced by the
    /// machine since: it may have cleared unseen. Shown, silent, removed by acknowledgement.
    pub unconfirmed_since: Option<Timestamp>,
    /// The other sources of the same condition shown as this one alarm (the monitor's rule
    /// beside the machine's alarm, or the other way round: [`SAME_CONDITION`]).
    pub also: Vec<AlarmSource>,
}

impl ActiveAlarm {
    fn new(source: AlarmSource, priority: Priority, text: String, raised: Timestamp) -> Self {
        ActiveAlarm {
            source,
            priority,
            text,
            raised,
            condition_ended: None,
            acknowledged: false,
            unconfirmed_since: None,
            also: Vec::new(),
        }
    }

    /// Its sources by their codes, the machine's named as such: `ACCESS_PRESSURE_LOW
    /// (machine) + MON_ACCESS_PRESSURE_LOW (monitor)`.
    pub fn sources_text(&self) -> String {
        std::iter::once(&self.source)
            .chain(&self.also)
            .map(|s| {
                let whose = if s.is_monitor() { "monitor" } else { "machine" };
                format!("{} ({whose})", s.code())
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// A change to record: raise, clear or acknowledge.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmEvent {
    Raised {
        source: AlarmSource,
        priority: Priority,
        text: String,
    },
    Cleared {
        source: AlarmSource,
        priority: Priority,
    },
    Acknowledged {
        sources: Vec<AlarmSource>,
        audio_paused_until: Timestamp,
    },
}

impl AlarmEvent {
    /// The monitor's own raise or clear as a recording alarm row (machine alarms are already
    /// recorded as they arrive).
    pub fn monitor_alarm_row(&self) -> Option<Alarm> {
        match self {
            AlarmEvent::Raised {
                source,
                priority,
                text,
            } if source.is_monitor() => Some(Alarm {
                code: source.code(),
                priority: *priority,
                active: true,
                text: text.clone(),
            }),
            AlarmEvent::Cleared { source, priority } if source.is_monitor() => Some(Alarm {
                code: source.code(),
                priority: *priority,
                active: false,
                text: String::new(),
            }),
            _ => None,
        }
    }
}

/// The engine. Call [`AlarmEngine::evaluate`] whenever inputs change and at least once a second.
#[derive(Debug, Clone, Default)]
pub struct AlarmEngine {
    pub settings: AlarmSettings,
    active: BTreeMap<AlarmSource, ActiveAlarm>,
    /// When each monitor condition started holding (for the delays).
    holding_since: BTreeMap<AlarmSource, Timestamp>,
    audio_paused_until: Option<Timestamp>,
    target_reached_once: bool,
    /// What the engine knows of the machine's own alarms (see [`AlarmEngine::observe`]).
    machine_knowledge: MachineKnowledge,
    /// The monitor's target-reached message is shown and not yet recorded: the machine may
    /// announce the same (see [`TARGET_GRACE_S`]).
    target_unrecorded_since: Option<Timestamp>,
    /// What [`AlarmEngine::active`] shows: `active` with each condition the machine and a rule
    /// both raised shown once.
    shown: Vec<ActiveAlarm>,
    /// Every alarm of the session ([`AlarmEngine::review`]).
    records: Vec<AlarmRecord>,
}

/// How long the monitor's own target-reached message waits, shown, before it is recorded, for
/// the machine's own (`TARGET_REACHED`, sent at its next tick): the same event is then
/// recorded once, as the machine's.
pub const TARGET_GRACE_S: f64 = 10.0;

fn secs(s: f64) -> SignedDuration {
    SignedDuration::try_from_secs_f64(s).unwrap_or(SignedDuration::ZERO)
}

impl AlarmEngine {
    pub fn new(settings: AlarmSettings) -> AlarmEngine {
        AlarmEngine {
            settings,
            ..AlarmEngine::default()
        }
    }

    /// Alarms shown now, most urgent first (then newest); one condition raised by both the
    /// machine and a rule of the monitor's is one alarm, at the higher priority, naming both
    /// in [`ActiveAlarm::also`].
    pub fn active(&self) -> Vec<&ActiveAlarm> {
        self.shown.iter().collect()
    }

    /// The audio pause left, if one is running.
    pub fn audio_paused_for(&self, now: Timestamp) -> Option<SignedDuration> {
        let until = self.audio_paused_until?;
        (until > now).then(|| until.duration_since(now))
    }

    /// The priority to sound now: the highest high or medium alarm whose condition lasts and
    /// that the running audio pause does not cover. The pause covers the alarm conditions that
    /// were acknowledged; a new alarm condition sounds at once, even during the pause
    /// (IEC 60601-1-8), and a condition that ended and came back is a new condition. When the
    /// pause ends, alarms still active sound again.
    pub fn sounding(&self, now: Timestamp) -> Option<Priority> {
        let paused = self.audio_paused_for(now).is_some();
        self.active
            .values()
            .filter(|a| a.priority >= Priority::Medium && a.condition_ended.is_none())
            .filter(|a| a.unconfirmed_since.is_none())
            .filter(|a| !(paused && a.acknowledged))
            .map(|a| a.priority)
            .max()
    }

    /// Acknowledges every alarm shown: silences these alarm conditions for the audio pause
    /// (the visual indication stays while the condition lasts) and removes latched alarms whose
    /// condition has ended, and machine alarms left unconfirmed by a link loss (the nurse has
    /// checked the machine). Alarm conditions that start later are not covered. `by` is who
    /// acknowledged, for the review ([`AlarmEngine::review`]).
    pub fn acknowledge(&mut self, now: Timestamp, by: &str) -> Option<AlarmEvent> {
        if self.active.is_empty() {
            return None;
        }
        let until = now
            .checked_add(secs(self.settings.audio_pause_s))
            .unwrap_or(now);
        self.audio_paused_until = Some(until);
        let sources: Vec<AlarmSource> = self.active.keys().cloned().collect();
        for alarm in self.active.values_mut() {
            alarm.acknowledged = true;
        }
        self.record_acknowledged(now, by, &sources);
        let unconfirmed: Vec<AlarmSource> = self
            .active
            .values()
            .filter(|a| a.unconfirmed_since.is_some() && a.condition_ended.is_none())
            .map(|a| a.source.clone())
            .collect();
        for source in &unconfirmed {
            self.record_end_unknown(source);
        }
        self.dismiss_unconfirmed();
        self.active
            .retain(|_, a| a.condition_ended.is_none() && a.unconfirmed_since.is_none());
        self.refresh_shown();
        Some(AlarmEvent::Acknowledged {
            sources,
            audio_paused_until: until,
        })
    }

    /// Applies the rules to `inputs` at `now`; returns what was raised or cleared.
    pub fn evaluate(&mut self, now: Timestamp, inputs: &AlarmInputs) -> Vec<AlarmEvent> {
        let mut events = Vec::new();
        let s = self.settings;
        let running = inputs.state == Some(MachineState::Run);
        let below = |v: Option<f64>, limit: f64| v.is_some_and(|v| v < limit);
        let above = |v: Option<f64>, limit: f64| v.is_some_and(|v| v > limit);
        let fresh = inputs.sample_age_s.is_some_and(is_fresh);
        let conditions: [(AlarmSource, RuleSettings, Priority, bool, String); 6] = [
            (
                AlarmSource::AccessLow,
                s.access_low,
                Priority::Medium,
                fresh && below(inputs.access_mmhg, s.access_low.limit),
                format!(
                    "Access pressure {} mmHg below {} mmHg — check the patient's arm",
                    inputs
                        .access_mmhg
                        .map_or_else(String::new, |v| format!("{v:.0}")),
                    s.access_low.limit
                ),
            ),
            (
                AlarmSource::ReturnHigh,
                s.return_high,
                Priority::Medium,
                fresh && above(inputs.return_mmhg, s.return_high.limit),
                format!(
                    "Return pressure {} mmHg above {} mmHg — check the return line",
                    inputs
                        .return_mmhg
                        .map_or_else(String::new, |v| format!("{v:.0}")),
                    s.return_high.limit
                ),
            ),
            (
                AlarmSource::CitrateHigh,
                s.citrate_high,
                Priority::Medium,
                fresh
                    && citrate::holds(
                        inputs.citrate.as_ref(),
                        s.citrate_high.limit,
                        self.holding_since.contains_key(&AlarmSource::CitrateHigh),
                    ),
                citrate::alarm_text(inputs.citrate.as_ref(), s.citrate_high.limit),
            ),
            (
                AlarmSource::InletStopped,
                s.inlet_stopped,
                Priority::Medium,
                fresh && running && inputs.inlet_ml_min.is_some_and(|v| v <= 0.0),
                format!(
                    "Inlet flow at zero for over {:.0} s while running",
                    s.inlet_stopped.delay_s
                ),
            ),
            (
                AlarmSource::NoData,
                // A technical alarm: it cannot be switched off (an old settings file's
                // `enabled: false` is not read).
                RuleSettings {
                    delay_s: 0.0,
                    enabled: true,
                    ..s.no_data
                },
                Priority::Medium,
                inputs.connected
                    && !inputs.link_lost
                    && inputs.sample_age_s.is_some_and(|a| !is_fresh(a)),
                format!("No data from the machine for over {STALE_AFTER_S:.0} s"),
            ),
            (
                AlarmSource::LinkLost,
                // A technical alarm: it cannot be switched off.
                RuleSettings {
                    enabled: true,
                    ..s.link_lost
                },
                Priority::Medium,
                inputs.link_lost,
                "Link to the machine lost — reconnecting".into(),
            ),
        ];
        for (source, rule, priority, holds, text) in conditions {
            self.apply(
                now,
                source,
                rule,
                priority,
                rule.enabled && holds,
                text,
                &mut events,
            );
        }
        self.technical(now, inputs, &mut events);
        self.target_reached(now, inputs, &mut events);
        self.machine_alarms_unknown(now, &mut events);
        self.sync_machine(now, &inputs.machine);
        self.refresh_shown();
        events
    }

    /// The target volume processed (information), once a session: by the monitor's target,
    /// or by the machine's own `TARGET_REACHED`, whichever comes first, shown at once as one
    /// message. The monitor records its own only if the machine has not announced it within
    /// [`TARGET_GRACE_S`], so the event is recorded once.
    fn target_reached(
        &mut self,
        now: Timestamp,
        inputs: &AlarmInputs,
        events: &mut Vec<AlarmEvent>,
    ) {
        if !self.settings.target_reached.enabled {
            return;
        }
        // An information event is never active: the machine's announcement is known from the
        // rows observed, or from the inputs when the caller lists it.
        let machine_says = self.machine_knowledge.target_reached
            || inputs
                .machine
                .iter()
                .any(|a| a.code == MACHINE_TARGET_REACHED);
        let machine = AlarmSource::Machine(MACHINE_TARGET_REACHED.to_owned());
        if !self.target_reached_once
            && (machine_says || inputs.target_fraction.is_some_and(|f| f >= 1.0))
        {
            self.target_reached_once = true;
            let source = AlarmSource::TargetReached;
            let text = "Target volume processed".to_owned();
            self.record_raised(now, &source, Priority::Info, &text);
            self.active.insert(
                source.clone(),
                ActiveAlarm::new(source, Priority::Info, text, now),
            );
            self.target_unrecorded_since = Some(now);
        }
        let Some(since) = self.target_unrecorded_since else {
            return;
        };
        if machine_says {
            // The machine's row is the record; the message names it.
            self.target_unrecorded_since = None;
            if let Some(alarm) = self.active.get_mut(&AlarmSource::TargetReached)
                && !alarm.also.contains(&machine)
            {
                alarm.also.push(machine);
            }
        } else if now.duration_since(since) >= secs(TARGET_GRACE_S) {
            self.target_unrecorded_since = None;
            events.push(AlarmEvent::Raised {
                source: AlarmSource::TargetReached,
                priority: Priority::Info,
                text: "Target volume processed".to_owned(),
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        now: Timestamp,
        source: AlarmSource,
        rule: RuleSettings,
        priority: Priority,
        holds: bool,
        text: String,
        events: &mut Vec<AlarmEvent>,
    ) {
        if holds {
            let since = *self.holding_since.entry(source.clone()).or_insert(now);
            let due = now.duration_since(since) >= secs(rule.delay_s);
            match self.active.get_mut(&source) {
                // A latched alarm whose condition comes back is raised again: a new alarm
                // condition, not covered by an audio pause that was running.
                Some(alarm) if alarm.condition_ended.is_some() && due => {
                    alarm.condition_ended = None;
                    alarm.acknowledged = false;
                    alarm.raised = now;
                    alarm.text.clone_from(&text);
                }
                Some(alarm) if alarm.condition_ended.is_some() => return,
                Some(alarm) => {
                    alarm.text = text;
                    return;
                }
                None if due => {
                    let alarm = ActiveAlarm::new(source.clone(), priority, text.clone(), now);
                    self.active.insert(source.clone(), alarm);
                }
                None => return,
            }
            self.record_raised(now, &source, priority, &text);
            events.push(AlarmEvent::Raised {
                source,
                priority,
                text,
            });
        } else {
            self.holding_since.remove(&source);
            let Some(alarm) = self.active.get_mut(&source) else {
                return;
            };
            if alarm.condition_ended.is_some() {
                return;
            }
            events.push(AlarmEvent::Cleared {
                source: source.clone(),
                priority,
            });
            // A high-priority alarm always latches: one that ends before anyone acknowledged
            // it stays shown, silent, as "cleared, not acknowledged".
            let latches = (rule.latching || priority == Priority::High) && !alarm.acknowledged;
            if latches {
                alarm.condition_ended = Some(now);
            } else {
                self.active.remove(&source);
            }
            self.record_cleared(now, &source, latches);
        }
    }

    /// Follows the machine's own alarms (`machine`: those active now). A new one, or one that
    /// ended and came back, is raised; one that ends is removed, except a high-priority alarm
    /// nobody acknowledged, which stays shown, silent, until someone does (as the monitor's
    /// high-priority alarms do).
    fn sync_machine(&mut self, now: Timestamp, machine: &[Alarm]) {
        let dismissed_codes = self.machine_knowledge.dismissed.clone();
        let dismissed = |code: &String| dismissed_codes.contains(code);
        let current: Vec<&Alarm> = machine
            .iter()
            .filter(|a| a.priority != Priority::Info && !dismissed(&a.code))
            .collect();
        for alarm in current {
            let source = AlarmSource::Machine(alarm.code.clone());
            let text = if alarm.text.is_empty() {
                alarm.code.clone()
            } else {
                alarm.text.clone()
            };
            let unconfirmed = self.machine_knowledge.unconfirmed.get(&alarm.code).copied();
            let raise = match self.active.get_mut(&source) {
                Some(shown) if shown.condition_ended.is_some() => {
                    *shown = ActiveAlarm::new(source.clone(), alarm.priority, text.clone(), now);
                    true
                }
                Some(_) => false,
                None => {
                    let shown = ActiveAlarm::new(source.clone(), alarm.priority, text.clone(), now);
                    self.active.insert(source.clone(), shown);
                    true
                }
            };
            if raise {
                self.record_raised(now, &source, alarm.priority, &text);
            }
            if let Some(shown) = self.active.get_mut(&source) {
                shown.unconfirmed_since = unconfirmed;
            }
        }
        let ended: Vec<AlarmSource> = self
            .active
            .values()
            .filter(|a| a.condition_ended.is_none())
            .filter(|a| match &a.source {
                AlarmSource::Machine(code) => {
                    dismissed(code) || !machine.iter().any(|m| &m.code == code)
                }
                _ => false,
            })
            .map(|a| a.source.clone())
            .collect();
        for source in ended {
            let Some(alarm) = self.active.get_mut(&source) else {
                continue;
            };
            let latches = alarm.priority == Priority::High
                && !alarm.acknowledged
                && alarm.unconfirmed_since.is_none();
            if latches {
                alarm.condition_ended = Some(now);
            } else {
                self.active.remove(&source);
            }
            self.record_cleared(now, &source, latches);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A time `s` seconds into the tests' day (shared with the status tests).
    pub(super) fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    /// Running, pressures in range, a sample half a second old (shared with the status tests).
    pub(super) fn running(access: f64) -> AlarmInputs {
        AlarmInputs {
            state: Some(MachineState::Run),
            access_mmhg: Some(access),
            return_mmhg: Some(110.0),
            inlet_ml_min: Some(55.0),
            citrate: Some(CitrateReading::per_l(0.8)),
            sample_age_s: Some(0.5),
            connected: true,
            ..AlarmInputs::default()
        }
    }

    /// The codes of the alarms `events` raised (shared with the status tests).
    pub(super) fn raised(events: &[AlarmEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                AlarmEvent::Raised { source, .. } => Some(source.code()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_condition_raises_after_its_delay_and_clears_when_it_ends() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        assert!(engine.evaluate(at(0), &running(-230.0)).is_empty());
        assert!(
            engine.evaluate(at(4), &running(-230.0)).is_empty(),
            "5 s delay"
        );
        let events = engine.evaluate(at(5), &running(-230.0));
        assert_eq!(raised(&events), ["MON_ACCESS_PRESSURE_LOW"]);
        assert_eq!(engine.active()[0].priority, Priority::Medium);
        assert_eq!(engine.sounding(at(5)), Some(Priority::Medium));
        // A blip back above the limit resets the delay.
        let events = engine.evaluate(at(6), &running(-50.0));
        assert!(matches!(events[..], [AlarmEvent::Cleared { .. }]));
        assert!(engine.active().is_empty());
        let row = events[0].monitor_alarm_row().unwrap();
        assert_eq!(
            (row.code.as_str(), row.active),
            ("MON_ACCESS_PRESSURE_LOW", false)
        );
    }

    /// The settings with the citrate rule latching after a 30 s delay, as it was before its
    /// moving average: the generic latching and delay tests run on it.
    fn latching_citrate() -> AlarmSettings {
        let mut settings = AlarmSettings::default();
        settings.citrate_high.latching = true;
        settings.citrate_high.delay_s = 30.0;
        settings
    }

    #[test]
    fn a_latching_alarm_stays_until_acknowledged() {
        let mut engine = AlarmEngine::new(latching_citrate());
        let mut high = running(-40.0);
        high.citrate = Some(CitrateReading::per_l(1.35));
        engine.evaluate(at(0), &high);
        assert_eq!(
            raised(&engine.evaluate(at(30), &high)),
            ["MON_CITRATE_HIGH"]
        );
        let events = engine.evaluate(at(40), &running(-40.0));
        assert!(matches!(events[..], [AlarmEvent::Cleared { .. }]));
        let shown = engine.active();
        assert_eq!(shown.len(), 1, "latched");
        assert!(shown[0].condition_ended.is_some());
        assert_eq!(
            engine.sounding(at(40)),
            None,
            "a latched, ended alarm is silent"
        );
        // The condition comes back before anyone acknowledged: raised again, once.
        engine.evaluate(at(50), &high);
        assert_eq!(
            raised(&engine.evaluate(at(80), &high)),
            ["MON_CITRATE_HIGH"]
        );
        assert!(engine.evaluate(at(81), &high).is_empty());
        let events = engine.evaluate(at(90), &running(-40.0));
        assert!(matches!(events[..], [AlarmEvent::Cleared { .. }]));
        engine.acknowledge(at(91), "RN");
        assert!(engine.active().is_empty());
    }

    #[test]
    fn acknowledging_pauses_the_sound_for_two_minutes_and_a_new_alarm_sounds_again() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let low = running(-230.0);
        engine.evaluate(at(0), &low);
        engine.evaluate(at(5), &low);
        assert_eq!(engine.sounding(at(5)), Some(Priority::Medium));
        let Some(AlarmEvent::Acknowledged {
            audio_paused_until,
            sources,
        }) = engine.acknowledge(at(6), "RN")
        else {
            panic!()
        };
        assert_eq!(audio_paused_until, at(126));
        assert_eq!(sources, [AlarmSource::AccessLow]);
        assert_eq!(engine.sounding(at(7)), None);
        assert_eq!(engine.active().len(), 1, "the visual indication stays");
        assert_eq!(
            engine.audio_paused_for(at(66)),
            Some(SignedDuration::from_secs(60))
        );
        // A new alarm during the pause sounds.
        let mut both = low.clone();
        both.return_mmhg = Some(350.0);
        engine.evaluate(at(10), &both);
        engine.evaluate(at(15), &both);
        assert_eq!(engine.active().len(), 2);
        assert_eq!(engine.sounding(at(15)), Some(Priority::Medium));
        // When the pause runs out, an alarm still active sounds again.
        let mut only_low = low.clone();
        only_low.return_mmhg = Some(110.0);
        engine.evaluate(at(20), &only_low);
        assert_eq!(engine.sounding(at(100)), None);
        assert_eq!(engine.sounding(at(127)), Some(Priority::Medium));
    }

    #[test]
    fn machine_alarms_follow_the_machine() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        inputs.machine = vec![Alarm {
            code: "SPILLOVER".into(),
            priority: Priority::Medium,
            active: true,
            text: "Spillover detected".into(),
        }];
        assert!(
            engine.evaluate(at(0), &inputs).is_empty(),
            "machine alarms are recorded already"
        );
        assert_eq!(engine.active()[0].text, "Spillover detected");
        assert_eq!(engine.sounding(at(0)), Some(Priority::Medium));
        inputs.machine.clear();
        engine.evaluate(at(1), &inputs);
        assert!(engine.active().is_empty(), "a medium alarm does not latch");
        let record = &engine.review()[0];
        assert_eq!(
            (record.raised, record.cleared, record.latched),
            (at(0), Some(at(1)), false)
        );
    }

    #[test]
    fn no_data_link_lost_recording_failed_and_target_reached() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        inputs.sample_age_s = Some(11.0);
        assert_eq!(raised(&engine.evaluate(at(0), &inputs)), ["MON_NO_DATA"]);
        inputs.link_lost = true;
        let events = engine.evaluate(at(1), &inputs);
        assert_eq!(raised(&events), ["MON_LINK_LOST"]);
        assert!(events.iter().any(|e| matches!(
            e,
            AlarmEvent::Cleared {
                source: AlarmSource::NoData,
                ..
            }
        )));
        inputs = running(-40.0);
        inputs.recording_failed = Some("disk full".into());
        let events = engine.evaluate(at(2), &inputs);
        assert_eq!(raised(&events), ["MON_RECORDING_FAILED"]);
        assert_eq!(engine.sounding(at(2)), Some(Priority::High));
        inputs.recording_failed = None;
        inputs.target_fraction = Some(1.0);
        // Shown at once, recorded when the machine has not announced it within the grace.
        assert!(raised(&engine.evaluate(at(3), &inputs)).is_empty());
        assert!(
            engine
                .active()
                .iter()
                .any(|a| a.source == AlarmSource::TargetReached)
        );
        let events = engine.evaluate(at(13), &inputs);
        assert_eq!(raised(&events), ["MON_TARGET_REACHED"]);
        assert!(
            engine
                .active()
                .iter()
                .any(|a| a.source == AlarmSource::RecordingFailed),
            "latched"
        );
        assert!(
            raised(&engine.evaluate(at(14), &inputs)).is_empty(),
            "target once"
        );
    }

    #[test]
    fn a_disabled_rule_never_raises() {
        let mut settings = AlarmSettings::default();
        settings.access_low.enabled = false;
        let mut engine = AlarmEngine::new(settings);
        engine.evaluate(at(0), &running(-400.0));
        assert!(engine.evaluate(at(100), &running(-400.0)).is_empty());
    }

    fn codes(engine: &AlarmEngine) -> Vec<String> {
        engine.active().iter().map(|a| a.source.code()).collect()
    }

    fn machine(code: &str, priority: Priority) -> Alarm {
        Alarm {
            code: code.into(),
            priority,
            active: true,
            text: String::new(),
        }
    }

    #[test]
    fn active_lists_high_then_medium_then_low_then_info_newest_first_and_the_highest_sounds() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        // Access low from 0 s: raised at 5 s (5 s delay).
        let mut inputs = running(-230.0);
        engine.evaluate(at(0), &inputs);
        assert_eq!(
            raised(&engine.evaluate(at(5), &inputs)),
            ["MON_ACCESS_PRESSURE_LOW"]
        );
        // Return high from 8 s: raised at 13 s.
        inputs.return_mmhg = Some(350.0);
        engine.evaluate(at(8), &inputs);
        assert_eq!(
            raised(&engine.evaluate(at(13), &inputs)),
            ["MON_RETURN_PRESSURE_HIGH"]
        );
        // A low machine alarm, the recording failing (high) and the target (information).
        inputs.machine = vec![machine("FILTER_DUE", Priority::Low)];
        inputs.recording_failed = Some("disk full".into());
        inputs.target_fraction = Some(1.0);
        engine.evaluate(at(14), &inputs);
        assert_eq!(
            codes(&engine),
            [
                "MON_RECORDING_FAILED",
                "MON_RETURN_PRESSURE_HIGH", // medium, raised at 13 s
                "MON_ACCESS_PRESSURE_LOW",  // medium, raised at 5 s
                "FILTER_DUE",
                "MON_TARGET_REACHED",
            ]
        );
        assert_eq!(
            engine.sounding(at(14)),
            Some(Priority::High),
            "high over medium"
        );
        // The recording recovers: its alarm latches (shown, silent); the mediums sound.
        inputs.recording_failed = None;
        engine.evaluate(at(15), &inputs);
        assert_eq!(engine.active()[0].source, AlarmSource::RecordingFailed);
        assert!(engine.active()[0].condition_ended.is_some());
        assert_eq!(engine.sounding(at(15)), Some(Priority::Medium));
        // Pressures back to normal: a low and an information alarm make no sound.
        inputs.access_mmhg = Some(-40.0);
        inputs.return_mmhg = Some(110.0);
        engine.evaluate(at(16), &inputs);
        assert_eq!(
            codes(&engine),
            ["MON_RECORDING_FAILED", "FILTER_DUE", "MON_TARGET_REACHED"]
        );
        assert_eq!(engine.sounding(at(16)), None);
    }

    #[test]
    fn a_new_high_alarm_sounds_over_an_acknowledged_medium_during_the_pause() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-230.0);
        engine.evaluate(at(0), &inputs);
        engine.evaluate(at(5), &inputs);
        engine.acknowledge(at(6), "RN");
        assert_eq!(engine.sounding(at(7)), None);
        inputs.machine = vec![machine("AIR_DETECTED", Priority::High)];
        engine.evaluate(at(8), &inputs);
        assert_eq!(engine.sounding(at(8)), Some(Priority::High));
        // Acknowledged too: both silent until the new pause (from 9 s, 120 s) ends.
        engine.acknowledge(at(9), "RN");
        assert_eq!(engine.sounding(at(128)), None);
        assert_eq!(engine.sounding(at(129)), Some(Priority::High));
    }

    #[test]
    fn during_an_audio_pause_an_alarm_that_clears_and_comes_back_sounds_as_a_new_condition() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-230.0);
        inputs.return_mmhg = Some(350.0);
        engine.evaluate(at(0), &inputs);
        engine.evaluate(at(5), &inputs);
        assert_eq!(engine.active().len(), 2);
        engine.acknowledge(at(6), "RN"); // audio paused until 126 s
        assert_eq!(engine.sounding(at(7)), None);
        // The access pressure recovers; the return pressure stays high (acknowledged).
        inputs.access_mmhg = Some(-40.0);
        engine.evaluate(at(10), &inputs);
        assert_eq!(codes(&engine), ["MON_RETURN_PRESSURE_HIGH"]);
        // The access pressure falls again at 20 s: a new condition, raised after its delay.
        inputs.access_mmhg = Some(-230.0);
        engine.evaluate(at(20), &inputs);
        engine.evaluate(at(24), &inputs);
        assert_eq!(
            engine.sounding(at(24)),
            None,
            "the acknowledged return alarm stays paused"
        );
        assert_eq!(
            raised(&engine.evaluate(at(25), &inputs)),
            ["MON_ACCESS_PRESSURE_LOW"]
        );
        assert!(engine.audio_paused_for(at(25)).is_some(), "still paused");
        assert_eq!(engine.sounding(at(25)), Some(Priority::Medium));
        let access = engine
            .active()
            .into_iter()
            .find(|a| a.source == AlarmSource::AccessLow)
            .unwrap();
        assert!(!access.acknowledged);
        // Once the new condition ends, the paused one alone is silent again.
        inputs.access_mmhg = Some(-40.0);
        engine.evaluate(at(30), &inputs);
        assert_eq!(engine.sounding(at(30)), None);
    }

    #[test]
    fn during_an_audio_pause_a_machine_alarm_that_clears_and_comes_back_sounds() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        inputs.machine = vec![machine("AIR_DETECTED", Priority::High)];
        engine.evaluate(at(0), &inputs);
        engine.acknowledge(at(1), "RN");
        engine.evaluate(at(2), &inputs);
        assert_eq!(engine.sounding(at(2)), None, "the same condition, paused");
        inputs.machine.clear();
        engine.evaluate(at(3), &inputs);
        inputs.machine = vec![machine("AIR_DETECTED", Priority::High)];
        engine.evaluate(at(4), &inputs);
        assert!(engine.audio_paused_for(at(4)).is_some());
        assert_eq!(engine.sounding(at(4)), Some(Priority::High));
    }

    #[test]
    fn the_inlet_stopped_rule_needs_a_minute_at_zero_while_running() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut stopped = running(-40.0);
        stopped.inlet_ml_min = Some(0.0);
        assert!(engine.evaluate(at(0), &stopped).is_empty());
        assert!(engine.evaluate(at(59), &stopped).is_empty(), "60 s delay");
        let events = engine.evaluate(at(60), &stopped);
        assert_eq!(raised(&events), ["MON_INLET_STOPPED"]);
        let AlarmEvent::Raised { priority, text, .. } = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(*priority, Priority::Medium);
        assert_eq!(text, "Inlet flow at zero for over 60 s while running");
        assert_eq!(engine.sounding(at(60)), Some(Priority::Medium));
        // Flow again: cleared, not latched.
        let mut flowing = stopped.clone();
        flowing.inlet_ml_min = Some(0.1);
        let events = engine.evaluate(at(61), &flowing);
        assert!(matches!(
            events[..],
            [AlarmEvent::Cleared {
                source: AlarmSource::InletStopped,
                ..
            }]
        ));
        assert!(engine.active().is_empty());
        // A small flow never counts as stopped.
        for s in 62..200 {
            assert!(engine.evaluate(at(s), &flowing).is_empty());
        }
        // Stopped outside RUN (paused, priming, ...) is expected: no alarm however long.
        for state in [
            MachineState::Idle,
            MachineState::Prime,
            MachineState::Pause,
            MachineState::Rinseback,
            MachineState::End,
        ] {
            let mut engine = AlarmEngine::new(AlarmSettings::default());
            let mut inputs = stopped.clone();
            inputs.state = Some(state);
            for s in 0..=300 {
                assert!(engine.evaluate(at(s), &inputs).is_empty(), "{state:?}");
            }
            // RUN with the inlet still at zero: the delay starts when RUN starts.
            inputs.state = Some(MachineState::Run);
            assert!(engine.evaluate(at(301), &inputs).is_empty());
            assert!(engine.evaluate(at(360), &inputs).is_empty());
            assert_eq!(
                raised(&engine.evaluate(at(361), &inputs)),
                ["MON_INLET_STOPPED"]
            );
        }
    }

    #[test]
    fn stale_values_raise_no_pressure_citrate_or_inlet_alarm_only_no_data() {
        // Everything out of range, but the last sample is 10 s old (the no-data limit).
        let mut stale = running(-300.0);
        stale.return_mmhg = Some(400.0);
        stale.citrate = Some(CitrateReading::per_l(2.0));
        stale.inlet_ml_min = Some(0.0);
        stale.sample_age_s = Some(10.0);
        let mut engine = AlarmEngine::new(latching_citrate());
        assert_eq!(raised(&engine.evaluate(at(0), &stale)), ["MON_NO_DATA"]);
        for s in 1..=300 {
            assert!(engine.evaluate(at(s), &stale).is_empty(), "at {s} s");
        }
        assert_eq!(codes(&engine), ["MON_NO_DATA"]);
        // No sample at all yet: nothing to judge either.
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut none_yet = stale.clone();
        none_yet.sample_age_s = None;
        for s in 0..=300 {
            assert!(engine.evaluate(at(s), &none_yet).is_empty(), "at {s} s");
        }
        // Just under the limit the values are current: each rule raises after its delay.
        let mut engine = AlarmEngine::new(latching_citrate());
        let mut fresh = stale.clone();
        fresh.sample_age_s = Some(9.9);
        assert!(engine.evaluate(at(0), &fresh).is_empty());
        assert_eq!(
            raised(&engine.evaluate(at(5), &fresh)),
            ["MON_ACCESS_PRESSURE_LOW", "MON_RETURN_PRESSURE_HIGH"]
        );
        assert_eq!(
            raised(&engine.evaluate(at(30), &fresh)),
            ["MON_CITRATE_HIGH"]
        );
        assert_eq!(
            raised(&engine.evaluate(at(60), &fresh)),
            ["MON_INLET_STOPPED"]
        );
        // The data goes stale: the value alarms end (the citrate one latches), no data is raised.
        let events = engine.evaluate(at(61), &stale);
        assert_eq!(raised(&events), ["MON_NO_DATA"]);
        let cleared: Vec<AlarmSource> = events
            .iter()
            .filter_map(|e| match e {
                AlarmEvent::Cleared { source, .. } => Some(source.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            cleared,
            [
                AlarmSource::AccessLow,
                AlarmSource::ReturnHigh,
                AlarmSource::CitrateHigh,
                AlarmSource::InletStopped
            ]
        );
    }

    #[test]
    fn the_citrate_rule_raises_above_its_limit_and_clears_ten_percent_below_it() {
        // What the patient received is in the reading (AC in PRIME counts as none: see
        // `from_the_timeline`), so the rule itself holds in any state: a pause lowers the
        // average rather than ending the alarm at once.
        let reading = |v| {
            let mut inputs = running(-40.0);
            inputs.citrate = Some(CitrateReading::per_l(v));
            inputs
        };
        // At the limit itself there is no alarm: only above it.
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        for s in 0..=120 {
            assert!(engine.evaluate(at(s), &reading(1.2)).is_empty());
        }
        // Above it: raised at once (the average is the delay), medium priority, sounding.
        assert_eq!(
            raised(&engine.evaluate(at(121), &reading(1.21))),
            ["MON_CITRATE_HIGH"]
        );
        assert_eq!(engine.active()[0].priority, Priority::Medium);
        assert_eq!(engine.sounding(at(121)), Some(Priority::Medium));
        // Back under the limit but not 10 % under (1.2 × 0.9 = 1.08): still on, in any state.
        for (s, v, state) in [
            (122, 1.19, MachineState::Run),
            (123, 1.10, MachineState::Pause),
            (124, 1.08, MachineState::Rinseback),
        ] {
            let mut inputs = reading(v);
            inputs.state = Some(state);
            assert!(engine.evaluate(at(s), &inputs).is_empty(), "{v}");
            assert_eq!(codes(&engine), ["MON_CITRATE_HIGH"], "{v}");
        }
        // Under 1.08: cleared, and gone (not latching by default).
        let events = engine.evaluate(at(125), &reading(1.079));
        assert!(matches!(
            events[..],
            [AlarmEvent::Cleared {
                source: AlarmSource::CitrateHigh,
                ..
            }]
        ));
        assert!(engine.active().is_empty());
        // Between the two levels a cleared alarm stays cleared: it starts again only above
        // the limit.
        for s in 126..=200 {
            assert!(engine.evaluate(at(s), &reading(1.15)).is_empty());
        }
        assert_eq!(
            raised(&engine.evaluate(at(201), &reading(1.25))),
            ["MON_CITRATE_HIGH"]
        );
        // Without a reading (no TBV, too little data) there is no condition.
        let mut none = reading(2.0);
        none.citrate = None;
        assert!(matches!(
            engine.evaluate(at(202), &none)[..],
            [AlarmEvent::Cleared { .. }]
        ));
        // A limit set lower is honoured, its clearing level with it: 0.9 clears below 0.81.
        let mut settings = AlarmSettings::default();
        settings.citrate_high.limit = 0.9;
        let mut engine = AlarmEngine::new(settings);
        assert_eq!(
            raised(&engine.evaluate(at(0), &reading(0.95))),
            ["MON_CITRATE_HIGH"]
        );
        assert!(engine.evaluate(at(1), &reading(0.81)).is_empty());
        assert_eq!(engine.evaluate(at(2), &reading(0.8)).len(), 1);
        // Disabled, nothing.
        let mut settings = AlarmSettings::default();
        settings.citrate_high.enabled = false;
        let mut engine = AlarmEngine::new(settings);
        for s in 0..=60 {
            assert!(engine.evaluate(at(s), &reading(3.0)).is_empty());
        }
    }

    #[test]
    fn only_the_monitors_own_alarms_become_recording_rows() {
        // The machine's alarms reach the recording as they arrive (APHE); the monitor must not
        // write them a second time. Its own raise and clear each become one `MON_` row.
        let air = AlarmSource::Machine("AIR_DETECTED".into());
        assert!(!air.is_monitor());
        assert!(AlarmSource::RecordingFailed.is_monitor());
        let machine_events = [
            AlarmEvent::Raised {
                source: air.clone(),
                priority: Priority::High,
                text: "Air in return line".into(),
            },
            AlarmEvent::Cleared {
                source: air,
                priority: Priority::High,
            },
        ];
        for event in &machine_events {
            assert_eq!(event.monitor_alarm_row(), None, "{event:?}");
        }
        let raised = AlarmEvent::Raised {
            source: AlarmSource::ReturnHigh,
            priority: Priority::Medium,
            text: "Return pressure 350 mmHg above 300 mmHg — check the return line".into(),
        };
        assert_eq!(
            raised.monitor_alarm_row(),
            Some(Alarm {
                code: "MON_RETURN_PRESSURE_HIGH".into(),
                priority: Priority::Medium,
                active: true,
                text: "Return pressure 350 mmHg above 300 mmHg — check the return line".into(),
            })
        );
        let acknowledged = AlarmEvent::Acknowledged {
            sources: vec![AlarmSource::ReturnHigh],
            audio_paused_until: at(120),
        };
        assert_eq!(
            acknowledged.monitor_alarm_row(),
            None,
            "a note, not an alarm row"
        );
    }

    #[test]
    fn a_pressure_exactly_at_its_limit_does_not_alarm() {
        // "Below −200 mmHg" and "above 300 mmHg": the limits themselves are acceptable.
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut at_limits = running(-200.0);
        at_limits.return_mmhg = Some(300.0);
        for s in 0..=60 {
            assert!(engine.evaluate(at(s), &at_limits).is_empty(), "at {s} s");
        }
        // One mmHg past each limit: both raised after the 5 s delay.
        let mut past = running(-201.0);
        past.return_mmhg = Some(301.0);
        assert!(engine.evaluate(at(61), &past).is_empty());
        assert_eq!(
            raised(&engine.evaluate(at(66), &past)),
            ["MON_ACCESS_PRESSURE_LOW", "MON_RETURN_PRESSURE_HIGH"]
        );
    }

    #[test]
    fn no_data_is_raised_when_its_limit_passes_whatever_delay_is_set() {
        // The no-data limit is itself a time: a delay set on the rule in the settings window
        // must not hold the alarm back further.
        let mut settings = AlarmSettings::default();
        settings.no_data.delay_s = 60.0;
        let mut engine = AlarmEngine::new(settings);
        let mut inputs = running(-40.0);
        inputs.sample_age_s = Some(9.0);
        assert!(engine.evaluate(at(0), &inputs).is_empty());
        inputs.sample_age_s = Some(10.0);
        assert_eq!(raised(&engine.evaluate(at(1), &inputs)), ["MON_NO_DATA"]);
    }

    #[test]
    fn a_shown_alarm_tells_the_latest_value_and_a_latched_one_the_value_it_ended_with() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        engine.evaluate(at(0), &running(-230.0));
        engine.evaluate(at(5), &running(-230.0));
        assert_eq!(
            engine.active()[0].text,
            "Access pressure -230 mmHg below -200 mmHg — check the patient's arm"
        );
        // Still low, lower now: the banner follows the reading.
        assert!(engine.evaluate(at(6), &running(-260.0)).is_empty());
        assert_eq!(
            engine.active()[0].text,
            "Access pressure -260 mmHg below -200 mmHg — check the patient's arm"
        );

        // Citrate set to latch: after it ends, the alarm shown keeps the rate it reached.
        let mut engine = AlarmEngine::new(latching_citrate());
        let mut high = running(-40.0);
        high.citrate = Some(CitrateReading::per_l(1.35));
        engine.evaluate(at(0), &high);
        assert_eq!(
            raised(&engine.evaluate(at(30), &high)),
            ["MON_CITRATE_HIGH"]
        );
        engine.evaluate(at(40), &running(-40.0));
        let latched = "Citrate 1.35 mL/min per L TBV ACD-A (5-min mean); limit 1.20, clears \
                       below 1.08 — watch for tingling, consider calcium";
        assert_eq!(engine.active()[0].text, latched);
        // A new rise, still within its 30 s delay, is not an alarm yet: the latched one is
        // unchanged (ended, silent, its own value).
        let mut higher = running(-40.0);
        higher.citrate = Some(CitrateReading::per_l(1.5));
        for s in 50..80 {
            assert!(engine.evaluate(at(s), &higher).is_empty(), "at {s} s");
            let shown = engine.active();
            assert_eq!(shown[0].text, latched, "at {s} s");
            assert!(shown[0].condition_ended.is_some(), "at {s} s");
        }
        // At the end of the delay it is raised again with the new rate.
        assert_eq!(
            raised(&engine.evaluate(at(80), &higher)),
            ["MON_CITRATE_HIGH"]
        );
        assert_eq!(
            engine.active()[0].text,
            "Citrate 1.50 mL/min per L TBV ACD-A (5-min mean); limit 1.20, clears below 1.08 — \
             watch for tingling, consider calcium"
        );
    }

    mod from_the_timeline {
        use super::*;
        use crate::analysis::{Patient, Target, Timeline};
        use crate::model::{Entry, EntryBody, Sample};
        use crate::recording::meta::PatientMeta;

        /// A row received at `at(s)` for machine time `s` seconds.
        fn entry(s: i64, body: EntryBody) -> Entry {
            Entry {
                time_utc: at(s),
                elapsed_ms: Some(s as u64 * 1000),
                seq: Some(s as u32),
                body,
            }
        }

        /// What the live session gathers at `now`: the timeline's inputs and the sample's age.
        fn inputs_at(
            now: Timestamp,
            timeline: &Timeline,
            patient: &Patient,
            target: Target,
        ) -> AlarmInputs {
            AlarmInputs {
                sample_age_s: timeline
                    .last_sample_utc()
                    .map(|t| now.duration_since(t).as_secs_f64()),
                connected: true,
                ..AlarmInputs::from_timeline(timeline, patient, target, &AlarmSettings::default())
            }
        }

        fn weighing(kg: f64) -> Patient {
            Patient::from_meta(Some(&PatientMeta {
                weight_kg: Some(kg.into()),
                ..PatientMeta::default()
            }))
        }

        /// Male, 175 cm, 70 kg. Nadler: 0.3669 × 1.75³ + 0.03219 × 70 + 0.6041
        ///   = 0.3669 × 5.359375 + 2.2533 + 0.6041 = 1.9663547 + 2.8574 = 4.8237547 L.
        fn adult() -> Patient {
            Patient::from_meta(Some(&PatientMeta {
                weight_kg: Some(70.0.into()),
                height_cm: Some(175.0.into()),
                sex: Some("male".into()),
                ..PatientMeta::default()
            }))
        }

        #[test]
        fn the_citrate_alarm_follows_the_ac_flow_averaged_over_5_min_for_the_tbv() {
            // TBV 4.8237547 L: the 1.2 mL/min per L limit is an ACD-A flow of
            // 1.2 × 4.8237547 = 5.7885 mL/min, and it clears below 1.08 × 4.8237547 = 5.20966.
            // A sample a second; each holds its value for the second after it, so the 5-min
            // mean at the latest sample T is the mean of the samples T − 300 … T − 1.
            let patient = adult();
            assert!((patient.tbv_ml().unwrap() - 4823.7547).abs() < 1e-3);
            let mut engine = AlarmEngine::new(AlarmSettings::default());
            let mut timeline = Timeline::new();
            let ac_at = |s: i64| match s {
                // PRIME at 7.2 mL/min (AC into the kit, not the patient), then a sustained
                // 7.2 mL/min (1.49 per L) from 1200 s.
                0..600 | 1200..1800 => 7.2,
                // A 30-s spike to the pump's 20 mL/min: at most 30 of the 300 samples, a mean
                // of (4 × 270 + 20 × 30) ÷ 300 = 5.6 < 5.7885.
                900..930 => 20.0,
                // Paused: the pumps stop.
                1800.. => 0.0,
                // RUN at 4 mL/min: 4 ÷ 4.8237547 = 0.83 per L, routine.
                _ => 4.0,
            };
            let mut raised_at = Vec::new();
            let mut cleared_at = Vec::new();
            for s in 0..=2000 {
                match s {
                    0 => timeline.push(&entry(s, EntryBody::State(MachineState::Prime))),
                    600 => timeline.push(&entry(s, EntryBody::State(MachineState::Run))),
                    1800 => timeline.push(&entry(s, EntryBody::State(MachineState::Pause))),
                    _ => None,
                };
                timeline.push(&entry(
                    s,
                    EntryBody::Sample(Sample::default().with(Quantity::AcMlMin, ac_at(s))),
                ));
                let inputs = inputs_at(at(s), &timeline, &patient, Target::default());
                for event in engine.evaluate(at(s), &inputs) {
                    match event {
                        AlarmEvent::Raised { source, text, .. } => {
                            assert_eq!(source, AlarmSource::CitrateHigh);
                            raised_at.push((s, text));
                        }
                        AlarmEvent::Cleared { source, .. } => {
                            assert_eq!(source, AlarmSource::CitrateHigh);
                            cleared_at.push(s);
                        }
                        AlarmEvent::Acknowledged { .. } => {}
                    }
                }
            }
            // k samples at 7.2 in the window (T = 1200 + k): (4 × (300 − k) + 7.2 × k) ÷ 300
            // > 5.7885 ⇔ 1200 + 3.2 k > 1736.55 ⇔ k > 167.7: raised at 1368 s, 168 s after
            // the step. Its mean then: (1200 + 3.2 × 168) ÷ 300 = 5.792 mL/min,
            // 5.792 ÷ 4.8237547 = 1.20073 per L, 5.792 × 21.3 ÷ 70 = 1.7624 mg/kg/min.
            // Paused from 1800 s, j zeros in the window (T = 1800 + j): 7.2 × (300 − j) ÷ 300
            // < 5.20966 ⇔ 300 − j < 217.07 ⇔ j ≥ 83: cleared at 1883 s (without hysteresis
            // it would have been at j ≥ 59).
            assert_eq!(
                raised_at,
                [(
                    1368,
                    "Citrate just over 1.20 mL/min per L TBV ACD-A (5-min mean, 1.76 mg/kg/min); \
                     limit 1.20, clears below 1.08 — watch for tingling, consider calcium"
                        .to_owned()
                )]
            );
            assert_eq!(cleared_at, [1883]);
        }

        #[test]
        fn the_inputs_are_the_latest_values_and_the_machines_own_active_alarms() {
            let mut timeline = Timeline::new();
            timeline.push(&entry(0, EntryBody::State(MachineState::Run)));
            timeline.push(&entry(
                1,
                EntryBody::Sample(
                    Sample::default()
                        .with(Quantity::AccessMmhg, -120.0)
                        .with(Quantity::ReturnMmhg, 180.0)
                        .with(Quantity::InletMlMin, 55.0)
                        .with(Quantity::AcMlMin, 4.0),
                ),
            ));
            timeline.push(&entry(
                2,
                EntryBody::Sample(
                    Sample::default()
                        .with(Quantity::AccessMmhg, -150.0)
                        .with(Quantity::ReturnMmhg, 210.0)
                        .with(Quantity::InletMlMin, 0.0)
                        .with(Quantity::AcMlMin, 5.0),
                ),
            ));
            let alarm = |code: &str, priority, active| {
                EntryBody::Alarm(Alarm {
                    code: code.into(),
                    priority,
                    active,
                    text: format!("{code} text"),
                })
            };
            // Two machine alarms, one of them over; and the monitor's own row, which the
            // engine keeps itself.
            timeline.push(&entry(3, alarm("AIR_DETECTED", Priority::High, true)));
            timeline.push(&entry(3, alarm("FILTER_DUE", Priority::Low, true)));
            timeline.push(&entry(4, alarm("FILTER_DUE", Priority::Low, false)));
            timeline.push(&entry(
                4,
                alarm("MON_ACCESS_PRESSURE_LOW", Priority::Medium, true),
            ));
            let inputs = AlarmInputs::from_timeline(
                &timeline,
                &adult(),
                Target::default(),
                &AlarmSettings::default(),
            );
            assert_eq!(inputs.state, Some(MachineState::Run));
            assert_eq!(inputs.access_mmhg, Some(-150.0));
            assert_eq!(inputs.return_mmhg, Some(210.0));
            assert_eq!(inputs.inlet_ml_min, Some(0.0));
            // Two samples a second apart cover less than the citrate rule's 2-minute minimum:
            // no reading yet (the reading itself is tested above).
            assert_eq!(inputs.citrate, None);
            assert_eq!(
                inputs.machine,
                [Alarm {
                    code: "AIR_DETECTED".into(),
                    priority: Priority::High,
                    active: true,
                    text: "AIR_DETECTED text".into(),
                }]
            );
            // What the timeline cannot know is left for the caller.
            assert_eq!(
                (inputs.sample_age_s, inputs.connected, inputs.link_lost),
                (None, false, false)
            );
        }

        #[test]
        fn without_a_tbv_there_is_no_citrate_alarm() {
            // RUN at AC 9 mL/min: for the adult, 9 ÷ 4.8237547 = 1.87 mL/min per L, far above
            // 1.2. Without a TBV (no valid weight, or a weight without height and sex) the rule
            // has nothing to divide by.
            let run = |patient: &Patient| {
                let mut engine = AlarmEngine::new(AlarmSettings::default());
                let mut timeline = Timeline::new();
                timeline.push(&entry(0, EntryBody::State(MachineState::Run)));
                let mut raised_at = Vec::new();
                for s in 0..=300 {
                    timeline.push(&entry(
                        s,
                        EntryBody::Sample(Sample::default().with(Quantity::AcMlMin, 9.0)),
                    ));
                    let inputs = inputs_at(at(s), &timeline, patient, Target::default());
                    if patient.tbv_ml().is_none() {
                        assert_eq!(inputs.citrate, None);
                    }
                    if !raised(&engine.evaluate(at(s), &inputs)).is_empty() {
                        raised_at.push(s);
                    }
                }
                raised_at
            };
            for weight in [None, Some(0.0), Some(400.0), Some(70.0)] {
                let patient = weight.map_or_else(Patient::default, weighing);
                assert_eq!(patient.tbv_ml(), None);
                assert_eq!(run(&patient), Vec::<i64>::new(), "{weight:?}");
            }
            // With one, the same data raises it as soon as the samples cover the 2-minute
            // minimum: the samples 0–119 s, at 120 s.
            assert_eq!(run(&adult()), [120]);
        }

        #[test]
        fn target_reached_is_raised_once_when_the_processed_volume_reaches_the_target() {
            // Target 1 L of whole blood; WB processed = inlet − AC = s mL at s seconds.
            let target = Target::WbLitres(1.0);
            let patient = Patient::default();
            let mut engine = AlarmEngine::new(AlarmSettings::default());
            let mut timeline = Timeline::new();
            timeline.push(&entry(0, EntryBody::State(MachineState::Run)));
            let mut raised_at = Vec::new();
            let mut shown_at = None;
            for s in 0..=1500 {
                let wb = s as f64;
                timeline.push(&entry(
                    s,
                    EntryBody::Sample(
                        Sample::default()
                            .with(Quantity::InletMlMin, 60.0)
                            .with(Quantity::InletMl, wb + 50.0)
                            .with(Quantity::AcMl, 50.0),
                    ),
                ));
                if s == 1200 {
                    // The target is acknowledged: it is not raised again.
                    engine.acknowledge(at(s), "RN");
                }
                let events = engine.evaluate(at(s), &inputs_at(at(s), &timeline, &patient, target));
                if shown_at.is_none() && !engine.active().is_empty() {
                    shown_at = Some(s);
                }
                if !raised(&events).is_empty() {
                    assert_eq!(raised(&events), ["MON_TARGET_REACHED"]);
                    raised_at.push(s);
                    // Information: shown, never sounded.
                    assert_eq!(engine.active()[0].priority, Priority::Info);
                    assert_eq!(engine.sounding(at(s)), None);
                }
            }
            // 1000 mL of 1000 mL at 1000 s exactly: shown then, recorded (no machine
            // announcement) after the grace.
            assert_eq!(shown_at, Some(1000));
            assert_eq!(raised_at, [1000 + TARGET_GRACE_S as i64]);
        }
    }
}
