//! HIS's prices into the catalogue (I1): fetch HIS's price list through
//! the configured HIS counterpart (`his_soap` or `his_rest`), compare it
//! with our items (`prices::plan`), record each changed price in the change
//! log under HIS's version and effective time, and apply the changes whose
//! time has come to `exam_items.price_fen`; one audit line per run.
//!
//! A job runs it every `price_sync_minutes` (default 60) of the HIS
//! counterpart's settings, and an administrator can run it from
//! `/interfaces`. A change effective later waits in the log and a later
//! run applies it. Only list prices change: a visit's items keep the price
//! they were booked at (`booking_items.price_fen`), paid or not, and
//! package prices are the centre's own.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use exam_his::{HisApi, HisClient, HisConfig, HisStyle, PriceList};
use serde::Serialize;
use sqlx::Row;

use super::Counterpart;
use super::prices::{HisPrice, OurItem, Plan, charge_codes, plan};
use super::settings::InterfacesConfig;
use crate::AppState;
use crate::db::{Db, DbError, Result, log_line, next_id, parse_ts, ts};

/// Where HIS's prices come from.
pub struct PriceSource {
    pub client: HisClient,
    pub map: BTreeMap<String, String>,
    pub every: Duration,
}

/// The HIS counterpart's client and code map, when HIS is configured.
pub fn source(cfg: &InterfacesConfig) -> Result<Option<PriceSource>, String> {
    let Some(spec) = cfg.counterparts.get(&Counterpart::His) else {
        return Ok(None);
    };
    let style = match spec.adapter.as_str() {
        "his_soap" => HisStyle::Soap,
        "his_rest" => HisStyle::Rest,
        _ => return Ok(None),
    };
    let opt = |k: &str| spec.options.get(k);
    let endpoint = opt("endpoint")
        .and_then(|v| v.as_str())
        .ok_or("the HIS adapter needs endpoint")?
        .to_string();
    let timeout = opt("timeout_seconds")
        .and_then(|v| v.as_u64())
        .unwrap_or(15)
        .max(1);
    let client = HisClient::new(&HisConfig {
        style,
        endpoint,
        timeout_ms: timeout * 1000,
    })
    .map_err(|e| e.to_string())?;
    Ok(Some(PriceSource {
        client,
        map: charge_codes(opt("charge_codes"))?,
        every: Duration::from_secs(
            opt("price_sync_minutes")
                .and_then(|v| v.as_u64())
                .unwrap_or(60)
                .max(1)
                * 60,
        ),
    }))
}

/// What one run did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncOutcome {
    pub id: i64,
    pub ok: bool,
    pub error: Option<String>,
    pub his_version: Option<u64>,
    /// Changes new to the log in this run.
    pub recorded: usize,
    /// Changes applied to the catalogue in this run (this run's and
    /// earlier ones whose time came).
    pub applied: usize,
    pub plan: Plan,
}

/// One line of the change log.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub item_code: String,
    pub his_code: String,
    pub old_price_fen: i64,
    pub new_price_fen: i64,
    pub his_version: i64,
    pub effective_from: String,
    pub applied_at: Option<String>,
    pub actor: String,
}

/// The last run and the change log, for the page.
#[derive(Debug, Clone, Serialize)]
pub struct PriceView {
    pub configured: bool,
    pub last: Option<SyncRow>,
    pub changes: Vec<ChangeRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncRow {
    pub started_at: String,
    pub actor: String,
    pub ok: bool,
    pub error: Option<String>,
    pub his_version: Option<i64>,
    pub effective_at: Option<String>,
    pub changes: i64,
    pub unmapped: Vec<String>,
    pub missing: Vec<String>,
}

impl Db {
    /// Records one run: `fetched` is HIS's answer (or why there is none).
    /// In one transaction: the run, the new changes, the due changes
    /// applied, the audit line last.
    pub async fn record_his_prices(
        &self,
        fetched: std::result::Result<PriceList, String>,
        map: &BTreeMap<String, String>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<SyncOutcome> {
        let id = next_id();
        let mut tx = self.pool.begin().await?;
        let list = match fetched {
            Ok(l) => l,
            Err(e) => {
                sqlx::query(
                    "INSERT INTO his_price_syncs(id, started_at, actor, outcome, error, changes, unmapped, missing)
                     VALUES ($1, $2, $3, 'failed', $4, 0, '[]', '[]')",
                )
                .bind(id)
                .bind(ts(now))
                .bind(actor)
                .bind(&e)
                .execute(&mut *tx)
                .await?;
                log_line(
                    &mut tx,
                    actor,
                    "catalogue.his_prices",
                    "his",
                    &format!("failed: {e}"),
                )
                .await?;
                tx.commit().await?;
                return Ok(SyncOutcome {
                    id,
                    ok: false,
                    error: Some(e),
                    his_version: None,
                    recorded: 0,
                    applied: 0,
                    plan: Plan::default(),
                });
            }
        };
        let ours: Vec<OurItem> =
            sqlx::query("SELECT code, price_fen FROM exam_items ORDER BY code")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| {
                    Ok(OurItem {
                        code: r.try_get("code")?,
                        price_fen: r.try_get("price_fen")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?;
        let his: Vec<HisPrice> = list
            .items
            .iter()
            .map(|i| HisPrice {
                his_code: i.code.clone(),
                name: i.name.clone(),
                price_fen: i.unit_price_fen,
            })
            .collect();
        let p = plan(&his, &ours, map);
        let version = i64::try_from(list.version).unwrap_or(i64::MAX);
        let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO his_price_syncs(id, started_at, actor, outcome, his_version, effective_at,
                changes, unmapped, missing)
             VALUES ($1, $2, $3, 'ok', $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(ts(now))
        .bind(actor)
        .bind(version)
        .bind(ts(list.effective_at))
        .bind(i64::try_from(p.changes.len()).unwrap_or(0))
        .bind(json(&p.unmapped))
        .bind(json(&p.missing))
        .execute(&mut *tx)
        .await?;
        let mut recorded = 0;
        for c in &p.changes {
            recorded += sqlx::query(
                "INSERT INTO his_price_changes(id, sync_id, item_code, his_code, old_price_fen,
                    new_price_fen, his_version, effective_from, recorded_at, actor)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .bind(next_id())
            .bind(id)
            .bind(&c.item_code)
            .bind(&c.his_code)
            .bind(c.old_price_fen)
            .bind(c.new_price_fen)
            .bind(version)
            .bind(ts(list.effective_at))
            .bind(ts(now))
            .bind(actor)
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        // Due changes, older versions first, so the newest due price stays.
        let due = sqlx::query(
            "SELECT id, item_code, new_price_fen FROM his_price_changes
              WHERE applied_at IS NULL AND effective_from <= $1 ORDER BY his_version, item_code",
        )
        .bind(ts(now))
        .fetch_all(&mut *tx)
        .await?;
        let mut applied = Vec::new();
        for r in &due {
            let (cid, code, price): (i64, String, i64) = (
                r.try_get("id")?,
                r.try_get("item_code")?,
                r.try_get("new_price_fen")?,
            );
            sqlx::query("UPDATE exam_items SET price_fen = $2 WHERE code = $1")
                .bind(&code)
                .bind(price)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE his_price_changes SET applied_at = $2 WHERE id = $1")
                .bind(cid)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
            applied.push(format!("{code}={price}"));
        }
        log_line(
            &mut tx,
            actor,
            "catalogue.his_prices",
            "his",
            &format!(
                "version={} recorded={recorded} applied={} [{}] unmapped={} missing={} conflicts={}",
                list.version,
                applied.len(),
                applied.join(" "),
                p.unmapped.len(),
                p.missing.len(),
                p.conflicts.len()
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(SyncOutcome {
            id,
            ok: true,
            error: None,
            his_version: Some(list.version),
            recorded,
            applied: applied.len(),
            plan: p,
        })
    }

    /// The last run (by id: the order runs were made in) and the newest 100
    /// lines of the change log.
    pub async fn his_price_view(&self, configured: bool) -> Result<PriceView> {
        let last = sqlx::query(
            "SELECT started_at, actor, outcome, error, his_version, effective_at, changes, unmapped, missing
               FROM his_price_syncs ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.read)
        .await?;
        let list = |s: String| -> Result<Vec<String>> {
            serde_json::from_str(&s).map_err(|e| DbError::Corrupt(format!("code list: {e}")))
        };
        let last = match last {
            None => None,
            Some(r) => Some(SyncRow {
                started_at: r.try_get("started_at")?,
                actor: r.try_get("actor")?,
                ok: r.try_get::<String, _>("outcome")? == "ok",
                error: r.try_get("error")?,
                his_version: r.try_get("his_version")?,
                effective_at: r.try_get("effective_at")?,
                changes: r.try_get("changes")?,
                unmapped: list(r.try_get("unmapped")?)?,
                missing: list(r.try_get("missing")?)?,
            }),
        };
        let changes = sqlx::query(
            "SELECT item_code, his_code, old_price_fen, new_price_fen, his_version, effective_from,
                    applied_at, actor
               FROM his_price_changes ORDER BY recorded_at DESC, item_code LIMIT 100",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(ChangeRow {
                item_code: r.try_get("item_code")?,
                his_code: r.try_get("his_code")?,
                old_price_fen: r.try_get("old_price_fen")?,
                new_price_fen: r.try_get("new_price_fen")?,
                his_version: r.try_get("his_version")?,
                effective_from: r.try_get("effective_from")?,
                applied_at: r.try_get("applied_at")?,
                actor: r.try_get("actor")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        // Checked so a corrupt row is said, not shown as a date.
        for c in &changes {
            parse_ts(&c.effective_from)?;
        }
        Ok(PriceView {
            configured,
            last,
            changes,
        })
    }
}

/// Fetches HIS's list (outside any transaction), records and applies it,
/// and puts the new prices in the catalogue kiosks and the desk read.
pub async fn run(st: &AppState, src: &PriceSource, actor: &str) -> Result<SyncOutcome> {
    let fetched = src.client.price_list().await.map_err(|e| e.to_string());
    let out = st
        .db
        .record_his_prices(fetched, &src.map, actor, Utc::now())
        .await?;
    if out.applied > 0 {
        crate::workflow::reload_catalogue(st).await?;
    }
    match &out.error {
        Some(e) => tracing::warn!(error = %e, "HIS price list not fetched"),
        None => tracing::info!(
            version = out.his_version,
            recorded = out.recorded,
            applied = out.applied,
            "HIS prices synced"
        ),
    }
    Ok(out)
}

/// The job: a run every `price_sync_minutes` (the first one that long
/// after the start), when HIS is configured.
pub fn spawn(st: &AppState) -> Result<Option<tokio::task::JoinHandle<()>>, String> {
    let Some(src) = source(&st.config.interfaces)? else {
        return Ok(None);
    };
    // Once across instances (issue 21).
    let job = crate::cluster::lease::Job::new("his_prices", src.every);
    let src = std::sync::Arc::new(src);
    Ok(Some(job.spawn(st, move |st| {
        let src = std::sync::Arc::clone(&src);
        async move {
            if let Err(e) = run(&st, &src, "system:his").await {
                tracing::error!(error = %e, "HIS price sync: store error");
            }
        }
    })))
}
