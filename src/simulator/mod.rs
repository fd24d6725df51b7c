//! The built-in simulated apheresis machine: a realistic, seeded leukapheresis procedure spoken
//! in APH/1 over a real pseudo-terminal (or a named serial port), with optional faults.
//!
//! Architecture Invariant: the simulator reaches the monitor only through a serial line, never
//! through memory, so the demo and the tests exercise the real acquisition path.

pub mod faults;
pub mod machine;
mod rng;
pub mod runner;

pub use faults::{FaultInjector, FaultKind};
pub use machine::{SimConfig, SimMachine};
#[cfg(unix)]
pub use runner::{DemoMachine, PtyOutput};
pub use runner::{PortOutput, RunOptions, RunReport, Sent, SimOutput, run};
