//! Serial devices that keep their name.
//!
//! A USB-serial adapter unplugged and plugged back can come back as `/dev/ttyUSB1` instead of
//! `/dev/ttyUSB0` (or under another COM number). The monitor therefore names a device by what
//! stays the same: its `/dev/serial/by-id/…` link on Linux, else its USB vendor, product and
//! serial number (`usb:VID:PID:SERIAL`), else (a pseudo-terminal, a built-in UART, an adapter
//! with no serial number) its plain path. [`PortIdentity`] is that name; [`DeviceFinder`]
//! finds the device it names as it is now, from a listing of the ports ([`PortListing`]).
//!
//! Only the listing and the by-id links touch the system; finding is pure, so tests inject
//! the listing.

use std::path::{Component, Path, PathBuf};

use super::port::ListPortsError;

/// Where udev keeps one stable link per USB-serial adapter.
pub const DEFAULT_BY_ID_DIR: &str = "/dev/serial/by-id";

/// The prefix of a USB identity written as text: `usb:VID:PID:SERIAL` (hexadecimal ids).
const USB_PREFIX: &str = "usb:";

/// A USB adapter as the system describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsbDevice {
    pub vid: u16,
    pub pid: u16,
    pub serial_number: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
}

impl UsbDevice {
    /// Whether `other` is this very adapter: same ids and the same serial number. An adapter
    /// without a serial number is never taken for another one.
    pub fn same_adapter(&self, vid: u16, pid: u16, serial: &str) -> bool {
        self.vid == vid && self.pid == pid && self.serial_number.as_deref() == Some(serial)
    }

    /// "FTDI FT232R USB UART", or "USB adapter 0403:6001" when it does not say.
    fn what(&self) -> String {
        let named: Vec<&str> = [self.manufacturer.as_deref(), self.product.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if named.is_empty() {
            format!("USB adapter {:04x}:{:04x}", self.vid, self.pid)
        } else {
            named.join(" ")
        }
    }
}

/// What kind of port the system says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortKind {
    Usb,
    Pci,
    Bluetooth,
    Other,
}

/// A port the system knows of now, for pickers and `apheresis-monitor ports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortListing {
    /// Its device name now (`/dev/ttyUSB0`, `COM3`).
    pub path: String,
    pub kind: PortKind,
    /// The adapter, for a USB port.
    pub usb: Option<UsbDevice>,
    /// Its stable link under `/dev/serial/by-id`, if udev made one.
    pub by_id: Option<String>,
}

impl PortListing {
    /// The name to remember it by: its by-id link, else its USB serial number, else its path.
    pub fn identity(&self) -> PortIdentity {
        if let Some(link) = &self.by_id {
            return PortIdentity::ById(link.clone());
        }
        match &self.usb {
            Some(UsbDevice {
                vid,
                pid,
                serial_number: Some(serial),
                ..
            }) if !serial.is_empty() => PortIdentity::UsbSerial {
                vid: *vid,
                pid: *pid,
                serial: serial.clone(),
            },
            _ => PortIdentity::Path(self.path.clone()),
        }
    }

    /// What it is, for people: "FTDI FT232R USB UART — serial A10K3X9Z —
    /// /dev/serial/by-id/usb-FTDI_…-if00-port0 (now ttyUSB0)".
    pub fn label(&self) -> String {
        format!("{} — {}", self.what(), self.place())
    }

    /// The first part of the label: "FTDI FT232R USB UART — serial A10K3X9Z", "PCI serial
    /// port".
    pub fn what(&self) -> String {
        match (&self.usb, self.kind) {
            (Some(usb), _) => match usb.serial_number.as_deref().filter(|s| !s.is_empty()) {
                Some(serial) => format!("{} — serial {serial}", usb.what()),
                None => usb.what(),
            },
            (None, PortKind::Pci) => "PCI serial port".to_owned(),
            (None, PortKind::Bluetooth) => "Bluetooth serial port".to_owned(),
            (None, _) => "serial port".to_owned(),
        }
    }

    /// The last part of the label: its by-id link and its name now
    /// ("/dev/serial/by-id/… (now ttyUSB0)"), or its path.
    pub fn place(&self) -> String {
        match &self.by_id {
            Some(link) => format!("{link} (now {})", short_name(&self.path)),
            None => self.path.clone(),
        }
    }
}

/// How a device is named so that it is found again after a replug. Written as text (settings,
/// `--port`), it is a by-id path, `usb:VID:PID:SERIAL`, or a plain path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortIdentity {
    /// A link under `/dev/serial/by-id` (Linux): it follows the adapter to whatever `ttyUSBn`
    /// it gets.
    ById(String),
    /// A USB adapter by its ids and serial number, where there is no by-id link (Windows,
    /// macOS, Linux without udev).
    UsbSerial { vid: u16, pid: u16, serial: String },
    /// A port with no stable identity: a pseudo-terminal, a built-in UART, or a name typed in.
    Path(String),
}

impl PortIdentity {
    /// Reads a port as typed, stored or passed to `--port`. A path in `by_id_dir` (or in any
    /// folder named `by-id`) is a by-id link; `usb:VID:PID:SERIAL` a USB adapter; anything
    /// else a plain path (old settings held one: it keeps working).
    pub fn parse(text: &str, by_id_dir: &Path) -> PortIdentity {
        let text = text.trim();
        if let Some(usb) = parse_usb(text) {
            return usb;
        }
        let path = Path::new(text);
        let in_by_id = path.parent().is_some_and(|parent| {
            parent == by_id_dir || parent.file_name().is_some_and(|n| n == "by-id")
        });
        if in_by_id {
            PortIdentity::ById(text.to_owned())
        } else {
            PortIdentity::Path(text.to_owned())
        }
    }
}

impl std::fmt::Display for PortIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortIdentity::ById(path) | PortIdentity::Path(path) => f.write_str(path),
            PortIdentity::UsbSerial { vid, pid, serial } => {
                write!(f, "{USB_PREFIX}{vid:04x}:{pid:04x}:{serial}")
            }
        }
    }
}

fn parse_usb(text: &str) -> Option<PortIdentity> {
    let rest = text.strip_prefix(USB_PREFIX)?;
    let mut fields = rest.splitn(3, ':');
    let vid = u16::from_str_radix(fields.next()?, 16).ok()?;
    let pid = u16::from_str_radix(fields.next()?, 16).ok()?;
    let serial = fields.next().filter(|s| !s.is_empty())?.to_owned();
    Some(PortIdentity::UsbSerial { vid, pid, serial })
}

/// Finds the device a [`PortIdentity`] names, as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFinder {
    pub identity: PortIdentity,
    /// The adapter, when known: named by the identity, or seen at the identity's device when
    /// the session started. It lets a plain path or a vanished by-id link be found again by
    /// the adapter's serial number.
    pub adapter: Option<UsbDevice>,
}

impl DeviceFinder {
    /// A finder for `identity`, taking the adapter found at it in `ports` (listed when the
    /// session starts) and `link_target` (how a by-id link is read).
    pub fn new(
        identity: PortIdentity,
        ports: &[PortListing],
        link_target: impl Fn(&str) -> Option<String>,
    ) -> DeviceFinder {
        let adapter = match &identity {
            PortIdentity::UsbSerial { vid, pid, serial } => ports
                .iter()
                .filter_map(|p| p.usb.as_ref())
                .find(|usb| usb.same_adapter(*vid, *pid, serial))
                .cloned()
                .or_else(|| {
                    Some(UsbDevice {
                        vid: *vid,
                        pid: *pid,
                        serial_number: Some(serial.clone()),
                        ..UsbDevice::default()
                    })
                }),
            PortIdentity::ById(link) => {
                let device = link_target(link);
                ports
                    .iter()
                    .find(|p| {
                        p.by_id.as_deref() == Some(link.as_str())
                            || Some(&p.path) == device.as_ref()
                    })
                    .and_then(|p| p.usb.clone())
            }
            PortIdentity::Path(path) => ports
                .iter()
                .find(|p| &p.path == path)
                .and_then(|p| p.usb.clone()),
        };
        DeviceFinder { identity, adapter }
    }

    /// Whether finding needs a fresh listing of the ports (a USB adapter with a serial number
    /// to look for); a by-id link that exists, or a plain path of no adapter, does not.
    pub fn needs_listing(&self) -> bool {
        self.serial().is_some()
    }

    fn serial(&self) -> Option<(u16, u16, &str)> {
        let usb = self.adapter.as_ref()?;
        let serial = usb.serial_number.as_deref().filter(|s| !s.is_empty())?;
        Some((usb.vid, usb.pid, serial))
    }

    /// The device to open now: what the by-id link points at; else the port where the
    /// adapter's serial number is listed; else a plain path (unless another adapter is listed
    /// there now). `None` when the device is not there.
    pub fn find(
        &self,
        ports: &[PortListing],
        link_target: impl Fn(&str) -> Option<String>,
    ) -> Option<String> {
        if let PortIdentity::ById(link) = &self.identity
            && let Some(device) = link_target(link)
        {
            return Some(device);
        }
        if let Some((vid, pid, serial)) = self.serial() {
            let listed = ports.iter().find(|p| {
                p.usb
                    .as_ref()
                    .is_some_and(|usb| usb.same_adapter(vid, pid, serial))
            });
            if let Some(port) = listed {
                return Some(port.path.clone());
            }
        }
        match &self.identity {
            PortIdentity::Path(path) => {
                let other_adapter_there = self.serial().is_some()
                    && ports.iter().any(|p| &p.path == path && p.usb.is_some());
                (!other_adapter_there).then(|| path.clone())
            }
            PortIdentity::ById(_) | PortIdentity::UsbSerial { .. } => None,
        }
    }

    /// How a device was found, for the link row: "(by-id /dev/serial/by-id/…)",
    /// "(USB serial A10K3X9Z)", or nothing for a plain path opened as named.
    pub fn how_found(&self, device: &str) -> String {
        match (&self.identity, self.serial()) {
            (PortIdentity::ById(link), _) if link != device => format!(" (by-id {link})"),
            (PortIdentity::Path(path), _) if path == device => String::new(),
            (_, Some((_, _, serial))) => format!(" (USB serial {serial})"),
            _ => String::new(),
        }
    }
}

/// The last part of a device path ("ttyUSB0" of "/dev/ttyUSB0"; "COM3" stays "COM3").
pub fn short_name(device: &str) -> &str {
    Path::new(device)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(device)
}

/// Where the link at `link` points, one step, made absolute and tidied without touching the
/// disk again (`/dev/serial/by-id/x` → `../../ttyUSB0` → `/dev/ttyUSB0`). `None` when it is
/// not a link (or is gone).
pub fn read_link_target(link: &str) -> Option<String> {
    let link = Path::new(link);
    let target = std::fs::read_link(link).ok()?;
    let joined = match link.parent() {
        Some(parent) if target.is_relative() => parent.join(&target),
        _ => target,
    };
    Some(tidy(&joined).to_string_lossy().into_owned())
}

/// Removes `.` and `a/..` from a path, lexically.
fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The links in `by_id_dir`, each with the device it points at now. An absent folder (no
/// USB adapter plugged in, or not Linux) has none.
pub fn by_id_links(by_id_dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(by_id_dir) else {
        return Vec::new();
    };
    let mut links: Vec<(String, String)> = entries
        .flatten()
        .filter_map(|entry| {
            let link = entry.path().to_string_lossy().into_owned();
            let device = read_link_target(&link)?;
            Some((link, device))
        })
        .collect();
    links.sort();
    links
}

/// Lists the serial ports the system reports, each with its by-id link from `by_id_dir`.
/// Pseudo-terminals are never listed: type their path instead.
pub fn list_ports_in(by_id_dir: &Path) -> Result<Vec<PortListing>, ListPortsError> {
    let ports = serialport::available_ports()?;
    let links = by_id_links(by_id_dir);
    Ok(ports
        .into_iter()
        .map(|p| listing(p.port_name, &p.port_type, &links))
        .collect())
}

/// Lists the serial ports the system reports, with their `/dev/serial/by-id` links.
pub fn list_ports() -> Result<Vec<PortListing>, ListPortsError> {
    list_ports_in(Path::new(DEFAULT_BY_ID_DIR))
}

fn listing(
    path: String,
    port_type: &serialport::SerialPortType,
    links: &[(String, String)],
) -> PortListing {
    let (kind, usb) = match port_type {
        serialport::SerialPortType::UsbPort(usb) => (
            PortKind::Usb,
            Some(UsbDevice {
                vid: usb.vid,
                pid: usb.pid,
                serial_number: usb.serial_number.clone(),
                manufacturer: usb.manufacturer.clone(),
                product: usb.product.clone(),
            }),
        ),
        serialport::SerialPortType::PciPort => (PortKind::Pci, None),
        serialport::SerialPortType::BluetoothPort => (PortKind::Bluetooth, None),
        serialport::SerialPortType::Unknown => (PortKind::Other, None),
    };
    let by_id = links
        .iter()
        .find(|(_, device)| *device == path)
        .map(|(link, _)| link.clone());
    PortListing {
        path,
        kind,
        usb,
        by_id,
    }
}

/// The device `port` (as typed or stored) names now, for the screen and the reports: a by-id
/// link's device, a USB identity's port; a plain path as it is.
pub fn device_now(port: &str, by_id_dir: &Path) -> Option<String> {
    let identity = PortIdentity::parse(port, by_id_dir);
    let ports = match &identity {
        PortIdentity::UsbSerial { .. } => list_ports_in(by_id_dir).unwrap_or_default(),
        _ => Vec::new(),
    };
    let finder = DeviceFinder::new(identity, &ports, read_link_target);
    finder.find(&ports, read_link_target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftdi(path: &str, serial: Option<&str>, by_id: Option<&str>) -> PortListing {
        PortListing {
            path: path.to_owned(),
            kind: PortKind::Usb,
            usb: Some(UsbDevice {
                vid: 0x0403,
                pid: 0x6001,
                serial_number: serial.map(str::to_owned),
                manufacturer: Some("FTDI".to_owned()),
                product: Some("FT232R USB UART".to_owned()),
            }),
            by_id: by_id.map(str::to_owned),
        }
    }

    fn no_links(_: &str) -> Option<String> {
        None
    }

    const LINK: &str = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K3X9Z-if00-port0";

    #[test]
    fn a_usb_adapter_is_labelled_by_what_it_is_with_its_by_id_link_and_its_name_now() {
        let port = ftdi("/dev/ttyUSB0", Some("A10K3X9Z"), Some(LINK));
        assert_eq!(
            port.label(),
            format!("FTDI FT232R USB UART — serial A10K3X9Z — {LINK} (now ttyUSB0)")
        );
        assert_eq!(port.identity(), PortIdentity::ById(LINK.to_owned()));
        assert_eq!(port.identity().to_string(), LINK);
    }

    #[test]
    fn without_a_by_id_link_the_adapter_is_remembered_by_its_usb_serial_number() {
        let port = ftdi("COM7", Some("A10K3X9Z"), None);
        let identity = port.identity();
        assert_eq!(identity.to_string(), "usb:0403:6001:A10K3X9Z");
        assert_eq!(
            PortIdentity::parse("usb:0403:6001:A10K3X9Z", Path::new(DEFAULT_BY_ID_DIR)),
            identity
        );
        assert_eq!(
            port.label(),
            "FTDI FT232R USB UART — serial A10K3X9Z — COM7"
        );
    }

    #[test]
    fn ports_with_no_stable_identity_are_remembered_by_their_path() {
        let uart = PortListing {
            path: "/dev/ttyS0".to_owned(),
            kind: PortKind::Pci,
            usb: None,
            by_id: None,
        };
        assert_eq!(uart.identity(), PortIdentity::Path("/dev/ttyS0".to_owned()));
        assert_eq!(uart.label(), "PCI serial port — /dev/ttyS0");
        // An adapter with no serial number cannot be told from another of its model.
        let anonymous = ftdi("/dev/ttyUSB3", None, None);
        assert_eq!(
            anonymous.identity(),
            PortIdentity::Path("/dev/ttyUSB3".to_owned())
        );
        assert_eq!(anonymous.label(), "FTDI FT232R USB UART — /dev/ttyUSB3");
    }

    #[test]
    fn typed_and_stored_ports_are_read_as_identities_and_old_plain_paths_stay_paths() {
        let dir = Path::new(DEFAULT_BY_ID_DIR);
        assert_eq!(
            PortIdentity::parse(LINK, dir),
            PortIdentity::ById(LINK.to_owned())
        );
        assert_eq!(
            PortIdentity::parse("/tmp/x/by-id/usb-Test_SN123-if00-port0", dir),
            PortIdentity::ById("/tmp/x/by-id/usb-Test_SN123-if00-port0".to_owned())
        );
        assert_eq!(
            PortIdentity::parse(" /dev/ttyUSB0 ", dir),
            PortIdentity::Path("/dev/ttyUSB0".to_owned())
        );
        assert_eq!(
            PortIdentity::parse("COM3", dir),
            PortIdentity::Path("COM3".to_owned())
        );
        // Not a well-formed USB identity: taken as typed.
        assert_eq!(
            PortIdentity::parse("usb:zz:6001:A1", dir),
            PortIdentity::Path("usb:zz:6001:A1".to_owned())
        );
    }

    #[test]
    fn an_adapter_named_by_its_old_path_is_found_again_under_its_new_name_by_serial_number() {
        // At the start of the session: the adapter on ttyUSB0, another one on ttyUSB1.
        let before = [
            ftdi("/dev/ttyUSB0", Some("A10K3X9Z"), None),
            ftdi("/dev/ttyUSB1", Some("OTHER001"), None),
        ];
        let finder = DeviceFinder::new(
            PortIdentity::Path("/dev/ttyUSB0".to_owned()),
            &before,
            no_links,
        );
        assert!(finder.needs_listing());
        assert_eq!(
            finder.find(&before, no_links).as_deref(),
            Some("/dev/ttyUSB0")
        );
        // Unplugged and plugged back: it is ttyUSB2 now.
        let after = [
            ftdi("/dev/ttyUSB1", Some("OTHER001"), None),
            ftdi("/dev/ttyUSB2", Some("A10K3X9Z"), None),
        ];
        assert_eq!(
            finder.find(&after, no_links).as_deref(),
            Some("/dev/ttyUSB2")
        );
        assert_eq!(finder.how_found("/dev/ttyUSB2"), " (USB serial A10K3X9Z)");
        // Gone, and the other adapter took its old name: that one is not opened.
        let taken = [ftdi("/dev/ttyUSB0", Some("OTHER001"), None)];
        assert_eq!(finder.find(&taken, no_links), None);
        // Gone, and nothing at its old name: the old name is tried (it may come back there).
        assert_eq!(finder.find(&[], no_links).as_deref(), Some("/dev/ttyUSB0"));
    }

    #[test]
    fn a_usb_identity_is_found_wherever_its_serial_number_is_listed() {
        let finder = DeviceFinder::new(
            PortIdentity::UsbSerial {
                vid: 0x0403,
                pid: 0x6001,
                serial: "A10K3X9Z".to_owned(),
            },
            &[],
            no_links,
        );
        assert_eq!(finder.find(&[], no_links), None);
        let now = [
            ftdi("COM3", Some("OTHER001"), None),
            ftdi("COM9", Some("A10K3X9Z"), None),
        ];
        assert_eq!(finder.find(&now, no_links).as_deref(), Some("COM9"));
        // Same serial number on another product is another adapter.
        let mut other_product = ftdi("COM4", Some("A10K3X9Z"), None);
        other_product.usb.as_mut().unwrap().pid = 0x6015;
        assert_eq!(finder.find(&[other_product], no_links), None);
    }

    #[test]
    fn a_by_id_link_is_followed_and_without_it_the_serial_number_seen_at_the_start_is_used() {
        let at_start = [ftdi("/dev/ttyUSB0", Some("A10K3X9Z"), Some(LINK))];
        let to_usb0 = |link: &str| (link == LINK).then(|| "/dev/ttyUSB0".to_owned());
        let finder = DeviceFinder::new(PortIdentity::ById(LINK.to_owned()), &at_start, to_usb0);
        assert_eq!(
            finder
                .adapter
                .as_ref()
                .and_then(|u| u.serial_number.as_deref()),
            Some("A10K3X9Z")
        );
        let to_usb1 = |link: &str| (link == LINK).then(|| "/dev/ttyUSB1".to_owned());
        assert_eq!(finder.find(&[], to_usb1).as_deref(), Some("/dev/ttyUSB1"));
        assert_eq!(finder.how_found("/dev/ttyUSB1"), format!(" (by-id {LINK})"));
        // The link is not there (yet): the adapter is found by its serial number.
        let listed = [ftdi("/dev/ttyUSB4", Some("A10K3X9Z"), None)];
        assert_eq!(
            finder.find(&listed, no_links).as_deref(),
            Some("/dev/ttyUSB4")
        );
        assert_eq!(finder.find(&[], no_links), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_relative_by_id_link_resolves_to_the_device_it_names_not_further() {
        let dir = tempfile::tempdir().unwrap();
        let by_id = dir.path().join("by-id");
        std::fs::create_dir(&by_id).unwrap();
        // ttyUSB0 is itself a link (as socat makes them); only the by-id step is followed.
        std::os::unix::fs::symlink("/dev/null", dir.path().join("ttyUSB0")).unwrap();
        let link = by_id.join("usb-Test_Adapter_SN123-if00-port0");
        std::os::unix::fs::symlink("../ttyUSB0", &link).unwrap();
        let link = link.to_str().unwrap();
        let device = dir.path().join("ttyUSB0").to_string_lossy().into_owned();
        assert_eq!(read_link_target(link), Some(device.clone()));
        assert_eq!(by_id_links(&by_id), [(link.to_owned(), device.clone())]);
        assert_eq!(device_now(link, &by_id), Some(device));
        assert_eq!(read_link_target("/dev/null/none"), None);
        assert!(by_id_links(&dir.path().join("absent")).is_empty());
    }
}
