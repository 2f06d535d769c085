//! The queue's tables (migration 0020): the event log the engine is
//! replayed from, the entries that say who waited where and how long, the
//! rooms' settings, the campus's rules and screens, the ratings.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use exam_domain::queue::{Event, Rules};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::db::{Db, DbError, Result, parse_ts, ts};

fn day_s(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The day's events after `after` (0: all), in order: read under the
/// queue's writer lock, on PostgreSQL through the connection kept for that
/// lock (`Db::serial_read`: a page reading on must not hold the lock
/// while waiting for the shared pool); or in a transaction (`events_in`).
pub(super) async fn events(
    db: &Db,
    campus: &str,
    day: NaiveDate,
    after: i64,
) -> Result<Vec<(i64, Event)>> {
    events_on(db.serial_read(), campus, day, after).await
}

/// The day's log after an event id (each change reads on first).
pub(crate) const EVENTS_AFTER: &str =
    "SELECT id, event FROM queue_events WHERE campus = $1 AND day = $2 AND id > $3 ORDER BY id";

async fn events_on<'e>(
    on: impl sqlx::Executor<'e, Database = Any>,
    campus: &str,
    day: NaiveDate,
    after: i64,
) -> Result<Vec<(i64, Event)>> {
    let rows = sqlx::query(EVENTS_AFTER)
        .bind(campus)
        .bind(day_s(day))
        .bind(after)
        .fetch_all(on)
        .await?;
    rows.iter().map(event_row).collect()
}

/// Where and when an event is written, and by whom.
pub(super) struct Stamp<'a> {
    pub campus: &'a str,
    pub day: NaiveDate,
    pub by: &'a str,
    pub now: DateTime<Utc>,
}

/// Who is here and has not joined yet, since a change number.
pub(crate) const TO_JOIN: &str = "SELECT b.id, b.change_seq FROM bookings b
          WHERE b.campus = $1 AND b.change_seq > $3 AND b.exam_date = $2 AND b.state = 'checked_in'
            AND NOT EXISTS (SELECT 1 FROM queue_people q WHERE q.day = $2 AND q.booking_id = b.id)
          ORDER BY b.change_seq";

/// Today's visits at the campus registered (desk) or checked in (kiosk)
/// since the change `after` that have not joined the queue yet, with
/// their change numbers, in order. By the bookings' change sequence (every
/// check-in moves it; indexed per campus), so each round reads only what
/// changed since the last.
pub(super) async fn to_join(
    db: &Db,
    campus: &str,
    day: NaiveDate,
    after: i64,
) -> Result<Vec<(i64, i64)>> {
    let rows = sqlx::query(TO_JOIN)
        .bind(campus)
        .bind(day_s(day))
        .bind(after)
        .fetch_all(&db.read)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("change_seq")?)))
        .collect()
}

/// Today's visits at the campus still booked (not yet here), in booking
/// order: the demo's simulated arrivals register these at the desk.
pub async fn booked(db: &Db, campus: &str, day: NaiveDate) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT id FROM bookings WHERE campus = $1 AND exam_date = $2 AND state = 'booked' ORDER BY slot_start, id",
    )
    .bind(campus)
    .bind(day_s(day))
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// What a visit needs from the queue: its active items and whether it is
/// a VIP package.
pub(super) struct VisitNeeds {
    pub campus: String,
    pub items: Vec<String>,
    pub vip: bool,
}

/// A visit's campus and package.
pub(crate) const VISIT_CAMPUS: &str = "SELECT campus, package FROM bookings WHERE id = $1";
/// A visit's active items (its stops).
pub(crate) const ACTIVE_ITEMS: &str = "SELECT item_code FROM booking_items WHERE booking_id = $1 AND status = 'active' ORDER BY item_code";

pub(super) async fn needs(db: &Db, booking: i64) -> Result<Option<VisitNeeds>> {
    let Some(b) = sqlx::query(VISIT_CAMPUS)
        .bind(booking)
        .fetch_optional(&db.read)
        .await?
    else {
        return Ok(None);
    };
    let items = sqlx::query(ACTIVE_ITEMS)
        .bind(booking)
        .fetch_all(&db.read)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("item_code"))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let package: String = b.try_get("package")?;
    Ok(Some(VisitNeeds {
        campus: b.try_get("campus")?,
        items,
        vip: package.to_ascii_uppercase().contains("VIP"),
    }))
}

/// [`needs`] for many visits at once, by IN list (the joiner's batch):
/// two statements a hundred visits, not two a visit. A visit not found is
/// left out.
pub(super) async fn needs_many(db: &Db, bookings: &[i64]) -> Result<BTreeMap<i64, VisitNeeds>> {
    let mut out = BTreeMap::new();
    for chunk in bookings.chunks(crate::db::ROWS_PER_STATEMENT) {
        let list = crate::db::placeholders(chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, campus, package FROM bookings WHERE id IN ({list})"
        )));
        for b in chunk {
            q = q.bind(*b);
        }
        for r in q.fetch_all(&db.read).await? {
            let package: String = r.try_get("package")?;
            out.insert(
                r.try_get::<i64, _>("id")?,
                VisitNeeds {
                    campus: r.try_get("campus")?,
                    items: Vec::new(),
                    vip: package.to_ascii_uppercase().contains("VIP"),
                },
            );
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(active_items_sql(chunk.len())));
        for b in chunk {
            q = q.bind(*b);
        }
        for r in q.fetch_all(&db.read).await? {
            if let Some(n) = out.get_mut(&r.try_get::<i64, _>("booking_id")?) {
                n.items.push(r.try_get("item_code")?);
            }
        }
    }
    Ok(out)
}

/// The active items of `n` visits, each visit's in code order (plans
/// test: by visit).
pub(crate) fn active_items_sql(n: usize) -> String {
    format!(
        "SELECT booking_id, item_code FROM booking_items
          WHERE booking_id IN ({}) AND status = 'active' ORDER BY booking_id, item_code",
        crate::db::placeholders(n)
    )
}

/// A room's settings.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RoomSettings {
    pub code: String,
    pub desks: u32,
    pub minutes: u32,
    pub prequeue: bool,
}

pub(super) async fn room_settings(db: &Db, campus: &str) -> Result<Vec<RoomSettings>> {
    let rows = sqlx::query(
        "SELECT code, desks, minutes, prequeue FROM queue_rooms WHERE campus = $1 ORDER BY code",
    )
    .bind(campus)
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RoomSettings {
                code: r.try_get("code")?,
                desks: u32::try_from(r.try_get::<i64, _>("desks")?).unwrap_or(1),
                minutes: u32::try_from(r.try_get::<i64, _>("minutes")?).unwrap_or(5),
                prequeue: r.try_get::<i64, _>("prequeue")? != 0,
            })
        })
        .collect()
}

pub(super) async fn set_room_settings(db: &Db, campus: &str, s: &RoomSettings) -> Result<()> {
    sqlx::query(
        "INSERT INTO queue_rooms(campus, code, desks, minutes, prequeue) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (campus, code) DO UPDATE SET desks = $3, minutes = $4, prequeue = $5",
    )
    .bind(campus)
    .bind(&s.code)
    .bind(i64::from(s.desks))
    .bind(i64::from(s.minutes))
    .bind(i64::from(s.prequeue))
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub(super) async fn setting(db: &Db, campus: &str, name: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM queue_settings WHERE campus = $1 AND name = $2")
            .bind(campus)
            .bind(name)
            .fetch_optional(&db.read)
            .await?,
    )
}

pub(super) async fn set_setting(db: &Db, campus: &str, name: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO queue_settings(campus, name, value) VALUES ($1, $2, $3)
         ON CONFLICT (campus, name) DO UPDATE SET value = $3",
    )
    .bind(campus)
    .bind(name)
    .bind(value)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub(super) async fn rules(db: &Db, campus: &str) -> Result<Rules> {
    Ok(setting(db, campus, "rules")
        .await?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

/// A room's figures of the day.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoomDay {
    pub done: i64,
    /// Mean minutes from joining to being called, over who was called.
    pub mean_wait_min: Option<f64>,
}

/// One room's entries of the day that were called or ended (a doctor
/// station, a room screen): what its figures are made of. Not the people
/// still waiting: a room's backlog can be thousands deep on a busy day,
/// and none of them has been called or is done. `state <> 'waiting'` is
/// the predicate of the partial index `queue_entries_seen` (migration
/// 0028), which holds these rows only.
pub(crate) const ROOM_DAY: &str = "SELECT room, state, started_at, called_at FROM queue_entries
                  WHERE campus = $1 AND day = $2 AND room = $3 AND state <> 'waiting'";
/// [`ROOM_DAY`] for every room of the campus (the board).
pub(crate) const CAMPUS_DAY: &str = "SELECT room, state, started_at, called_at FROM queue_entries
                  WHERE campus = $1 AND day = $2 AND state <> 'waiting'";

pub(super) async fn room_days(
    db: &Db,
    campus: &str,
    day: NaiveDate,
    only: Option<&str>,
) -> Result<BTreeMap<String, RoomDay>> {
    // Two statements, so the one room's uses the room index.
    let rows = match only {
        Some(room) => {
            sqlx::query(ROOM_DAY)
                .bind(campus)
                .bind(day_s(day))
                .bind(room)
                .fetch_all(&db.read)
                .await?
        }
        None => {
            sqlx::query(CAMPUS_DAY)
                .bind(campus)
                .bind(day_s(day))
                .fetch_all(&db.read)
                .await?
        }
    };
    let mut out: BTreeMap<String, (RoomDay, f64, i64)> = BTreeMap::new();
    for r in &rows {
        let room: String = r.try_get("room")?;
        let state: String = r.try_get("state")?;
        let e = out.entry(room).or_default();
        if state == "done" {
            e.0.done += 1;
        }
        if let Some(c) = r.try_get::<Option<String>, _>("called_at")? {
            let s = parse_ts(&r.try_get::<String, _>("started_at")?)?;
            let c = parse_ts(&c)?;
            e.1 += (c - s).num_seconds() as f64 / 60.0;
            e.2 += 1;
        }
    }
    Ok(out
        .into_iter()
        .map(|(k, (mut d, sum, n))| {
            d.mean_wait_min = (n > 0).then(|| sum / n as f64);
            (k, d)
        })
        .collect())
}

/// One line of a person's day in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct EntryLine {
    pub room: String,
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub called_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

pub(super) async fn entries(db: &Db, booking: i64, day: NaiveDate) -> Result<Vec<EntryLine>> {
    let rows = sqlx::query(
        "SELECT room, state, started_at, called_at, ended_at FROM queue_entries
          WHERE booking_id = $1 AND day = $2 ORDER BY started_at, id",
    )
    .bind(booking)
    .bind(day_s(day))
    .fetch_all(&db.read)
    .await?;
    rows.iter().map(entry_line).collect()
}

/// When each of `n` people (`$1`..`$n`) began waiting where they wait
/// now (their open entry of day `$n+1`), and in which room. By the
/// people a page lists, through their own entries (`queue_entries_booking`),
/// not by room: a room's backlog grows all day and a page shows its first
/// few only. (A visit is at one campus, so the campus is not asked.)
pub(crate) fn waiting_since_sql(n: usize) -> String {
    format!(
        "SELECT booking_id, room, started_at FROM queue_entries
          WHERE booking_id IN ({}) AND ended_at IS NULL AND day = ${} AND state = 'waiting'",
        crate::db::placeholders(n),
        n + 1
    )
}

/// When each of `ids` began waiting today, by (person, room).
pub(super) async fn waiting_since(
    db: &Db,
    day: NaiveDate,
    ids: &[i64],
) -> Result<BTreeMap<(i64, String), DateTime<Utc>>> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(200) {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(waiting_since_sql(chunk.len())));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.bind(day_s(day)).fetch_all(&db.read).await? {
            out.insert(
                (r.try_get("booking_id")?, r.try_get("room")?),
                parse_ts(&r.try_get::<String, _>("started_at")?)?,
            );
        }
    }
    Ok(out)
}

/// Who a visit is, for boards and screens: the masked name and the exam
/// number.
#[derive(Debug, Clone, Serialize)]
pub struct Who {
    pub name: String,
    pub exam_no: String,
}

/// The exam number and name of `n` visits (`$1`..`$n`).
pub(crate) fn who_sql(n: usize) -> String {
    format!(
        "SELECT b.id, b.exam_no, p.person_key, p.id_number, p.name FROM bookings b
               LEFT JOIN people p ON p.person_key = b.person_key WHERE b.id IN ({})",
        crate::db::placeholders(n)
    )
}

pub(super) async fn who(db: &Db, ids: &[i64]) -> Result<BTreeMap<i64, Who>> {
    let mut out = BTreeMap::new();
    // In chunks: a board asks for everyone in the building.
    for chunk in ids.chunks(200) {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(who_sql(chunk.len())));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&db.read).await? {
            let (name, _) = crate::db::joined_name_and_id(&db.keys, &r)?;
            out.insert(
                r.try_get("id")?,
                Who {
                    name: exam_domain::mask::name(name.as_deref().unwrap_or("")),
                    exam_no: r.try_get("exam_no")?,
                },
            );
        }
    }
    Ok(out)
}

/// The booking of an exam number or booking code.
pub(super) async fn find(db: &Db, typed: &str) -> Result<Option<i64>> {
    let typed = typed.trim();
    if let Ok(id) = typed.parse::<i64>()
        && sqlx::query("SELECT 1 FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.read)
            .await?
            .is_some()
    {
        return Ok(Some(id));
    }
    Ok(
        sqlx::query_scalar("SELECT id FROM bookings WHERE exam_no = $1 OR code = $1")
            .bind(typed)
            .fetch_optional(&db.read)
            .await?,
    )
}

/// Records a rating; false when this room was rated already.
pub(super) async fn rate(
    db: &Db,
    booking: i64,
    room: &str,
    stars: u8,
    remark: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = sqlx::query(
        "INSERT INTO queue_ratings(booking_id, room, stars, remark, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (booking_id, room) DO NOTHING",
    )
    .bind(booking)
    .bind(room)
    .bind(i64::from(stars))
    .bind(remark)
    .bind(ts(now))
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub(super) async fn rated(db: &Db, booking: i64) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT room FROM queue_ratings WHERE booking_id = $1")
            .bind(booking)
            .fetch_all(&db.read)
            .await?,
    )
}

/// A room's last 50 entries of the day past waiting.
pub(crate) const ROOM_HISTORY: &str =
    "SELECT booking_id, room, state, started_at, called_at, ended_at FROM queue_entries
          WHERE campus = $1 AND day = $2 AND room = $3 AND state <> 'waiting'
          ORDER BY COALESCE(called_at, started_at) DESC, id DESC LIMIT 50";

/// A room's entries of the day, latest first (the doctor station's
/// history): (visit, entry).
pub(super) async fn room_history(
    db: &Db,
    campus: &str,
    day: NaiveDate,
    room: &str,
) -> Result<Vec<(i64, EntryLine)>> {
    let rows = sqlx::query(ROOM_HISTORY)
        .bind(campus)
        .bind(day_s(day))
        .bind(room)
        .fetch_all(&db.read)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("booking_id")?, entry_line(r)?)))
        .collect()
}

/// One `queue_entries` row (room, state and its times).
fn entry_line(r: &sqlx::any::AnyRow) -> Result<EntryLine> {
    let opt = |c: &str| -> Result<Option<DateTime<Utc>>> {
        r.try_get::<Option<String>, _>(c)?
            .as_deref()
            .map(parse_ts)
            .transpose()
    };
    Ok(EntryLine {
        room: r.try_get("room")?,
        state: r.try_get("state")?,
        started_at: parse_ts(&r.try_get::<String, _>("started_at")?)?,
        called_at: opt("called_at")?,
        ended_at: opt("ended_at")?,
    })
}

/// Takes the campus's queue lock for the caller's transaction (the row of
/// its counter, held to commit; on SQLite the one writer) and returns the
/// last event id written. Changes to one campus's queue from any instance
/// then go one at a time, each after reading what the one before wrote,
/// and event ids rise in commit order (issue 21).
pub(super) async fn lock_head(tx: &mut Transaction<'_, Any>, campus: &str) -> Result<i64> {
    crate::db::bump_counter(tx, &format!("queue.{campus}"), 0).await
}

/// Records the last event id written under the lock.
pub(super) async fn set_head(tx: &mut Transaction<'_, Any>, campus: &str, last: i64) -> Result<()> {
    sqlx::query("UPDATE counters SET value = $2 WHERE name = $1")
        .bind(format!("queue.{campus}"))
        .bind(last)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The day's events after `after`, read in the caller's transaction (under
/// the campus's lock: everything committed before it is seen).
pub(super) async fn events_in(
    tx: &mut Transaction<'_, Any>,
    campus: &str,
    day: NaiveDate,
    after: i64,
) -> Result<Vec<(i64, Event)>> {
    events_on(&mut **tx, campus, day, after).await
}

fn event_row(r: &sqlx::any::AnyRow) -> Result<(i64, Event)> {
    let json: String = r.try_get("event")?;
    let e =
        serde_json::from_str(&json).map_err(|e| DbError::Corrupt(format!("queue event: {e}")))?;
    Ok((r.try_get("id")?, e))
}

/// A room screen's call as stored: the facts, no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub person: i64,
    /// The screen that shows it.
    pub room: String,
    /// The room it names.
    pub named: String,
    /// A call into the room (else: the next room of someone leaving it).
    pub call: bool,
}

/// Stores calls under the campus's lock, numbered on from the last.
pub(super) async fn record_calls(
    tx: &mut Transaction<'_, Any>,
    campus: &str,
    calls: &[Call],
    now: DateTime<Utc>,
) -> Result<()> {
    if calls.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(calls.len()).unwrap_or(i64::MAX);
    let last = crate::db::bump_counter(tx, &format!("queue_calls.{campus}"), n).await?;
    let at = ts(now);
    let mut seq = last - n + 1;
    for chunk in calls.chunks(crate::db::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO queue_calls(campus, seq, room, named, person, is_call, at) VALUES {}",
            crate::db::value_rows(chunk.len(), 7)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            q = q
                .bind(campus)
                .bind(seq)
                .bind(&c.room)
                .bind(&c.named)
                .bind(c.person)
                .bind(i32::from(c.call))
                .bind(&at);
            seq += 1;
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The campus's calls after $2 for room $3 (or, for '', all), the last $4.
pub(crate) const CALLS_AFTER: &str = "SELECT seq, room, named, person, is_call, at FROM queue_calls
          WHERE campus = $1 AND seq > $2 AND ($3 = '' OR room = $3)
          ORDER BY seq DESC LIMIT $4";

/// The campus's calls after `after` (for `room`, or all), the last `keep`.
pub(super) async fn calls_after(
    db: &Db,
    campus: &str,
    room: Option<&str>,
    after: i64,
    keep: i64,
) -> Result<Vec<(i64, Call, DateTime<Utc>)>> {
    let rows = sqlx::query(CALLS_AFTER)
        .bind(campus)
        .bind(after)
        .bind(room.unwrap_or(""))
        .bind(keep)
        .fetch_all(&db.read)
        .await?;
    let mut out = rows
        .iter()
        .map(|r| {
            let call: i32 = r.try_get("is_call")?;
            Ok((
                r.try_get("seq")?,
                Call {
                    person: r.try_get("person")?,
                    room: r.try_get("room")?,
                    named: r.try_get("named")?,
                    call: call != 0,
                },
                parse_ts(&r.try_get::<String, _>("at")?)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    out.reverse();
    Ok(out)
}
