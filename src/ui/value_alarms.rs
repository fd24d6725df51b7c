//! Which of the values on screen are in alarm, and the limits they are compared with: live from
//! the alarm engine's active alarms and settings, in a replay from the recording's alarm rows
//! at the playhead and the limits saved in its metadata.

use crate::alarms::engine::{ActiveAlarm, AlarmSettings, AlarmSource, SAME_CONDITION};
use crate::alarms::limits::SessionLimits;
use crate::analysis::Moment;
use crate::model::Priority;
use crate::recording::meta::LimitsMeta;

/// The priority of the monitor's alarm on each value, while its condition lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValueAlarms {
    pub access: Option<Priority>,
    pub ret: Option<Priority>,
    pub citrate: Option<Priority>,
    pub inlet: Option<Priority>,
}

impl ValueAlarms {
    fn slot(&mut self, source: &AlarmSource) -> Option<&mut Option<Priority>> {
        // The machine's alarm on the same condition as a rule colours the rule's value.
        let same = match source {
            AlarmSource::Machine(code) => SAME_CONDITION
                .iter()
                .find(|(machine, _)| machine == code)
                .map(|(_, rule)| rule),
            _ => None,
        };
        match same.unwrap_or(source) {
            AlarmSource::AccessLow => Some(&mut self.access),
            AlarmSource::ReturnHigh => Some(&mut self.ret),
            AlarmSource::CitrateHigh => Some(&mut self.citrate),
            AlarmSource::InletStopped => Some(&mut self.inlet),
            _ => None,
        }
    }

    fn raise(&mut self, source: &AlarmSource, priority: Priority) {
        if priority == Priority::Info {
            return;
        }
        if let Some(slot) = self.slot(source) {
            *slot = (*slot).max(Some(priority));
        }
    }

    /// Live: the engine's alarms whose condition lasts (a latched alarm whose value is back
    /// within its limit no longer colours the value; the banner keeps it).
    pub fn from_engine(active: &[&ActiveAlarm]) -> ValueAlarms {
        let mut out = ValueAlarms::default();
        for alarm in active.iter().filter(|a| a.condition_ended.is_none()) {
            // One alarm may stand for the machine's and the monitor's on one condition.
            for source in std::iter::once(&alarm.source).chain(&alarm.also) {
                out.raise(source, alarm.priority);
            }
        }
        out
    }

    /// A recorded session: the monitor's alarm rows (`MON_` codes) active at the moment shown.
    pub fn from_recorded(moment: Moment<'_>) -> ValueAlarms {
        let sources = [
            AlarmSource::AccessLow,
            AlarmSource::ReturnHigh,
            AlarmSource::CitrateHigh,
            AlarmSource::InletStopped,
        ];
        let mut out = ValueAlarms::default();
        for alarm in moment.active_alarms() {
            if let Some(source) = sources.iter().find(|s| s.code() == alarm.code) {
                out.raise(source, alarm.priority);
            } else {
                out.raise(&AlarmSource::Machine(alarm.code.clone()), alarm.priority);
            }
        }
        out
    }
}

/// The limits a recording's rules ran with: its metadata's over the defaults.
pub fn recorded_limits(limits: Option<&LimitsMeta>) -> AlarmSettings {
    SessionLimits::from_meta(&AlarmSettings::default(), limits).settings
}

/// An integer with an ASCII minus, as the pressures are written everywhere on screen.
pub fn integer(value: f64) -> String {
    format!("{:.0}", value.round() + 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(source: AlarmSource, priority: Priority, ended: bool) -> ActiveAlarm {
        let t = jiff::Timestamp::UNIX_EPOCH;
        ActiveAlarm {
            source,
            priority,
            text: String::new(),
            raised: t,
            condition_ended: ended.then_some(t),
            acknowledged: false,
            unconfirmed_since: None,
            also: Vec::new(),
        }
    }

    #[test]
    fn only_the_monitors_value_rules_whose_condition_lasts_colour_a_value() {
        let access = alarm(AlarmSource::AccessLow, Priority::High, false);
        let ret = alarm(AlarmSource::ReturnHigh, Priority::High, true);
        let link = alarm(AlarmSource::LinkLost, Priority::Medium, false);
        let citrate = alarm(AlarmSource::CitrateHigh, Priority::Medium, false);
        let got = ValueAlarms::from_engine(&[&access, &ret, &link, &citrate]);
        assert_eq!(
            got,
            ValueAlarms {
                access: Some(Priority::High),
                ret: None,
                citrate: Some(Priority::Medium),
                inlet: None,
            }
        );
    }

    #[test]
    fn a_recordings_limits_come_from_its_metadata_over_the_defaults() {
        let meta = LimitsMeta(serde_json::json!({"access_low": {"limit": -150.0}}));
        let got = recorded_limits(Some(&meta));
        assert!((got.access_low.limit + 150.0).abs() < 1e-9);
        assert!((got.return_high.limit - AlarmSettings::default().return_high.limit).abs() < 1e-9);
        assert_eq!(recorded_limits(None), AlarmSettings::default());
    }

    #[test]
    fn integers_have_no_negative_zero() {
        assert_eq!(integer(-0.4), "0");
        assert_eq!(integer(-199.6), "-200");
        assert_eq!(integer(300.0), "300");
    }

    #[test]
    fn the_machines_alarm_on_a_rules_condition_colours_the_value_too() {
        let mut machine = alarm(
            AlarmSource::Machine("ACCESS_PRESSURE_LOW".into()),
            Priority::High,
            false,
        );
        assert_eq!(
            ValueAlarms::from_engine(&[&machine]).access,
            Some(Priority::High)
        );
        // Shown as one alarm with the monitor's rule beside it.
        machine.also.push(AlarmSource::AccessLow);
        assert_eq!(
            ValueAlarms::from_engine(&[&machine]).access,
            Some(Priority::High)
        );
        let other = alarm(
            AlarmSource::Machine("SPILLOVER".into()),
            Priority::High,
            false,
        );
        assert_eq!(ValueAlarms::from_engine(&[&other]), ValueAlarms::default());
    }
}
