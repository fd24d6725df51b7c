//! Clinical arithmetic and session analysis: patient measures, the live timeline, summaries.
//!
//! Architecture Invariant: no I/O and no screen here; every figure is a function of the
//! entries and metadata it is given.

pub mod patient;
