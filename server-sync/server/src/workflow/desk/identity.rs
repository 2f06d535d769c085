//! Correcting a person's identity (issue 17 item 6): the name or mobile of
//! the person of a visit, by a named member of staff with a reason. Booking
//! and roster imports never change them (db/people.rs); this route is the
//! one way, and its audit line carries masked values only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::reason_of;
use crate::AppState;
use crate::db::{Corrected, CorrectionError, IdentityField, SessionUser};
use crate::error::ApiErr;
use crate::workflow::bad;

#[derive(Debug, Deserialize)]
pub(super) struct CorrectionIn {
    field: IdentityField,
    /// The new value (a mobile may be emptied).
    value: String,
    reason: String,
}

/// The new value as stored, checked like the desk's own form.
fn checked(field: IdentityField, value: &str) -> Result<String, ApiErr> {
    let v = value.trim();
    match field {
        IdentityField::Name => {
            let n = v.chars().count();
            if n == 0 || n > 30 || v.chars().any(|c| c.is_ascii_digit() || c.is_control()) {
                return Err(bad("value", "姓名须为 1–30 个字，不含数字"));
            }
            Ok(v.to_string())
        }
        IdentityField::Mobile if v.is_empty() => Ok(String::new()),
        IdentityField::Mobile => exam_domain::roster::parse_mobile(v)
            .ok_or_else(|| bad("value", "手机号须为 11 位大陆手机号")),
    }
}

pub(super) async fn correct(
    State(st): State<AppState>,
    user: SessionUser,
    Path(id): Path<i64>,
    Json(r): Json<CorrectionIn>,
) -> Result<Json<Corrected>, ApiErr> {
    let value = checked(r.field, &r.value)?;
    let reason = reason_of(&r.reason)?;
    let initials = crate::workflow::initials(&value);
    st.db
        .correct_identity(&user.username, id, r.field, &value, &initials, reason)
        .await
        .map(Json)
        .map_err(|e| match e {
            CorrectionError::NoVisit => {
                ApiErr::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            CorrectionError::Unchanged => bad("value", e.to_string()),
            CorrectionError::Db(e) => e.into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_values_are_checked_like_the_form() {
        assert_eq!(checked(IdentityField::Name, " 李四 ").unwrap(), "李四");
        assert!(checked(IdentityField::Name, "").is_err());
        assert!(checked(IdentityField::Name, "李4").is_err());
        assert_eq!(checked(IdentityField::Mobile, "").unwrap(), "");
        assert_eq!(
            checked(IdentityField::Mobile, "13912345678").unwrap(),
            "13912345678"
        );
        assert!(checked(IdentityField::Mobile, "12345").is_err());
    }
}
