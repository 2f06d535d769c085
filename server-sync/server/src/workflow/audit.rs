//! Reading the operation log, two ways, both masked on the server (S5):
//!
//! - the auditor's view (S7, E12): the page `/audit` (`super::auditor`:
//!   filters, the chain's state, sign-in durations, lockouts, permission
//!   changes, the CSV export) and `/api/audit/operations`, the whole trail
//!   searched by time, operator and ID number (the search takes the full
//!   number; the answer shows it masked). Only the auditor may
//!   (`Capability::ViewAudit`; see `roles` for why not the administrator).
//!   No route changes or deletes a line, and the store refuses to.
//! - the desk's view (`/api/desk/operations`): **the caller's own work of
//!   today** (centre time), whatever filters it sends — a desk needs to see
//!   what it did this shift (to check a registration, to undo a mistake),
//!   not what colleagues did, nor any earlier day. See [`desk_query`].

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};

use super::desk::Operations;
use crate::AppState;
use crate::audit::mask_ids;
use crate::db::{OpLine, OpQuery};
use crate::error::ApiErr;
use crate::roles::Capability;
use crate::routes::{Access, RouteTable};

pub(crate) fn routes(t: &mut RouteTable) {
    t.get(
        "/api/audit/operations",
        Access::Can(Capability::ViewAudit),
        operations,
    );
}

/// The most lines one answer carries.
const AUDIT_LIMIT: i64 = 500;

/// The trail, newest first, masked.
async fn operations(
    State(st): State<AppState>,
    Query(q): Query<OpQuery>,
) -> Result<Json<Operations>, ApiErr> {
    let operations = st
        .db
        .operations(&q, AUDIT_LIMIT)
        .await?
        .into_iter()
        .map(masked)
        .collect();
    Ok(Json(Operations { operations }))
}

/// What the desk's log answers for `username`, whatever `q` asks: lines
/// by this user only, from the start of today (centre time) at the
/// earliest; the other filters narrow it further.
pub(crate) fn desk_query(username: &str, q: OpQuery, now: DateTime<Utc>) -> OpQuery {
    let today = day_start(now);
    OpQuery {
        actor: Some(username.to_string()),
        from: Some(q.from.map_or(today, |f| f.max(today))),
        ..q
    }
}

/// Midnight of `now`'s day in the centre's time zone.
fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&exam_domain::centre_offset());
    local
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|m| m.and_local_timezone(exam_domain::centre_offset()).single())
        .map_or(now, |m| m.with_timezone(&Utc))
}

/// A log line as staff may see it: the ID number in its subject, and any in
/// its detail, masked.
pub(crate) fn masked(mut l: OpLine) -> OpLine {
    l.subject = mask_ids(&l.subject);
    l.detail = mask_ids(&l.detail);
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use exam_domain::{IdNumber, mask};

    fn id() -> String {
        IdNumber::compose(
            "321002",
            chrono::NaiveDate::from_ymd_opt(1980, 3, 15).unwrap(),
            71,
        )
        .unwrap()
        .as_str()
        .to_string()
    }

    #[test]
    fn id_numbers_are_masked_in_subject_and_detail() {
        let id = id();
        let line = masked(OpLine {
            at: String::new(),
            actor: "desk1".into(),
            action: "visit.register".into(),
            subject: id.clone(),
            detail: format!("person {id}; exam_no=20260101001 company:12"),
        });
        assert_eq!(line.subject, mask::id_number(&id));
        assert!(!line.detail.contains(&id), "{}", line.detail);
        assert!(line.detail.contains(&mask::id_number(&id)));
        // Numbers that are not ID numbers stay as they are.
        assert!(line.detail.ends_with("exam_no=20260101001 company:12"));
        assert_eq!(mask_ids("company:7"), "company:7");
    }

    #[test]
    fn the_desk_sees_its_own_work_of_today_only() {
        // 2026-03-10 09:30 in Beijing is 01:30 UTC; the day began 16:00 UTC before.
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 1, 30, 0).unwrap();
        let midnight = Utc.with_ymd_and_hms(2026, 3, 9, 16, 0, 0).unwrap();
        let asked = OpQuery {
            actor: Some("someone_else".into()),
            subject: Some("company:3".into()),
            from: Some(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()),
            ..OpQuery::default()
        };
        let q = desk_query("desk1", asked, now);
        assert_eq!(q.actor.as_deref(), Some("desk1"));
        assert_eq!(q.from, Some(midnight));
        assert_eq!(q.subject.as_deref(), Some("company:3"));
        // A later start within today is kept; no start means today's.
        let later = Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap();
        let q = desk_query(
            "desk1",
            OpQuery {
                from: Some(later),
                ..OpQuery::default()
            },
            now,
        );
        assert_eq!(q.from, Some(later));
        assert_eq!(
            desk_query("desk1", OpQuery::default(), now).from,
            Some(midnight)
        );
    }
}
