//! The alarm review: a record of every alarm the engine showed during the session, the
//! machine's and the monitor's alike — raised when, cleared when (its condition ended),
//! acknowledged when and by whom. A new alarm condition (one that ended and came back) is a
//! new record. What the screen's alarm review list shows; the recording keeps its own journal
//! (the alarm rows and `ALARM_ACK` notes).

use jiff::Timestamp;

use crate::model::Priority;

use super::{AlarmEngine, AlarmSource};

/// Who acknowledged an alarm, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub at: Timestamp,
    /// The operator named in the session's details, or "at this monitor".
    pub by: String,
}

/// One alarm of the session, from its raise to its end and acknowledgement.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRecord {
    pub source: AlarmSource,
    pub priority: Priority,
    /// Its text when raised.
    pub text: String,
    pub raised: Timestamp,
    /// When its condition ended; `None` while it lasts (or if its end is unknown).
    pub cleared: Option<Timestamp>,
    /// The first acknowledgement while it was shown.
    pub acknowledged: Option<Acknowledgement>,
    /// Its condition ended before anyone acknowledged it, and it stayed shown (latched, silent)
    /// until someone did: every high-priority alarm, and the rules set to latch.
    pub latched: bool,
    /// A machine alarm not confirmed since a link loss, dismissed by acknowledgement: whether
    /// and when it ended is not known.
    pub end_unknown: bool,
}

impl AlarmRecord {
    /// Its condition ended on its own and nobody has acknowledged it: still shown, latched.
    pub fn cleared_not_acknowledged(&self) -> bool {
        self.latched && self.acknowledged.is_none()
    }
}

/// The review kept by the engine.
impl AlarmEngine {
    /// Every alarm of the session, in the order raised.
    pub fn review(&self) -> &[AlarmRecord] {
        &self.records
    }

    pub(super) fn record_raised(
        &mut self,
        now: Timestamp,
        source: &AlarmSource,
        priority: Priority,
        text: &str,
    ) {
        self.records.push(AlarmRecord {
            source: source.clone(),
            priority,
            text: text.to_owned(),
            raised: now,
            cleared: None,
            acknowledged: None,
            latched: false,
            end_unknown: false,
        });
    }

    /// The latest record of `source` whose condition has not ended.
    fn open_record(&mut self, source: &AlarmSource) -> Option<&mut AlarmRecord> {
        self.records
            .iter_mut()
            .rev()
            .find(|r| &r.source == source)
            .filter(|r| r.cleared.is_none() && !r.end_unknown)
    }

    /// The condition of `source` ended at `now`; `latched`: the alarm stays shown until
    /// acknowledged.
    pub(super) fn record_cleared(&mut self, now: Timestamp, source: &AlarmSource, latched: bool) {
        if let Some(record) = self.open_record(source) {
            record.cleared = Some(now);
            record.latched = latched;
        }
    }

    /// A machine alarm left unconfirmed by a link loss was dismissed by acknowledgement.
    pub(super) fn record_end_unknown(&mut self, source: &AlarmSource) {
        if let Some(record) = self.open_record(source) {
            record.end_unknown = true;
        }
    }

    /// The alarms of `sources` (those shown) acknowledged at `now` by `by`: the latest record
    /// of each, if not acknowledged before.
    pub(super) fn record_acknowledged(
        &mut self,
        now: Timestamp,
        by: &str,
        sources: &[AlarmSource],
    ) {
        for source in sources {
            if let Some(record) = self.records.iter_mut().rev().find(|r| &r.source == source)
                && record.acknowledged.is_none()
            {
                record.acknowledged = Some(Acknowledgement {
                    at: now,
                    by: by.to_owned(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::alarms::engine::tests::{at, running};
    use crate::alarms::engine::{AlarmEngine, AlarmSettings, AlarmSource};
    use crate::model::{Alarm, Priority};

    fn air(priority: Priority) -> Alarm {
        Alarm {
            code: "AIR_DETECTED".into(),
            priority,
            active: true,
            text: "Air in return line".into(),
        }
    }

    #[test]
    fn a_high_machine_alarm_that_clears_itself_stays_shown_until_acknowledged() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        inputs.machine = vec![air(Priority::High)];
        engine.evaluate(at(0), &inputs);
        assert_eq!(engine.sounding(at(0)), Some(Priority::High));
        // The machine clears it 8 s later; nobody has acknowledged it.
        inputs.machine.clear();
        engine.evaluate(at(8), &inputs);
        let shown = engine.active();
        assert_eq!(shown.len(), 1, "latched");
        assert_eq!(shown[0].condition_ended, Some(at(8)));
        assert_eq!(engine.sounding(at(8)), None, "latched, not sounding");
        let record = &engine.review()[0];
        assert_eq!(record.source, AlarmSource::Machine("AIR_DETECTED".into()));
        assert_eq!((record.raised, record.cleared), (at(0), Some(at(8))));
        assert!(record.cleared_not_acknowledged());
        // Still there a minute later, until someone acknowledges it.
        engine.evaluate(at(68), &inputs);
        assert_eq!(engine.active().len(), 1);
        engine.acknowledge(at(70), "RN Smith");
        assert!(engine.active().is_empty());
        let record = &engine.review()[0];
        assert!(!record.cleared_not_acknowledged());
        let ack = record.acknowledged.as_ref().unwrap();
        assert_eq!((ack.at, ack.by.as_str()), (at(70), "RN Smith"));
    }

    #[test]
    fn a_high_alarm_acknowledged_while_it_lasts_goes_when_it_ends() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        inputs.machine = vec![air(Priority::High)];
        engine.evaluate(at(0), &inputs);
        engine.acknowledge(at(2), "at this monitor");
        assert_eq!(engine.active().len(), 1, "shown while it lasts");
        inputs.machine.clear();
        engine.evaluate(at(5), &inputs);
        assert!(engine.active().is_empty());
        let record = &engine.review()[0];
        assert_eq!(record.cleared, Some(at(5)));
        assert!(!record.latched);
        assert_eq!(record.acknowledged.as_ref().unwrap().by, "at this monitor");
    }

    #[test]
    fn a_latched_alarm_that_comes_back_is_a_new_alarm_in_the_review() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        inputs.machine = vec![air(Priority::High)];
        engine.evaluate(at(0), &inputs);
        inputs.machine.clear();
        engine.evaluate(at(3), &inputs);
        inputs.machine = vec![air(Priority::High)];
        engine.evaluate(at(10), &inputs);
        assert_eq!(
            engine.sounding(at(10)),
            Some(Priority::High),
            "sounds again"
        );
        let shown = engine.active();
        assert_eq!(shown.len(), 1);
        assert_eq!((shown[0].raised, shown[0].condition_ended), (at(10), None));
        let times: Vec<_> = engine
            .review()
            .iter()
            .map(|r| (r.raised, r.cleared, r.latched))
            .collect();
        assert_eq!(times, [(at(0), Some(at(3)), true), (at(10), None, false)]);
        // One acknowledgement covers what is shown: the alarm that came back. The first stays
        // in the review as it ended, never acknowledged.
        engine.acknowledge(at(12), "RN");
        assert!(engine.review()[0].acknowledged.is_none());
        assert_eq!(engine.review()[1].acknowledged.as_ref().unwrap().at, at(12));
    }

    #[test]
    fn the_monitors_alarms_are_reviewed_too_and_a_medium_one_does_not_latch() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        engine.evaluate(at(0), &running(-230.0));
        engine.evaluate(at(5), &running(-230.0));
        engine.evaluate(at(9), &running(-40.0));
        assert!(engine.active().is_empty());
        let record = &engine.review()[0];
        assert_eq!(record.source, AlarmSource::AccessLow);
        assert_eq!(record.priority, Priority::Medium);
        assert_eq!((record.raised, record.cleared), (at(5), Some(at(9))));
        assert!(!record.cleared_not_acknowledged());
    }
}
