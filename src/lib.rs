//! Apheresis session monitor: live telemetry from an apheresis machine over APH/1, recorded to
//! a crash-safe CSV journal, replayed and summarised for the patient record ([`export`]).
//!
//! The core (everything but [`ui`]) never touches egui, so it builds and tests headless. See
//! ARCHITECTURE.md for the map.

pub mod acquisition;
pub mod alarms;
pub mod analysis;
pub mod export;
pub mod job;
pub mod model;
pub mod present;
pub mod protocol;
pub mod recording;
pub mod session;
pub mod simulator;
#[cfg(feature = "gui")]
pub mod ui;
pub mod ward;
