//! The APH/1 encoder: typed sentences to wire lines. Used by the simulated machine and tests.

use std::fmt::Write as _;

use crate::model::{Payload, Sentence};

use super::decoder::checksum;

/// Characters free text may not contain on the wire; the encoder replaces each with a space.
const FORBIDDEN_IN_TEXT: [char; 5] = [',', '*', '$', '\r', '\n'];

/// Makes free text safe for an APH/1 field: forbidden characters become spaces and anything
/// outside printable ASCII becomes `?`.
pub fn sanitize_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if FORBIDDEN_IN_TEXT.contains(&c) {
                ' '
            } else if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The body of a sentence: everything between `$` and `*`.
pub fn encode_body(sentence: &Sentence) -> String {
    let mut body = String::with_capacity(160);
    let kind = match &sentence.payload {
        Payload::Identity(_) => "APHI",
        Payload::State(_) => "APHT",
        Payload::Sample(_) => "APHS",
        Payload::Alarm(_) => "APHE",
    };
    // Writing into a String cannot fail.
    let _ = write!(body, "{kind},{},{}", sentence.seq, sentence.t_ms);
    match &sentence.payload {
        Payload::Identity(id) => {
            let _ = write!(
                body,
                ",{},{},{},{}",
                sanitize_text(&id.model),
                sanitize_text(&id.serial_no),
                sanitize_text(&id.software_version),
                sanitize_text(&id.protocol)
            );
        }
        Payload::State(state) => {
            let _ = write!(body, ",{state}");
        }
        Payload::Sample(sample) => {
            for (quantity, value) in sample.iter() {
                // `Display` for f64 is the shortest text that parses back to the same value,
                // and never uses an exponent.
                let _ = write!(body, ",{}={value}", quantity.key());
            }
        }
        Payload::Alarm(alarm) => {
            let _ = write!(
                body,
                ",{},{},{},{}",
                alarm.code,
                alarm.priority.code(),
                if alarm.active { "ON" } else { "OFF" },
                sanitize_text(&alarm.text)
            );
        }
    }
    body
}

/// Wraps a body as a full line: `$body*HH\r\n`.
pub fn frame(body: &str) -> String {
    format!("${body}*{:02X}\r\n", checksum(body.as_bytes()))
}

/// The full wire line for a sentence, `\r\n` included.
pub fn encode(sentence: &Sentence) -> String {
    frame(&encode_body(sentence))
}
