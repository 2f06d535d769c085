//! The exam workflow over HTTP for staff: the front desk (`desk`: search,
//! booking, registration, item changes) and the group desk (`groups`:
//! companies, rosters, batches), as a JSON API that the pages in `pages`
//! call. Every call needs a signed-in staff session with a role that allows
//! it; every change also needs the session's CSRF token in `x-csrf`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use axum::http::StatusCode;
use chrono::{NaiveDateTime, Utc};
use exam_domain::Catalogue;

use crate::AppState;
use crate::db::{DbError, DeskError};
use crate::error::ApiErr;
use crate::routes::RouteTable;

mod accounts;
mod admin;
mod audit;
mod auditor;
pub(crate) mod desk;
mod exports;
mod groups;
mod pages;
mod printing;
mod privacy;
mod reports;

pub(crate) use desk::{
    PersonIn, campus_of, check_additions, package_name, person_of, plan_err, staff_campus,
};
pub use groups::seed_demo_company;
pub(crate) use pages::render;
pub(crate) use printing::attach_documents;

/// The staff JSON API and its pages. Each route says who may call it
/// (`crate::routes::Access`); the route gate signs every call in (session,
/// first-login password change, CSRF token on changes) and checks the role
/// before the body is read.
pub(crate) fn routes(t: &mut RouteTable) {
    desk::routes(t);
    groups::routes(t);
    admin::routes(t);
    accounts::routes(t);
    reports::desk_routes(t);
    audit::routes(t);
    auditor::routes(t);
    exports::routes(t);
    privacy::routes(t);
    pages::routes(t);
}

/// The dictionaries in memory, swapped whole when staff edit them.
#[derive(Clone, Default)]
pub struct CatalogueCell(Arc<RwLock<Arc<Catalogue>>>);

impl CatalogueCell {
    pub fn new(c: Catalogue) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(c))))
    }
    pub fn get(&self) -> Arc<Catalogue> {
        recover(self.0.read(), "catalogue").clone()
    }
    pub fn set(&self, c: Catalogue) {
        *recover(self.0.write(), "catalogue") = Arc::new(c);
    }
}

/// Reloads the dictionaries after an edit, here and (through the change
/// log) on every other instance within a poll.
pub async fn reload_catalogue(st: &AppState) -> Result<(), crate::db::DbError> {
    st.catalogue.set(st.db.load_catalogue().await?);
    crate::cluster::feed::publish(st, crate::cluster::feed::Topic::Catalogue).await;
    Ok(())
}

/// The one policy for a poisoned lock (a thread panicked holding it): log
/// it and carry on with the data, as the kiosk does. Both locks here guard
/// a value that is replaced whole, so it is never half-written.
fn recover<G>(r: Result<G, PoisonError<G>>, what: &str) -> G {
    r.unwrap_or_else(|e| {
        tracing::error!(lock = what, "a lock was poisoned by a panic; carrying on");
        e.into_inner()
    })
}

/// Roster imports in progress, by the token the page chose: rows stored so far.
#[derive(Clone, Default)]
pub struct Progress(Arc<Mutex<HashMap<String, ImportProgress>>>);

/// Where a roster import is (what `static/groups.js` shows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// No import under this token (or not yet started).
    #[default]
    #[serde(rename = "")]
    Unknown,
    Checking,
    /// Checked and not stored: errors without `partial`, or a dry run.
    Refused,
    Saving,
    Done,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ImportProgress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

impl Progress {
    pub fn set(&self, token: &str, p: ImportProgress) {
        let mut m = recover(self.0.lock(), "import progress");
        if m.len() > 1000 {
            m.clear(); // abandoned tokens; progress is only a courtesy
        }
        m.insert(token.to_string(), p);
    }
    pub fn get(&self, token: &str) -> Option<ImportProgress> {
        recover(self.0.lock(), "import progress")
            .get(token)
            .copied()
    }
}

pub fn now_local() -> NaiveDateTime {
    Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .naive_local()
}

pub(crate) fn bad(code: &str, msg: impl Into<String>) -> ApiErr {
    ApiErr::new(StatusCode::UNPROCESSABLE_ENTITY, code, msg)
}

impl From<DeskError> for ApiErr {
    fn from(e: DeskError) -> Self {
        match e {
            DeskError::SlotFull => ApiErr::new(StatusCode::CONFLICT, "slot_full", e.to_string()),
            DeskError::AlreadyBooked { .. } => {
                ApiErr::new(StatusCode::CONFLICT, "already_booked", e.to_string())
            }
            DeskError::NotFound => ApiErr::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            DeskError::State(_) => ApiErr::new(StatusCode::CONFLICT, "wrong_state", e.to_string()),
            DeskError::Rule(_) => bad("rule", e.to_string()),
            DeskError::Db(e) => e.into(),
        }
    }
}

/// Pinyin initials of a name, for the search box (张三丰 → zsf).
pub fn initials(name: &str) -> String {
    use pinyin::ToPinyin;
    name.chars()
        .filter_map(|c| {
            if c.is_ascii_alphabetic() {
                return Some(c.to_ascii_lowercase());
            }
            c.to_pinyin()
                .map(|p| p.first_letter().chars().next().unwrap_or('_'))
        })
        .collect()
}

/// Computes missing initials (seeded people) in the background.
pub(crate) async fn backfill_initials(db: &crate::db::Db) -> Result<usize, DbError> {
    let mut n = 0;
    loop {
        let rows = db.people_without_initials(500).await?;
        if rows.is_empty() {
            return Ok(n);
        }
        let done: Vec<(String, String)> = rows
            .into_iter()
            .map(|(id, name)| {
                let i = initials(&name);
                (id, if i.is_empty() { "_".into() } else { i })
            })
            .collect();
        n += done.len();
        db.set_initials(&done).await?;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials_of_chinese_names() {
        assert_eq!(super::initials("张三丰"), "zsf");
        assert_eq!(super::initials("欧阳Na"), "oyna");
    }
}
