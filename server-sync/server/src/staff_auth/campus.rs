//! A staff account's campus (E14, 多院区): an account bound to one campus
//! works for that campus only; one bound to none (总院) for every campus.
//! The route gate refuses what names another campus (`routes.rs`); what
//! is here serves the handlers that pick or list a campus's things.

use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;

use crate::AppState;
use crate::db::SessionUser;
use crate::error::ApiErr;

impl SessionUser {
    /// Whether this account works for `campus` (every campus when it is
    /// bound to none).
    pub(crate) fn sees_campus(&self, campus: &str) -> bool {
        self.campus.as_deref().is_none_or(|c| c == campus)
    }

    /// The campus a request acts for: the one it `asked` for, or the
    /// account's own when it asked for none (None: the caller's default).
    /// A campus-bound account asking for another is refused (403
    /// `other_campus`); the route gate refuses a `campus` in the query
    /// before this, so this answers a body's.
    pub(crate) fn campus_for(&self, asked: Option<&str>) -> Result<Option<String>, ApiErr> {
        match (asked.filter(|a| !a.is_empty()), self.campus.as_deref()) {
            (Some(a), Some(own)) if a != own => Err(ApiErr::new(
                StatusCode::FORBIDDEN,
                "other_campus",
                "本账号只办理本院区的业务 / This account serves its own campus only",
            )),
            (Some(a), _) => Ok(Some(a.to_string())),
            (None, own) => Ok(own.map(str::to_string)),
        }
    }
}

/// The refusal of something of another campus to a campus-bound account.
pub(crate) fn other_campus(st: &AppState, user: &SessionUser) -> ApiErr {
    ApiErr::new(
        StatusCode::FORBIDDEN,
        "other_campus",
        format!(
            "本账号只办理{}的业务 / This account serves its own campus only",
            st.catalogue
                .get()
                .campus_name(user.campus.as_deref().unwrap_or("")),
        ),
    )
}

impl SessionUser {
    /// Ok when this account works for every campus of `campuses` (what a
    /// request names in its body, or what it names by a number that is
    /// looked up: a kiosk, an order); else the refusal, recorded as the
    /// route gate records one (`access.denied`, naming `what`).
    pub(crate) async fn must_serve<'a>(
        &self,
        st: &AppState,
        campuses: impl IntoIterator<Item = &'a str>,
        what: &str,
    ) -> Result<(), ApiErr> {
        let Some(own) = self.campus.as_deref() else {
            return Ok(());
        };
        if crate::routes::campus_verdict(own, campuses).is_ok() {
            return Ok(());
        }
        crate::routes::record_denied(st, self, what).await?;
        Err(other_campus(st, self))
    }
}

#[derive(Debug, Deserialize)]
struct CampusQ {
    campus: Option<String>,
}

/// The campus a staff page's request is about: `?campus=` when given, else
/// the account's own, else the configured one; a code the catalogue does
/// not hold is a 404 `no_campus`.
#[derive(Debug, Clone)]
pub(crate) struct StaffCampus(pub String);

impl FromRequestParts<AppState> for StaffCampus {
    type Rejection = ApiErr;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiErr> {
        let Query(q) = Query::<CampusQ>::from_request_parts(parts, st)
            .await
            .map_err(|e| ApiErr::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
        let user = SessionUser::from_request_parts(parts, st).await?;
        let c = user
            .campus_for(q.campus.as_deref())?
            .unwrap_or_else(|| st.config.demo_campus.clone());
        if st.catalogue.get().campuses.iter().any(|x| x.code == c) {
            Ok(StaffCampus(c))
        } else {
            Err(ApiErr::new(
                StatusCode::NOT_FOUND,
                "no_campus",
                format!("no campus {c:?}"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::Role;

    fn user(campus: Option<&str>) -> SessionUser {
        SessionUser {
            user_id: 1,
            username: "u".into(),
            must_change: false,
            csrf: String::new(),
            role: Role::FrontDesk,
            totp: false,
            campus: campus.map(str::to_string),
        }
    }

    #[test]
    fn a_bound_account_acts_for_its_campus_only() {
        let east = user(Some("east"));
        assert!(east.sees_campus("east") && !east.sees_campus("main"));
        assert_eq!(east.campus_for(None).unwrap().as_deref(), Some("east"));
        assert_eq!(east.campus_for(Some("")).unwrap().as_deref(), Some("east"));
        assert_eq!(
            east.campus_for(Some("east")).unwrap().as_deref(),
            Some("east")
        );
        let e = east.campus_for(Some("main")).unwrap_err();
        assert_eq!(
            (e.status, e.body.error.as_str()),
            (StatusCode::FORBIDDEN, "other_campus")
        );
    }

    #[test]
    fn an_unbound_account_acts_for_any_campus() {
        let all = user(None);
        assert!(all.sees_campus("east") && all.sees_campus("main"));
        assert_eq!(all.campus_for(None).unwrap(), None);
        assert_eq!(
            all.campus_for(Some("main")).unwrap().as_deref(),
            Some("main")
        );
    }
}
