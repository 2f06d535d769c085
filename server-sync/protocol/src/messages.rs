use chrono::{DateTime, Utc};
use exam_domain::{Booking, IdNumber, IdentityQuery, Person};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Exchanges a one-time enrolment secret for the kiosk's own credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub kiosk_id: String,
    pub enrolment_secret: String,
    /// The kiosk's Ed25519 public key, base64.
    pub public_key: String,
    pub app_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub kiosk_id: String,
    pub campus: String,
    pub zone: String,
    pub server_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceStatus {
    pub name: String,
    pub state: DeviceState,
}

/// A device's state as its driver reports it. The wire text is the
/// drivers' own ("ok", "paper_out", "unplugged", ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Ok,
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    CutterError,
    HeadOpen,
    RibbonOut,
    PaperJam,
    Paused,
    Offline,
    /// The printer reports an unrecoverable error (or CUPS failed a job).
    Error,
    /// The device answers but does not work (e.g. its vendor library).
    Faulty,
    Unplugged,
    /// A state of a newer kiosk that this version does not know.
    #[serde(other)]
    Unknown,
}

impl DeviceState {
    const ALL: [DeviceState; 13] = [
        DeviceState::Ok,
        DeviceState::PaperNearEnd,
        DeviceState::PaperOut,
        DeviceState::CoverOpen,
        DeviceState::CutterError,
        DeviceState::HeadOpen,
        DeviceState::RibbonOut,
        DeviceState::PaperJam,
        DeviceState::Paused,
        DeviceState::Offline,
        DeviceState::Error,
        DeviceState::Faulty,
        DeviceState::Unplugged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Ok => "ok",
            DeviceState::PaperNearEnd => "paper_near_end",
            DeviceState::PaperOut => "paper_out",
            DeviceState::CoverOpen => "cover_open",
            DeviceState::CutterError => "cutter_error",
            DeviceState::HeadOpen => "head_open",
            DeviceState::RibbonOut => "ribbon_out",
            DeviceState::PaperJam => "paper_jam",
            DeviceState::Paused => "paused",
            DeviceState::Offline => "offline",
            DeviceState::Error => "error",
            DeviceState::Faulty => "faulty",
            DeviceState::Unplugged => "unplugged",
            DeviceState::Unknown => "unknown",
        }
    }

    /// The state a driver's status label names (`Unknown` for a label
    /// this version does not know).
    pub fn from_label(label: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == label)
            .unwrap_or(DeviceState::Unknown)
    }

    /// A printer in this state cannot print the patient's documents now:
    /// they are sent to another kiosk and staff are told.
    pub fn stops_printing(self) -> bool {
        matches!(
            self,
            DeviceState::PaperOut
                | DeviceState::CoverOpen
                | DeviceState::CutterError
                | DeviceState::Error
                | DeviceState::Unplugged
        )
    }
}

impl std::fmt::Display for DeviceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a kiosk calls for staff; the heartbeat carries the latest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alert {
    /// The patient pressed "call staff".
    CallStaff,
    /// The printer stopped while printing a patient's documents.
    PrinterOut,
    /// A payment arrived after the patient left the payment screen: money
    /// without a check-in.
    OrphanPayment,
    /// K3 人证核验: the face of the person holding an ID card did not match
    /// the card's photo; they were sent to the desk.
    IdentityCheck,
    /// An alert of a newer kiosk that this version does not know.
    #[serde(other)]
    Unknown,
}

impl Alert {
    pub fn as_str(self) -> &'static str {
        match self {
            Alert::CallStaff => "call_staff",
            Alert::PrinterOut => "printer_out",
            Alert::OrphanPayment => "orphan_payment",
            Alert::IdentityCheck => "identity_check",
            Alert::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Alert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the central service keeps of a heartbeat's devices and alert, and
/// the staff page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskCondition {
    pub devices: Vec<DeviceStatus>,
    #[serde(default)]
    pub alert: Option<Alert>,
}

impl KioskCondition {
    /// Reads what a service stored: this shape, or the device list alone
    /// as earlier versions stored it (then a staff alert was a device
    /// named "alert").
    pub fn from_stored(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok().or_else(|| {
            serde_json::from_str::<Vec<DeviceStatus>>(json)
                .ok()
                .map(|devices| Self {
                    devices,
                    alert: None,
                })
        })
    }

    /// "idcard ok, receipt paper_out, alert call_staff"; empty when
    /// nothing is known.
    pub fn summary(&self) -> String {
        self.devices
            .iter()
            .map(|d| format!("{} {}", d.name, d.state))
            .chain(self.alert.map(|a| format!("alert {a}")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Heartbeat {
    pub app_version: String,
    pub devices: Vec<DeviceStatus>,
    /// Events journaled but not yet acknowledged by the server.
    pub backlog: u64,
    pub oldest_unacked: Option<DateTime<Utc>>,
    /// Events the server refused and the kiosk set aside (kept, not sent).
    #[serde(default)]
    pub rejected: u64,
    /// Print parts journaled but not yet printed (a paused printer shows
    /// here), and since when the oldest waits.
    #[serde(default)]
    pub print_waiting: u64,
    #[serde(default)]
    pub oldest_print_waiting: Option<DateTime<Utc>>,
    /// What this kiosk can print for documents moved to it (unknown kinds
    /// from a newer kiosk are left out).
    #[serde(default, deserialize_with = "crate::printing::known_kinds")]
    pub prints: Vec<crate::PrinterKind>,
    /// The latest staff alert the kiosk raised, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<Alert>,
}

impl Heartbeat {
    /// What the central service keeps of it for the staff page.
    pub fn condition(&self) -> KioskCondition {
        KioskCondition {
            devices: self.devices.clone(),
            alert: self.alert,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    pub server_time: DateTime<Utc>,
    /// Staff moved this kiosk's waiting documents elsewhere.
    #[serde(default)]
    pub release_printing: Option<crate::MoveOrder>,
    /// Documents moved here from other kiosks, until confirmed.
    #[serde(default)]
    pub incoming_printing: Vec<crate::IncomingMove>,
}

/// One journaled fact as it travels: the kind stays a string on the wire so
/// that a server can name an event it does not understand instead of
/// refusing the batch as unreadable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: Uuid,
    /// Per-kiosk sequence number, gap-free on the kiosk.
    pub seq: i64,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

/// The event kinds this protocol version knows.
#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    CheckIn(CheckIn),
    DocumentsWaiting(DocumentsWaiting),
    PrintReleased(crate::PrintReleased),
    PrintAccepted(crate::PrintAccepted),
    Photo(PhotoRecord),
    ReportPrinted(crate::ReportPrinted),
}

impl EventBody {
    pub const CHECK_IN: &'static str = "check_in";
    pub const DOCUMENTS_WAITING: &'static str = "documents_waiting";
    pub const PRINT_RELEASED: &'static str = "print_released";
    pub const PRINT_ACCEPTED: &'static str = "print_accepted";
    pub const PHOTO: &'static str = "photo";
    pub const REPORT_PRINTED: &'static str = "report_printed";

    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::CheckIn(_) => Self::CHECK_IN,
            EventBody::DocumentsWaiting(_) => Self::DOCUMENTS_WAITING,
            EventBody::PrintReleased(_) => Self::PRINT_RELEASED,
            EventBody::PrintAccepted(_) => Self::PRINT_ACCEPTED,
            EventBody::Photo(_) => Self::PHOTO,
            EventBody::ReportPrinted(_) => Self::REPORT_PRINTED,
        }
    }

    pub fn payload(&self) -> serde_json::Value {
        match self {
            EventBody::CheckIn(c) => serde_json::to_value(c).expect("serialisable"),
            EventBody::DocumentsWaiting(d) => serde_json::to_value(d).expect("serialisable"),
            EventBody::PrintReleased(r) => serde_json::to_value(r).expect("serialisable"),
            EventBody::PrintAccepted(a) => serde_json::to_value(a).expect("serialisable"),
            EventBody::Photo(p) => serde_json::to_value(p).expect("serialisable"),
            EventBody::ReportPrinted(r) => serde_json::to_value(r).expect("serialisable"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventError {
    #[error("event {id} has unknown kind {kind:?}")]
    UnknownKind { id: Uuid, kind: String },
    #[error("event {id} of kind {kind:?} has a bad payload: {reason}")]
    BadPayload {
        id: Uuid,
        kind: String,
        reason: String,
    },
}

impl EventError {
    pub fn event_id(&self) -> Uuid {
        match self {
            EventError::UnknownKind { id, .. } | EventError::BadPayload { id, .. } => *id,
        }
    }
}

impl Event {
    pub fn new(id: Uuid, seq: i64, created_at: DateTime<Utc>, body: &EventBody) -> Self {
        Self {
            id,
            seq,
            kind: body.kind().to_string(),
            created_at,
            payload: body.payload(),
        }
    }

    pub fn body(&self) -> Result<EventBody, EventError> {
        let bad = |e: serde_json::Error| EventError::BadPayload {
            id: self.id,
            kind: self.kind.clone(),
            reason: e.to_string(),
        };
        match self.kind.as_str() {
            EventBody::CHECK_IN => serde_json::from_value::<CheckIn>(self.payload.clone())
                .map_err(bad)
                .and_then(|c| {
                    if let Some(Err(reason)) = c.privacy.as_ref().map(crate::PrivacyAnswers::check)
                    {
                        return Err(EventError::BadPayload {
                            id: self.id,
                            kind: self.kind.clone(),
                            reason: reason.into(),
                        });
                    }
                    Ok(EventBody::CheckIn(c))
                }),
            EventBody::DOCUMENTS_WAITING => serde_json::from_value(self.payload.clone())
                .map(EventBody::DocumentsWaiting)
                .map_err(bad),
            EventBody::PRINT_RELEASED => serde_json::from_value(self.payload.clone())
                .map(EventBody::PrintReleased)
                .map_err(bad),
            EventBody::PRINT_ACCEPTED => serde_json::from_value(self.payload.clone())
                .map(EventBody::PrintAccepted)
                .map_err(bad),
            EventBody::PHOTO => serde_json::from_value::<PhotoRecord>(self.payload.clone())
                .map_err(bad)
                .and_then(|p| {
                    p.check().map_err(|reason| EventError::BadPayload {
                        id: self.id,
                        kind: self.kind.clone(),
                        reason: reason.into(),
                    })?;
                    Ok(EventBody::Photo(p))
                }),
            EventBody::REPORT_PRINTED => serde_json::from_value(self.payload.clone())
                .map(EventBody::ReportPrinted)
                .map_err(bad),
            other => Err(EventError::UnknownKind {
                id: self.id,
                kind: other.to_string(),
            }),
        }
    }
}

/// The photo step of a check-in (K6), journaled with the check-in: what the
/// patient chose, and the picture when there is one (with consent only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoRecord {
    pub booking_id: i64,
    pub booking_code: String,
    /// "camera" (taken at the kiosk), "id_card" (the card's photo), "skipped"
    /// (consented, no picture), "declined" (no consent: no picture).
    pub outcome: String,
    /// The picture: grayscale PNG, base64.
    pub png: Option<String>,
    pub taken_at: DateTime<Utc>,
    /// K3: the face template computed at the kiosk, only when the person
    /// agreed to face check-in at this check-in (the check-in's privacy
    /// answers carry that); the service keeps it only while that consent
    /// is in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face: Option<crate::FaceTemplate>,
}

impl PhotoRecord {
    pub const OUTCOMES: [&'static str; 4] = ["camera", "id_card", "skipped", "declined"];

    /// The largest picture a record may carry (base64 characters).
    pub const MAX_PNG_B64: usize = 256 * 1024;

    /// Refuses what no kiosk sends: an unknown outcome, a picture without
    /// consent or one that is not a PNG, or too large.
    pub fn check(&self) -> Result<(), &'static str> {
        if !Self::OUTCOMES.contains(&self.outcome.as_str()) {
            return Err("unknown photo outcome");
        }
        let wants_picture = matches!(self.outcome.as_str(), "camera" | "id_card");
        match &self.png {
            None if wants_picture => Err("the photo is missing"),
            Some(_) if !wants_picture => Err("a photo without consent or with none taken"),
            Some(b) if b.len() > Self::MAX_PNG_B64 => Err("the photo is too large"),
            Some(_) if self.png_bytes().is_none() => Err("the photo is not a PNG"),
            _ if self.face.is_some() && !wants_picture => Err("a face template without a photo"),
            _ => self
                .face
                .as_ref()
                .map_or(Ok(()), crate::FaceTemplate::check),
        }
    }

    /// The picture's bytes, when there is one and it decodes.
    pub fn png_bytes(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD
            .decode(self.png.as_ref()?)
            .ok()?;
        b.starts_with(b"\x89PNG\r\n\x1a\n").then_some(b)
    }
}

/// A patient checked in at a kiosk: the booking, how they identified, and
/// whether the kiosk decided online or from its offline cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    pub booking_id: i64,
    pub booking_code: String,
    pub id_number: IdNumber,
    /// "id_card", "booking_qr", "exam_no", "id_and_mobile".
    pub identified_by: String,
    pub checked_in_at: DateTime<Utc>,
    pub offline: bool,
    /// PIPL: the notice version shown and the answers given at the consent
    /// step; absent from kiosks without one (and from older kiosks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<crate::PrivacyAnswers>,
}

/// Documents printed (or still printing) for a patient who was no longer at
/// the kiosk: after a restart, or when their session ended first. They wait
/// in the tray for the desk to hand over (K15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentsWaiting {
    pub job_id: Uuid,
    pub booking_code: String,
    /// "guide_sheet", "lab_labels", "fee_list", "report".
    pub document: String,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushRequest {
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// First delivery: it took effect now.
    Accepted,
    /// Seen before: it took effect earlier, nothing was done again.
    Duplicate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ack {
    pub id: Uuid,
    pub status: AckStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushResponse {
    pub acks: Vec<Ack>,
}

/// A booking with its person, as the kiosk's cache and lookups carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRecord {
    pub booking: Booking,
    pub person: Person,
    /// The server's change sequence of this booking (the pull cursor).
    pub change_seq: i64,
    /// What the visit prints: guide-sheet stations, lab labels, fee lines
    /// (the desk prints the same). Absent for bookings without items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<exam_domain::documents::Documents>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangesResponse {
    pub records: Vec<BookingRecord>,
    pub next_cursor: i64,
    /// More changes wait beyond `next_cursor`.
    pub more: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupRequest {
    pub query: IdentityQuery,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupResponse {
    pub records: Vec<BookingRecord>,
}

/// Every 4xx/5xx from the API carries this body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. "replayed", "unknown_event_kind".
    pub error: String,
    /// What went wrong, for a person reading logs.
    pub message: String,
    /// The events at fault, when the error is about particular events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_ids: Vec<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kinds_are_named() {
        let e = Event {
            id: Uuid::now_v7(),
            seq: 1,
            kind: "teleport".into(),
            created_at: Utc::now(),
            payload: serde_json::json!({}),
        };
        assert!(matches!(e.body(), Err(EventError::UnknownKind { .. })));
        let bad = Event {
            kind: EventBody::CHECK_IN.into(),
            ..e
        };
        assert!(matches!(bad.body(), Err(EventError::BadPayload { .. })));
    }
}

#[cfg(test)]
mod device_tests {
    use super::*;

    #[test]
    fn device_states_and_alerts_keep_the_wire_text() {
        let d = DeviceStatus {
            name: "receipt".into(),
            state: DeviceState::PaperOut,
        };
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"name":"receipt","state":"paper_out"}"#);
        for s in DeviceState::ALL {
            assert_eq!(DeviceState::from_label(s.as_str()), s);
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::from(s.as_str())
            );
        }
        let newer: DeviceStatus =
            serde_json::from_str(r#"{"name":"x","state":"on_fire"}"#).unwrap();
        assert_eq!(newer.state, DeviceState::Unknown);
        assert_eq!(DeviceState::from_label("on_fire"), DeviceState::Unknown);
        assert_eq!(
            serde_json::to_string(&Alert::OrphanPayment).unwrap(),
            r#""orphan_payment""#
        );
    }

    #[test]
    fn a_stored_condition_is_read_in_either_shape_and_summarised() {
        let c = KioskCondition {
            devices: vec![DeviceStatus {
                name: "idcard".into(),
                state: DeviceState::Ok,
            }],
            alert: Some(Alert::CallStaff),
        };
        let stored = serde_json::to_string(&c).unwrap();
        assert_eq!(KioskCondition::from_stored(&stored), Some(c.clone()));
        assert_eq!(c.summary(), "idcard ok, alert call_staff");
        let old = r#"[{"name":"receipt","state":"paper_out"}]"#;
        assert_eq!(
            KioskCondition::from_stored(old).unwrap().summary(),
            "receipt paper_out"
        );
        assert_eq!(KioskCondition::from_stored("garbage"), None);
    }
}
