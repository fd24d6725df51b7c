//! Clinical arithmetic and session analysis: patient measures, the session timeline, progress,
//! the session summary, decimation for plots.
//!
//! Architecture Invariant: no I/O and no screen here; every figure is a function of the
//! entries and metadata it is given.

pub mod changes;
pub mod citrate;
pub mod collection;
pub mod counters;
pub mod decimate;
pub mod forecast;
pub mod identity;
pub mod labs;
pub mod patient;
pub mod progress;
pub mod records;
pub mod summary;
pub mod timeline;

pub use patient::{Patient, Sex};
pub use progress::{Progress, Target, progress};
pub use summary::{Figure, Summary, summarize};
pub use timeline::{Moment, Series, Timeline};
