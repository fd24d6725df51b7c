//! The APH/1 decoder: bytes in, typed sentences or counted rejects out.
//!
//! Pure and incremental, in the manner of `csv-core`: [`Decoder::decode`] takes any slice of the
//! stream, returns at most one result and how many bytes it consumed, and keeps whatever partial
//! line it has seen. Splitting the input anywhere gives the same results. Memory is bounded by
//! the protocol's 512-byte line limit. No input makes it panic.

use serde::Serialize;

use crate::model::{
    Alarm, MachineIdentity, MachineState, Payload, Priority, Quantity, Sample, Sentence,
};

/// The longest line the protocol allows, terminator included.
pub const MAX_LINE_BYTES: usize = 512;

/// Why bytes were rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Missing, malformed or wrong `*HH` checksum.
    Checksum,
    /// A line longer than [`MAX_LINE_BYTES`].
    Overlong,
    /// A sentence cut short by a new `$` (or the end of the stream).
    Truncated,
    /// Bytes outside any sentence.
    Noise,
    /// A sentence with a valid checksum but a broken structure or a non-numeric value.
    Malformed,
    /// A known sample key whose value is outside its plausible range.
    OutOfRange,
    /// A well-formed sentence of a type APH/1 does not define.
    UnknownType,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Checksum => "checksum",
            RejectReason::Overlong => "overlong",
            RejectReason::Truncated => "truncated",
            RejectReason::Noise => "noise",
            RejectReason::Malformed => "malformed",
            RejectReason::OutOfRange => "out of range",
            RejectReason::UnknownType => "unknown type",
        }
    }
}

/// A rejected line, with what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: RejectReason,
    pub detail: String,
}

/// How a valid sentence's `seq` relates to the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqCheck {
    /// The first sentence since the decoder was created or reset.
    First,
    /// Exactly one more than the previous sentence (wrapping).
    InOrder,
    /// This many sentences were lost on the wire before this one.
    Gap(u32),
    /// The machine restarted its numbering (`seq` went back without wrapping).
    Restart,
}

/// One result of decoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Sentence { sentence: Sentence, seq: SeqCheck },
    Rejected(Rejection),
}

/// Counters for everything the decoder has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DecodeStats {
    pub bytes: u64,
    /// Valid sentences of every type.
    pub sentences: u64,
    pub samples: u64,
    pub states: u64,
    pub alarms: u64,
    pub identities: u64,
    pub checksum: u64,
    pub overlong: u64,
    pub truncated: u64,
    /// Runs of noise bytes (each run counted once).
    pub noise: u64,
    pub noise_bytes: u64,
    pub malformed: u64,
    pub out_of_range: u64,
    pub unknown_type: u64,
    /// Sample keys the protocol does not define (kept, counted, not shown).
    pub unknown_keys: u64,
    /// Sentences missing from the sequence numbering.
    pub lost_sentences: u64,
    pub sequence_restarts: u64,
}

impl DecodeStats {
    /// All rejected lines, every reason together.
    pub fn rejected(&self) -> u64 {
        self.checksum
            + self.overlong
            + self.truncated
            + self.noise
            + self.malformed
            + self.out_of_range
            + self.unknown_type
    }

    fn count_reject(&mut self, reason: RejectReason) {
        let counter = match reason {
            RejectReason::Checksum => &mut self.checksum,
            RejectReason::Overlong => &mut self.overlong,
            RejectReason::Truncated => &mut self.truncated,
            RejectReason::Noise => &mut self.noise,
            RejectReason::Malformed => &mut self.malformed,
            RejectReason::OutOfRange => &mut self.out_of_range,
            RejectReason::UnknownType => &mut self.unknown_type,
        };
        *counter += 1;
    }

    /// One line for people: what arrived and what was rejected, by reason.
    pub fn summary_line(&self) -> String {
        format!(
            "{} sentences ({} samples, {} states, {} alarms, {} identities); lost {}; rejected {} \
             (checksum {}, overlong {}, truncated {}, noise {}, malformed {}, out of range {}, \
             unknown type {}); unknown keys {}; sequence restarts {}",
            self.sentences,
            self.samples,
            self.states,
            self.alarms,
            self.identities,
            self.lost_sentences,
            self.rejected(),
            self.checksum,
            self.overlong,
            self.truncated,
            self.noise,
            self.malformed,
            self.out_of_range,
            self.unknown_type,
            self.unknown_keys,
            self.sequence_restarts,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between sentences; counts noise bytes until a `$` or a line end.
    Idle { noise_bytes: u64 },
    /// Inside a sentence that began with `$`.
    InLine,
    /// Skipping the rest of an overlong line.
    Discard,
}

/// The incremental APH/1 decoder. One per connection; see the module documentation.
#[derive(Debug, Clone)]
pub struct Decoder {
    line: Vec<u8>,
    state: State,
    last_seq: Option<u32>,
    stats: DecodeStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder {
            line: Vec::with_capacity(MAX_LINE_BYTES),
            state: State::Idle { noise_bytes: 0 },
            last_seq: None,
            stats: DecodeStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Decodes from `input` until one result is ready or the input is used up.
    ///
    /// Returns the result, if any, and the number of bytes consumed. Call again with the rest
    /// of the input; a partial line is kept for the next call.
    pub fn decode(&mut self, input: &[u8]) -> (Option<Decoded>, usize) {
        for (i, &byte) in input.iter().enumerate() {
            self.stats.bytes += 1;
            if let Some(result) = self.step(byte) {
                return (Some(result), i + 1);
            }
        }
        (None, input.len())
    }

    /// Decodes all of `input`, handing every result to `out`.
    pub fn feed(&mut self, mut input: &[u8], mut out: impl FnMut(Decoded)) {
        while !input.is_empty() {
            let (result, used) = self.decode(input);
            if let Some(result) = result {
                out(result);
            }
            input = &input[used..];
        }
    }

    /// Ends the stream (a cable pulled, a port closed): reports a partial sentence as
    /// truncated and pending noise as noise, and starts the next connection afresh, including
    /// its sequence numbering. Counters are kept.
    pub fn finish(&mut self) -> Option<Decoded> {
        let result = match self.state {
            State::InLine => {
                Some(self.reject(RejectReason::Truncated, "stream ended mid-sentence"))
            }
            State::Idle { noise_bytes } if noise_bytes > 0 => {
                Some(self.reject(RejectReason::Noise, "bytes outside a sentence"))
            }
            State::Idle { .. } | State::Discard => None,
        };
        self.line.clear();
        self.state = State::Idle { noise_bytes: 0 };
        self.last_seq = None;
        result
    }

    fn step(&mut self, byte: u8) -> Option<Decoded> {
        match (self.state, byte) {
            (State::Idle { noise_bytes }, b'$') => {
                self.start_line();
                (noise_bytes > 0).then(|| self.reject(RejectReason::Noise, "bytes before `$`"))
            }
            (State::Idle { noise_bytes }, b'\r' | b'\n') => {
                self.state = State::Idle { noise_bytes: 0 };
                (noise_bytes > 0).then(|| self.reject(RejectReason::Noise, "line without `$`"))
            }
            (State::Idle { noise_bytes }, _) => {
                self.stats.noise_bytes += 1;
                self.state = State::Idle {
                    noise_bytes: noise_bytes + 1,
                };
                None
            }
            (State::InLine, b'$') => {
                self.start_line();
                Some(self.reject(RejectReason::Truncated, "new `$` before the line ended"))
            }
            (State::InLine, b'\n') => {
                self.state = State::Idle { noise_bytes: 0 };
                let parsed = parse_line(&self.line);
                self.line.clear();
                Some(match parsed {
                    Ok(sentence) => self.accept(sentence),
                    Err(rejection) => {
                        self.stats.count_reject(rejection.reason);
                        Decoded::Rejected(rejection)
                    }
                })
            }
            (State::InLine, _) => {
                // The line is what is buffered plus the `\n` still to come.
                if self.line.len() + 2 > MAX_LINE_BYTES {
                    self.line.clear();
                    self.state = State::Discard;
                    Some(self.reject(RejectReason::Overlong, "line longer than 512 bytes"))
                } else {
                    self.line.push(byte);
                    None
                }
            }
            (State::Discard, b'$') => {
                self.start_line();
                None
            }
            (State::Discard, b'\n') => {
                self.state = State::Idle { noise_bytes: 0 };
                None
            }
            (State::Discard, _) => None,
        }
    }

    fn start_line(&mut self) {
        self.line.clear();
        self.line.push(b'$');
        self.state = State::InLine;
    }

    fn reject(&mut self, reason: RejectReason, detail: &str) -> Decoded {
        self.stats.count_reject(reason);
        Decoded::Rejected(Rejection {
            reason,
            detail: detail.to_owned(),
        })
    }

    fn accept(&mut self, sentence: Sentence) -> Decoded {
        let stats = &mut self.stats;
        stats.sentences += 1;
        match sentence.payload {
            Payload::Identity(_) => stats.identities += 1,
            Payload::State(_) => stats.states += 1,
            Payload::Sample(_) => stats.samples += 1,
            Payload::Alarm(_) => stats.alarms += 1,
        }
        stats.unknown_keys += u64::from(sentence.unknown_keys);
        let seq = check_seq(self.last_seq, sentence.seq);
        match seq {
            SeqCheck::Gap(lost) => stats.lost_sentences += u64::from(lost),
            SeqCheck::Restart => stats.sequence_restarts += 1,
            SeqCheck::First | SeqCheck::InOrder => {}
        }
        self.last_seq = Some(sentence.seq);
        Decoded::Sentence { sentence, seq }
    }
}

/// How far back a `seq` may appear to go and still be read as a wrap past `u32::MAX`.
const WRAP_WINDOW: u32 = 1 << 20;

fn check_seq(last: Option<u32>, seq: u32) -> SeqCheck {
    let Some(last) = last else {
        return SeqCheck::First;
    };
    let expected = last.wrapping_add(1);
    if seq == expected {
        return SeqCheck::InOrder;
    }
    if seq > last {
        return SeqCheck::Gap(seq - expected);
    }
    // `seq` is not above `last`: either it wrapped past u32::MAX (only plausible when `last` was
    // near the top and `seq` near zero) or the machine restarted its numbering.
    let forward = seq.wrapping_sub(last);
    if seq < last && forward < WRAP_WINDOW {
        SeqCheck::Gap(seq.wrapping_sub(expected))
    } else {
        SeqCheck::Restart
    }
}

fn malformed(detail: impl Into<String>) -> Rejection {
    Rejection {
        reason: RejectReason::Malformed,
        detail: detail.into(),
    }
}

fn checksum_error(detail: &str) -> Rejection {
    Rejection {
        reason: RejectReason::Checksum,
        detail: detail.to_owned(),
    }
}

/// XOR of every byte, as APH/1 and NMEA 0183 define the checksum.
pub fn checksum(body: &[u8]) -> u8 {
    body.iter().fold(0, |acc, b| acc ^ b)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Parses one line that starts with `$` and excludes its `\n`.
fn parse_line(line: &[u8]) -> Result<Sentence, Rejection> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(star) = line.iter().rposition(|&b| b == b'*') else {
        return Err(checksum_error("no `*HH` checksum"));
    };
    let (body, tail) = (&line[1..star], &line[star + 1..]);
    let [hi, lo] = tail else {
        return Err(checksum_error("checksum is not two hex digits"));
    };
    let (Some(hi), Some(lo)) = (hex_value(*hi), hex_value(*lo)) else {
        return Err(checksum_error("checksum is not two hex digits"));
    };
    if checksum(body) != (hi << 4 | lo) {
        return Err(checksum_error("checksum does not match"));
    }
    if let Some(bad) = body.iter().find(|b| !(0x20..0x7f).contains(*b)) {
        return Err(malformed(format!(
            "byte 0x{bad:02X} is not printable ASCII"
        )));
    }
    // Printable ASCII is valid UTF-8.
    let Ok(body) = std::str::from_utf8(body) else {
        return Err(malformed("not ASCII"));
    };
    let mut fields = body.split(',');
    let kind = fields.next().unwrap_or_default();
    let seq = parse_unsigned(fields.next(), "seq")?;
    let seq = u32::try_from(seq).map_err(|_| malformed("seq is larger than 32 bits"))?;
    let t_ms = parse_unsigned(fields.next(), "t_ms")?;
    let rest: Vec<&str> = fields.collect();
    let mut unknown_keys = 0;
    let payload = match kind {
        "APHI" => parse_identity(&rest)?,
        "APHT" => parse_state(&rest)?,
        "APHS" => {
            let (sample, unknown) = parse_sample(&rest)?;
            unknown_keys = unknown;
            Payload::Sample(sample)
        }
        "APHE" => parse_alarm(&rest)?,
        other => {
            return Err(Rejection {
                reason: RejectReason::UnknownType,
                detail: format!("sentence type `{}`", truncate(other, 16)),
            });
        }
    };
    Ok(Sentence {
        seq,
        t_ms,
        payload,
        unknown_keys,
    })
}

fn truncate(text: &str, max_chars: usize) -> &str {
    text.char_indices()
        .nth(max_chars)
        .map_or(text, |(i, _)| &text[..i])
}

fn parse_unsigned(field: Option<&str>, name: &str) -> Result<u64, Rejection> {
    let Some(field) = field else {
        return Err(malformed(format!("missing {name}")));
    };
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(format!("{name} is not an unsigned integer")));
    }
    field
        .parse()
        .map_err(|_| malformed(format!("{name} is too large")))
}

fn expect_fields<'a, const N: usize>(
    rest: &[&'a str],
    kind: &str,
) -> Result<[&'a str; N], Rejection> {
    <[&str; N]>::try_from(rest).map_err(|_| {
        malformed(format!(
            "{kind} needs {N} fields after t_ms, got {}",
            rest.len()
        ))
    })
}

fn parse_identity(rest: &[&str]) -> Result<Payload, Rejection> {
    let [model, serial_no, software_version, protocol] = expect_fields::<4>(rest, "APHI")?;
    if model.is_empty() || serial_no.is_empty() {
        return Err(malformed("APHI model and serial number must not be empty"));
    }
    Ok(Payload::Identity(MachineIdentity {
        model: model.to_owned(),
        serial_no: serial_no.to_owned(),
        software_version: software_version.to_owned(),
        protocol: protocol.to_owned(),
    }))
}

fn parse_state(rest: &[&str]) -> Result<Payload, Rejection> {
    let [state] = expect_fields::<1>(rest, "APHT")?;
    MachineState::from_protocol(state)
        .map(Payload::State)
        .ok_or_else(|| malformed(format!("unknown state `{}`", truncate(state, 16))))
}

/// Whether `text` is an APH/1 decimal number: `-?digits(.digits)?`.
pub fn is_decimal(text: &str) -> bool {
    parse_decimal(text).is_some()
}

/// Powers of ten exactly representable as `f64`.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses an APH/1 decimal number (`-?digits(.digits)?`), or `None` if `text` is not one.
///
/// The value is the `f64` nearest the decimal, exactly as `str::parse` gives: with at most 15
/// significant digits, the digits form an exact integer and one division by an exact power of
/// ten rounds correctly (Clinger's fast path); longer numbers go through `str::parse`.
pub fn parse_decimal(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut mantissa: u64 = 0;
    let mut count = 0usize;
    let mut int_digits = 0usize;
    let mut frac_digits = 0usize;
    let mut seen_point = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
                count += 1;
                if seen_point {
                    frac_digits += 1;
                } else {
                    int_digits += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if int_digits == 0 || (seen_point && frac_digits == 0) {
        return None;
    }
    let value = if count <= 15 {
        mantissa as f64 / EXACT_POWERS_OF_TEN[frac_digits]
    } else {
        let unsigned: f64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
        unsigned
    };
    Some(if negative { -value } else { value })
}

fn parse_sample(rest: &[&str]) -> Result<(Sample, u16), Rejection> {
    let mut sample = Sample::default();
    let mut unknown: u16 = 0;
    for field in rest {
        let Some((key, value)) = field.split_once('=') else {
            return Err(malformed(format!(
                "sample field `{}` is not key=value",
                truncate(field, 24)
            )));
        };
        let Some(quantity) = Quantity::from_key(key) else {
            if key.is_empty() {
                return Err(malformed("sample field with an empty key"));
            }
            unknown = unknown.saturating_add(1);
            continue;
        };
        if sample.get(quantity).is_some() {
            return Err(malformed(format!("{key} appears twice")));
        }
        let Some(number) = parse_decimal(value) else {
            return Err(malformed(format!(
                "{key} value `{}` is not a decimal number",
                truncate(value, 24)
            )));
        };
        let (low, high) = quantity.plausible_range();
        if !(low..=high).contains(&number) {
            return Err(Rejection {
                reason: RejectReason::OutOfRange,
                detail: format!("{key}={value} is outside {low}..{high}"),
            });
        }
        sample.set(quantity, number);
    }
    Ok((sample, unknown))
}

fn parse_alarm(rest: &[&str]) -> Result<Payload, Rejection> {
    let [code, priority, state, text] = expect_fields::<4>(rest, "APHE")?;
    let valid_code = code.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !valid_code {
        return Err(malformed(format!(
            "alarm code `{}` is not an upper-case identifier",
            truncate(code, 24)
        )));
    }
    let Some(priority) = Priority::from_code(priority) else {
        return Err(malformed(format!(
            "alarm priority `{}` is not H, M, L or I",
            truncate(priority, 8)
        )));
    };
    let active = match state {
        "ON" => true,
        "OFF" => false,
        other => {
            return Err(malformed(format!(
                "alarm state `{}` is not ON or OFF",
                truncate(other, 8)
            )));
        }
    };
    Ok(Payload::Alarm(Alarm {
        code: code.to_owned(),
        priority,
        active,
        text: text.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    //! Rules the table tests in `protocol/mod.rs` leave open (found by cargo-mutants): counters
    //! by type, sequence edges, the details people see, and fields that must not be empty.
    use super::*;
    use crate::protocol::frame;

    fn decode_one(body: &str) -> Decoded {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        decoder.feed(frame(body).as_bytes(), |d| out.push(d));
        assert_eq!(out.len(), 1, "{body}: {out:?}");
        out.remove(0)
    }

    fn rejection(body: &str) -> (RejectReason, String) {
        match decode_one(body) {
            Decoded::Rejected(r) => (r.reason, r.detail),
            Decoded::Sentence { sentence, .. } => panic!("{body} accepted: {sentence:?}"),
        }
    }

    fn accepted(body: &str) -> Sentence {
        match decode_one(body) {
            Decoded::Sentence { sentence, .. } => sentence,
            Decoded::Rejected(r) => panic!("{body} rejected: {r:?}"),
        }
    }

    #[test]
    fn valid_sentences_are_counted_by_type_with_lost_sentences_and_restarts() {
        let stream: String = [
            "APHI,0,0,SIM-OPTIA,SN000123,1.0.0,APH/1",
            "APHT,1,0,PRIME",
            "APHS,2,1000,inlet_ml_min=55.0",
            "APHE,3,2000,AIR_DETECTED,H,ON,Air",
            "APHE,7,3000,AIR_DETECTED,H,OFF,",
            "APHT,8,4000,RUN",
            // The machine restarts its numbering.
            "APHT,0,0,IDLE",
        ]
        .into_iter()
        .map(frame)
        .collect();
        let mut decoder = Decoder::new();
        decoder.feed(stream.as_bytes(), |_| {});
        let s = *decoder.stats();
        assert_eq!(
            (s.sentences, s.identities, s.states, s.samples, s.alarms),
            (7, 1, 3, 1, 2)
        );
        // 4, 5 and 6 never arrived; 8 → 0 is a restart.
        assert_eq!((s.lost_sentences, s.sequence_restarts), (3, 1));
        assert_eq!(s.rejected(), 0);
        assert_eq!(
            s.summary_line(),
            "7 sentences (1 samples, 3 states, 2 alarms, 1 identities); lost 3; rejected 0 \
             (checksum 0, overlong 0, truncated 0, noise 0, malformed 0, out of range 0, \
             unknown type 0); unknown keys 0; sequence restarts 1"
        );
    }

    #[test]
    fn the_summary_line_names_every_reject_count() {
        // One checksum error, two noise runs, one truncated line, one unknown key.
        let input = format!(
            "xx\r\n$APHT,1,0,RUN*00\r\nyy{}$APHT,3{}",
            frame("APHS,2,0,inlet_ml=1,hct_pct=40"),
            frame("APHT,4,0,RUN")
        );
        let mut decoder = Decoder::new();
        decoder.feed(input.as_bytes(), |_| {});
        assert_eq!(
            decoder.stats().summary_line(),
            "2 sentences (1 samples, 1 states, 0 alarms, 0 identities); lost 1; rejected 4 \
             (checksum 1, overlong 0, truncated 1, noise 2, malformed 0, out of range 0, \
             unknown type 0); unknown keys 1; sequence restarts 0"
        );
    }

    #[test]
    fn noise_still_pending_when_the_stream_ends_is_reported_as_noise() {
        // A cable pulled after stray bytes with no line end: the run of noise is one reject.
        let mut decoder = Decoder::new();
        decoder.feed(b"\x00\xffzz", |d| panic!("nothing before the end: {d:?}"));
        assert_eq!(
            decoder.finish(),
            Some(Decoded::Rejected(Rejection {
                reason: RejectReason::Noise,
                detail: "bytes outside a sentence".to_owned(),
            }))
        );
        let s = decoder.stats();
        assert_eq!((s.noise, s.noise_bytes, s.rejected()), (1, 4, 1));
        // Nothing pending: nothing to report, and the next connection starts clean.
        assert_eq!(decoder.finish(), None);
        decoder.feed(frame("APHT,9,0,RUN").as_bytes(), |d| {
            assert!(
                matches!(
                    d,
                    Decoded::Sentence {
                        seq: SeqCheck::First,
                        ..
                    }
                ),
                "{d:?}"
            );
        });
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn reject_reasons_have_their_names() {
        use RejectReason::*;
        let names: Vec<&str> = [
            Checksum,
            Overlong,
            Truncated,
            Noise,
            Malformed,
            OutOfRange,
            UnknownType,
        ]
        .into_iter()
        .map(RejectReason::as_str)
        .collect();
        assert_eq!(
            names,
            [
                "checksum",
                "overlong",
                "truncated",
                "noise",
                "malformed",
                "out of range",
                "unknown type"
            ]
        );
    }

    #[test]
    fn a_repeated_sequence_number_is_a_restart_not_four_billion_lost_sentences() {
        assert_eq!(check_seq(Some(7), 7), SeqCheck::Restart);
        let twice = frame("APHT,7,0,RUN").repeat(2);
        let mut decoder = Decoder::new();
        let mut seqs = Vec::new();
        decoder.feed(twice.as_bytes(), |d| {
            if let Decoded::Sentence { seq, .. } = d {
                seqs.push(seq);
            }
        });
        assert_eq!(seqs, [SeqCheck::First, SeqCheck::Restart]);
        let s = decoder.stats();
        assert_eq!((s.lost_sentences, s.sequence_restarts), (0, 1));
    }

    #[test]
    fn a_wrap_past_u32_max_is_a_gap_only_within_a_million_sentences() {
        // The window is 2^20 = 1 048 576 steps forward from `last` through the wrap.
        // last = 2^32 − 2^20 + 1: seq 0 is 2^20 − 1 steps on, so 2^20 − 2 = 1 048 574 lost.
        assert_eq!(check_seq(Some(4_293_918_721), 0), SeqCheck::Gap(1_048_574));
        // last = 2^32 − 2^20: seq 0 is 2^20 steps on, outside the window: a restart.
        assert_eq!(check_seq(Some(4_293_918_720), 0), SeqCheck::Restart);
        // Just past the top: one lost.
        assert_eq!(check_seq(Some(u32::MAX), 1), SeqCheck::Gap(1));
        assert_eq!(check_seq(None, 12), SeqCheck::First);
    }

    #[test]
    fn an_identity_needs_a_model_and_a_serial_number() {
        for body in ["APHI,1,0,,SN1,1.0,APH/1", "APHI,1,0,SIM,,1.0,APH/1"] {
            assert_eq!(
                rejection(body),
                (
                    RejectReason::Malformed,
                    "APHI model and serial number must not be empty".to_owned()
                ),
                "{body}"
            );
        }
        let Payload::Identity(id) = accepted("APHI,1,0,SIM,SN1,,").payload else {
            panic!("not an identity")
        };
        assert_eq!((id.model.as_str(), id.serial_no.as_str()), ("SIM", "SN1"));
    }

    #[test]
    fn a_sample_field_needs_a_key_and_an_unknown_key_is_only_counted() {
        assert_eq!(
            rejection("APHS,1,0,inlet_ml=5,=5"),
            (
                RejectReason::Malformed,
                "sample field with an empty key".to_owned()
            )
        );
        let sample = accepted("APHS,1,0,hct_pct=41,inlet_ml=5");
        assert_eq!(sample.unknown_keys, 1);
    }

    #[test]
    fn an_alarm_code_starts_with_a_capital_letter() {
        for code in ["_AIR", "1AIR", "AIR-2", "Air"] {
            let (reason, detail) = rejection(&format!("APHE,1,0,{code},H,ON,x"));
            assert_eq!(reason, RejectReason::Malformed, "{code}");
            assert_eq!(
                detail,
                format!("alarm code `{code}` is not an upper-case identifier")
            );
        }
        let Payload::Alarm(alarm) = accepted("APHE,1,0,PUMP_2_STALL,M,ON,x").payload else {
            panic!("not an alarm")
        };
        assert_eq!(alarm.code, "PUMP_2_STALL");
    }

    #[test]
    fn rejections_say_what_was_wrong() {
        use RejectReason::*;
        let cases = [
            ("APHT,,0,RUN", Malformed, "seq is not an unsigned integer"),
            ("APHT,1,,RUN", Malformed, "t_ms is not an unsigned integer"),
            ("APHT,1", Malformed, "missing t_ms"),
            (
                "APHT,99999999999999999999,0,RUN",
                Malformed,
                "seq is too large",
            ),
            (
                "APHT,1,0,RUN,X",
                Malformed,
                "APHT needs 1 fields after t_ms, got 2",
            ),
            // Names are cut to 16 characters, values to 24.
            (
                "APHXABCDEFGHIJKLMNOP,1,0",
                UnknownType,
                "sentence type `APHXABCDEFGHIJKL`",
            ),
            (
                "APHT,1,0,DANCINGDANCINGDANCING",
                Malformed,
                "unknown state `DANCINGDANCINGDA`",
            ),
            (
                "APHS,1,0,inlet_ml=12345678901234567890123456789x",
                Malformed,
                "inlet_ml value `123456789012345678901234` is not a decimal number",
            ),
            (
                "APHS,1,0,inlet_ml_min=150.5",
                OutOfRange,
                "inlet_ml_min=150.5 is outside 0..150",
            ),
        ];
        for (body, reason, detail) in cases {
            assert_eq!(rejection(body), (reason, detail.to_owned()), "{body}");
        }
    }

    #[test]
    fn is_decimal_accepts_only_aph1_numbers() {
        for good in ["0", "-45", "1148.2", "12345678901234567"] {
            assert!(is_decimal(good), "{good}");
        }
        for bad in ["", "1e3", "+1", ".5", "5.", "NaN"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }
}
