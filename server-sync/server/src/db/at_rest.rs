//! Sealing what is still in clear, and rekeying (issue 17 item 9).
//!
//! Migration 0011 changes the schema; turning rows into ciphertext needs
//! the key ring, so it runs here, after the migrator, at every start:
//! [`Db::seal_clear_rows`] finds rows still in clear (a store written before
//! 0011) and seals them; on a store already sealed it finds nothing and
//! writes nothing. [`Db::rekey`] (`exam-server rekey`) seals again every
//! value sealed under an older data key than the newest.
//!
//! Every sealed column and what binds a value to its row (the associated
//! data) is listed once, in [`COLUMNS`]; the writers use the same
//! [`ad`] so that what they seal opens here and the other way round.

use exam_domain::IdNumber;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::people::{mobile_index, name_tokens, person_key, seal_field};
use super::{Backend, Db, DbError, Result};

/// A primary-key column of a sealed column's table.
#[derive(Debug, Clone, Copy)]
enum Pk {
    Int(&'static str),
    Text(&'static str),
}

impl Pk {
    fn name(self) -> &'static str {
        match self {
            Pk::Int(n) | Pk::Text(n) => n,
        }
    }
}

/// What a column held in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clear {
    /// Text, sealed as its UTF-8 bytes.
    Text,
    /// Base64 of bytes (PNG, PDF), sealed as the bytes themselves.
    Base64,
}

#[derive(Debug, Clone, Copy)]
struct Sealed {
    table: &'static str,
    column: &'static str,
    pk: &'static [Pk],
    clear: Clear,
}

/// Every sealed column outside `people` (whose rows are converted apart:
/// their key changes from the ID number to its blind index).
const COLUMNS: &[Sealed] = &[
    Sealed {
        table: "visit_photos",
        column: "png",
        pk: &[Pk::Int("booking_id")],
        clear: Clear::Base64,
    },
    Sealed {
        table: "booking_items",
        column: "signature",
        pk: &[Pk::Int("booking_id"), Pk::Text("item_code")],
        clear: Clear::Base64,
    },
    Sealed {
        table: "reports",
        column: "pdf",
        pk: &[Pk::Int("id")],
        clear: Clear::Base64,
    },
    Sealed {
        table: "kiosk_events",
        column: "payload",
        pk: &[Pk::Text("event_id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "face_templates",
        column: "embedding",
        pk: &[Pk::Text("person_key")],
        clear: Clear::Text,
    },
    Sealed {
        table: "roster_imports",
        column: "report",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "print_moves",
        column: "jobs",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "interface_messages",
        column: "payload",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "interface_inbound",
        column: "payload",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "sms_messages",
        column: "payload",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "major_abnormal_results",
        column: "value",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "major_abnormal_steps",
        column: "detail",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "specimen_events",
        column: "event",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "item_results",
        column: "entry",
        pk: &[Pk::Int("booking_id"), Pk::Text("item_code")],
        clear: Clear::Text,
    },
    Sealed {
        table: "department_summaries",
        column: "summary",
        pk: &[Pk::Int("booking_id"), Pk::Text("department")],
        clear: Clear::Text,
    },
    Sealed {
        table: "department_summaries",
        column: "conclusions",
        pk: &[Pk::Int("booking_id"), Pk::Text("department")],
        clear: Clear::Text,
    },
    Sealed {
        table: "chief_reports",
        column: "conclusions",
        pk: &[Pk::Int("booking_id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "chief_returns",
        column: "note",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "report_handovers",
        column: "detail",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "report_handovers",
        column: "signature",
        pk: &[Pk::Int("id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "medical_histories",
        column: "history",
        pk: &[Pk::Int("booking_id")],
        clear: Clear::Text,
    },
    Sealed {
        table: "questionnaire_answers",
        column: "answers",
        pk: &[Pk::Int("booking_id"), Pk::Text("department")],
        clear: Clear::Text,
    },
];

/// The people columns, sealed with `people.<column>|<person_key>`.
const PEOPLE_COLUMNS: [&str; 3] = ["id_number", "name", "mobile"];

/// The associated data of a sealed value: its table, column and row.
pub(crate) fn ad(table: &str, column: &str, row: &[&str]) -> Vec<u8> {
    format!("{table}.{column}|{}", row.join("|")).into_bytes()
}

const BATCH: i64 = 200;

fn pk_values(s: &Sealed, r: &AnyRow) -> Result<Vec<String>> {
    s.pk.iter()
        .map(|p| match p {
            Pk::Int(n) => Ok(r.try_get::<i64, _>(*n)?.to_string()),
            Pk::Text(n) => Ok(r.try_get::<String, _>(*n)?),
        })
        .collect()
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    pub people: u64,
    pub values: u64,
}

impl Db {
    /// Seals every personal datum still in clear (rows written before
    /// migration 0011). Idempotent: a sealed store is read, not written.
    pub async fn seal_clear_rows(&self) -> Result<Resealed> {
        let mut done = Resealed {
            people: self.seal_clear_people().await?,
            values: 0,
        };
        for s in COLUMNS {
            done.values += self.reseal(s, Pass::Clear).await?;
        }
        if done != Resealed::default() {
            self.scrub_freed_space().await?;
            tracing::info!(
                people = done.people,
                values = done.values,
                "personal data in clear sealed"
            );
        }
        Ok(done)
    }

    /// Seals again, under the newest data key, every value sealed under an
    /// older one (after `exam-server gen-data-key --add`).
    pub async fn rekey(&self) -> Result<Resealed> {
        let mut done = Resealed {
            people: self.rekey_people().await?,
            values: 0,
        };
        for s in COLUMNS {
            done.values += self.reseal(s, Pass::Rekey).await?;
        }
        Ok(done)
    }

    /// People rows still keyed by the clear ID number (`id_number` NULL):
    /// each becomes a sealed row keyed by the blind index, its bookings and
    /// memberships follow it, the clear row goes.
    async fn seal_clear_people(&self) -> Result<u64> {
        let keys = &*self.keys;
        let mut n = 0;
        loop {
            let rows = sqlx::query(
                "SELECT person_key, name, mobile, initials, created_at FROM people
                  WHERE id_number IS NULL LIMIT $1",
            )
            .bind(BATCH)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(n);
            }
            let mut tx = self.pool.begin().await?;
            for r in &rows {
                let old: String = r.try_get("person_key")?;
                let id = IdNumber::parse(&old)
                    .map_err(|e| DbError::Corrupt(format!("clear person row: {e}")))?;
                let (name, mobile): (String, String) = (r.try_get("name")?, r.try_get("mobile")?);
                let key = person_key(keys, &id);
                sqlx::query(
                    "INSERT INTO people(person_key, id_number, name, mobile, mobile_idx, initials, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&key)
                .bind(seal_field(keys, "id_number", &key, id.as_str())?)
                .bind(seal_field(keys, "name", &key, &name)?)
                .bind(seal_field(keys, "mobile", &key, &mobile)?)
                .bind(mobile_index(keys, &mobile))
                .bind(r.try_get::<String, _>("initials")?)
                .bind(r.try_get::<String, _>("created_at")?)
                .execute(&mut *tx)
                .await?;
                for table in ["bookings", "group_members"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE {table} SET person_key = $1 WHERE person_key = $2"
                    )))
                    .bind(&key)
                    .bind(&old)
                    .execute(&mut *tx)
                    .await?;
                }
                for token in name_tokens(keys, &name) {
                    sqlx::query(
                        "INSERT INTO person_name_tokens(token, person_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    )
                    .bind(token)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("DELETE FROM people WHERE person_key = $1")
                    .bind(&old)
                    .execute(&mut *tx)
                    .await?;
                n += 1;
            }
            tx.commit().await?;
        }
    }

    async fn rekey_people(&self) -> Result<u64> {
        let keys = &*self.keys;
        let current = format!("{}{}:%", exam_vault::SEALED_PREFIX, keys.current_key_id());
        let mut n = 0;
        loop {
            let rows = sqlx::query(
                "SELECT person_key, id_number, name, mobile FROM people
                  WHERE id_number NOT LIKE $1 OR name NOT LIKE $1 OR mobile NOT LIKE $1 LIMIT $2",
            )
            .bind(&current)
            .bind(BATCH)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(n);
            }
            let mut tx = self.pool.begin().await?;
            for r in &rows {
                let key: String = r.try_get("person_key")?;
                let mut sealed = Vec::with_capacity(3);
                for c in PEOPLE_COLUMNS {
                    let ad = format!("people.{c}|{key}");
                    let clear = keys.open(&r.try_get::<String, _>(c)?, ad.as_bytes())?;
                    sealed.push(keys.seal(&clear, ad.as_bytes())?);
                }
                sqlx::query(
                    "UPDATE people SET id_number = $2, name = $3, mobile = $4 WHERE person_key = $1",
                )
                .bind(&key)
                .bind(&sealed[0])
                .bind(&sealed[1])
                .bind(&sealed[2])
                .execute(&mut *tx)
                .await?;
                n += 1;
            }
            tx.commit().await?;
        }
    }

    /// One pass over a sealed column: values in clear (`Pass::Clear`) or
    /// sealed under an older key (`Pass::Rekey`) are sealed anew.
    async fn reseal(&self, s: &Sealed, pass: Pass) -> Result<u64> {
        let keys = &*self.keys;
        let pks: Vec<&str> = s.pk.iter().map(|p| p.name()).collect();
        let filter = match pass {
            Pass::Clear => format!("{c} IS NOT NULL AND {c} NOT LIKE $1", c = s.column),
            Pass::Rekey => format!("{c} LIKE $1 AND {c} NOT LIKE $2", c = s.column),
        };
        let select = format!(
            "SELECT {}, {} FROM {} WHERE {filter} LIMIT {BATCH}",
            pks.join(", "),
            s.column,
            s.table
        );
        let wheres: Vec<String> = pks
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{p} = ${}", i + 2))
            .collect();
        let update = format!(
            "UPDATE {} SET {} = $1 WHERE {}",
            s.table,
            s.column,
            wheres.join(" AND ")
        );
        let any_sealed = format!("{}%", exam_vault::SEALED_PREFIX);
        let current = format!("{}{}:%", exam_vault::SEALED_PREFIX, keys.current_key_id());
        let mut n = 0;
        loop {
            let q = sqlx::query(sqlx::AssertSqlSafe(select.clone()));
            let q = match pass {
                Pass::Clear => q.bind(&any_sealed),
                Pass::Rekey => q.bind(&any_sealed).bind(&current),
            };
            let rows = q.fetch_all(&self.pool).await?;
            if rows.is_empty() {
                return Ok(n);
            }
            let mut tx = self.pool.begin().await?;
            for r in &rows {
                let row = pk_values(s, r)?;
                let row_refs: Vec<&str> = row.iter().map(String::as_str).collect();
                let ad = ad(s.table, s.column, &row_refs);
                let value: String = r.try_get(s.column)?;
                let clear = match (pass, s.clear) {
                    (Pass::Rekey, _) => keys.open(&value, &ad)?,
                    (Pass::Clear, Clear::Text) => value.into_bytes(),
                    (Pass::Clear, Clear::Base64) => super::items::base64_decode(&value)
                        .ok_or_else(|| {
                            DbError::Corrupt(format!("{}.{}: not base64", s.table, s.column))
                        })?,
                };
                let mut u =
                    sqlx::query(sqlx::AssertSqlSafe(update.clone())).bind(keys.seal(&clear, &ad)?);
                for (p, v) in s.pk.iter().zip(&row) {
                    u = match p {
                        Pk::Int(_) => u.bind(v.parse::<i64>().unwrap_or_default()),
                        Pk::Text(_) => u.bind(v.clone()),
                    };
                }
                u.execute(&mut *tx).await?;
                n += 1;
            }
            tx.commit().await?;
        }
    }

    /// After rows in clear were replaced: nothing of them may stay in freed
    /// pages, the SQLite WAL or dead PostgreSQL tuples.
    async fn scrub_freed_space(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                // secure_delete (set on every connection) zeroed what was
                // deleted; VACUUM rewrites the file, the checkpoint empties the WAL.
                sqlx::query("VACUUM").execute(&self.pool).await?;
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&self.pool)
                    .await?;
            }
            Backend::Postgres => {
                for t in [
                    "people",
                    "bookings",
                    "group_members",
                    "visit_photos",
                    "face_templates",
                    "booking_items",
                    "reports",
                    "kiosk_events",
                    "roster_imports",
                    "print_moves",
                ] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM FULL {t}")))
                        .execute(&self.pool)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Clear,
    Rekey,
}

impl Db {
    /// Runs the migrations up to `last` only, without sealing: a store as an
    /// older version left it (the upgrade test writes rows in clear there).
    #[doc(hidden)]
    pub async fn migrate_only_until(&self, last: i64) -> Result<()> {
        use sqlx::migrate::{Migration, MigrationType, Migrator};
        let migrations = super::MIGRATIONS
            .iter()
            .filter(|(v, _, _)| *v <= last)
            .map(|(v, d, sql)| {
                Migration::new(
                    *v,
                    (*d).into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(*sql),
                    false,
                )
            })
            .collect();
        let mut m = Migrator::with_migrations(migrations);
        m.set_locking(false);
        m.run(&self.pool).await?;
        Ok(())
    }
}
