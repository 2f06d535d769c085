//! The daily trade bill (交易账单, `bill_type=ALL`) as the platform writes
//! it: CSV with a header line, one line per payment or refund, every field
//! prefixed by a backquote (so spreadsheets keep long numbers as text), then
//! a summary header (`总交易单数,...`) and one summary line. Amounts are
//! yuan with two decimals (fees five). We split fields on ",`" — the
//! backquote is what starts a field, so a comma inside a product name does
//! not shift the columns — and check the summary against the rows: a bill
//! whose lines do not add up is refused, not half-read.
//!
//! Refund lines carry 交易状态 REFUND, the refund's ids and amount, and
//! zero order amounts; the summary's sums are the columns' sums.

use crate::model::RefundStatus;

pub const HEADER: [&str; 27] = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];
pub const SUMMARY_HEADER: [&str; 7] = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillTradeState {
    Success,
    Refund,
    Revoked,
}

/// One line of the bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillRow {
    /// `yyyy-MM-dd HH:mm:ss`, China Standard Time.
    pub trade_time: String,
    pub appid: String,
    pub mchid: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    pub openid: String,
    pub trade_type: String,
    pub trade_state: BillTradeState,
    pub currency: String,
    /// 应结订单金额, fen.
    pub settlement_total: u64,
    pub refund_id: String,
    pub out_refund_no: String,
    /// 退款金额, fen.
    pub refund: u64,
    pub refund_status: Option<RefundStatus>,
    pub product: String,
    pub attach: String,
    /// 手续费 in 1/100000 yuan.
    pub fee_e5: u64,
    pub rate: String,
    /// 订单金额, fen.
    pub order_total: u64,
    /// 申请退款金额, fen.
    pub requested_refund: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BillSummary {
    pub count: u64,
    pub settlement_total: u64,
    pub refund_total: u64,
    pub fee_e5: u64,
    pub order_total: u64,
    pub requested_refund_total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeBill {
    pub rows: Vec<BillRow>,
    pub summary: BillSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillError {
    #[error("bill header missing or not a trade bill")]
    Header,
    #[error("bill column {0} missing")]
    Column(&'static str),
    #[error("bill line {line}: {reason}")]
    Row { line: usize, reason: String },
    #[error("bill summary missing or malformed")]
    Summary,
    #[error("bill summary {what} is {summary}, the lines add up to {lines}")]
    Totals {
        what: &'static str,
        summary: u64,
        lines: u64,
    },
}

/// Parse a decimal yuan amount with at most `places` decimals into integer
/// units of 10^-places yuan. No floats: money is counted exactly.
pub fn parse_decimal(s: &str, places: u32) -> Option<u64> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if frac.len() > places as usize {
        return None;
    }
    let scale = 10u64.checked_pow(places)?;
    let i: u64 = int.parse().ok()?;
    let mut f: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    f = f.checked_mul(10u64.checked_pow(places - frac.len() as u32)?)?;
    i.checked_mul(scale)?.checked_add(f)
}

pub fn format_decimal(v: u64, places: u32) -> String {
    let scale = 10u64.pow(places);
    format!(
        "{}.{:0width$}",
        v / scale,
        v % scale,
        width = places as usize
    )
}

fn fields(line: &str) -> Option<Vec<&str>> {
    let rest = line.strip_prefix('`')?;
    Some(rest.split(",`").collect())
}

/// Payment lines write "0" where a refund id would be.
fn zero_is_none(s: &str) -> String {
    if s == "0" {
        String::new()
    } else {
        s.to_string()
    }
}

fn col(header: &[&str], name: &'static str) -> Result<usize, BillError> {
    header
        .iter()
        .position(|h| h.trim() == name)
        .ok_or(BillError::Column(name))
}

/// Parse a whole bill (the downloaded file, UTF-8, BOM allowed).
pub fn parse_trade_bill(text: &str) -> Result<TradeBill, BillError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, head) = lines.next().ok_or(BillError::Header)?;
    let header: Vec<&str> = head.split(',').collect();
    if header.first().map(|h| h.trim()) != Some(HEADER[0]) {
        return Err(BillError::Header);
    }
    let c = |n| col(&header, n);
    let (c_time, c_appid, c_mch, c_tx, c_out, c_openid, c_type, c_state, c_cur, c_settle) = (
        c("交易时间")?,
        c("公众账号ID")?,
        c("商户号")?,
        c("微信订单号")?,
        c("商户订单号")?,
        c("用户标识")?,
        c("交易类型")?,
        c("交易状态")?,
        c("货币种类")?,
        c("应结订单金额")?,
    );
    let (c_rid, c_ornum, c_refund, c_rstatus, c_product, c_attach, c_fee, c_rate, c_total, c_req) = (
        c("微信退款单号")?,
        c("商户退款单号")?,
        c("退款金额")?,
        c("退款状态")?,
        c("商品名称")?,
        c("商户数据包")?,
        c("手续费")?,
        c("费率")?,
        c("订单金额")?,
        c("申请退款金额")?,
    );
    let mut rows = Vec::new();
    let mut summary = None;
    while let Some((n, line)) = lines.next() {
        let line_no = n + 1;
        if line.starts_with(SUMMARY_HEADER[0]) {
            let (_, vals) = lines.next().ok_or(BillError::Summary)?;
            summary = Some(parse_summary(vals)?);
            if lines.next().is_some() {
                return Err(BillError::Row {
                    line: line_no,
                    reason: "text after the summary".into(),
                });
            }
            break;
        }
        let bad = |reason: &str| BillError::Row {
            line: line_no,
            reason: reason.to_string(),
        };
        let f = fields(line).ok_or_else(|| bad("field without backquote"))?;
        if f.len() != header.len() {
            return Err(bad(&format!(
                "{} fields, header has {}",
                f.len(),
                header.len()
            )));
        }
        let fen = |i: usize, name: &str| {
            parse_decimal(f[i], 2).ok_or_else(|| bad(&format!("{name} not an amount")))
        };
        let trade_state = match f[c_state] {
            "SUCCESS" => BillTradeState::Success,
            "REFUND" => BillTradeState::Refund,
            "REVOKED" => BillTradeState::Revoked,
            other => return Err(bad(&format!("trade state {other}"))),
        };
        let refund_status = match f[c_rstatus] {
            "" => None,
            "SUCCESS" => Some(RefundStatus::Success),
            "PROCESSING" => Some(RefundStatus::Processing),
            "CLOSED" => Some(RefundStatus::Closed),
            "ABNORMAL" => Some(RefundStatus::Abnormal),
            other => return Err(bad(&format!("refund status {other}"))),
        };
        if f[c_out].is_empty() {
            return Err(bad("no merchant order number"));
        }
        rows.push(BillRow {
            trade_time: f[c_time].to_string(),
            appid: f[c_appid].to_string(),
            mchid: f[c_mch].to_string(),
            transaction_id: f[c_tx].to_string(),
            out_trade_no: f[c_out].to_string(),
            openid: f[c_openid].to_string(),
            trade_type: f[c_type].to_string(),
            trade_state,
            currency: f[c_cur].to_string(),
            settlement_total: fen(c_settle, "应结订单金额")?,
            refund_id: zero_is_none(f[c_rid]),
            out_refund_no: zero_is_none(f[c_ornum]),
            refund: fen(c_refund, "退款金额")?,
            refund_status,
            product: f[c_product].to_string(),
            attach: f[c_attach].to_string(),
            fee_e5: parse_decimal(f[c_fee], 5).ok_or_else(|| bad("手续费 not an amount"))?,
            rate: f[c_rate].to_string(),
            order_total: fen(c_total, "订单金额")?,
            requested_refund: fen(c_req, "申请退款金额")?,
        });
    }
    let summary = summary.ok_or(BillError::Summary)?;
    check_totals(&rows, &summary)?;
    Ok(TradeBill { rows, summary })
}

fn parse_summary(line: &str) -> Result<BillSummary, BillError> {
    let f = fields(line).ok_or(BillError::Summary)?;
    if f.len() != SUMMARY_HEADER.len() {
        return Err(BillError::Summary);
    }
    let y = |i: usize| parse_decimal(f[i], 2).ok_or(BillError::Summary);
    Ok(BillSummary {
        count: f[0].trim().parse().map_err(|_| BillError::Summary)?,
        settlement_total: y(1)?,
        refund_total: y(2)?,
        fee_e5: parse_decimal(f[4], 5).ok_or(BillError::Summary)?,
        order_total: y(5)?,
        requested_refund_total: y(6)?,
    })
}

fn summarize(rows: &[BillRow]) -> BillSummary {
    BillSummary {
        count: rows.len() as u64,
        settlement_total: rows.iter().map(|r| r.settlement_total).sum(),
        refund_total: rows.iter().map(|r| r.refund).sum(),
        fee_e5: rows.iter().map(|r| r.fee_e5).sum(),
        order_total: rows.iter().map(|r| r.order_total).sum(),
        requested_refund_total: rows.iter().map(|r| r.requested_refund).sum(),
    }
}

fn check_totals(rows: &[BillRow], s: &BillSummary) -> Result<(), BillError> {
    let l = summarize(rows);
    for (what, summary, lines) in [
        ("count", s.count, l.count),
        ("settlement total", s.settlement_total, l.settlement_total),
        ("refund total", s.refund_total, l.refund_total),
        ("fee total", s.fee_e5, l.fee_e5),
        ("order total", s.order_total, l.order_total),
        (
            "requested refund total",
            s.requested_refund_total,
            l.requested_refund_total,
        ),
    ] {
        if summary != lines {
            return Err(BillError::Totals {
                what,
                summary,
                lines,
            });
        }
    }
    Ok(())
}

/// Write a bill in the platform's format (the simulator's side).
pub fn render_trade_bill(rows: &[BillRow]) -> String {
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for r in rows {
        let state = match r.trade_state {
            BillTradeState::Success => "SUCCESS",
            BillTradeState::Refund => "REFUND",
            BillTradeState::Revoked => "REVOKED",
        };
        let rstatus = match r.refund_status {
            None => "",
            Some(RefundStatus::Success) => "SUCCESS",
            Some(RefundStatus::Processing) => "PROCESSING",
            Some(RefundStatus::Closed) => "CLOSED",
            Some(RefundStatus::Abnormal) => "ABNORMAL",
        };
        let or0 = |s: &str| {
            if s.is_empty() {
                "0".to_string()
            } else {
                s.to_string()
            }
        };
        let f: [String; 27] = [
            r.trade_time.clone(),
            r.appid.clone(),
            r.mchid.clone(),
            "0".into(),
            String::new(),
            r.transaction_id.clone(),
            r.out_trade_no.clone(),
            r.openid.clone(),
            r.trade_type.clone(),
            state.into(),
            "OTHERS".into(),
            r.currency.clone(),
            format_decimal(r.settlement_total, 2),
            "0.00".into(),
            or0(&r.refund_id),
            or0(&r.out_refund_no),
            format_decimal(r.refund, 2),
            "0.00".into(),
            if r.refund_status.is_some() {
                "ORIGINAL".into()
            } else {
                String::new()
            },
            rstatus.into(),
            r.product.clone(),
            r.attach.clone(),
            format_decimal(r.fee_e5, 5),
            r.rate.clone(),
            format_decimal(r.order_total, 2),
            format_decimal(r.requested_refund, 2),
            String::new(),
        ];
        out.push('`');
        out.push_str(&f.join(",`"));
        out.push_str("\r\n");
    }
    let s = summarize(rows);
    out.push_str(&SUMMARY_HEADER.join(","));
    out.push_str("\r\n");
    out.push_str(&format!(
        "`{},`{},`{},`0.00,`{},`{},`{}\r\n",
        s.count,
        format_decimal(s.settlement_total, 2),
        format_decimal(s.refund_total, 2),
        format_decimal(s.fee_e5, 5),
        format_decimal(s.order_total, 2),
        format_decimal(s.requested_refund_total, 2)
    ));
    out
}

#[cfg(test)]
#[path = "bill_tests.rs"]
mod tests;
