//! What the engine says beyond its alarms: which rules are off ("alarm off", IEC 60601-1-8:
//! switched off, or unable to run for want of an input), and what it knows of the machine's own
//! alarms across a link loss.
//!
//! APH/1 has no sentence listing the machine's active alarms: it states each one only when it
//! changes (`APHE` `ON`/`OFF`). After a loss the monitor cannot know what changed meanwhile, so
//! the machine's alarms are unknown until the machine re-announces itself, which is its state
//! sentence (`APHT`), sent with its identity when a listener connects — the same sentence that
//! confirms the state shown. Alarms it re-sends (`ON` or `OFF`) are taken as it says; alarms
//! active before the loss that it does not re-send stay shown as unconfirmed, silent, until it
//! speaks of them or the nurse acknowledges them (docs/stale-data-and-alarm-off.md).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::analysis::{Patient, Target};
use crate::model::{Entry, EntryBody, MachineState, Priority};

use super::{AlarmEngine, AlarmEvent, AlarmInputs, AlarmSource, RuleSettings};

/// A rule that cannot raise its alarm now, and why: switched off, or missing an input. Shown
/// as a persistent "alarm off" indicator (IEC 60601-1-8).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmOff {
    pub source: AlarmSource,
    pub why: String,
}

impl AlarmInputs {
    /// The rules that cannot be evaluated for want of an input from Setup, and what each needs:
    /// the citrate rule (AC per litre of blood volume) and a target in TBV the patient's TBV.
    pub fn unavailable_rules(patient: &Patient, target: Target) -> Vec<(AlarmSource, String)> {
        let mut out = Vec::new();
        if patient.tbv_ml().is_none()
            && let Some(reason) = patient.tbv_unavailable_reason()
        {
            out.push((
                AlarmSource::CitrateHigh,
                format!("needs the TBV, which {reason} (Setup)"),
            ));
        }
        if target.wb_ml(patient.tbv_ml()).is_none()
            && let Some(reason) = patient.tbv_unavailable_reason()
        {
            out.push((
                AlarmSource::TargetReached,
                format!("needs the TBV, which {reason} (Setup)"),
            ));
        }
        out
    }
}

/// Alarm-off status and the machine's alarms across link losses.
impl AlarmEngine {
    /// The configurable rules that cannot raise their alarm now: switched off in the settings,
    /// or unable to run for want of an input (`inputs.unavailable`). In the order of the
    /// settings window.
    pub fn alarms_off(&self, inputs: &AlarmInputs) -> Vec<AlarmOff> {
        let s = &self.settings;
        [
            (AlarmSource::AccessLow, s.access_low),
            (AlarmSource::ReturnHigh, s.return_high),
            (AlarmSource::CitrateHigh, s.citrate_high),
            (AlarmSource::InletStopped, s.inlet_stopped),
            (AlarmSource::NoData, s.no_data),
            (AlarmSource::LinkLost, s.link_lost),
            (AlarmSource::TargetReached, s.target_reached),
        ]
        .into_iter()
        .filter_map(|(source, rule)| {
            // The technical alarms (no data, link lost) cannot be switched off.
            let technical = matches!(source, AlarmSource::NoData | AlarmSource::LinkLost);
            let why = if rule.enabled || technical {
                inputs
                    .unavailable
                    .iter()
                    .find(|(s, _)| *s == source)?
                    .1
                    .clone()
            } else {
                "switched off (Alarm limits)".to_owned()
            };
            Some(AlarmOff { source, why })
        })
        .collect()
    }

    /// Since when the machine's own alarms are unknown (a link loss the machine has not
    /// re-announced itself after), if they are.
    pub fn machine_alarms_unknown_since(&self) -> Option<Timestamp> {
        self.machine_knowledge.unknown_since
    }

    /// Takes in one row of the session as it arrives (live, or read back in order), for what
    /// it says about the machine's own alarms:
    /// - a link loss (`LINK_LOST`, `LINK_SILENT`) makes them unknown, and every machine alarm
    ///   active then unconfirmed;
    /// - a machine alarm sentence (`APHE`, `ON` or `OFF`) re-announces that alarm: it is
    ///   confirmed, or cleared;
    /// - the machine's state sentence (`APHT`) after a loss is its re-announcement (what it
    ///   sends when a listener connects, after its identity and the alarms it has on): from
    ///   then on its alarms are known again. Alarms active before the loss that it did not
    ///   re-announce stay shown as unconfirmed, silent, until it speaks of them or the nurse
    ///   acknowledges them.
    pub fn observe(&mut self, entry: &Entry) {
        let k = &mut self.machine_knowledge;
        match &entry.body {
            EntryBody::Link(link) if link.code.is_loss() => self.machine_link_lost(entry.time_utc),
            EntryBody::Alarm(alarm) if !alarm.code.starts_with("MON_") => {
                if alarm.active && alarm.code == super::MACHINE_TARGET_REACHED {
                    k.target_reached = true;
                }
                k.unconfirmed.remove(&alarm.code);
                k.dismissed.remove(&alarm.code);
                if alarm.active && alarm.priority != Priority::Info {
                    k.active.insert(alarm.code.clone());
                } else {
                    k.active.remove(&alarm.code);
                }
            }
            EntryBody::State(state) => {
                k.unknown_since = None;
                k.ended = *state == MachineState::End;
            }
            _ => {}
        }
    }

    /// The monitor stopped hearing the machine at `since` (a link loss, or a session resumed
    /// after the monitor was down): its alarms are unknown from then, and those active
    /// unconfirmed, until it re-announces itself (see [`AlarmEngine::observe`]).
    /// A machine that has ended its procedure is expected to fall silent or be unplugged: its
    /// alarms are not unknown then.
    pub fn machine_link_lost(&mut self, since: Timestamp) {
        let k = &mut self.machine_knowledge;
        if k.ended {
            return;
        }
        k.unknown_since.get_or_insert(since);
        for code in &k.active {
            k.unconfirmed.entry(code.clone()).or_insert(since);
        }
    }

    pub(super) fn dismiss_unconfirmed(&mut self) {
        let k = &mut self.machine_knowledge;
        let unconfirmed = std::mem::take(&mut k.unconfirmed);
        k.dismissed.extend(unconfirmed.into_keys());
    }

    /// Raises or clears the machine-alarms-unknown alarm: low priority (shown, not sounded;
    /// the link alarm has sounded), neither configurable nor latching.
    pub(super) fn machine_alarms_unknown(&mut self, now: Timestamp, events: &mut Vec<AlarmEvent>) {
        self.apply(
            now,
            AlarmSource::MachineAlarmsUnknown,
            RuleSettings::default(),
            Priority::Low,
            self.machine_knowledge.unknown_since.is_some(),
            "Machine alarms unknown since the link was lost — check the machine's own screen"
                .to_owned(),
            events,
        );
    }
}

/// What the engine knows of the machine's own alarms across link losses.
#[derive(Debug, Clone, Default)]
pub(super) struct MachineKnowledge {
    /// The link was lost at this time and the machine has not re-announced itself since.
    pub(super) unknown_since: Option<Timestamp>,
    /// Machine alarms active at a loss and not re-announced since, with the loss's time.
    pub(super) unconfirmed: BTreeMap<String, Timestamp>,
    /// Unconfirmed alarms the nurse acknowledged: not shown until the machine speaks of them.
    pub(super) dismissed: BTreeSet<String>,
    /// The machine's alarms active by the rows observed (`APHE` `ON` without its `OFF`).
    pub(super) active: BTreeSet<String>,
    /// The machine announced that the target was reached (an information event, never active).
    pub(super) target_reached: bool,
    /// The machine's last state was END: the procedure is over.
    pub(super) ended: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::engine::tests::{at, raised, running};
    use crate::alarms::engine::{ActiveAlarm, AlarmSettings};
    use crate::alarms::stale::STALE_AFTER_S;
    use crate::model::{Alarm, LinkCode, LinkEvent, Sample};
    use crate::recording::meta::PatientMeta;

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

    fn cleared(events: &[AlarmEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                AlarmEvent::Cleared { source, .. } => Some(source.code()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn no_data_and_the_value_rules_change_together_at_the_one_stale_limit() {
        assert_eq!(STALE_AFTER_S, 10.0);
        // Access pressure low for a minute on data just under the stale limit: raised
        // after its 5 s delay, and no no-data alarm.
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut low = running(-300.0);
        low.sample_age_s = Some(STALE_AFTER_S - 0.001);
        engine.evaluate(at(0), &low);
        assert_eq!(
            raised(&engine.evaluate(at(5), &low)),
            ["MON_ACCESS_PRESSURE_LOW"]
        );
        // At the limit exactly the same reading is stale: the value alarm ends and the
        // no-data alarm is raised, in the same evaluation.
        low.sample_age_s = Some(STALE_AFTER_S);
        let events = engine.evaluate(at(6), &low);
        assert_eq!(raised(&events), ["MON_NO_DATA"]);
        assert_eq!(cleared(&events), ["MON_ACCESS_PRESSURE_LOW"]);
        assert_eq!(
            engine.active()[0].text,
            "No data from the machine for over 10 s"
        );
    }

    #[test]
    fn a_negative_sample_age_is_stale_not_fresh() {
        // The wall clock went back: the last sample's age reads -30 s. Nothing is judged
        // on it, and it is reported as no data.
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut back = running(-300.0);
        back.return_mmhg = Some(400.0);
        back.sample_age_s = Some(-30.0);
        assert_eq!(raised(&engine.evaluate(at(0), &back)), ["MON_NO_DATA"]);
        for s in 1..=60 {
            assert!(engine.evaluate(at(s), &back).is_empty(), "at {s} s");
        }
        // An unknown age reaches the engine as infinitely old: the same.
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        back.sample_age_s = Some(crate::alarms::SampleAge::Unknown.as_secs());
        assert_eq!(raised(&engine.evaluate(at(0), &back)), ["MON_NO_DATA"]);
    }

    #[test]
    fn the_no_data_limit_of_saved_settings_is_not_a_second_definition_of_stale() {
        // Settings saved before the limit was fixed may hold 3 s or 30 s: the engine
        // uses the one stale limit whatever they say.
        for saved in [3.0, 30.0] {
            let mut settings = AlarmSettings::default();
            settings.no_data.limit = saved;
            let mut engine = AlarmEngine::new(settings);
            let mut inputs = running(-40.0);
            inputs.sample_age_s = Some(9.9);
            assert!(engine.evaluate(at(0), &inputs).is_empty(), "limit {saved}");
            inputs.sample_age_s = Some(10.0);
            assert_eq!(
                raised(&engine.evaluate(at(1), &inputs)),
                ["MON_NO_DATA"],
                "limit {saved}"
            );
        }
    }

    #[test]
    fn the_technical_alarms_cannot_be_switched_off() {
        // An old settings file with the no-data and link-lost rules switched off.
        let mut settings = AlarmSettings::default();
        settings.no_data.enabled = false;
        settings.link_lost.enabled = false;
        let mut engine = AlarmEngine::new(settings);
        let mut inputs = running(-40.0);
        inputs.sample_age_s = Some(60.0);
        assert_eq!(raised(&engine.evaluate(at(0), &inputs)), ["MON_NO_DATA"]);
        assert!(engine.alarms_off(&inputs).is_empty(), "not shown as off");
        inputs.link_lost = true;
        assert_eq!(raised(&engine.evaluate(at(1), &inputs)), ["MON_LINK_LOST"]);
        inputs.link_lost = false;
        inputs.sample_age_s = Some(0.5);
        inputs.recording_failed = Some("disk full".into());
        assert_eq!(
            raised(&engine.evaluate(at(2), &inputs)),
            ["MON_RECORDING_FAILED"]
        );
        assert_eq!(engine.sounding(at(2)), Some(Priority::High));
    }

    #[test]
    fn every_switched_off_rule_is_named_in_the_order_of_the_settings_window() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let inputs = running(-40.0);
        assert!(engine.alarms_off(&inputs).is_empty(), "all on by default");
        // No data and link lost are technical alarms: never off, whatever the settings say.
        let s = &mut engine.settings;
        for rule in [
            &mut s.target_reached,
            &mut s.access_low,
            &mut s.link_lost,
            &mut s.return_high,
            &mut s.citrate_high,
            &mut s.inlet_stopped,
            &mut s.no_data,
        ] {
            rule.enabled = false;
        }
        let names: Vec<String> = engine
            .alarms_off(&inputs)
            .iter()
            .map(|off| off.source.rule_name())
            .collect();
        assert_eq!(
            names,
            [
                "Access pressure low",
                "Return pressure high",
                "Citrate rate high",
                "Inlet stopped",
                "Target reached",
            ]
        );
    }

    fn patient(weight_kg: Option<f64>) -> Patient {
        Patient::from_meta(Some(&PatientMeta {
            weight_kg: weight_kg.map(Into::into),
            ..PatientMeta::default()
        }))
    }

    #[test]
    fn a_rule_missing_an_input_from_setup_is_shown_off_with_what_it_needs() {
        // No patient at all, target in TBV: citrate (per litre of TBV) and the target both
        // need the TBV.
        let nobody = AlarmInputs::unavailable_rules(&patient(None), Target::Tbv(2.5));
        assert_eq!(
            nobody,
            [
                (
                    AlarmSource::CitrateHigh,
                    "needs the TBV, which needs a valid sex, height, weight (Setup)".to_owned()
                ),
                (
                    AlarmSource::TargetReached,
                    "needs the TBV, which needs a valid sex, height, weight (Setup)".to_owned()
                ),
            ]
        );
        // A weight alone gives no TBV: the citrate rule still cannot run.
        let weighed = AlarmInputs::unavailable_rules(&patient(Some(70.0)), Target::WbLitres(10.0));
        assert_eq!(weighed.len(), 1, "{weighed:?}");
        assert_eq!(weighed[0].0, AlarmSource::CitrateHigh);
        // A whole adult and a target in litres: every rule can run.
        let adult = Patient::from_meta(Some(&PatientMeta {
            weight_kg: Some(70.0.into()),
            height_cm: Some(175.0.into()),
            sex: Some("male".into()),
            ..PatientMeta::default()
        }));
        let everyone = AlarmInputs::unavailable_rules(&adult, Target::WbLitres(10.0));
        assert!(everyone.is_empty(), "{everyone:?}");
        // The engine shows them off while they lack it; switched off says so instead.
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        inputs.citrate = None;
        inputs.unavailable = nobody;
        let off = engine.alarms_off(&inputs);
        assert_eq!(
            off.iter().map(|o| o.why.as_str()).collect::<Vec<_>>(),
            [
                "needs the TBV, which needs a valid sex, height, weight (Setup)",
                "needs the TBV, which needs a valid sex, height, weight (Setup)"
            ]
        );
        engine.settings.citrate_high.enabled = false;
        assert_eq!(
            engine.alarms_off(&inputs)[0],
            AlarmOff {
                source: AlarmSource::CitrateHigh,
                why: "switched off (Alarm limits)".into()
            }
        );
    }

    fn row(s: i64, body: EntryBody) -> Entry {
        Entry {
            time_utc: at(s),
            elapsed_ms: Some(s as u64 * 1000),
            seq: None,
            body,
        }
    }

    fn link(s: i64, code: LinkCode) -> Entry {
        row(s, EntryBody::Link(LinkEvent::new(code, String::new())))
    }

    fn aphe(s: i64, code: &str, active: bool) -> Entry {
        row(
            s,
            EntryBody::Alarm(Alarm {
                code: code.into(),
                priority: Priority::High,
                active,
                text: if active {
                    format!("{code} text")
                } else {
                    String::new()
                },
            }),
        )
    }

    fn shown(engine: &AlarmEngine, code: &str) -> Option<ActiveAlarm> {
        engine
            .active()
            .into_iter()
            .find(|a| a.source.code() == code)
            .cloned()
    }

    #[test]
    fn after_a_link_loss_the_machines_alarms_are_unknown_until_it_re_announces_itself() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        // Air detected at 0 s: shown and sounding.
        engine.observe(&aphe(0, "AIR_DETECTED", true));
        inputs.machine = vec![machine("AIR_DETECTED", Priority::High)];
        engine.evaluate(at(0), &inputs);
        assert_eq!(engine.sounding(at(0)), Some(Priority::High));
        assert_eq!(engine.machine_alarms_unknown_since(), None);

        // The cable is pulled at 10 s.
        engine.observe(&link(10, LinkCode::Lost));
        inputs.link_lost = true;
        let events = engine.evaluate(at(10), &inputs);
        assert_eq!(
            raised(&events),
            ["MON_LINK_LOST", "MON_MACHINE_ALARMS_UNKNOWN"]
        );
        assert_eq!(engine.machine_alarms_unknown_since(), Some(at(10)));
        let unknown = shown(&engine, "MON_MACHINE_ALARMS_UNKNOWN").unwrap();
        assert_eq!(unknown.priority, Priority::Low);
        assert_eq!(
            unknown.text,
            "Machine alarms unknown since the link was lost — check the machine's own screen"
        );
        // The air alarm may have cleared unseen: shown, unconfirmed, silent. The link
        // alarm sounds.
        let air = shown(&engine, "AIR_DETECTED").unwrap();
        assert_eq!(air.unconfirmed_since, Some(at(10)));
        assert_eq!(engine.sounding(at(10)), Some(Priority::Medium));

        // The link is back at 30 s and samples arrive: still unknown.
        engine.observe(&link(30, LinkCode::Restored));
        engine.observe(&row(30, EntryBody::Sample(Sample::default())));
        inputs.link_lost = false;
        let events = engine.evaluate(at(30), &inputs);
        assert_eq!(cleared(&events), ["MON_LINK_LOST"]);
        assert!(shown(&engine, "MON_MACHINE_ALARMS_UNKNOWN").is_some());
        assert_eq!(engine.machine_alarms_unknown_since(), Some(at(10)));

        // The machine states its state: it has re-announced itself. It did not
        // re-announce the air alarm, which stays unconfirmed and silent.
        engine.observe(&row(31, EntryBody::State(MachineState::Run)));
        let events = engine.evaluate(at(31), &inputs);
        assert_eq!(cleared(&events), ["MON_MACHINE_ALARMS_UNKNOWN"]);
        assert_eq!(engine.machine_alarms_unknown_since(), None);
        assert_eq!(
            shown(&engine, "AIR_DETECTED").unwrap().unconfirmed_since,
            Some(at(10))
        );
        assert_eq!(engine.sounding(at(31)), None);

        // The nurse checks the machine and acknowledges: gone, though no OFF came.
        engine.acknowledge(at(40), "RN");
        engine.evaluate(at(41), &inputs);
        assert!(engine.active().is_empty(), "{:?}", engine.active());

        // The machine speaks of it again (still on): shown, confirmed, sounding.
        engine.observe(&aphe(50, "AIR_DETECTED", true));
        engine.evaluate(at(50), &inputs);
        let air = shown(&engine, "AIR_DETECTED").unwrap();
        assert_eq!(air.unconfirmed_since, None);
        assert_eq!(engine.sounding(at(200)), Some(Priority::High));
    }

    #[test]
    fn after_the_procedure_ended_a_silent_or_unplugged_machine_is_no_alarm() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let inputs = running(-40.0);
        engine.observe(&row(0, EntryBody::State(MachineState::Run)));
        engine.observe(&row(100, EntryBody::State(MachineState::End)));
        // Unplugged after the end, and a session resumed after it: neither makes the
        // machine's alarms unknown.
        engine.observe(&link(110, LinkCode::Lost));
        engine.machine_link_lost(at(120));
        assert!(engine.evaluate(at(130), &inputs).is_empty());
        assert_eq!(engine.machine_alarms_unknown_since(), None);
        // A machine that starts again is watched again.
        engine.observe(&row(200, EntryBody::State(MachineState::Prime)));
        engine.observe(&link(210, LinkCode::Lost));
        engine.evaluate(at(210), &inputs);
        assert!(shown(&engine, "MON_MACHINE_ALARMS_UNKNOWN").is_some());
    }

    #[test]
    fn alarms_the_machine_re_announces_are_confirmed_or_cleared() {
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        let mut inputs = running(-40.0);
        engine.observe(&aphe(0, "AIR_DETECTED", true));
        engine.observe(&aphe(1, "SPILLOVER", true));
        inputs.machine = vec![
            machine("AIR_DETECTED", Priority::High),
            machine("SPILLOVER", Priority::High),
        ];
        engine.evaluate(at(1), &inputs);
        // Silent line from 10 s (a loss too); at 20 s the machine introduces itself:
        // spillover still on, air cleared while the line was quiet, then its state.
        engine.observe(&link(10, LinkCode::Silent));
        engine.evaluate(at(10), &inputs);
        assert!(shown(&engine, "MON_MACHINE_ALARMS_UNKNOWN").is_some());
        engine.observe(&link(20, LinkCode::Restored));
        engine.observe(&aphe(20, "SPILLOVER", true));
        engine.observe(&aphe(20, "AIR_DETECTED", false));
        engine.observe(&row(20, EntryBody::State(MachineState::Run)));
        inputs.machine = vec![machine("SPILLOVER", Priority::High)];
        engine.evaluate(at(20), &inputs);
        assert_eq!(codes(&engine), ["SPILLOVER"]);
        assert_eq!(shown(&engine, "SPILLOVER").unwrap().unconfirmed_since, None);
        assert_eq!(engine.sounding(at(20)), Some(Priority::High));
    }

    #[test]
    fn a_resumed_session_starts_with_the_machines_alarms_unknown() {
        // The monitor was down: the rows read back say air was on at the last row.
        let mut engine = AlarmEngine::new(AlarmSettings::default());
        engine.observe(&aphe(0, "AIR_DETECTED", true));
        engine.machine_link_lost(at(5));
        let mut inputs = running(-40.0);
        inputs.machine = vec![machine("AIR_DETECTED", Priority::High)];
        assert_eq!(
            raised(&engine.evaluate(at(60), &inputs)),
            ["MON_MACHINE_ALARMS_UNKNOWN"]
        );
        assert_eq!(
            shown(&engine, "AIR_DETECTED").unwrap().unconfirmed_since,
            Some(at(5))
        );
        // The monitor's own alarm rows coming back through the channel say nothing of
        // the machine's alarms.
        engine.observe(&aphe(61, "MON_NO_DATA", false));
        assert!(
            shown(&engine, "AIR_DETECTED")
                .unwrap()
                .unconfirmed_since
                .is_some()
        );
    }
}
