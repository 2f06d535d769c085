//! E12 maintenance for administrators: staff accounts and their roles, item
//! prices, packages. (The operation log is the auditor's: `super::audit`.)

use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::bad;
use crate::AppState;
use crate::db::{AccountRow, SessionUser};
use crate::error::ApiErr;
use crate::roles::{Capability, Role};
use crate::routes::{Access, RouteTable};

/// The operation log is not here: it is the auditor's (`super::audit`).
pub(crate) fn routes(t: &mut RouteTable) {
    use Access::Can;
    use Capability::{EditCatalogue, ManageAccounts};
    t.get("/api/admin/accounts", Can(ManageAccounts), accounts)
        .post("/api/admin/accounts", Can(ManageAccounts), create_account)
        .post(
            "/api/admin/items/{code}/price",
            Can(EditCatalogue),
            set_price,
        )
        .post(
            "/api/admin/packages/{code}",
            Can(EditCatalogue),
            save_package,
        );
}

#[derive(Debug, Serialize)]
struct Accounts {
    accounts: Vec<AccountRow>,
    roles: [Role; 8],
}

/// A new account and its one-time password, shown once.
#[derive(Debug, Serialize)]
struct NewAccountView {
    username: String,
    one_time_password: String,
}

#[derive(Debug, Serialize)]
struct PriceSet {
    code: String,
    price_fen: i64,
}

#[derive(Debug, Serialize)]
struct PackageSaved {
    code: String,
    created: bool,
}

async fn accounts(State(st): State<AppState>, user: SessionUser) -> Result<Json<Accounts>, ApiErr> {
    user.require(Capability::ManageAccounts)?;
    Ok(Json(Accounts {
        accounts: st.db.accounts(Utc::now()).await?,
        roles: Role::ALL,
    }))
}

#[derive(Debug, Deserialize)]
struct NewAccount {
    username: String,
    role: String,
    /// The one campus the account works for (E14), or none: every campus.
    #[serde(default)]
    campus: Option<String>,
}

/// Creates an account with a one-time password, shown once to the
/// administrator and changed at first login.
async fn create_account(
    State(st): State<AppState>,
    user: SessionUser,
    Json(a): Json<NewAccount>,
) -> Result<Json<NewAccountView>, ApiErr> {
    user.require(Capability::ManageAccounts)?;
    let name = a.username.trim();
    if name.is_empty()
        || name.len() > 32
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return Err(bad("username", "用户名为 1–32 位字母、数字、_ - ."));
    }
    let role = Role::parse(&a.role).ok_or_else(|| {
        bad(
            "role",
            format!("角色须为 {:?} 之一", Role::ALL.map(Role::as_str)),
        )
    })?;
    let campus = super::accounts::checked_campus(&st, a.campus.as_deref())?;
    if st.db.user_by_name(name).await?.is_some() {
        return Err(bad("username", "用户名已存在"));
    }
    // Audited as the administrator's `user.create`, in the account's transaction.
    let pw =
        crate::create_staff_at(&st.db, &user.username, name, role, campus.as_deref(), None).await?;
    Ok(Json(NewAccountView {
        username: name.to_string(),
        one_time_password: pw,
    }))
}

#[derive(Debug, Deserialize)]
struct Price {
    price_fen: i64,
}

async fn set_price(
    State(st): State<AppState>,
    user: SessionUser,
    Path(code): Path<String>,
    Json(p): Json<Price>,
) -> Result<Json<PriceSet>, ApiErr> {
    user.require(Capability::EditCatalogue)?;
    if !(0..=10_000_000).contains(&p.price_fen) {
        return Err(bad("price", "价格须在 0–100000 元之间"));
    }
    if !st
        .db
        .set_item_price(&user.username, &code, p.price_fen)
        .await?
    {
        return Err(bad("item", format!("没有项目 {code}")));
    }
    crate::workflow::reload_catalogue(&st).await?;
    Ok(Json(PriceSet {
        code,
        price_fen: p.price_fen,
    }))
}

#[derive(Debug, Deserialize)]
struct PackageIn {
    name: String,
    sex: exam_domain::catalogue::SexRule,
    price_fen: i64,
    exam_type: String,
    items: Vec<String>,
}

/// E12: edits a package or adds one, checked against the dictionaries so
/// that registration never meets a package it would refuse.
async fn save_package(
    State(st): State<AppState>,
    user: SessionUser,
    Path(code): Path<String>,
    Json(p): Json<PackageIn>,
) -> Result<Json<PackageSaved>, ApiErr> {
    user.require(Capability::EditCatalogue)?;
    let pkg = exam_domain::catalogue::Package {
        code,
        name: p.name.trim().to_string(),
        sex: p.sex,
        items: p.items.iter().map(|i| i.trim().to_string()).collect(),
        price_fen: p.price_fen,
        exam_type: p.exam_type,
    };
    st.catalogue
        .get()
        .check_package(&pkg)
        .map_err(|e| bad("package", e.to_string()))?;
    let created = st.db.save_package(&user.username, &pkg).await?;
    crate::workflow::reload_catalogue(&st).await?;
    Ok(Json(PackageSaved {
        code: pkg.code,
        created,
    }))
}
