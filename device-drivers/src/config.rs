//! The kiosk's device configuration: which driver runs each device and how
//! it is reached. One TOML file per kiosk (`/data/kiosk/devices.toml` in
//! the image), written by the technician or by provisioning:
//!
//! ```toml
//! # The CA the central service's certificate must be signed by (PEM),
//! # provisioned at flash time (image-build/provision --server-ca); the
//! # kiosk trusts no other. KIOSK_SERVER_CA / --server-ca override it.
//! server_ca = "/data/kiosk/server-ca.pem"
//!
//! [idcard]
//! port = "/dev/ttyUSB0"          # the SAM module's serial port
//! baud = 115200
//! poll_ms = 300                  # at least 300: a faster poll starves the SAM
//! photo_library = "/opt/vendor/libwltrs.so"   # optional: WLT photo decoding
//! photo_symbol = "unpack"
//!
//! [[scanner]]                    # as many as the kiosk has
//! kind = "serial"
//! port = "/dev/ttyACM0"
//! baud = 9600
//!
//! [[scanner]]
//! kind = "hid"                   # USB keyboard-wedge scanner (evdev)
//! device = "Newland"             # a path, or part of the device's name
//!
//! [smartcard]                    # PC/SC readers (pcscd)
//!
//! [receipt_printer]
//! address = "tcp://192.168.10.21:9100"   # or /dev/usb/lp0, or a serial port
//! baud = 115200                  # serial only
//!
//! [label_printer]
//! address = "tcp://192.168.10.22:9100"
//! language = "tspl"              # tspl (most domestic printers) or zpl (Zebra)
//!
//! [report_printer]
//! uri = "ipp://localhost:631/printers/REPORTS"
//!
//! [camera]
//! device = "/dev/v4l/by-id/usb-046d_0825-video-index0"   # V4L2
//! width = 1280                   # asked; the nearest size it offers
//! height = 720
//! # replay = ["/usr/share/kiosk/camera/frame.png"]     # instead of a device
//! ```
//!
//! Unknown keys are refused (a misspelt key would silently leave a device
//! unconfigured), and every problem is reported at once, by key.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::label::Language;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// The central service's CA certificate (PEM): the kiosk's only trust
    /// root for the service's HTTPS when set.
    pub server_ca: Option<PathBuf>,
    pub idcard: Option<IdCardConfig>,
    #[serde(default, rename = "scanner")]
    pub scanners: Vec<ScannerConfig>,
    pub smartcard: Option<SmartCardConfig>,
    pub receipt_printer: Option<PrinterConfig>,
    pub label_printer: Option<LabelPrinterConfig>,
    pub report_printer: Option<ReportPrinterConfig>,
    pub camera: Option<CameraConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdCardConfig {
    pub port: String,
    #[serde(default = "default_idcard_baud")]
    pub baud: u32,
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    pub photo_library: Option<PathBuf>,
    #[serde(default = "default_photo_symbol")]
    pub photo_symbol: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ScannerConfig {
    Serial {
        port: String,
        #[serde(default = "default_scanner_baud")]
        baud: u32,
    },
    Hid {
        device: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartCardConfig {}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterConfig {
    pub address: String,
    #[serde(default = "default_printer_baud")]
    pub baud: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelPrinterConfig {
    pub address: String,
    #[serde(default = "default_printer_baud")]
    pub baud: u32,
    #[serde(default)]
    pub language: LabelLanguage,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelLanguage {
    #[default]
    Tspl,
    Zpl,
}

impl From<LabelLanguage> for Language {
    fn from(l: LabelLanguage) -> Self {
        match l {
            LabelLanguage::Tspl => Language::Tspl,
            LabelLanguage::Zpl => Language::Zpl,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportPrinterConfig {
    pub uri: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// A V4L2 camera (`/dev/video0`, or better a stable
    /// `/dev/v4l/by-id/usb-…-video-index0`): the photo, codes held up to
    /// it, and face check-in.
    pub device: Option<PathBuf>,
    /// The picture size asked of the camera (the nearest it offers).
    #[serde(default = "default_camera_width")]
    pub width: u32,
    #[serde(default = "default_camera_height")]
    pub height: u32,
    /// PNG files played as the camera's frames (no `device`).
    #[serde(default)]
    pub replay: Vec<PathBuf>,
}

fn default_camera_width() -> u32 {
    1280
}

fn default_camera_height() -> u32 {
    720
}

impl CameraConfig {
    /// A V4L2 camera at `device`, 1280×720 asked.
    pub fn device(device: PathBuf) -> Self {
        Self {
            device: Some(device),
            width: default_camera_width(),
            height: default_camera_height(),
            replay: Vec::new(),
        }
    }

    /// PNG files replayed as the camera.
    pub fn replay(files: Vec<PathBuf>) -> Self {
        Self {
            device: None,
            width: default_camera_width(),
            height: default_camera_height(),
            replay: files,
        }
    }
}

impl IdCardConfig {
    /// A reader on `port` with the defaults.
    pub fn at(port: &str) -> Self {
        Self {
            port: port.into(),
            baud: default_idcard_baud(),
            poll_ms: default_poll_ms(),
            photo_library: None,
            photo_symbol: default_photo_symbol(),
        }
    }
}

impl PrinterConfig {
    /// A printer at `address` (serial ports at 115200 baud).
    pub fn at(address: &str) -> Self {
        Self {
            address: address.into(),
            baud: default_printer_baud(),
        }
    }
}

fn default_idcard_baud() -> u32 {
    115_200
}
fn default_scanner_baud() -> u32 {
    9600
}
fn default_printer_baud() -> u32 {
    115_200
}
fn default_poll_ms() -> u64 {
    300
}
fn default_photo_symbol() -> String {
    "unpack".into()
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: {}", .problems.join("; "))]
    Invalid { path: String, problems: Vec<String> },
}

const BAUDS: [u32; 8] = [2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200, 230_400];

impl DeviceConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks configuration text; `name` names it in errors.
    pub fn parse(text: &str, name: &str) -> Result<Self, ConfigError> {
        let c: Self = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: name.into(),
            message: e.to_string(),
        })?;
        let problems = c.problems();
        if problems.is_empty() {
            Ok(c)
        } else {
            Err(ConfigError::Invalid {
                path: name.into(),
                problems,
            })
        }
    }

    /// Every value that cannot work, by key.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if let Some(ca) = &self.server_ca
            && !ca.is_absolute()
        {
            p.push(format!(
                "server_ca = {:?} must be an absolute path",
                ca.display()
            ));
        }
        let mut baud = |key: &str, b: u32| {
            if !BAUDS.contains(&b) {
                p.push(format!(
                    "{key}.baud = {b} is not a serial speed ({BAUDS:?})"
                ));
            }
        };
        if let Some(c) = &self.idcard {
            baud("idcard", c.baud);
        }
        for (i, s) in self.scanners.iter().enumerate() {
            if let ScannerConfig::Serial { baud: b, .. } = s {
                baud(&format!("scanner[{i}]"), *b);
            }
        }
        if let Some(c) = &self.receipt_printer {
            baud("receipt_printer", c.baud);
        }
        if let Some(c) = &self.label_printer {
            baud("label_printer", c.baud);
        }
        if let Some(c) = &self.idcard {
            if c.port.trim().is_empty() {
                p.push("idcard.port is empty".into());
            }
            if c.poll_ms < 300 {
                p.push(format!(
                    "idcard.poll_ms = {} is under 300 (a faster poll starves the reader's SAM)",
                    c.poll_ms
                ));
            }
            if let Some(lib) = &c.photo_library
                && !lib.is_absolute()
            {
                p.push(format!(
                    "idcard.photo_library = {:?} must be an absolute path",
                    lib.display()
                ));
            }
        }
        if let Some(c) = &self.camera {
            if c.device.is_some() && !c.replay.is_empty() {
                p.push("camera: device and replay are both set (one camera)".into());
            }
            if let Some(d) = &c.device
                && !d.is_absolute()
            {
                p.push(format!(
                    "camera.device = {:?} must be an absolute path",
                    d.display()
                ));
            }
            if !(160..=3840).contains(&c.width) || !(120..=2160).contains(&c.height) {
                p.push(format!(
                    "camera.width × height = {} × {} is outside 160×120 to 3840×2160",
                    c.width, c.height
                ));
            }
        }
        for (i, s) in self.scanners.iter().enumerate() {
            let (key, v) = match s {
                ScannerConfig::Serial { port, .. } => ("port", port),
                ScannerConfig::Hid { device } => ("device", device),
            };
            if v.trim().is_empty() {
                p.push(format!("scanner[{i}].{key} is empty"));
            }
        }
        for (key, address) in [
            (
                "receipt_printer",
                self.receipt_printer.as_ref().map(|c| &c.address),
            ),
            (
                "label_printer",
                self.label_printer.as_ref().map(|c| &c.address),
            ),
        ] {
            if let Some(a) = address
                && !(a.starts_with("tcp://") || a.starts_with('/'))
            {
                p.push(format!(
                    "{key}.address = {a:?}: use tcp://HOST:PORT or a device path"
                ));
            }
        }
        if let Some(c) = &self.report_printer
            && !(c.uri.starts_with("ipp://") || c.uri.starts_with("http://"))
        {
            p.push(format!(
                "report_printer.uri = {:?}: use ipp://HOST:631/printers/QUEUE",
                c.uri
            ));
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[idcard]
port = "/dev/ttyUSB0"
photo_library = "/opt/vendor/libwltrs.so"

[[scanner]]
kind = "serial"
port = "/dev/ttyACM0"

[[scanner]]
kind = "hid"
device = "Newland"

[smartcard]

[receipt_printer]
address = "tcp://192.168.10.21:9100"

[label_printer]
address = "/dev/ttyS1"
baud = 9600
language = "zpl"

[report_printer]
uri = "ipp://localhost:631/printers/REPORTS"

[camera]
device = "/dev/video0"
"#;

    #[test]
    fn reads_every_device_with_defaults() {
        let c = DeviceConfig::parse(FULL, "devices.toml").unwrap();
        let id = c.idcard.unwrap();
        assert_eq!(
            (id.baud, id.poll_ms, id.photo_symbol.as_str()),
            (115_200, 300, "unpack")
        );
        assert_eq!(
            c.scanners,
            vec![
                ScannerConfig::Serial {
                    port: "/dev/ttyACM0".into(),
                    baud: 9600
                },
                ScannerConfig::Hid {
                    device: "Newland".into()
                },
            ]
        );
        assert!(c.smartcard.is_some());
        assert_eq!(c.receipt_printer.unwrap().baud, 115_200);
        let l = c.label_printer.unwrap();
        assert_eq!((l.baud, Language::from(l.language)), (9600, Language::Zpl));
        assert_eq!(
            c.camera.unwrap(),
            CameraConfig::device("/dev/video0".into())
        );
        assert_eq!(
            DeviceConfig::parse("", "x").unwrap(),
            DeviceConfig::default()
        );
    }

    #[test]
    fn refuses_typos_and_impossible_values_by_key() {
        let e = DeviceConfig::parse("[idcard]\nprot = \"/dev/ttyUSB0\"\n", "devices.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("devices.toml") && e.contains("prot"), "{e}");
        let e = DeviceConfig::parse("[[scanner]]\nkind = \"bluetooth\"\ndevice = \"x\"\n", "d")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bluetooth"), "{e}");
        let e = DeviceConfig::parse(
            "[idcard]\nport = \"/dev/ttyUSB0\"\nbaud = 115201\npoll_ms = 100\nphoto_library = \"libwlt.so\"\n\
             [receipt_printer]\naddress = \"192.168.1.5\"\n[report_printer]\nuri = \"lp://x\"\n\
             [camera]\ndevice = \"video0\"\nwidth = 100000\n",
            "d",
        )
        .unwrap_err();
        let ConfigError::Invalid { problems, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(problems.len(), 7, "{problems:?}");
        for key in [
            "idcard.baud",
            "idcard.poll_ms",
            "idcard.photo_library",
            "receipt_printer.address",
            "report_printer.uri",
            "camera.device",
            "camera.width",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(key)),
                "{key}: {problems:?}"
            );
        }
    }

    #[test]
    fn the_documented_example_parses() {
        let doc: String = include_str!("config.rs")
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| format!("{}\n", l.trim_start_matches("//!").trim_start()))
            .collect();
        let c = DeviceConfig::parse(&doc, "example").unwrap();
        assert_eq!(c.scanners.len(), 2);
        assert_eq!(
            c.server_ca.as_deref(),
            Some(Path::new("/data/kiosk/server-ca.pem"))
        );
        let e = DeviceConfig::parse("server_ca = \"ca.pem\"\n", "d")
            .unwrap_err()
            .to_string();
        assert!(e.contains("server_ca"), "{e}");
    }
}
