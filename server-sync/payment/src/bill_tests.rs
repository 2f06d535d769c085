use super::*;

fn pay_row(no: &str, fen: u64) -> BillRow {
    BillRow {
        trade_time: "2026-12-04 10:00:01".into(),
        appid: "wx0000000000000001".into(),
        mchid: "1900000001".into(),
        transaction_id: format!("42000{no}"),
        out_trade_no: no.into(),
        openid: "oTEST".into(),
        trade_type: "NATIVE".into(),
        trade_state: BillTradeState::Success,
        currency: "CNY".into(),
        settlement_total: fen,
        refund_id: String::new(),
        out_refund_no: String::new(),
        refund: 0,
        refund_status: None,
        product: "体检费, 套餐A".into(),
        attach: String::new(),
        fee_e5: fen * 6, // 0.6 %
        rate: "0.60%".into(),
        order_total: fen,
        requested_refund: 0,
    }
}

fn refund_row(no: &str, rno: &str, fen: u64) -> BillRow {
    BillRow {
        trade_state: BillTradeState::Refund,
        settlement_total: 0,
        order_total: 0,
        refund_id: format!("5030{rno}"),
        out_refund_no: rno.into(),
        refund: fen,
        requested_refund: fen,
        refund_status: Some(RefundStatus::Success),
        fee_e5: 0,
        ..pay_row(no, 0)
    }
}

#[test]
fn decimals_are_exact() {
    assert_eq!(parse_decimal("0.01", 2), Some(1));
    assert_eq!(parse_decimal("120.5", 2), Some(12_050));
    assert_eq!(parse_decimal("7", 2), Some(700));
    assert_eq!(parse_decimal("0.00006", 5), Some(6));
    assert_eq!(parse_decimal("0.001", 2), None);
    assert_eq!(parse_decimal("-1.00", 2), None);
    assert_eq!(parse_decimal("1e3", 2), None);
    assert_eq!(parse_decimal("", 2), None);
    assert_eq!(parse_decimal("99999999999999999999", 2), None);
    assert_eq!(format_decimal(12_050, 2), "120.50");
    assert_eq!(format_decimal(6, 5), "0.00006");
}

#[test]
fn render_parse_round_trip_with_comma_in_product() {
    let rows = vec![
        pay_row("P1", 12_000),
        pay_row("P2", 1),
        refund_row("P1", "P1R1", 5_000),
    ];
    let text = render_trade_bill(&rows);
    assert!(text.contains("`P1R1,`"));
    let bill = parse_trade_bill(&format!("\u{feff}{text}")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bill.rows, rows);
    assert_eq!(bill.summary.count, 3);
    assert_eq!(bill.summary.settlement_total, 12_001);
    assert_eq!(bill.summary.refund_total, 5_000);
}

/// The platform's documented sample lines (values replaced), as written by
/// the platform itself rather than by our renderer.
#[test]
fn platform_written_sample_parses() {
    let text = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n\
`2026-12-04 09:31:27,`wx2421b1c4370ec43b,`10000100,`0,`,`4200000000202612041234567890,`HX2612040931270100011AB2,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,`体检费,`,`0.00000,`0.60%,`0.01,`0.00,`\r\n\
总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n\
`1,`0.01,`0.00,`0.00,`0.00000,`0.01,`0.00\r\n";
    let bill = parse_trade_bill(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bill.rows.len(), 1);
    assert_eq!(bill.rows[0].out_trade_no, "HX2612040931270100011AB2");
    assert_eq!(bill.rows[0].settlement_total, 1);
    assert_eq!(bill.rows[0].refund_id, "");
}

#[test]
fn bills_that_do_not_add_up_are_refused() {
    let text = render_trade_bill(&[pay_row("P1", 100), pay_row("P2", 200)]);
    // Drop a line: the summary still says two.
    let lines: Vec<&str> = text.lines().collect();
    let dropped = [lines[0], lines[1], lines[3], lines[4]].join("\n");
    assert!(matches!(
        parse_trade_bill(&dropped),
        Err(BillError::Totals { what: "count", .. })
    ));
    // Change an amount.
    let changed = text.replacen("`2.00,", "`2.01,", 1);
    assert!(matches!(
        parse_trade_bill(&changed),
        Err(BillError::Totals { .. })
    ));
    // No summary at all (a truncated download).
    let truncated = [lines[0], lines[1], lines[2]].join("\n");
    assert_eq!(parse_trade_bill(&truncated), Err(BillError::Summary));
    // A line without the backquotes.
    let plain = text.replacen("`", "", 1);
    assert!(matches!(
        parse_trade_bill(&plain),
        Err(BillError::Row { line: 2, .. })
    ));
    assert_eq!(parse_trade_bill("hello"), Err(BillError::Header));
    // An unknown trade state is an error, not a skipped line.
    let odd = text.replacen("`SUCCESS", "`PAID", 1);
    assert!(matches!(parse_trade_bill(&odd), Err(BillError::Row { .. })));
}
