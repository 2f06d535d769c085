//! Device simulators. Each speaks its device's real protocol on a byte
//! stream (a pseudo-terminal for serial devices) and can inject faults.

pub mod idcard;
pub mod scanner;

pub use idcard::{IdCardFault, IdCardSim};
pub use scanner::{ScannerSim, Terminator};
