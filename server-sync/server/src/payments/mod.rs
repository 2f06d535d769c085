//! Payments through the hospital's unified payment platform (K16, I4; seed
//! 000 §1.4), on `exam-payment` (WeChat Pay API v3 semantics).
//!
//! - **Orders** (`service`): a local order first, for a visit's unpaid
//!   active items, its amount computed here from the store (a kiosk never
//!   says how much); then the platform's native (QR) order, whose
//!   `code_url` the kiosk shows. One open order per set of items: asking
//!   again returns it; asking for other items closes it first.
//! - **Facts from the platform** (`notify`, `job`): verified, decrypted
//!   notifications, and order queries when none came; each applied to the
//!   row-locked order by `exam_payment::LocalOrder` (duplicates and
//!   out-of-order facts change nothing, a wrong amount never pays). Paid:
//!   the items are marked paid in the same transaction, which enqueues the
//!   HIS charge and the LIS / PACS orders (`interfaces::facts`).
//! - **Closing**: an order unpaid at its expiry is closed at the platform
//!   (a payment found then is applied instead).
//! - **Refunds**: a desk refund of an item paid through the platform is
//!   recorded with its out_refund_no in the item change's transaction; the
//!   job sends it, and every retry sends the same number.
//! - **Reconciliation** (`recon`): the platform's daily bill against our
//!   orders, every difference stored with its cause, on the finance page
//!   (`page`).
//!
//! Nothing configured (`[payment]` without `base_url`): payment is
//! unavailable, the kiosk says so and the desk takes the money.
//!
//! - **Health** (`health`): every platform call's outcome is recorded;
//!   emergency mode (E15) reads since when the platform has not answered.

mod desk;
pub mod health;
mod job;
mod notify;
mod page;
mod recon;
mod service;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use exam_payment::PaymentGateway;
use exam_payment::trade_no::TradeNoGenerator;
use exam_payment::wechat::{WechatPayConfig, WechatPayV3};
use serde::{Deserialize, Serialize};

pub use job::spawn;
pub use recon::{DiffRow, RunRow};
pub use service::{OrderView, PayError, WHOLE_BOOKING};

pub(crate) use service::{
    Requester, Viewer, cancel_for_kiosk, create_for_kiosk, create_order, state_for, state_for_kiosk,
};

/// The finance page, the notification route and the desk's platform orders.
pub(crate) fn routes(t: &mut crate::routes::RouteTable) {
    page::routes(t);
    desk::routes(t);
}

/// `[payment]`: the merchant's account at the platform. Secrets come from
/// files (mode 600) or as values sealed with `exam-server seal-secret`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentConfig {
    /// The platform's API base (`https://api.mch.weixin.qq.com`, or
    /// pay-sim's URL). Unset: payment unavailable.
    pub base_url: Option<String>,
    pub mchid: String,
    pub appid: String,
    /// The serial number of the merchant API certificate.
    pub merchant_serial_no: String,
    /// The merchant API private key (PKCS#8 PEM file).
    pub merchant_key_file: Option<PathBuf>,
    /// Or the PEM text sealed (`sealed:v1:...`).
    pub merchant_key: Option<String>,
    /// `PUB_KEY_ID_...` of the platform public key.
    pub platform_key_id: String,
    /// The platform public key (SPKI PEM file).
    pub platform_public_key_file: Option<PathBuf>,
    /// The APIv3 key (32 characters) in a file, or sealed.
    pub apiv3_key_file: Option<PathBuf>,
    pub apiv3_key: Option<String>,
    /// Development: a pay-sim keys directory (`pay-sim --keys-dir`) gives
    /// the identifiers and every key above.
    pub sim_keys_dir: Option<PathBuf>,
    /// Where the platform sends notifications (public HTTPS in production);
    /// unset: this service's own address + `/pay/notify` (tests, demo).
    pub notify_url: Option<String>,
    /// Per call to the platform.
    pub timeout_ms: u64,
    /// An order not paid after this is closed at the platform.
    pub order_expiry_seconds: i64,
    /// An open order without a notification is queried after this (and
    /// again every as long).
    pub query_after_seconds: i64,
    /// The background job's period.
    pub poll_ms: u64,
    /// out_trade_no prefix and node (several instances: distinct nodes).
    pub trade_no_prefix: String,
    pub node: u8,
    /// The local (CST) time after which yesterday's bill is reconciled.
    pub bill_time: chrono::NaiveTime,
}

impl Default for PaymentConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            mchid: String::new(),
            appid: String::new(),
            merchant_serial_no: String::new(),
            merchant_key_file: None,
            merchant_key: None,
            platform_key_id: String::new(),
            platform_public_key_file: None,
            apiv3_key_file: None,
            apiv3_key: None,
            sim_keys_dir: None,
            notify_url: None,
            timeout_ms: 5_000,
            order_expiry_seconds: 300,
            query_after_seconds: 10,
            poll_ms: 1_000,
            trade_no_prefix: "HX".into(),
            node: 1,
            bill_time: chrono::NaiveTime::from_hms_opt(10, 0, 0).expect("valid time"),
        }
    }
}

/// The notification route (public: the platform's signature is the credential).
pub const NOTIFY_PATH: &str = "/pay/notify";

/// The payment side of the running service.
pub struct Payments {
    gateway: Option<Arc<dyn PaymentGateway>>,
    /// Why there is no gateway (said to kiosks and staff).
    unavailable: String,
    pub settings: PaymentConfig,
    trade_no: TradeNoGenerator,
    /// Wakes the job early (a refund recorded, an order cancelled).
    pub(crate) kick: tokio::sync::Notify,
    /// Whether the platform answers (every call through the gateway).
    pub health: health::PlatformHealth,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("available", &self.gateway.is_some())
            .finish()
    }
}

fn read(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

impl Payments {
    /// From `[payment]`; `own_url` is this service's base URL (for the
    /// default notify_url). A half-configured platform is an error (orders
    /// would fail unseen); none configured is "unavailable".
    pub fn from_config(
        cfg: &PaymentConfig,
        keys: &exam_vault::KeyRing,
        own_url: &str,
    ) -> Result<Self, String> {
        let trade_no = TradeNoGenerator::new(&cfg.trade_no_prefix, cfg.node)
            .map_err(|e| format!("[payment] trade_no_prefix / node: {e}"))?;
        let Some(base_url) = cfg.base_url.clone() else {
            return Ok(Self {
                gateway: None,
                unavailable: "本院区未开通线上支付 / online payment is not configured".into(),
                settings: cfg.clone(),
                trade_no,
                kick: tokio::sync::Notify::new(),
                health: health::PlatformHealth::default(),
            });
        };
        let gw = build_gateway(cfg, keys, base_url, own_url)?;
        let health = health::PlatformHealth::default();
        Ok(Self {
            gateway: Some(Arc::new(health::Monitored {
                inner: gw,
                health: health.clone(),
            })),
            unavailable: String::new(),
            settings: cfg.clone(),
            trade_no,
            kick: tokio::sync::Notify::new(),
            health,
        })
    }

    pub fn gateway(&self) -> Result<&Arc<dyn PaymentGateway>, PayError> {
        self.gateway
            .as_ref()
            .ok_or_else(|| PayError::Unavailable(self.unavailable.clone()))
    }

    pub fn available(&self) -> bool {
        self.gateway.is_some()
    }

    pub(crate) fn next_trade_no(&self) -> String {
        self.trade_no.next(chrono::Utc::now())
    }
}

fn build_gateway(
    cfg: &PaymentConfig,
    keys: &exam_vault::KeyRing,
    base_url: String,
    own_url: &str,
) -> Result<WechatPayV3, String> {
    use exam_payment::crypto::{ApiV3Key, private_key_from_pem, public_key_from_pem};
    let e = |what: &str, err: String| format!("[payment] {what}: {err}");
    let notify_url = cfg
        .notify_url
        .clone()
        .unwrap_or_else(|| format!("{own_url}{NOTIFY_PATH}"));
    let timeout = Duration::from_millis(cfg.timeout_ms.max(100));
    if let Some(dir) = &cfg.sim_keys_dir {
        // Development only: pay-sim's own test identities.
        let k =
            exam_payment::sim::SimKeys::load(dir).map_err(|x| e("sim_keys_dir", x.to_string()))?;
        return WechatPayV3::new(k.merchant_config(&base_url, &notify_url, timeout))
            .map_err(|x| e("gateway", x.to_string()));
    }
    let secret = |file: &Option<PathBuf>, sealed: &Option<String>, what: &str| {
        match (file, sealed) {
            (Some(f), _) => read(f),
            (None, Some(s)) => keys.reveal_config(s).map_err(|x| x.to_string()),
            (None, None) => Err("neither a file nor a sealed value".into()),
        }
        .map_err(|x| e(what, x))
    };
    let merchant_pem = secret(&cfg.merchant_key_file, &cfg.merchant_key, "merchant key")?;
    let apiv3 = secret(&cfg.apiv3_key_file, &cfg.apiv3_key, "APIv3 key")?;
    let platform_pem = match &cfg.platform_public_key_file {
        Some(f) => read(f).map_err(|x| e("platform public key", x))?,
        None => return Err(e("platform_public_key_file", "not set".into())),
    };
    WechatPayV3::new(WechatPayConfig {
        base_url,
        mchid: cfg.mchid.clone(),
        appid: cfg.appid.clone(),
        merchant_serial_no: cfg.merchant_serial_no.clone(),
        merchant_key: private_key_from_pem(&merchant_pem)
            .map_err(|x| e("merchant key", x.to_string()))?,
        platform_key_id: cfg.platform_key_id.clone(),
        platform_key: public_key_from_pem(&platform_pem)
            .map_err(|x| e("platform public key", x.to_string()))?,
        apiv3_key: ApiV3Key::from_str_key(&apiv3).map_err(|x| e("APIv3 key", x.to_string()))?,
        notify_url,
        timeout,
    })
    .map_err(|x| e("gateway", x.to_string()))
}
