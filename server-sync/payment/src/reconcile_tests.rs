use super::*;
use crate::bill::{BillRow, BillSummary};
use crate::model::{Currency, RefundStatus, TradeState, Transaction, TransactionAmount};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 4).unwrap_or_default()
}

fn paid(no: &str, total: u64, time: &str) -> LocalOrder {
    let mut o = LocalOrder::new(no, total, Currency::Cny);
    let r = o.apply_transaction(&Transaction {
        appid: "wx".into(),
        mchid: "m".into(),
        out_trade_no: no.into(),
        transaction_id: Some(format!("T{no}")),
        trade_type: None,
        trade_state: TradeState::Success,
        trade_state_desc: String::new(),
        bank_type: None,
        attach: None,
        success_time: Some(time.into()),
        payer: None,
        amount: Some(TransactionAmount {
            total,
            payer_total: None,
            currency: "CNY".into(),
            payer_currency: None,
        }),
    });
    assert!(r.is_ok());
    o
}

fn row(no: &str, total: u64, time: &str) -> BillRow {
    BillRow {
        trade_time: time.into(),
        appid: "wx".into(),
        mchid: "m".into(),
        transaction_id: format!("T{no}"),
        out_trade_no: no.into(),
        openid: String::new(),
        trade_type: "NATIVE".into(),
        trade_state: BillTradeState::Success,
        currency: "CNY".into(),
        settlement_total: total,
        refund_id: String::new(),
        out_refund_no: String::new(),
        refund: 0,
        refund_status: None,
        product: String::new(),
        attach: String::new(),
        fee_e5: 0,
        rate: String::new(),
        order_total: total,
        requested_refund: 0,
    }
}

fn refund_row(no: &str, rno: &str, fen: u64) -> BillRow {
    BillRow {
        trade_state: BillTradeState::Refund,
        out_refund_no: rno.into(),
        refund: fen,
        settlement_total: 0,
        order_total: 0,
        refund_status: Some(RefundStatus::Success),
        ..row(no, 0, "2026-12-04 15:00:00")
    }
}

fn bill(rows: Vec<BillRow>) -> TradeBill {
    TradeBill {
        rows,
        summary: BillSummary::default(),
    }
}

const T: &str = "2026-12-04T10:00:00+08:00";
const BT: &str = "2026-12-04 10:00:00";

#[test]
fn clean_day_matches_everything() {
    let mut a = paid("A", 100, T);
    let rno = a
        .request_refund(40)
        .map(|r| r.out_refund_no.clone())
        .unwrap_or_default();
    assert!(
        a.apply_refund(
            &rno,
            RefundStatus::Success,
            40,
            "RF",
            Some("2026-12-04T15:00:00+08:00")
        )
        .is_ok()
    );
    let orders = vec![a, paid("B", 250, T)];
    let b = bill(vec![
        row("A", 100, BT),
        row("B", 250, BT),
        refund_row("A", &rno, 40),
    ]);
    let r = reconcile(day(), &b, &orders);
    assert!(r.is_clean(), "{:?}", r.differences);
    assert_eq!((r.matched_payments, r.matched_refunds), (2, 1));
}

#[test]
fn every_difference_is_listed_with_its_cause() {
    let mut unpaid = LocalOrder::new("U", 300, Currency::Cny);
    assert!(unpaid.on_code_url("weixin://x").is_ok());
    let mut refunded = paid("R", 500, T);
    let rno = refunded
        .request_refund(100)
        .map(|r| r.out_refund_no.clone())
        .unwrap_or_default();
    assert!(
        refunded
            .apply_refund(
                &rno,
                RefundStatus::Success,
                100,
                "RF",
                Some("2026-12-04T12:00:00+08:00")
            )
            .is_ok()
    );
    let orders = vec![
        paid("A", 100, T),                           // amount differs at the platform
        paid("L", 200, T),                           // not in the bill at all
        unpaid,                                      // paid at the platform only
        refunded,                                    // its refund is missing from the bill
        paid("N", 700, "2026-12-03T23:59:59+08:00"), // booked by the platform on the 4th
    ];
    let mut tx_differs = row("A", 101, BT);
    tx_differs.transaction_id = "TA".into();
    let b = bill(vec![
        tx_differs,
        row("U", 300, BT),
        row("R", 500, BT),
        row("X", 900, BT), // unknown order
        row("X", 900, BT), // and a duplicate line
        row("N", 700, "2026-12-04 00:00:01"),
        refund_row("R", "R-R9", 5), // a refund we never asked for
    ]);
    let r = reconcile(day(), &b, &orders);
    let causes: Vec<(&str, Option<&str>, &DiffCause)> = r
        .differences
        .iter()
        .map(|d| {
            (
                d.out_trade_no.as_str(),
                d.out_refund_no.as_deref(),
                &d.cause,
            )
        })
        .collect();
    let expect = |no: &str, rno: Option<&str>, c: DiffCause| {
        assert!(
            causes.contains(&(no, rno, &c)),
            "missing {no} {c:?} in {causes:?}"
        );
    };
    expect(
        "A",
        None,
        DiffCause::AmountDiffers {
            local: 100,
            platform: 101,
        },
    );
    expect("L", None, DiffCause::LocalPaidNotAtPlatform);
    expect(
        "U",
        None,
        DiffCause::PaidAtPlatformNotLocal {
            local_state: OrderState::Paying,
        },
    );
    expect("R", Some(&rno), DiffCause::LocalRefundNotAtPlatform);
    expect(
        "R",
        Some("R-R9"),
        DiffCause::RefundAtPlatformNotLocal { local_state: None },
    );
    expect("X", None, DiffCause::UnknownOrder);
    expect("X", None, DiffCause::DuplicateInBill);
    expect(
        "N",
        None,
        DiffCause::DayDiffers {
            local_day: NaiveDate::from_ymd_opt(2026, 12, 3),
        },
    );
    assert_eq!(r.differences.len(), 8, "{causes:?}");
    assert_eq!(r.matched_payments, 1); // R
}

#[test]
fn mismatch_and_refund_amounts() {
    let mut m = LocalOrder::new("M", 100, Currency::Cny);
    let t = Transaction {
        appid: String::new(),
        mchid: String::new(),
        out_trade_no: "M".into(),
        transaction_id: Some("TM".into()),
        trade_type: None,
        trade_state: TradeState::Success,
        trade_state_desc: String::new(),
        bank_type: None,
        attach: None,
        success_time: Some(T.into()),
        payer: None,
        amount: Some(TransactionAmount {
            total: 1,
            payer_total: None,
            currency: "CNY".into(),
            payer_currency: None,
        }),
    };
    assert!(m.apply_transaction(&t).is_ok());
    let mut p = paid("P", 100, T);
    let rno = p
        .request_refund(30)
        .map(|r| r.out_refund_no.clone())
        .unwrap_or_default();
    assert!(
        p.apply_refund(
            &rno,
            RefundStatus::Success,
            30,
            "RF",
            Some("2026-12-04T15:00:00+08:00")
        )
        .is_ok()
    );
    let b = bill(vec![
        row("M", 1, BT),
        row("P", 100, BT),
        refund_row("P", &rno, 31),
    ]);
    let r = reconcile(day(), &b, &[m, p]);
    assert_eq!(
        r.differences,
        vec![
            Difference {
                out_trade_no: "M".into(),
                out_refund_no: None,
                cause: DiffCause::AmountDiffers {
                    local: 100,
                    platform: 1
                }
            },
            Difference {
                out_trade_no: "P".into(),
                out_refund_no: Some(rno),
                cause: DiffCause::RefundAmountDiffers {
                    local: 30,
                    platform: 31
                }
            },
        ]
    );
}
