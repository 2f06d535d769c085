//! The crate's client against pay-sim over HTTP: the whole order life
//! (QR order, payer, notification, query, refunds, close, bill and
//! reconciliation) and every injected fault seen as the right typed error
//! or the right local state.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{Harness, start};
use exam_payment::gateway::{NativeOrder, RefundOrder};
use exam_payment::model::{Currency, RefundStatus, TradeState, cst};
use exam_payment::notify::Notification;
use exam_payment::order::{Applied, LocalOrder, OrderState};
use exam_payment::reconcile::{DiffCause, reconcile};
use exam_payment::sim::{Faults, SimConfig};
use exam_payment::trade_no::TradeNoGenerator;
use exam_payment::{ErrorCode, PaymentError, PaymentGateway};

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

fn native(no: &str, total: u64) -> NativeOrder {
    NativeOrder {
        out_trade_no: no.into(),
        description: "体检费".into(),
        total,
        time_expire: None,
        attach: None,
    }
}

fn new_no() -> String {
    static GEN: std::sync::OnceLock<TradeNoGenerator> = std::sync::OnceLock::new();
    GEN.get_or_init(|| ok(TradeNoGenerator::new("T", 1)))
        .next(Utc::now())
}

/// Local order created, QR fetched: the kiosk's first two steps.
async fn open_order(h: &Harness, total: u64) -> (LocalOrder, String) {
    let mut o = LocalOrder::new(new_no(), total, Currency::Cny);
    let code_url = ok(h.gw.create_native(&native(&o.out_trade_no, total)).await);
    ok(o.on_code_url(&code_url));
    (o, code_url)
}

async fn payment_notice(h: &mut Harness) -> exam_payment::model::Transaction {
    match h.next_notice(Duration::from_secs(5)).await {
        Some(Notification::Payment { transaction, .. }) => transaction,
        other => panic!("expected a payment notification, got {other:?}"),
    }
}

#[tokio::test]
async fn pay_query_refund_close_and_reconcile() {
    let mut h = start(SimConfig::default()).await;
    let (mut o, code_url) = open_order(&h, 12_000).await;
    assert!(code_url.starts_with("weixin://wxpay/bizpayurl?pr="));
    // Creating again (a retry after a lost answer) gives the same QR.
    assert_eq!(
        ok(h.gw.create_native(&native(&o.out_trade_no, 12_000)).await),
        code_url
    );
    // Same number, other amount: refused for good.
    let e = h.gw.create_native(&native(&o.out_trade_no, 1)).await.err();
    assert!(
        matches!(
            &e,
            Some(PaymentError::Rejected {
                code: ErrorCode::InvalidRequest,
                ..
            })
        ),
        "{e:?}"
    );

    let q = ok(h.gw.query_order(&o.out_trade_no).await);
    assert_eq!(q.trade_state, TradeState::Notpay);
    assert_eq!(ok(o.apply_transaction(&q)), Applied::Unchanged);

    assert_eq!(h.pay(&code_url, None).await, 200);
    let t = payment_notice(&mut h).await;
    assert_eq!(
        ok(o.apply_transaction(&t)),
        Applied::Changed {
            from: OrderState::Paying,
            to: OrderState::Paid
        }
    );
    let q = ok(h.gw.query_order(&o.out_trade_no).await);
    assert_eq!(q.trade_state, TradeState::Success);
    assert_eq!(ok(o.apply_transaction(&q)), Applied::Unchanged);
    // Paying twice is refused by the platform's payer too.
    assert_eq!(h.pay(&code_url, None).await, 409);
    // A paid order cannot be closed.
    let e = h.gw.close_order(&o.out_trade_no).await.err();
    assert!(
        matches!(
            &e,
            Some(PaymentError::Rejected {
                code: ErrorCode::OrderPaid,
                ..
            })
        ),
        "{e:?}"
    );

    // Two partial refunds; the first one retried with its own number.
    let r1 = ok(o.request_refund(5_000)).out_refund_no.clone();
    let req1 = RefundOrder {
        out_trade_no: o.out_trade_no.clone(),
        out_refund_no: r1.clone(),
        refund: 5_000,
        total: 12_000,
        reason: None,
    };
    let a = ok(h.gw.refund(&req1).await);
    let b = ok(h.gw.refund(&req1).await);
    assert_eq!(a.refund_id, b.refund_id, "a retry is the same refund");
    ok(o.apply_refund(
        &r1,
        a.status,
        a.amount.refund,
        &a.refund_id,
        a.success_time.as_deref(),
    ));
    let r2 = ok(o.request_refund(7_000)).out_refund_no.clone();
    assert_ne!(r1, r2);
    // More than was paid: refused locally, and by the platform if asked anyway.
    assert!(o.request_refund(1).is_err());
    let over = RefundOrder {
        out_refund_no: format!("{}X", o.out_trade_no),
        refund: 7_001,
        ..req1.clone()
    };
    let e = h.gw.refund(&over).await.err();
    assert!(
        matches!(
            &e,
            Some(PaymentError::Rejected {
                code: ErrorCode::NotEnough,
                ..
            })
        ),
        "{e:?}"
    );
    let req2 = RefundOrder {
        out_refund_no: r2.clone(),
        refund: 7_000,
        ..req1.clone()
    };
    ok(h.gw.refund(&req2).await);
    for _ in 0..2 {
        match h.next_notice(Duration::from_secs(5)).await {
            Some(Notification::Refund { refund, .. }) => {
                assert_eq!(refund.refund_status, RefundStatus::Success);
                ok(o.apply_refund(
                    &refund.out_refund_no,
                    refund.refund_status,
                    refund.amount.refund,
                    &refund.refund_id,
                    refund.success_time.as_deref(),
                ));
            }
            other => panic!("expected a refund notification, got {other:?}"),
        }
    }
    assert_eq!(o.state, OrderState::Refunded);
    let q = ok(h.gw.query_refund(&r2).await);
    assert_eq!(q.status, RefundStatus::Success);
    let e = h.gw.query_refund("NOSUCHREFUND").await.err();
    assert!(e.as_ref().is_some_and(PaymentError::is_not_found), "{e:?}");

    // A second order closed unpaid; the payer then cannot pay it.
    let (mut c, c_url) = open_order(&h, 300).await;
    ok(h.gw.close_order(&c.out_trade_no).await);
    ok(c.on_closed());
    ok(h.gw.close_order(&c.out_trade_no).await); // closing again is fine
    assert_eq!(h.pay(&c_url, None).await, 409);
    assert_eq!(
        ok(h.gw.query_order(&c.out_trade_no).await).trade_state,
        TradeState::Closed
    );
    let e = h.gw.query_order("NOSUCHORDER1").await.err();
    assert!(e.as_ref().is_some_and(PaymentError::is_not_found), "{e:?}");

    // The day's bill: fetched, hash-checked, parsed, and matching our books.
    let day = Utc::now().with_timezone(&cst()).date_naive();
    let bill = ok(h.gw.trade_bill(day).await);
    assert_eq!(bill.rows.len(), 3, "{:?}", bill.rows);
    let rec = reconcile(day, &bill, &[o.clone(), c.clone()]);
    assert!(rec.is_clean(), "{:?}", rec.differences);
    assert_eq!((rec.matched_payments, rec.matched_refunds), (1, 2));
    // Without our record of the order, every line of it is a difference.
    let rec = reconcile(day, &bill, &[c]);
    assert_eq!(rec.differences.len(), 3);
    assert!(
        rec.differences
            .iter()
            .all(|d| d.cause == DiffCause::UnknownOrder)
    );
}

#[tokio::test]
async fn notification_faults_duplicates_bad_signatures_lost() {
    let mut h = start(SimConfig {
        faults: Faults {
            seed: 1,
            notify_duplicate: 1.0,
            notify_bad_signature: 1.0,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let (mut o, code_url) = open_order(&h, 500).await;
    assert_eq!(h.pay(&code_url, None).await, 200);
    let first = payment_notice(&mut h).await;
    let second = payment_notice(&mut h).await;
    // The badly signed first attempt was refused by the merchant side.
    assert!(h.refused.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    assert!(matches!(
        ok(o.apply_transaction(&first)),
        Applied::Changed { .. }
    ));
    assert_eq!(ok(o.apply_transaction(&second)), Applied::Unchanged);
    assert_eq!(o.state, OrderState::Paid);
    // The platform counts the second ack once our answer reaches it.
    let mut stats = h.sim.stats();
    for _ in 0..50 {
        if stats.notify_acked >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        stats = h.sim.stats();
    }
    assert!(
        stats.notify_refused >= 1 && stats.notify_acked >= 2,
        "{stats:?}"
    );

    // Lost: nothing arrives; the order query finds the payment.
    let mut h = start(SimConfig {
        faults: Faults {
            notify_lost: 1.0,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let (mut o, code_url) = open_order(&h, 500).await;
    assert_eq!(h.pay(&code_url, None).await, 200);
    assert!(h.next_notice(Duration::from_millis(800)).await.is_none());
    let q = ok(h.gw.query_order(&o.out_trade_no).await);
    ok(o.apply_transaction(&q));
    assert_eq!(o.state, OrderState::Paid);
}

#[tokio::test]
async fn amount_mismatch_is_never_paid_and_shows_in_the_bill() {
    let mut h = start(SimConfig::default()).await;
    let (mut o, code_url) = open_order(&h, 1_000).await;
    assert_eq!(h.pay(&code_url, Some(999)).await, 200);
    let t = payment_notice(&mut h).await;
    ok(o.apply_transaction(&t));
    assert_eq!(o.state, OrderState::Mismatch);
    let day = Utc::now().with_timezone(&cst()).date_naive();
    let rec = reconcile(day, &ok(h.gw.trade_bill(day).await), &[o.clone()]);
    assert_eq!(rec.differences.len(), 1);
    assert_eq!(
        rec.differences[0].cause,
        DiffCause::AmountDiffers {
            local: 1_000,
            platform: 999
        }
    );
}

#[tokio::test]
async fn call_faults_are_typed_and_retryable() {
    // 5xx on every call.
    let h = start(SimConfig {
        faults: Faults {
            server_error: 1.0,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let e = h.gw.create_native(&native(&new_no(), 100)).await.err();
    assert!(
        matches!(
            &e,
            Some(PaymentError::Unavailable {
                status: 500,
                code: ErrorCode::SystemError
            })
        ),
        "{e:?}"
    );
    assert!(e.as_ref().is_some_and(PaymentError::is_retryable));

    // Answers that do not verify: not trusted, but retryable (the order exists).
    let h = start(SimConfig {
        faults: Faults {
            bad_signature: 1.0,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let no = new_no();
    let e = h.gw.create_native(&native(&no, 100)).await.err();
    assert!(
        matches!(&e, Some(PaymentError::BadResponseSignature)),
        "{e:?}"
    );
    assert!(e.as_ref().is_some_and(PaymentError::is_retryable));
    assert_eq!(h.sim.trade_state(&no), Some(TradeState::Notpay));

    // Timeouts: the client gives up; the platform has acted anyway.
    let h = start(SimConfig {
        faults: Faults {
            timeout: 1.0,
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let no = new_no();
    let e = h.gw.create_native(&native(&no, 100)).await.err();
    assert!(matches!(&e, Some(PaymentError::Timeout)), "{e:?}");
    assert!(e.as_ref().is_some_and(PaymentError::is_retryable));
    assert_eq!(h.sim.trade_state(&no), Some(TradeState::Notpay));

    // Nothing listening: a connection error, retryable.
    let gone = common::gateway(
        &h.sim.keys,
        "http://127.0.0.1:9",
        "http://127.0.0.1:9/n",
        None,
    );
    let e = gone.query_order(&no).await.err();
    assert!(
        matches!(
            &e,
            Some(PaymentError::Connection(_) | PaymentError::Timeout)
        ),
        "{e:?}"
    );
    assert!(e.as_ref().is_some_and(PaymentError::is_retryable));
}

#[tokio::test]
async fn a_request_signed_with_another_key_is_refused_for_good() {
    let h = start(SimConfig::default()).await;
    let other = ok(exam_payment::crypto::generate_rsa_key());
    let gw = common::gateway(&h.sim.keys, &h.base, "http://127.0.0.1:9/n", Some(other));
    let e = gw.query_order("ANYORDER01").await.err();
    assert!(
        matches!(
            &e,
            Some(PaymentError::Rejected {
                status: 401,
                code: ErrorCode::SignError,
                ..
            })
        ),
        "{e:?}"
    );
    assert!(!e.as_ref().is_some_and(PaymentError::is_retryable));
    assert_eq!(h.sim.stats().auth_failures, 1);
}
