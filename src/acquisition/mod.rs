//! Acquisition: from the serial port to the recording and the UI's channel.
//!
//! Architecture Invariant: every entry is handed to the recorder before it is sent to the UI;
//! the worker never blocks on the UI, and the UI never blocks on the worker.
//! Architecture Invariant: a lost port is reopened by name every `reconnect_interval` for as
//! long as the session lasts; no restart of the program is needed.

pub mod events;
pub mod journal;
pub mod port;
pub mod worker;

pub use journal::Journalist;
pub use port::{
    DEFAULT_BAUD, ListPortsError, PortError, PortListing, STANDARD_BAUDS, list_ports, open_serial,
};
pub use worker::{
    AcqEvent, Acquisition, LinkState, MetaEdit, PortOpener, ResumeCheck, SerialOpener, StopReason,
    WorkerConfig, WorkerReport,
};
