//! The simulated platform's books: orders, refunds, bill files. Plain data
//! and the rules the platform applies; the HTTP layer is in `api`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::bill::{BillRow, BillTradeState};
use crate::model::{
    NativeOrderRequest, Payer, Refund, RefundAmount, RefundNotice, RefundRequest, RefundStatus,
    TradeState, Transaction, TransactionAmount, cst, platform_time,
};
use crate::trade_no::is_valid_trade_no;

/// A refused call: HTTP status and the platform's error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiErr {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn err(status: u16, code: &'static str, message: impl Into<String>) -> ApiErr {
    ApiErr {
        status,
        code,
        message: message.into(),
    }
}

pub struct SimOrder {
    pub req: NativeOrderRequest,
    pub code_url: String,
    pub state: TradeState,
    pub transaction_id: Option<String>,
    pub paid: Option<(DateTime<Utc>, u64, String)>, // time, amount, openid
    pub expire: Option<DateTime<Utc>>,
}

pub struct SimRefund {
    pub req: RefundRequest,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub refund_id: String,
    pub created: DateTime<Utc>,
    pub status: RefundStatus,
    pub success: Option<DateTime<Utc>>,
    pub notify_url: String,
}

#[derive(Default)]
pub struct Ledger {
    pub orders: HashMap<String, SimOrder>,
    pub by_code: HashMap<String, String>,
    pub refunds: HashMap<String, SimRefund>,
    pub bills: HashMap<String, Vec<u8>>,
    seq: u64,
}

impl Ledger {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn token(&mut self) -> String {
        format!("{}{:06}", &crate::crypto::nonce_str()[..10], self.next())
    }

    pub fn create_native(
        &mut self,
        req: NativeOrderRequest,
        mchid: &str,
        appid: &str,
    ) -> Result<String, ApiErr> {
        if req.mchid != mchid || req.appid != appid {
            return Err(err(
                400,
                "PARAM_ERROR",
                "mchid/appid do not match the signing merchant",
            ));
        }
        if !is_valid_trade_no(&req.out_trade_no) {
            return Err(err(
                400,
                "PARAM_ERROR",
                "out_trade_no must be 6-32 of [0-9A-Za-z_-|*]",
            ));
        }
        if req.amount.total == 0 || req.amount.currency != "CNY" {
            return Err(err(
                400,
                "PARAM_ERROR",
                "amount.total must be positive, currency CNY",
            ));
        }
        if !(req.notify_url.starts_with("https://") || req.notify_url.starts_with("http://")) {
            return Err(err(400, "PARAM_ERROR", "notify_url must be an http(s) URL"));
        }
        let expire = match &req.time_expire {
            None => None,
            Some(t) => Some(
                DateTime::parse_from_rfc3339(t)
                    .map_err(|_| err(400, "PARAM_ERROR", "time_expire is not RFC 3339"))?
                    .with_timezone(&Utc),
            ),
        };
        if let Some(o) = self.orders.get(&req.out_trade_no) {
            return match o.state {
                TradeState::Success | TradeState::Refund => {
                    Err(err(400, "ORDERPAID", "order already paid"))
                }
                TradeState::Closed => Err(err(400, "ORDER_CLOSED", "order closed")),
                _ if o.req.amount != req.amount || o.req.description != req.description => {
                    Err(err(
                        400,
                        "INVALID_REQUEST",
                        "out_trade_no reused with different parameters",
                    ))
                }
                _ => Ok(o.code_url.clone()),
            };
        }
        let token = self.token();
        let code_url = format!("weixin://wxpay/bizpayurl?pr={token}");
        self.by_code
            .insert(code_url.clone(), req.out_trade_no.clone());
        self.orders.insert(
            req.out_trade_no.clone(),
            SimOrder {
                req,
                code_url: code_url.clone(),
                state: TradeState::Notpay,
                transaction_id: None,
                paid: None,
                expire,
            },
        );
        Ok(code_url)
    }

    pub fn transaction(&self, no: &str) -> Result<Transaction, ApiErr> {
        let o = self
            .orders
            .get(no)
            .ok_or_else(|| err(404, "ORDER_NOT_EXIST", "order does not exist"))?;
        Ok(transaction_of(o))
    }

    pub fn close(&mut self, no: &str) -> Result<(), ApiErr> {
        let o = self
            .orders
            .get_mut(no)
            .ok_or_else(|| err(404, "ORDER_NOT_EXIST", "order does not exist"))?;
        match o.state {
            TradeState::Success | TradeState::Refund => {
                Err(err(400, "ORDERPAID", "order already paid"))
            }
            _ => {
                o.state = TradeState::Closed;
                Ok(())
            }
        }
    }

    /// The test payer. Returns the paid transaction (for the notification).
    pub fn pay(
        &mut self,
        code_url: &str,
        amount: Option<u64>,
        openid: &str,
        now: DateTime<Utc>,
    ) -> Result<Transaction, ApiErr> {
        let no = self
            .by_code
            .get(code_url)
            .cloned()
            .ok_or_else(|| err(404, "ORDER_NOT_EXIST", "unknown code_url"))?;
        let tx_id = format!(
            "4200{}{:012}",
            now.with_timezone(&cst()).format("%Y%m%d"),
            self.next()
        );
        let o = self
            .orders
            .get_mut(&no)
            .ok_or_else(|| err(404, "ORDER_NOT_EXIST", "order does not exist"))?;
        match o.state {
            TradeState::Notpay | TradeState::Userpaying => {}
            TradeState::Success | TradeState::Refund => {
                return Err(err(409, "ORDERPAID", "already paid"));
            }
            _ => return Err(err(409, "ORDER_CLOSED", "order closed")),
        }
        if o.expire.is_some_and(|e| now > e) {
            return Err(err(409, "ORDER_CLOSED", "order expired"));
        }
        o.state = TradeState::Success;
        o.transaction_id = Some(tx_id);
        o.paid = Some((
            now,
            amount.unwrap_or(o.req.amount.total),
            openid.to_string(),
        ));
        Ok(transaction_of(o))
    }

    pub fn create_refund(
        &mut self,
        req: RefundRequest,
        default_notify: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Refund, ApiErr> {
        let no = match (&req.out_trade_no, &req.transaction_id) {
            (Some(no), _) => no.clone(),
            (None, Some(tx)) => self
                .orders
                .iter()
                .find(|(_, o)| o.transaction_id.as_deref() == Some(tx))
                .map(|(k, _)| k.clone())
                .ok_or_else(|| err(404, "RESOURCE_NOT_EXISTS", "transaction does not exist"))?,
            (None, None) => {
                return Err(err(
                    400,
                    "PARAM_ERROR",
                    "out_trade_no or transaction_id required",
                ));
            }
        };
        if let Some(r) = self.refunds.get(&req.out_refund_no) {
            // The retry of a refund: the same answer, nothing refunded twice.
            if r.out_trade_no == no && r.req.amount == req.amount {
                return self.refund(&req.out_refund_no);
            }
            return Err(err(
                400,
                "INVALID_REQUEST",
                "out_refund_no reused with different parameters",
            ));
        }
        let o = self
            .orders
            .get(&no)
            .ok_or_else(|| err(404, "RESOURCE_NOT_EXISTS", "order does not exist"))?;
        let Some((_, paid, _)) = o.paid else {
            return Err(err(400, "INVALID_REQUEST", "order not paid"));
        };
        if req.amount.total != paid || req.amount.currency != "CNY" {
            return Err(err(
                400,
                "PARAM_ERROR",
                "amount.total differs from the paid amount",
            ));
        }
        if req.amount.refund == 0 {
            return Err(err(400, "PARAM_ERROR", "refund must be positive"));
        }
        let held: u64 = self
            .refunds
            .values()
            .filter(|r| r.out_trade_no == no && r.status != RefundStatus::Closed)
            .map(|r| r.req.amount.refund)
            .sum();
        if held + req.amount.refund > paid {
            return Err(err(
                403,
                "NOT_ENOUGH",
                "refund exceeds what remains of the payment",
            ));
        }
        let transaction_id = o.transaction_id.clone().unwrap_or_default();
        let notify_url = req
            .notify_url
            .clone()
            .or(default_notify)
            .unwrap_or_else(|| o.req.notify_url.clone());
        let refund_id = format!("50300{:015}", self.next());
        let rno = req.out_refund_no.clone();
        self.refunds.insert(
            rno.clone(),
            SimRefund {
                req,
                out_trade_no: no,
                transaction_id,
                refund_id,
                created: now,
                status: RefundStatus::Processing,
                success: None,
                notify_url,
            },
        );
        self.refund(&rno)
    }

    /// Move a processing refund to SUCCESS; returns its notice and URL.
    pub fn complete_refund(
        &mut self,
        rno: &str,
        now: DateTime<Utc>,
    ) -> Option<(RefundNotice, String)> {
        let r = self.refunds.get_mut(rno)?;
        if r.status != RefundStatus::Processing {
            return None;
        }
        r.status = RefundStatus::Success;
        r.success = Some(now);
        let no = r.out_trade_no.clone();
        if let Some(o) = self.orders.get_mut(&no) {
            o.state = TradeState::Refund;
        }
        let r = self.refunds.get(rno)?;
        let mchid = self
            .orders
            .get(&no)
            .map(|o| o.req.mchid.clone())
            .unwrap_or_default();
        Some((
            RefundNotice {
                mchid,
                out_trade_no: r.out_trade_no.clone(),
                transaction_id: r.transaction_id.clone(),
                out_refund_no: rno.to_string(),
                refund_id: r.refund_id.clone(),
                refund_status: r.status,
                success_time: r.success.map(platform_time),
                user_received_account: "支付用户零钱".into(),
                amount: refund_amount(r),
            },
            r.notify_url.clone(),
        ))
    }

    pub fn refund(&self, rno: &str) -> Result<Refund, ApiErr> {
        let r = self
            .refunds
            .get(rno)
            .ok_or_else(|| err(404, "RESOURCE_NOT_EXISTS", "refund does not exist"))?;
        Ok(Refund {
            refund_id: r.refund_id.clone(),
            out_refund_no: rno.to_string(),
            transaction_id: r.transaction_id.clone(),
            out_trade_no: r.out_trade_no.clone(),
            channel: "ORIGINAL".into(),
            user_received_account: "支付用户零钱".into(),
            success_time: r.success.map(platform_time),
            create_time: platform_time(r.created),
            status: r.status,
            amount: refund_amount(r),
        })
    }

    /// Bill lines of one CST day: payments by payment time, refunds by success time.
    pub fn bill_rows(&self, day: NaiveDate) -> Vec<BillRow> {
        let on_day = |t: &DateTime<Utc>| t.with_timezone(&cst()).date_naive() == day;
        let fmt = |t: &DateTime<Utc>| {
            t.with_timezone(&cst())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        let mut rows = Vec::new();
        for o in self.orders.values() {
            let Some((t, amount, openid)) = &o.paid else {
                continue;
            };
            if !on_day(t) {
                continue;
            }
            rows.push(BillRow {
                trade_time: fmt(t),
                appid: o.req.appid.clone(),
                mchid: o.req.mchid.clone(),
                transaction_id: o.transaction_id.clone().unwrap_or_default(),
                out_trade_no: o.req.out_trade_no.clone(),
                openid: openid.clone(),
                trade_type: "NATIVE".into(),
                trade_state: BillTradeState::Success,
                currency: "CNY".into(),
                settlement_total: *amount,
                refund_id: String::new(),
                out_refund_no: String::new(),
                refund: 0,
                refund_status: None,
                product: o.req.description.clone(),
                attach: o.req.attach.clone().unwrap_or_default(),
                fee_e5: amount * 6, // 0.6 % of fen, in 1/100000 yuan
                rate: "0.60%".into(),
                order_total: *amount,
                requested_refund: 0,
            });
        }
        for (rno, r) in &self.refunds {
            let Some(t) = &r.success else { continue };
            if !on_day(t) {
                continue;
            }
            let o = self.orders.get(&r.out_trade_no);
            rows.push(BillRow {
                trade_time: fmt(t),
                appid: o.map(|o| o.req.appid.clone()).unwrap_or_default(),
                mchid: o.map(|o| o.req.mchid.clone()).unwrap_or_default(),
                transaction_id: r.transaction_id.clone(),
                out_trade_no: r.out_trade_no.clone(),
                openid: o
                    .and_then(|o| o.paid.as_ref().map(|p| p.2.clone()))
                    .unwrap_or_default(),
                trade_type: "NATIVE".into(),
                trade_state: BillTradeState::Refund,
                currency: "CNY".into(),
                settlement_total: 0,
                refund_id: r.refund_id.clone(),
                out_refund_no: rno.clone(),
                refund: r.req.amount.refund,
                refund_status: Some(r.status),
                product: o.map(|o| o.req.description.clone()).unwrap_or_default(),
                attach: String::new(),
                fee_e5: 0,
                rate: "0.60%".into(),
                order_total: 0,
                requested_refund: r.req.amount.refund,
            });
        }
        rows.sort_by(|a, b| {
            (&a.trade_time, &a.out_trade_no, &a.out_refund_no).cmp(&(
                &b.trade_time,
                &b.out_trade_no,
                &b.out_refund_no,
            ))
        });
        rows
    }
}

fn refund_amount(r: &SimRefund) -> RefundAmount {
    RefundAmount {
        total: r.req.amount.total,
        refund: r.req.amount.refund,
        payer_total: r.req.amount.total,
        payer_refund: r.req.amount.refund,
        currency: "CNY".into(),
    }
}

fn transaction_of(o: &SimOrder) -> Transaction {
    let desc = match o.state {
        TradeState::Success => "支付成功",
        TradeState::Refund => "转入退款",
        TradeState::Notpay => "未支付",
        TradeState::Closed => "已关闭",
        TradeState::Revoked => "已撤销",
        TradeState::Userpaying => "用户支付中",
        TradeState::Payerror => "支付失败",
    };
    let paid = o.paid.as_ref();
    Transaction {
        appid: o.req.appid.clone(),
        mchid: o.req.mchid.clone(),
        out_trade_no: o.req.out_trade_no.clone(),
        transaction_id: o.transaction_id.clone(),
        trade_type: paid.map(|_| "NATIVE".to_string()),
        trade_state: o.state,
        trade_state_desc: desc.into(),
        bank_type: paid.map(|_| "OTHERS".to_string()),
        attach: o.req.attach.clone(),
        success_time: paid.map(|p| platform_time(p.0)),
        payer: paid.map(|p| Payer {
            openid: p.2.clone(),
        }),
        amount: Some(TransactionAmount {
            total: paid.map(|p| p.1).unwrap_or(o.req.amount.total),
            payer_total: paid.map(|p| p.1),
            currency: "CNY".into(),
            payer_currency: Some("CNY".into()),
        }),
    }
}
