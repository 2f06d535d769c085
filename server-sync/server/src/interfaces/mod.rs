//! The hospital-interface backbone (I1–I3, E15): every message to HIS, the
//! laboratory (LIS), imaging (PACS, ultrasound), ECG, endoscopy, pathology
//! and SMS goes through one durable queue in the central store.
//!
//! - **Enqueued with its fact** (`facts`): registering a visit, taking a
//!   payment, a refund, a waived or removed item call [`facts::sync_visit`]
//!   inside their own transaction, which compares the visit with what was
//!   already sent for it (`interface_items`) and enqueues the difference.
//!   So a fact and its messages commit together, and doing a fact twice
//!   sends nothing twice.
//! - **Sent in order, per counterpart** (`engine`): a counterpart's messages
//!   go out by `seq` (commit order), one at a time; a failing head blocks
//!   that counterpart only, with exponential backoff and jitter (`policy`);
//!   a message the counterpart refuses `max_failures` times or refuses for
//!   good is a dead letter, set aside until staff retry it. An unreachable
//!   counterpart does not kill messages: the head waits for it.
//! - **One sender at a time** (`store`): a lease row per counterpart, taken
//!   by a conditional UPDATE, and each message claimed (`sending`) under it
//!   before it is handed to the adapter; a sender that dies leaves a claim
//!   that expires.
//! - **Adapters** (`adapter`): one [`adapter::Outbound`] per counterpart,
//!   chosen by `[interfaces]` in the configuration; none configured: the
//!   messages wait in the queue, and the staff page says so. `hl7` sends
//!   orders over MLLP through `exam-hl7`.
//! - **Inbound** (`inbound`): what counterparts send us, each kept once (by
//!   control id and by content), matched to the visit's item; a result's
//!   major abnormal values raised with it (`abnormal`).
//! - **Staff** (`page`): per counterpart what was sent, acknowledged,
//!   failed, pending, the last error, dead letters with a retry button; per
//!   visit, ordered vs received per item, re-fetch and manual transfer.
//!
//! Nothing here ever makes a patient wait for a counterpart: the facts only
//! write rows; sending is the engine's background work.

pub mod abnormal;
pub mod adapter;
pub mod engine;
pub mod facts;
pub mod his;
pub mod hl7;
pub mod inbound;
pub mod manual;
mod page;
pub mod payload;
pub mod policy;
pub mod price_sync;
pub mod prices;
pub mod settings;
pub mod store;
pub mod view;

pub use adapter::{Delivered, Outbound, Outgoing, SendError};
pub use engine::{Dispatcher, StepOutcome};
pub use settings::InterfacesConfig;

pub(crate) use page::routes;

use serde::{Deserialize, Serialize};

/// A system we exchange messages with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counterpart {
    /// The hospital information system: patient master record, registration,
    /// charges and refunds.
    His,
    /// The laboratory.
    Lis,
    /// Radiology (DR, CT, MRI, mammography).
    Pacs,
    /// Ultrasound (often its own system, or PACS under another address).
    Ultrasound,
    Ecg,
    Endoscopy,
    Pathology,
    Sms,
}

impl Counterpart {
    pub const ALL: [Counterpart; 8] = [
        Counterpart::His,
        Counterpart::Lis,
        Counterpart::Pacs,
        Counterpart::Ultrasound,
        Counterpart::Ecg,
        Counterpart::Endoscopy,
        Counterpart::Pathology,
        Counterpart::Sms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Counterpart::His => "his",
            Counterpart::Lis => "lis",
            Counterpart::Pacs => "pacs",
            Counterpart::Ultrasound => "ultrasound",
            Counterpart::Ecg => "ecg",
            Counterpart::Endoscopy => "endoscopy",
            Counterpart::Pathology => "pathology",
            Counterpart::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Counterpart::His => "HIS 医院信息系统",
            Counterpart::Lis => "LIS 检验系统",
            Counterpart::Pacs => "PACS 影像系统",
            Counterpart::Ultrasound => "超声系统",
            Counterpart::Ecg => "心电系统",
            Counterpart::Endoscopy => "内镜系统",
            Counterpart::Pathology => "病理系统",
            Counterpart::Sms => "短信平台",
        }
    }

    /// Where an item's order goes when the catalogue has not said: by its
    /// department, and cervical cytology (TCT) to pathology, which reads
    /// it in Chinese hospitals. Departments without an order system
    /// (general, internal medicine, ...) record their findings at the desk.
    pub fn for_item(code: &str, department: &str) -> Option<Self> {
        if code == "L-TCT" {
            return Some(Counterpart::Pathology);
        }
        match department {
            "lab" => Some(Counterpart::Lis),
            "rad" => Some(Counterpart::Pacs),
            "us" => Some(Counterpart::Ultrasound),
            "ecg" => Some(Counterpart::Ecg),
            "endo" => Some(Counterpart::Endoscopy),
            _ => None,
        }
    }
}

impl std::fmt::Display for Counterpart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a message asks of its counterpart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// HIS 建档: the patient master record.
    PatientRecord,
    /// HIS 挂号 / 登记: the visit.
    Registration,
    /// HIS 收费: items paid.
    Charge,
    /// HIS 退费: items refunded.
    Refund,
    /// An order for one item (LIS, PACS, ...: HL7 ORM / OML).
    Order,
    /// The order withdrawn (refund, waiver, item removed).
    OrderCancel,
    /// Ask the counterpart to send an item's results again (staff re-fetch).
    ResultQuery,
    /// One SMS to a person (I5, `crate::sms`).
    Sms,
}

impl MessageKind {
    pub const ALL: [MessageKind; 8] = [
        MessageKind::PatientRecord,
        MessageKind::Registration,
        MessageKind::Charge,
        MessageKind::Refund,
        MessageKind::Order,
        MessageKind::OrderCancel,
        MessageKind::ResultQuery,
        MessageKind::Sms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::PatientRecord => "patient_record",
            MessageKind::Registration => "registration",
            MessageKind::Charge => "charge",
            MessageKind::Refund => "refund",
            MessageKind::Order => "order",
            MessageKind::OrderCancel => "order_cancel",
            MessageKind::ResultQuery => "result_query",
            MessageKind::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            MessageKind::PatientRecord => "建档",
            MessageKind::Registration => "登记",
            MessageKind::Charge => "收费",
            MessageKind::Refund => "退费",
            MessageKind::Order => "申请单",
            MessageKind::OrderCancel => "撤销申请",
            MessageKind::ResultQuery => "重新获取结果",
            MessageKind::Sms => "短信",
        }
    }
}

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Waiting for its turn.
    Pending,
    /// Claimed by a sender under its lease (handed to the adapter).
    Sending,
    /// Delivered; the counterpart's acknowledgement is still to come.
    Sent,
    /// Delivered and acknowledged.
    Acked,
    /// Failed; tried again at `next_attempt_at` (it still heads its line).
    Retrying,
    /// Set aside: refused for good or too often. Staff may retry it.
    Dead,
}

impl MessageState {
    pub const ALL: [MessageState; 6] = [
        MessageState::Pending,
        MessageState::Sending,
        MessageState::Sent,
        MessageState::Acked,
        MessageState::Retrying,
        MessageState::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Pending => "pending",
            MessageState::Sending => "sending",
            MessageState::Sent => "sent",
            MessageState::Acked => "acked",
            MessageState::Retrying => "retrying",
            MessageState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Still to be delivered (in the line).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            MessageState::Pending | MessageState::Sending | MessageState::Retrying
        )
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            MessageState::Pending => "待发送",
            MessageState::Sending => "发送中",
            MessageState::Sent => "已发送",
            MessageState::Acked => "已确认",
            MessageState::Retrying => "失败重试中",
            MessageState::Dead => "死信",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for c in Counterpart::ALL {
            assert_eq!(Counterpart::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Some(k));
        }
        for s in MessageState::ALL {
            assert_eq!(MessageState::parse(s.as_str()), Some(s));
        }
        assert_eq!(Counterpart::parse("HIS"), None);
    }

    #[test]
    fn items_go_by_department() {
        assert_eq!(
            Counterpart::for_item("L-CBC", "lab"),
            Some(Counterpart::Lis)
        );
        assert_eq!(
            Counterpart::for_item("L-TCT", "lab"),
            Some(Counterpart::Pathology)
        );
        assert_eq!(
            Counterpart::for_item("RAD-DR-CHEST", "rad"),
            Some(Counterpart::Pacs)
        );
        assert_eq!(
            Counterpart::for_item("US-ABD", "us"),
            Some(Counterpart::Ultrasound)
        );
        assert_eq!(
            Counterpart::for_item("ECG-12", "ecg"),
            Some(Counterpart::Ecg)
        );
        assert_eq!(
            Counterpart::for_item("ENDO-GAS", "endo"),
            Some(Counterpart::Endoscopy)
        );
        assert_eq!(Counterpart::for_item("INT-EXAM", "int"), None);
    }
}
