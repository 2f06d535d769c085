//! The wire between kiosks and the central service (protocol version 1).
//!
//! Every kiosk request after enrolment is signed (see [`auth`]); events are
//! pushed in batches and acknowledged one by one (see [`Event`]); the kiosk's
//! offline cache follows the server's booking changes by cursor.

pub mod auth;
mod booking;
mod faces;
mod messages;
mod moves;
mod payments;
mod printing;
mod privacy;
mod reports;

pub use booking::*;
pub use faces::{FACE_DIMS, FACE_MODEL, FaceEntry, FacePolicy, FaceTemplate, FacesResponse};
pub use messages::*;
pub use moves::*;
pub use payments::*;
pub use printing::{LabelLanguage, PrinterKind, UnknownPrinterKind};
pub use privacy::{ConsentAnswer, PrivacyAnswers};
pub use reports::*;

/// Bumped on incompatible changes; the server answers 400 to other versions.
pub const PROTOCOL_VERSION: u32 = 1;
/// The most events one push may carry.
pub const MAX_BATCH: usize = 500;
/// The largest request body the server reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub mod paths {
    pub const ENROL: &str = "/api/v1/kiosk/enrol";
    pub const HEARTBEAT: &str = "/api/v1/kiosk/heartbeat";
    pub const EVENTS: &str = "/api/v1/kiosk/events";
    pub const CHANGES: &str = "/api/v1/kiosk/changes";
    pub const LOOKUP: &str = "/api/v1/kiosk/lookup";
    pub const BOOKING_OPTIONS: &str = "/api/v1/kiosk/booking/options";
    pub const BOOK: &str = "/api/v1/kiosk/booking/book";
    pub const REBOOK: &str = "/api/v1/kiosk/booking/rebook";
    pub const CANCEL: &str = "/api/v1/kiosk/booking/cancel";
    pub const REPORTS: &str = "/api/v1/kiosk/reports";
    pub const REPORT_PDF: &str = "/api/v1/kiosk/reports/pdf";
    pub const PAYMENT: &str = "/api/v1/kiosk/payments";
    pub const PAYMENT_STATE: &str = "/api/v1/kiosk/payments/state";
    pub const PAYMENT_CANCEL: &str = "/api/v1/kiosk/payments/cancel";
    /// K3: today's face templates for the kiosk's campus.
    pub const FACES: &str = "/api/v1/kiosk/faces";
}
