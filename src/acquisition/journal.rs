//! Turns decoded sentences into journal entries, and notices what the machine's numbering and
//! volumes say about the link: lost sentences, restarts, resets, a new identity.
//!
//! What a counter's fall means is decided by the protocol's counter rule,
//! [`crate::analysis::counters`], the same one the timeline totals by: a counter that restarted
//! alone is recorded as a `COUNTER_RESTART` row naming it, a machine restart as a
//! `MACHINE_RESET` row, and jitter (a fall of 1 mL or less) as nothing: the value is recorded
//! as sent.
//!
//! Pure: the time of receipt is passed in, so tests run on fake time.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::analysis::counters::{Change, Counters, MachineRestart, Verdict};
use crate::model::{
    Entry, EntryBody, LinkCode, LinkEvent, MachineIdentity, Note, Payload, Sample, Sentence,
};
use crate::protocol::{Decoded, SeqCheck};
use crate::recording::format::sequence_gap_text;

/// What a decoded sentence produced, beyond its rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// The machine identified itself differently from before (or for the first time).
    NewIdentity(MachineIdentity),
}

/// Stateful converter from decoder output to journal entries. One per session.
#[derive(Debug, Default, Clone)]
pub struct Journalist {
    last_t_ms: Option<u64>,
    last_seq: Option<u32>,
    /// The machine's counters, judged by the protocol's rule.
    counters: Counters,
    identity: Option<MachineIdentity>,
    /// The link went down or silent and no sentence has arrived since.
    link_down_since: Option<(Timestamp, LinkCode)>,
    seq_before_loss: Option<u32>,
}

impl Journalist {
    pub fn new() -> Journalist {
        Journalist::default()
    }

    /// Continues a session whose last recorded row is known (resuming a recording after the
    /// monitor stopped): the first sentence is recorded as the link restored, with the outage
    /// since `last_row_utc` and the sentences the machine sent meanwhile.
    pub fn resuming(
        last_t_ms: Option<u64>,
        last_seq: Option<u32>,
        last_row_utc: Timestamp,
    ) -> Journalist {
        Journalist {
            last_t_ms,
            last_seq,
            counters: Counters::resuming(last_t_ms, &Sample::default()),
            link_down_since: Some((last_row_utc, LinkCode::Lost)),
            seq_before_loss: last_seq,
            ..Journalist::default()
        }
    }

    /// Takes the counters' last values from the resumed recording (its last samples), so that
    /// a counter that restarted while the monitor was down is recorded as such.
    #[must_use]
    pub fn with_last_counters(mut self, last_values: &Sample) -> Journalist {
        self.counters = Counters::resuming(self.last_t_ms, last_values);
        self
    }

    /// The machine's last known procedure time.
    pub fn last_t_ms(&self) -> Option<u64> {
        self.last_t_ms
    }

    /// The machine identity seen last.
    pub fn identity(&self) -> Option<&MachineIdentity> {
        self.identity.as_ref()
    }

    /// Whether the link is down or silent (and no sentence has arrived since).
    pub fn link_down(&self) -> bool {
        self.link_down_since.is_some()
    }

    /// A `link` row stamped at `now`, placed at the machine's last known time.
    pub fn link_entry(&self, now: Timestamp, event: LinkEvent) -> Entry {
        Entry {
            time_utc: now,
            elapsed_ms: self.last_t_ms,
            seq: None,
            body: EntryBody::Link(event),
        }
    }

    /// A nurse's note stamped at `now`, placed at the machine's last known time.
    pub fn note_entry(&self, now: Timestamp, note: Note) -> Entry {
        Entry {
            time_utc: now,
            elapsed_ms: self.last_t_ms,
            seq: None,
            body: EntryBody::Note(note),
        }
    }

    /// A monitor-raised alarm stamped at `now`, placed at the machine's last known time.
    pub fn alarm_entry(&self, now: Timestamp, alarm: crate::model::Alarm) -> Entry {
        Entry {
            time_utc: now,
            elapsed_ms: self.last_t_ms,
            seq: None,
            body: EntryBody::Alarm(alarm),
        }
    }

    /// Records that the link was lost or went silent; returns the row to write, unless the link
    /// is already down.
    pub fn link_lost(&mut self, now: Timestamp, code: LinkCode, text: String) -> Option<Entry> {
        if self.link_down_since.is_some() {
            return None;
        }
        self.link_down_since = Some((now, code));
        self.seq_before_loss = self.last_seq;
        Some(self.link_entry(now, LinkEvent::new(code, text)))
    }

    /// Converts one decoder result received at `now` into rows (appended to `out`).
    pub fn on_decoded(
        &mut self,
        decoded: Decoded,
        now: Timestamp,
        out: &mut Vec<Entry>,
    ) -> Option<Observed> {
        let Decoded::Sentence { sentence, seq } = decoded else {
            return None;
        };
        self.on_sentence(sentence, seq, now, out)
    }

    fn on_sentence(
        &mut self,
        sentence: Sentence,
        seq_check: SeqCheck,
        now: Timestamp,
        out: &mut Vec<Entry>,
    ) -> Option<Observed> {
        if let Some((since, _)) = self.link_down_since.take() {
            let outage = now.duration_since(since);
            let mut text = format!("data again after {:.1} s", outage.as_secs_f64());
            if let Some(before) = self.seq_before_loss.take()
                && sentence.seq > before
            {
                let missed = sentence.seq - before - 1;
                let _ = write!(text, "; {missed} sentences sent while disconnected");
            }
            let mut entry = self.link_entry(now, LinkEvent::new(LinkCode::Restored, text));
            entry.elapsed_ms = Some(sentence.t_ms);
            out.push(entry);
        }
        let machine_entry = |body| Entry {
            time_utc: now,
            elapsed_ms: Some(sentence.t_ms),
            seq: Some(sentence.seq),
            body,
        };
        match seq_check {
            SeqCheck::Gap(lost) => out.push(machine_entry(EntryBody::Link(LinkEvent {
                code: LinkCode::SequenceGap,
                lost: u64::from(lost),
                text: sequence_gap_text(u64::from(lost), sentence.seq),
            }))),
            SeqCheck::Restart => out.push(machine_entry(EntryBody::Link(LinkEvent::new(
                LinkCode::SequenceRestart,
                format!(
                    "sequence restarted at {} (was {})",
                    sentence.seq,
                    self.last_seq.map_or_else(String::new, |s| s.to_string())
                ),
            )))),
            SeqCheck::First | SeqCheck::InOrder => {}
        }
        self.last_seq = Some(sentence.seq);
        let sample = match &sentence.payload {
            Payload::Sample(sample) => Some(sample),
            _ => None,
        };
        let verdict = self.counters.observe(sentence.t_ms, sample);
        for event in counter_events(&verdict, sample) {
            out.push(machine_entry(EntryBody::Link(event)));
        }
        self.last_t_ms = Some(sentence.t_ms);
        match sentence.payload {
            Payload::Identity(identity) => {
                if self.identity.as_ref() == Some(&identity) {
                    return None;
                }
                out.push(machine_entry(EntryBody::Link(LinkEvent::new(
                    LinkCode::Identity,
                    format!(
                        "{} {} software {} protocol {}",
                        identity.model,
                        identity.serial_no,
                        identity.software_version,
                        identity.protocol
                    ),
                ))));
                self.identity = Some(identity.clone());
                return Some(Observed::NewIdentity(identity));
            }
            Payload::State(state) => out.push(machine_entry(EntryBody::State(state))),
            Payload::Alarm(alarm) => out.push(machine_entry(EntryBody::Alarm(alarm))),
            Payload::Sample(sample) => out.push(machine_entry(EntryBody::Sample(sample))),
        }
        None
    }
}

/// The `link` rows a verdict of the counter rule is recorded as: the machine's restart, or each
/// counter that restarted alone. Jitter is recorded as nothing but the sample itself.
fn counter_events(verdict: &Verdict, sample: Option<&Sample>) -> Vec<LinkEvent> {
    let restarted = || {
        verdict.changes().filter_map(|(q, change)| match change {
            Change::Restarted { from } => Some((q, from, sample?.get(q)?)),
            Change::First | Change::Counted | Change::Jitter { .. } => None,
        })
    };
    match verdict.machine_restart {
        Some(MachineRestart::TimeWentBack { from_ms, to_ms }) => vec![LinkEvent::new(
            LinkCode::MachineReset,
            format!(
                "machine time went back from {:.3} s to {:.3} s: a new procedure",
                from_ms as f64 / 1000.0,
                to_ms as f64 / 1000.0
            ),
        )],
        Some(MachineRestart::CountersFell) => {
            let falls: Vec<String> = restarted()
                .filter(|&(_, from, to)| to < from)
                .map(|(q, from, to)| format!("{} {from} to {to} {}", q.key(), q.unit()))
                .collect();
            vec![LinkEvent::new(
                LinkCode::MachineReset,
                format!(
                    "every counter fell at once ({}): the machine restarted its totals",
                    falls.join(", ")
                ),
            )]
        }
        None => restarted()
            .map(|(q, from, to)| {
                LinkEvent::new(
                    LinkCode::CounterRestart,
                    format!(
                        "{} fell from {from} to {to} {}: it restarted alone; its total goes on \
                         from what it had reached",
                        q.key(),
                        q.unit()
                    ),
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MachineState, Quantity};
    use crate::protocol::{Decoder, encode};

    fn t(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    fn run(journalist: &mut Journalist, sentences: &[(u32, u64, Payload)]) -> Vec<Entry> {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        for (i, (seq, t_ms, payload)) in sentences.iter().enumerate() {
            let wire = encode(&Sentence {
                seq: *seq,
                t_ms: *t_ms,
                payload: payload.clone(),
                unknown_keys: 0,
            });
            decoder.feed(wire.as_bytes(), |d| {
                journalist.on_decoded(d, t(i64::try_from(i).unwrap()), &mut out);
            });
        }
        out
    }

    fn codes(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match &e.body {
                EntryBody::Link(l) => l.code.as_str().to_owned(),
                other => other.kind().to_owned(),
            })
            .collect()
    }

    fn inlet(ml: f64) -> Payload {
        Payload::Sample(Sample::default().with(Quantity::InletMl, ml))
    }

    #[test]
    fn continuity_events_become_link_rows_before_the_data() {
        let identity = Payload::Identity(MachineIdentity {
            model: "M".into(),
            serial_no: "S".into(),
            software_version: "1".into(),
            protocol: "APH/1".into(),
        });
        let mut j = Journalist::new();
        let out = run(
            &mut j,
            &[
                (0, 0, identity.clone()),
                (1, 0, Payload::State(MachineState::Run)),
                (2, 1000, inlet(10.0)),
                (5, 4000, inlet(40.0)),
                (6, 5000, identity.clone()),
                (7, 6000, inlet(5.0)),
                (2, 7000, inlet(6.0)),
                (3, 100, inlet(0.0)),
            ],
        );
        assert_eq!(
            codes(&out),
            [
                "MACHINE_IDENTITY",
                "state",
                "sample",
                "SEQ_GAP",
                "sample",
                // inlet_ml fell from 40 to 5 with the machine's time going on: that counter
                // restarted alone (the only one the samples carry).
                "COUNTER_RESTART",
                "sample",
                "SEQ_RESTART",
                "sample",
                "MACHINE_RESET",
                "sample"
            ]
        );
        let EntryBody::Link(gap) = &out[3].body else {
            panic!()
        };
        assert_eq!(gap.lost, 2);
        assert_eq!(out[3].seq, Some(5));
    }

    #[test]
    fn a_restored_link_says_how_long_it_was_down_and_what_was_missed() {
        let mut j = Journalist::new();
        run(&mut j, &[(10, 1000, inlet(1.0))]);
        let lost = j.link_lost(t(100), LinkCode::Lost, "cable".into()).unwrap();
        assert_eq!(lost.elapsed_ms, Some(1000));
        assert!(
            j.link_lost(t(101), LinkCode::Silent, "again".into())
                .is_none()
        );
        let mut out = Vec::new();
        let wire = encode(&Sentence {
            seq: 15,
            t_ms: 6000,
            payload: inlet(2.0),
            unknown_keys: 0,
        });
        let mut decoder = Decoder::new();
        decoder.feed(wire.as_bytes(), |d| {
            j.on_decoded(d, t(103), &mut out);
        });
        assert_eq!(codes(&out), ["LINK_RESTORED", "sample"]);
        let EntryBody::Link(restored) = &out[0].body else {
            panic!()
        };
        assert_eq!(
            restored.text,
            "data again after 3.0 s; 4 sentences sent while disconnected"
        );
        assert!(!j.link_down());
    }

    fn counters(values: &[(Quantity, f64)]) -> Payload {
        Payload::Sample(
            values
                .iter()
                .fold(Sample::default(), |s, &(q, v)| s.with(q, v)),
        )
    }

    fn link_texts(entries: &[Entry]) -> Vec<(String, String)> {
        entries
            .iter()
            .filter_map(|e| match &e.body {
                EntryBody::Link(l) => Some((l.code.as_str().to_owned(), l.text.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_bag_change_is_a_counter_restart_and_a_dip_is_no_event() {
        use Quantity::{AcMl, CollectMl, InletMl};
        let mut j = Journalist::new();
        let out = run(
            &mut j,
            &[
                (
                    0,
                    140_000,
                    counters(&[(InletMl, 140.0), (AcMl, 11.7), (CollectMl, 2.3)]),
                ),
                // The bag is changed.
                (
                    1,
                    150_000,
                    counters(&[(InletMl, 150.0), (AcMl, 12.5), (CollectMl, 0.0)]),
                ),
                (
                    2,
                    190_000,
                    counters(&[(InletMl, 190.0), (AcMl, 15.8), (CollectMl, 0.7)]),
                ),
                // AC reads 0.1 mL less: jitter, recorded as sent.
                (
                    3,
                    200_000,
                    counters(&[(InletMl, 200.0), (AcMl, 15.7), (CollectMl, 0.8)]),
                ),
                // AC falls by exactly 1 mL: still jitter.
                (
                    4,
                    210_000,
                    counters(&[(InletMl, 210.0), (AcMl, 14.7), (CollectMl, 1.0)]),
                ),
            ],
        );
        assert_eq!(
            codes(&out),
            [
                "sample",
                "COUNTER_RESTART",
                "sample",
                "sample",
                "sample",
                "sample"
            ]
        );
        assert_eq!(
            link_texts(&out),
            [(
                "COUNTER_RESTART".to_owned(),
                "collect_ml fell from 2.3 to 0 mL: it restarted alone; its total goes on from \
                 what it had reached"
                    .to_owned()
            )]
        );
        // The link row sits at the sample's time and sequence number.
        assert_eq!((out[1].elapsed_ms, out[1].seq), (Some(150_000), Some(1)));
        // The dip is in the recording as the machine sent it.
        let EntryBody::Sample(dipped) = &out[4].body else {
            panic!()
        };
        assert_eq!(dipped.get(AcMl), Some(15.7));
    }

    #[test]
    fn every_counter_falling_at_once_or_time_going_back_is_a_machine_reset() {
        use Quantity::{AcMl, InletMl};
        let mut j = Journalist::new();
        let out = run(
            &mut j,
            &[
                (0, 100_000, counters(&[(InletMl, 140.0), (AcMl, 11.7)])),
                // Both counters fall to nothing while the machine's time goes on.
                (1, 101_000, counters(&[(InletMl, 0.5), (AcMl, 0.0)])),
                (2, 102_000, counters(&[(InletMl, 1.5), (AcMl, 0.1)])),
                // The machine's time goes back (a state change is the first sentence).
                (3, 1_000, Payload::State(MachineState::Run)),
                (4, 2_000, counters(&[(InletMl, 1.0), (AcMl, 0.1)])),
            ],
        );
        assert_eq!(
            link_texts(&out),
            [
                (
                    "MACHINE_RESET".to_owned(),
                    "every counter fell at once (inlet_ml 140 to 0.5 mL, ac_ml 11.7 to 0 mL): \
                     the machine restarted its totals"
                        .to_owned()
                ),
                (
                    "MACHINE_RESET".to_owned(),
                    "machine time went back from 102.000 s to 1.000 s: a new procedure".to_owned()
                ),
            ]
        );
        // After a new procedure, the first values are a new count, not a fall: no more rows.
        assert_eq!(
            codes(&out).iter().filter(|c| *c == "MACHINE_RESET").count(),
            2
        );
        assert_eq!(codes(&out).len(), 7);
    }

    #[test]
    fn a_resumed_journal_judges_the_first_sample_against_the_recording() {
        use Quantity::{CollectMl, InletMl};
        let recorded = Sample::default().with(InletMl, 140.0).with(CollectMl, 2.3);
        let mut j =
            Journalist::resuming(Some(140_000), Some(9), t(0)).with_last_counters(&recorded);
        let out = run(
            &mut j,
            &[(10, 150_000, counters(&[(InletMl, 150.0), (CollectMl, 0.0)]))],
        );
        assert_eq!(codes(&out), ["LINK_RESTORED", "COUNTER_RESTART", "sample"]);
        // Without the recorded values the first sample starts the counts: nothing to say.
        let mut j = Journalist::resuming(Some(140_000), Some(9), t(0));
        let out = run(
            &mut j,
            &[(10, 150_000, counters(&[(InletMl, 150.0), (CollectMl, 0.0)]))],
        );
        assert_eq!(codes(&out), ["LINK_RESTORED", "sample"]);
    }
}
