//! Device simulators. Each speaks its device's real protocol on a byte
//! stream (a pseudo-terminal for serial devices) and can inject faults.

pub mod escpos;
pub mod idcard;
pub mod label;
pub mod render;
pub mod scanner;
pub mod vicc;

pub use escpos::{PrinterFault, PrinterSim};
pub use idcard::{IdCardFault, IdCardSim};
pub use label::{LabelFault, LabelSim};
pub use scanner::{ScannerSim, Terminator};
pub use vicc::{CardModel, VirtualCard};
