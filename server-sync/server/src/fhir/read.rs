//! The read and search handlers. Each takes [`ApiCaller`] first (token,
//! source, scope and rate checked before anything is read), answers from
//! the store through `map`, and writes its audit rows before answering:
//! one `fhir.read` / `fhir.search` row per person whose data is in the
//! answer (subject `person:<key>`, so the auditor finds every read of a
//! person), or one row without a subject when nothing matched. A read
//! whose rows cannot be written is not answered (503).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use exam_domain::IdNumber;
use serde::Serialize;

use super::map::{self, BOOKING_CODE_SYSTEM, EXAM_NO_SYSTEM, ID_NUMBER_SYSTEM};
use super::scope::ResourceType;
use super::search::{self, Search, SearchError};
use super::{ApiCaller, base_url, fhir_json, outcome, store_down};
use crate::AppState;
use crate::audit::{AuditEvent, Category, mask_ids};
use crate::db::{SEARCH_CAP, VisitFilter};

type Answer = Result<Response, Response>;

fn finish(a: Answer) -> Response {
    a.unwrap_or_else(|r| r)
}

fn bad_search(e: SearchError) -> Response {
    match e {
        SearchError::Invalid(m) => outcome(StatusCode::BAD_REQUEST, "invalid", m),
        SearchError::NotSupported(m) => outcome(StatusCode::BAD_REQUEST, "not-supported", m),
        SearchError::NotAcceptable => outcome(
            StatusCode::NOT_ACCEPTABLE,
            "not-supported",
            SearchError::NotAcceptable.to_string(),
        ),
    }
}

fn not_found(r: &str, id: &str) -> Response {
    outcome(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("{r}/{id} is not known here"),
    )
}

/// Writes the audit rows of an answer about `people` (person keys).
async fn audit(
    st: &AppState,
    caller: &ApiCaller,
    action: &str,
    people: &[&str],
    detail: String,
) -> Result<(), Response> {
    let detail = mask_ids(&detail);
    let base = AuditEvent::new(Category::Access, caller.actor(), action).detail(detail);
    let mut keys: Vec<&str> = people.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let events: Vec<AuditEvent> = if keys.is_empty() {
        vec![base]
    } else {
        keys.iter()
            .map(|k| base.clone().subject(format!("person:{k}")))
            .collect()
    };
    st.db.audit_events(&events).await.map_err(store_down)
}

fn parse(r: ResourceType, q: &Option<String>) -> Result<Search, SearchError> {
    search::parse(r, q.as_deref().unwrap_or(""))
}

/// The store's filter for a visit-based search; an identifier of another
/// system than `systems` matches nothing (None).
fn visit_filter(s: &Search, systems: &[&str]) -> Option<VisitFilter> {
    let code = match &s.identifier {
        None => None,
        Some((Some(sys), _)) if !systems.contains(&sys.as_str()) => return None,
        Some((_, v)) => Some(v.clone()),
    };
    Some(VisitFilter {
        person_key: s.patient.clone(),
        code,
        from: s.date.from,
        to: s.date.to,
        item_code: s.code.clone(),
        ..VisitFilter::default()
    })
}

/// The refusal of a search that matched more than the store reads.
fn too_many<T>(rows: &[T]) -> Option<Response> {
    (rows.len() > SEARCH_CAP).then(|| {
        outcome(
            StatusCode::BAD_REQUEST,
            "too-costly",
            format!("more than {SEARCH_CAP} matches: narrow the dates or name a patient"),
        )
    })
}

/// Pages `all` (id, person key, resource), audits the page and answers
/// the Bundle.
async fn answer_search<T: Serialize>(
    st: &AppState,
    caller: &ApiCaller,
    headers: &HeaderMap,
    s: &Search,
    all: Vec<(String, String, T)>,
) -> Answer {
    let total = all.len();
    let page: Vec<(String, String, T)> = all
        .into_iter()
        .skip(s.paging.offset)
        .take(s.paging.count)
        .collect();
    let people: Vec<&str> = page.iter().map(|(_, k, _)| k.as_str()).collect();
    let query = s
        .kept
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    audit(
        st,
        caller,
        "fhir.search",
        &people,
        format!(
            "{} search {query}: {} shown of {total}",
            s.resource.as_str(),
            page.len()
        ),
    )
    .await?;
    let base = base_url(st, headers);
    let entries = page.into_iter().map(|(id, _, r)| (id, r)).collect();
    Ok(fhir_json(
        StatusCode::OK,
        &map::bundle(&base, s, total, entries),
    ))
}

pub async fn search_patients(
    caller: ApiCaller,
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    finish(
        async {
            let s = parse(ResourceType::Patient, &q).map_err(bad_search)?;
            let mut key = s.id.clone();
            if let Some((system, value)) = &s.identifier {
                let by_number = match system.as_deref() {
                    None | Some(ID_NUMBER_SYSTEM) => IdNumber::parse(value)
                        .ok()
                        .map(|n| st.db.fhir_patient_key(&n)),
                    Some(_) => None,
                };
                key = match (key, by_number) {
                    (None, k) => k,
                    (Some(a), Some(b)) if a == b => Some(a),
                    // Both given and different, or an identifier that
                    // names nobody here: no match.
                    _ => None,
                };
                if key.is_none() {
                    let none: Vec<(String, String, super::model::Patient)> = Vec::new();
                    return answer_search(&st, &caller, &headers, &s, none).await;
                }
            }
            let found = match key {
                Some(k) => st.db.fhir_patient(&k).await.map_err(store_down)?,
                None => None,
            };
            let all = found
                .map(|p| {
                    let r = map::patient(&p, caller.client.identity);
                    (p.key.clone(), p.key, r)
                })
                .into_iter()
                .collect();
            answer_search(&st, &caller, &headers, &s, all).await
        }
        .await,
    )
}

pub async fn read_patient(
    caller: ApiCaller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    finish(
        async {
            let found = if search::valid_id(&id) {
                st.db.fhir_patient(&id).await.map_err(store_down)?
            } else {
                None
            };
            let Some(p) = found else {
                audit(
                    &st,
                    &caller,
                    "fhir.read",
                    &[],
                    format!("Patient/{id}: not found"),
                )
                .await?;
                return Ok(not_found("Patient", &id));
            };
            audit(
                &st,
                &caller,
                "fhir.read",
                &[&p.key],
                format!("Patient/{id}"),
            )
            .await?;
            Ok(fhir_json(
                StatusCode::OK,
                &map::patient(&p, caller.client.identity),
            ))
        }
        .await,
    )
}

pub async fn search_appointments(
    caller: ApiCaller,
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    finish(
        async {
            let s = parse(ResourceType::Appointment, &q).map_err(bad_search)?;
            let rows = match visit_filter(&s, &[BOOKING_CODE_SYSTEM, EXAM_NO_SYSTEM]) {
                Some(f) => st.db.fhir_appointments(&f).await.map_err(store_down)?,
                None => vec![],
            };
            if let Some(r) = too_many(&rows) {
                return Err(r);
            }
            let all = rows
                .iter()
                .map(|r| (r.id.to_string(), r.person_key.clone(), map::appointment(r)))
                .filter(|(_, _, a)| s.status.is_empty() || s.status.contains(&a.status))
                .collect();
            answer_search(&st, &caller, &headers, &s, all).await
        }
        .await,
    )
}

pub async fn read_appointment(
    caller: ApiCaller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    finish(
        async {
            let rows = match id.parse::<i64>() {
                Ok(n) => {
                    let f = VisitFilter {
                        booking_id: Some(n),
                        ..VisitFilter::default()
                    };
                    st.db.fhir_appointments(&f).await.map_err(store_down)?
                }
                Err(_) => vec![],
            };
            let Some(a) = rows.first() else {
                audit(
                    &st,
                    &caller,
                    "fhir.read",
                    &[],
                    format!("Appointment/{id}: not found"),
                )
                .await?;
                return Ok(not_found("Appointment", &id));
            };
            audit(
                &st,
                &caller,
                "fhir.read",
                &[&a.person_key],
                format!("Appointment/{id}"),
            )
            .await?;
            Ok(fhir_json(StatusCode::OK, &map::appointment(a)))
        }
        .await,
    )
}

pub async fn search_requests(
    caller: ApiCaller,
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    finish(
        async {
            let s = parse(ResourceType::ServiceRequest, &q).map_err(bad_search)?;
            let rows = match visit_filter(&s, &[EXAM_NO_SYSTEM]) {
                Some(f) => st.db.fhir_requests(&f).await.map_err(store_down)?,
                None => vec![],
            };
            if let Some(r) = too_many(&rows) {
                return Err(r);
            }
            let cat = st.catalogue.get();
            let all = rows
                .iter()
                .map(|r| {
                    let name = cat.item(&r.item_code).map(|i| i.name.as_str());
                    let sr = map::service_request(r, name);
                    (sr.id.clone(), r.person_key.clone(), sr)
                })
                .filter(|(_, _, sr)| s.status.is_empty() || s.status.contains(&sr.status))
                .collect();
            answer_search(&st, &caller, &headers, &s, all).await
        }
        .await,
    )
}

pub async fn read_request(
    caller: ApiCaller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    finish(
        async {
            let rows = match map::parse_request_id(&id) {
                Some((booking, code)) => {
                    let f = VisitFilter {
                        booking_id: Some(booking),
                        item_code: Some(code),
                        ..VisitFilter::default()
                    };
                    st.db.fhir_requests(&f).await.map_err(store_down)?
                }
                None => vec![],
            };
            let Some(r) = rows.first() else {
                audit(
                    &st,
                    &caller,
                    "fhir.read",
                    &[],
                    format!("ServiceRequest/{id}: not found"),
                )
                .await?;
                return Ok(not_found("ServiceRequest", &id));
            };
            audit(
                &st,
                &caller,
                "fhir.read",
                &[&r.person_key],
                format!("ServiceRequest/{id}"),
            )
            .await?;
            let cat = st.catalogue.get();
            let name = cat.item(&r.item_code).map(|i| i.name.as_str());
            Ok(fhir_json(StatusCode::OK, &map::service_request(r, name)))
        }
        .await,
    )
}

/// Results are not recorded by this service yet: the search is checked
/// and audited like any other and answers a real, empty searchset.
pub async fn search_observations(
    caller: ApiCaller,
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    finish(
        async {
            let s = parse(ResourceType::Observation, &q).map_err(bad_search)?;
            answer_search::<super::model::Patient>(&st, &caller, &headers, &s, Vec::new()).await
        }
        .await,
    )
}

pub async fn read_observation(
    caller: ApiCaller,
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    finish(
        async {
            audit(
                &st,
                &caller,
                "fhir.read",
                &[],
                format!("Observation/{id}: not found"),
            )
            .await?;
            Ok(not_found("Observation", &id))
        }
        .await,
    )
}

pub async fn search_reports(
    caller: ApiCaller,
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    finish(
        async {
            let s = parse(ResourceType::DiagnosticReport, &q).map_err(bad_search)?;
            let rows = match visit_filter(&s, &[]) {
                Some(f) => st.db.fhir_reports(&f).await.map_err(store_down)?,
                None => vec![],
            };
            if let Some(r) = too_many(&rows) {
                return Err(r);
            }
            let base = base_url(&st, &headers);
            let all = rows
                .iter()
                .map(|r| {
                    let d = map::diagnostic_report(r, &base);
                    (d.id.clone(), r.person_key.clone(), d)
                })
                .filter(|(_, _, d)| s.status.is_empty() || s.status.contains(&d.status))
                .collect();
            answer_search(&st, &caller, &headers, &s, all).await
        }
        .await,
    )
}

async fn report(st: &AppState, id: &str) -> Result<Option<crate::db::ReportDoc>, Response> {
    let Ok(n) = id.parse::<i64>() else {
        return Ok(None);
    };
    let f = VisitFilter {
        report_id: Some(n),
        ..VisitFilter::default()
    };
    Ok(st
        .db
        .fhir_reports(&f)
        .await
        .map_err(store_down)?
        .into_iter()
        .next())
}

pub async fn read_report(
    caller: ApiCaller,
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    finish(
        async {
            let Some(d) = report(&st, &id).await? else {
                audit(
                    &st,
                    &caller,
                    "fhir.read",
                    &[],
                    format!("DiagnosticReport/{id}: not found"),
                )
                .await?;
                return Ok(not_found("DiagnosticReport", &id));
            };
            audit(
                &st,
                &caller,
                "fhir.read",
                &[&d.person_key],
                format!("DiagnosticReport/{id}"),
            )
            .await?;
            let base = base_url(&st, &headers);
            Ok(fhir_json(
                StatusCode::OK,
                &map::diagnostic_report(&d, &base),
            ))
        }
        .await,
    )
}

/// A report's PDF: a Binary resource in JSON, or the PDF itself when the
/// caller asks for `application/pdf` (FHIR's Binary read by content type).
pub async fn read_binary(
    caller: ApiCaller,
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    finish(
        async {
            let found = match id.parse::<i64>() {
                Ok(n) => st.db.fhir_report_pdf(n).await.map_err(store_down)?,
                Err(_) => None,
            };
            let Some((doc, pdf)) = found else {
                audit(
                    &st,
                    &caller,
                    "fhir.read",
                    &[],
                    format!("Binary/{id}: not found"),
                )
                .await?;
                return Ok(not_found("Binary", &id));
            };
            audit(
                &st,
                &caller,
                "fhir.read",
                &[&doc.person_key],
                format!("Binary/{id} (report PDF, booking {})", doc.booking_id),
            )
            .await?;
            let wants_pdf = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("application/pdf") && !a.contains("json"));
            if wants_pdf {
                return Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response());
            }
            Ok(fhir_json(StatusCode::OK, &map::binary(doc.id, &pdf)))
        }
        .await,
    )
}
