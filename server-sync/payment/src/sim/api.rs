//! HTTP layer of the simulator: merchant signature check, dispatch to the
//! ledger, fault injection, answer signing.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use sha1::{Digest, Sha1};

use super::Sim;
use super::notifier::{Event, enqueue};
use super::state::ApiErr;
use crate::bill::render_trade_bill;
use crate::crypto::{Authorization, MAX_SKEW_SECS, PlatformSigner};
use crate::model::{
    BillLocation, CloseRequest, CodeUrl, ErrorBody, NativeOrderRequest, RefundRequest,
};

pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/v3/{*rest}", any(v3))
        .route("/sim/pay", post(test_payer))
        .route("/sim/stats", get(stats))
        .with_state(sim)
}

/// What a v3 handler produced, before faults and signing.
enum Answer {
    Json(u16, String),
    NoContent,
    /// The bill file: not signed (as at the platform).
    File(Vec<u8>),
}

fn api_err(e: ApiErr) -> Answer {
    let body = serde_json::to_string(&ErrorBody {
        code: e.code.into(),
        message: e.message,
    })
    .unwrap_or_default();
    Answer::Json(e.status, body)
}

fn ok_json<T: serde::Serialize>(v: &T) -> Answer {
    Answer::Json(200, serde_json::to_string(v).unwrap_or_default())
}

fn query_param<'a>(q: &'a str, name: &str) -> Option<&'a str> {
    q.split('&').find_map(|kv| {
        kv.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v)
    })
}

fn bad(msg: &str) -> Answer {
    api_err(ApiErr {
        status: 400,
        code: "PARAM_ERROR",
        message: msg.into(),
    })
}

async fn v3(
    State(sim): State<Arc<Sim>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pq = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return plain(400, "PARAM_ERROR", "body is not UTF-8");
    };
    // The merchant's signature, over exactly what was sent.
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(Authorization::parse);
    let now = Utc::now().timestamp();
    let signed_ok = auth.as_ref().is_some_and(|a| {
        a.mchid == sim.keys.id.mchid
            && a.serial_no == sim.keys.id.merchant_serial_no
            && (now - a.timestamp).abs() <= MAX_SKEW_SECS
            && a.verify(&sim.keys.merchant_public(), method.as_str(), &pq, &body)
    });
    if !signed_ok {
        sim.stat(|s| s.auth_failures += 1);
        return plain(401, "SIGN_ERROR", "merchant signature missing or invalid");
    }

    let f = &sim.cfg.faults;
    let server_error = sim.chance(f.server_error);
    if server_error && sim.chance(0.5) {
        sim.stat(|s| s.faults_server_error += 1);
        return plain(500, "SYSTEM_ERROR", "simulated failure before processing");
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let answer = dispatch(&sim, &method, &path, &query, &body, &host);
    if server_error {
        sim.stat(|s| s.faults_server_error += 1);
        return plain(500, "SYSTEM_ERROR", "simulated failure after processing");
    }
    if sim.chance(f.timeout) {
        sim.stat(|s| s.faults_timeout += 1);
        tokio::time::sleep(sim.cfg.timeout_delay).await;
    }
    let bad_sig = sim.chance(f.bad_signature);
    if bad_sig {
        sim.stat(|s| s.faults_bad_signature += 1);
    }
    sign(&sim, answer, bad_sig)
}

fn plain(status: u16, code: &str, message: &str) -> Response {
    let body = serde_json::to_string(&ErrorBody {
        code: code.into(),
        message: message.into(),
    })
    .unwrap_or_default();
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
        .into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn sign(sim: &Sim, answer: Answer, corrupt: bool) -> Response {
    let (status, body, ctype) = match answer {
        Answer::File(bytes) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/octet-stream"),
            );
            return r;
        }
        Answer::NoContent => (204, String::new(), None),
        Answer::Json(s, b) => (s, b, Some("application/json")),
    };
    let signer = PlatformSigner::new(
        sim.keys.id.platform_key_id.clone(),
        sim.keys.platform_key.clone(),
    );
    let mut h = signer.sign(&body, Utc::now().timestamp());
    if corrupt {
        // Signed over something else: well-formed, but does not verify.
        h = signer.sign(&format!("{body} "), Utc::now().timestamp());
    }
    let mut r = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
    let hm = r.headers_mut();
    if let Some(c) = ctype {
        hm.insert("content-type", HeaderValue::from_static(c));
    }
    for (k, v) in [
        ("wechatpay-timestamp", h.timestamp),
        ("wechatpay-nonce", h.nonce),
        ("wechatpay-signature", h.signature),
        ("wechatpay-serial", h.serial),
        (
            "wechatpay-signature-type",
            h.signature_type.unwrap_or_default(),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            hm.insert(k, v);
        }
    }
    r
}

fn dispatch(
    sim: &Arc<Sim>,
    method: &Method,
    path: &str,
    query: &str,
    body: &str,
    host: &str,
) -> Answer {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let now = Utc::now();
    let id = &sim.keys.id;
    match (method.as_str(), segs.as_slice()) {
        ("POST", ["v3", "pay", "transactions", "native"]) => {
            let Ok(req) = serde_json::from_str::<NativeOrderRequest>(body) else {
                return bad("body is not a native order");
            };
            let r = sim.ledger().create_native(req, &id.mchid, &id.appid);
            match r {
                Ok(code_url) => {
                    sim.stat(|s| s.orders += 1);
                    ok_json(&CodeUrl { code_url })
                }
                Err(e) => api_err(e),
            }
        }
        ("GET", ["v3", "pay", "transactions", "out-trade-no", no]) => {
            if query_param(query, "mchid") != Some(id.mchid.as_str()) {
                return bad("mchid query parameter missing or wrong");
            }
            match sim.ledger().transaction(no) {
                Ok(t) => ok_json(&t),
                Err(e) => api_err(e),
            }
        }
        ("POST", ["v3", "pay", "transactions", "out-trade-no", no, "close"]) => {
            match serde_json::from_str::<CloseRequest>(body) {
                Ok(c) if c.mchid == id.mchid => {}
                _ => return bad("body must be {\"mchid\": ...} of this merchant"),
            }
            match sim.ledger().close(no) {
                Ok(()) => Answer::NoContent,
                Err(e) => api_err(e),
            }
        }
        ("POST", ["v3", "refund", "domestic", "refunds"]) => {
            let Ok(req) = serde_json::from_str::<RefundRequest>(body) else {
                return bad("body is not a refund request");
            };
            let rno = req.out_refund_no.clone();
            let r = sim.ledger().create_refund(req, None, now);
            match r {
                Ok(refund) => {
                    sim.stat(|s| s.refunds += 1);
                    schedule_refund(sim.clone(), rno);
                    ok_json(&refund)
                }
                Err(e) => api_err(e),
            }
        }
        ("GET", ["v3", "refund", "domestic", "refunds", rno]) => match sim.ledger().refund(rno) {
            Ok(r) => ok_json(&r),
            Err(e) => api_err(e),
        },
        ("GET", ["v3", "bill", "tradebill"]) => {
            let Some(day) = query_param(query, "bill_date")
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                return bad("bill_date must be yyyy-MM-dd");
            };
            if query_param(query, "bill_type").is_some_and(|t| t != "ALL") {
                return bad("the simulator writes bill_type=ALL only");
            }
            if query_param(query, "tar_type").is_some() {
                return bad("the simulator serves the bill uncompressed (no tar_type)");
            }
            let mut l = sim.ledger();
            let text = render_trade_bill(&l.bill_rows(day));
            let hash = hex::encode(Sha1::digest(text.as_bytes()));
            let token = l.token();
            l.bills.insert(token.clone(), text.into_bytes());
            ok_json(&BillLocation {
                hash_type: "SHA1".into(),
                hash_value: hash,
                download_url: format!("http://{host}/v3/billdownload/file?token={token}"),
            })
        }
        ("GET", ["v3", "billdownload", "file"]) => {
            let token = query_param(query, "token").unwrap_or("");
            match sim.ledger().bills.get(token) {
                Some(b) => Answer::File(b.clone()),
                None => api_err(ApiErr {
                    status: 404,
                    code: "RESOURCE_NOT_EXISTS",
                    message: "no such bill".into(),
                }),
            }
        }
        _ => api_err(ApiErr {
            status: 404,
            code: "RESOURCE_NOT_EXISTS",
            message: format!("{method} {path} not served"),
        }),
    }
}

fn schedule_refund(sim: Arc<Sim>, rno: String) {
    tokio::spawn(async move {
        tokio::time::sleep(sim.cfg.refund_delay).await;
        let done = sim.ledger().complete_refund(&rno, Utc::now());
        if let Some((notice, url)) = done {
            enqueue(sim.clone(), Event::refund(notice, url));
        }
    });
}

#[derive(Deserialize)]
struct PayRequest {
    code_url: String,
    amount: Option<u64>,
    openid: Option<String>,
}

/// The test payer: pays an order by its QR content, as a phone would.
async fn test_payer(
    State(sim): State<Arc<Sim>>,
    axum::Json(p): axum::Json<PayRequest>,
) -> Response {
    let amount = match p.amount {
        Some(a) => Some(a),
        None if sim.chance(sim.cfg.faults.amount_mismatch) => {
            let l = sim.ledger();
            l.by_code
                .get(&p.code_url)
                .and_then(|no| l.orders.get(no))
                .map(|o| o.req.amount.total + 1)
        }
        None => None,
    };
    let openid = p
        .openid
        .unwrap_or_else(|| "oSIMPAYER0000000000000000001".into());
    let r = sim.ledger().pay(&p.code_url, amount, &openid, Utc::now());
    match r {
        Ok(t) => {
            sim.stat(|s| s.payments += 1);
            let notify_url = sim
                .ledger()
                .orders
                .get(&t.out_trade_no)
                .map(|o| o.req.notify_url.clone())
                .unwrap_or_default();
            enqueue(sim.clone(), Event::payment(&t, notify_url));
            (StatusCode::OK, axum::Json(t)).into_response()
        }
        Err(e) => plain(e.status, e.code, &e.message),
    }
}

async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(sim.stats()).into_response()
}
