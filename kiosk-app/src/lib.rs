//! The kiosk: the check-in core shared by every front end (the headless
//! runner now, the Slint touch UI next), the kiosk's settings in its
//! journal, and the scripted headless runner used by the demo and tests.

pub mod booking;
pub mod checkin;
pub mod cli;
pub mod devices;
pub mod flow;
pub mod notify;
pub mod print;
pub mod report_spool;
pub mod reports;
pub mod runner;
pub mod screens;
pub mod script;
pub mod session;
pub mod settings;
pub mod simulate;
pub mod spool;
pub mod ui;
pub mod voice;

pub use checkin::{Candidate, CheckinCore, CheckinError, Identified, Source};
