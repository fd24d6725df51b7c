//! The session metadata file, `<stem>.session.json`, written atomically beside the recording.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::MachineIdentity;

use super::files::{create_private_file, sync_dir};

/// The `format` value this version writes and reads.
pub const META_FORMAT: &str = "aph-session/1";

/// Patient details as stored. Numbers are kept as raw JSON so that a file with a wrong type
/// still loads; [`crate::analysis::patient::Patient`] validates them before any use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientMeta {
    /// Pseudonymous patient id: never a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_cm: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Value>,
    /// Age at the session: `{"value": 3, "unit": "years"}` (`months`, `weeks`, `days`). Under
    /// 25 kg the TBV is estimated per kg by age band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<Value>,
    /// A TBV the nurse entered, mL: it overrides the estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tbv_entered_ml: Option<Value>,
    /// How the monitor arrived at the TBV (`nadler`, `ml_per_kg_neonate`, `ml_per_kg_infant`,
    /// `ml_per_kg_child`, `entered`), written for other readers of the file: the monitor works
    /// it out again from the details above whenever it reads them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tbv_method: Option<Value>,
    /// The hospital's patient number (personal data: never logged, never in a file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hospital_number: Option<Value>,
    /// The NHS number, ten digits with a modulus 11 check digit (personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<Value>,
    /// Date of birth, `YYYY-MM-DD` (personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The collection's identity and consumables, as stored; checked by
/// [`crate::analysis::collection::CollectionDetails`] before any use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectionMeta {
    /// The manufacturer's collection ID, or an ISBT 128 donation identification number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// `peripheral`, `central_line` or `vascath`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Value>,
    /// Where the access is (`left antecubital`, `right IJ`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_site: Option<Value>,
    /// The second checker of the identity (the operator is the file's `operator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checker: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anticoagulant_lot: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kit_lot: Option<Value>,
    /// The kit's expiry date, `YYYY-MM-DD` (or `YYYY-MM`: the end of that month).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kit_expiry: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What the collection aims for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetsMeta {
    /// Total blood volumes to process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tbv_processed: Option<Value>,
    /// Alternatively, litres of whole blood to process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wb_processed_l: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Laboratory values entered by the nurse for the collection efficiency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabMeta {
    /// Pre-collection peripheral CD3+ count, cells/µL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_cd3_per_ul: Option<Value>,
    /// Product CD3+ count, cells/µL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_cd3_per_ul: Option<Value>,
    /// Product volume measured after collection, mL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_volume_ml: Option<Value>,
    /// Target CD3+ dose, cells (absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_cd3_cells: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LabMeta {
    /// The lab block as one JSON object, every key in it (the typed ones and the others), for
    /// [`crate::analysis::labs::Analyte::read`]; empty for a block that does not serialise.
    pub fn fields(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(fields)) => fields,
            _ => Map::new(),
        }
    }

    /// [`LabMeta::fields`] of a session's lab block, empty without one.
    pub fn fields_of(meta: Option<&SessionMeta>) -> Map<String, Value> {
        meta.and_then(|m| m.lab.as_ref())
            .map(LabMeta::fields)
            .unwrap_or_default()
    }
}

/// The alarm limits of the patient's session: the settings of the monitor's rules, keyed as
/// [`crate::alarms::AlarmSettings`] serialises them (for example
/// `{"citrate_acd_a_ml_min_per_l_tbv": {"limit": 1.2}, "citrate": {"average_min": 5,
/// "anticoagulant": "ACD-A"}}`). Written from the app's settings when a session starts and
/// changed in the alarm limits window. Kept as the JSON written, whatever its shape, so that a
/// wrong value still loads and a rewrite loses nothing (keys this version does not know
/// included); [`crate::alarms::SessionLimits`] validates it before any use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LimitsMeta(pub Value);

impl Default for LimitsMeta {
    fn default() -> Self {
        LimitsMeta(Value::Object(Map::new()))
    }
}

/// The whole metadata file. Every key but `format` is optional; unknown keys are kept so that
/// rewriting the file never loses what another tool put there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<PatientMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<TargetsMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<MachineIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_utc: Option<String>,
    /// Who ran the collection (free text, for the report's operator field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab: Option<LabMeta>,
    /// The collection's identity and consumables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<CollectionMeta>,
    /// Set when the recording is of the built-in simulated machine.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "demo_or_none"
    )]
    pub demo: Option<DemoMarker>,
    /// The alarm limits of this patient's session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsMeta>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Marks a recording of the simulated machine, so that resuming it after a crash restarts the
/// machine where it would be by then (same seed, same speed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DemoMarker {
    pub seed: u64,
    pub speed: f64,
}

/// A `demo` value that is not a marker is ignored rather than making the file unreadable.
fn demo_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DemoMarker>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

impl Default for SessionMeta {
    fn default() -> Self {
        SessionMeta {
            format: META_FORMAT.to_owned(),
            patient: None,
            targets: None,
            machine: None,
            started_utc: None,
            operator: None,
            lab: None,
            collection: None,
            demo: None,
            limits: None,
            extra: Map::new(),
        }
    }
}

/// Why the metadata file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a session metadata file: {source}")]
    Invalid { path: PathBuf, source: InvalidMeta },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Why a metadata file's content is not session metadata.
#[derive(Debug, thiserror::Error)]
pub enum InvalidMeta {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("format is `{found}`, expected `{META_FORMAT}`")]
    WrongFormat { found: String },
    #[error("{bytes} bytes is too large")]
    TooLarge { bytes: u64 },
}

/// The metadata path for a recording: `<stem>.session.json` beside it.
pub fn meta_path_for(recording: &Path) -> PathBuf {
    let stem = recording
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    recording.with_file_name(format!("{stem}.session.json"))
}

/// Parses metadata from JSON text.
pub fn parse_meta(text: &str) -> Result<SessionMeta, InvalidMeta> {
    let meta: SessionMeta = serde_json::from_str(text)?;
    if meta.format != META_FORMAT {
        return Err(InvalidMeta::WrongFormat { found: meta.format });
    }
    Ok(meta)
}

/// Largest metadata file read; anything bigger is not one of ours.
const MAX_META_BYTES: u64 = 1 << 20;

/// Reads the metadata beside `recording`; `Ok(None)` when there is none.
pub fn read_meta(recording: &Path) -> Result<Option<SessionMeta>, MetaError> {
    let path = meta_path_for(recording);
    let size = match fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(MetaError::Read { path, source }),
    };
    if size > MAX_META_BYTES {
        return Err(MetaError::Invalid {
            path,
            source: InvalidMeta::TooLarge { bytes: size },
        });
    }
    let text = fs::read_to_string(&path).map_err(|source| MetaError::Read {
        path: path.clone(),
        source,
    })?;
    parse_meta(&text)
        .map(Some)
        .map_err(|source| MetaError::Invalid { path, source })
}

/// Writes the metadata beside `recording` atomically (a private temporary file, fsync, rename),
/// so a crash leaves either the old file or the new one, never half of one.
pub fn write_meta(recording: &Path, meta: &SessionMeta) -> Result<(), MetaError> {
    let path = meta_path_for(recording);
    let tmp = path.with_extension("json.tmp");
    let write = || -> std::io::Result<()> {
        let _ = fs::remove_file(&tmp);
        let mut file = create_private_file(&tmp)?;
        let json = serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?;
        file.write_all(&json)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&tmp, &path)?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    };
    write().map_err(|source| MetaError::Write {
        path: path.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_parses_and_unknown_keys_survive_a_rewrite() {
        let text = r#"{
          "format": "aph-session/1",
          "patient": { "id": "P-0001", "weight_kg": 70.0, "height_cm": 175.0, "sex": "male", "ward": "7B" },
          "targets": { "tbv_processed": 2.5 },
          "machine": { "model": "SIM-OPTIA", "serial_no": "SN000123", "software_version": "1.0.0" },
          "started_utc": "2026-03-14T08:05:00.350Z",
          "from_other_tool": [1, 2]
        }"#;
        let meta = parse_meta(text).unwrap();
        let patient = meta.patient.as_ref().unwrap();
        assert_eq!(patient.id.as_deref(), Some("P-0001"));
        assert_eq!(patient.weight_kg, Some(Value::from(70.0)));
        assert_eq!(meta.machine.as_ref().unwrap().serial_no, "SN000123");
        let again = parse_meta(&serde_json::to_string(&meta).unwrap()).unwrap();
        assert_eq!(again, meta);
        assert!(again.extra.contains_key("from_other_tool"));
        assert!(again.patient.unwrap().extra.contains_key("ward"));
    }

    #[test]
    fn limits_round_trip_whatever_they_hold_and_old_files_have_none() {
        let text = r#"{
          "format": "aph-session/1",
          "limits": {
            "citrate_acd_a_ml_min_per_l_tbv": { "limit": 1.1, "from_a_later_version": true },
            "citrate": { "average_min": 4, "anticoagulant": "ACD-B" },
            "unknown_rule": { "limit": 3 }
          }
        }"#;
        let meta = parse_meta(text).unwrap();
        let limits = meta.limits.as_ref().unwrap();
        assert_eq!(limits.0["citrate"]["anticoagulant"], "ACD-B");
        let again = parse_meta(&serde_json::to_string(&meta).unwrap()).unwrap();
        assert_eq!(again, meta);
        assert_eq!(again.limits.unwrap().0["unknown_rule"]["limit"], 3);
        // A wrong shape still loads (and is reported when used, not here).
        let odd = parse_meta(r#"{"format":"aph-session/1","limits":"strict"}"#).unwrap();
        assert_eq!(odd.limits, Some(LimitsMeta(Value::from("strict"))));
        // Files written before limits existed read as before, and none is written for them.
        let old = parse_meta(r#"{"format":"aph-session/1","operator":"RN"}"#).unwrap();
        assert_eq!(old.limits, None);
        assert!(!serde_json::to_string(&old).unwrap().contains("limits"));
    }

    #[test]
    fn wrong_types_still_load_and_wrong_format_does_not() {
        let meta =
            parse_meta(r#"{"format":"aph-session/1","patient":{"weight_kg":"heavy"}}"#).unwrap();
        assert_eq!(meta.patient.unwrap().weight_kg, Some(Value::from("heavy")));
        assert!(parse_meta(r#"{"format":"other/2"}"#).is_err());
        assert!(parse_meta(r#"{"patient":{}}"#).is_err());
        assert!(parse_meta("not json").is_err());
    }

    #[test]
    fn text_that_is_not_metadata_says_why() {
        assert_eq!(
            parse_meta(r#"{"format":"other/2"}"#)
                .unwrap_err()
                .to_string(),
            "format is `other/2`, expected `aph-session/1`"
        );
        let json_error = serde_json::from_str::<SessionMeta>("not json").unwrap_err();
        assert_eq!(
            parse_meta("not json").unwrap_err().to_string(),
            json_error.to_string()
        );

        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("session-1.csv");
        let path = meta_path_for(&csv);
        fs::write(&path, vec![b' '; (MAX_META_BYTES + 1) as usize]).unwrap();
        assert_eq!(
            read_meta(&csv).unwrap_err().to_string(),
            format!(
                "{} is not a session metadata file: {} bytes is too large",
                path.display(),
                MAX_META_BYTES + 1
            )
        );
        fs::write(&path, "[]").unwrap();
        let json_error = serde_json::from_str::<SessionMeta>("[]").unwrap_err();
        assert_eq!(
            read_meta(&csv).unwrap_err().to_string(),
            format!(
                "{} is not a session metadata file: {json_error}",
                path.display()
            )
        );
    }

    #[test]
    fn metadata_is_written_atomically_and_privately() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("session-1.csv");
        let mut meta = SessionMeta {
            operator: Some("RN Smith".into()),
            ..SessionMeta::default()
        };
        write_meta(&csv, &meta).unwrap();
        meta.operator = Some("RN Jones".into());
        write_meta(&csv, &meta).unwrap();
        #[cfg(unix)]
        let path = dir.path().join("session-1.session.json");
        assert_eq!(read_meta(&csv).unwrap(), Some(meta));
        assert!(!dir.path().join("session-1.session.json.tmp").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(read_meta(&dir.path().join("none.csv")).unwrap(), None);
    }

    #[test]
    fn the_age_and_the_tbv_keys_round_trip_and_older_files_read_as_before() {
        let text = r#"{"format":"aph-session/1","patient":{"weight_kg":10,
            "age":{"value":3,"unit":"years"},"tbv_entered_ml":820,"tbv_method":"entered",
            "ward":"7B"}}"#;
        let meta = parse_meta(text).unwrap();
        let patient = meta.patient.as_ref().unwrap();
        assert_eq!(
            patient.age,
            Some(serde_json::json!({"value": 3, "unit": "years"}))
        );
        assert_eq!(patient.tbv_entered_ml, Some(Value::from(820)));
        assert_eq!(patient.tbv_method, Some(Value::from("entered")));
        assert!(patient.extra.contains_key("ward"));
        let again = parse_meta(&serde_json::to_string(&meta).unwrap()).unwrap();
        assert_eq!(again, meta);
        // Wrong types still load (they are reported when validated, never used).
        let odd = parse_meta(
            r#"{"format":"aph-session/1","patient":{"age":"three","tbv_entered_ml":[1],"tbv_method":7}}"#,
        )
        .unwrap();
        assert_eq!(odd.patient.unwrap().age, Some(Value::from("three")));
        // A file written before these keys: none appear when it is written back.
        let old = parse_meta(r#"{"format":"aph-session/1","patient":{"weight_kg":70}}"#).unwrap();
        let written = serde_json::to_string(&old).unwrap();
        assert_eq!(
            written,
            r#"{"format":"aph-session/1","patient":{"weight_kg":70}}"#
        );
    }
}
