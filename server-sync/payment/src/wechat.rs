//! [`PaymentGateway`] over WeChat Pay API v3 (HTTPS + JSON, reqwest).
//! Every request is signed with the merchant key; every 2xx answer's
//! signature is checked against the platform key before its body is read,
//! except the bill file itself, which the platform does not sign and which
//! is checked against the SHA1 given in the (signed) bill location instead.

use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use reqwest::{Method, StatusCode, Url};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::{Digest, Sha1};

use crate::bill::{TradeBill, parse_trade_bill};
use crate::crypto::{ApiV3Key, MerchantSigner, PlatformVerifier, SignedHeaders, nonce_str};
use crate::error::{ErrorCode, NotifyError, PaymentError};
use crate::gateway::{NativeOrder, PaymentGateway, RefundOrder};
use crate::model::{
    BillLocation, CloseRequest, CodeUrl, ErrorBody, NativeOrderRequest, OrderAmount, Refund,
    RefundRequest, RefundRequestAmount, Transaction,
};
use crate::notify::{Notification, parse_notification};

/// What the merchant is given by the platform (and configures).
pub struct WechatPayConfig {
    /// `https://api.mch.weixin.qq.com` in production; the simulator's URL in tests.
    pub base_url: String,
    pub mchid: String,
    pub appid: String,
    pub merchant_serial_no: String,
    pub merchant_key: RsaPrivateKey,
    /// `PUB_KEY_ID_...` and the platform public key (public-key mode).
    pub platform_key_id: String,
    pub platform_key: RsaPublicKey,
    pub apiv3_key: ApiV3Key,
    pub notify_url: String,
    /// Per request, connect to last byte.
    pub timeout: Duration,
}

pub struct WechatPayV3 {
    http: reqwest::Client,
    base: Url,
    appid: String,
    notify_url: String,
    signer: MerchantSigner,
    verifier: PlatformVerifier,
    apiv3_key: ApiV3Key,
}

fn map_send_error(e: reqwest::Error) -> PaymentError {
    if e.is_timeout() {
        PaymentError::Timeout
    } else {
        // Connect failures, resets mid-answer: the call may be repeated.
        PaymentError::Connection(e.without_url().to_string())
    }
}

/// Percent-encode a path segment (merchant numbers are plain ASCII; this
/// keeps a hostile one from changing the path).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl WechatPayV3 {
    pub fn new(cfg: WechatPayConfig) -> Result<Self, PaymentError> {
        let base = Url::parse(&cfg.base_url)
            .map_err(|e| PaymentError::Config(format!("base_url: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .user_agent(concat!("exam-payment/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PaymentError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base,
            appid: cfg.appid,
            notify_url: cfg.notify_url,
            signer: MerchantSigner::new(cfg.mchid, cfg.merchant_serial_no, cfg.merchant_key),
            verifier: PlatformVerifier::new(cfg.platform_key_id, cfg.platform_key),
            apiv3_key: cfg.apiv3_key,
        })
    }

    pub fn mchid(&self) -> &str {
        &self.signer.mchid
    }

    /// One signed call; `path_and_query` is what gets signed.
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<String>,
        verify: bool,
    ) -> Result<(StatusCode, Vec<u8>), PaymentError> {
        let url = self
            .base
            .join(path_and_query)
            .map_err(|e| PaymentError::Config(format!("url: {e}")))?;
        let body = body.unwrap_or_default();
        let ts = chrono::Utc::now().timestamp();
        let auth =
            self.signer
                .authorization(method.as_str(), path_and_query, &body, ts, &nonce_str());
        let mut req = self
            .http
            .request(method.clone(), url)
            .header("Authorization", auth)
            .header("Accept", "application/json");
        if method != Method::GET {
            req = req.header("Content-Type", "application/json").body(body);
        }
        let resp = req.send().await.map_err(map_send_error)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(map_send_error)?.to_vec();
        if status.is_success() {
            if verify {
                let text =
                    std::str::from_utf8(&bytes).map_err(|_| PaymentError::BadResponseSignature)?;
                let h = SignedHeaders::from_header_map(&headers)
                    .map_err(|_| PaymentError::BadResponseSignature)?;
                self.verifier
                    .verify(&h, text, chrono::Utc::now().timestamp())
                    .map_err(|_| PaymentError::BadResponseSignature)?;
            }
            return Ok((status, bytes));
        }
        let err: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
        let code = err
            .as_ref()
            .map(|e| ErrorCode::parse(&e.code))
            .unwrap_or(ErrorCode::SystemError);
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Err(PaymentError::Unavailable {
                status: status.as_u16(),
                code,
            })
        } else {
            Err(PaymentError::Rejected {
                status: status.as_u16(),
                code,
                message: err.map(|e| e.message).unwrap_or_default(),
            })
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<String>,
    ) -> Result<T, PaymentError> {
        let (_, bytes) = self.call(method, path_and_query, body, true).await?;
        serde_json::from_slice(&bytes).map_err(|e| PaymentError::Malformed(e.to_string()))
    }

    fn to_body<T: serde::Serialize>(v: &T) -> Result<String, PaymentError> {
        serde_json::to_string(v).map_err(|e| PaymentError::Config(e.to_string()))
    }
}

#[async_trait]
impl PaymentGateway for WechatPayV3 {
    async fn create_native(&self, order: &NativeOrder) -> Result<String, PaymentError> {
        let req = NativeOrderRequest {
            appid: self.appid.clone(),
            mchid: self.signer.mchid.clone(),
            description: order.description.clone(),
            out_trade_no: order.out_trade_no.clone(),
            time_expire: order.time_expire.clone(),
            attach: order.attach.clone(),
            notify_url: self.notify_url.clone(),
            amount: OrderAmount {
                total: order.total,
                currency: "CNY".into(),
            },
        };
        let r: CodeUrl = self
            .json(
                Method::POST,
                "/v3/pay/transactions/native",
                Some(Self::to_body(&req)?),
            )
            .await?;
        Ok(r.code_url)
    }

    async fn query_order(&self, out_trade_no: &str) -> Result<Transaction, PaymentError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            segment(out_trade_no),
            segment(&self.signer.mchid)
        );
        self.json(Method::GET, &path, None).await
    }

    async fn close_order(&self, out_trade_no: &str) -> Result<(), PaymentError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}/close",
            segment(out_trade_no)
        );
        let body = Self::to_body(&CloseRequest {
            mchid: self.signer.mchid.clone(),
        })?;
        self.call(Method::POST, &path, Some(body), true)
            .await
            .map(|_| ())
    }

    async fn refund(&self, r: &RefundOrder) -> Result<Refund, PaymentError> {
        let req = RefundRequest {
            transaction_id: None,
            out_trade_no: Some(r.out_trade_no.clone()),
            out_refund_no: r.out_refund_no.clone(),
            reason: r.reason.clone(),
            notify_url: Some(self.notify_url.clone()),
            amount: RefundRequestAmount {
                refund: r.refund,
                total: r.total,
                currency: "CNY".into(),
            },
        };
        self.json(
            Method::POST,
            "/v3/refund/domestic/refunds",
            Some(Self::to_body(&req)?),
        )
        .await
    }

    async fn query_refund(&self, out_refund_no: &str) -> Result<Refund, PaymentError> {
        let path = format!("/v3/refund/domestic/refunds/{}", segment(out_refund_no));
        self.json(Method::GET, &path, None).await
    }

    async fn trade_bill(&self, day: NaiveDate) -> Result<TradeBill, PaymentError> {
        let loc: BillLocation = self
            .json(
                Method::GET,
                &format!(
                    "/v3/bill/tradebill?bill_date={}&bill_type=ALL",
                    day.format("%Y-%m-%d")
                ),
                None,
            )
            .await?;
        let url = Url::parse(&loc.download_url)
            .map_err(|e| PaymentError::Malformed(format!("download_url: {e}")))?;
        // The download is signed with our key: only to the platform itself.
        if url.origin() != self.base.origin() {
            return Err(PaymentError::Malformed(
                "download_url points off the platform".into(),
            ));
        }
        let mut pq = url.path().to_string();
        if let Some(q) = url.query() {
            pq.push('?');
            pq.push_str(q);
        }
        let (_, bytes) = self.call(Method::GET, &pq, None, false).await?;
        if !loc.hash_type.eq_ignore_ascii_case("SHA1") {
            return Err(PaymentError::Malformed(format!(
                "hash type {}",
                loc.hash_type
            )));
        }
        if !hex::encode(Sha1::digest(&bytes)).eq_ignore_ascii_case(&loc.hash_value) {
            return Err(PaymentError::BillHash);
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| PaymentError::Malformed("bill is not UTF-8".into()))?;
        parse_trade_bill(&text).map_err(|e| PaymentError::Malformed(e.to_string()))
    }

    fn parse_notification(
        &self,
        headers: &SignedHeaders,
        body: &[u8],
    ) -> Result<Notification, NotifyError> {
        parse_notification(
            headers,
            body,
            &self.verifier,
            &self.apiv3_key,
            chrono::Utc::now().timestamp(),
        )
    }
}
