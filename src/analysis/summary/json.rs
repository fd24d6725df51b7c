//! The summary in JSON (serde): the identity (with `tbv_method`, the key of
//! [`TbvMethod`]), then every figure of the table under its key (`null` when it could not be
//! computed), then the alarm and note logs, the list of what could not be computed and the
//! `notices`. Times are RFC 3339 in UTC to the millisecond, as in the recording;
//! priorities their one-letter code.

use serde::de::Error as _;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::figures::{Figure, Kind, Value};
use super::{AlarmRecord, MachineSummary, NoteRecord, Summary, TbvMethod, Unavailable};
use crate::recording::format::format_time_utc;

impl Serialize for Figure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for Figure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Figure, D::Error> {
        let key = String::deserialize(d)?;
        Figure::from_key(&key).ok_or_else(|| D::Error::custom(format!("no figure {key:?}")))
    }
}

/// A figure's value as JSON writes it.
struct Written(Option<Value>);

impl Serialize for Written {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => s.serialize_none(),
            Some(Value::Time(time)) => s.serialize_str(&format_time_utc(time)),
            Some(Value::Count(n)) => s.serialize_u64(n),
            Some(Value::Number(v)) => s.serialize_f64(v),
        }
    }
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("recording_file", &self.recording_file)?;
        map.serialize_entry("patient_id", &self.patient_id)?;
        map.serialize_entry("machine", &self.machine)?;
        map.serialize_entry("operator", &self.operator)?;
        map.serialize_entry("tbv_method", &self.tbv_method.map(TbvMethod::key))?;
        for &figure in Figure::ALL {
            map.serialize_entry(figure.key(), &Written(self.get(figure)))?;
        }
        map.serialize_entry("alarm_log", &self.alarm_log)?;
        map.serialize_entry("note_log", &self.note_log)?;
        map.serialize_entry("unavailable", &self.unavailable)?;
        map.serialize_entry("notices", &self.notices)?;
        map.serialize_entry("collection", &self.record)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Summary {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Summary, D::Error> {
        #[derive(Deserialize)]
        struct Fields {
            recording_file: Option<String>,
            patient_id: Option<String>,
            machine: Option<MachineSummary>,
            operator: Option<String>,
            /// Absent from summaries written before the TBV had methods.
            #[serde(default)]
            tbv_method: Option<String>,
            alarm_log: Vec<AlarmRecord>,
            note_log: Vec<NoteRecord>,
            unavailable: Vec<Unavailable>,
            #[serde(default)]
            notices: Vec<String>,
            /// Absent from summaries written before the collection record.
            #[serde(default)]
            collection: super::CollectionRecord,
            #[serde(flatten)]
            figures: serde_json::Map<String, serde_json::Value>,
        }
        let fields = Fields::deserialize(d)?;
        let tbv_method = match fields.tbv_method.as_deref() {
            None => None,
            Some(key) => Some(TbvMethod::from_key(key).ok_or_else(|| {
                D::Error::custom(format!("tbv_method {key:?} is not a TBV method"))
            })?),
        };
        let mut summary = Summary {
            recording_file: fields.recording_file,
            patient_id: fields.patient_id,
            machine: fields.machine,
            operator: fields.operator,
            tbv_method,
            notices: fields.notices,
            record: fields.collection,
            ..Summary::default()
        };
        for &figure in Figure::ALL {
            let value = match fields.figures.get(figure.key()) {
                None | Some(serde_json::Value::Null) => continue,
                Some(value) => value,
            };
            let kind = figure.def().unit.kind();
            let read = match kind {
                Kind::Time => value
                    .as_str()
                    .and_then(|text| text.parse().ok())
                    .map(Value::Time),
                Kind::Count => value.as_u64().map(Value::Count),
                Kind::Number => value.as_f64().map(Value::Number),
            };
            let read = read
                .ok_or_else(|| D::Error::custom(format!("{figure} is {value}, not a {kind:?}")))?;
            summary.set(figure, read);
        }
        summary.alarm_log = fields.alarm_log;
        summary.note_log = fields.note_log;
        summary.unavailable = fields.unavailable;
        Ok(summary)
    }
}

/// A time in the summary's JSON: RFC 3339 in UTC to the millisecond, as in the recording.
pub(super) mod utc {
    use jiff::Timestamp;
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _};

    use crate::recording::format::format_time_utc;

    pub fn serialize<S: Serializer>(time: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_time_utc(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// An optional time in the summary's JSON: as [`utc`], or `null`.
pub(super) mod utc_or_null {
    use jiff::Timestamp;
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _};

    #[expect(clippy::ref_option, reason = "serde's `with` passes a reference")]
    pub fn serialize<S: Serializer>(time: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => super::utc::serialize(time, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| text.parse().map_err(D::Error::custom))
            .transpose()
    }
}

/// An alarm priority in the summary's JSON: its one-letter code (`H`, `M`, `L`, `I`).
pub(super) mod priority_code {
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _};

    use crate::model::Priority;

    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "serde's `with` passes a reference"
    )]
    pub fn serialize<S: Serializer>(priority: &Priority, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(priority.code())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Priority, D::Error> {
        let code = String::deserialize(d)?;
        Priority::from_code(&code)
            .ok_or_else(|| D::Error::custom(format!("{code:?} is not an alarm priority")))
    }
}
