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
