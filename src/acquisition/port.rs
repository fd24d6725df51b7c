//! Serial ports: opening them with errors a nurse or an engineer can act on (listing them and
//! finding a device again under a new name: `devices.rs`).

use std::io;
use std::time::Duration;

use super::devices::{PortIdentity, device_now};

/// Standard rates the monitor offers; APH/1 allows any of them.
pub const STANDARD_BAUDS: [u32; 8] = [
    9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600,
];

/// The protocol's default rate.
pub const DEFAULT_BAUD: u32 = 115_200;

/// Why a port could not be opened. Each message names the port and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error(
        "serial port {port} does not exist: check that the cable or USB adapter is plugged in, and run `apheresis-monitor ports` to list the ports"
    )]
    NotFound { port: String },
    #[error(
        "no permission to open serial port {port}: add your user to the dialout group (`sudo usermod -aG dialout $USER`), then log out and back in"
    )]
    PermissionDenied { port: String },
    #[error("serial port {port} is in use by another program: close it there first")]
    Busy { port: String },
    #[error("{port} is not a serial port")]
    NotASerialPort { port: String },
    #[error("{baud} baud is not a standard rate (9600 to 921600)")]
    UnsupportedBaud { baud: u32 },
    #[error("cannot open serial port {port}: {message}")]
    Other { port: String, message: String },
}

impl PortError {
    fn from_serialport(port: &str, error: &serialport::Error) -> PortError {
        let port = port.to_owned();
        match error.kind() {
            serialport::ErrorKind::Io(io::ErrorKind::NotFound) => PortError::NotFound { port },
            serialport::ErrorKind::Io(io::ErrorKind::PermissionDenied) => {
                PortError::PermissionDenied { port }
            }
            serialport::ErrorKind::NoDevice => PortError::Busy { port },
            _ if error.description.contains("ioctl")
                || error.description.contains("typewriter") =>
            {
                PortError::NotASerialPort { port }
            }
            _ => PortError::Other {
                port,
                message: error.description.clone(),
            },
        }
    }
}

/// Opens `path` at `baud`, 8N1, no flow control, with `read_timeout` for reads. `path` may
/// also name a USB adapter by its serial number (`usb:VID:PID:SERIAL`): the port it is on now
/// is opened.
pub fn open_serial(
    path: &str,
    baud: u32,
    read_timeout: Duration,
) -> Result<Box<dyn serialport::SerialPort>, PortError> {
    if !STANDARD_BAUDS.contains(&baud) {
        return Err(PortError::UnsupportedBaud { baud });
    }
    let by_id_dir = std::path::Path::new(super::devices::DEFAULT_BY_ID_DIR);
    if let PortIdentity::UsbSerial { .. } = PortIdentity::parse(path, by_id_dir) {
        let device = device_now(path, by_id_dir).ok_or_else(|| PortError::NotFound {
            port: path.to_owned(),
        })?;
        return open_device(&device, baud, read_timeout);
    }
    open_device(path, baud, read_timeout)
}

/// Opens the device at `path` (no identity to look up).
pub(super) fn open_device(
    path: &str,
    baud: u32,
    read_timeout: Duration,
) -> Result<Box<dyn serialport::SerialPort>, PortError> {
    if !STANDARD_BAUDS.contains(&baud) {
        return Err(PortError::UnsupportedBaud { baud });
    }
    if !std::path::Path::new(path).exists() && cfg!(unix) {
        return Err(PortError::NotFound {
            port: path.to_owned(),
        });
    }
    serialport::new(path, baud)
        .data_bits(serialport::DataBits::Eight)
        .parity(serialport::Parity::None)
        .stop_bits(serialport::StopBits::One)
        .flow_control(serialport::FlowControl::None)
        .timeout(read_timeout)
        .open()
        .map_err(|e| PortError::from_serialport(path, &e))
}

/// Why the serial ports could not be listed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ListPortsError {
    /// The system's own listing failed (udev on Linux, the registry on Windows); its
    /// description is the message.
    #[error(transparent)]
    System(#[from] serialport::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_port_names_itself_and_the_fix() {
        let err = open_serial(
            "/dev/ttyUSB-does-not-exist",
            DEFAULT_BAUD,
            Duration::from_millis(10),
        )
        .err()
        .unwrap();
        assert_eq!(
            err,
            PortError::NotFound {
                port: "/dev/ttyUSB-does-not-exist".into()
            }
        );
        assert!(err.to_string().contains("apheresis-monitor ports"));
    }

    #[test]
    fn a_regular_file_is_not_a_serial_port() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let path = file.path().to_str().unwrap();
        let err = open_serial(path, DEFAULT_BAUD, Duration::from_millis(10))
            .err()
            .unwrap();
        assert!(matches!(err, PortError::NotASerialPort { .. }), "{err}");
    }

    #[test]
    fn a_failed_listing_reads_as_the_system_says() {
        let error = ListPortsError::from(serialport::Error::new(
            serialport::ErrorKind::Unknown,
            "udev is not running",
        ));
        assert_eq!(error.to_string(), "udev is not running");
    }

    #[test]
    fn a_nonstandard_rate_is_refused() {
        let err = open_serial("/dev/null", 12_345, Duration::from_millis(10))
            .err()
            .unwrap();
        assert_eq!(err, PortError::UnsupportedBaud { baud: 12_345 });
    }

    #[cfg(unix)]
    #[test]
    fn a_pseudo_terminal_opens_by_path() {
        let (_master, slave) = serialport::TTYPort::pair().unwrap();
        let path = serialport::SerialPort::name(&slave).unwrap();
        drop(slave);
        assert!(open_serial(&path, DEFAULT_BAUD, Duration::from_millis(10)).is_ok());
    }
}
