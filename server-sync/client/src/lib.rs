//! The kiosk side of sync.
//!
//! [`SyncClient`] speaks the signed protocol of `exam-protocol` over HTTP;
//! [`agent::SyncAgent`] runs beside the kiosk, pushing the journal's outbox
//! (an event leaves it only once the server acknowledged it), following the
//! server's booking changes into the offline cache and sending heartbeats,
//! with exponential backoff and jitter while the server is away.

pub mod agent;
pub mod backoff;
mod board;
pub mod link;

use std::time::Duration;

use chrono::Utc;
use exam_domain::IdentityQuery;
use exam_protocol::auth::{H_VERSION, KioskKey};
use exam_protocol::{
    ApiError, ChangesResponse, EnrolRequest, EnrolResponse, Event, Heartbeat, HeartbeatResponse,
    LookupRequest, LookupResponse, PROTOCOL_VERSION, PushRequest, PushResponse, paths,
};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use agent::{AgentConfig, SyncAgent, SyncStatus};
pub use board::DeviceBoard;
pub use link::{LinkError, LinkOptions, PlainHttp, ServiceLink};

/// How long a push may take to be answered.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No answer: network down, server stopped, timeout. Retry later.
    #[error("central service unreachable: {0}")]
    Unreachable(String),
    /// Sent, but no answer within the request's time: the server may be
    /// slow with it (a large push on a loaded server) or gone. Retry; a
    /// push is retried smaller (`SyncAgent::push_all`).
    #[error("the central service did not answer in time: {0}")]
    TimedOut(String),
    /// The server refused the request; retrying the same request won't help.
    #[error("central service refused the request ({status}): {} ({})", .error.message, .error.error)]
    Refused { status: u16, error: ApiError },
    /// The server failed; retry later.
    #[error("central service error {status}: {body}")]
    Server { status: u16, body: String },
    #[error("unexpected answer from the central service: {0}")]
    Decode(String),
    /// The local journal failed; sync retries with backoff.
    #[error("kiosk journal error: {0}")]
    Journal(String),
    /// The service's certificate is not signed by the CA this kiosk trusts
    /// (or is expired, or for another name): a configuration fault or an
    /// impostor; retrying will not help until someone fixes it.
    #[error("the central service's certificate is not trusted: {0}")]
    Untrusted(String),
}

impl SyncError {
    /// Worth retrying the same request later?
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SyncError::Unreachable(_)
                | SyncError::TimedOut(_)
                | SyncError::Server { .. }
                | SyncError::Journal(_)
        )
    }
}

/// A signed client for one kiosk, over a checked [`ServiceLink`].
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    base: String,
    key: KioskKey,
}

async fn decode<R: DeserializeOwned>(resp: reqwest::Response) -> Result<R, SyncError> {
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(unreachable)?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| SyncError::Decode(e.to_string()));
    }
    if status.is_client_error() {
        let error = serde_json::from_slice(&bytes).unwrap_or_else(|_| ApiError {
            error: "http_error".into(),
            message: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            event_ids: vec![],
        });
        return Err(SyncError::Refused {
            status: status.as_u16(),
            error,
        });
    }
    Err(SyncError::Server {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
    })
}

/// The certificate fault in `e`'s causes, if that is what failed. rustls's
/// error sits inside `io::Error`s (nested, and `io::Error::source` skips
/// the error it wraps), so each one is opened with `get_ref`.
fn certificate_fault(e: &reqwest::Error) -> Option<String> {
    fn rustls_in<'a>(mut c: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
        loop {
            if let Some(r) = c.downcast_ref::<rustls::Error>() {
                return Some(r);
            }
            let inner = c.downcast_ref::<std::io::Error>()?.get_ref()?;
            c = inner;
        }
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(
            err @ (rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented),
        ) = rustls_in(c)
        {
            return Some(err.to_string());
        }
        cause = c.source();
    }
    None
}

fn unreachable(e: reqwest::Error) -> SyncError {
    if let Some(fault) = certificate_fault(&e) {
        return SyncError::Untrusted(fault);
    }
    // reqwest's Display stops at "error sending request": the cause (a
    // refused certificate, a reset) is what a technician needs to see.
    let mut msg = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cause = c.source();
    }
    if e.is_timeout() {
        SyncError::TimedOut(msg)
    } else {
        SyncError::Unreachable(msg)
    }
}

impl SyncClient {
    pub fn new(link: &ServiceLink, key: KioskKey) -> Self {
        Self {
            http: link.http.clone(),
            base: link.base.clone(),
            key,
        }
    }

    pub fn kiosk_id(&self) -> &str {
        &self.key.kiosk_id
    }

    /// Enrols with a one-time secret: generates this kiosk's key pair and
    /// registers its public half. Keep the returned key (in the journal).
    pub async fn enrol(
        link: &ServiceLink,
        kiosk_id: &str,
        secret: &str,
        app_version: &str,
    ) -> Result<(KioskKey, EnrolResponse), SyncError> {
        let key = KioskKey::generate(kiosk_id);
        let resp = Self::enrol_key(link, &key, secret, app_version).await?;
        Ok((key, resp))
    }

    /// Enrols an existing key. A kiosk saves its key before the first
    /// attempt, so a retry after a lost answer uses the same key (which the
    /// server accepts again) instead of locking itself out.
    pub async fn enrol_key(
        link: &ServiceLink,
        key: &KioskKey,
        secret: &str,
        app_version: &str,
    ) -> Result<EnrolResponse, SyncError> {
        let req = EnrolRequest {
            kiosk_id: key.kiosk_id.clone(),
            enrolment_secret: secret.into(),
            public_key: key.public_key_b64(),
            app_version: app_version.into(),
        };
        let resp = link
            .http
            .post(format!("{}{}", link.base, paths::ENROL))
            .json(&req)
            .send()
            .await
            .map_err(unreachable)?;
        decode(resp).await
    }

    async fn signed<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
        timeout: Duration,
    ) -> Result<R, SyncError> {
        let bytes = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| SyncError::Decode(e.to_string()))?,
            None => Vec::new(),
        };
        let headers = self
            .key
            .sign(method.as_str(), path, &bytes, Utc::now().timestamp_millis());
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(timeout)
            .header(H_VERSION, PROTOCOL_VERSION.to_string());
        for (k, v) in headers.pairs() {
            req = req.header(k, v);
        }
        if body.is_some() {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        decode(req.send().await.map_err(unreachable)?).await
    }

    pub async fn push(&self, events: &[Event]) -> Result<PushResponse, SyncError> {
        self.push_within(events, PUSH_TIMEOUT).await
    }

    /// [`SyncClient::push`], answered within `timeout`.
    pub async fn push_within(
        &self,
        events: &[Event],
        timeout: Duration,
    ) -> Result<PushResponse, SyncError> {
        let body = PushRequest {
            events: events.to_vec(),
        };
        self.signed(Method::POST, paths::EVENTS, Some(&body), timeout)
            .await
    }

    pub async fn changes(&self, cursor: i64, limit: i64) -> Result<ChangesResponse, SyncError> {
        let path = format!("{}?cursor={cursor}&limit={limit}", paths::CHANGES);
        self.signed(Method::GET, &path, None::<&()>, Duration::from_secs(20))
            .await
    }

    /// K3: today's face templates for this kiosk's campus (held in memory).
    pub async fn faces(&self) -> Result<exam_protocol::FacesResponse, SyncError> {
        self.signed(
            Method::GET,
            paths::FACES,
            None::<&()>,
            Duration::from_secs(20),
        )
        .await
    }

    /// Looks a person up online, with a short timeout: a patient is waiting,
    /// and the offline cache answers when the server is slow.
    pub async fn lookup(
        &self,
        query: &IdentityQuery,
        timeout: Duration,
    ) -> Result<LookupResponse, SyncError> {
        self.signed(
            Method::POST,
            paths::LOOKUP,
            Some(&LookupRequest {
                query: query.clone(),
            }),
            timeout,
        )
        .await
    }

    /// K17: packages and slots open for booking on a day at this kiosk's campus.
    pub async fn booking_options(
        &self,
        date: chrono::NaiveDate,
    ) -> Result<exam_protocol::BookingOptions, SyncError> {
        let req = exam_protocol::BookingOptionsRequest { date };
        self.signed(
            Method::POST,
            paths::BOOKING_OPTIONS,
            Some(&req),
            Duration::from_secs(5),
        )
        .await
    }

    /// K17: books for the person whose ID card the kiosk read.
    pub async fn book(
        &self,
        req: &exam_protocol::SelfBookRequest,
    ) -> Result<exam_protocol::SelfBooked, SyncError> {
        self.signed(Method::POST, paths::BOOK, Some(req), Duration::from_secs(5))
            .await
    }

    pub async fn rebook(
        &self,
        req: &exam_protocol::SelfRebookRequest,
    ) -> Result<exam_domain::Booking, SyncError> {
        self.signed(
            Method::POST,
            paths::REBOOK,
            Some(req),
            Duration::from_secs(5),
        )
        .await
    }

    pub async fn cancel(
        &self,
        req: &exam_protocol::SelfCancelRequest,
    ) -> Result<exam_domain::Booking, SyncError> {
        self.signed(
            Method::POST,
            paths::CANCEL,
            Some(req),
            Duration::from_secs(5),
        )
        .await
    }

    /// K9: the published reports of the person whose card is on the reader.
    pub async fn reports(
        &self,
        req: &exam_protocol::ReportsRequest,
    ) -> Result<exam_protocol::ReportsResponse, SyncError> {
        self.signed(
            Method::POST,
            paths::REPORTS,
            Some(req),
            Duration::from_secs(5),
        )
        .await
    }

    /// K9: one report's PDF (allowed longer: it may be megabytes).
    pub async fn report_pdf(
        &self,
        req: &exam_protocol::ReportPdfRequest,
    ) -> Result<exam_protocol::ReportPdf, SyncError> {
        self.signed(
            Method::POST,
            paths::REPORT_PDF,
            Some(req),
            Duration::from_secs(30),
        )
        .await
    }

    /// K16: the platform order for these bookings' unpaid items (the
    /// service computes the amount; the answer carries the QR content).
    pub async fn create_payment(
        &self,
        req: &exam_protocol::PaymentRequest,
    ) -> Result<exam_protocol::PaymentOrder, SyncError> {
        // The service may ask the platform a few times before it answers.
        self.signed(
            Method::POST,
            paths::PAYMENT,
            Some(req),
            Duration::from_secs(15),
        )
        .await
    }

    /// K16: the order's state now.
    pub async fn payment_state(
        &self,
        out_trade_no: &str,
    ) -> Result<exam_protocol::PaymentOrder, SyncError> {
        let req = exam_protocol::PaymentRef {
            out_trade_no: out_trade_no.to_string(),
        };
        self.signed(
            Method::POST,
            paths::PAYMENT_STATE,
            Some(&req),
            Duration::from_secs(5),
        )
        .await
    }

    /// K16: the patient left the pay screen: close the order (a payment
    /// made meanwhile shows in the answer's state).
    pub async fn cancel_payment(
        &self,
        out_trade_no: &str,
    ) -> Result<exam_protocol::PaymentOrder, SyncError> {
        let req = exam_protocol::PaymentRef {
            out_trade_no: out_trade_no.to_string(),
        };
        self.signed(
            Method::POST,
            paths::PAYMENT_CANCEL,
            Some(&req),
            Duration::from_secs(10),
        )
        .await
    }

    pub async fn heartbeat(&self, hb: &Heartbeat) -> Result<HeartbeatResponse, SyncError> {
        self.signed(
            Method::POST,
            paths::HEARTBEAT,
            Some(hb),
            Duration::from_secs(10),
        )
        .await
    }
}
