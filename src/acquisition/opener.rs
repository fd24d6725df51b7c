//! What the worker (re)opens: the port, found again by its stable identity each time, so a
//! USB adapter that comes back as `ttyUSB1` instead of `ttyUSB0` is followed, and the device
//! name it is on now is what the link rows record.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use super::devices::{DeviceFinder, PortIdentity, list_ports_in, read_link_target};
use super::port::{PortError, open_device};
use super::worker::WorkerConfig;

/// Something the worker can (re)open to read bytes from.
pub trait PortOpener: Send {
    fn open(&mut self) -> Result<Box<dyn Read + Send>, PortError>;

    /// The device the last open found (before any, the one the port named when the session
    /// started): `/dev/ttyUSB1` for a by-id link. `None` when the opener cannot say.
    fn device(&self) -> Option<String> {
        None
    }

    /// How `device` was found, for the link row: " (by-id /dev/serial/by-id/…)",
    /// " (USB serial A10K3X9Z)", or nothing.
    fn how_found(&self, _device: &str) -> String {
        String::new()
    }
}

/// Opens a serial port by its identity (by-id link, USB serial number or path); the real
/// thing.
#[derive(Debug, Clone)]
pub struct SerialOpener {
    /// The port as the session names it (`WorkerConfig::port`).
    pub path: String,
    pub baud: u32,
    pub read_timeout: Duration,
    by_id_dir: PathBuf,
    finder: DeviceFinder,
    device: Option<String>,
}

impl SerialOpener {
    /// Opens the port `config` names, at its baud and read timeout. Lists the ports once (from
    /// /sys, no port is opened) to learn which USB adapter, if any, is at the port now, so
    /// that it can be found by its serial number if it comes back under another name.
    pub fn for_config(config: &WorkerConfig) -> SerialOpener {
        let identity = PortIdentity::parse(&config.port, &config.by_id_dir);
        let ports = list_ports_in(&config.by_id_dir).unwrap_or_else(|e| {
            tracing::debug!(error = %e, "cannot list serial ports");
            Vec::new()
        });
        let finder = DeviceFinder::new(identity, &ports, read_link_target);
        let device = finder.find(&ports, read_link_target);
        SerialOpener {
            path: config.port.clone(),
            baud: config.baud,
            read_timeout: config.read_timeout,
            by_id_dir: config.by_id_dir.clone(),
            finder,
            device,
        }
    }
}

impl PortOpener for SerialOpener {
    fn open(&mut self) -> Result<Box<dyn Read + Send>, PortError> {
        let ports = if self.finder.needs_listing() {
            list_ports_in(&self.by_id_dir).unwrap_or_default()
        } else {
            Vec::new()
        };
        let device =
            self.finder
                .find(&ports, read_link_target)
                .ok_or_else(|| PortError::NotFound {
                    port: self.path.clone(),
                })?;
        let port = open_device(&device, self.baud, self.read_timeout)?;
        if self.device.as_deref() != Some(device.as_str()) {
            tracing::warn!(port = %self.path, %device, "serial device found under a new name");
        }
        self.device = Some(device);
        Ok(port)
    }

    fn device(&self) -> Option<String> {
        self.device.clone()
    }

    fn how_found(&self, device: &str) -> String {
        self.finder.how_found(device)
    }
}
