//! Alarms: the engine that decides what is alarming (`engine`, with the citrate rule in
//! `citrate`), the limits of a patient's session (`limits`), the replay of a recording through
//! the engine (`audit`) and the tones that say so (`tones`, IEC 60601-1-8's bursts; `sound`,
//! which plays them).

pub mod audit;
pub mod citrate;
pub mod engine;
pub mod limits;
#[cfg(feature = "sound")]
pub mod sound;
pub mod stale;
pub mod tones;

pub use citrate::{CitrateReading, CitrateSettings};
pub use engine::{
    Acknowledgement, ActiveAlarm, AlarmEngine, AlarmEvent, AlarmInputs, AlarmOff, AlarmRecord,
    AlarmSettings, AlarmSource, RuleSettings,
};
pub use limits::{SessionLimits, limits_meta};
pub use stale::{STALE_AFTER_S, SampleAge};
