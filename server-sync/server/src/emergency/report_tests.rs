use chrono::{TimeZone, Utc};

use super::*;
use crate::emergency::machine::{Basis, EpisodeState};

fn entry(kind: EntryKind, booking: i64, fen: i64, method: Option<&str>) -> Entry {
    Entry {
        kind,
        booking_id: booking,
        exam_no: format!("E{booking}"),
        amount_fen: fen,
        method: method.map(str::to_string),
        receipt_no: (kind == EntryKind::Charge).then(|| format!("YJ-{booking}")),
        actor: "desk".into(),
        at: Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap(),
    }
}

fn message(booking: i64, state: MessageState) -> Message {
    Message {
        id: booking,
        seq: booking,
        booking_id: booking,
        exam_no: format!("E{booking}"),
        counterpart: Counterpart::His,
        kind: MessageKind::Charge,
        item_code: None,
        state,
        delivery: Delivery::of(state),
        last_error: None,
    }
}

#[test]
fn totals_by_method() {
    let entries = [
        entry(EntryKind::Registration, 1, 35_000, None),
        entry(EntryKind::Charge, 1, 35_000, Some("cash")),
        entry(EntryKind::Charge, 2, 12_000, Some("cash")),
        entry(EntryKind::Charge, 3, 5_000, Some("card")),
        entry(EntryKind::Refund, 2, 2_000, Some("cash")),
        entry(EntryKind::Refund, 9, 800, None),
    ];
    let msgs = [
        message(1, MessageState::Acked),
        message(2, MessageState::Retrying),
        message(3, MessageState::Dead),
        message(4, MessageState::Pending),
    ];
    let t = totals(&entries, &msgs);
    assert_eq!(t.registrations, 1);
    assert_eq!(
        t.all,
        Money {
            charges: 3,
            charged_fen: 52_000,
            refunds: 2,
            refunded_fen: 2_800,
            net_fen: 49_200
        }
    );
    assert_eq!(t.by_method["cash"].net_fen, 45_000);
    assert_eq!(t.by_method["card"].charged_fen, 5_000);
    assert_eq!(t.by_method["original"].refunded_fen, 800);
    assert_eq!(t.messages[&Delivery::Waiting], 2);
    assert_eq!(t.messages[&Delivery::Dead], 1);
    assert_eq!(t.messages[&Delivery::Acknowledged], 1);
}

#[test]
fn csv_cells_are_quoted_and_inert() {
    assert_eq!(cell("a,b"), "\"a,b\"");
    assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    assert_eq!(cell("-12.00"), "-12.00");
    assert_eq!(yuan(-1205), "-12.05");
    let e = Episode {
        id: 7,
        state: EpisodeState::Closed,
        basis: Basis::Eligible,
        eligibility: serde_json::Value::Null,
        started_at: Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap(),
        started_by: "sup".into(),
        started_role: "desk_supervisor".into(),
        reason: "HIS 断开, 信息中心确认".into(),
        override_reason: None,
        leadership: Some("=王主任".into()),
        recovery_estimate: None,
        receipt_prefix: "YJ20261205-01".into(),
        receipts: 1,
        seq_start: 0,
        seq_end: Some(4),
        ended_at: None,
        ended_by: None,
        end_reason: None,
        closed_at: None,
    };
    let entries = vec![entry(EntryKind::Charge, 1, 35_000, Some("cash"))];
    let messages = vec![message(1, MessageState::Acked)];
    let r = Report {
        totals: totals(&entries, &messages),
        episode: e,
        entries,
        messages,
    };
    let out = csv(&r);
    assert!(
        out.contains("episode,reason,\"HIS 断开, 信息中心确认\"\r\n"),
        "{out}"
    );
    assert!(out.contains("episode,leadership,'=王主任\r\n"), "{out}");
    assert!(
        out.contains("entry,charge,E1,350.00,cash,YJ-1,desk,"),
        "{out}"
    );
    assert!(
        out.contains("total,all,1,350.00,0,0.00,350.00\r\n"),
        "{out}"
    );
    assert!(
        out.contains("message,1,E1,his,charge,,acknowledged,\r\n"),
        "{out}"
    );
    assert_eq!(r.unacknowledged().count(), 0);
}
