//! Moving a kiosk's waiting documents to another kiosk (K15): staff ask
//! for it on the staff page when a printer is out for long; the source
//! kiosk learns it from its heartbeat's answer, releases its unfinished
//! jobs in one journaled event, and the target kiosk receives them in its
//! own heartbeat's answer, journals them and confirms. Parts that may have
//! reached paper at the source travel as reprints (printed under the mark).

use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// To the source kiosk: release your unfinished print jobs to `to_kiosk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveOrder {
    pub move_id: i64,
    pub to_kiosk: String,
    /// What the target prints (its heartbeat's `prints`): receipt parts
    /// always move; label parts only to a printer of their language, A4
    /// parts only to a kiosk with a report printer.
    #[serde(default)]
    pub accepts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovedPart {
    pub idx: i64,
    /// "receipt", "label", "report".
    pub printer: String,
    /// The rendered bytes, base64.
    pub body: String,
    /// It was on its way to paper at the source: print it marked 补打.
    pub reprint: bool,
}

impl MovedPart {
    pub fn new(idx: i64, printer: &str, body: &[u8], reprint: bool) -> Self {
        Self {
            idx,
            printer: printer.into(),
            body: base64::engine::general_purpose::STANDARD.encode(body),
            reprint,
        }
    }

    pub fn bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        base64::engine::general_purpose::STANDARD.decode(&self.body)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovedJob {
    pub job_id: Uuid,
    pub kind: String,
    /// Whose documents (booking code).
    pub person: String,
    /// Only the parts not yet printed at the source.
    pub parts: Vec<MovedPart>,
}

/// Event of the source kiosk: these jobs are released (no longer printed here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintReleased {
    pub move_id: i64,
    pub to_kiosk: String,
    pub jobs: Vec<MovedJob>,
}

/// Event of the target kiosk: the moved jobs are in its journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrintAccepted {
    pub move_id: i64,
}

/// To the target kiosk: jobs released to it, until it confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingMove {
    pub move_id: i64,
    pub from_kiosk: String,
    pub jobs: Vec<MovedJob>,
}
