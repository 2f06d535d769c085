//! K17: self-service booking at a kiosk through the signed kiosk API, on
//! SQLite and PostgreSQL: options, booking with the person rules and the
//! conflict message, rebooking, cancelling, and another person's booking
//! refused.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, id_number};
use exam_domain::catalogue::Marital;
use exam_domain::plan::PlanRequest;
use exam_domain::{BookingState, IdNumber};
use exam_protocol::{SelfBookRequest, SelfCancelRequest, SelfRebookRequest};
use sync_client::{SyncClient, SyncError};

on_both_stores!(a_patient_books_rebooks_and_cancels_at_the_kiosk);

fn refusal(e: SyncError) -> (u16, String, String) {
    match e {
        SyncError::Refused { status, error } => (status, error.error, error.message),
        other => panic!("expected a refusal, got {other}"),
    }
}

async fn a_patient_books_rebooks_and_cancels_at_the_kiosk(h: &Harness) {
    let key = h.kiosk("K-BOOK").await;
    let k = SyncClient::new(
        &sync_client::ServiceLink::loopback_dev(&h.url).unwrap(),
        key,
    );
    let day = exam_server::workflow::now_local().date() + chrono::Duration::days(2);
    let opts = k.booking_options(day).await.unwrap();
    assert_eq!(opts.packages.len(), 20);
    assert_eq!(opts.slots.len(), 7);
    assert!(opts.slots.iter().all(|s| s.left == 40));
    // Add-ons carry every conflict, whichever side of the catalogue's pair
    // names it, so the kiosk can refuse at once.
    let c14 = opts.addons.iter().find(|a| a.code == "L-C14").unwrap();
    assert!(
        c14.conflicts
            .iter()
            .any(|c| c.with == "L-C13" && !c.reason.is_empty())
    );
    let ldct = opts.addons.iter().find(|a| a.code == "RAD-LDCT").unwrap();
    assert!(ldct.conflicts.iter().any(|c| c.with == "RAD-DR-CHEST"));
    assert_eq!(ldct.department, "放射科");
    let basic = opts
        .packages
        .iter()
        .find(|p| p.code == "P-M-BASIC")
        .unwrap();
    assert!(basic.items.iter().any(|i| i == "RAD-DR-CHEST"));
    let slot = opts.slots[2].start;

    let id = IdNumber::parse(&id_number(1993, 24)).unwrap();
    let mut req = SelfBookRequest {
        id_number: id.clone(),
        name: "何静".into(),
        mobile: "13611112222".into(),
        marital: Marital::Unmarried,
        plan: PlanRequest {
            package: Some("P-F-BASIC-M".into()),
            add: vec!["L-C13".into(), "L-C14".into()],
            remove: vec![],
        },
        date: day,
        slot_start: slot,
    };
    let (status, code, msg) = refusal(k.book(&req).await.unwrap_err());
    assert_eq!((status, code.as_str()), (422, "conflict"));
    assert!(
        msg.contains("碳13") && msg.contains("碳14"),
        "the patient is told which and why: {msg}"
    );
    req.plan.add = vec!["L-C13".into()];
    let booked = k.book(&req).await.unwrap();
    assert_eq!(booked.booking.state, BookingState::Booked);
    assert_eq!(
        (booked.booking.exam_date, booked.booking.slot_start),
        (day, slot)
    );
    assert!(
        booked
            .plan
            .excluded
            .iter()
            .any(|e| e.code == "US-VAG" && e.replaced_by.is_some())
    );
    assert_eq!(booked.booking.amount_due_fen, booked.plan.total_fen);
    let opts = k.booking_options(day).await.unwrap();
    assert_eq!(opts.slots[2].left, 39);

    // The kiosk learns what the booking prints, from the feed and lookups alike.
    let mut feed = Vec::new();
    let mut cursor = 0;
    loop {
        let page = k.changes(cursor, 500).await.unwrap();
        cursor = page.next_cursor;
        feed.extend(page.records);
        if !page.more {
            break;
        }
    }
    let rec = feed
        .iter()
        .find(|r| r.booking.code == booked.booking.code)
        .unwrap();
    let docs = rec.documents.as_ref().expect("documents with the booking");
    assert!(
        docs.labels
            .iter()
            .any(|l| l.barcode.starts_with(&booked.booking.exam_no))
    );
    assert!(docs.guide.stations[0].fasting, "fasting first");
    assert_eq!(docs.fee_list.total_fen, booked.plan.total_fen);
    assert!(
        feed.iter()
            .filter(|r| r.booking.code != booked.booking.code)
            .all(|r| r.documents.is_some()),
        "seeded bookings get their package's documents too"
    );
    let found = k
        .lookup(
            &exam_domain::IdentityQuery::BookingCode {
                code: booked.booking.code.clone(),
            },
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(found.records[0].documents.as_ref(), Some(docs));

    // Another person cannot touch it, even with the code.
    let other = IdNumber::parse(&id_number(1993, 26)).unwrap();
    let (status, _, _) = refusal(
        k.cancel(&SelfCancelRequest {
            code: booked.booking.code.clone(),
            id_number: other,
            reason: String::new(),
        })
        .await
        .unwrap_err(),
    );
    assert_eq!(status, 404);

    let moved = k
        .rebook(&SelfRebookRequest {
            code: booked.booking.code.clone(),
            id_number: id.clone(),
            date: day,
            slot_start: opts.slots[5].start,
        })
        .await
        .unwrap();
    assert_eq!(moved.slot_start, opts.slots[5].start);
    let opts = k.booking_options(day).await.unwrap();
    assert_eq!((opts.slots[2].left, opts.slots[5].left), (40, 39));
    let cancelled = k
        .cancel(&SelfCancelRequest {
            code: booked.booking.code.clone(),
            id_number: id,
            reason: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(cancelled.state, BookingState::Cancelled);
    assert_eq!(k.booking_options(day).await.unwrap().slots[5].left, 40);
    let ops = h
        .db()
        .operations(
            &exam_server::db::OpQuery {
                actor: Some("kiosk:K-BOOK".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    let actions: Vec<&str> = ops.iter().map(|o| o.action.as_str()).collect();
    assert_eq!(actions, ["visit.cancel", "visit.rebook", "visit.book"]);
}
