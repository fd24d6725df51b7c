//! Any text as a `.session.json`: parsing and validating the patient must never panic, and no
//! invalid weight or height is ever used.
#![no_main]

use apheresis_monitor::analysis::Patient;
use apheresis_monitor::recording::meta::parse_meta;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(meta) = parse_meta(text) {
        let patient = Patient::from_meta(meta.patient.as_ref());
        if let Some(w) = patient.weight_kg {
            assert!((2.0..=300.0).contains(&w));
        }
        if let Some(h) = patient.height_cm {
            assert!((40.0..=230.0).contains(&h));
        }
        let _ = patient.tbv_ml();
        let _ = apheresis_monitor::analysis::Target::from_meta(meta.targets.as_ref());
        let _ = serde_json::to_string(&meta);
    }
});
