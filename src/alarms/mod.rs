//! Alarms: the engine that decides what is alarming (`engine`) and the tones that say so
//! (`sound`).

pub mod engine;
pub mod sound;

pub use engine::{
    ActiveAlarm, AlarmEngine, AlarmEvent, AlarmInputs, AlarmSettings, AlarmSource, RuleSettings,
};
