//! Hospital interfaces (I1–I3): messages enqueued with the facts that cause
//! them and never twice; a counterpart's line in order; backoff; dead
//! letters and staff's retry; two senders never sending one message at
//! once, and a sender that dies mid-send taken over. Both stores.

#![allow(clippy::unwrap_used)]

mod common;
mod interfaces;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::Harness;
use exam_server::interfaces::{Counterpart, Dispatcher, MessageState, SendError, StepOutcome};
use interfaces::{Peer, adapters, config, line, pay, routed_items, walk_in};
use serde_json::json;

on_both_stores!(
    facts_enqueue_their_messages_once,
    one_line_in_order_with_backoff_dead_letters_and_retry,
    two_senders_never_send_one_message_twice,
    a_visits_messages_follow_its_own_from_an_instance_whose_clock_is_ahead,
);

async fn facts_enqueue_their_messages_once(h: &Harness) {
    let s = h.staff("iface-desk", "front_desk").await;
    let db = h.db();
    let id = walk_in(&s, 1).await;
    // Registered at once (a walk-in): HIS's record and registration, no
    // order before payment.
    let his = line(db, Counterpart::His).await;
    assert_eq!(
        his.iter()
            .map(|m| m.0.split(':').next().unwrap())
            .collect::<Vec<_>>(),
        ["his.patient", "his.register"]
    );
    assert!(line(db, Counterpart::Lis).await.is_empty());
    pay(&s, id).await;
    let items = routed_items(&s, id).await;
    for c in [
        Counterpart::Lis,
        Counterpart::Pacs,
        Counterpart::Ultrasound,
        Counterpart::Ecg,
    ] {
        let want: Vec<String> = items
            .iter()
            .filter(|(_, r)| *r == Some(c))
            .map(|(code, _)| format!("order:{id}:{code}:1"))
            .collect();
        let mut got: Vec<String> = line(db, c).await.into_iter().map(|m| m.0).collect();
        got.sort();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        assert!(!want.is_empty(), "{c}: the package has items for it");
        assert_eq!(got, want_sorted, "{c}");
    }
    let his = line(db, Counterpart::His).await;
    assert_eq!(his.len(), 3, "{his:?}");
    assert_eq!(his[2].0, format!("his.charge:{id}:1"));
    // The charge carries every item and the amount paid.
    let (_, v) = s.get(&format!("/api/desk/visits/{id}")).await;
    let all: i64 = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["price_fen"].as_i64().unwrap())
        .sum();
    let msgs = db
        .interface_messages(Counterpart::His, None, 10)
        .await
        .unwrap();
    let charge = msgs
        .iter()
        .find(|m| m.key.starts_with("his.charge"))
        .unwrap();
    assert!(
        charge
            .summary
            .contains(&format!("¥{}.{:02}", all / 100, all % 100)),
        "{}",
        charge.summary
    );
    // The same facts again change nothing: paying with nothing owed, and
    // registering twice (refused).
    let before: usize = count_all(db).await;
    let (st, _) = s
        .post(
            &format!("/api/desk/visits/{id}/pay"),
            json!({ "method": "cash" }),
        )
        .await;
    assert!(st == 200 || st == 409 || st == 422, "{st}");
    let (st, _) = s
        .post(&format!("/api/desk/visits/{id}/register"), json!({}))
        .await;
    assert_eq!(st, 409);
    assert_eq!(count_all(db).await, before);
    // A refund: HIS refund and the laboratory's order cancelled.
    let (st, r) = s
        .post(
            &format!("/api/desk/visits/{id}/items/L-CBC"),
            json!({ "change": "refund" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let his = line(db, Counterpart::His).await;
    assert_eq!(his.last().unwrap().0, format!("his.refund:{id}:1"));
    let lis = line(db, Counterpart::Lis).await;
    assert_eq!(lis.last().unwrap().0, format!("cancel:{id}:L-CBC:1"));
    // Everything is later than what it follows: the cancel after the order.
    let order = lis
        .iter()
        .find(|m| m.0 == format!("order:{id}:L-CBC:1"))
        .unwrap();
    assert!(order.1 < lis.last().unwrap().1);
    assert_eq!(count_all(db).await, before + 2);
    // The per-visit view: ordered, charged, refunded, cancelled.
    let per_visit = db.interface_visit(id).await.unwrap();
    let l_cbc = per_visit.0.iter().find(|i| i.item_code == "L-CBC").unwrap();
    assert!(!l_cbc.ordered && l_cbc.charged && l_cbc.refunded);
    assert_eq!(
        l_cbc.order_no.as_deref().map(|o| o.ends_with("-L-CBC-1")),
        Some(true)
    );
}

async fn count_all(db: &exam_server::db::Db) -> usize {
    let mut n = 0;
    for c in Counterpart::ALL {
        n += db.interface_messages(c, None, 10_000).await.unwrap().len();
    }
    n
}

async fn one_line_in_order_with_backoff_dead_letters_and_retry(h: &Harness) {
    let s = h.staff("iface-desk2", "front_desk").await;
    let admin = h.staff("iface-admin", "admin").await;
    let db = h.db();
    for seq in 10..12 {
        let id = walk_in(&s, seq).await;
        pay(&s, id).await;
    }
    let ecg = line(db, Counterpart::Ecg).await;
    assert_eq!(ecg.len(), 2, "one ECG order per visit: {ecg:?}");
    let lis = line(db, Counterpart::Lis).await;
    assert!(lis.len() >= 6, "{lis:?}");
    let peer = Peer::new();
    // The head is refused twice, then taken; the second is refused for
    // good; the third is refused three times (max_failures) and dies.
    peer.script(
        &lis[0].0,
        vec![
            SendError::Retryable("AE busy".into()),
            SendError::Retryable("AE busy".into()),
        ],
    );
    peer.script(
        &lis[1].0,
        vec![SendError::Permanent("AR unknown item".into())],
    );
    peer.script(&lis[2].0, vec![SendError::Retryable("AE".into()); 3]);
    let ecg_peer = Peer::new();
    let d = Dispatcher::new(
        db.clone(),
        config(),
        adapters(&[(Counterpart::Lis, &peer), (Counterpart::Ecg, &ecg_peer)]),
        "sender-a",
    )
    .with_jitter(0.0);
    // Whole milliseconds, as the store keeps times.
    let t0 =
        chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis() + 1_000).unwrap();
    let tried = |id: i64, state| StepOutcome::Tried { id, state };
    let head_id = db.line_head(Counterpart::Lis).await.unwrap().unwrap().id;
    assert_eq!(
        d.step(Counterpart::Lis, t0).await.unwrap(),
        tried(head_id, MessageState::Retrying)
    );
    // The failing head holds its line (2.5 s with this jitter), the ECG
    // line is not held by it.
    assert_eq!(
        d.step(Counterpart::Lis, t0).await.unwrap(),
        StepOutcome::Waiting {
            until: t0 + Duration::milliseconds(2_500)
        }
    );
    assert_eq!(d.drain(Counterpart::Ecg, t0, 10).await.unwrap(), 2);
    assert_eq!(ecg_peer.taken_keys().len(), 2);
    let t1 = t0 + Duration::milliseconds(2_500);
    assert_eq!(
        d.step(Counterpart::Lis, t1).await.unwrap(),
        tried(head_id, MessageState::Retrying)
    );
    // Doubled: 5 s.
    assert_eq!(
        d.step(Counterpart::Lis, t1).await.unwrap(),
        StepOutcome::Waiting {
            until: t1 + Duration::seconds(5)
        }
    );
    let t2 = t1 + Duration::seconds(5);
    assert_eq!(
        d.step(Counterpart::Lis, t2).await.unwrap(),
        tried(head_id, MessageState::Acked)
    );
    // The second dies at once and the line goes on past it.
    let r = d.step(Counterpart::Lis, t2).await.unwrap();
    assert!(
        matches!(
            r,
            StepOutcome::Tried {
                state: MessageState::Dead,
                ..
            }
        ),
        "{r:?}"
    );
    let mut t = t2;
    for _ in 0..2 {
        assert!(matches!(
            d.step(Counterpart::Lis, t).await.unwrap(),
            StepOutcome::Tried {
                state: MessageState::Retrying,
                ..
            }
        ));
        t += Duration::minutes(1);
    }
    assert!(matches!(
        d.step(Counterpart::Lis, t).await.unwrap(),
        StepOutcome::Tried {
            state: MessageState::Dead,
            ..
        }
    ));
    assert_eq!(
        d.drain(Counterpart::Lis, t, 1000).await.unwrap(),
        lis.len() - 3
    );
    // Taken in line order, the dead letters left out.
    let taken = peer.taken_keys();
    let want: Vec<String> = lis
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1 && *i != 2)
        .map(|(_, m)| m.0.clone())
        .collect();
    assert_eq!(taken, want);
    let lines = db.interface_lines().await.unwrap();
    let l = lines
        .iter()
        .find(|l| l.counterpart == Some(Counterpart::Lis))
        .unwrap();
    assert_eq!((l.open(), l.dead, l.acked as usize), (0, 2, lis.len() - 2));
    assert!(l.last_error.as_deref().unwrap().contains("AE"), "{l:?}");
    // What the alarms read every minute: the same open and dead, the
    // delivered ones not counted.
    let open = db.interface_lines_open().await.unwrap();
    let o = open
        .iter()
        .find(|l| l.counterpart == Some(Counterpart::Lis))
        .unwrap();
    assert_eq!((o.open(), o.dead, o.acked, o.sent), (0, 2, 0, 0));
    // Staff put the first dead letter back: it goes next, once.
    let dead = db
        .interface_messages(Counterpart::Lis, Some(MessageState::Dead), 10)
        .await
        .unwrap();
    let first = dead.iter().min_by_key(|m| m.seq).unwrap();
    assert_eq!(first.key, lis[1].0);
    let desk = s
        .post(
            &format!("/api/interfaces/messages/{}/retry", first.id),
            json!({}),
        )
        .await;
    assert_eq!(desk.0, 403, "the front desk may not: {:?}", desk.1);
    let (st, r) = admin
        .post(
            &format!("/api/interfaces/messages/{}/retry", first.id),
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let (st, _) = admin
        .post(
            &format!("/api/interfaces/messages/{}/retry", first.id),
            json!({}),
        )
        .await;
    assert_eq!(st, 409, "no longer a dead letter");
    assert_eq!(
        d.step(Counterpart::Lis, t).await.unwrap(),
        tried(first.id, MessageState::Acked)
    );
    assert_eq!(peer.taken_keys().last().unwrap(), &lis[1].0);
    assert_eq!(
        d.step(Counterpart::Lis, t).await.unwrap(),
        StepOutcome::Idle
    );
    let log = db
        .operations(
            &exam_server::db::OpQuery {
                actor: Some("iface-admin".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|l| l.action == "interface.retry" && l.detail.contains(&lis[1].0)),
        "{log:?}"
    );
    // Every taken message went once.
    let mut keys = peer.taken_keys();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), peer.taken_keys().len());
}

async fn two_senders_never_send_one_message_twice(h: &Harness) {
    let s = h.staff("iface-desk3", "front_desk").await;
    for seq in 20..24 {
        let id = walk_in(&s, seq).await;
        pay(&s, id).await;
    }
    let db = h.db().clone();
    // The second instance: its own pool on PostgreSQL (another service
    // process), the same one connection on SQLite.
    let other = match h.pg_url() {
        Some(url) => {
            let keys = exam_server::data_keys::load(&h.server.state.config).unwrap();
            exam_server::db::Db::connect(url, Arc::new(keys))
                .await
                .unwrap()
        }
        None => db.clone(),
    };
    let lis = line(&db, Counterpart::Lis).await;
    let peer = Peer::slow(3);
    let a = Dispatcher::new(
        db.clone(),
        config(),
        adapters(&[(Counterpart::Lis, &peer)]),
        "instance-a",
    );
    let b = Dispatcher::new(
        other,
        config(),
        adapters(&[(Counterpart::Lis, &peer)]),
        "instance-b",
    );
    // A sender that claimed the head and died before sending it: its
    // claim holds the line until the lease runs out, then B takes over.
    let t0 = Utc::now();
    let lease = config().lease();
    let head = db.line_head(Counterpart::Lis).await.unwrap().unwrap();
    assert!(
        db.take_lease(Counterpart::Lis.as_str(), "dead-instance", t0, lease)
            .await
            .unwrap()
    );
    let claimed = db
        .claim_message(head.id, "dead-instance", t0, lease)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        b.step(Counterpart::Lis, t0).await.unwrap(),
        StepOutcome::Waiting { .. }
    ));
    let later = t0 + lease + Duration::seconds(1);
    let run = |d: Dispatcher| async move {
        let mut n = 0;
        for _ in 0..10_000 {
            match d.step(Counterpart::Lis, later).await.unwrap() {
                StepOutcome::Idle => break,
                StepOutcome::Tried { .. } => n += 1,
                _ => tokio::task::yield_now().await,
            }
        }
        n
    };
    let (na, nb) = tokio::join!(run(a.clone()), run(b.clone()));
    assert_eq!(na + nb, lis.len(), "a {na}, b {nb}");
    assert_eq!(
        peer.max_in_flight.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // Each message taken once, in line order; the head on its second attempt.
    let taken = peer.taken.lock().unwrap().clone();
    assert_eq!(
        taken.iter().map(|t| t.key.clone()).collect::<Vec<_>>(),
        lis.iter().map(|m| m.0.clone()).collect::<Vec<_>>()
    );
    assert_eq!(taken[0].attempt, 2);
    // The dead instance's late word on its claim is refused.
    let next = exam_server::interfaces::policy::after(
        &config().policy(),
        1,
        0,
        &Err(SendError::Unavailable("late".into())),
        later,
        0.0,
    );
    assert!(
        !db.finish_message(&claimed, "dead-instance", &next, later)
            .await
            .unwrap()
    );
    let l = line(&db, Counterpart::Lis).await;
    assert!(l.iter().all(|m| m.2 == MessageState::Acked), "{l:?}");
}

/// A message's number is its rising id (no shared counter to queue for),
/// but never below what its visit holds: a fact on an instance whose clock
/// is behind still goes after the visit's earlier messages from one whose
/// clock is ahead (issue 21).
async fn a_visits_messages_follow_its_own_from_an_instance_whose_clock_is_ahead(h: &Harness) {
    let s = h.staff("iface-clock", "front_desk").await;
    let db = h.db();
    let id = walk_in(&s, 30).await;
    let other = walk_in(&s, 31).await;
    // The registration as numbered by an instance an hour ahead (ids carry
    // milliseconds above 16 bits of node and counter).
    let ahead = exam_server::db::next_id() + (3_600_000_i64 << 16);
    let n = h
        .sql(&format!(
            "UPDATE interface_messages SET seq = {ahead} WHERE idem_key = 'his.register:{id}'"
        ))
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Paid here (a clock an hour behind that one): the charge and the
    // orders follow the registration in the line.
    pay(&s, id).await;
    pay(&s, other).await;
    let his = line(db, Counterpart::His).await;
    let at = |key: String| his.iter().position(|m| m.0 == key).unwrap();
    assert!(
        at(format!("his.register:{id}")) < at(format!("his.charge:{id}:1")),
        "{his:?}"
    );
    let lis = line(db, Counterpart::Lis).await;
    let mine: Vec<_> = lis
        .iter()
        .filter(|m| m.0.starts_with(&format!("order:{id}:")))
        .collect();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|m| m.1 > ahead), "{lis:?}");
    // Another visit's messages are numbered by the clock, not after it.
    assert!(
        at(format!("his.charge:{other}:1")) < at(format!("his.register:{id}")),
        "{his:?}"
    );
}
