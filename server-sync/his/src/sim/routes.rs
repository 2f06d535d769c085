//! One connection: read the request, route it, let the fault plan decide,
//! apply it to the books, answer in the request's style.

use std::sync::Arc;

use serde::Serialize;
use tokio::net::TcpStream;

use super::faults::{Decision, FaultConfig};
use super::http::{Request, Response, read_request, write_response};
use super::{Inner, lock};
use crate::error::FaultCode;
use crate::model::{ChargeLookup, IdempotencyKey};
use crate::rest::{ErrorBody, IDEMPOTENCY_HEADER};
use crate::soap::{self, SoapFault, SoapRequest, SoapResponse, WSDL, WSDL_ADDRESS_PLACEHOLDER};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Soap,
    Rest,
}

pub(crate) async fn serve(inner: Arc<Inner>, mut stream: TcpStream) {
    let req = match read_request(&mut stream).await {
        Ok(r) => r,
        Err(bad) => {
            if let Some(status) = bad.status {
                write_response(&mut stream, &Response::text(status, "bad request")).await;
            }
            return;
        }
    };
    if let Some(resp) = control(&inner, &req) {
        write_response(&mut stream, &resp).await;
        return;
    }
    let (style, op) = match parse_operation(&req) {
        Ok(found) => found,
        Err(resp) => {
            write_response(&mut stream, &resp).await;
            return;
        }
    };
    if inner.down() {
        tracing::info!(op = ?op.operation(), "outage: connection closed unanswered");
        return;
    }
    inner.apply_due_price_change();
    let decision = lock(&inner.plan).decide(op.operation());
    tracing::info!(op = ?op.operation(), ?style, ?decision, "his-sim request");
    let answer = match decision {
        Decision::Normal => apply(&inner, &op),
        Decision::Slow(d) => {
            tokio::time::sleep(d).await;
            apply(&inner, &op)
        }
        Decision::Hang { applied, hold } => {
            if applied {
                let _ = apply(&inner, &op);
            }
            tokio::time::sleep(hold).await;
            return;
        }
        Decision::Drop { applied } => {
            if applied {
                let _ = apply(&inner, &op);
            }
            return;
        }
        Decision::ServerError { status } => {
            let page = format!("<html><body><h1>{status}</h1>upstream error</body></html>");
            write_response(&mut stream, &Response::new(status, "text/html", page)).await;
            return;
        }
        Decision::Busy => Err(SoapFault {
            code: FaultCode::Busy,
            message: "HIS is busy, try again later".into(),
        }),
        Decision::WrongDemographics => {
            if let SoapRequest::CreatePatient(d) = &op {
                lock(&inner.state).plant_wrong_demographics(d);
            }
            apply(&inner, &op)
        }
    };
    let resp = match style {
        Style::Soap => soap_answer(answer),
        Style::Rest => rest_answer(answer),
    };
    write_response(&mut stream, &resp).await;
}

fn apply(inner: &Inner, op: &SoapRequest) -> Result<SoapResponse, SoapFault> {
    lock(&inner.state)
        .apply(op, super::now())
        .map_err(|r| SoapFault {
            code: r.code,
            message: r.message,
        })
}

fn soap_answer(answer: Result<SoapResponse, SoapFault>) -> Response {
    match answer {
        Ok(resp) => Response::new(200, "text/xml; charset=utf-8", soap::encode_response(&resp)),
        // SOAP 1.1 over HTTP: every fault is a 500.
        Err(fault) => Response::new(500, "text/xml; charset=utf-8", soap::encode_fault(&fault)),
    }
}

fn json(status: u16, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::new(status, "application/json", body)
}

fn rest_status(code: FaultCode) -> u16 {
    match code {
        FaultCode::InvalidRequest => 400,
        FaultCode::UnknownPatient | FaultCode::UnknownRegistration | FaultCode::UnknownCharge => {
            404
        }
        FaultCode::UnknownItem => 422,
        FaultCode::DemographicsMismatch
        | FaultCode::PriceMismatch
        | FaultCode::AlreadyRefunded
        | FaultCode::KeyReused => 409,
        FaultCode::Busy => 503,
        FaultCode::Internal => 500,
    }
}

fn rest_error(code: FaultCode, message: String) -> Response {
    json(
        rest_status(code),
        &ErrorBody {
            code,
            message,
            retryable: !code.is_client_fault(),
        },
    )
}

fn rest_answer(answer: Result<SoapResponse, SoapFault>) -> Response {
    match answer {
        Ok(SoapResponse::CreatePatient(r)) => json(200, &r),
        Ok(SoapResponse::RegisterVisit(r)) => json(200, &r),
        Ok(SoapResponse::PostCharge(r)) => json(200, &r),
        Ok(SoapResponse::QueryCharge(ChargeLookup::Found(r))) => json(200, &r),
        Ok(SoapResponse::QueryCharge(ChargeLookup::NotFound)) => {
            rest_error(FaultCode::UnknownCharge, "no charge under that key".into())
        }
        Ok(SoapResponse::RefundCharge(r)) => json(200, &r),
        Ok(SoapResponse::GetPriceList(r)) => json(200, &r),
        Ok(SoapResponse::GetPriceChanges(r)) => json(200, &r),
        Err(fault) => rest_error(fault.code, fault.message),
    }
}

/// The operation a request asks for, or the answer to a request that asks
/// for none (WSDL, unknown path, unreadable body).
fn parse_operation(req: &Request) -> Result<(Style, SoapRequest), Response> {
    if req.path == "/his/soap" {
        if req.method == "GET" && req.query.eq_ignore_ascii_case("wsdl") {
            let host = req.header("host").unwrap_or("localhost");
            let wsdl = WSDL.replace(WSDL_ADDRESS_PLACEHOLDER, &format!("http://{host}/his/soap"));
            return Err(Response::new(200, "text/xml; charset=utf-8", wsdl));
        }
        if req.method != "POST" {
            return Err(Response::text(405, "POST a SOAP envelope, or GET ?wsdl"));
        }
        return match soap::decode_request(&req.body) {
            Ok(op) => Ok((Style::Soap, op)),
            Err(e) => Err(soap_answer(Err(SoapFault {
                code: FaultCode::InvalidRequest,
                message: e.to_string(),
            }))),
        };
    }
    let Some(rest) = req.path.strip_prefix("/his/api/v1/") else {
        return Err(Response::text(404, "not found"));
    };
    let bad = |m: String| rest_error(FaultCode::InvalidRequest, m);
    fn body<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, Response> {
        serde_json::from_slice(&req.body)
            .map_err(|e| rest_error(FaultCode::InvalidRequest, e.to_string()))
    }
    // The header is the key; a body that names another one is refused.
    let keyed = |key: &IdempotencyKey| match req.header(IDEMPOTENCY_HEADER) {
        Some(h) if h == key.as_str() => Ok(()),
        Some(_) => Err(bad("Idempotency-Key differs from the body's key".into())),
        None => Err(bad("Idempotency-Key header missing".into())),
    };
    let op = match (req.method.as_str(), rest) {
        ("POST", "patients") => SoapRequest::CreatePatient(body(req)?),
        ("POST", "registrations") => {
            let r: crate::model::RegistrationRequest = body(req)?;
            keyed(&r.idempotency_key)?;
            SoapRequest::RegisterVisit(r)
        }
        ("POST", "charges") => {
            let c: crate::model::ChargeRequest = body(req)?;
            keyed(&c.idempotency_key)?;
            SoapRequest::PostCharge(c)
        }
        ("POST", "refunds") => {
            let r: crate::model::RefundRequest = body(req)?;
            keyed(&r.idempotency_key)?;
            SoapRequest::RefundCharge(r)
        }
        ("GET", "prices") => SoapRequest::GetPriceList,
        ("GET", "prices/changes") => {
            let since = req
                .query
                .split('&')
                .find_map(|p| p.strip_prefix("since="))
                .unwrap_or("0");
            SoapRequest::GetPriceChanges {
                since_version: since.parse().map_err(|_| bad("since: a version".into()))?,
            }
        }
        ("GET", path) if path.starts_with("charges/") => {
            let key =
                IdempotencyKey::new(&path["charges/".len()..]).map_err(|e| bad(e.to_string()))?;
            SoapRequest::QueryCharge(key)
        }
        _ => return Err(Response::text(404, "not found")),
    };
    Ok((Style::Rest, op))
}

/// The test's controls; `None` when the request is not one.
fn control(inner: &Inner, req: &Request) -> Option<Response> {
    let rest = req.path.strip_prefix("/sim/")?;
    Some(match (req.method.as_str(), rest) {
        ("GET", "bookings") => json(200, &lock(&inner.state).bookings()),
        ("POST", "outage") => {
            let on = req.query.split('&').any(|p| p == "on=true");
            inner.outage.store(on, std::sync::atomic::Ordering::SeqCst);
            json(200, &serde_json::json!({ "outage": on }))
        }
        ("POST", "faults") => match serde_json::from_slice::<FaultConfig>(&req.body) {
            Ok(config) => {
                *lock(&inner.plan) = super::FaultPlan::new(config);
                json(200, &serde_json::json!({ "faults": "set" }))
            }
            Err(e) => Response::text(400, &e.to_string()),
        },
        ("POST", "price-change") => {
            lock(&inner.state).scheduled_change(super::now());
            json(200, lock(&inner.state).price_list())
        }
        _ => Response::text(404, "not found"),
    })
}
