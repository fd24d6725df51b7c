//! The messages, as JSON (`schema` 1): a bedside's [`BedStatus`] (retained, at most once a
//! second), its alarm events ([`AlarmMessage`], QoS 1) and its recent trend ([`Trend`],
//! retained). Units are in the field names; times are UTC RFC 3339 strings.
//!
//! Ages are not computed across two clocks: a bedside sends how old its data was when it
//! published (`data_age_s`), and the ward adds how long ago the message reached it (on its
//! own monotonic clock), so a bedside whose clock is wrong still shows the right age.

use serde::{Deserialize, Serialize};

use super::topic::Bed;

/// The version of these messages; a ward refuses (and names) a schema it does not know.
pub const SCHEMA: u32 = 1;

/// The most samples a [`Trend`] holds (one a minute: the last six hours).
pub const TREND_POINTS: usize = 360;

/// What a bedside shows, published retained under `apheresis/<bed>/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BedStatus {
    pub schema: u32,
    pub bed: Bed,
    /// When the bedside published this (its clock; for the record, not for ages).
    pub published_utc: String,
    /// The machine's state (`RUN`, `PAUSE`, …), `None` before the first state row.
    pub state: Option<String>,
    pub wb_processed_ml: Option<f64>,
    pub tbv_processed: Option<f64>,
    /// The target whole-blood volume, if a target and the patient's TBV are known.
    pub target_wb_ml: Option<f64>,
    /// 0 to 1 (or above, past the target).
    pub progress: Option<f64>,
    /// When the target will be reached at the recent rate (UTC), if it can be projected.
    pub projected_end_utc: Option<String>,
    /// The citrate rule's reading, mL of AC per minute per litre of TBV.
    pub citrate_ml_min_l: Option<f64>,
    /// The active alarms, most urgent first.
    pub alarms: Vec<BedAlarm>,
    /// How old the newest sample was when this was published; `None` before the first.
    pub data_age_s: Option<f64>,
    /// The serial link: `up`, `silent`, `down` or `closed`.
    pub link: String,
    /// The recording's file name (never its folder).
    pub recording: Option<String>,
    /// Patient identifiers, only when the bedside's setting allows it (off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
}

/// One active alarm of a bedside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BedAlarm {
    /// The alarm's code (`MON_…` for the monitor's own, else the machine's).
    pub code: String,
    /// `HIGH`, `MEDIUM`, `LOW` or `INFO`.
    pub priority: String,
    pub text: String,
    pub acknowledged: bool,
    pub raised_utc: String,
}

/// An alarm raised, cleared or acknowledged at a bedside: `apheresis/<bed>/alarm`, QoS 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmMessage {
    pub schema: u32,
    pub bed: Bed,
    /// `raised`, `cleared` or `acknowledged`.
    pub event: String,
    pub code: String,
    pub priority: String,
    pub text: String,
    pub at_utc: String,
}

/// A bedside's recent trend (one point a minute, at most [`TREND_POINTS`]), retained under
/// `apheresis/<bed>/trend` so a ward that starts late still draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub schema: u32,
    pub bed: Bed,
    pub points: Vec<TrendPoint>,
}

/// One point of a [`Trend`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// Seconds since the recording started.
    pub t_s: f64,
    pub wb_processed_ml: Option<f64>,
    pub inlet_ml_min: Option<f64>,
    pub access_mmhg: Option<f64>,
    pub return_mmhg: Option<f64>,
}

/// Why a message was refused.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("not a ward message: {0}")]
    Json(#[from] serde_json::Error),
    #[error("message schema {found} is not known here (this ward reads schema {SCHEMA})")]
    Schema { found: u32 },
    #[error("the message names bed {inside} but came on bed {topic}'s topic")]
    WrongBed { topic: String, inside: String },
}

/// Reads a message of type `T` that came on `bed`'s topic: the JSON must parse, carry a known
/// schema, and name the bed whose topic it came on (a bedside cannot speak for another).
pub fn read<T>(bed: &Bed, payload: &[u8]) -> Result<T, MessageError>
where
    T: for<'de> Deserialize<'de> + Versioned,
{
    let message: T = serde_json::from_slice(payload)?;
    if message.schema() != SCHEMA {
        return Err(MessageError::Schema {
            found: message.schema(),
        });
    }
    if message.bed() != bed {
        return Err(MessageError::WrongBed {
            topic: bed.to_string(),
            inside: message.bed().to_string(),
        });
    }
    Ok(message)
}

/// A message with a schema and a bed.
pub trait Versioned {
    fn schema(&self) -> u32;
    fn bed(&self) -> &Bed;
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn schema(&self) -> u32 {
                self.schema
            }
            fn bed(&self) -> &Bed {
                &self.bed
            }
        }
    )*};
}
versioned!(BedStatus, AlarmMessage, Trend);

#[cfg(test)]
mod tests {
    use super::*;

    fn status(bed: &str) -> BedStatus {
        BedStatus {
            schema: SCHEMA,
            bed: Bed::new(bed).unwrap(),
            published_utc: "2026-12-01T10:00:00Z".into(),
            state: Some("RUN".into()),
            wb_processed_ml: Some(2740.0),
            tbv_processed: Some(0.52),
            target_wb_ml: Some(13_120.0),
            progress: Some(0.21),
            projected_end_utc: None,
            citrate_ml_min_l: Some(0.77),
            alarms: vec![],
            data_age_s: Some(0.4),
            link: "up".into(),
            recording: Some("session-2026-12-01-100000.csv".into()),
            patient: None,
        }
    }

    #[test]
    fn a_status_reads_back_and_carries_no_patient_by_default() {
        let s = status("bay1");
        let json = serde_json::to_vec(&s).unwrap();
        assert!(!String::from_utf8_lossy(&json).contains("patient"));
        let back: BedStatus = read(&s.bed, &json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_message_for_another_bed_or_schema_is_refused() {
        let s = status("bay1");
        let json = serde_json::to_vec(&s).unwrap();
        let other = Bed::new("bay2").unwrap();
        let err = read::<BedStatus>(&other, &json).unwrap_err();
        assert!(matches!(err, MessageError::WrongBed { .. }), "{err}");
        let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        v["schema"] = 2.into();
        let err = read::<BedStatus>(&s.bed, v.to_string().as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "message schema 2 is not known here (this ward reads schema 1)"
        );
        assert!(read::<BedStatus>(&s.bed, b"{").is_err());
    }
}
