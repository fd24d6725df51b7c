//! Turns decoded sentences into journal entries, and notices what the machine's numbering and
//! volumes say about the link: lost sentences, restarts, resets, a new identity.
//!
//! Pure: the time of receipt is passed in, so tests run on fake time.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::model::{
    Entry, EntryBody, LinkCode, LinkEvent, MachineIdentity, Note, Payload, QUANTITY_COUNT,
    Quantity, Sentence,
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
    last_cumulative: [Option<f64>; QUANTITY_COUNT],
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
            link_down_since: Some((last_row_utc, LinkCode::Lost)),
            seq_before_loss: last_seq,
            ..Journalist::default()
        }
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
        if let Some(last) = self.last_t_ms
            && sentence.t_ms < last
        {
            out.push(machine_entry(EntryBody::Link(LinkEvent::new(
                LinkCode::MachineReset,
                format!(
                    "machine time went back from {:.3} s to {:.3} s: a new procedure",
                    last as f64 / 1000.0,
                    sentence.t_ms as f64 / 1000.0
                ),
            ))));
            self.last_cumulative = [None; QUANTITY_COUNT];
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
            Payload::Sample(sample) => {
                if let Some((quantity, before, now_value)) = self.cumulative_decrease(&sample) {
                    out.push(machine_entry(EntryBody::Link(LinkEvent::new(
                        LinkCode::MachineReset,
                        format!(
                            "{} went back from {before} to {now_value} {}: the machine reset its totals",
                            quantity.key(),
                            quantity.unit()
                        ),
                    ))));
                    self.last_cumulative = [None; QUANTITY_COUNT];
                }
                for (quantity, value) in sample.iter() {
                    if quantity.is_cumulative() {
                        self.last_cumulative[quantity.index()] = Some(value);
                    }
                }
                out.push(machine_entry(EntryBody::Sample(sample)));
            }
        }
        None
    }

    fn cumulative_decrease(&self, sample: &crate::model::Sample) -> Option<(Quantity, f64, f64)> {
        sample.iter().find_map(|(quantity, value)| {
            let before = self.last_cumulative[quantity.index()]?;
            (quantity.is_cumulative() && value < before).then_some((quantity, before, value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MachineState, Sample};
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
                "MACHINE_RESET",
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
}
