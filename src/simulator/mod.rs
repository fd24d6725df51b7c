//! The built-in simulated apheresis machine: a realistic, seeded leukapheresis procedure spoken
//! in APH/1 over a real pseudo-terminal (or a named serial port), with optional faults.
//!
//! Architecture Invariant: the simulator reaches the monitor only through a serial line, so the
//! demo and the tests exercise the real acquisition path. The one exception is the demo where
//! the system has no pseudo-terminals (Windows): there it writes to an in-memory line
//! ([`pipe`]) that the acquisition worker reads as it reads a port, bytes only.

pub mod faults;
pub mod machine;
pub mod pipe;
mod rng;
pub mod runner;

pub use faults::{FaultInjector, FaultKind};
pub use machine::{SimConfig, SimMachine};
pub use pipe::{IN_MEMORY_PORT, NoReopen, PipeReader, PipeWriter, in_memory_line};
#[cfg(unix)]
pub use runner::PtyOutput;
pub use runner::{DemoMachine, PortOutput, RunOptions, RunReport, Sent, SimOutput, run};
