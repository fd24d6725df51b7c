//! Any bytes, fed in any chunking, into the APH/1 decoder: it must never panic, must account
//! for every result, and must give the same results however the input is split.
#![no_main]

use apheresis_monitor::protocol::{Decoded, Decoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| usize::from(*b)) % (data.len().max(1));
    let mut whole = Decoder::new();
    let mut a: Vec<Decoded> = Vec::new();
    whole.feed(data, |d| a.push(d));
    a.extend(whole.finish());
    let mut parts = Decoder::new();
    let mut b: Vec<Decoded> = Vec::new();
    parts.feed(&data[..split], |d| b.push(d));
    parts.feed(&data[split..], |d| b.push(d));
    b.extend(parts.finish());
    assert_eq!(a, b);
    let stats = whole.stats();
    assert_eq!(stats.bytes, data.len() as u64);
    assert_eq!(a.len() as u64, stats.sentences + stats.rejected());
});
