//! E1 / E4 / K17 in the store: visits (bookings and walk-in registrations)
//! with their items, rebooking, cancelling, no-shows and item changes. The
//! rules themselves are `exam_domain::{plan, changes, slot, exam_no}`; this
//! module makes each change atomic with its slot, its exam number, the
//! kiosks' change feed and its line in the operation log.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use exam_domain::catalogue::Marital;
use exam_domain::changes::ItemStatus;
use exam_domain::exam_no::ExamNoRule;
use exam_domain::plan::{Excluded, Plan};
use exam_domain::slot::SlotTemplate;
use exam_domain::{Person, mask};
use exam_protocol::BookingRecord;
use exam_vault::KeyRing;
use sqlx::{Any, Row, Transaction};

use super::bookings::{next_change_seq, stamp_change};
use super::slots::{self, day, hms};
use super::visits::{Written, visit_in, visit_on};
use super::{Db, DbError, next_id, oplog, people, ts};
use crate::audit::AuditEvent;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("该时段已约满，请选择其他时段")]
    SlotFull,
    #[error("此人当天已有预约（体检号 {exam_no}），请改约而不是重复预约")]
    AlreadyBooked { exam_no: String },
    #[error("没有这条记录")]
    NotFound,
    #[error("{0}")]
    State(String),
    #[error("{0}")]
    Rule(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DeskError {
    fn from(e: sqlx::Error) -> Self {
        DeskError::Db(DbError::Sqlx(e))
    }
}

type Result<T> = std::result::Result<T, DeskError>;

/// Who a visit is for: one person, or a company's member (exam first,
/// the employer pays later; group prices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    Individual,
    Group,
}

impl VisitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Individual => "individual",
            VisitKind::Group => "group",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "individual" => Some(Self::Individual),
            "group" => Some(Self::Group),
            _ => None,
        }
    }
}

/// A visit to create: a booking (with a slot) or a walk-in (registered now).
#[derive(Debug, Clone)]
pub struct NewVisit {
    pub person: Person,
    pub initials: String,
    pub marital: Marital,
    pub campus: String,
    pub campus_prefix: String,
    pub date: NaiveDate,
    pub slot: (NaiveTime, NaiveTime),
    /// Take a place in the slot (bookings do; walk-ins are already here).
    pub take_slot: bool,
    pub plan: Plan,
    pub package_name: String,
    pub flags: Vec<String>,
    pub kind: VisitKind,
    pub member_id: Option<i64>,
    pub register_now: bool,
    /// Group exams: exam first, the employer pays later.
    pub pay_later: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Created {
    /// The person was known with another name or mobile: theirs was kept
    /// (item 6; a correction is a separate, audited step).
    pub identity_kept: bool,
    pub id: i64,
    pub code: String,
    pub exam_no: String,
    pub total_fen: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VisitItem {
    pub code: String,
    pub price_fen: i64,
    pub from_package: bool,
    pub paid: bool,
    pub status: ItemStatus,
    pub signed: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Visit {
    pub record: BookingRecord,
    pub kind: VisitKind,
    pub package_code: Option<String>,
    pub marital: Marital,
    pub flags: Vec<String>,
    pub registered_at: Option<DateTime<Utc>>,
    pub state_reason: Option<String>,
    pub excluded: Vec<Excluded>,
    pub items: Vec<VisitItem>,
}

/// The person's visit of that day, if any (one visit a day per person).
pub(crate) const SAME_DAY_VISIT: &str = "SELECT exam_no FROM bookings WHERE person_key = $1 AND exam_date = $2 AND state <> 'cancelled' LIMIT 1";

/// Creates a visit inside the caller's transaction, with its audit line
/// as the transaction's last write. `stamp`: when its change number is
/// taken (see [`Stamp`]).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create_visit(
    tx: &mut Transaction<'_, Any>,
    db_keys: &KeyRing,
    actor: &str,
    rule: &ExamNoRule,
    tpl: &SlotTemplate,
    v: &NewVisit,
    taken: Option<i64>,
    stamp: Stamp,
) -> Result<Created> {
    let (created, line) =
        create_visit_unlogged(tx, db_keys, actor, rule, tpl, v, taken, stamp).await?;
    super::audit::append(tx, &line).await?;
    Ok(created)
}

/// When a new visit takes its booking change number (the kiosks' pull
/// cursor and the queue's joiner follow it; invariant 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// In the visit's own transaction, once its rows are written.
    InTransaction,
    /// After the visit's commit, in a transaction of its own
    /// ([`super::bookings::stamp_committed`]); 0 until then, which no
    /// cursor follows. PostgreSQL's desk: the counter's row is locked from
    /// the stamp to the commit, and in the visit's transaction that window
    /// held the HIS messages, the SMS, the audit line and the commit's
    /// flush, with every other desk queued behind it (issue 21).
    AfterCommit,
}

/// Creates a visit and returns its audit line for the caller to write
/// once its transaction takes no more locks (a group batch creates many
/// visits, then writes their lines: the chain's lock is held from the
/// first line to the commit, so nothing may be waited for after it).
/// `taken`: the visit's number of the day's counter, when the caller took
/// it already (see [`Db::create_visit`]); else it is taken here. `stamp`:
/// when its change number is taken ([`Stamp`]).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create_visit_unlogged(
    tx: &mut Transaction<'_, Any>,
    db_keys: &KeyRing,
    actor: &str,
    rule: &ExamNoRule,
    tpl: &SlotTemplate,
    v: &NewVisit,
    taken: Option<i64>,
    stamp: Stamp,
) -> Result<(Created, AuditEvent)> {
    let keys = db_keys;
    let (stored, same_day) =
        people::ensure_person_for_day(tx, keys, &v.person, &v.initials, &day(v.date)).await?;
    if let Some(exam_no) = same_day {
        return Err(DeskError::AlreadyBooked { exam_no });
    }
    let key = people::person_key(keys, &v.person.id_number);
    if v.take_slot && !slots::take_ensured(tx, tpl, &v.campus, v.date, v.slot.0).await? {
        return Err(DeskError::SlotFull);
    }
    let n = match taken {
        Some(n) => n,
        None => super::bump_counter(tx, &rule.scope(&v.campus, v.date), 1).await?,
    };
    let exam_no = rule
        .format(&v.campus_prefix, v.date, n as u64)
        .map_err(|e| DeskError::Rule(e.to_string()))?;
    let id = next_id();
    let code = crate::booking_codes::new_booking_code();
    // Its change number is stamped once its rows are written
    // (`stamp_change`), 0 until then.
    let seq = 0i64;
    let now = ts(Utc::now());
    let due = if v.pay_later { 0 } else { v.plan.total_fen };
    let state = if v.register_now {
        "checked_in"
    } else {
        "booked"
    };
    sqlx::query(
        "INSERT INTO bookings(id, code, exam_no, person_key, campus, package, exam_date, slot_start, slot_end,
           amount_due_fen, state, change_seq, kind, package_code, marital, flags, member_id, registered_at,
           created_at, excluded)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(id)
    .bind(&code)
    .bind(&exam_no)
    .bind(&key)
    .bind(&v.campus)
    .bind(&v.package_name)
    .bind(day(v.date))
    .bind(hms(v.slot.0))
    .bind(hms(v.slot.1))
    .bind(due)
    .bind(state)
    .bind(seq)
    .bind(v.kind.as_str())
    .bind(v.plan.package.clone())
    .bind(v.marital.as_str())
    .bind(v.flags.join(","))
    .bind(v.member_id)
    .bind(v.register_now.then(|| now.clone()))
    .bind(&now)
    .bind(serde_json::to_string(&v.plan.excluded).expect("serialisable"))
    .execute(&mut **tx)
    .await?;
    let items: Vec<(&str, i64, bool)> = v
        .plan
        .items
        .iter()
        .map(|i| (i.code.as_str(), i.price_fen, i.from_package))
        .collect();
    insert_items(tx, id, &items, actor).await?;
    // The change number now, before the interfaces' and the episode's
    // rows: every writer takes the shared counters in one order
    // (booking_change, the episode, audit_seq), or two
    // could each hold what the other waits for. Or after the commit.
    if stamp == Stamp::InTransaction {
        stamp_change(tx, id).await?;
    }
    let identity_kept = matches!(stored, people::Stored::Known { differs: true, .. });
    if v.register_now {
        // A walk-in is registered now: HIS's record and registration, and
        // orders for what is already due, with the visit (I1-I3).
        // The visit is this transaction's own (uncommitted, seen by no
        // other): no row lock to take first. When its person is known
        // exactly and it is no group's, from the visit as written here
        // rather than read back (five reads fewer).
        match (v.member_id, stored.person(&v.person)) {
            (None, Some(person)) => {
                let written = Written {
                    id,
                    code: &code,
                    exam_no: &exam_no,
                    due,
                    at: &now,
                };
                let visit = written.visit(v, person)?;
                crate::interfaces::facts::sync_new_visit(tx, keys, &visit, Utc::now()).await?;
            }
            _ => {
                crate::interfaces::facts::sync_visits(
                    tx,
                    keys,
                    &[id],
                    crate::interfaces::facts::Locked::Yes,
                    Utc::now(),
                )
                .await?;
            }
        }
        // E15: during an emergency episode, an entry of its report.
        crate::emergency::store::record_in(
            tx,
            crate::emergency::EntryKind::Registration,
            id,
            &exam_no,
            v.plan.total_fen,
            None,
            actor,
            Utc::now(),
        )
        .await?;
    }
    if !v.register_now {
        // I5: a booking (desk or group roster) is confirmed by SMS when the
        // person gave a mobile; a walk-in is standing at the desk.
        crate::sms::on_booking(tx, keys, id, &v.person, v.date, v.slot.0, &v.campus).await?;
    }
    let what = if v.register_now {
        "visit.register"
    } else {
        "visit.book"
    };
    let line = AuditEvent::by_action(actor, what)
        .subject(format!("person:{key}"))
        .detail(format!(
            "id={} exam_no={exam_no} campus={} date={} slot={} package={} items={} total_fen={}",
            mask::id_number(v.person.id_number.as_str()),
            v.campus,
            v.date,
            v.slot.0.format("%H:%M"),
            v.plan.package.as_deref().unwrap_or("-"),
            v.plan.items.len(),
            v.plan.total_fen
        ));
    let created = Created {
        identity_kept,
        id,
        code,
        exam_no,
        total_fen: v.plan.total_fen,
    };
    Ok((created, line))
}

/// One multi-row INSERT for a visit's items: a package is 20–40 rows, and
/// one statement instead of forty is most of a registration's cost.
pub(crate) async fn insert_items(
    tx: &mut Transaction<'_, Any>,
    booking: i64,
    items: &[(&str, i64, bool)],
    actor: &str,
) -> Result<()> {
    for chunk in items.chunks(100) {
        let mut sql = String::from(
            "INSERT INTO booking_items(booking_id, item_code, price_fen, from_package, paid, status, changed_at, changed_by) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 3;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "($1, ${}, ${}, ${}, 0, 'active', $2, $3)",
                b + 4,
                b + 5,
                b + 6
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(booking)
            .bind(ts(Utc::now()))
            .bind(actor);
        for (code, price, from_package) in chunk {
            q = q.bind(*code).bind(*price).bind(i64::from(*from_package));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Recomputes what is owed (unpaid active items) and bumps the change feed.
pub(crate) async fn touch(
    tx: &mut Transaction<'_, Any>,
    booking: i64,
    pay_later: bool,
) -> Result<()> {
    let due: i64 = if pay_later {
        0
    } else {
        sqlx::query(
            "SELECT CAST(COALESCE(SUM(price_fen), 0) AS BIGINT) FROM booking_items
              WHERE booking_id = $1 AND paid = 0 AND status = 'active'",
        )
        .bind(booking)
        .fetch_one(&mut **tx)
        .await?
        .try_get::<i64, _>(0)?
    };
    let seq = next_change_seq(tx).await?;
    sqlx::query("UPDATE bookings SET amount_due_fen = $2, change_seq = $3 WHERE id = $1")
        .bind(booking)
        .bind(due)
        .bind(seq)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Db {
    pub async fn create_visit(
        &self,
        actor: &str,
        rule: &ExamNoRule,
        tpl: &SlotTemplate,
        v: &NewVisit,
    ) -> Result<Created> {
        // On PostgreSQL the day's exam number is taken in a statement of
        // its own, committed before the visit's transaction: every visit
        // of a day bumps the same counter row, and its lock held through
        // the visit's dozen statements queued the other desks behind it.
        // The price: a visit that then fails (slot full, a second visit
        // that day) leaves a gap in the day's numbers, which are unique
        // and rising, never promised gap-free (invariant 12). SQLite has
        // one writer at a time: nothing to gain, and it keeps them gap-free.
        let taken = match self.backend {
            super::Backend::Postgres => {
                let scope = rule.scope(&v.campus, v.date);
                Some(super::take_counter(&self.pool, &scope).await?)
            }
            super::Backend::Sqlite => None,
        };
        // The desk's hottest write: it joins the group commit. On
        // PostgreSQL its change number is taken after the commit, as the
        // day's number is before it: no shared counter's row is locked
        // through the visit's transaction. (SQLite: one writer at a time,
        // nothing to gain.)
        let stamp = match self.backend {
            super::Backend::Postgres => Stamp::AfterCommit,
            super::Backend::Sqlite => Stamp::InTransaction,
        };
        let mut w = self.write().await?;
        let c = create_visit(w.tx(), &self.keys, actor, rule, tpl, v, taken, stamp).await;
        let created = w.finish(c).await?;
        if stamp == Stamp::AfterCommit {
            // Committed either way: a stamp that fails here is made by the
            // prune job's sweep (`stamp_unstamped`), the visit reaching
            // kiosks and the queue a minute later, not lost.
            if let Err(e) = super::bookings::stamp_committed(self, created.id).await {
                tracing::warn!(error = %e, visit = created.id, "stamping a new visit's change failed; the sweep will");
            }
        }
        Ok(created)
    }

    pub async fn visit(&self, id: i64) -> Result<Visit> {
        if self.backend == super::Backend::Postgres {
            // Read committed: a transaction would give each statement its
            // own snapshot all the same, for two round trips more.
            let mut c = self.read.acquire().await?;
            return visit_on(&mut c, &self.keys, id).await;
        }
        // SQLite: one snapshot for the visit and its items.
        let mut tx = self.read.begin().await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// 开单登记 of a booked visit: the person is here.
    pub async fn register(&self, actor: &str, id: i64, flags: &[String]) -> Result<Visit> {
        let mut w = self.write().await?;
        let r = register_in(w.tx(), &self.keys, actor, id, flags).await;
        w.finish(r).await
    }

    /// Moves a booked visit to another slot (or day), with a reason.
    pub async fn rebook(
        &self,
        actor: &str,
        tpl: &SlotTemplate,
        id: i64,
        date: NaiveDate,
        slot: (NaiveTime, NaiveTime),
        reason: &str,
    ) -> Result<Visit> {
        let mut tx = self.pool.begin().await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        let b = &v.record.booking;
        if b.state.as_str() != "booked" {
            return Err(DeskError::State("只有未到检的预约可以改约".into()));
        }
        if !slots::take_ensured(&mut tx, tpl, &b.campus, date, slot.0).await? {
            return Err(DeskError::SlotFull);
        }
        slots::release(&mut tx, &b.campus, &day(b.exam_date), &hms(b.slot_start)).await?;
        let seq = next_change_seq(&mut tx).await?;
        sqlx::query(
            "UPDATE bookings SET exam_date = $2, slot_start = $3, slot_end = $4, state_reason = $5, change_seq = $6
              WHERE id = $1",
        )
        .bind(id)
        .bind(day(date))
        .bind(hms(slot.0))
        .bind(hms(slot.1))
        .bind(reason)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        oplog::log(
            &mut tx,
            actor,
            "visit.rebook",
            &people::subject(&self.keys, &v.record.person.id_number),
            &format!(
                "id={} exam_no={} from={} {} to={date} {} reason={reason}",
                mask::id_number(b.id_number.as_str()),
                b.exam_no,
                b.exam_date,
                b.slot_start.format("%H:%M"),
                slot.0.format("%H:%M")
            ),
        )
        .await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Cancels a booked visit with a reason; its place goes back to the slot.
    pub async fn cancel(&self, actor: &str, id: i64, reason: &str) -> Result<Visit> {
        let mut tx = self.pool.begin().await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        if v.record.booking.state.as_str() != "booked" {
            return Err(DeskError::State("只有未到检的预约可以取消".into()));
        }
        cancel_in(&mut tx, &v, reason).await?;
        oplog::log(
            &mut tx,
            actor,
            "visit.cancel",
            &people::subject(&self.keys, &v.record.person.id_number),
            &format!(
                "id={} exam_no={} reason={reason}",
                mask::id_number(v.record.person.id_number.as_str()),
                v.record.booking.exam_no
            ),
        )
        .await?;
        let v = visit_in(&mut tx, &self.keys, id).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Releases bookings nobody came for, `grace` after their slot ended.
    pub async fn release_no_shows(
        &self,
        now_local: NaiveDateTime,
        grace: chrono::Duration,
    ) -> Result<usize> {
        let cutoff = now_local - grace;
        let ids: Vec<i64> = sqlx::query(NO_SHOWS)
            .bind(day(cutoff.date()))
            .bind(hms(cutoff.time()))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut n = 0;
        for id in ids {
            let mut tx = self.pool.begin().await?;
            let v = visit_in(&mut tx, &self.keys, id).await?;
            if exam_domain::slot::is_no_show(&v.record.booking, now_local, grace) {
                cancel_in(&mut tx, &v, "no_show").await?;
                oplog::log(
                    &mut tx,
                    "system",
                    "visit.no_show",
                    &people::subject(&self.keys, &v.record.person.id_number),
                    &format!(
                        "id={} exam_no={}",
                        mask::id_number(v.record.person.id_number.as_str()),
                        v.record.booking.exam_no
                    ),
                )
                .await?;
                n += 1;
            }
            tx.commit().await?;
        }
        Ok(n)
    }
}

/// Booked visits whose slot ended before the cutoff (day $1, time $2).
/// `exam_date <= $1` is implied by the rest and says it again so that every
/// plan searches `bookings_state_date` by date as well as by state: with the
/// OR alone, PostgreSQL may take the index by state only and read every
/// booking still to come, each minute.
pub(crate) const NO_SHOWS: &str =
    "SELECT id FROM bookings WHERE state = 'booked' AND exam_date <= $1
               AND (exam_date < $1 OR slot_end <= $2) LIMIT 500";

pub(crate) async fn cancel_in(
    tx: &mut Transaction<'_, Any>,
    v: &Visit,
    reason: &str,
) -> Result<()> {
    let b = &v.record.booking;
    slots::release(tx, &b.campus, &day(b.exam_date), &hms(b.slot_start)).await?;
    let seq = next_change_seq(tx).await?;
    sqlx::query(
        "UPDATE bookings SET state = 'cancelled', state_reason = $2, change_seq = $3 WHERE id = $1",
    )
    .bind(b.id)
    .bind(reason)
    .bind(seq)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// [`Db::register`] inside the caller's transaction.
async fn register_in(
    tx: &mut Transaction<'_, Any>,
    keys: &KeyRing,
    actor: &str,
    id: i64,
    flags: &[String],
) -> Result<Visit> {
    let v = visit_in(tx, keys, id).await?;
    match v.record.booking.state.as_str() {
        "booked" => {}
        "checked_in" => return Err(DeskError::State("已经登记过了".into())),
        _ => return Err(DeskError::State("预约已取消，不能登记".into())),
    }
    // The change number before the booking's row, as a kiosk's push takes
    // them (one lock order: see `create_visit_unlogged`).
    let seq = next_change_seq(tx).await?;
    sqlx::query(
        "UPDATE bookings SET state = 'checked_in', registered_at = $2, change_seq = $3, flags = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(ts(Utc::now()))
    .bind(seq)
    .bind(flags.join(","))
    .execute(&mut **tx)
    .await?;
    crate::interfaces::facts::sync_visit(tx, keys, id, Utc::now()).await?;
    // E15: during an emergency episode, an entry of its report.
    let due: i64 = v
        .items
        .iter()
        .filter(|i| i.status == exam_domain::changes::ItemStatus::Active)
        .map(|i| i.price_fen)
        .sum();
    crate::emergency::store::record_in(
        tx,
        crate::emergency::EntryKind::Registration,
        id,
        &v.record.booking.exam_no,
        due,
        None,
        actor,
        Utc::now(),
    )
    .await?;
    oplog::log(
        tx,
        actor,
        "visit.register",
        &people::subject(keys, &v.record.person.id_number),
        &format!(
            "id={} exam_no={} flags={}",
            mask::id_number(v.record.person.id_number.as_str()),
            v.record.booking.exam_no,
            flags.join(",")
        ),
    )
    .await?;
    visit_in(tx, keys, id).await
}
