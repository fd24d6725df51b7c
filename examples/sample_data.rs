//! Makes the recordings in `sample-data/` from the simulated machine, with realistic times, and
//! the simulated fixtures of `tests/fixtures/`.
//!
//!     cargo run --release --example sample_data -- sample-data tests/fixtures
//!
//! Each session runs the simulator's APH/1 bytes (with wire faults where asked) through the
//! real decoder, journalist, alarm engine and recorder, with receipt times a monitor on a 1×
//! machine would have stamped, plus the nurse's notes and cable pulls at set machine times.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a generator: any failure should stop it

use std::path::Path;

use apheresis_monitor::acquisition::Journalist;
use apheresis_monitor::alarms::{AlarmEngine, AlarmInputs, AlarmSettings};
use apheresis_monitor::analysis::patient::Sex;
use apheresis_monitor::analysis::{Patient, Target, Timeline};
use apheresis_monitor::model::{LinkCode, MachineState, Note};
use apheresis_monitor::protocol::Decoder;
use apheresis_monitor::recording::meta::{LabMeta, PatientMeta, TargetsMeta};
use apheresis_monitor::recording::{Recorder, SessionMeta, write_meta};
use apheresis_monitor::simulator::{FaultInjector, SimConfig, SimMachine};
use jiff::{SignedDuration, Timestamp};

struct Plan {
    file: &'static str,
    patient_id: &'static str,
    config: SimConfig,
    faults: f64,
    start: &'static str,
    /// (machine minute, note code, text)
    notes: Vec<(u64, &'static str, String)>,
    /// (machine minute, minutes out)
    cable_pulls: Vec<(u64, u64)>,
    lab: Option<(f64, f64, f64, f64)>,
    /// Metadata merged over the rest: the collection record of a CAR-T collection.
    record: Option<serde_json::Value>,
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sample-data".into());
    let out = Path::new(&out);
    std::fs::create_dir_all(out).unwrap();
    let fixtures = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "tests/fixtures".into());
    let fixtures = Path::new(&fixtures);
    let plans = [
        Plan {
            file: "adult-typical-5h.csv",
            patient_id: "SAMPLE-ADULT-01",
            config: SimConfig {
                seed: 101,
                ..SimConfig::default()
            },
            faults: 0.0,
            start: "2026-03-14T08:05:00.350Z",
            notes: vec![
                (
                    12,
                    "OBSERVATION",
                    "BP 124/78 mmHg; HR 72/min; SpO₂ 98 %; T 36.6 °C".into(),
                ),
                (
                    95,
                    "ALARM_HANDLED",
                    "access alarm: arm repositioned, flow back".into(),
                ),
                (180, "OBSERVATION", "BP 118/74 mmHg; HR 76/min".into()),
            ],
            cable_pulls: vec![],
            lab: Some((950.0, 38_000.0, 260.0, 2.0e9)),
            record: None,
        },
        Plan {
            file: "teen-40kg-citrate.csv",
            patient_id: "SAMPLE-TEEN-02",
            config: SimConfig {
                seed: 202,
                weight_kg: 40.0,
                height_cm: 155.0,
                sex: Sex::Female,
                citrate_target_mg_kg_min: 1.17,
                comfort_pauses: 1,
                ..SimConfig::default()
            },
            faults: 0.0,
            start: "2026-04-02T07:40:00.120Z",
            notes: vec![
                (
                    10,
                    "OBSERVATION",
                    "BP 112/70 mmHg; HR 88/min; SpO₂ 99 %".into(),
                ),
                (
                    140,
                    "TINGLING",
                    "Tingling / paraesthesia; perioral, mild".into(),
                ),
                (142, "CALCIUM_GIVEN", "Calcium given 10 mL".into()),
                (
                    253,
                    "COMFORT_PAUSE",
                    "Pause: patient comfort; asked for a break".into(),
                ),
            ],
            cable_pulls: vec![],
            lab: Some((1200.0, 30_000.0, 180.0, 1.0e9)),
            record: None,
        },
        Plan {
            file: "faulty-link-pauses.csv",
            patient_id: "SAMPLE-ADULT-03",
            config: SimConfig {
                seed: 303,
                weight_kg: 72.0,
                height_cm: 168.0,
                sex: Sex::Female,
                comfort_pauses: 2,
                access_alarms: 2,
                ..SimConfig::default()
            },
            faults: 0.02,
            start: "2026-05-20T09:15:00.800Z",
            notes: vec![
                (60, "LINE_REPOSITIONED", "Line repositioned".into()),
                (
                    121,
                    "FREE_TEXT",
                    "monitor cable reseated after link loss".into(),
                ),
            ],
            cable_pulls: vec![(45, 2), (118, 3), (200, 1)],
            lab: None,
            record: None,
        },
        cart_day(1),
        cart_day(2),
    ];
    // Fixtures for tests, not samples: every shipped sample must be a routine run.
    let fixture_plans = [Plan {
        // A 40 kg teenager whose AC runs at 2.2 mg/kg/min: 2.2 × 40 ÷ 21.3 = 4.13 mL/min of
        // ACD-A, 4.13 ÷ 2.83 L TBV = 1.46 mL/min per L, a sustained excess over 1.2. Short
        // (0.5 TBV) with one comfort pause and no other alarm.
        file: "citrate-excess.csv",
        patient_id: "FIXTURE-CITRATE-01",
        config: SimConfig {
            seed: 404,
            weight_kg: 40.0,
            height_cm: 155.0,
            sex: Sex::Female,
            target_tbv: 0.5,
            citrate_target_mg_kg_min: 2.2,
            comfort_pauses: 1,
            access_alarms: 0,
            return_alarms: 0,
            ..SimConfig::default()
        },
        faults: 0.0,
        start: "2026-06-11T10:20:00.500Z",
        notes: vec![],
        cable_pulls: vec![],
        lab: None,
        record: None,
    }];
    // A third argument makes only the files whose name contains it.
    let only = std::env::args().nth(3).unwrap_or_default();
    let plans = plans
        .into_iter()
        .filter(|p| p.file.contains(only.as_str()))
        .map(|p| (out, p))
        .chain(
            fixture_plans
                .into_iter()
                .filter(|p| p.file.contains(only.as_str()))
                .map(|p| (fixtures, p)),
        );
    for (out, plan) in plans {
        let path = out.join(plan.file);
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(apheresis_monitor::recording::meta_path_for(&path));
        make(&path, &plan);
        println!("wrote {}", path.display());
    }
}

fn make(path: &Path, plan: &Plan) {
    let config = plan.config.clone();
    let start: Timestamp = plan.start.parse().unwrap();
    let at = |t_ms: u64, jitter_ms: u64| {
        start
            .checked_add(SignedDuration::from_millis(
                (t_ms + 40 + jitter_ms % 60) as i64,
            ))
            .unwrap()
    };
    let meta = SessionMeta {
        patient: Some(PatientMeta {
            id: Some(plan.patient_id.into()),
            weight_kg: Some(config.weight_kg.into()),
            height_cm: Some(config.height_cm.into()),
            sex: Some(config.sex.as_str().into()),
            ..PatientMeta::default()
        }),
        targets: Some(TargetsMeta {
            tbv_processed: Some(config.target_tbv.into()),
            ..TargetsMeta::default()
        }),
        machine: Some(config.identity.clone()),
        started_utc: Some(apheresis_monitor::recording::format::format_time_utc(start)),
        operator: Some("RN sample".into()),
        lab: plan.lab.map(|(pre, product, volume, target)| LabMeta {
            pre_cd3_per_ul: Some(pre.into()),
            product_cd3_per_ul: Some(product.into()),
            product_volume_ml: Some(volume.into()),
            target_cd3_cells: Some(target.into()),
            ..LabMeta::default()
        }),
        ..SessionMeta::default()
    };
    let meta = match &plan.record {
        None => meta,
        Some(record) => {
            let mut value = serde_json::to_value(&meta).unwrap();
            merge(&mut value, record);
            apheresis_monitor::recording::meta::parse_meta(&value.to_string()).unwrap()
        }
    };
    write_meta(path, &meta).unwrap();
    let patient = Patient::from_meta(meta.patient.as_ref());
    let (target, _) = Target::from_meta(meta.targets.as_ref());

    let mut recorder = Recorder::create(path).unwrap();
    let mut journalist = Journalist::new();
    let mut decoder = Decoder::new();
    let mut faults = FaultInjector::new(plan.faults, config.seed);
    let mut machine = SimMachine::new(config.clone());
    let mut timeline = Timeline::new();
    let mut engine = AlarmEngine::new(AlarmSettings::default());
    let mut notes = plan.notes.clone();
    let mut pulls = plan.cable_pulls.clone();
    let mut unplugged_until: Option<u64> = None;
    let mut record = |entry: apheresis_monitor::model::Entry, timeline: &mut Timeline| {
        recorder.append(&entry).unwrap();
        timeline.push(&entry);
    };
    record(
        journalist.link_entry(
            at(0, 0),
            apheresis_monitor::model::LinkEvent::new(
                LinkCode::Connected,
                "/dev/ttyUSB0 at 115200 baud",
            ),
        ),
        &mut timeline,
    );
    while let Some(sentence) = machine.next_sentence() {
        let t = sentence.t_ms;
        let now = at(t, u64::from(sentence.seq) * 7);
        // Cable pulls: everything sent meanwhile is lost; the partial line is truncated.
        if let Some(&(minute, out_minutes)) = pulls.first()
            && t >= minute * 60_000
        {
            pulls.remove(0);
            unplugged_until = Some(t + out_minutes * 60_000);
            let _ = decoder.finish();
            if let Some(entry) = journalist.link_lost(
                now,
                LinkCode::Lost,
                "/dev/ttyUSB0: read failed: Input/output error".into(),
            ) {
                record(entry, &mut timeline);
            }
        }
        if let Some(until) = unplugged_until {
            if t < until {
                continue;
            }
            unplugged_until = None;
        }
        while let Some(&(minute, _, _)) = notes.first() {
            if t < minute * 60_000 {
                break;
            }
            let (_, code, text) = notes.remove(0);
            let entry = journalist.note_entry(
                now,
                Note {
                    code: code.into(),
                    text,
                },
            );
            record(entry, &mut timeline);
        }
        let wire = faults.wire(&sentence);
        let mut entries = Vec::new();
        decoder.feed(&wire.bytes, |d| {
            journalist.on_decoded(d, now, &mut entries);
        });
        let ended = entries.iter().any(|e| {
            matches!(
                e.body,
                apheresis_monitor::model::EntryBody::State(MachineState::End)
            )
        });
        for entry in entries {
            // As the live session does: the engine sees every row of the machine's.
            engine.observe(&entry);
            record(entry, &mut timeline);
        }
        // The monitor's own alarm rules, as the live monitor runs them.
        let inputs = AlarmInputs {
            sample_age_s: Some(0.5),
            connected: true,
            ..AlarmInputs::from_timeline(&timeline, &patient, target, &engine.settings)
        };
        for event in engine.evaluate(now, &inputs) {
            if let Some(alarm) = event.monitor_alarm_row() {
                let entry = journalist.alarm_entry(now, alarm);
                record(entry, &mut timeline);
            }
        }
        if ended {
            let entry = journalist.link_entry(
                now,
                apheresis_monitor::model::LinkEvent::new(LinkCode::Closed, "procedure ended"),
            );
            record(entry, &mut timeline);
            break;
        }
    }
    recorder.sync().unwrap();
}

/// Merges `over` into `base`, object by object.
fn merge(base: &mut serde_json::Value, over: &serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(base), serde_json::Value::Object(over)) => {
            for (key, value) in over {
                merge(
                    base.entry(key.clone()).or_insert(serde_json::Value::Null),
                    value,
                );
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// One day of a CAR-T T-cell collection over two days for one patient and one manufacturing
/// order: the chain of identity, the consumables, full labs in the units the lab reports
/// (×10⁹/L, ×10⁶/mL), calcium given, a reaction and vital signs before, during and after.
fn cart_day(day: u8) -> Plan {
    use apheresis_monitor::analysis::records::{
        CalciumGiven, CalciumProduct, Phase, Reaction, ReactionKind, Record, Route, Vitals,
    };
    let vitals = |phase, sys, dia, hr, t| {
        Record::Vitals(
            Vitals {
                phase: Some(phase),
                bp_mmhg: Some((sys, dia)),
                hr_per_min: Some(hr),
                temp_c: Some(t),
                spo2_percent: Some(98.0),
            }
            .check()
            .unwrap(),
        )
    };
    let gluconate = |ml| {
        Record::Calcium(CalciumGiven::new(CalciumProduct::Gluconate10, ml, Route::Iv).unwrap())
    };
    let record = |minute: u64, r: Record| (minute, r.code(), r.to_text());
    let (seed, start, notes, product_cd3, volume, pre_cd3, kit_lot) = if day == 1 {
        (
            505,
            "2026-09-07T08:10:00.250Z",
            vec![
                record(5, vitals(Phase::Before, 122.0, 76.0, 84.0, 36.7)),
                record(95, vitals(Phase::During, 114.0, 70.0, 90.0, 36.8)),
                record(
                    150,
                    Record::Reaction(
                        Reaction::new(
                            ReactionKind::Paraesthesia,
                            1,
                            "inlet slowed, calcium gluconate IV",
                            "resolved in 15 min",
                        )
                        .unwrap(),
                    ),
                ),
                record(151, gluconate(10.0)),
                record(215, gluconate(10.0)),
            ],
            6.2,
            210.0,
            0.30,
            "K7781",
        )
    } else {
        (
            606,
            "2026-09-08T08:05:00.700Z",
            vec![
                record(5, vitals(Phase::Before, 118.0, 72.0, 80.0, 36.6)),
                record(120, vitals(Phase::During, 110.0, 68.0, 86.0, 36.9)),
                record(160, gluconate(10.0)),
            ],
            5.4,
            205.0,
            0.28,
            "K7794",
        )
    };
    let after = record(320, vitals(Phase::After, 116.0, 70.0, 82.0, 36.7));
    Plan {
        file: if day == 1 {
            "cart-day1.csv"
        } else {
            "cart-day2.csv"
        },
        patient_id: "SAMPLE-CART-04",
        config: SimConfig {
            seed,
            weight_kg: 68.0,
            height_cm: 171.0,
            sex: Sex::Male,
            ..SimConfig::default()
        },
        faults: 0.0,
        start,
        notes: notes.into_iter().chain([after]).collect(),
        cable_pulls: vec![],
        lab: None,
        record: Some(serde_json::json!({
            "operator": "RN A. Okafor",
            "patient": {
                "hospital_number": "RX4471902",
                "nhs_number": "943 476 5919",
                "date_of_birth": "1971-04-23",
            },
            "collection": {
                "id": "KTE-2026-00417",
                "access": if day == 1 { "peripheral" } else { "vascath" },
                "access_site": if day == 1 { "left antecubital / right forearm" } else { "right femoral" },
                "checker": "RN J. Patel",
                "anticoagulant_lot": "ACDA-24C118",
                "kit_lot": kit_lot,
                "kit_expiry": "2027-06",
            },
            "lab": {
                "pre_wbc": {"value": 3.4, "unit": "10*9/L"},
                "pre_lymphocytes": {"value": 0.71, "unit": "10*9/L"},
                "pre_cd3": {"value": pre_cd3, "unit": "10*9/L"},
                "pre_hb": {"value": 10.9, "unit": "g/dL"},
                "pre_hct": {"value": 33.0, "unit": "%"},
                "pre_platelets": {"value": 152.0, "unit": "10*9/L"},
                "post_hb": {"value": 10.2, "unit": "g/dL"},
                "post_platelets": {"value": 104.0, "unit": "10*9/L"},
                "product_volume_ml": {"value": volume, "unit": "mL"},
                "product_wbc": {"value": 88.0, "unit": "10*9/L"},
                "product_cd3": {"value": product_cd3, "unit": "10*6/mL"},
                "product_hct": {"value": 2.1, "unit": "%"},
                "target_cd3_cells": 2.0e9,
            },
        })),
    }
}
