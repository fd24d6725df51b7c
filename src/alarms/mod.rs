//! Alarms: the engine that decides what is alarming (`engine`) and the tones that say so
//! (`sound`).

pub mod engine;
pub mod sound;
pub mod stale;

pub use engine::{
    ActiveAlarm, AlarmEngine, AlarmEvent, AlarmInputs, AlarmOff, AlarmSettings, AlarmSource,
    RuleSettings,
};
pub use stale::{STALE_AFTER_S, SampleAge};
