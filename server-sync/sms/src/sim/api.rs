//! HTTP layer of the simulator: the TC3 check, the actions, the faults.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;

use super::Sim;
use super::state::{SimMessage, SimReport};
use crate::model::{
    ApiError, Envelope, PullSmsSendStatusRequest, ReportStatus, Response as ApiResponse,
    SendSmsRequest, SendStatus, e164_cn,
};
use crate::tc3::{Signed, verify};

pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/", post(api))
        .route("/sim/messages", get(messages))
        .route("/sim/stats", get(stats))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(sim)
}

async fn messages(State(sim): State<Arc<Sim>>) -> Json<Vec<SimMessage>> {
    Json(sim.messages())
}

async fn stats(State(sim): State<Arc<Sim>>) -> Json<super::SimStats> {
    Json(sim.stats())
}

fn request_id() -> String {
    let b: [u8; 16] =
        std::array::from_fn(|i| (Utc::now().timestamp_subsec_nanos() >> (i % 4)) as u8 ^ i as u8);
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn answer(r: ApiResponse) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        serde_json::to_string(&Envelope { response: r }).unwrap_or_default(),
    )
        .into_response()
}

fn error(code: &str, message: &str) -> Response {
    answer(ApiResponse {
        error: Some(ApiError {
            code: code.into(),
            message: message.into(),
        }),
        send_status_set: None,
        pull_sms_send_status_set: None,
        request_id: request_id(),
    })
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn api(State(sim): State<Arc<Sim>>, h: HeaderMap, body: Bytes) -> Response {
    sim.stat(|s| s.requests += 1);
    let Ok(timestamp) = header(&h, "x-tc-timestamp").parse::<i64>() else {
        return error("MissingParameter", "X-TC-Timestamp");
    };
    let signed = Signed {
        method: "POST",
        content_type: header(&h, "content-type"),
        host: header(&h, "host"),
        query: "",
        body: &body,
        timestamp,
        service: crate::SERVICE,
    };
    let cfg = sim.config();
    let key_of = |id: &str| (id == cfg.secret_id).then(|| cfg.secret_key.clone());
    if let Err(e) = verify(
        header(&h, "authorization"),
        &signed,
        key_of,
        Utc::now().timestamp(),
    ) {
        sim.stat(|s| s.auth_failures += 1);
        return error(e.code(), &e.to_string());
    }
    if header(&h, "x-tc-version") != crate::API_VERSION {
        return error("NoSuchVersion", "the SMS API is version 2021-01-11");
    }
    if sim.chance(cfg.faults.server_error) {
        sim.stat(|s| s.faults_server_error += 1);
        return (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response();
    }
    if sim.chance(cfg.faults.internal_error) {
        sim.stat(|s| s.faults_internal_error += 1);
        return error("InternalError.Timeout", "internal timeout, please retry");
    }
    match header(&h, "x-tc-action") {
        "SendSms" => match serde_json::from_slice::<SendSmsRequest>(&body) {
            Ok(req) => send(&sim, req).await,
            Err(e) => error("InvalidParameter", &format!("body: {e}")),
        },
        "PullSmsSendStatus" => match serde_json::from_slice::<PullSmsSendStatusRequest>(&body) {
            Ok(req) => pull(&sim, req),
            Err(e) => error("InvalidParameter", &format!("body: {e}")),
        },
        "PullSmsSendStatusByPhoneNumber" => {
            match serde_json::from_slice::<crate::model::PullByPhoneRequest>(&body) {
                Ok(req) => pull_by_phone(&sim, req),
                Err(e) => error("InvalidParameter", &format!("body: {e}")),
            }
        }
        other => error("InvalidAction", &format!("no action {other:?}")),
    }
}

async fn send(sim: &Arc<Sim>, req: SendSmsRequest) -> Response {
    let cfg = sim.config();
    if req.sms_sdk_app_id != cfg.sdk_app_id {
        return error("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId");
    }
    if req.sign_name.trim().is_empty() {
        return error("FailedOperation.SignatureIncorrectOrUnapproved", "SignName");
    }
    let known = match cfg.templates.get(&req.template_id) {
        Some(n) => *n == req.template_param_set.len(),
        None => {
            cfg.templates.is_empty()
                && !req.template_id.is_empty()
                && req.template_id.bytes().all(|b| b.is_ascii_digit())
        }
    };
    if !known {
        return error(
            "FailedOperation.TemplateIncorrectOrUnapproved",
            "TemplateId / TemplateParamSet",
        );
    }
    if req.phone_number_set.is_empty() || req.phone_number_set.len() > 200 {
        return error("LimitExceeded.PhoneNumberCountLimit", "1 to 200 numbers");
    }
    let now = Utc::now();
    let late = sim.chance(cfg.faults.timeout);
    let mut set = Vec::new();
    for phone in &req.phone_number_set {
        let status = |code: &str, message: &str, serial: String| SendStatus {
            serial_no: serial,
            phone_number: phone.clone(),
            fee: u32::from(code == "Ok"),
            session_context: req.session_context.clone(),
            code: code.into(),
            message: message.into(),
            iso_code: "CN".into(),
        };
        if e164_cn(phone).as_deref() != Ok(phone.as_str()) {
            sim.stat(|s| s.refused += 1);
            set.push(status(
                "InvalidParameterValue.IncorrectPhoneNumber",
                "invalid number",
                String::new(),
            ));
            continue;
        }
        if sim.chance(cfg.faults.limit) {
            sim.stat(|s| (s.faults_limit += 1, s.refused += 1).0);
            set.push(status(
                "LimitExceeded.PhoneNumberDailyLimit",
                "daily limit",
                String::new(),
            ));
            continue;
        }
        let mut books = sim.books();
        if let Some(hit) = books.limit(phone, now) {
            sim.stat(|s| s.refused += 1);
            set.push(status(hit.code(), "per-number limit", String::new()));
            continue;
        }
        let serial = books.serial();
        let lost = sim.chance(cfg.faults.report_lost);
        let fail = sim.chance(cfg.faults.delivery_fail);
        let twice = !lost && sim.chance(cfg.faults.report_duplicate);
        let report_status = if fail {
            ReportStatus::Fail
        } else {
            ReportStatus::Success
        };
        books.messages.push(SimMessage {
            serial_no: serial.clone(),
            phone: phone.clone(),
            template_id: req.template_id.clone(),
            params: req.template_param_set.clone(),
            sign_name: req.sign_name.clone(),
            session_context: req.session_context.clone(),
            sent_at: now,
            report: (!lost).then_some(report_status),
            answered_late: late,
        });
        let report = SimReport {
            serial_no: serial.clone(),
            phone: phone.clone(),
            status: report_status,
            session_context: req.session_context.clone(),
            due: now + chrono::Duration::from_std(cfg.report_delay).unwrap_or_default(),
        };
        if lost {
            sim.stat(|s| s.reports_lost += 1);
        } else {
            sim.stat(|s| s.reports_made += 1);
            if twice {
                sim.stat(|s| s.reports_duplicated += 1);
                books.reports.push(report.clone());
            }
            books.reports.push(report);
        }
        drop(books);
        sim.stat(|s| s.sent += 1);
        set.push(status("Ok", "send success", serial));
    }
    if late {
        sim.stat(|s| s.faults_timeout += 1);
        tokio::time::sleep(cfg.timeout_delay).await;
    }
    answer(ApiResponse {
        error: None,
        send_status_set: Some(set),
        pull_sms_send_status_set: None,
        request_id: request_id(),
    })
}

fn pull(sim: &Arc<Sim>, req: PullSmsSendStatusRequest) -> Response {
    if req.sms_sdk_app_id != sim.config().sdk_app_id {
        return error("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId");
    }
    if !(1..=100).contains(&req.limit) {
        return error("InvalidParameterValue", "Limit is 1 to 100");
    }
    // Reports go one way: pushed when a callback is set, else pulled.
    if sim.callback_url().is_some() {
        return answer(ApiResponse {
            error: None,
            send_status_set: None,
            pull_sms_send_status_set: Some(vec![]),
            request_id: request_id(),
        });
    }
    let due = sim.books().take_due(Utc::now(), req.limit as usize);
    sim.stat(|s| s.reports_pulled += due.len() as u64);
    answer(ApiResponse {
        error: None,
        send_status_set: None,
        pull_sms_send_status_set: Some(due.iter().map(SimReport::pulled).collect()),
        request_id: request_id(),
    })
}

/// One number's reports made by now in [BeginTime, EndTime], pulled before
/// or not; lost reports stay lost.
fn pull_by_phone(sim: &Arc<Sim>, req: crate::model::PullByPhoneRequest) -> Response {
    if req.sms_sdk_app_id != sim.config().sdk_app_id {
        return error("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId");
    }
    if !(1..=100).contains(&req.limit) {
        return error("InvalidParameterValue", "Limit is 1 to 100");
    }
    let now = Utc::now();
    let delay = chrono::Duration::from_std(sim.config().report_delay).unwrap_or_default();
    let end = req
        .end_time
        .map_or(i64::MAX, |t| i64::try_from(t).unwrap_or(i64::MAX));
    let begin = i64::try_from(req.begin_time).unwrap_or(i64::MAX);
    let set: Vec<_> = sim
        .books()
        .messages
        .iter()
        .filter(|m| m.phone == req.phone_number)
        .filter(|m| (begin..=end).contains(&m.sent_at.timestamp()) && m.sent_at + delay <= now)
        .filter_map(|m| {
            m.report.map(|status| {
                SimReport {
                    serial_no: m.serial_no.clone(),
                    phone: m.phone.clone(),
                    status,
                    session_context: m.session_context.clone(),
                    due: m.sent_at + delay,
                }
                .pulled()
            })
        })
        .skip(req.offset as usize)
        .take(req.limit as usize)
        .collect();
    answer(ApiResponse {
        error: None,
        send_status_set: None,
        pull_sms_send_status_set: Some(set),
        request_id: request_id(),
    })
}
