//! The auditor's page (S7; 等保 §(九) 8.2: a log review screen of its own
//! for the auditor): `/audit`, server-rendered, for
//! `Capability::ViewAudit` only. It shows
//!
//! - the chain's state: verified up to row N, or broken at row M (the rows
//!   since the last intact check are recomputed on every view; "完整校验"
//!   recomputes them all and writes the result to the trail);
//! - the trail filtered by time, operator, category, outcome, subject and
//!   text (ID numbers masked);
//! - sign-ins and how long they lasted (8.7.2), lockouts (8.7.3) and
//!   permission changes (8.6) in the same period;
//! - a CSV export of the filtered range, within the service's export
//!   limits (`Config::exports`: rows per export and per user per day; S5),
//!   itself audited, a refusal too (`workflow::exports`).
//!
//! Viewing is audited too (8.7.6: reading the logs is an act of the
//! audit administrator). This is the authoritative view of the trail: the
//! administrator, whose changes it records, has none (see `roles`).

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

use crate::AppState;
use crate::audit::{AuditEvent, Category, ChainStatus, Outcome, mask_ids};
use crate::db::{AuditQuery, AuditRow, SessionUser, parse_ts};
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

/// Rows on the page at most.
const PAGE_ROWS: i64 = 500;

pub(crate) fn routes(t: &mut RouteTable) {
    let see = Access::Can(Capability::ViewAudit);
    t.get("/audit", see, page)
        .post("/audit/verify", see, verify)
        .get("/audit/export.csv", see, export);
}

/// The page's filter as the form sends it (every field text, maybe empty).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    text: String,
}

/// Midnight of a centre-local day, in UTC.
fn local_midnight(d: NaiveDate) -> Option<DateTime<Utc>> {
    d.and_hms_opt(0, 0, 0)?
        .and_local_timezone(exam_domain::centre_offset())
        .single()
        .map(|t| t.with_timezone(&Utc))
}

impl Filter {
    /// The query it asks for (pure: `now` for the default period, the
    /// store's mapping of a typed subject passed in). `from` and `to` are
    /// centre-local dates, `to` inclusive; without them, the last 7 days.
    pub(crate) fn query(&self, now: DateTime<Utc>, subject: impl Fn(&str) -> String) -> AuditQuery {
        let today = now
            .with_timezone(&exam_domain::centre_offset())
            .date_naive();
        let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
        let to = day(&self.to).unwrap_or(today);
        let from = day(&self.from).unwrap_or(to - Duration::days(6));
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        AuditQuery {
            from: local_midnight(from),
            to: local_midnight(to + Duration::days(1)),
            actor: opt(&self.actor),
            category: Category::parse(self.category.trim()),
            outcome: Outcome::parse(self.outcome.trim()),
            subject: opt(&self.subject).map(|s| subject(&s)),
            text: opt(&self.text),
            actions: vec![],
        }
    }

    /// The same filter as a query string (for the export link), escaped.
    fn query_string(&self) -> String {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("actor", &self.actor),
            ("category", &self.category),
            ("outcome", &self.outcome),
            ("subject", &self.subject),
            ("text", &self.text),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", percent(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// What the audit row of a view or export says was asked (the subject
    /// masked: it may be an ID number).
    fn describe(&self, q: &AuditQuery) -> String {
        let mut parts = vec![format!(
            "from={} to={}",
            q.from.map(crate::db::ts).unwrap_or_default(),
            q.to.map(crate::db::ts).unwrap_or_default()
        )];
        for (k, v) in [
            ("actor", &self.actor),
            ("category", &self.category),
            ("outcome", &self.outcome),
            ("subject", &self.subject),
            ("text", &self.text),
        ] {
            if !v.trim().is_empty() {
                parts.push(format!("{k}={}", mask_ids(v.trim())));
            }
        }
        parts.join(" ")
    }
}

fn percent(s: &str) -> String {
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

/// A line's place in the chain as shown (0: not placed yet).
fn place(seq: i64) -> String {
    if seq > 0 {
        seq.to_string()
    } else {
        "待入链".into()
    }
}

/// A row as the page shows it: local time, labels, ID numbers masked.
struct RowView {
    /// The place in the chain, or 待入链 for a line that has none yet
    /// (PostgreSQL places lines some tens of milliseconds after commit).
    seq: String,
    at: String,
    category: &'static str,
    actor: String,
    source: String,
    action: String,
    subject: String,
    denied: bool,
    detail: String,
}

fn local_time(at: &str) -> String {
    parse_ts(at).map_or_else(
        |_| at.to_string(),
        |t| {
            t.with_timezone(&exam_domain::centre_offset())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        },
    )
}

impl From<AuditRow> for RowView {
    fn from(r: AuditRow) -> Self {
        Self {
            seq: place(r.seq),
            at: local_time(&r.at),
            category: Category::parse(&r.category).map_or("?", Category::label_zh),
            actor: r.actor,
            source: r.source,
            action: r.action,
            subject: mask_ids(&r.subject),
            denied: r.outcome == Outcome::Denied.as_str(),
            detail: mask_ids(&r.detail),
        }
    }
}

struct DurationView {
    username: String,
    source: String,
    started: String,
    ended: String,
    length: String,
}

fn human(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} 秒"),
        s if s < 3600 => format!("{} 分 {} 秒", s / 60, s % 60),
        s => format!("{} 小时 {} 分", s / 3600, s % 3600 / 60),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    username: String,
    nav: crate::roles::Nav,
    csrf: String,
    /// Who is looking and when (the page shows many people: S5 watermark).
    watermark: String,
    chain_ok: bool,
    chain_text: String,
    filter: Filter,
    categories: Vec<(&'static str, &'static str)>,
    rows: Vec<RowView>,
    more: bool,
    export_href: String,
    durations: Vec<DurationView>,
    lockouts: Vec<RowView>,
    permissions: Vec<RowView>,
    export_cap: i64,
}

/// The chain's state in the auditor's words.
fn chain_words(s: &ChainStatus) -> (bool, String) {
    let when = s.full_at.map_or_else(
        || "本次启动后尚未完整校验".to_string(),
        |t| format!("完整校验于 {}", local_time(&crate::db::ts(t))),
    );
    let mut text = match &s.check.report.broken {
        None => format!(
            "哈希链校验通过：第 1–{} 行完好（{when}） / Chain verified up to row {}",
            s.check.report.verified, s.check.report.verified
        ),
        Some(b) => format!(
            "哈希链断裂：第 {} 行起不可信 / Chain broken at row {}: {b}",
            b.seq(),
            b.seq()
        ),
    };
    if s.check.unchained > 0 {
        text.push_str(&format!(
            "；另有 {} 行不在链上（绕过系统写入） / {} rows outside the chain",
            s.check.unchained, s.check.unchained
        ));
    }
    (s.check.is_intact(), text)
}

async fn page(
    State(st): State<AppState>,
    u: SessionUser,
    Query(f): Query<Filter>,
) -> Result<Response, ApiErr> {
    let now = Utc::now();
    let q = f.query(now, |s| st.db.subject_of(s));
    let status = st.audit.status(&st.db, false).await?;
    let mut rows = st.db.audit_rows(&q, PAGE_ROWS + 1).await?;
    let more = rows.len() as i64 > PAGE_ROWS;
    rows.truncate(PAGE_ROWS as usize);
    let period = AuditQuery {
        from: q.from,
        to: q.to,
        ..AuditQuery::default()
    };
    let lockouts = st
        .db
        .audit_rows(
            &AuditQuery {
                actions: vec!["login.locked".into()],
                ..period.clone()
            },
            200,
        )
        .await?;
    let permissions = st
        .db
        .audit_rows(
            &AuditQuery {
                category: Some(Category::Permission),
                ..period.clone()
            },
            200,
        )
        .await?;
    let durations = st
        .db
        .login_durations(
            q.from.unwrap_or(now - Duration::days(7)),
            q.to.unwrap_or(now),
            q.actor.as_deref(),
            now,
            200,
        )
        .await?;
    // 8.7.6: looking at the trail is itself in the trail.
    st.db
        .audit_event(
            &AuditEvent::new(Category::Access, &u.username, "audit.view").detail(format!(
                "{} rows; {}",
                rows.len(),
                f.describe(&q)
            )),
        )
        .await?;
    let (chain_ok, chain_text) = chain_words(&status);
    Ok(crate::workflow::render(&AuditPage {
        nav: crate::roles::Nav::of(u.role),
        watermark: crate::staff::watermark::svg(&u.username, now),
        username: u.username,
        csrf: u.csrf,
        chain_ok,
        chain_text,
        export_href: format!("/audit/export.csv?{}", f.query_string()),
        filter: f,
        categories: Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label_zh()))
            .collect(),
        rows: rows.into_iter().map(RowView::from).collect(),
        more,
        durations: durations
            .into_iter()
            .map(|d| DurationView {
                username: d.username,
                source: d.source,
                started: local_time(&d.started_at),
                ended: d
                    .ended_at
                    .as_deref()
                    .map_or_else(|| "在线 / open".into(), local_time),
                length: human(d.seconds),
            })
            .collect(),
        lockouts: lockouts.into_iter().map(RowView::from).collect(),
        permissions: permissions.into_iter().map(RowView::from).collect(),
        export_cap: st.config.exports.max_rows,
    }))
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// 完整校验: recomputes the whole chain and writes the result to the trail.
async fn verify(
    State(st): State<AppState>,
    u: SessionUser,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiErr> {
    if !u.csrf_matches(&f.csrf) {
        crate::audit::csrf_failed(&st, &u.username, "POST /audit/verify").await?;
        return Ok((StatusCode::FORBIDDEN, "stale form: reload the page").into_response());
    }
    let s = st.audit.status(&st.db, true).await?;
    let e = if s.check.is_intact() {
        AuditEvent::new(Category::System, &u.username, "audit.verify")
    } else {
        AuditEvent::new(Category::Security, &u.username, "audit.chain_broken")
    };
    st.db.audit_event(&e.detail(s.check.to_string())).await?;
    Ok(Redirect::to("/audit").into_response())
}

/// One CSV field: quoted, quotes doubled, and a leading `= + - @` (or tab,
/// CR) defused with `'` so a spreadsheet does not run it as a formula.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The rows as CSV (UTF-8 with a BOM, so spreadsheets read the Chinese),
/// ID numbers masked, with each row's chain hash.
pub(crate) fn csv(rows: &[AuditRow]) -> String {
    let mut out = String::from(
        "\u{FEFF}seq,time,category,actor,source,action,subject,outcome,detail,hash\r\n",
    );
    for r in rows {
        let fields = [
            if r.seq > 0 {
                r.seq.to_string()
            } else {
                String::new()
            },
            r.at.clone(),
            r.category.clone(),
            r.actor.clone(),
            r.source.clone(),
            r.action.clone(),
            mask_ids(&r.subject),
            r.outcome.clone(),
            mask_ids(&r.detail),
            r.hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

async fn export(
    State(st): State<AppState>,
    u: SessionUser,
    Query(f): Query<Filter>,
) -> Result<Response, ApiErr> {
    let now = Utc::now();
    let q = f.query(now, |s| st.db.subject_of(s));
    // S5: the same limits as every bulk export (`Config::exports`): rows
    // per export and per user per day; one over them is refused, audited.
    let cap = usize::try_from(st.config.exports.max_rows).unwrap_or(0);
    let rows = st
        .db
        .audit_rows(&q, i64::try_from(cap + 1).unwrap_or(i64::MAX))
        .await?;
    super::exports::allow(
        &st,
        &u,
        crate::db::ExportKind::Audit,
        rows.len(),
        &f.describe(&q),
    )
    .await?;
    let name = format!(
        "audit-{}.csv",
        now.with_timezone(&exam_domain::centre_offset())
            .format("%Y%m%d-%H%M%S")
    );
    Ok(super::exports::attachment(&name, csv(&rows)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_filter_reads_local_days_inclusive() {
        // 2026-03-10 09:30 in Beijing.
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 1, 30, 0).unwrap();
        let q = Filter::default().query(now, str::to_string);
        // The last 7 local days: from 03-04 00:00 (+8) to 03-11 00:00 (+8).
        assert_eq!(
            q.from,
            Some(Utc.with_ymd_and_hms(2026, 3, 3, 16, 0, 0).unwrap())
        );
        assert_eq!(
            q.to,
            Some(Utc.with_ymd_and_hms(2026, 3, 10, 16, 0, 0).unwrap())
        );
        let f = Filter {
            from: "2026-03-01".into(),
            to: "2026-03-01".into(),
            category: "security".into(),
            outcome: "denied".into(),
            actor: " desk1 ".into(),
            subject: "x".into(),
            text: "".into(),
        };
        let q = f.query(now, |s| format!("mapped:{s}"));
        assert_eq!(
            q.from,
            Some(Utc.with_ymd_and_hms(2026, 2, 28, 16, 0, 0).unwrap())
        );
        assert_eq!(
            q.to,
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 16, 0, 0).unwrap())
        );
        assert_eq!(q.category, Some(Category::Security));
        assert_eq!(q.outcome, Some(Outcome::Denied));
        assert_eq!(q.actor.as_deref(), Some("desk1"));
        assert_eq!(q.subject.as_deref(), Some("mapped:x"));
        assert_eq!(q.text, None);
        // Nonsense is no filter, not an error.
        let f = Filter {
            category: "everything".into(),
            from: "yesterday".into(),
            ..Filter::default()
        };
        assert_eq!(f.query(now, str::to_string).category, None);
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "\"plain\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "\"'+1\"");
        assert_eq!(csv_field("a,b\nc"), "\"a,b\nc\"");
    }

    #[test]
    fn the_export_link_keeps_the_filter() {
        let f = Filter {
            actor: "desk 1".into(),
            text: "张".into(),
            ..Filter::default()
        };
        assert_eq!(f.query_string(), "actor=desk%201&text=%E5%BC%A0");
    }
}
