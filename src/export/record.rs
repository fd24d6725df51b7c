//! What the report adds to the summary's collection record from outside the recording's rows:
//! the inputs behind the figures, as the metadata gives them and the monitor used them
//! (patient, target, anticoagulant, alarm limits), and, for a collection over several days, the
//! earlier days found beside the recording.

use std::path::Path;

use crate::alarms::{AlarmSettings, SessionLimits};
use crate::analysis::collection::CollectionKey;
use crate::analysis::summary::Summary;
use crate::analysis::summary::record::InputLine;
use crate::analysis::{Patient, Target};
use crate::recording::read_meta;

/// Completes the summary's record of the recording at `recording_path`.
pub(super) fn complete(summary: &mut Summary, recording_path: &Path) {
    let meta = read_meta(recording_path).ok().flatten();
    summary.record.inputs = inputs(meta.as_ref());
    if let Some(key) = meta.as_ref().and_then(CollectionKey::of) {
        add_earlier_days(summary, recording_path, &key);
    }
}

/// The inputs behind the figures, each as written for a reader.
fn inputs(meta: Option<&crate::recording::SessionMeta>) -> Vec<InputLine> {
    let patient = Patient::from_meta(meta.and_then(|m| m.patient.as_ref()));
    let (target, target_problem) = Target::from_meta(meta.and_then(|m| m.targets.as_ref()));
    let limits = SessionLimits::from_meta(
        &AlarmSettings::default(),
        meta.and_then(|m| m.limits.as_ref()),
    )
    .settings;
    let mut lines = Vec::new();
    let mut add = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            lines.push(InputLine {
                label: label.to_owned(),
                value,
            });
        }
    };
    add("Weight", patient.weight_kg.map(|w| format!("{w} kg")));
    add("Height", patient.height_cm.map(|h| format!("{h} cm")));
    add("Sex", patient.sex.map(|s| s.as_str().to_owned()));
    add("Age", patient.age.map(|a| a.to_string()));
    add(
        "TBV",
        patient
            .tbv()
            .map(|t| format!("{:.0} mL ({})", t.ml, t.method.describe())),
    );
    add(
        "Target",
        Some(match target_problem {
            Some(why) => format!("{} ({why})", target.describe()),
            None => target.describe(),
        }),
    );
    add(
        "Anticoagulant",
        Some(limits.citrate.anticoagulant.name().to_owned()),
    );
    add(
        "Alarm limits",
        Some(format!(
            "access below {:.0} mmHg; return above {:.0} mmHg; citrate above {} mL/min per L \
             TBV ({:.0}-min mean)",
            limits.access_low.limit,
            limits.return_high.limit,
            limits.citrate_high.limit,
            limits.citrate.average_min
        )),
    );
    for problem in patient.problems {
        add("Refused", Some(problem));
    }
    lines
}

/// A collection over several days: the same collection's earlier days among the recordings
/// beside this one (same patient number and collection ID, started before it) and the CD3+
/// yield of all days so far go into the summary's record. Nothing when the recording is not a
/// day of a collection, or the folder cannot be read.
fn add_earlier_days(summary: &mut Summary, recording_path: &Path, key: &CollectionKey) {
    let started = summary.time(crate::analysis::Figure::StartedUtc);
    let folder = recording_path.parent().unwrap_or_else(|| Path::new("."));
    let Ok(listings) = crate::session::library::scan(folder) else {
        return;
    };
    let earlier: Vec<_> = listings
        .iter()
        .filter(|l| l.path != recording_path && l.collection.key.as_ref() == Some(key))
        .filter(|l| l.started_utc.zip(started).is_some_and(|(a, b)| a < b))
        .collect();
    let this_day = summary.number(crate::analysis::Figure::Cd3YieldCells);
    let record = &mut summary.record;
    record.earlier_days = earlier.len();
    record.cd3_yield_so_far_cells = this_day.map(|cells| {
        cells
            + earlier
                .iter()
                .filter_map(|l| l.collection.cd3_yield_cells)
                .sum::<f64>()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_behind_the_figures_is_in_the_record() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/teen-40kg-citrate.csv");
        let mut summary = Summary::default();
        complete(&mut summary, &path);
        let lines: Vec<(&str, &str)> = summary
            .record
            .inputs
            .iter()
            .map(|i| (i.label.as_str(), i.value.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                ("Weight", "40 kg"),
                ("Height", "155 cm"),
                ("Sex", "female"),
                (
                    "TBV",
                    "2833 mL (Nadler's formula from sex, height and weight)"
                ),
                ("Target", "2.5 TBV"),
                ("Anticoagulant", "ACD-A"),
                (
                    "Alarm limits",
                    "access below -200 mmHg; return above 300 mmHg; citrate above 1.2 mL/min \
                     per L TBV (5-min mean)"
                ),
            ]
        );
        // The inputs alone are no CAR-T record: the record's other parts stay out.
        assert!(summary.record.is_empty());
        let sections = crate::export::format::record_sections(&summary);
        assert_eq!(
            sections.iter().map(|s| s.title).collect::<Vec<_>>(),
            ["Inputs"]
        );
    }
}
