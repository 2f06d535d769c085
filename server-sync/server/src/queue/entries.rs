//! A change's queue entries, log lines and joins written set-wise.
//!
//! Every queue change holds the queue's writer lock from its read of the
//! log to its commit, and a change of many events (the joiner's batch of a
//! morning's arrivals) wrote each event, each person's entry (a read and a
//! write or two) and each join as statements of their own: four to six
//! round trips a person under that lock, with the doctors' 呼叫 and 完成
//! queued behind (issue 21: their p99 near a second under the desk load).
//! Here a change reads its people's open entries in one statement, plans
//! the entries' writes in memory ([`plan`], pure: the rules the entry
//! table has always followed) and writes them, its log lines and its
//! joins in a few multi-row statements, whatever its number of events.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use exam_domain::queue::{Event, PersonId, Where};
use sqlx::{Any, Row, Transaction};

use super::store::Stamp;
use crate::db::{DbError, ROWS_PER_STATEMENT, Result, placeholders_from, ts, value_rows};

fn day_s(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// A person's open entry as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Open {
    pub id: i64,
    pub room: String,
    pub state: String,
}

/// A person's entry, as the change leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub id: i64,
    pub booking: PersonId,
    pub room: String,
    /// `waiting`, `called`, or how it ended (`done`, `moved`, `no_show`,
    /// `left`).
    pub state: String,
    /// Made by this change (inserted), or read from the store (updated).
    pub new: bool,
    /// Called by this change: `called_at` is now.
    pub called: bool,
    /// Ended by this change: `ended_at` is now.
    pub ended: bool,
}

/// What bringing the entries of `moves` (person, where the engine has
/// them, how an entry that ends now ended) in line with the engine
/// writes, from their open entries `open`, in order: a move ends one entry
/// and starts the next; waiting then called in one room is one entry.
/// Entries this change did not touch are left out. Pure.
pub(super) fn plan(
    mut open: BTreeMap<PersonId, Open>,
    moves: &[(PersonId, Where, &'static str)],
    mut new_id: impl FnMut() -> i64,
) -> Vec<Entry> {
    let mut current: BTreeMap<PersonId, Entry> = BTreeMap::new();
    let mut out: Vec<Entry> = Vec::new();
    for (person, at, ended) in moves {
        let want: Option<(&str, &str)> = match at {
            Where::Waiting(room) => Some((room, "waiting")),
            Where::Called(room) => Some((room, "called")),
            Where::Unrouted | Where::Done | Where::Left => None,
        };
        let entry = current.remove(person).or_else(|| {
            open.remove(person).map(|o| Entry {
                id: o.id,
                booking: *person,
                room: o.room,
                state: o.state,
                new: false,
                called: false,
                ended: false,
            })
        });
        if let Some(mut e) = entry {
            match want {
                Some((r, s)) if r == e.room && s == e.state => {
                    current.insert(*person, e);
                    continue;
                }
                Some((r, "called")) if r == e.room && e.state == "waiting" => {
                    e.state = "called".into();
                    e.called = true;
                    current.insert(*person, e);
                    continue;
                }
                _ => {
                    // Waiting again in the same room after being called:
                    // a no-show; anything else ends as the event says.
                    let how = if e.state == "called" && want.is_some_and(|(r, _)| r == e.room) {
                        "no_show"
                    } else if e.state == "waiting" && *ended == "done" {
                        "moved"
                    } else {
                        ended
                    };
                    e.state = how.into();
                    e.ended = true;
                    out.push(e);
                }
            }
        }
        if let Some((room, state)) = want {
            current.insert(
                *person,
                Entry {
                    id: new_id(),
                    booking: *person,
                    room: room.into(),
                    state: state.into(),
                    new: true,
                    called: state == "called",
                    ended: false,
                },
            );
        }
    }
    out.extend(current.into_values());
    out.retain(|e| e.new || e.called || e.ended);
    out
}

/// The open entries of a change's people (plans test: by visit).
pub(crate) fn open_entries_sql(n: usize) -> String {
    format!(
        "SELECT booking_id, id, room, state FROM queue_entries
          WHERE day = $1 AND ended_at IS NULL AND booking_id IN ({})",
        placeholders_from(2, n)
    )
}

/// Brings the entries of `moves` in line with the engine (see [`plan`]):
/// one read of the open entries per hundred people, one UPDATE per kind of
/// change, one INSERT per hundred new entries.
pub(super) async fn reconcile_all(
    tx: &mut Transaction<'_, Any>,
    stamp: &Stamp<'_>,
    moves: &[(PersonId, Where, &'static str)],
) -> Result<()> {
    if moves.is_empty() {
        return Ok(());
    }
    let people: Vec<PersonId> = moves
        .iter()
        .map(|m| m.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut open = BTreeMap::new();
    for chunk in people.chunks(ROWS_PER_STATEMENT) {
        let sql = open_entries_sql(chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(day_s(stamp.day));
        for p in chunk {
            q = q.bind(*p);
        }
        for r in q.fetch_all(&mut **tx).await? {
            // Should a person have two open entries, the first stands, as
            // it always did.
            open.entry(r.try_get::<i64, _>("booking_id")?)
                .or_insert(Open {
                    id: r.try_get("id")?,
                    room: r.try_get("room")?,
                    state: r.try_get("state")?,
                });
        }
    }
    let entries = plan(open, moves, crate::db::next_id);
    let t = ts(stamp.now);
    // Updates first: an entry is ended before its person's next starts.
    let mut updates: BTreeMap<(&str, bool, bool), Vec<i64>> = BTreeMap::new();
    for e in entries.iter().filter(|e| !e.new) {
        updates
            .entry((e.state.as_str(), e.called, e.ended))
            .or_default()
            .push(e.id);
    }
    for ((state, called, ended), ids) in updates {
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sets = [
                "state = $1",
                if called { ", called_at = $2" } else { "" },
                if ended { ", ended_at = $2" } else { "" },
            ]
            .concat();
            let sql = format!(
                "UPDATE queue_entries SET {sets} WHERE id IN ({})",
                placeholders_from(3, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(state).bind(&t);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut **tx).await?;
        }
    }
    let new: Vec<&Entry> = entries.iter().filter(|e| e.new).collect();
    for chunk in new.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO queue_entries(id, campus, day, booking_id, room, state, started_at,
               called_at, ended_at, by_user) VALUES {}",
            value_rows(chunk.len(), 10)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(e.id)
                .bind(stamp.campus)
                .bind(day_s(stamp.day))
                .bind(e.booking)
                .bind(&e.room)
                .bind(&e.state)
                .bind(&t)
                .bind(e.called.then(|| t.clone()))
                .bind(e.ended.then(|| t.clone()))
                .bind(stamp.by);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Appends a change's events (id, event) to the day's log.
pub(super) async fn append_all(
    tx: &mut Transaction<'_, Any>,
    stamp: &Stamp<'_>,
    events: &[(i64, &Event)],
) -> Result<()> {
    let at = ts(stamp.now);
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO queue_events(id, campus, day, at, by_user, event) VALUES {}",
            value_rows(chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, event) in chunk {
            let json = serde_json::to_string(event)
                .map_err(|e| DbError::Corrupt(format!("queue: {e}")))?;
            q = q
                .bind(*id)
                .bind(stamp.campus)
                .bind(day_s(stamp.day))
                .bind(&at)
                .bind(stamp.by)
                .bind(json);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Marks `people` joined today; returns those who were not already (a
/// person named twice joins once).
pub(super) async fn mark_joined_all(
    tx: &mut Transaction<'_, Any>,
    stamp: &Stamp<'_>,
    people: &[PersonId],
) -> Result<BTreeSet<PersonId>> {
    let people: Vec<PersonId> = people
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let at = ts(stamp.now);
    let mut fresh = BTreeSet::new();
    for chunk in people.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO queue_people(campus, day, booking_id, joined_at) VALUES {}
             ON CONFLICT (day, booking_id) DO NOTHING RETURNING booking_id",
            value_rows(chunk.len(), 4)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            q = q
                .bind(stamp.campus)
                .bind(day_s(stamp.day))
                .bind(*p)
                .bind(&at);
        }
        for r in q.fetch_all(&mut **tx).await? {
            fresh.insert(r.try_get::<i64, _>(0)?);
        }
    }
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(id: i64, room: &str, state: &str) -> Open {
        Open {
            id,
            room: room.into(),
            state: state.into(),
        }
    }

    fn ids() -> impl FnMut() -> i64 {
        let mut n = 100;
        move || {
            n += 1;
            n
        }
    }

    fn waiting(r: &str) -> Where {
        Where::Waiting(r.into())
    }

    fn called(r: &str) -> Where {
        Where::Called(r.into())
    }

    #[test]
    fn a_join_starts_an_entry_and_an_unchanged_one_writes_nothing() {
        let got = plan(
            BTreeMap::from([(2, open(7, "B", "waiting"))]),
            &[(1, waiting("A"), "moved"), (2, waiting("B"), "moved")],
            ids(),
        );
        assert_eq!(
            got,
            [Entry {
                id: 101,
                booking: 1,
                room: "A".into(),
                state: "waiting".into(),
                new: true,
                called: false,
                ended: false,
            }]
        );
    }

    #[test]
    fn a_call_updates_the_entry_and_a_finish_ends_it_as_done() {
        let got = plan(
            BTreeMap::from([(1, open(7, "A", "waiting"))]),
            &[(1, called("A"), "moved"), (1, waiting("B"), "done")],
            ids(),
        );
        assert_eq!(got.len(), 2, "{got:?}");
        // Called, then ended: one update with both times.
        assert_eq!(
            (
                got[0].id,
                got[0].state.as_str(),
                got[0].called,
                got[0].ended
            ),
            (7, "done", true, true)
        );
        assert_eq!(
            (
                got[1].id,
                got[1].room.as_str(),
                got[1].state.as_str(),
                got[1].new
            ),
            (101, "B", "waiting", true)
        );
    }

    #[test]
    fn waiting_again_after_a_call_is_a_no_show_and_a_waiting_finish_a_move() {
        let got = plan(
            BTreeMap::from([(1, open(7, "A", "called")), (2, open(8, "B", "waiting"))]),
            &[(1, waiting("A"), "moved"), (2, Where::Done, "done")],
            ids(),
        );
        let states: Vec<(i64, &str, bool)> = got
            .iter()
            .map(|e| (e.id, e.state.as_str(), e.new))
            .collect();
        assert_eq!(
            states,
            [
                (7, "no_show", false),
                (8, "moved", false),
                (101, "waiting", true)
            ]
        );
    }

    #[test]
    fn an_entry_started_and_ended_in_one_change_is_inserted_ended() {
        let got = plan(
            BTreeMap::new(),
            &[
                (1, waiting("A"), "moved"),
                (1, called("A"), "moved"),
                (1, Where::Left, "left"),
            ],
            ids(),
        );
        assert_eq!(got.len(), 1, "{got:?}");
        let e = &got[0];
        assert_eq!(
            (e.id, e.state.as_str(), e.new, e.called, e.ended),
            (101, "left", true, true, true)
        );
    }
}
