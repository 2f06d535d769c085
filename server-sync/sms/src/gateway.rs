//! What the central service needs from an SMS platform, and the Tencent
//! Cloud SMS API 3.0 client behind it.

use std::time::Duration;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::error::SmsError;
use crate::model::{
    DeliveryReport, PullByPhoneRequest, PullSmsSendStatusRequest, SendSmsRequest, e164_cn,
    parse_answer,
};
use crate::tc3::{Signed, authorization};
use crate::{API_VERSION, SERVICE};

/// One message to one number.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// Any form [`e164_cn`] reads.
    pub phone: String,
    pub template_id: String,
    pub params: Vec<String>,
    /// Echoed by the platform in answers and pulled reports: our key.
    pub session_context: String,
}

/// Masked: a message may end up in a log line.
impl std::fmt::Debug for OutgoingSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingSms")
            .field("phone", &crate::model::mask_phone(&self.phone))
            .field("template_id", &self.template_id)
            .field("session_context", &self.session_context)
            .finish_non_exhaustive()
    }
}

/// The platform took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendReceipt {
    /// Its serial number: what its delivery report will name.
    pub serial_no: String,
    /// Segments billed.
    pub fee: u32,
    pub request_id: String,
}

#[async_trait]
pub trait SmsGateway: Send + Sync {
    /// Sends one message. Not idempotent at the platform: after
    /// [`SmsError::Unavailable`] the message may have gone out.
    async fn send(&self, msg: &OutgoingSms) -> Result<SendReceipt, SmsError>;
    /// Status reports not pulled before (each is handed out once).
    async fn pull_reports(&self, limit: u32) -> Result<Vec<DeliveryReport>, SmsError>;
    /// One number's reports since `since`, pulled before or not (what a
    /// sender asks after a send without an answer: did it go?).
    async fn reports_for(
        &self,
        phone: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<DeliveryReport>, SmsError>;
}

#[derive(Clone)]
pub struct TencentSmsConfig {
    /// `https://sms.tencentcloudapi.com` (or the simulator's URL).
    pub endpoint: String,
    pub region: String,
    pub secret_id: String,
    pub secret_key: Zeroizing<String>,
    pub sdk_app_id: String,
    pub sign_name: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for TencentSmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentSmsConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("secret_id", &self.secret_id)
            .field("sdk_app_id", &self.sdk_app_id)
            .finish_non_exhaustive()
    }
}

/// A request ready to go: its headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

pub const CONTENT_TYPE: &str = "application/json";

pub struct TencentSms {
    cfg: TencentSmsConfig,
    host: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for TencentSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentSms")
            .field("cfg", &self.cfg)
            .finish()
    }
}

fn host_of(endpoint: &str) -> Option<String> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))?;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

impl TencentSms {
    pub fn new(cfg: TencentSmsConfig) -> Result<Self, SmsError> {
        let host = host_of(&cfg.endpoint)
            .ok_or_else(|| SmsError::Invalid(format!("endpoint {:?}", cfg.endpoint)))?;
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| SmsError::Invalid(format!("HTTP client: {e}")))?;
        Ok(Self { cfg, host, http })
    }

    pub fn config(&self) -> &TencentSmsConfig {
        &self.cfg
    }

    /// Headers and body of `action` with `body` at `timestamp` (pure: the
    /// tests compare it with the PyPI SDK's for the same inputs).
    pub fn sign(&self, action: &str, body: Vec<u8>, timestamp: i64) -> SignedRequest {
        let s = Signed {
            method: "POST",
            content_type: CONTENT_TYPE,
            host: &self.host,
            query: "",
            body: &body,
            timestamp,
            service: SERVICE,
        };
        let auth = authorization(&self.cfg.secret_id, &self.cfg.secret_key, &s);
        let headers = vec![
            ("Authorization", auth),
            ("Content-Type", CONTENT_TYPE.to_string()),
            ("Host", self.host.clone()),
            ("X-TC-Action", action.to_string()),
            ("X-TC-Timestamp", timestamp.to_string()),
            ("X-TC-Version", API_VERSION.to_string()),
            ("X-TC-Region", self.cfg.region.clone()),
        ];
        SignedRequest { headers, body }
    }

    pub fn send_request_body(&self, msg: &OutgoingSms) -> Result<Vec<u8>, SmsError> {
        let phone = e164_cn(&msg.phone).map_err(|e| SmsError::Invalid(e.to_string()))?;
        let req = SendSmsRequest {
            phone_number_set: vec![phone],
            sms_sdk_app_id: self.cfg.sdk_app_id.clone(),
            sign_name: self.cfg.sign_name.clone(),
            template_id: msg.template_id.clone(),
            template_param_set: msg.params.clone(),
            session_context: msg.session_context.clone(),
        };
        serde_json::to_vec(&req).map_err(|e| SmsError::Invalid(e.to_string()))
    }

    async fn call(&self, action: &str, body: Vec<u8>) -> Result<crate::model::Response, SmsError> {
        let signed = self.sign(action, body, chrono::Utc::now().timestamp());
        let mut rb = self.http.post(&self.cfg.endpoint);
        for (k, v) in &signed.headers {
            // reqwest writes Host from the URL (the same value).
            if *k != "Host" {
                rb = rb.header(*k, v);
            }
        }
        let resp = rb.body(signed.body).send().await.map_err(|e| {
            SmsError::Unavailable(if e.is_timeout() {
                "no answer in time".to_string()
            } else {
                // Without the URL's query or anything of the body.
                format!("{}", e.without_url())
            })
        })?;
        let status = resp.status().as_u16();
        let bytes = read_bounded(resp).await?;
        if status != 200 {
            return Err(SmsError::Http { status });
        }
        let r = parse_answer(&bytes)?;
        if let Some(e) = r.error {
            return Err(SmsError::Api {
                code: e.code,
                message: e.message,
                request_id: r.request_id,
            });
        }
        Ok(r)
    }
}

async fn read_bounded(mut resp: reqwest::Response) -> Result<Vec<u8>, SmsError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| SmsError::Unavailable(format!("answer cut: {}", e.without_url())))?
    {
        if out.len() + chunk.len() > crate::model::MAX_ANSWER_BYTES {
            return Err(crate::model::ParseError::TooLarge(out.len() + chunk.len()).into());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[async_trait]
impl SmsGateway for TencentSms {
    async fn send(&self, msg: &OutgoingSms) -> Result<SendReceipt, SmsError> {
        let body = self.send_request_body(msg)?;
        let r = self.call("SendSms", body).await?;
        let set = r.send_status_set.unwrap_or_default();
        let [s] = set.as_slice() else {
            return Err(crate::model::ParseError::Json(format!(
                "{} statuses for one number",
                set.len()
            ))
            .into());
        };
        if s.code != "Ok" {
            return Err(SmsError::Rejected {
                code: s.code.clone(),
                message: s.message.clone(),
            });
        }
        if s.serial_no.is_empty() {
            return Err(crate::model::ParseError::Json("Ok without SerialNo".into()).into());
        }
        Ok(SendReceipt {
            serial_no: s.serial_no.clone(),
            fee: s.fee,
            request_id: r.request_id,
        })
    }

    async fn pull_reports(&self, limit: u32) -> Result<Vec<DeliveryReport>, SmsError> {
        let body = serde_json::to_vec(&PullSmsSendStatusRequest {
            limit: limit.clamp(1, 100),
            sms_sdk_app_id: self.cfg.sdk_app_id.clone(),
        })
        .map_err(|e| SmsError::Invalid(e.to_string()))?;
        let r = self.call("PullSmsSendStatus", body).await?;
        r.pull_sms_send_status_set
            .unwrap_or_default()
            .iter()
            .map(|p| DeliveryReport::from_pulled(p).map_err(SmsError::from))
            .collect()
    }

    async fn reports_for(
        &self,
        phone: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<DeliveryReport>, SmsError> {
        let phone = e164_cn(phone).map_err(|e| SmsError::Invalid(e.to_string()))?;
        let body = serde_json::to_vec(&PullByPhoneRequest {
            begin_time: u64::try_from(since.timestamp()).unwrap_or(0),
            offset: 0,
            limit: 100,
            phone_number: phone,
            sms_sdk_app_id: self.cfg.sdk_app_id.clone(),
            end_time: Some(u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)),
        })
        .map_err(|e| SmsError::Invalid(e.to_string()))?;
        let r = self.call("PullSmsSendStatusByPhoneNumber", body).await?;
        r.pull_sms_send_status_set
            .unwrap_or_default()
            .iter()
            .map(|p| DeliveryReport::from_pulled(p).map_err(SmsError::from))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://sms.tencentcloudapi.com").as_deref(),
            Some("sms.tencentcloudapi.com")
        );
        assert_eq!(
            host_of("http://127.0.0.1:8791/").as_deref(),
            Some("127.0.0.1:8791")
        );
        assert_eq!(host_of("ftp://x"), None);
    }
}
