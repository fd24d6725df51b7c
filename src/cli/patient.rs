//! `record`'s patient and target options: what the monitor needs for the figures a bedside
//! shows and publishes in TBV (progress, projected end, citrate per litre of blood volume).
//! Each is checked as the setup form checks it; a value outside its range is refused with the
//! reason, before anything is recorded.

use apheresis_monitor::analysis::patient::{Sex, validate_height_cm, validate_weight_kg};
use apheresis_monitor::recording::SessionMeta;
use apheresis_monitor::recording::meta::{PatientMeta, TargetsMeta};

use super::SexArg;

/// The patient and the target of a headless recording.
#[derive(Debug, Clone, clap::Args)]
pub struct PatientArgs {
    /// The patient's weight, kg (2 to 300).
    #[arg(long, value_name = "KG", value_parser = weight, allow_negative_numbers = true)]
    pub weight_kg: Option<f64>,
    /// The patient's height, cm (40 to 230).
    #[arg(long, value_name = "CM", value_parser = height, allow_negative_numbers = true)]
    pub height_cm: Option<f64>,
    /// The patient's sex (for the blood volume, Nadler's formula).
    #[arg(long, value_enum)]
    pub sex: Option<SexArg>,
    /// The target: total blood volumes to process (0.5 to 6).
    #[arg(long, value_name = "TBV", value_parser = target, allow_negative_numbers = true)]
    pub target_tbv: Option<f64>,
}

fn weight(text: &str) -> Result<f64, String> {
    number(text).and_then(|v| validate_weight_kg(v).map_err(|e| e.to_string()))
}

fn height(text: &str) -> Result<f64, String> {
    number(text).and_then(|v| validate_height_cm(v).map_err(|e| e.to_string()))
}

fn target(text: &str) -> Result<f64, String> {
    number(text).and_then(|v| {
        if (0.5..=6.0).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{v} TBV is outside 0.5 to 6 blood volumes"))
        }
    })
}

fn number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("`{text}` is not a number"))
}

impl PatientArgs {
    /// The recording's metadata with the patient and target given (nothing when none is).
    pub fn meta(&self) -> SessionMeta {
        let any_patient =
            self.weight_kg.is_some() || self.height_cm.is_some() || self.sex.is_some();
        SessionMeta {
            patient: any_patient.then(|| PatientMeta {
                weight_kg: self.weight_kg.map(Into::into),
                height_cm: self.height_cm.map(Into::into),
                sex: self.sex.map(|s| Sex::from(s).as_str().into()),
                ..PatientMeta::default()
            }),
            targets: self.target_tbv.map(|tbv| TargetsMeta {
                tbv_processed: Some(tbv.into()),
                ..TargetsMeta::default()
            }),
            ..SessionMeta::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apheresis_monitor::analysis::{Patient, Target};

    #[test]
    fn values_outside_their_range_are_refused_with_the_reason() {
        assert!(
            weight("-5").unwrap_err().contains("weight"),
            "{:?}",
            weight("-5")
        );
        assert!(weight("80").is_ok());
        assert!(height("1780").is_err());
        assert!(target("25").unwrap_err().contains("0.5 to 6"));
        assert!(number("eighty").unwrap_err().contains("not a number"));
        let args = PatientArgs {
            weight_kg: Some(80.0),
            height_cm: Some(178.0),
            sex: Some(SexArg::Male),
            target_tbv: Some(2.5),
        };
        // As the monitor's figures read them (the recorder publishes from the same).
        let meta = args.meta();
        let patient = Patient::from_meta(meta.patient.as_ref());
        let (target, _) = Target::from_meta(meta.targets.as_ref());
        assert!(patient.problems.is_empty(), "{:?}", patient.problems);
        let tbv = patient.tbv_ml().unwrap();
        assert!((tbv - 5_253.0).abs() < 10.0, "Nadler: {tbv}");
        assert_eq!(target, Target::Tbv(2.5));
    }
}
