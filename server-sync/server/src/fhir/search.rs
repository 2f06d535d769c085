//! FHIR search parameters, parsed and checked before any reading (pure).
//!
//! Strict: a parameter this service does not support is refused (400)
//! rather than ignored, as FHIR allows a server to do. A misspelt filter
//! that were silently dropped would widen the answer to people the client
//! did not ask about. Every search but by `_id` must also name a patient,
//! an identifier or a date range, so no client lists the whole store.

use chrono::{Datelike, NaiveDate};

use super::scope::ResourceType;

pub const DEFAULT_COUNT: usize = 20;
pub const MAX_COUNT: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchError {
    /// 400 `invalid`: a value that does not parse.
    Invalid(String),
    /// 400 `not-supported`: a parameter or modifier we do not serve.
    NotSupported(String),
    /// 406: a format other than JSON.
    NotAcceptable,
}

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchError::Invalid(m) | SearchError::NotSupported(m) => f.write_str(m),
            SearchError::NotAcceptable => {
                f.write_str("only JSON (application/fhir+json) is served")
            }
        }
    }
}

/// Dates from `from` to `to`, both inclusive (None: open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DateRange {
    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }
    fn narrow(&mut self, from: Option<NaiveDate>, to: Option<NaiveDate>) {
        if let Some(f) = from {
            self.from = Some(self.from.map_or(f, |x| x.max(f)));
        }
        if let Some(t) = to {
            self.to = Some(self.to.map_or(t, |x| x.min(t)));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub count: usize,
    pub offset: usize,
}

/// A search, checked for its resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub resource: ResourceType,
    /// `_id`.
    pub id: Option<String>,
    /// `patient`: the Patient's logical id.
    pub patient: Option<String>,
    /// `identifier` (`system|value` or `value`), or ServiceRequest's `requisition`.
    pub identifier: Option<(Option<String>, String)>,
    /// `date` (Appointment, Observation, DiagnosticReport) or `occurrence`
    /// (ServiceRequest).
    pub date: DateRange,
    /// `status`: any of these codes (empty: any status).
    pub status: Vec<String>,
    pub code: Option<String>,
    pub category: Option<String>,
    pub paging: Paging,
    /// The parameters as given, but `_count` and `_offset` (for links).
    pub kept: Vec<(String, String)>,
}

const APPOINTMENT_STATUS: &[&str] = &[
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
];
const REQUEST_STATUS: &[&str] = &[
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
];
const OBSERVATION_STATUS: &[&str] = &[
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
];
const REPORT_STATUS: &[&str] = &[
    "registered",
    "partial",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "appended",
    "cancelled",
    "entered-in-error",
    "unknown",
];

/// The search parameters each resource type serves (besides `_count`,
/// `_offset` and `_format`), as the CapabilityStatement lists them:
/// (name, FHIR search parameter type).
pub fn parameters(r: ResourceType) -> &'static [(&'static str, &'static str)] {
    match r {
        ResourceType::Patient => &[("_id", "token"), ("identifier", "token")],
        ResourceType::Appointment => &[
            ("patient", "reference"),
            ("identifier", "token"),
            ("date", "date"),
            ("status", "token"),
        ],
        ResourceType::ServiceRequest => &[
            ("patient", "reference"),
            ("requisition", "token"),
            ("occurrence", "date"),
            ("status", "token"),
            ("code", "token"),
        ],
        ResourceType::Observation => &[
            ("patient", "reference"),
            ("date", "date"),
            ("status", "token"),
            ("code", "token"),
            ("category", "token"),
        ],
        ResourceType::DiagnosticReport => &[
            ("patient", "reference"),
            ("date", "date"),
            ("status", "token"),
        ],
    }
}

fn statuses(r: ResourceType) -> &'static [&'static str] {
    match r {
        ResourceType::Patient => &[],
        ResourceType::Appointment => APPOINTMENT_STATUS,
        ResourceType::ServiceRequest => REQUEST_STATUS,
        ResourceType::Observation => OBSERVATION_STATUS,
        ResourceType::DiagnosticReport => REPORT_STATUS,
    }
}

/// Whether `id` is a valid FHIR logical id.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Parses the query string of a search on `resource`.
pub fn parse(resource: ResourceType, query: &str) -> Result<Search, SearchError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut s = Search {
        resource,
        id: None,
        patient: None,
        identifier: None,
        date: DateRange::default(),
        status: vec![],
        code: None,
        category: None,
        paging: Paging {
            count: DEFAULT_COUNT,
            offset: 0,
        },
        kept: vec![],
    };
    let invalid = |m: String| SearchError::Invalid(m);
    for (k, v) in &pairs {
        if k.contains(':') {
            return Err(SearchError::NotSupported(format!(
                "search modifiers are not supported ({k})"
            )));
        }
        match k.as_str() {
            "_count" => {
                let n: usize = v
                    .parse()
                    .map_err(|_| invalid(format!("_count={v:?} is not a number")))?;
                s.paging.count = n.min(MAX_COUNT);
                continue;
            }
            "_offset" => {
                s.paging.offset = v
                    .parse()
                    .map_err(|_| invalid(format!("_offset={v:?} is not a number")))?;
                continue;
            }
            "_format" => {
                if !matches!(
                    v.as_str(),
                    "json" | "application/json" | "application/fhir+json"
                ) {
                    return Err(SearchError::NotAcceptable);
                }
                continue;
            }
            _ => {}
        }
        if !parameters(resource).iter().any(|(p, _)| p == k) {
            return Err(SearchError::NotSupported(format!(
                "{} has no search parameter {k:?} here (supported: {})",
                resource.as_str(),
                parameters(resource)
                    .iter()
                    .map(|(p, _)| *p)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        s.kept.push((k.clone(), v.clone()));
        match k.as_str() {
            "_id" => {
                if !valid_id(v) {
                    return Err(invalid(format!("_id={v:?} is not a logical id")));
                }
                s.id = Some(v.clone());
            }
            "patient" => s.patient = Some(patient_ref(v)?),
            "identifier" | "requisition" => {
                let (system, value) = match v.split_once('|') {
                    Some((sys, val)) => ((!sys.is_empty()).then(|| sys.to_string()), val),
                    None => (None, v.as_str()),
                };
                if value.is_empty() {
                    return Err(invalid(format!("{k}: a value is needed")));
                }
                s.identifier = Some((system, value.to_string()));
            }
            "date" | "occurrence" => {
                let (from, to) = date_bound(v).map_err(invalid)?;
                s.date.narrow(from, to);
            }
            "status" => {
                for code in v.split(',') {
                    if !statuses(resource).contains(&code) {
                        return Err(invalid(format!(
                            "status {code:?} is not a {} status",
                            resource.as_str()
                        )));
                    }
                    s.status.push(code.to_string());
                }
            }
            "code" => s.code = Some(token_code(v)),
            "category" => s.category = Some(token_code(v)),
            _ => unreachable!("listed in parameters()"),
        }
    }
    let narrowed = s.id.is_some()
        || s.patient.is_some()
        || s.identifier.is_some()
        || (resource != ResourceType::Patient && !s.date.is_open());
    if !narrowed {
        let need = if resource == ResourceType::Patient {
            "_id or identifier"
        } else {
            "patient, an identifier or a date"
        };
        return Err(invalid(format!(
            "a {} search must name {need}: whole-store listings are not served",
            resource.as_str()
        )));
    }
    Ok(s)
}

/// `Patient/<id>`, `<id>` or an absolute URL ending in `Patient/<id>`.
fn patient_ref(v: &str) -> Result<String, SearchError> {
    let id = match v.rsplit_once("Patient/") {
        Some((_, id)) => id,
        None if !v.contains('/') => v,
        None => {
            return Err(SearchError::Invalid(format!(
                "patient={v:?} is not a Patient reference"
            )));
        }
    };
    if valid_id(id) {
        Ok(id.to_string())
    } else {
        Err(SearchError::Invalid(format!(
            "patient={v:?}: {id:?} is not a logical id"
        )))
    }
}

/// A token's code (`system|code` or `code`).
fn token_code(v: &str) -> String {
    v.rsplit_once('|').map_or(v, |(_, c)| c).to_string()
}

/// A `date` value with its prefix (eq by default; ge, gt, le, lt) at the
/// precision of a year, a month or a day, as the dates it allows.
fn date_bound(v: &str) -> Result<(Option<NaiveDate>, Option<NaiveDate>), String> {
    let (prefix, value) = match v.get(..2) {
        Some(p @ ("eq" | "ge" | "gt" | "le" | "lt")) => (p, &v[2..]),
        Some("ne" | "sa" | "eb" | "ap") => {
            return Err(format!("date prefix {:?} is not supported", &v[..2]));
        }
        _ => ("eq", v),
    };
    let (lo, hi) = precision_range(value)
        .ok_or_else(|| format!("date {value:?}: use YYYY, YYYY-MM or YYYY-MM-DD"))?;
    let day = chrono::Days::new(1);
    Ok(match prefix {
        "eq" => (Some(lo), Some(hi)),
        "ge" => (Some(lo), None),
        "gt" => (hi.checked_add_days(day), None),
        "le" => (None, Some(hi)),
        _ => (None, lo.checked_sub_days(day)),
    })
}

fn precision_range(v: &str) -> Option<(NaiveDate, NaiveDate)> {
    let parts: Vec<&str> = v.split('-').collect();
    let num = |s: &str, len: usize| -> Option<u32> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y] => {
            let y = num(y, 4)? as i32;
            Some((
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y, 12, 31)?,
            ))
        }
        [y, m] => {
            let first = NaiveDate::from_ymd_opt(num(y, 4)? as i32, num(m, 2)?, 1)?;
            let next = first.checked_add_months(chrono::Months::new(1))?;
            Some((first, next.pred_opt()?))
        }
        [y, m, d] => {
            let day = NaiveDate::from_ymd_opt(num(y, 4)? as i32, num(m, 2)?, num(d, 2)?)?;
            (day.year() > 0).then_some((day, day))
        }
        _ => None,
    }
}

/// The URL of a page of this search (`offset`), for the Bundle's links.
pub fn page_url(base: &str, s: &Search, offset: usize) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &s.kept {
        q.append_pair(k, v);
    }
    q.append_pair("_count", &s.paging.count.to_string());
    q.append_pair("_offset", &offset.to_string());
    format!("{base}/{}?{}", s.resource.as_str(), q.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResourceType::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn dates_with_prefixes_and_precisions() {
        let s = parse(Appointment, "date=ge2026-12-01&date=lt2027-01").unwrap();
        assert_eq!(s.date.from, Some(d("2026-12-01")));
        assert_eq!(s.date.to, Some(d("2026-12-31")));
        let s = parse(Appointment, "date=2026-02").unwrap();
        assert_eq!(
            (s.date.from, s.date.to),
            (Some(d("2026-02-01")), Some(d("2026-02-28")))
        );
        let s = parse(Appointment, "date=gt2026").unwrap();
        assert_eq!((s.date.from, s.date.to), (Some(d("2027-01-01")), None));
        let s = parse(DiagnosticReport, "date=le2026-12-05").unwrap();
        assert!(s.date.contains(d("2026-12-05")) && !s.date.contains(d("2026-12-06")));
        for bad in [
            "date=2026-13",
            "date=ne2026",
            "date=2026-12-05T10:00",
            "date=26",
        ] {
            assert!(
                matches!(
                    parse(Appointment, bad),
                    Err(SearchError::Invalid(_)) | Err(SearchError::NotSupported(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn references_identifiers_and_statuses() {
        let s = parse(Appointment, "patient=Patient/ab12&status=booked,arrived").unwrap();
        assert_eq!(s.patient.as_deref(), Some("ab12"));
        assert_eq!(s.status, vec!["booked", "arrived"]);
        let s = parse(Appointment, "patient=https://h/fhir/Patient/ab12").unwrap();
        assert_eq!(s.patient.as_deref(), Some("ab12"));
        let s = parse(Patient, "identifier=urn:x|110101").unwrap();
        assert_eq!(s.identifier, Some((Some("urn:x".into()), "110101".into())));
        let s = parse(Patient, "identifier=110101").unwrap();
        assert_eq!(s.identifier, Some((None, "110101".into())));
        assert!(parse(Appointment, "patient=Encounter/1").is_err());
        assert!(parse(Appointment, "patient=a&status=done").is_err());
        let s = parse(ServiceRequest, "patient=a&code=urn:c|L-CBC").unwrap();
        assert_eq!(s.code.as_deref(), Some("L-CBC"));
    }

    #[test]
    fn unknown_parameters_modifiers_and_wide_searches_are_refused() {
        assert!(matches!(
            parse(Patient, "name=张"),
            Err(SearchError::NotSupported(_))
        ));
        assert!(matches!(
            parse(Appointment, "patient:missing=true"),
            Err(SearchError::NotSupported(_))
        ));
        assert!(matches!(parse(Patient, ""), Err(SearchError::Invalid(_))));
        assert!(matches!(
            parse(Appointment, "status=booked"),
            Err(SearchError::Invalid(_))
        ));
        assert!(matches!(
            parse(Patient, "date=2026"),
            Err(SearchError::NotSupported(_))
        ));
        assert_eq!(
            parse(Patient, "_id=x&_format=xml"),
            Err(SearchError::NotAcceptable)
        );
        assert!(parse(Observation, "patient=x&_format=json").is_ok());
    }

    #[test]
    fn paging_is_bounded_and_links_keep_the_filters() {
        let s = parse(Appointment, "date=2026&_count=500&_offset=40").unwrap();
        assert_eq!(
            s.paging,
            Paging {
                count: MAX_COUNT,
                offset: 40
            }
        );
        assert!(parse(Appointment, "date=2026&_count=-1").is_err());
        assert_eq!(
            page_url("https://h/fhir", &s, 140),
            "https://h/fhir/Appointment?date=2026&_count=100&_offset=140"
        );
    }
}
