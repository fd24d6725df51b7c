//! Acquisition: from the serial port to the recording and the UI's channel.
//!
//! Architecture Invariant: every entry is handed to the recorder before it is sent to the UI;
//! the worker never blocks on the UI, and the UI never blocks on the worker.
//! Architecture Invariant: a lost port is reopened every `reconnect_interval` for as long as
//! the session lasts; no restart of the program is needed. It is found again by its stable
//! identity (by-id link, USB serial number), so a device that comes back under another name
//! (`ttyUSB1` for `ttyUSB0`) is followed (`devices.rs`, `opener.rs`).

pub mod devices;
pub mod events;
pub mod journal;
pub mod opener;
pub mod port;
pub mod worker;

pub use devices::{
    DEFAULT_BY_ID_DIR, DeviceFinder, PortIdentity, PortKind, PortListing, UsbDevice, list_ports,
    list_ports_in,
};
pub use journal::Journalist;
pub use opener::{PortOpener, SerialOpener};
pub use port::{DEFAULT_BAUD, ListPortsError, PortError, STANDARD_BAUDS, open_serial};
pub use worker::{
    AcqEvent, Acquisition, LinkState, MetaEdit, ResumeCheck, StopReason, WorkerConfig, WorkerReport,
};
