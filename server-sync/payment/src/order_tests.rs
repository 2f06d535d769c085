use super::*;
use crate::model::TransactionAmount;

fn tx(state: TradeState, total: u64, currency: &str, id: &str) -> Transaction {
    Transaction {
        appid: "wx1".into(),
        mchid: "m1".into(),
        out_trade_no: "P1".into(),
        transaction_id: (!id.is_empty()).then(|| id.to_string()),
        trade_type: Some("NATIVE".into()),
        trade_state: state,
        trade_state_desc: String::new(),
        bank_type: None,
        attach: None,
        success_time: Some("2026-12-05T10:00:00+08:00".into()),
        payer: None,
        amount: Some(TransactionAmount {
            total,
            payer_total: Some(total),
            currency: currency.into(),
            payer_currency: None,
        }),
    }
}

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

fn paying() -> LocalOrder {
    let mut o = LocalOrder::new("P1", 12_000, Currency::Cny);
    ok(o.on_code_url("weixin://wxpay/bizpayurl?pr=abc"));
    o
}

#[test]
fn paid_once_duplicates_and_late_answers_change_nothing() {
    let mut o = paying();
    let paid = tx(TradeState::Success, 12_000, "CNY", "42");
    assert_eq!(
        ok(o.apply_transaction(&paid)),
        Applied::Changed {
            from: OrderState::Paying,
            to: OrderState::Paid
        }
    );
    assert_eq!(ok(o.apply_transaction(&paid)), Applied::Unchanged);
    // A query answered before the payment, delivered after it.
    assert_eq!(
        ok(o.apply_transaction(&tx(TradeState::Notpay, 12_000, "CNY", ""))),
        Applied::Stale
    );
    assert_eq!(
        ok(o.apply_transaction(&tx(TradeState::Closed, 12_000, "CNY", ""))),
        Applied::Stale
    );
    // The create answer arriving after the payment notice.
    assert_eq!(ok(o.on_code_url("x")), Applied::Stale);
    assert_eq!(o.state, OrderState::Paid);
    assert!(o.on_closed().is_err());
}

#[test]
fn amount_or_currency_mismatch_is_never_paid() {
    for (total, cur) in [(11_999, "CNY"), (12_000, "USD"), (12_001, "CNY")] {
        let mut o = paying();
        ok(o.apply_transaction(&tx(TradeState::Success, total, cur, "42")));
        assert_eq!(o.state, OrderState::Mismatch, "{total} {cur}");
        assert!(!o.state.is_paid());
        assert_eq!(
            o.mismatch.as_ref().and_then(|m| m.reported_total),
            Some(total)
        );
        // A later, correct-looking report does not clear it by itself.
        ok(o.apply_transaction(&tx(TradeState::Success, 12_000, "CNY", "42")));
        assert_eq!(o.state, OrderState::Mismatch);
        assert_eq!(o.refundable(), 0);
    }
    let mut o = paying();
    let mut no_amount = tx(TradeState::Success, 12_000, "CNY", "42");
    no_amount.amount = None;
    ok(o.apply_transaction(&no_amount));
    assert_eq!(o.state, OrderState::Mismatch);
}

#[test]
fn close_then_late_payment_is_flagged() {
    let mut o = paying();
    assert_eq!(
        ok(o.on_closed()),
        Applied::Changed {
            from: OrderState::Paying,
            to: OrderState::Closed
        }
    );
    assert_eq!(ok(o.on_closed()), Applied::Unchanged);
    ok(o.apply_transaction(&tx(TradeState::Success, 12_000, "CNY", "42")));
    assert_eq!(o.state, OrderState::Paid);
    assert!(o.paid_after_close);
}

#[test]
fn not_paid_query_moves_created_to_paying_and_closed_from_platform() {
    let mut o = LocalOrder::new("P1", 100, Currency::Cny);
    ok(o.apply_transaction(&tx(TradeState::Notpay, 100, "CNY", "")));
    assert_eq!(o.state, OrderState::Paying);
    ok(o.apply_transaction(&tx(TradeState::Closed, 100, "CNY", "")));
    assert_eq!(o.state, OrderState::Closed);
    let mut other = tx(TradeState::Success, 100, "CNY", "1");
    other.out_trade_no = "P2".into();
    assert!(matches!(
        o.apply_transaction(&other),
        Err(OrderError::WrongOrder { .. })
    ));
}

#[test]
fn refunds_never_exceed_paid_and_numbers_are_stable() {
    let mut o = paying();
    assert!(matches!(
        o.request_refund(1),
        Err(OrderError::InvalidTransition { .. })
    ));
    ok(o.apply_transaction(&tx(TradeState::Success, 12_000, "CNY", "42")));
    assert_eq!(o.request_refund(0), Err(OrderError::ZeroRefund));
    let first = ok(o.request_refund(5_000)).out_refund_no.clone();
    assert_eq!(first, "P1R1");
    // A second partial refund gets a new number; the first still holds its 50 yuan.
    let second = ok(o.request_refund(7_000)).out_refund_no.clone();
    assert_eq!(second, "P1R2");
    assert_eq!(
        o.request_refund(1),
        Err(OrderError::RefundExceedsPaid {
            requested: 1,
            refundable: 0
        })
    );
    // The retry of the first goes out with the same number.
    let pending: Vec<_> = o
        .pending_refunds()
        .map(|r| r.out_refund_no.clone())
        .collect();
    assert_eq!(pending, vec![first.clone(), second.clone()]);

    ok(o.apply_refund(&first, RefundStatus::Processing, 5_000, "RF1", None));
    ok(o.apply_refund(&first, RefundStatus::Success, 5_000, "RF1", Some("t")));
    assert_eq!(o.state, OrderState::PartiallyRefunded);
    assert_eq!(
        ok(o.apply_refund(&first, RefundStatus::Success, 5_000, "RF1", Some("t"))),
        Applied::Unchanged
    );
    // A PROCESSING answer overtaken by the SUCCESS notice.
    assert_eq!(
        ok(o.apply_refund(&first, RefundStatus::Processing, 5_000, "RF1", None)),
        Applied::Stale
    );
    // The second fails at the platform: its amount is refundable again.
    ok(o.apply_refund(&second, RefundStatus::Closed, 7_000, "RF2", None));
    assert_eq!(o.refundable(), 7_000);
    let third = ok(o.request_refund(7_000)).out_refund_no.clone();
    assert_eq!(third, "P1R3");
    assert!(matches!(
        o.apply_refund(&third, RefundStatus::Success, 6_999, "RF3", None),
        Err(OrderError::RefundAmountMismatch { .. })
    ));
    ok(o.apply_refund(&third, RefundStatus::Success, 7_000, "RF3", None));
    assert_eq!(o.state, OrderState::Refunded);
    assert_eq!(o.refunded(), 12_000);
    assert!(matches!(
        o.apply_refund("P1R9", RefundStatus::Success, 1, "", None),
        Err(OrderError::UnknownRefund(_))
    ));
    // A payment notice resent after the refunds changes nothing.
    assert_eq!(
        ok(o.apply_transaction(&tx(TradeState::Refund, 12_000, "CNY", "42"))),
        Applied::Unchanged
    );
    assert_eq!(o.state, OrderState::Refunded);
}

#[test]
fn another_transaction_id_for_a_paid_order_is_an_error() {
    let mut o = paying();
    ok(o.apply_transaction(&tx(TradeState::Success, 12_000, "CNY", "42")));
    assert_eq!(
        o.apply_transaction(&tx(TradeState::Success, 12_000, "CNY", "43")),
        Err(OrderError::TransactionIdConflict)
    );
}
