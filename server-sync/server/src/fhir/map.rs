//! Rows of the store as FHIR R4 resources (pure; tested here and, for
//! conformance, by the `fhir.resources` models in `tests/fhir_api.rs`).
//!
//! | store | FHIR |
//! |---|---|
//! | person (`people`) | Patient, id = the person's key (the ID number's blind index) |
//! | visit (`bookings`) | Appointment, id = the booking id |
//! | visit item (`booking_items`) | ServiceRequest, id = `<booking>-<item code>` |
//! | published report (`reports`) | DiagnosticReport + its PDF as Binary, id = the report id |
//! | results | Observation: none recorded yet, so none served |

use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};
use exam_domain::BookingState;
use exam_domain::changes::ItemStatus;
use exam_domain::mask;

use super::model::*;
use super::scope::IdentityLevel;
use crate::db::{AppointmentRow, PatientRow, ReportDoc, RequestRow};

/// Identifier systems and code systems of this centre (URNs: no web
/// address of ours is promised to resolve).
pub const ID_NUMBER_SYSTEM: &str = "urn:exam-centre:id:cn-resident-id";
pub const BOOKING_CODE_SYSTEM: &str = "urn:exam-centre:id:booking-code";
pub const EXAM_NO_SYSTEM: &str = "urn:exam-centre:id:exam-no";
pub const REPORT_ID_SYSTEM: &str = "urn:exam-centre:id:report";
pub const ITEM_SYSTEM: &str = "urn:exam-centre:code:exam-item";
pub const PACKAGE_SYSTEM: &str = "urn:exam-centre:code:package";
/// Extension: whether an exam item is paid.
pub const PAID_EXTENSION: &str = "urn:exam-centre:fhir:extension:paid";
/// Extension: why an item is not active (refunded, waived, make-up, deferred).
pub const ITEM_STATUS_EXTENSION: &str = "urn:exam-centre:fhir:extension:item-status";

/// A slot's local time (the centre's UTC+8) as a FHIR instant.
pub fn instant(date: NaiveDate, time: NaiveTime) -> String {
    date.and_time(time)
        .and_local_timezone(exam_domain::centre_offset())
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}

pub fn utc_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn patient(p: &PatientRow, level: IdentityLevel) -> Patient {
    let person = &p.person;
    let id_number = person.id_number.as_str();
    let (identifier, name, mobile, birth) = match level {
        IdentityLevel::Full => (
            Identifier::of(ID_NUMBER_SYSTEM, id_number),
            person.name.clone(),
            person.mobile.clone(),
            person.birth_date.format("%Y-%m-%d").to_string(),
        ),
        // Masked: no system, so nobody takes the value for a usable number.
        IdentityLevel::Masked => (
            Identifier {
                use_: Some("secondary".into()),
                type_: Some(CodeableConcept::text("居民身份证号（已脱敏）")),
                system: None,
                value: Some(mask::id_number(id_number)),
            },
            mask::name(&person.name),
            mask::mobile(&person.mobile),
            person.birth_date.format("%Y").to_string(),
        ),
    };
    let telecom = if person.mobile.trim().is_empty() {
        vec![]
    } else {
        vec![ContactPoint {
            system: Some("phone".into()),
            value: Some(mobile),
            use_: Some("mobile".into()),
        }]
    };
    Patient {
        resource_type: "Patient".into(),
        id: p.key.clone(),
        identifier: vec![identifier],
        name: vec![HumanName { text: Some(name) }],
        telecom,
        gender: Some(person.sex.as_str().into()),
        birth_date: Some(birth),
    }
}

pub fn appointment_status(state: BookingState, reason: Option<&str>) -> &'static str {
    match state {
        BookingState::Booked => "booked",
        BookingState::CheckedIn => "arrived",
        BookingState::Cancelled if reason == Some("no_show") => "noshow",
        BookingState::Cancelled => "cancelled",
    }
}

pub fn appointment(a: &AppointmentRow) -> Appointment {
    let status = appointment_status(a.state, a.state_reason.as_deref());
    let service = match &a.package_code {
        Some(code) => CodeableConcept::coded(PACKAGE_SYSTEM, code, &a.package),
        None => CodeableConcept::text(a.package.clone()),
    };
    Appointment {
        resource_type: "Appointment".into(),
        id: a.id.to_string(),
        identifier: vec![
            Identifier::of(BOOKING_CODE_SYSTEM, &a.code),
            Identifier::of(EXAM_NO_SYSTEM, &a.exam_no),
        ],
        status: status.into(),
        service_type: vec![service],
        description: Some(format!("体检 · {} · {}", a.package, a.campus)),
        start: Some(instant(a.exam_date, a.slot_start)),
        end: Some(instant(a.exam_date, a.slot_end)),
        created: a.created_at.map(utc_instant),
        participant: vec![AppointmentParticipant {
            actor: Some(Reference::to(format!("Patient/{}", a.person_key))),
            status: "accepted".into(),
        }],
    }
}

/// An item's request status: a cancelled visit revokes all its items.
pub fn request_status(visit: BookingState, item: ItemStatus) -> &'static str {
    if visit == BookingState::Cancelled {
        return "revoked";
    }
    match item {
        ItemStatus::Active => "active",
        ItemStatus::Refunded | ItemStatus::Waived => "revoked",
        ItemStatus::MakeUp | ItemStatus::Deferred => "on-hold",
    }
}

/// `<booking>-<item code>`, the code's bytes outside `[A-Za-z0-9-]` as
/// `.XX` (hex), so any code makes a valid FHIR id and reads back.
pub fn request_id(booking: i64, code: &str) -> String {
    let mut id = format!("{booking}-");
    for b in code.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            id.push(b as char);
        } else {
            id.push_str(&format!(".{b:02X}"));
        }
    }
    id
}

pub fn parse_request_id(id: &str) -> Option<(i64, String)> {
    let (booking, rest) = id.split_once('-')?;
    let booking: i64 = booking.parse().ok()?;
    let mut bytes = Vec::new();
    let mut it = rest.bytes();
    while let Some(b) = it.next() {
        if b == b'.' {
            let hi = it.next()?;
            let lo = it.next()?;
            let s = [hi, lo];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&s).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    let code = String::from_utf8(bytes).ok()?;
    (!code.is_empty()).then_some((booking, code))
}

pub fn service_request(r: &RequestRow, item_name: Option<&str>) -> ServiceRequest {
    let mut extension = vec![Extension {
        url: PAID_EXTENSION.into(),
        value_boolean: Some(r.paid),
        ..Extension::default()
    }];
    if r.status != ItemStatus::Active {
        extension.push(Extension {
            url: ITEM_STATUS_EXTENSION.into(),
            value_code: Some(r.status.as_str().replace('_', "-")),
            ..Extension::default()
        });
    }
    ServiceRequest {
        resource_type: "ServiceRequest".into(),
        id: request_id(r.booking_id, &r.item_code),
        extension,
        requisition: Some(Identifier::of(EXAM_NO_SYSTEM, &r.exam_no)),
        status: request_status(r.booking_state, r.status).into(),
        intent: "order".into(),
        category: vec![CodeableConcept::text("体检项目")],
        code: Some(CodeableConcept::coded(
            ITEM_SYSTEM,
            &r.item_code,
            item_name.unwrap_or(&r.item_code),
        )),
        subject: Reference::to(format!("Patient/{}", r.person_key)),
        occurrence_date_time: Some(r.exam_date.format("%Y-%m-%d").to_string()),
        authored_on: r.created_at.map(utc_instant),
        note: vec![],
    }
}

pub fn diagnostic_report(d: &ReportDoc, base: &str) -> DiagnosticReport {
    DiagnosticReport {
        resource_type: "DiagnosticReport".into(),
        id: d.id.to_string(),
        identifier: vec![
            Identifier::of(REPORT_ID_SYSTEM, &d.id.to_string()),
            Identifier::of(EXAM_NO_SYSTEM, &d.exam_no),
        ],
        status: "final".into(),
        category: vec![CodeableConcept::text("体检报告")],
        code: CodeableConcept::text(d.title.clone()),
        subject: Some(Reference::to(format!("Patient/{}", d.person_key))),
        effective_date_time: Some(d.exam_date.format("%Y-%m-%d").to_string()),
        issued: Some(utc_instant(d.published_at)),
        presented_form: vec![Attachment {
            content_type: Some("application/pdf".into()),
            url: Some(format!("{base}/Binary/{}", d.id)),
            title: Some(d.title.clone()),
            creation: Some(utc_instant(d.published_at)),
        }],
    }
}

pub fn binary(id: i64, pdf: &[u8]) -> Binary {
    Binary {
        resource_type: "Binary".into(),
        id: id.to_string(),
        content_type: "application/pdf".into(),
        data: base64::engine::general_purpose::STANDARD.encode(pdf),
    }
}

/// A searchset Bundle of one page: `entries` are (id, resource) of the
/// page; `total` counts every match.
pub fn bundle<T>(
    base: &str,
    s: &super::search::Search,
    total: usize,
    entries: Vec<(String, T)>,
) -> Bundle<T> {
    let rt = s.resource.as_str();
    let mut link = vec![BundleLink {
        relation: "self".into(),
        url: super::search::page_url(base, s, s.paging.offset),
    }];
    let next = s.paging.offset.saturating_add(s.paging.count);
    if s.paging.count > 0 && next < total {
        link.push(BundleLink {
            relation: "next".into(),
            url: super::search::page_url(base, s, next),
        });
    }
    if s.paging.offset > 0 {
        link.push(BundleLink {
            relation: "previous".into(),
            url: super::search::page_url(base, s, s.paging.offset.saturating_sub(s.paging.count)),
        });
    }
    Bundle {
        resource_type: "Bundle".into(),
        type_: "searchset".into(),
        total: total as u64,
        link,
        entry: entries
            .into_iter()
            .map(|(id, resource)| BundleEntry {
                full_url: format!("{base}/{rt}/{id}"),
                resource,
                search: BundleSearch {
                    mode: "match".into(),
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exam_domain::{IdNumber, Person};

    fn person() -> PatientRow {
        let id =
            IdNumber::compose("321002", NaiveDate::from_ymd_opt(1985, 3, 15).unwrap(), 7).unwrap();
        PatientRow {
            key: "ab12cd".into(),
            person: Person {
                sex: id.sex(),
                birth_date: id.birth_date(),
                id_number: id,
                name: "张三丰".into(),
                mobile: "13912345678".into(),
            },
        }
    }

    #[test]
    fn a_masked_patient_shows_no_full_number_name_or_mobile() {
        let p = person();
        let full = patient(&p, IdentityLevel::Full);
        let masked = patient(&p, IdentityLevel::Masked);
        let id = p.person.id_number.as_str();
        assert_eq!(full.identifier[0].value.as_deref(), Some(id));
        assert_eq!(full.identifier[0].system.as_deref(), Some(ID_NUMBER_SYSTEM));
        assert_eq!(full.birth_date.as_deref(), Some("1985-03-15"));
        let json = serde_json::to_string(&masked).unwrap();
        for secret in [id, "张三丰", "13912345678", "1985-03-15"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        assert_eq!(masked.identifier[0].system, None);
        assert_eq!(masked.birth_date.as_deref(), Some("1985"));
        assert_eq!(masked.gender.as_deref(), Some("male"));
        assert_eq!(masked.id, "ab12cd");
    }

    #[test]
    fn statuses_follow_the_visit_and_the_item() {
        use BookingState::*;
        assert_eq!(appointment_status(Booked, None), "booked");
        assert_eq!(appointment_status(CheckedIn, None), "arrived");
        assert_eq!(appointment_status(Cancelled, Some("no_show")), "noshow");
        assert_eq!(appointment_status(Cancelled, Some("患者要求")), "cancelled");
        assert_eq!(request_status(Booked, ItemStatus::Active), "active");
        assert_eq!(request_status(Cancelled, ItemStatus::Active), "revoked");
        assert_eq!(request_status(CheckedIn, ItemStatus::Refunded), "revoked");
        assert_eq!(request_status(CheckedIn, ItemStatus::Deferred), "on-hold");
    }

    #[test]
    fn request_ids_are_valid_fhir_ids_and_read_back() {
        for code in ["L-CBC", "US_ABD", "心电图", "a.b"] {
            let id = request_id(42, code);
            assert!(super::super::search::valid_id(&id) || id.len() > 64, "{id}");
            assert_eq!(parse_request_id(&id), Some((42, code.to_string())), "{id}");
        }
        assert_eq!(request_id(7, "L-CBC"), "7-L-CBC");
        assert_eq!(parse_request_id("x-L"), None);
        assert_eq!(parse_request_id("7-"), None);
        assert_eq!(parse_request_id("7-.G1"), None);
    }

    #[test]
    fn slot_times_are_instants_in_the_centres_zone() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let t = NaiveTime::from_hms_opt(8, 30, 0).unwrap();
        assert_eq!(instant(d, t), "2026-12-05T08:30:00+08:00");
    }
}
