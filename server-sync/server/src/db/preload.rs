//! A year of a large centre's history, loaded for the data-size benchmark
//! (issue 21: `desk_load --preload-visits`). Not a route and not a
//! migration: benchmarks call it on a fresh store before the service
//! starts.
//!
//! Every visit goes through the desk's own `create_visit_unlogged` (the
//! person sealed, the exam number, the items, HIS's messages, the change
//! numbers), so the tables and indexes hold what a year of the desk would
//! leave; only the audit lines are left out (a chain of half a million
//! lines is the audit check's benchmark, not this one). Ids are made on the
//! visit's day ([`in_the_past`]), so id-range reads ("today's first id")
//! meet a year of older rows below them, as they would in a real store;
//! the other timestamps are the loading time.

use std::cell::Cell;

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use exam_domain::catalogue::Catalogue;
use exam_domain::exam_no::ExamNoRule;
use exam_domain::plan::{self, PlanRequest};
use exam_domain::slot::SlotTemplate;
use exam_domain::{Marital, demo};

use super::desk::{DeskError, NewVisit, Stamp, VisitKind, create_visit_unlogged};
use super::{Db, EPOCH_MS, SEQ_BITS};

tokio::task_local! {
    /// The id clock of a load of history: local id units (milliseconds
    /// shifted, then a counter), counted up from the day being loaded.
    static PAST: Cell<i64>;
}

/// Ids made by `next_id` inside `f` read the clock of `at` (counting up
/// from it) rather than now. Only for loading history, whose days lie
/// before anything the running service makes.
pub async fn in_the_past<F: std::future::Future>(at: chrono::DateTime<Utc>, f: F) -> F::Output {
    let local = (at.timestamp_millis() - EPOCH_MS).max(0) << SEQ_BITS;
    PAST.scope(Cell::new(local), f).await
}

/// The next id unit of a history load, if one is running on this task.
pub(super) fn past_id_unit() -> Option<i64> {
    PAST.try_with(|c| {
        let v = c.get();
        c.set(v + 1);
        v
    })
    .ok()
}

/// What a load made.
#[derive(Debug, Default, Clone, Copy)]
pub struct Loaded {
    pub visits: usize,
    /// People already booked that day (a repeat in the generated data).
    pub skipped: usize,
    /// What the store holds afterwards.
    pub visits_held: i64,
    pub item_rows: i64,
}

impl Db {
    /// `per_day` visits on each of the `days` days before `today` at
    /// `campus` (prefix `prefix`), oldest first, packages in turn from
    /// `packages`; `batch` visits a transaction. `progress` hears each
    /// day's end with the visits so far.
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    pub async fn preload_history(
        &self,
        cat: &Catalogue,
        rule: &ExamNoRule,
        tpl: &SlotTemplate,
        (campus, prefix): (&str, &str),
        packages: &[&str],
        today: NaiveDate,
        (days, per_day, batch): (u32, usize, usize),
        mut progress: impl FnMut(NaiveDate, usize),
    ) -> Result<Loaded, DeskError> {
        let mut out = Loaded::default();
        let first = NaiveTime::from_hms_opt(7, 30, 0).expect("a time");
        let last = NaiveTime::from_hms_opt(10, 30, 0).expect("a time");
        for back in (1..=days).rev() {
            let date = today - Duration::days(i64::from(back));
            // The people of that day: names, sexes and ID numbers as the
            // demo makes them (a seed per day, distinct from today's demo).
            let day = demo::generate(0x7ea7 ^ u64::from(back), per_day, date, first, last, campus);
            let morning = exam_domain::centre_offset()
                .from_local_datetime(&date.and_time(first))
                .single()
                .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
            let loaded = in_the_past(morning, async {
                let mut loaded = Loaded::default();
                for (n, people) in day.people.chunks(batch.max(1)).enumerate() {
                    let mut tx = self.pool.begin().await?;
                    for (i, person) in people.iter().enumerate() {
                        let k = n * batch + i;
                        let request = PlanRequest {
                            package: Some(packages[k % packages.len()].to_string()),
                            add: vec![],
                            remove: vec![],
                        };
                        let marital = if k % 3 == 0 {
                            Marital::Unmarried
                        } else {
                            Marital::Married
                        };
                        let Ok(plan) = plan::plan(cat, person.sex, marital, &request) else {
                            loaded.skipped += 1;
                            continue;
                        };
                        let start = first + Duration::minutes(30 * (k % 7) as i64);
                        let v = NewVisit {
                            initials: crate::workflow::initials(&person.name),
                            person: person.clone(),
                            marital,
                            campus: campus.to_string(),
                            campus_prefix: prefix.to_string(),
                            date,
                            slot: (start, start + Duration::minutes(30)),
                            take_slot: false,
                            package_name: crate::workflow::desk::package_name(cat, &plan),
                            plan,
                            flags: vec![],
                            kind: VisitKind::Individual,
                            member_id: None,
                            register_now: true,
                            pay_later: false,
                        };
                        match create_visit_unlogged(
                            &mut tx,
                            &self.keys,
                            "preload",
                            rule,
                            tpl,
                            &v,
                            None,
                            Stamp::InTransaction,
                        )
                        .await
                        {
                            Ok(_) => loaded.visits += 1,
                            Err(DeskError::AlreadyBooked { .. }) => loaded.skipped += 1,
                            Err(e) => return Err(e),
                        }
                    }
                    tx.commit().await?;
                }
                Ok::<_, DeskError>(loaded)
            })
            .await?;
            out.visits += loaded.visits;
            out.skipped += loaded.skipped;
            progress(date, out.visits);
        }
        let count = |sql: &'static str| async move {
            let row = sqlx::query(sql).fetch_one(&self.read).await?;
            sqlx::Row::try_get::<i64, _>(&row, 0).map_err(super::DbError::from)
        };
        out.visits_held = count("SELECT CAST(COUNT(*) AS BIGINT) FROM bookings").await?;
        out.item_rows = count("SELECT CAST(COUNT(*) AS BIGINT) FROM booking_items").await?;
        Ok(out)
    }
}
