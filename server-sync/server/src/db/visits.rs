//! Visits read back: one (details, and every change rereads it), many at
//! once for the interfaces' sync, and a walk-in as its transaction wrote
//! it, so the sync need not read it back ([`Written`]).

use std::collections::BTreeMap;

use exam_domain::Person;
use exam_domain::catalogue::Marital;
use exam_domain::changes::ItemStatus;
use exam_protocol::BookingRecord;
use exam_vault::KeyRing;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::bookings::decode;
use super::desk::{DeskError, NewVisit, Visit, VisitItem, VisitKind};
use super::{DbError, parse_ts};

type Result<T> = std::result::Result<T, DeskError>;

macro_rules! select_visit {
    ($tail:literal) => {
        $crate::db::visits::select_visit!("", $tail)
    };
    // `$extra`: more columns, each after a comma.
    ($extra:literal, $tail:literal) => {
        concat!(
            "SELECT b.id, b.code, b.exam_no, b.person_key, b.campus, b.package, b.exam_date, b.slot_start, ",
            "b.slot_end, b.amount_due_fen, b.state, b.change_seq, p.id_number, p.name, p.mobile, ",
            "b.kind, b.package_code, b.marital, b.flags, b.registered_at, b.state_reason, b.excluded",
            $extra,
            " FROM bookings b JOIN people p ON p.person_key = b.person_key ",
            $tail
        )
    };
}
pub(crate) use select_visit;

/// One visit with its person (details, and every change rereads it).
pub(crate) const VISIT_BY_ID: &str = select_visit!("WHERE b.id = $1");
/// A visit's items, in the order they were added.
pub(crate) const VISIT_ITEMS: &str =
    "SELECT item_code, price_fen, from_package, paid, status, signature FROM booking_items
          WHERE booking_id = $1 ORDER BY changed_at, item_code";

/// The items of the visits `n` ids name, each visit's in the order they were added.
pub(crate) fn visits_items_sql(n: usize) -> String {
    format!(
        "SELECT booking_id, item_code, price_fen, from_package, paid, status, signature FROM booking_items
          WHERE booking_id IN ({}) ORDER BY booking_id, changed_at, item_code",
        super::placeholders(n)
    )
}

/// The visits `n` ids name, with their people and what the interfaces'
/// sync asks of each beside (one read, not three): whether its group pays
/// later, and the highest number its messages hold.
pub(crate) fn visits_to_sync_sql(n: usize) -> String {
    format!(
        "{}WHERE b.id IN ({})",
        select_visit!(
            ", (SELECT CAST(MAX(g.pay_later) AS BIGINT) FROM group_members m
                 JOIN exam_groups g ON g.id = m.group_id WHERE m.id = b.member_id) AS pay_later,
               (SELECT MAX(x.seq) FROM interface_messages x WHERE x.booking_id = b.id) AS seq_floor",
            ""
        ),
        super::placeholders(n)
    )
}

/// A visit to sync with the interfaces, as [`visits_to_sync`] reads it.
pub(crate) struct ToSync {
    pub visit: Visit,
    /// Its group settles later (nothing is paid here).
    pub pay_later: bool,
    /// The highest number its messages hold (0: none yet).
    pub seq_floor: i64,
}

pub(crate) async fn visit_in(
    tx: &mut Transaction<'_, Any>,
    keys: &KeyRing,
    id: i64,
) -> Result<Visit> {
    visit_on(tx, keys, id).await
}

/// [`visit_in`] on any connection.
pub(super) async fn visit_on(
    c: &mut sqlx::AnyConnection,
    keys: &KeyRing,
    id: i64,
) -> Result<Visit> {
    let r = sqlx::query(VISIT_BY_ID)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(DeskError::NotFound)?;
    let items = sqlx::query(VISIT_ITEMS)
        .bind(id)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(visit_item)
        .collect::<Result<Vec<_>>>()?;
    visit_of(&r, keys, items)
}

/// The visits `ids` (those that exist) to sync, two statements however
/// many: a kiosk's push of a hundred check-ins reads them all at once.
pub(crate) async fn visits_to_sync(
    tx: &mut Transaction<'_, Any>,
    keys: &KeyRing,
    ids: &[i64],
) -> Result<BTreeMap<i64, ToSync>> {
    let mut out = BTreeMap::new();
    for ids in ids.chunks(super::ROWS_PER_STATEMENT) {
        let sql = visits_items_sql(ids.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        let mut items: BTreeMap<i64, Vec<VisitItem>> = BTreeMap::new();
        for r in q.fetch_all(&mut **tx).await? {
            items
                .entry(r.try_get("booking_id")?)
                .or_default()
                .push(visit_item(&r)?);
        }
        let sql = visits_to_sync_sql(ids.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let id: i64 = r.try_get("id")?;
            let visit = visit_of(&r, keys, items.remove(&id).unwrap_or_default())?;
            out.insert(
                id,
                ToSync {
                    visit,
                    pay_later: r.try_get::<Option<i64>, _>("pay_later")?.unwrap_or(0) != 0,
                    seq_floor: r.try_get::<Option<i64>, _>("seq_floor")?.unwrap_or(0),
                },
            );
        }
    }
    Ok(out)
}

fn visit_item(r: &AnyRow) -> Result<VisitItem> {
    let status: String = r.try_get("status")?;
    Ok(VisitItem {
        code: r.try_get("item_code")?,
        price_fen: r.try_get("price_fen")?,
        from_package: r.try_get::<i64, _>("from_package")? != 0,
        paid: r.try_get::<i64, _>("paid")? != 0,
        status: ItemStatus::parse(&status)
            .ok_or_else(|| DbError::Corrupt(format!("item status {status:?}")))?,
        signed: r.try_get::<Option<String>, _>("signature")?.is_some(),
    })
}

/// A visit from its `select_visit!` row and its items.
fn visit_of(r: &AnyRow, keys: &KeyRing, items: Vec<VisitItem>) -> Result<Visit> {
    let flags: String = r.try_get("flags")?;
    let excluded: String = r.try_get("excluded")?;
    let kind: String = r.try_get("kind")?;
    let marital: String = r.try_get("marital")?;
    Ok(Visit {
        record: decode(r, keys)?,
        kind: VisitKind::parse(&kind)
            .ok_or_else(|| DbError::Corrupt(format!("visit kind {kind:?}")))?,
        package_code: r.try_get("package_code")?,
        marital: Marital::parse(&marital)
            .ok_or_else(|| DbError::Corrupt(format!("marital status {marital:?}")))?,
        flags: flags
            .split(',')
            .filter(|f| !f.is_empty())
            .map(String::from)
            .collect(),
        registered_at: r
            .try_get::<Option<String>, _>("registered_at")?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        state_reason: r.try_get("state_reason")?,
        excluded: serde_json::from_str(&excluded)
            .map_err(|e| DbError::Corrupt(format!("excluded: {e}")))?,
        items,
    })
}

/// What [`create_visit_unlogged`] wrote for a walk-in beside its
/// [`NewVisit`].
pub(crate) struct Written<'a> {
    pub id: i64,
    pub code: &'a str,
    pub exam_no: &'a str,
    pub due: i64,
    /// Its creation and registration time as stored.
    pub at: &'a str,
}

impl Written<'_> {
    /// The registered visit as [`visit_in`] would read it back, change
    /// number aside (0: stamped later or in this transaction), with
    /// `person` as the store holds them (`--lib written_tests` holds the
    /// two together). Two differences no message reads: slot times keep
    /// any fraction of a second the store drops, and over a hundred items
    /// (written a hundred a statement, each with its time) come by code
    /// rather than by statement.
    pub(crate) fn visit(&self, v: &NewVisit, person: Person) -> Result<Visit> {
        let mut items: Vec<VisitItem> = v
            .plan
            .items
            .iter()
            .map(|i| VisitItem {
                code: i.code.clone(),
                price_fen: i.price_fen,
                from_package: i.from_package,
                paid: false,
                status: ItemStatus::Active,
                signed: false,
            })
            .collect();
        // By code, as read back (added at one time); no message depends
        // on their order.
        items.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(Visit {
            record: BookingRecord {
                booking: exam_domain::Booking {
                    id: self.id,
                    code: self.code.to_string(),
                    exam_no: self.exam_no.to_string(),
                    id_number: person.id_number.clone(),
                    campus: v.campus.clone(),
                    package: v.package_name.clone(),
                    exam_date: v.date,
                    slot_start: v.slot.0,
                    slot_end: v.slot.1,
                    amount_due_fen: self.due,
                    state: exam_domain::BookingState::CheckedIn,
                },
                person,
                change_seq: 0,
                documents: None,
            },
            kind: v.kind,
            package_code: v.plan.package.clone(),
            marital: v.marital,
            flags: v
                .flags
                .iter()
                .flat_map(|f| f.split(','))
                .filter(|f| !f.is_empty())
                .map(String::from)
                .collect(),
            registered_at: Some(parse_ts(self.at)?),
            state_reason: None,
            excluded: v.plan.excluded.clone(),
            items,
        })
    }
}

#[cfg(test)]
#[path = "written_tests.rs"]
mod written_tests;
