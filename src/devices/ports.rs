//! The serial ports on this computer, with what is plugged into them: USB vendor and product IDs,
//! the strings the device reports, and the board they belong to when TinyLab knows it.
//!
//! Students pick "the Nicla Vision", not `/dev/ttyACM0` or `COM7`, so [`recognise`] maps the
//! USB IDs of the book's boards (and of the common USB-serial bridge chips) to a name. Listing
//! only asks the operating system; it never opens a port.

use serde::Serialize;
use std::fmt;

/// A board (or bridge chip) recognised from its USB vendor and product IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Board {
    /// Full name as students know it, vendor included: `Arduino Nicla Vision`.
    pub name: &'static str,
    /// Who made it: `Arduino`, `Seeed Studio`, `Espressif`...
    pub vendor: &'static str,
    /// Something the student should know about this mode of the board, e.g. that it is in its
    /// bootloader and prints nothing until reset.
    pub hint: Option<&'static str>,
}

impl fmt::Display for Board {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// How a port is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortKind {
    /// A USB device (the boards of the book, USB-serial adapters).
    Usb,
    /// A Bluetooth serial link.
    Bluetooth,
    /// A built-in (PCI or motherboard) serial port.
    Pci,
    /// TinyLab's virtual board on a pseudo-terminal.
    Virtual,
    /// The operating system could not say.
    Unknown,
}

/// One serial port and what is known about the device behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PortInfo {
    /// What to open: `/dev/ttyACM0`, `/dev/cu.usbmodem1101`, `COM7`.
    pub path: String,
    /// How it is attached.
    pub kind: PortKind,
    /// USB vendor ID, for USB ports.
    pub vid: Option<u16>,
    /// USB product ID, for USB ports.
    pub pid: Option<u16>,
    /// The manufacturer string the USB device reports.
    pub manufacturer: Option<String>,
    /// The product string the USB device reports.
    pub product: Option<String>,
    /// The board, when its IDs are known to TinyLab.
    pub board: Option<Board>,
}

/// Why the ports could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The operating system refused to enumerate serial ports.
    #[error("could not list the serial ports: {reason}")]
    List {
        /// The operating system's words.
        reason: String,
    },
}

/// The board TinyLab's virtual board presents itself as.
pub const VIRTUAL_BOARD: Board = Board {
    name: "TinyLab virtual board",
    vendor: "TinyLab",
    hint: None,
};

impl PortInfo {
    /// A USB port with the given IDs and strings; the board is recognised from the IDs.
    pub fn usb(
        path: &str,
        vid: u16,
        pid: u16,
        manufacturer: Option<String>,
        product: Option<String>,
    ) -> Self {
        Self {
            path: path.to_owned(),
            kind: PortKind::Usb,
            vid: Some(vid),
            pid: Some(pid),
            manufacturer,
            product,
            board: recognise(vid, pid),
        }
    }

    /// A port with no USB identity (built-in, Bluetooth, unknown).
    pub fn plain(path: &str, kind: PortKind) -> Self {
        Self {
            path: path.to_owned(),
            kind,
            vid: None,
            pid: None,
            manufacturer: None,
            product: None,
            board: None,
        }
    }

    /// The port of TinyLab's virtual board at `path` (a pseudo-terminal).
    pub fn virtual_board(path: &str) -> Self {
        Self {
            board: Some(VIRTUAL_BOARD),
            ..Self::plain(path, PortKind::Virtual)
        }
    }

    /// Converts what the `serialport` crate reports.
    pub fn from_serialport(info: &serialport::SerialPortInfo) -> Self {
        match &info.port_type {
            serialport::SerialPortType::UsbPort(usb) => Self::usb(
                &info.port_name,
                usb.vid,
                usb.pid,
                usb.manufacturer.clone(),
                usb.product.clone(),
            ),
            serialport::SerialPortType::BluetoothPort => {
                Self::plain(&info.port_name, PortKind::Bluetooth)
            }
            serialport::SerialPortType::PciPort => Self::plain(&info.port_name, PortKind::Pci),
            serialport::SerialPortType::Unknown => Self::plain(&info.port_name, PortKind::Unknown),
        }
    }

    /// One line for a human: `/dev/ttyACM0 — Arduino Nicla Vision (2341:025f)`.
    pub fn describe(&self) -> String {
        let what = match (&self.board, self.kind) {
            (Some(board), _) => board.name.to_owned(),
            (None, PortKind::Usb) => match (&self.manufacturer, &self.product) {
                (Some(manufacturer), Some(product)) if !product.contains(manufacturer.as_str()) => {
                    format!("{manufacturer} {product}")
                }
                (_, Some(product)) => product.clone(),
                (Some(manufacturer), None) => format!("{manufacturer} USB device"),
                (None, None) => "USB serial device".to_owned(),
            },
            (None, PortKind::Bluetooth) => "Bluetooth serial port".to_owned(),
            (None, PortKind::Pci) => "built-in serial port".to_owned(),
            (None, PortKind::Virtual) => "virtual serial port".to_owned(),
            (None, PortKind::Unknown) => "serial port".to_owned(),
        };
        let ids = match (self.vid, self.pid) {
            (Some(vid), Some(pid)) => format!(" ({vid:04x}:{pid:04x})"),
            _ => String::new(),
        };
        let hint = self
            .board
            .and_then(|board| board.hint)
            .map(|hint| format!(": {hint}"))
            .unwrap_or_default();
        format!("{} — {what}{ids}{hint}", self.path)
    }

    /// Whether this port is probably a board worth offering first (a recognised board, or any
    /// USB device, or the virtual board), as opposed to a built-in port that is rarely wired.
    pub fn is_likely_board(&self) -> bool {
        self.board.is_some() || matches!(self.kind, PortKind::Usb | PortKind::Virtual)
    }
}

/// Lists the serial ports, likely boards first, then by path.
///
/// On macOS each USB device appears twice (`/dev/tty.X` and `/dev/cu.X`); only the `cu` one is
/// kept, since it is the one to open for reading without waiting for a carrier.
pub fn list_ports() -> Result<Vec<PortInfo>, PortError> {
    let found = serialport::available_ports().map_err(|e| PortError::List {
        reason: e.to_string(),
    })?;
    let mut ports: Vec<PortInfo> = found.iter().map(PortInfo::from_serialport).collect();
    let paths: Vec<String> = ports.iter().map(|port| port.path.clone()).collect();
    ports.retain(|port| match port.path.strip_prefix("/dev/tty.") {
        Some(name) => !paths.contains(&format!("/dev/cu.{name}")),
        None => true,
    });
    ports.sort_by(|a, b| {
        b.is_likely_board()
            .cmp(&a.is_likely_board())
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(ports)
}

/// What to tell a student whose board is in its bootloader.
const BOOTLOADER_HINT: &str =
    "in bootloader mode; it prints no data until reset (press its reset button once)";

/// What to tell a student whose board runs MicroPython/OpenMV instead of an Arduino sketch.
const MICROPYTHON_HINT: &str =
    "running MicroPython/OpenMV firmware; upload the data-collection sketch first";

const fn board(name: &'static str, vendor: &'static str) -> Board {
    Board {
        name,
        vendor,
        hint: None,
    }
}

const fn board_hint(name: &'static str, vendor: &'static str, hint: &'static str) -> Board {
    Board {
        name,
        vendor,
        hint: Some(hint),
    }
}

/// Arduino SA (and its older Arduino.org VID 0x2A03).
const ARDUINO_VIDS: [u16; 2] = [0x2341, 0x2A03];
/// Seeed Technology.
const SEEED_VID: u16 = 0x2886;
/// Espressif Systems.
const ESPRESSIF_VID: u16 = 0x303A;
/// Silicon Labs (CP210x bridges).
const SILABS_VID: u16 = 0x10C4;
/// WCH (CH340, CH343, CH9102 bridges).
const WCH_VID: u16 = 0x1A86;
/// FTDI.
const FTDI_VID: u16 = 0x0403;
/// Raspberry Pi.
const RASPBERRY_PI_VID: u16 = 0x2E8A;

/// Arduino boards by product ID. Arduino's mbed boards use one low byte per board and the high
/// byte for the mode: 0x02/0x80 sketch, 0x00/0x03 bootloader, 0x04/0x05 MicroPython
/// (from `boards.txt` of ArduinoCore-mbed).
fn arduino(pid: u16) -> Board {
    const A: &str = "Arduino";
    match pid {
        0x025F | 0x045F => board("Arduino Nicla Vision", A),
        0x035F => board_hint("Arduino Nicla Vision", A, BOOTLOADER_HINT),
        0x055F => board_hint("Arduino Nicla Vision", A, MICROPYTHON_HINT),
        0x805A | 0x025A | 0x015A => board("Arduino Nano 33 BLE (Sense)", A),
        0x005A => board_hint("Arduino Nano 33 BLE (Sense)", A, BOOTLOADER_HINT),
        0x025B | 0x045B => board("Arduino Portenta H7", A),
        0x035B => board_hint("Arduino Portenta H7", A, BOOTLOADER_HINT),
        0x055B => board_hint("Arduino Portenta H7", A, MICROPYTHON_HINT),
        0x005B => board("Arduino Portenta H7 (M4 core)", A),
        0x0060 => board("Arduino Nicla Sense ME", A),
        0x805E | 0x025E | 0x015E => board("Arduino Nano RP2040 Connect", A),
        0x005E => board_hint("Arduino Nano RP2040 Connect", A, BOOTLOADER_HINT),
        0x0070 => board("Arduino Nano ESP32", A),
        0x0043 | 0x0001 => board("Arduino Uno", A),
        0x0069 => board("Arduino UNO R4 Minima", A),
        0x1002 => board("Arduino UNO R4 WiFi", A),
        0x0042 | 0x0010 => board("Arduino Mega 2560", A),
        0x8036 => board("Arduino Leonardo", A),
        0x8057 => board("Arduino Nano 33 IoT", A),
        _ => board("Arduino board", A),
    }
}

/// Seeed boards by product ID (the XIAO family and others).
fn seeed(pid: u16) -> Board {
    const S: &str = "Seeed Studio";
    match pid {
        0x0056 => board("Seeed XIAO ESP32S3", S),
        0x0048 => board("Seeed XIAO ESP32C6", S),
        0x802F => board("Seeed XIAO SAMD21", S),
        0x002F => board_hint("Seeed XIAO SAMD21", S, BOOTLOADER_HINT),
        0x8045 => board("Seeed XIAO nRF52840 (Sense)", S),
        0x0045 => board_hint("Seeed XIAO nRF52840 (Sense)", S, BOOTLOADER_HINT),
        _ => board("Seeed board", S),
    }
}

/// Recognises a board or bridge chip from its USB vendor and product IDs.
pub fn recognise(vid: u16, pid: u16) -> Option<Board> {
    let known = match (vid, pid) {
        (vid, pid) if ARDUINO_VIDS.contains(&vid) => arduino(pid),
        (SEEED_VID, pid) => seeed(pid),
        // The ESP32-S3's built-in USB Serial/JTAG, which the XIAOML Kit's sketch uses by default
        // ("USB CDC On Boot"); ESP32-C3/C6 boards show the same IDs.
        (ESPRESSIF_VID, 0x1001) => board(
            "Seeed XIAO ESP32S3 / ESP32-S3 (USB JTAG/serial)",
            "Espressif",
        ),
        (ESPRESSIF_VID, 0x0002) => {
            board_hint("ESP32-S3 (download mode)", "Espressif", BOOTLOADER_HINT)
        }
        (ESPRESSIF_VID, _) => board("Espressif board", "Espressif"),
        // The Grove Vision AI V2 (Himax WiseEye2) talks through a WCH CH343 bridge.
        (WCH_VID, 0x55D3) => board("Grove Vision AI V2 (CH343)", "Seeed Studio"),
        (WCH_VID, 0x55D4) => board("USB-serial adapter (CH9102)", "WCH"),
        (WCH_VID, _) => board("USB-serial adapter (CH340)", "WCH"),
        (SILABS_VID, _) => board("USB-serial adapter (CP210x)", "Silicon Labs"),
        (FTDI_VID, _) => board("USB-serial adapter (FTDI)", "FTDI"),
        (RASPBERRY_PI_VID, 0x000A | 0x00C0) => board("Raspberry Pi Pico (RP2040)", "Raspberry Pi"),
        _ => return None,
    };
    Some(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(vid: u16, pid: u16) -> Option<&'static str> {
        recognise(vid, pid).map(|board| board.name)
    }

    #[test]
    fn book_boards() {
        assert_eq!(name(0x2341, 0x025F), Some("Arduino Nicla Vision"));
        assert_eq!(
            recognise(0x2341, 0x035F).and_then(|b| b.hint),
            Some(BOOTLOADER_HINT)
        );
        assert_eq!(name(0x2341, 0x805A), Some("Arduino Nano 33 BLE (Sense)"));
        assert_eq!(name(0x2341, 0x005A), Some("Arduino Nano 33 BLE (Sense)"));
        assert_eq!(name(0x2341, 0x025B), Some("Arduino Portenta H7"));
        assert_eq!(name(0x2341, 0x035B), Some("Arduino Portenta H7"));
        assert_eq!(
            name(0x303A, 0x1001),
            Some("Seeed XIAO ESP32S3 / ESP32-S3 (USB JTAG/serial)")
        );
        assert_eq!(name(0x2886, 0x0056), Some("Seeed XIAO ESP32S3"));
        assert_eq!(name(0x1A86, 0x55D3), Some("Grove Vision AI V2 (CH343)"));
    }

    #[test]
    fn vendors_and_bridges() {
        assert_eq!(name(0x2341, 0x1234), Some("Arduino board"));
        assert_eq!(name(0x2A03, 0x0043), Some("Arduino Uno"));
        assert_eq!(name(0x2886, 0x9999), Some("Seeed board"));
        assert_eq!(name(0x303A, 0x4001), Some("Espressif board"));
        assert_eq!(name(0x10C4, 0xEA60), Some("USB-serial adapter (CP210x)"));
        assert_eq!(name(0x1A86, 0x7523), Some("USB-serial adapter (CH340)"));
        assert_eq!(name(0x1A86, 0x55D4), Some("USB-serial adapter (CH9102)"));
        assert_eq!(name(0x0403, 0x6001), Some("USB-serial adapter (FTDI)"));
        assert_eq!(name(0x046D, 0xC52B), None);
    }

    #[test]
    fn board_displays_its_name() {
        assert_eq!(
            recognise(0x2341, 0x025F).map(|b| b.to_string()).as_deref(),
            Some("Arduino Nicla Vision")
        );
    }

    #[test]
    fn describe_lines() {
        let nicla = PortInfo::usb(
            "/dev/ttyACM0",
            0x2341,
            0x025F,
            Some("Arduino".into()),
            Some("Nicla Vision".into()),
        );
        assert_eq!(
            nicla.describe(),
            "/dev/ttyACM0 — Arduino Nicla Vision (2341:025f)"
        );
        assert!(nicla.is_likely_board());
        let bootloader = PortInfo::usb("/dev/ttyACM0", 0x2341, 0x035F, None, None);
        assert!(
            bootloader
                .describe()
                .ends_with(&format!("(2341:035f): {BOOTLOADER_HINT}"))
        );
        let unknown = PortInfo::usb(
            "COM7",
            0x1234,
            0x0001,
            Some("ACME".into()),
            Some("Sensor".into()),
        );
        assert_eq!(unknown.describe(), "COM7 — ACME Sensor (1234:0001)");
        assert_eq!(
            PortInfo::plain("/dev/ttyS0", PortKind::Pci).describe(),
            "/dev/ttyS0 — built-in serial port"
        );
        assert!(!PortInfo::plain("/dev/ttyS0", PortKind::Pci).is_likely_board());
        assert_eq!(
            PortInfo::virtual_board("/dev/pts/3").describe(),
            "/dev/pts/3 — TinyLab virtual board"
        );
    }

    #[test]
    fn serialises_for_the_cli() {
        let json = serde_json::to_value(PortInfo::usb("/dev/ttyACM0", 0x2341, 0x025F, None, None))
            .unwrap();
        assert_eq!(json["kind"], "usb");
        assert_eq!(json["board"]["name"], "Arduino Nicla Vision");
        assert_eq!(json["vid"], 0x2341);
    }

    #[test]
    fn listing_does_not_fail() {
        // Containers may have no ports (or no udev) at all; whatever is listed must be sorted.
        let ports = list_ports().unwrap_or_default();
        assert!(
            ports
                .windows(2)
                .all(|w| w[0].is_likely_board() >= w[1].is_likely_board())
        );
    }
}
