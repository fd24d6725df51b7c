//! The monitor's own technical alarms, which no setting switches off: the recording failing
//! (data at risk) and the alarms not being heard (no alarm sound).

use jiff::Timestamp;

use super::{AlarmEngine, AlarmEvent, AlarmInputs, AlarmSource, RuleSettings};
use crate::model::Priority;

impl AlarmEngine {
    pub(super) fn technical(
        &mut self,
        now: Timestamp,
        inputs: &AlarmInputs,
        events: &mut Vec<AlarmEvent>,
    ) {
        // The recording failing is always high priority and latching: data is at risk.
        let failing = inputs.recording_failed.clone();
        self.apply(
            now,
            AlarmSource::RecordingFailed,
            RuleSettings {
                latching: true,
                ..RuleSettings::default()
            },
            Priority::High,
            failing.is_some(),
            format!("Recording failed: {}", failing.unwrap_or_default()),
            events,
        );
        // No alarm sound is a medium technical alarm: the screen must say that the sounds the
        // nurse relies on will not come. It cannot be switched off; it clears with the device.
        let silent = inputs.alarm_sound_failed.clone();
        self.apply(
            now,
            AlarmSource::NoAlarmSound,
            RuleSettings::default(),
            Priority::Medium,
            silent.is_some(),
            format!("No alarm sound: {}", silent.unwrap_or_default()),
            events,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, raised, running};
    use super::*;
    use crate::alarms::engine::AlarmSettings;

    #[test]
    fn no_alarm_sound_is_a_medium_technical_alarm_recorded_until_the_sound_is_back() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        assert!(raised(&engine.evaluate(at(0), &inputs)).is_empty());
        inputs.alarm_sound_failed = Some("no audio output device".into());
        let events = engine.evaluate(at(1), &inputs);
        assert_eq!(raised(&events), ["MON_NO_ALARM_SOUND"]);
        let shown = engine.active();
        let alarm = shown
            .iter()
            .find(|a| a.source == AlarmSource::NoAlarmSound)
            .unwrap();
        assert_eq!(alarm.priority, Priority::Medium);
        assert_eq!(alarm.text, "No alarm sound: no audio output device");
        // Recorded as the monitor's own alarm row, like the others.
        assert!(events.iter().any(|e| e.monitor_alarm_row().is_some()));
        inputs.alarm_sound_failed = None;
        let events = engine.evaluate(at(2), &inputs);
        assert!(events.iter().any(|e| matches!(
            e,
            AlarmEvent::Cleared {
                source: AlarmSource::NoAlarmSound,
                ..
            }
        )));
        assert!(engine.active().is_empty());
    }
}
