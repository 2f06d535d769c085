//! The records the authorization matrix names: its callers' sessions and
//! keys, the visits, company and report its placeholders are filled with,
//! and each kiosk route's realistic request (`authz_matrix.rs`).

use chrono::Utc;
use exam_domain::IdNumber;
use exam_protocol::auth::KioskKey;
use exam_protocol::{Event, EventBody, paths};
use exam_server::roles::Role;
use serde_json::{Value, json};

use crate::common::{Harness, Staff, id_number, quiet_heartbeat};

/// Which visit a `{id}` of a visit route names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Only,
    Individual,
    GroupMember,
}

/// Existing records the placeholders and the kiosk probes name.
pub struct Fixtures {
    pub ind_visit: i64,
    pub grp_visit: i64,
    pub company: i64,
    pub item_code: String,
    /// Campus "main" bookings: (booking id, code, ID number, mobile).
    pub lookup: (i64, String, IdNumber, String),
    pub rebook: (String, IdNumber),
    pub cancel: (String, IdNumber),
    pub check_in: (i64, String, IdNumber),
    pub report: i64,
    pub slot: (chrono::NaiveDate, chrono::NaiveTime),
}

/// How a kiosk probe's success is told from "answered as unknown".
pub enum Check {
    /// A success must carry this text (a booking code).
    Mentions(String),
    /// A success must have checked this booking in.
    CheckedIn(i64),
    /// Any success is the handler's.
    Status,
}

pub struct Ctx<'a> {
    pub h: &'a Harness,
    pub staff: Vec<(Role, Staff)>,
    /// A front-desk account bound to the other campus ("east").
    pub other_desk: Staff,
    pub kiosk: KioskKey,
    pub other: KioskKey,
    pub fx: Fixtures,
}

/// The path with its parameters filled by existing records.
pub fn fill(path: &str, v: Variant, fx: &Fixtures) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        let name = &rest[i + 1..j];
        let value = match name {
            "id" if path.starts_with("/api/group/companies/") => fx.company.to_string(),
            "id" if v == Variant::GroupMember => fx.grp_visit.to_string(),
            "id" => fx.ind_visit.to_string(),
            "code" if path.starts_with("/api/admin/packages/") => "P-EMP".into(),
            "code" => fx.item_code.clone(),
            "token" => "matrix-token".into(),
            "import" => "1".into(),
            "name" => "staff.css".into(),
            "counterpart" => "lis".into(),
            "room" => "us1".into(),
            "seq" => "1.wav".into(),
            "dept" => "int".into(),
            "barcode" => "2570655001".into(),
            "login" => "matrix-nobody".into(),
            "n" => "0".into(),
            // An order number no one made: the gate answers before the handler.
            "no" => "HX0000000000000000".into(),
            other => panic!("no placeholder value for {{{other}}} in {path}: add one to fill()"),
        };
        out.push_str(&value);
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

/// A kiosk route's realistic request (the `n`th call: fresh ids) and how
/// its success is recognised.
pub fn probe(path: &str, fx: &Fixtures, n: usize) -> (Vec<u8>, Check) {
    let id = |i: &IdNumber| i.as_str().to_string();
    let (body, check) = match path {
        paths::ENROL => (json!({}), Check::Status),
        paths::HEARTBEAT => (
            serde_json::to_value(quiet_heartbeat(0)).unwrap(),
            Check::Status,
        ),
        paths::EVENTS => {
            let (booking, code, person) = &fx.check_in;
            let body: EventBody = EventBody::CheckIn(
                serde_json::from_value(json!({
                    "booking_id": booking, "booking_code": code, "id_number": id(person),
                    "identified_by": "id_card", "checked_in_at": Utc::now(), "offline": false,
                }))
                .unwrap(),
            );
            let e = Event::new(uuid::Uuid::now_v7(), n as i64, Utc::now(), &body);
            (json!({ "events": [e] }), Check::CheckedIn(*booking))
        }
        paths::CHANGES => return (vec![], Check::Mentions(fx.lookup.1.clone())),
        // K3: the gallery names its model on every success (no one is
        // enrolled in the harness).
        paths::FACES => return (vec![], Check::Mentions("sface_2021dec".into())),
        paths::LOOKUP => {
            let (_, code, person, mobile) = &fx.lookup;
            let q = exam_domain::IdentityQuery::IdNumberAndMobile {
                id_number: person.clone(),
                mobile: mobile.clone(),
            };
            (json!({ "query": q }), Check::Mentions(code.clone()))
        }
        paths::BOOKING_OPTIONS => (json!({ "date": fx.slot.0 }), Check::Status),
        paths::BOOK => (
            json!({
                "id_number": id_number(1985, (n % 450) as u16 * 2 + 1), "name": "矩阵测试",
                "mobile": "13900001111", "marital": "married",
                "plan": { "package": "P-M-BASIC", "add": [], "remove": [] },
                "date": fx.slot.0, "slot_start": fx.slot.1,
            }),
            Check::Status,
        ),
        paths::REBOOK => (
            json!({ "code": fx.rebook.0, "id_number": id(&fx.rebook.1),
                    "date": fx.slot.0, "slot_start": fx.slot.1 }),
            Check::Mentions(fx.rebook.0.clone()),
        ),
        paths::CANCEL => (
            json!({ "code": fx.cancel.0, "id_number": id(&fx.cancel.1), "reason": "矩阵测试" }),
            Check::Mentions(fx.cancel.0.clone()),
        ),
        paths::REPORTS => (
            json!({ "id_number": id(&fx.lookup.2) }),
            Check::Mentions(fx.lookup.1.clone()),
        ),
        paths::REPORT_PDF => (
            json!({ "id": fx.report, "id_number": id(&fx.lookup.2) }),
            Check::Mentions("\"pdf\"".into()),
        ),
        // K16: the harness has no payment platform: the bookings are
        // checked (another campus: unknown) before payment is said to be
        // unavailable or nothing is due.
        paths::PAYMENT => {
            let (booking, _, person) = &fx.check_in;
            (
                json!({ "id_number": id(person), "bookings": [booking] }),
                Check::Status,
            )
        }
        // Kiosk A's order (setup): another kiosk is answered as unknown.
        paths::PAYMENT_STATE | paths::PAYMENT_CANCEL => (
            json!({ "out_trade_no": "HX00MATRIX" }),
            Check::Mentions("HX00MATRIX".into()),
        ),
        other => panic!("kiosk route {other} has no probe: add one to probe()"),
    };
    (serde_json::to_vec(&body).unwrap(), check)
}

pub async fn setup(h: &Harness) -> Ctx<'_> {
    let mut staff = Vec::new();
    for role in Role::ALL {
        staff.push((
            role,
            h.staff(&format!("matrix_{role}"), role.as_str()).await,
        ));
    }
    let other_desk = h.staff("matrix_desk_b", "front_desk").await;
    assert!(
        h.db()
            .set_account_campus("system", "matrix_desk_b", Some("east"))
            .await
            .unwrap()
    );
    let admin = &staff.iter().find(|(r, _)| *r == Role::Admin).unwrap().1;
    let kiosk = h.kiosk("K-MATRIX-A").await;
    let other = h.kiosk_at("K-MATRIX-B", "east", "lobby").await;
    // K16: an order of kiosk A (closed), for the state and cancel probes.
    h.sql(
        "INSERT INTO payment_orders(out_trade_no, amount_fen, currency, channel, kiosk_id, created_by,
             state, expires_at, paid_after_close, auto_refund, created_at, updated_at, version)
         VALUES ('HX00MATRIX', 100, 'CNY', 'kiosk', 'K-MATRIX-A', 'kiosk:K-MATRIX-A', 'closed',
             '2026-01-01T00:00:00.000Z', 0, 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 0)",
    )
    .await
    .unwrap();

    // Campus "main" bookings of the demo people, one per probe.
    let recs = h.db().changes_since("main", 0, 100).await.unwrap().records;
    assert!(recs.len() >= 5, "demo bookings");
    let person = |i: usize| {
        let r = &recs[i];
        (
            r.booking.id,
            r.booking.code.clone(),
            r.person.id_number.clone(),
            r.person.mobile.clone(),
        )
    };
    let lookup = person(0);
    assert!(!lookup.3.is_empty(), "the demo person has a mobile");
    let ind_visit = lookup.0;
    let visit = h.db().visit(ind_visit).await.unwrap();
    let item_code = visit
        .items
        .first()
        .map(|i| i.code.clone())
        .unwrap_or_else(|| "L-CBC".into());

    // A report for the lookup person's visit, published by the front desk.
    let desk = &staff.iter().find(|(r, _)| *r == Role::FrontDesk).unwrap().1;
    let r = desk
        .http
        .put(format!("{}/api/desk/visits/{ind_visit}/report", h.url))
        .header("cookie", &desk.cookie)
        .header("x-csrf", &desk.csrf)
        .header("content-type", "application/pdf")
        .body(minimal_pdf())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "report published");
    let report = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // A group member's visit: the demo company booked for tomorrow.
    let company = exam_server::workflow::seed_demo_company(h.db())
        .await
        .unwrap()
        .unwrap();
    let tomorrow = exam_server::workflow::now_local().date() + chrono::Duration::days(1);
    let (st, b) = admin
        .post(
            &format!("/api/group/companies/{company}/book"),
            json!({ "date": tomorrow }),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let (_, m) = admin
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    let grp_visit = m["members"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|x| x["booking_id"].as_i64())
        .expect("a booked member");

    // A bookable slot for the kiosk's booking and rebooking.
    let body = serde_json::to_vec(&json!({ "date": tomorrow })).unwrap();
    let (st, opts) = h
        .signed(&kiosk, "POST", paths::BOOKING_OPTIONS, &body, None)
        .await;
    assert_eq!(st, 200, "{opts}");
    let start = opts["slots"][0]["start"].as_str().unwrap();
    let slot = (
        tomorrow,
        chrono::NaiveTime::parse_from_str(start, "%H:%M:%S").unwrap(),
    );

    let fx = Fixtures {
        ind_visit,
        grp_visit,
        company,
        item_code,
        rebook: (person(1).1, person(1).2),
        cancel: (person(2).1, person(2).2),
        check_in: (person(3).0, person(3).1, person(3).2),
        lookup,
        report,
        slot,
    };
    Ctx {
        h,
        staff,
        other_desk,
        kiosk,
        other,
        fx,
    }
}

/// A one-page PDF the report office could publish.
pub fn minimal_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
