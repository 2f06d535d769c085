//! The `tencent_sms` adapter of the interfaces queue's `Sms` counterpart,
//! and the worker that releases waiting messages under the limits and
//! pulls the platform's status reports.
//!
//! ```toml
//! [interfaces.counterparts.sms]
//! adapter = "tencent_sms"
//! endpoint = "https://sms.tencentcloudapi.com"   # or sms-sim's URL
//! region = "ap-guangzhou"
//! secret_id = "AKID..."
//! secret_key_file = "/etc/exam-server/sms-secret-key"   # mode 600
//! sdk_app_id = "1400000001"
//! sign_name = "市一院体检中心"
//! centre_phone = "0571-88888888"       # what abnormal / critical notices ask to call
//! template_booking_confirmed = "2001"  # the platform's approved templates
//! template_report_ready = "2002"
//! template_abnormal_result = "2003"
//! template_critical_value = "2004"
//! # optional: timeout_seconds = 10, max_segments = 2, per_30_seconds = 1,
//! # per_hour = 5, per_day = 10, overall_per_minute = 60, poll_millis = 1000,
//! # callback_token = "<random, 16+ characters>"  (reports pushed to
//! #   POST /sms/reports/<token> as well as pulled)
//! ```

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use exam_sms::{
    Limits, OutgoingSms, Retry, SmsError, SmsGateway, TemplateIds, TencentSms, TencentSmsConfig,
    Window, Zeroizing,
};
use futures_util::future::BoxFuture;
use serde::Deserialize;

use super::store::{self, ReportOutcome};
use crate::db::{Db, DbError};
use crate::interfaces::payload::Payload;
use crate::interfaces::settings::AdapterSpec;
use crate::interfaces::{Delivered, Outbound, Outgoing, SendError};

fn one() -> u32 {
    1
}
fn five() -> u32 {
    5
}
fn ten() -> u32 {
    10
}
fn sixty() -> u32 {
    60
}
fn two() -> usize {
    2
}
fn ten_s() -> u64 {
    10
}
fn second() -> u64 {
    1000
}

/// `[interfaces.counterparts.sms]` without `adapter`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    pub endpoint: String,
    #[serde(default)]
    pub region: String,
    pub secret_id: String,
    pub secret_key_file: std::path::PathBuf,
    pub sdk_app_id: String,
    pub sign_name: String,
    pub centre_phone: String,
    pub template_booking_confirmed: String,
    pub template_report_ready: String,
    pub template_abnormal_result: String,
    pub template_critical_value: String,
    #[serde(default = "ten_s")]
    pub timeout_seconds: u64,
    #[serde(default = "two")]
    pub max_segments: usize,
    #[serde(default = "one")]
    pub per_30_seconds: u32,
    #[serde(default = "five")]
    pub per_hour: u32,
    #[serde(default = "ten")]
    pub per_day: u32,
    #[serde(default = "sixty")]
    pub overall_per_minute: u32,
    #[serde(default = "second")]
    pub poll_millis: u64,
    /// The secret path segment of the status-report callback
    /// (`POST /sms/reports/<token>`, set at the platform's console; at
    /// least 16 characters). None: reports are pulled only.
    #[serde(default)]
    pub callback_token: Option<String>,
}

impl SmsSettings {
    pub fn from_spec(spec: &AdapterSpec) -> Result<Self, String> {
        let v = serde_json::Value::Object(spec.options.clone().into_iter().collect());
        serde_json::from_value(v).map_err(|e| format!("the SMS adapter's settings: {e}"))
    }

    pub fn limits(&self) -> Limits {
        Limits {
            per_number: vec![
                Window {
                    seconds: 30,
                    max: self.per_30_seconds,
                },
                Window {
                    seconds: 3600,
                    max: self.per_hour,
                },
                Window {
                    seconds: 86_400,
                    max: self.per_day,
                },
            ],
            overall_per_minute: self.overall_per_minute,
        }
    }

    pub fn templates(&self) -> TemplateIds {
        TemplateIds {
            booking_confirmed: self.template_booking_confirmed.clone(),
            report_ready: self.template_report_ready.clone(),
            abnormal_result: self.template_abnormal_result.clone(),
            critical_value: self.template_critical_value.clone(),
        }
    }

    fn gateway(&self) -> Result<TencentSms, String> {
        let key = std::fs::read_to_string(&self.secret_key_file)
            .map_err(|e| format!("secret_key_file {}: {e}", self.secret_key_file.display()))?;
        TencentSms::new(TencentSmsConfig {
            endpoint: self.endpoint.clone(),
            region: if self.region.is_empty() {
                "ap-guangzhou".into()
            } else {
                self.region.clone()
            },
            secret_id: self.secret_id.clone(),
            secret_key: Zeroizing::new(key.trim().to_string()),
            sdk_app_id: self.sdk_app_id.clone(),
            sign_name: self.sign_name.clone(),
            timeout: Duration::from_secs(self.timeout_seconds.max(1)),
        })
        .map_err(|e| e.to_string())
    }
}

pub struct TencentSmsAdapter {
    settings: SmsSettings,
    gateway: Arc<dyn SmsGateway>,
}

impl TencentSmsAdapter {
    pub fn from_spec(spec: &AdapterSpec) -> Result<Self, String> {
        let settings = SmsSettings::from_spec(spec)?;
        let gateway = Arc::new(settings.gateway()?);
        Ok(Self { settings, gateway })
    }

    /// The platform's request for a queued SMS (pure but for the settings).
    pub fn outgoing(&self, msg: &Outgoing) -> Result<OutgoingSms, SendError> {
        let Payload::Sms(p) = &msg.payload else {
            return Err(SendError::Permanent(format!(
                "{} is not an SMS",
                msg.kind.as_str()
            )));
        };
        let kind = p.facts.kind();
        let params = p.facts.params(&self.settings.centre_phone);
        exam_sms::template::render(
            kind,
            &self.settings.sign_name,
            &params,
            self.settings.max_segments,
        )
        .map_err(|e| SendError::Permanent(format!("模板 / template: {e}")))?;
        Ok(OutgoingSms {
            phone: p.phone.clone(),
            template_id: self.settings.templates().of(kind).to_string(),
            params,
            session_context: msg.key.clone(),
        })
    }
}

/// The platform's failure as the queue's: no answer is an outage; the
/// platform's own trouble and its per-number limits a refusal for now;
/// anything about the message (a bad number, an unknown template, our
/// credentials) a dead letter, shown on `/sms` and `/interfaces`.
pub fn send_error(e: &SmsError) -> SendError {
    match (e, e.retry()) {
        (SmsError::Unavailable(_), _) => SendError::Unavailable(e.to_string()),
        (_, Retry::Retryable | Retry::After(_)) => SendError::Retryable(e.to_string()),
        (_, Retry::Permanent) => SendError::Permanent(e.to_string()),
    }
}

impl Outbound for TencentSmsAdapter {
    fn send<'a>(&'a self, msg: &'a Outgoing) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(async move {
            let out = self.outgoing(msg)?;
            // Tried before: the answer may have been lost after the
            // platform took it (its API has no idempotency key). Its report,
            // asked by number, names our key: then it went, and is not sent
            // again. Sent again only when the platform answers that it has
            // no report of it (a lost report, or none yet); when the
            // question fails, the message waits for the next attempt.
            if msg.attempt > 1 {
                let reports = self
                    .gateway
                    .reports_for(&out.phone, Utc::now() - chrono::Duration::days(2))
                    .await
                    .map_err(|e| send_error(&e))?;
                if let Some(r) = reports.iter().find(|r| r.session_context == msg.key) {
                    // Reported, so acknowledged: the report itself is
                    // applied when the pull hands it over (by serial number
                    // or key).
                    return Ok(Delivered {
                        acknowledged: true,
                        remote_ref: Some(r.serial_no.clone()),
                    });
                }
            }
            match self.gateway.send(&out).await {
                // Taken: acknowledged when its status report comes.
                Ok(r) => Ok(Delivered {
                    acknowledged: false,
                    remote_ref: Some(r.serial_no),
                }),
                Err(e) => Err(send_error(&e)),
            }
        })
    }

    fn describe(&self) -> String {
        format!("SMS (Tencent Cloud API 3.0) {}", self.settings.endpoint)
    }
}

/// What one worker round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub released: store::Released,
    pub reports: usize,
    pub duplicates: usize,
    pub unknown: usize,
    pub dead: u64,
}

/// Releases waiting messages and applies status reports (one round:
/// [`Worker::step`] with `now` passed in, what the tests drive).
#[derive(Clone)]
pub struct Worker {
    db: Db,
    limits: Limits,
    gateway: Arc<dyn SmsGateway>,
    poll: Duration,
}

impl Worker {
    pub fn from_spec(db: Db, spec: &AdapterSpec) -> Result<Self, String> {
        let s = SmsSettings::from_spec(spec)?;
        Ok(Self {
            db,
            limits: s.limits(),
            gateway: Arc::new(s.gateway()?),
            poll: Duration::from_millis(s.poll_millis.max(100)),
        })
    }

    pub async fn step(&self, now: DateTime<Utc>) -> Result<Round, DbError> {
        let mut round = Round {
            released: store::release(&self.db, &self.limits, now).await?,
            dead: store::sync_dead_letters(&self.db, now).await?,
            ..Round::default()
        };
        match self.gateway.pull_reports(100).await {
            Ok(reports) => {
                for r in &reports {
                    match store::apply_report(&self.db, r, now).await? {
                        ReportOutcome::Applied => round.reports += 1,
                        ReportOutcome::Duplicate => round.duplicates += 1,
                        ReportOutcome::Unknown => round.unknown += 1,
                    }
                }
            }
            // Reports wait at the platform; the next round asks again.
            Err(e) => tracing::warn!(error = %e, "SMS status reports not pulled"),
        }
        Ok(round)
    }
}

/// The worker on the clock, when `[interfaces.counterparts.sms]` names the
/// `tencent_sms` adapter.
pub fn spawn(db: &Db, spec: &AdapterSpec) -> Result<tokio::task::JoinHandle<()>, String> {
    let w = Worker::from_spec(db.clone(), spec)?;
    Ok(tokio::spawn(async move {
        loop {
            match w.step(Utc::now()).await {
                Ok(r) if r.released.queued + r.reports > 0 => {
                    tracing::debug!(queued = r.released.queued, reports = r.reports, "SMS round")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "SMS worker: store error"),
            }
            tokio::time::sleep(w.poll).await;
        }
    }))
}
