//! Waiting documents moved between kiosks by staff (K15): the request, the
//! source kiosk's release and the target kiosk's confirmation. Each step
//! moves the row forward only from the step before, so repeated or late
//! events change nothing.

use chrono::{DateTime, Utc};
use exam_protocol::{IncomingMove, MoveOrder, PrintReleased};
use sqlx::{Any, Row, Transaction};

use super::{Db, DbError, Result, next_id, ts};

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("choose another kiosk than the one whose documents wait")]
    SameKiosk,
    #[error("no such kiosk: {0}")]
    UnknownKiosk(String),
    #[error("kiosk {to} is on campus {to_campus}, not {from_campus}: patients could not reach it")]
    OtherCampus {
        to: String,
        to_campus: String,
        from_campus: String,
    },
    #[error("kiosk {0} is not enrolled or has not been heard from for 5 minutes")]
    TargetAway(String),
    #[error("the documents of kiosk {0} are already being moved")]
    AlreadyMoving(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for MoveError {
    fn from(e: sqlx::Error) -> Self {
        MoveError::Db(e.into())
    }
}

/// An open move, for the fleet table.
#[derive(Debug, Clone)]
pub struct OpenMove {
    pub from_kiosk: String,
    pub to_kiosk: String,
    pub state: String,
}

impl Db {
    /// Staff ask that kiosk `from`'s waiting documents print at `to`.
    pub async fn request_move(
        &self,
        from: &str,
        to: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, MoveError> {
        if from == to {
            return Err(MoveError::SameKiosk);
        }
        let campus = |id: &str| {
            let id = id.to_string();
            async move {
                self.kiosk(&id)
                    .await?
                    .map(|k| k.campus)
                    .ok_or(MoveError::UnknownKiosk(id))
            }
        };
        let (from_campus, to_campus) = (campus(from).await?, campus(to).await?);
        // The target must be a kiosk that is enrolled and was heard from
        // lately, or the documents would wait in the server for nobody.
        let alive = self.kiosk(to).await?.is_some_and(|k| {
            k.public_key.is_some()
                && k.last_seen
                    .as_deref()
                    .and_then(|t| super::parse_ts(t).ok())
                    .is_some_and(|t| now - t < chrono::Duration::minutes(5))
        });
        if !alive {
            return Err(MoveError::TargetAway(to.into()));
        }
        if from_campus != to_campus {
            return Err(MoveError::OtherCampus {
                to: to.into(),
                to_campus,
                from_campus,
            });
        }
        let id = next_id();
        let mut tx = self.pool.begin().await?;
        // The unique index on open requests makes this atomic across desks.
        let inserted = sqlx::query(
            "INSERT INTO print_moves(id, from_kiosk, to_kiosk, requested_by, requested_at, state)
             VALUES ($1, $2, $3, $4, $5, 'requested') ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(by)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(MoveError::AlreadyMoving(from.into()));
        }
        // The request and its audit line commit together.
        super::oplog::log(
            &mut tx,
            by,
            "print.move",
            &format!("kiosk:{from}"),
            &format!("documents of {from} to {to}"),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// What a kiosk's heartbeat answer carries: a move to release, and
    /// moves released to it.
    pub async fn moves_for(&self, kiosk: &str) -> Result<(Option<MoveOrder>, Vec<IncomingMove>)> {
        let order = sqlx::query(
            "SELECT m.id, m.to_kiosk, k.prints FROM print_moves m LEFT JOIN kiosks k ON k.id = m.to_kiosk
             WHERE m.from_kiosk = $1 AND m.state = 'requested' ORDER BY m.id LIMIT 1",
        )
        .bind(kiosk)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            let prints: Option<String> = r.try_get("prints")?;
            Ok::<_, DbError>(MoveOrder {
                move_id: r.try_get("id")?,
                to_kiosk: r.try_get("to_kiosk")?,
                accepts: prints
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|p| p.parse().ok())
                    .collect(),
            })
        })
        .transpose()?;
        let rows = sqlx::query(
            "SELECT id, from_kiosk, jobs FROM print_moves WHERE to_kiosk = $1 AND state = 'released'
             ORDER BY id",
        )
        .bind(kiosk)
        .fetch_all(&self.pool)
        .await?;
        let incoming = rows
            .iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let jobs = self
                    .keys
                    .open(&r.try_get::<String, _>("jobs")?, &jobs_ad(id))?;
                Ok(IncomingMove {
                    move_id: id,
                    from_kiosk: r.try_get("from_kiosk")?,
                    jobs: serde_json::from_slice(&jobs)
                        .map_err(|e| DbError::Corrupt(format!("moved jobs: {e}")))?,
                })
            })
            .collect::<Result<_>>()?;
        Ok((order, incoming))
    }

    pub async fn open_moves(&self) -> Result<Vec<OpenMove>> {
        let rows = sqlx::query(
            "SELECT from_kiosk, to_kiosk, state FROM print_moves WHERE state <> 'delivered' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OpenMove {
                    from_kiosk: r.try_get("from_kiosk")?,
                    to_kiosk: r.try_get("to_kiosk")?,
                    state: r.try_get("state")?,
                })
            })
            .collect()
    }
}

fn jobs_ad(move_id: i64) -> Vec<u8> {
    super::at_rest::ad("print_moves", "jobs", &[&move_id.to_string()])
}

/// The source kiosk released its jobs (only its own, only once).
pub(crate) async fn released(
    tx: &mut Transaction<'_, Any>,
    keys: &exam_vault::KeyRing,
    kiosk: &str,
    r: &PrintReleased,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE print_moves SET state = 'released', jobs = $3, released_at = $4
         WHERE id = $1 AND from_kiosk = $2 AND state = 'requested'",
    )
    .bind(r.move_id)
    .bind(kiosk)
    // The documents carry names: sealed while they wait here.
    .bind(keys.seal_str(
        &serde_json::to_string(&r.jobs).unwrap_or_else(|_| "[]".into()),
        &jobs_ad(r.move_id),
    )?)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The target kiosk journaled them: the documents' bytes are dropped here.
pub(crate) async fn accepted(
    tx: &mut Transaction<'_, Any>,
    kiosk: &str,
    move_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE print_moves SET state = 'delivered', jobs = NULL, delivered_at = $3
         WHERE id = $1 AND to_kiosk = $2 AND state = 'released'",
    )
    .bind(move_id)
    .bind(kiosk)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
