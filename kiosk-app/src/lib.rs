//! The kiosk: the check-in core, the patient's session (the edge of the
//! pure flow in `kiosk-flow`, re-exported as `flow` and `screens`), shared
//! by both front ends: the Slint touch UI (`ui`) and the headless kiosk
//! (`headless`, a scripted patient answering the same screens) that the
//! demo and the end-to-end tests drive. `assemble` starts a kiosk for
//! either; the kiosk's settings live in its journal.

pub mod assemble;
pub mod booking;
pub mod camera_tools;
pub mod checkin;
pub mod cli;
pub mod devices;
pub mod face;
pub mod headless;
pub mod notify;
pub mod print;
pub mod report_spool;
pub mod reports;
pub mod script;
pub mod session;
pub mod settings;
pub mod simulate;
pub mod spool;
pub mod ui;
pub mod voice;

pub use checkin::{Candidate, CheckinCore, CheckinError, Identified, Source};
/// The pure flow and the screens' words, from their own crate.
pub use kiosk_flow::{flow, screens};
