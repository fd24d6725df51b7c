//! One condition, one alarm: when the machine raises an alarm and a rule of the monitor's
//! fires on the same condition (the machine's `ACCESS_PRESSURE_LOW` and the monitor's
//! `MON_ACCESS_PRESSURE_LOW`), the screen shows one alarm, at the higher of the two priorities,
//! naming both sources. Both are still kept apart underneath: each sounds, latches and is
//! recorded as itself (the recording is a journal of what each said).

use super::{ActiveAlarm, AlarmEngine, AlarmSource};

/// The machine's alarm codes (APH/1 `APHE`) and the monitor's rules on the same condition.
pub const SAME_CONDITION: [(&str, AlarmSource); 2] = [
    ("ACCESS_PRESSURE_LOW", AlarmSource::AccessLow),
    ("RETURN_PRESSURE_HIGH", AlarmSource::ReturnHigh),
];

/// The machine's code for the target volume processed (information), the condition of the
/// monitor's target-reached rule.
pub const MACHINE_TARGET_REACHED: &str = "TARGET_REACHED";

/// The monitor's rule on the same condition as the machine's alarm `code`, if there is one.
fn monitor_rule_for(code: &str) -> Option<&'static AlarmSource> {
    SAME_CONDITION
        .iter()
        .find(|(machine, _)| *machine == code)
        .map(|(_, rule)| rule)
}

/// `shown` and `other` (the same condition from another source) shown as one: the higher
/// priority's alarm (the machine's on a tie: it is the alarm system of record), lasting while
/// either lasts, acknowledged when both are, confirmed if either is, raised at the earlier.
fn fold(mut shown: ActiveAlarm, other: &ActiveAlarm) -> ActiveAlarm {
    if other.condition_ended.is_none() {
        shown.condition_ended = None;
    }
    shown.acknowledged &= other.acknowledged;
    if other.unconfirmed_since.is_none() {
        shown.unconfirmed_since = None;
    }
    shown.raised = shown.raised.min(other.raised);
    shown.also.push(other.source.clone());
    shown.also.extend(other.also.iter().cloned());
    shown
}

impl AlarmEngine {
    /// Recomputes what [`AlarmEngine::active`] shows from the alarms held.
    pub(super) fn refresh_shown(&mut self) {
        let mut shown: Vec<ActiveAlarm> = Vec::with_capacity(self.active.len());
        for alarm in self.active.values() {
            let partner = match &alarm.source {
                AlarmSource::Machine(code) => monitor_rule_for(code).cloned(),
                source => SAME_CONDITION
                    .iter()
                    .find(|(_, rule)| rule == source)
                    .map(|(machine, _)| AlarmSource::Machine((*machine).to_owned())),
            };
            match partner.and_then(|p| self.active.get(&p)) {
                None => shown.push(alarm.clone()),
                Some(other) => {
                    let wins = alarm.priority > other.priority
                        || (alarm.priority == other.priority && !alarm.source.is_monitor());
                    if wins {
                        shown.push(fold(alarm.clone(), other));
                    }
                }
            }
        }
        shown.sort_by(|a, b| b.priority.cmp(&a.priority).then(b.raised.cmp(&a.raised)));
        self.shown = shown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::engine::tests::{at, raised, running};
    use crate::alarms::engine::{AlarmEvent, AlarmSettings, TARGET_GRACE_S};
    use crate::model::{Alarm, Priority};

    fn machine_access_low() -> Alarm {
        Alarm {
            code: "ACCESS_PRESSURE_LOW".into(),
            priority: Priority::High,
            active: true,
            text: "Access pressure low - check patient arm".into(),
        }
    }

    #[test]
    fn the_machines_alarm_and_the_monitors_rule_on_one_condition_show_as_one_alarm() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-230.0);
        inputs.machine = vec![machine_access_low()];
        engine.evaluate(at(0), &inputs);
        // The monitor's rule fires after its 5 s delay: still one alarm on screen.
        let events = engine.evaluate(at(5), &inputs);
        assert_eq!(raised(&events), ["MON_ACCESS_PRESSURE_LOW"], "recorded");
        let rows: Vec<_> = events
            .iter()
            .filter_map(AlarmEvent::monitor_alarm_row)
            .collect();
        assert_eq!(rows.len(), 1, "the monitor's row is still written");
        let shown = engine.active();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert_eq!(shown[0].priority, Priority::High, "the higher priority");
        assert_eq!(shown[0].raised, at(0), "since the first source raised it");
        assert_eq!(
            shown[0].sources_text(),
            "ACCESS_PRESSURE_LOW (machine) + MON_ACCESS_PRESSURE_LOW (monitor)"
        );
        assert_eq!(engine.sounding(at(5)), Some(Priority::High));
        // The machine clears its alarm; the monitor's condition lasts: one alarm, at the high
        // priority (latched, nobody acknowledged it), shown as lasting.
        inputs.machine.clear();
        engine.evaluate(at(8), &inputs);
        let shown = engine.active();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].priority, Priority::High);
        assert_eq!(shown[0].condition_ended, None);
        assert_eq!(engine.sounding(at(8)), Some(Priority::Medium));
        // Both reviewed, each as itself.
        assert_eq!(engine.review().len(), 2);
        // The acknowledgement covers both; the monitor's condition ends: nothing left.
        engine.acknowledge(at(9), "RN");
        engine.evaluate(at(10), &running(-40.0));
        assert!(engine.active().is_empty());
    }

    #[test]
    fn a_rule_on_its_own_and_an_unrelated_machine_alarm_are_shown_apart() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-230.0);
        inputs.machine = vec![Alarm {
            code: "SPILLOVER".into(),
            ..machine_access_low()
        }];
        engine.evaluate(at(0), &inputs);
        engine.evaluate(at(5), &inputs);
        let shown = engine.active();
        assert_eq!(shown.len(), 2);
        assert!(shown.iter().all(|a| a.also.is_empty()));
    }

    fn target_inputs(fraction: f64, machine_says: bool) -> crate::alarms::AlarmInputs {
        let mut inputs = running(-40.0);
        inputs.target_fraction = Some(fraction);
        if machine_says {
            inputs.machine = vec![Alarm {
                code: MACHINE_TARGET_REACHED.into(),
                priority: Priority::Info,
                active: true,
                text: "Target volume processed".into(),
            }];
        }
        inputs
    }

    /// The monitor's rows over a run of `(second, fraction, machine announced)`.
    fn monitor_rows(steps: &[(i64, f64, bool)]) -> (AlarmEngine, Vec<String>) {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut rows = Vec::new();
        for &(s, fraction, machine) in steps {
            for event in engine.evaluate(at(s), &target_inputs(fraction, machine)) {
                rows.extend(event.monitor_alarm_row().map(|r| r.code));
            }
        }
        (engine, rows)
    }

    #[test]
    fn target_reached_is_recorded_once_when_the_machine_announces_it_a_second_later() {
        // As the demo runs: the monitor's progress reaches the target on a sample, the
        // machine sends TARGET_REACHED at its next tick. The machine's row is the record.
        let (engine, rows) = monitor_rows(&[
            (0, 0.99, false),
            (1, 1.0, false),
            (2, 1.0, true),
            (30, 1.0, true),
        ]);
        assert_eq!(
            rows,
            Vec::<String>::new(),
            "the machine's row is the one record"
        );
        let shown = engine.active();
        assert_eq!(shown.len(), 1, "one message on screen");
        assert_eq!(
            shown[0].raised,
            at(1),
            "shown as soon as the target is reached"
        );
        assert_eq!(
            shown[0].sources_text(),
            "MON_TARGET_REACHED (monitor) + TARGET_REACHED (machine)"
        );
        assert_eq!(engine.review().len(), 1);
    }

    #[test]
    fn target_reached_is_recorded_by_the_monitor_when_the_machine_does_not_announce_it() {
        let grace = TARGET_GRACE_S as i64;
        let (_, rows) = monitor_rows(&[(1, 1.0, false), (grace, 1.0, false)]);
        assert_eq!(rows, Vec::<String>::new(), "within the grace");
        let (_, rows) = monitor_rows(&[
            (1, 1.0, false),
            (1 + grace, 1.0, false),
            (2 + grace, 1.0, true),
        ]);
        assert_eq!(rows, ["MON_TARGET_REACHED"]);
        // The machine first: never the monitor's row.
        let (engine, rows) = monitor_rows(&[(1, 0.98, true), (60, 1.0, true)]);
        assert_eq!(rows, Vec::<String>::new());
        assert_eq!(engine.active().len(), 1);
    }

    #[test]
    fn the_machines_target_reached_row_is_the_record_as_a_session_sees_it() {
        // The real path: an information event is never active, so the inputs never list it;
        // the engine knows of it from the row observed (as the live session and the audit feed
        // every row).
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut rows = Vec::new();
        let mut step = |engine: &mut AlarmEngine, s: i64| {
            for event in engine.evaluate(at(s), &target_inputs(1.0, false)) {
                rows.extend(event.monitor_alarm_row().map(|r| r.code));
            }
        };
        step(&mut engine, 1);
        engine.observe(&crate::model::Entry {
            time_utc: at(2),
            elapsed_ms: Some(2000),
            seq: Some(2),
            body: crate::model::EntryBody::Alarm(Alarm {
                code: MACHINE_TARGET_REACHED.into(),
                priority: Priority::Info,
                active: true,
                text: "Target volume processed".into(),
            }),
        });
        for s in 2..40 {
            step(&mut engine, s);
        }
        assert_eq!(rows, Vec::<String>::new(), "recorded once, by the machine");
        assert_eq!(engine.active().len(), 1);
    }
}
