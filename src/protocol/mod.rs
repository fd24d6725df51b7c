//! APH/1, the apheresis telemetry line protocol (see `docs/protocol-APH1.md`).
//!
//! Architecture Invariant: nothing here knows about files, threads, ports or screens; the
//! decoder is a pure function of the bytes it is fed.

mod decoder;
mod encoder;

pub use decoder::{
    DecodeStats, Decoded, Decoder, MAX_LINE_BYTES, RejectReason, Rejection, SeqCheck, checksum,
    is_decimal, parse_decimal,
};
pub use encoder::{encode, encode_body, frame, sanitize_text};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Alarm, MachineIdentity, MachineState, Payload, Priority, Quantity, Sample, Sentence,
    };

    /// Every result the decoder gives for `input`, fed in one piece, then `finish`.
    fn decode_all(input: &[u8]) -> Vec<Decoded> {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        decoder.feed(input, |d| out.push(d));
        out.extend(decoder.finish());
        out
    }

    fn reasons(input: &[u8]) -> Vec<Result<&'static str, RejectReason>> {
        decode_all(input)
            .into_iter()
            .map(|d| match d {
                Decoded::Sentence { sentence, .. } => Ok(match sentence.payload {
                    Payload::Identity(_) => "APHI",
                    Payload::State(_) => "APHT",
                    Payload::Sample(_) => "APHS",
                    Payload::Alarm(_) => "APHE",
                }),
                Decoded::Rejected(r) => Err(r.reason),
            })
            .collect()
    }

    /// `$body*HH\r\n` with the correct checksum.
    fn line(body: &str) -> String {
        frame(body)
    }

    const SPEC_EXAMPLES: &str = "$APHI,0,0,SIM-OPTIA,SN000123,1.0.0,APH/1*42\r\n\
$APHT,1,0,PRIME*63\r\n\
$APHS,42,1260000,inlet_ml_min=55.0,ac_ml_min=4.6,return_ml_min=50.9,collect_ml_min=1.2,plasma_ml_min=0.0,inlet_ml=1148.2,ac_ml=95.7,collect_ml=24.1,plasma_ml=0.0,replace_ml=0.0,access_mmhg=-45,return_mmhg=118,centrifuge_rpm=1600,ac_ratio=12.0*4F\r\n\
$APHE,43,1262000,ACCESS_PRESSURE_LOW,H,ON,Access pressure low - check patient arm*23\r\n\
$APHE,44,1301000,ACCESS_PRESSURE_LOW,H,OFF,*7D\r\n\
$APHT,45,1301500,RUN*5F\r\n";

    #[test]
    fn spec_examples_decode_to_the_documented_values() {
        let out = decode_all(SPEC_EXAMPLES.as_bytes());
        let sentences: Vec<Sentence> = out
            .into_iter()
            .map(|d| match d {
                Decoded::Sentence { sentence, .. } => sentence,
                Decoded::Rejected(r) => panic!("rejected: {r:?}"),
            })
            .collect();
        assert_eq!(sentences.len(), 6);
        assert_eq!(
            sentences[0].payload,
            Payload::Identity(MachineIdentity {
                model: "SIM-OPTIA".into(),
                serial_no: "SN000123".into(),
                software_version: "1.0.0".into(),
                protocol: "APH/1".into(),
            })
        );
        assert_eq!(sentences[1].payload, Payload::State(MachineState::Prime));
        let Payload::Sample(sample) = &sentences[2].payload else {
            panic!("not a sample")
        };
        assert_eq!(sentences[2].seq, 42);
        assert_eq!(sentences[2].t_ms, 1_260_000);
        assert_eq!(sample.get(Quantity::InletMlMin), Some(55.0));
        assert_eq!(sample.get(Quantity::InletMl), Some(1148.2));
        assert_eq!(sample.get(Quantity::AccessMmhg), Some(-45.0));
        assert_eq!(sample.get(Quantity::AcRatio), Some(12.0));
        assert_eq!(sample.iter().count(), 14);
        assert_eq!(
            sentences[3].payload,
            Payload::Alarm(Alarm {
                code: "ACCESS_PRESSURE_LOW".into(),
                priority: Priority::High,
                active: true,
                text: "Access pressure low - check patient arm".into(),
            })
        );
        let Payload::Alarm(cleared) = &sentences[4].payload else {
            panic!("not an alarm")
        };
        assert!(!cleared.active);
        assert_eq!(cleared.text, "");
        assert_eq!(sentences[5].payload, Payload::State(MachineState::Run));
    }

    /// One case per decoder rule: the input and the results it must give, in order.
    #[test]
    fn decoder_rules_table() {
        type Case = (
            &'static str,
            String,
            Vec<Result<&'static str, RejectReason>>,
        );
        use RejectReason::*;
        let ok_state = line("APHT,1,0,RUN");
        let cases: Vec<Case> = vec![
            ("crlf terminator", ok_state.clone(), vec![Ok("APHT")]),
            (
                "bare lf terminator",
                ok_state.replace("\r\n", "\n"),
                vec![Ok("APHT")],
            ),
            (
                "lower-case checksum",
                "$APHT,2,0,RUN*6a\r\n".into(),
                vec![Ok("APHT")],
            ),
            (
                "upper-case checksum",
                "$APHT,2,0,RUN*6A\r\n".into(),
                vec![Ok("APHT")],
            ),
            (
                "wrong checksum",
                "$APHT,1,0,RUN*00\r\n".into(),
                vec![Err(Checksum)],
            ),
            (
                "missing checksum",
                "$APHT,1,0,RUN\r\n".into(),
                vec![Err(Checksum)],
            ),
            (
                "one-digit checksum",
                "$APHT,1,0,RUN*5\r\n".into(),
                vec![Err(Checksum)],
            ),
            (
                "non-hex checksum",
                "$APHT,1,0,RUN*ZZ\r\n".into(),
                vec![Err(Checksum)],
            ),
            (
                "noise before $",
                format!("xx{ok_state}"),
                vec![Err(Noise), Ok("APHT")],
            ),
            ("noise line", "garbage\r\n".into(), vec![Err(Noise)]),
            (
                "blank lines are not noise",
                format!("\r\n\n{ok_state}"),
                vec![Ok("APHT")],
            ),
            (
                "$ truncates the sentence before it",
                format!("$APHS,1,0,inlet_ml=1{ok_state}"),
                vec![Err(Truncated), Ok("APHT")],
            ),
            (
                "end of stream truncates",
                "$APHT,1,0,RU".into(),
                vec![Err(Truncated)],
            ),
            (
                "overlong line resyncs at $",
                format!("${}\r\n{ok_state}", "A".repeat(600)),
                vec![Err(Overlong), Ok("APHT")],
            ),
            ("unknown type", line("APHX,1,0,1"), vec![Err(UnknownType)]),
            (
                "seq not a number",
                line("APHT,x,0,RUN"),
                vec![Err(Malformed)],
            ),
            (
                "seq with a sign",
                line("APHT,+1,0,RUN"),
                vec![Err(Malformed)],
            ),
            (
                "seq over 32 bits",
                line("APHT,4294967296,0,RUN"),
                vec![Err(Malformed)],
            ),
            ("t_ms negative", line("APHT,1,-5,RUN"), vec![Err(Malformed)]),
            ("missing t_ms", line("APHT,1"), vec![Err(Malformed)]),
            (
                "unknown state",
                line("APHT,1,0,DANCE"),
                vec![Err(Malformed)],
            ),
            (
                "state with extra field",
                line("APHT,1,0,RUN,X"),
                vec![Err(Malformed)],
            ),
            (
                "sample value not a number",
                line("APHS,1,0,inlet_ml=abc"),
                vec![Err(Malformed)],
            ),
            (
                "sample value with exponent",
                line("APHS,1,0,inlet_ml=1e3"),
                vec![Err(Malformed)],
            ),
            (
                "sample value NaN",
                line("APHS,1,0,inlet_ml=NaN"),
                vec![Err(Malformed)],
            ),
            (
                "sample value inf",
                line("APHS,1,0,inlet_ml=inf"),
                vec![Err(Malformed)],
            ),
            (
                "sample value trailing dot",
                line("APHS,1,0,inlet_ml=5."),
                vec![Err(Malformed)],
            ),
            (
                "sample value empty",
                line("APHS,1,0,inlet_ml="),
                vec![Err(Malformed)],
            ),
            (
                "sample field without =",
                line("APHS,1,0,inlet_ml"),
                vec![Err(Malformed)],
            ),
            (
                "sample key twice",
                line("APHS,1,0,inlet_ml=1,inlet_ml=2"),
                vec![Err(Malformed)],
            ),
            (
                "sample value above range",
                line("APHS,1,0,inlet_ml_min=150.1"),
                vec![Err(OutOfRange)],
            ),
            (
                "sample value below range",
                line("APHS,1,0,access_mmhg=-500.5"),
                vec![Err(OutOfRange)],
            ),
            (
                "range edges are plausible",
                line("APHS,1,0,inlet_ml_min=150,access_mmhg=-500,ac_ratio=1"),
                vec![Ok("APHS")],
            ),
            (
                "ratio below one",
                line("APHS,1,0,ac_ratio=0.5"),
                vec![Err(OutOfRange)],
            ),
            (
                "unknown key is kept, not rejected",
                line("APHS,1,0,hct_pct=41,inlet_ml=5"),
                vec![Ok("APHS")],
            ),
            ("empty sample", line("APHS,1,0"), vec![Ok("APHS")]),
            (
                "alarm with empty text",
                line("APHE,1,0,AIR_DETECTED,H,ON,"),
                vec![Ok("APHE")],
            ),
            (
                "alarm bad priority",
                line("APHE,1,0,AIR_DETECTED,X,ON,air"),
                vec![Err(Malformed)],
            ),
            (
                "alarm bad state",
                line("APHE,1,0,AIR_DETECTED,H,MAYBE,air"),
                vec![Err(Malformed)],
            ),
            (
                "alarm lower-case code",
                line("APHE,1,0,air,H,ON,air"),
                vec![Err(Malformed)],
            ),
            (
                "alarm missing text field",
                line("APHE,1,0,AIR_DETECTED,H,ON"),
                vec![Err(Malformed)],
            ),
            (
                "identity missing protocol",
                line("APHI,1,0,SIM,SN1,1.0"),
                vec![Err(Malformed)],
            ),
            (
                "non-ASCII byte",
                format!(
                    "${}*{:02X}\r\n",
                    "APHT,1,0,RUN\u{e9}",
                    checksum("APHT,1,0,RUN\u{e9}".as_bytes())
                ),
                vec![Err(Malformed)],
            ),
            ("control byte", line("APHT,1,0,R\tUN"), vec![Err(Malformed)]),
        ];
        for (name, input, expected) in cases {
            assert_eq!(reasons(input.as_bytes()), expected, "case: {name}");
        }
    }

    #[test]
    fn line_of_exactly_512_bytes_is_accepted_and_513_is_overlong() {
        for (total, expected) in [(512usize, Ok("APHS")), (513, Err(RejectReason::Overlong))] {
            // `$` + body + `*HH` + `\r\n` = total; pad with an unknown key.
            let fixed = "APHS,1,0,x=".len() + 1 + 3 + 2;
            let body = format!("APHS,1,0,x={}", "1".repeat(total - fixed));
            let input = line(&body);
            assert_eq!(input.len(), total);
            assert_eq!(reasons(input.as_bytes()), vec![expected], "total {total}");
        }
    }

    #[test]
    fn sequence_gaps_wraps_and_restarts_are_told_apart() {
        let cases: [(&[u32], SeqCheck, u64); 5] = [
            (&[7, 8], SeqCheck::InOrder, 0),
            (&[7, 10], SeqCheck::Gap(2), 2),
            (&[u32::MAX, 0], SeqCheck::InOrder, 0),
            (&[u32::MAX - 1, 2], SeqCheck::Gap(3), 3),
            (&[500, 3], SeqCheck::Restart, 0),
        ];
        for (seqs, expected, lost) in cases {
            let input: String = seqs
                .iter()
                .map(|s| line(&format!("APHT,{s},0,RUN")))
                .collect();
            let mut decoder = Decoder::new();
            let mut last = None;
            decoder.feed(input.as_bytes(), |d| {
                if let Decoded::Sentence { seq, .. } = d {
                    last = Some(seq);
                }
            });
            assert_eq!(last, Some(expected), "seqs {seqs:?}");
            assert_eq!(decoder.stats().lost_sentences, lost, "seqs {seqs:?}");
        }
    }

    #[test]
    fn every_reject_reason_has_its_own_counter() {
        let input = format!(
            "noise\r\n$APHT,1,0,RUN*00\r\n${}\r\n$APHT,2,0{}{}{}{}",
            "B".repeat(700),
            line("APHT,3,0,NOPE"),
            line("APHS,4,0,inlet_ml_min=999"),
            line("APHQ,5,0"),
            line("APHS,6,0,inlet_ml=1,mystery=2,other=3"),
        );
        let mut decoder = Decoder::new();
        decoder.feed(input.as_bytes(), |_| {});
        let s = *decoder.stats();
        assert_eq!(
            (
                s.noise,
                s.checksum,
                s.overlong,
                s.truncated,
                s.malformed,
                s.out_of_range,
                s.unknown_type
            ),
            (1, 1, 1, 1, 1, 1, 1)
        );
        assert_eq!((s.sentences, s.samples, s.unknown_keys), (1, 1, 2));
        assert_eq!(s.noise_bytes, 5);
        assert_eq!(s.bytes, input.len() as u64);
        assert_eq!(s.rejected(), 7);
    }

    #[test]
    fn a_valid_stream_split_at_every_byte_boundary_decodes_the_same() {
        let stream = format!("{SPEC_EXAMPLES}noise{}", line("APHT,46,1302000,PAUSE"));
        let whole = decode_all(stream.as_bytes());
        assert_eq!(whole.len(), 8);
        for split in 0..=stream.len() {
            let (a, b) = stream.as_bytes().split_at(split);
            let mut decoder = Decoder::new();
            let mut out = Vec::new();
            decoder.feed(a, |d| out.push(d));
            decoder.feed(b, |d| out.push(d));
            out.extend(decoder.finish());
            assert_eq!(out, whole, "split at {split}");
        }
        // And byte by byte.
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        for byte in stream.as_bytes() {
            decoder.feed(std::slice::from_ref(byte), |d| out.push(d));
        }
        out.extend(decoder.finish());
        assert_eq!(out, whole);
    }

    #[test]
    fn decimal_syntax_is_strict() {
        for bad in [
            "", "-", ".5", "5.", "1e3", "+1", "1.2.3", "NaN", "inf", "1 ", " 1", "--1",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_decimal("-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(parse_decimal("1148.25"), Some(1148.25));
    }

    #[test]
    fn encoder_sanitizes_free_text() {
        let sentence = Sentence {
            seq: 1,
            t_ms: 2,
            payload: Payload::Alarm(Alarm {
                code: "X".into(),
                priority: Priority::Low,
                active: true,
                text: "a,b*c$d\r\ne\u{e9}".into(),
            }),
            unknown_keys: 0,
        };
        let wire = encode(&sentence);
        let out = decode_all(wire.as_bytes());
        let [Decoded::Sentence { sentence: back, .. }] = out.as_slice() else {
            panic!("{out:?}")
        };
        let Payload::Alarm(alarm) = &back.payload else {
            panic!()
        };
        assert_eq!(alarm.text, "a b c d  e?");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn arb_text() -> impl Strategy<Value = String> {
            "[a-zA-Z0-9 .:;!?()/=+-]{0,40}"
        }

        fn arb_value(q: Quantity) -> impl Strategy<Value = f64> {
            let (low, high) = q.plausible_range();
            // Values with up to three decimals, as a machine sends them.
            #[allow(clippy::cast_possible_truncation)]
            let (low_k, high_k) = ((low * 1000.0) as i64, (high * 1000.0) as i64);
            (low_k..=high_k).prop_map(|k| k as f64 / 1000.0)
        }

        fn arb_sample() -> impl Strategy<Value = Sample> {
            let per_key: Vec<_> = Quantity::ALL
                .into_iter()
                .map(|q| proptest::option::of(arb_value(q)).prop_map(move |v| (q, v)))
                .collect();
            per_key.prop_map(|pairs| {
                let mut s = Sample::default();
                for (q, v) in pairs {
                    if let Some(v) = v {
                        s.set(q, v);
                    }
                }
                s
            })
        }

        fn arb_payload() -> impl Strategy<Value = Payload> {
            let ident = "[A-Z][A-Z0-9-]{0,12}";
            prop_oneof![
                (ident, ident, "[0-9.]{1,8}").prop_map(|(model, serial_no, software_version)| {
                    Payload::Identity(MachineIdentity {
                        model,
                        serial_no,
                        software_version,
                        protocol: "APH/1".into(),
                    })
                }),
                proptest::sample::select(MachineState::ALL.to_vec()).prop_map(Payload::State),
                arb_sample().prop_map(Payload::Sample),
                (
                    "[A-Z][A-Z0-9_]{0,20}",
                    proptest::sample::select(vec![
                        Priority::High,
                        Priority::Medium,
                        Priority::Low,
                        Priority::Info
                    ]),
                    any::<bool>(),
                    arb_text()
                )
                    .prop_map(|(code, priority, active, text)| Payload::Alarm(
                        Alarm {
                            code,
                            priority,
                            active,
                            text: text.trim_end_matches('\r').to_owned(),
                        }
                    )),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn arbitrary_bytes_never_panic_and_are_counted(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let mut decoder = Decoder::new();
                let mut results = 0u64;
                decoder.feed(&bytes, |_| results += 1);
                results += u64::from(decoder.finish().is_some());
                let s = decoder.stats();
                prop_assert_eq!(s.bytes, bytes.len() as u64);
                prop_assert_eq!(results, s.sentences + s.rejected());
            }

            #[test]
            fn arbitrary_bytes_with_dollars_and_newlines_never_panic(
                bytes in proptest::collection::vec(prop_oneof![Just(b'$'), Just(b'\n'), Just(b'*'), Just(b','), any::<u8>()], 0..4096)
            ) {
                let mut decoder = Decoder::new();
                decoder.feed(&bytes, |_| {});
                decoder.finish();
            }

            #[test]
            fn the_fast_decimal_parser_agrees_with_the_standard_one_bit_for_bit(
                text in "-?[0-9]{1,22}(\\.[0-9]{1,22})?"
            ) {
                let fast = parse_decimal(&text).unwrap();
                let slow: f64 = text.parse().unwrap();
                prop_assert_eq!(fast.to_bits(), slow.to_bits(), "{}", text);
            }

            #[test]
            fn encode_then_decode_round_trips(seq in any::<u32>(), t_ms in any::<u64>(), payload in arb_payload()) {
                let sentence = Sentence { seq, t_ms, payload, unknown_keys: 0 };
                let wire = encode(&sentence);
                prop_assert!(wire.len() <= MAX_LINE_BYTES);
                let out = decode_all(wire.as_bytes());
                prop_assert_eq!(out, vec![Decoded::Sentence { sentence, seq: SeqCheck::First }]);
            }

            #[test]
            fn valid_sentences_survive_garbage_between_them(
                garbage in proptest::collection::vec(any::<u8>().prop_filter("no $", |b| *b != b'$'), 0..64),
                payload in arb_payload(),
            ) {
                // Garbage that ends with a newline cannot eat the sentence after it.
                let sentence = Sentence { seq: 9, t_ms: 10, payload, unknown_keys: 0 };
                let mut input = garbage.clone();
                input.push(b'\n');
                input.extend_from_slice(encode(&sentence).as_bytes());
                let out = decode_all(&input);
                let last = out.last().cloned();
                prop_assert_eq!(last, Some(Decoded::Sentence { sentence, seq: SeqCheck::First }));
            }
        }
    }
}
