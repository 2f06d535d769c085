//! Data by risk level (002 §(九) 6.1: 区分高、中、低等风险级别参数的数据类别，
//! 按照不同风险等级设置不同操作界面，不同数据类别要可设置成不同的权限控制).
//!
//! Every [`Capability`] is classed by the most sensitive data it reaches,
//! and each class has its own kind of screen:
//!
//! - **High** (高): medical content and biometric-like data — check-in
//!   photos, waiver signatures, exam reports, a person's whole record and
//!   its export, identity corrections, the audit trail (which names who
//!   looked at whom). Shown one person (or one record) at a time, only on an
//!   explicit request, each view or change audited; never in a list, never
//!   in a bulk export.
//! - **Medium** (中): identifying data — names, ID numbers, mobiles,
//!   bookings, rosters, check-in lists. Masked on screen, lists carry the
//!   user's watermark, bulk exports are masked and limited, every read
//!   audited.
//! - **Low** (低): no personal data — the dictionaries, slots, prices,
//!   accounts' settings pages.
//!
//! The permission for each class is the role table (`roles.rs`); this
//! module is the classification it is checked against (tests below), so a
//! new capability cannot be added without saying what it exposes.

use crate::roles::{Capability, Role};

/// How sensitive the data a capability reaches is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DataClass {
    Low,
    Medium,
    High,
}

impl DataClass {
    pub fn label_zh(self) -> &'static str {
        match self {
            DataClass::Low => "低",
            DataClass::Medium => "中",
            DataClass::High => "高",
        }
    }
}

/// The most sensitive data `c` reaches.
pub fn exposes(c: Capability) -> DataClass {
    use Capability::*;
    match c {
        ViewPhoto | ViewSignatures | HandleReports | ServeDataRights | CorrectIdentity
        | ViewAudit => DataClass::High,
        UseDeskPage | UseGroupPage | ViewRegistrations | ManagePrintouts | SearchPatients
        | ServeGroupVisits | BookVisit | RegisterVisit | ChangeItems | Refund | TakePayment
        | PrintDocuments | ViewDeskLog | ViewGroups | EditGroups | ImportRoster | BookGroup
        | BanMembers => DataClass::Medium,
        // A visit's major abnormal results with their values (medical
        // content: one visit at a time, on request, audited); the open list
        // names visits by number with the analyte and category, no value
        // and no name (its read audited too); queue payloads never shown.
        ManageInterfaces => DataClass::High,
        // Merchant numbers and amounts, no names.
        ReconcilePayments => DataClass::Low,
        // Exam numbers, amounts and receipt numbers of an emergency
        // episode, no names; the switch itself shows nothing.
        ViewEmergency => DataClass::Medium,
        SwitchEmergency | OverrideEmergency => DataClass::Low,
        // Masked names and exam numbers in queues (the guide desk, the
        // doctor station): identifying, masked on screen.
        GuideQueue | CallPatients => DataClass::Medium,
        // Rules, rooms and screen colours: nothing personal.
        ManageQueue => DataClass::Low,
        // A visit's results, summaries and earlier years: medical content,
        // one visit at a time as scanned, each read audited.
        EnterResults => DataClass::High,
        // A case's value, the person's number to phone, the notes.
        ManageAbnormal => DataClass::High,
        // Tubes by barcode with masked names; the draw's notes (晕针) are
        // about the person's health.
        CollectSpecimens => DataClass::High,
        ChiefExamine => DataClass::High,
        UseAdminPage | ViewCatalogue | ManageAccounts | EditCatalogue => DataClass::Low,
    }
}

/// The most sensitive class `role` may reach.
pub fn reach(role: Role) -> DataClass {
    Capability::ALL
        .into_iter()
        .filter(|&c| role.may(c))
        .map(exposes)
        .max()
        .unwrap_or(DataClass::Low)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each role's reach by class, so a change of rights that crosses a
    /// class shows up here in review.
    #[test]
    fn high_risk_data_is_kept_from_the_roles_that_do_not_need_it() {
        // The group desk works with rosters: identifying data, masked, never
        // a photo, a signature, a report or a whole record.
        assert_eq!(reach(Role::GroupDesk), DataClass::Medium);
        for c in Capability::ALL {
            if exposes(c) == DataClass::High {
                assert!(!Role::GroupDesk.may(c), "{c:?}");
            }
        }
        // The auditor reads the trail (high) and nothing identifying besides.
        for c in Capability::ALL {
            if Role::Auditor.may(c) {
                assert!(matches!(c, Capability::ViewAudit), "{c:?}");
            }
        }
        assert_eq!(reach(Role::FrontDesk), DataClass::High);
        // The guide sees masked queues only; the doctor also the results
        // of the visit in front of them.
        assert_eq!(reach(Role::Guide), DataClass::Medium);
        assert_eq!(reach(Role::Doctor), DataClass::High);
    }

    #[test]
    fn every_class_has_capabilities_and_a_name() {
        for class in [DataClass::Low, DataClass::Medium, DataClass::High] {
            assert!(Capability::ALL.into_iter().any(|c| exposes(c) == class));
            assert!(!class.label_zh().is_empty());
        }
    }
}
