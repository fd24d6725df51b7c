//! Fault injection: what a noisy cable and a flaky machine do to the wire.

use crate::model::{Payload, Quantity, Sentence};
use crate::protocol::{encode, encode_body, frame};

use super::rng::Rng;

/// One kind of damage to a sentence on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// A byte changed in transit: the checksum no longer matches.
    Checksum,
    /// The line stops part-way (a cable pulled mid-line); the next `$` cuts it off.
    Truncated,
    /// The sentence never arrives.
    Dropped,
    /// Stray bytes before the sentence; the sentence itself arrives intact.
    Noise,
    /// Junk makes the line longer than 512 bytes.
    Overlong,
    /// A valid checksum over a broken field.
    Malformed,
    /// A valid checksum over an implausible value.
    OutOfRange,
}

impl FaultKind {
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Checksum,
        FaultKind::Truncated,
        FaultKind::Dropped,
        FaultKind::Noise,
        FaultKind::Overlong,
        FaultKind::Malformed,
        FaultKind::OutOfRange,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Checksum => "checksum",
            FaultKind::Truncated => "truncated",
            FaultKind::Dropped => "dropped",
            FaultKind::Noise => "noise",
            FaultKind::Overlong => "overlong",
            FaultKind::Malformed => "malformed",
            FaultKind::OutOfRange => "out of range",
        }
    }
}

/// The bytes to put on the wire for one sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    pub bytes: Vec<u8>,
    /// The fault applied, if any.
    pub fault: Option<FaultKind>,
    /// Whether the sentence arrives intact (no fault, or only noise before it).
    pub intact: bool,
}

/// Applies faults to a given share of sentences, seeded.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    rate: f64,
    rng: Rng,
    counts: [u64; 7],
}

impl FaultInjector {
    /// `rate` is the share of sentences damaged (0 to 1); kinds are chosen evenly.
    pub fn new(rate: f64, seed: u64) -> FaultInjector {
        FaultInjector {
            rate: rate.clamp(0.0, 1.0),
            rng: Rng::new(seed ^ 0x5EED_FA17),
            counts: [0; 7],
        }
    }

    /// How many faults of each kind were applied.
    pub fn counts(&self) -> impl Iterator<Item = (FaultKind, u64)> + '_ {
        FaultKind::ALL.into_iter().zip(self.counts.iter().copied())
    }

    /// The wire bytes for `sentence`, damaged or not.
    pub fn wire(&mut self, sentence: &Sentence) -> Wire {
        if self.rate <= 0.0 || !self.rng.chance(self.rate) {
            return Wire {
                bytes: encode(sentence).into_bytes(),
                fault: None,
                intact: true,
            };
        }
        let kind = FaultKind::ALL[self.rng.below(FaultKind::ALL.len())];
        let index = FaultKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.counts[index] += 1;
        let bytes = self.damage(sentence, kind);
        Wire {
            bytes,
            fault: Some(kind),
            intact: kind == FaultKind::Noise,
        }
    }

    fn damage(&mut self, sentence: &Sentence, kind: FaultKind) -> Vec<u8> {
        let line = encode(sentence).into_bytes();
        match kind {
            FaultKind::Checksum => {
                let mut bytes = line;
                // Change one body byte (between `$` and `*`) to another safe character: a
                // single changed byte always changes the XOR.
                let star = bytes.iter().rposition(|&b| b == b'*').unwrap_or(1);
                let at = 1 + self.rng.below(star.saturating_sub(1).max(1));
                bytes[at] = if bytes[at] == b'7' { b'8' } else { b'7' };
                bytes
            }
            FaultKind::Truncated => {
                let cut = 2 + self.rng.below(line.len().saturating_sub(6).max(1));
                line[..cut.min(line.len() - 3)].to_vec()
            }
            FaultKind::Dropped => Vec::new(),
            FaultKind::Noise => {
                let mut bytes: Vec<u8> = (0..3 + self.rng.below(20))
                    .map(|_| {
                        let b = 0x20 + u8::try_from(self.rng.below(95)).unwrap_or(0);
                        if b == b'$' { b'#' } else { b }
                    })
                    .collect();
                bytes.extend_from_slice(&line);
                bytes
            }
            FaultKind::Overlong => {
                let body = encode_body(sentence);
                let junk: String = std::iter::repeat_n('9', 520).collect();
                frame(&format!("{body}{junk}")).into_bytes()
            }
            FaultKind::Malformed => {
                let body = encode_body(sentence);
                let broken = match &sentence.payload {
                    Payload::Sample(_) => body.replacen('=', "=x", 1),
                    _ => body.replacen(&format!(",{},", sentence.seq), ",NaN,", 1),
                };
                frame(&broken).into_bytes()
            }
            FaultKind::OutOfRange => {
                let mut bad = sentence.clone();
                match &mut bad.payload {
                    Payload::Sample(sample) => sample.set(Quantity::InletMlMin, 999.9),
                    // Only samples carry ranged values; damage other sentences' structure.
                    _ => return self.damage(sentence, FaultKind::Malformed),
                }
                encode(&bad).into_bytes()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MachineState, Sample};
    use crate::protocol::{Decoded, Decoder, RejectReason};

    #[test]
    fn each_fault_is_rejected_for_its_own_reason_and_noise_spares_the_sentence() {
        let sample = Sentence {
            seq: 12,
            t_ms: 34_000,
            payload: Payload::Sample(Sample::default().with(Quantity::InletMl, 5.0)),
            unknown_keys: 0,
        };
        let next = encode(&Sentence {
            seq: 13,
            t_ms: 35_000,
            payload: Payload::State(MachineState::Run),
            unknown_keys: 0,
        });
        let cases = [
            (FaultKind::Checksum, vec![Some(RejectReason::Checksum)]),
            (FaultKind::Truncated, vec![Some(RejectReason::Truncated)]),
            (FaultKind::Dropped, vec![]),
            (FaultKind::Noise, vec![Some(RejectReason::Noise), None]),
            (FaultKind::Overlong, vec![Some(RejectReason::Overlong)]),
            (FaultKind::Malformed, vec![Some(RejectReason::Malformed)]),
            (FaultKind::OutOfRange, vec![Some(RejectReason::OutOfRange)]),
        ];
        let mut injector = FaultInjector::new(1.0, 3);
        for (kind, expected) in cases {
            for _ in 0..20 {
                let mut input = injector.damage(&sample, kind);
                input.extend_from_slice(next.as_bytes());
                let mut decoder = Decoder::new();
                let mut got = Vec::new();
                decoder.feed(&input, |d| {
                    got.push(match d {
                        Decoded::Rejected(r) => Some(r.reason),
                        Decoded::Sentence { sentence, .. } if sentence.seq == 12 => None,
                        Decoded::Sentence { .. } => return,
                    });
                });
                assert_eq!(got, expected, "{kind:?}");
            }
        }
    }

    #[test]
    fn the_rate_is_respected() {
        let mut injector = FaultInjector::new(0.04, 9);
        let sentence = Sentence {
            seq: 1,
            t_ms: 1,
            payload: Payload::State(MachineState::Run),
            unknown_keys: 0,
        };
        let faults = (0..20_000)
            .filter(|_| injector.wire(&sentence).fault.is_some())
            .count();
        assert!((700..=900).contains(&faults), "{faults}");
        assert!(injector.counts().all(|(_, n)| n > 50));
    }
}
