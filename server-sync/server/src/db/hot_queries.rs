//! The hot paths' SQL in one list, for `tests/query_plans.rs`: it asks each
//! store for the plan of every entry and fails when a table that grows is
//! read whole instead of searched through an index. The entries are the
//! statements the service runs (the same consts and builders), not copies,
//! so an index that goes missing, or a query rewritten past its index,
//! fails that test rather than a benchmark months later.
//!
//! Hot: what the desk benchmark and the kiosks hit (booking, walk-in,
//! visit details, search, the queue's calls and rooms, room screens, the
//! kiosks' push and pull), what every staff request does (its session),
//! and what runs every minute over the whole store (the no-show sweep,
//! the alarms' counts). Inserts by key are left out: they read nothing.

use std::borrow::Cow;

use super::Backend;
use crate::alarms::facts as alarms;
use crate::interfaces::facts;
use crate::queue::store as queue;

/// A sample value for a placeholder: the n-th for `$n`.
#[derive(Debug, Clone, Copy)]
pub enum Bind {
    Int(i64),
    Text(&'static str),
}

/// One statement of a hot path.
#[derive(Debug, Clone)]
pub struct HotQuery {
    /// Where it runs (a failure names it).
    pub name: &'static str,
    pub sql: Cow<'static, str>,
    pub binds: &'static [Bind],
    /// Tables that must be reached through an index, each as `table` or
    /// `table alias` (SQLite's plans name a table by its alias).
    pub indexed: &'static [&'static str],
    /// Columns some index must be searched by. For statements that follow
    /// a cursor or a date: an index searched by its first column only
    /// would still read a set that grows (all of a campus's changes, every
    /// booking still to come).
    pub searched_by: &'static [&'static str],
    /// Only on this store (the initials search differs by store).
    pub only: Option<Backend>,
    /// Its rows come in the order it asks from an index: no sort of every
    /// match for the first few (a `LIMIT` over a set that grows).
    pub in_order: bool,
}

impl HotQuery {
    fn new(
        name: &'static str,
        sql: impl Into<Cow<'static, str>>,
        binds: &'static [Bind],
        indexed: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            sql: sql.into(),
            binds,
            indexed,
            searched_by: &[],
            only: None,
            in_order: false,
        }
    }

    fn by(mut self, columns: &'static [&'static str]) -> Self {
        self.searched_by = columns;
        self
    }

    fn ordered(mut self) -> Self {
        self.in_order = true;
        self
    }

    fn only(mut self, backend: Backend) -> Self {
        self.only = Some(backend);
        self
    }
}

use Bind::{Int, Text};

const DAY: Bind = Text("2026-03-16");
const LAST_DAY: Bind = Text("2026-03-22");
const TIME: Bind = Text("08:00:00");
const AT: Bind = Text("2026-03-16T08:00:00.000Z");
const CAMPUS: Bind = Text("main");
const ROOM: Bind = Text("us1");
const ID: Bind = Int(1);
const KEY: Bind = Text("person-key");
/// Three values for the statements built for an IN list.
const IDS: &[Bind] = &[Int(1), Int(2), Int(3)];
/// [`IDS`], then a day.
const IDS_DAY: &[Bind] = &[Int(1), Int(2), Int(3), DAY];
const CODES: &[Bind] = &[Text("BK1"), Text("BK2"), Text("BK3")];

/// Every hot statement.
pub fn all() -> Vec<HotQuery> {
    use super::{
        audit, bookings, desk, events, items, people, privacy, scope, search, sessions, slots,
        staff, visits,
    };
    use HotQuery as Q;
    vec![
        // POST /api/desk/visits: a booking into a slot, a walk-in registered now.
        Q::new(
            "visit: the person by key",
            people::PERSON_BY_KEY,
            &[KEY],
            &["people"],
        ),
        Q::new(
            "visit: the person by key with their visit that day",
            people::PERSON_AND_DAY,
            &[KEY, DAY],
            &["people p", "bookings b"],
        ),
        Q::new(
            "visit: one a day (its person stored by another desk a moment before)",
            desk::SAME_DAY_VISIT,
            &[KEY, DAY],
            &["bookings"],
        ),
        Q::new(
            "booking: the day's slots",
            slots::DAY_SLOT_COUNT,
            &[CAMPUS, DAY],
            &["slots"],
        ),
        Q::new(
            "booking: a slot made on first use",
            slots::SLOT_FROM_BOOKINGS,
            &[CAMPUS, DAY, TIME, Text("08:30:00"), Int(40)],
            &["bookings"],
        ),
        Q::new(
            "booking: a place taken",
            slots::TAKE_PLACE,
            &[CAMPUS, DAY, TIME],
            &["slots"],
        ),
        Q::new(
            "booking: its SMS requested once",
            crate::sms::store::SMS_EXISTS,
            &[Text("sms.booking:1")],
            &["sms_messages"],
        ),
        // interfaces::facts::sync_visit: a walk-in, a kiosk check-in.
        Q::new(
            "sync_visit: the visits' row locks",
            facts::lock_visits_sql(IDS.len()),
            IDS,
            &["bookings"],
        ),
        Q::new(
            "sync_visit: the visits, whether their groups pay later, their messages' highest number",
            visits::visits_to_sync_sql(IDS.len()),
            IDS,
            &[
                "bookings b",
                "people p",
                "group_members m",
                "exam_groups g",
                "interface_messages x",
            ],
        ),
        Q::new(
            "sync_visit: the visits' items",
            visits::visits_items_sql(IDS.len()),
            IDS,
            &["booking_items"],
        ),
        Q::new(
            "sync_visit: what was sent",
            facts::sent_items_sql(IDS.len()),
            IDS,
            &["interface_items"],
        ),
        Q::new(
            "sync_visit: the items' catalogue rows",
            facts::load_items_sql(IDS.len()),
            IDS,
            &["booking_items", "interface_items"],
        ),
        Q::new(
            "sync_visit: charges and refunds so far",
            facts::count_kinds_sql(IDS.len()),
            IDS,
            &["interface_messages"],
        ),
        // Every change and every read of personal data writes an audit line.
        Q::new(
            "audit line: the previous hash",
            audit::PREV_HASH,
            &[Int(100)],
            &["audit_log"],
        )
        .by(&["seq"]),
        // On PostgreSQL a line is placed after its commit: the chainer
        // reads the lines waiting, then the hash before as above.
        Q::new(
            "audit chainer (PostgreSQL): the lines waiting",
            audit::PENDING,
            &[Int(1000)],
            &["audit_log"],
        )
        .only(Backend::Postgres),
        // GET /api/desk/visits/{id}: the visit, its items, earlier visits.
        Q::new(
            "visit details: the visit",
            visits::VISIT_BY_ID,
            &[ID],
            &["bookings b", "people p"],
        ),
        Q::new(
            "visit details: its items",
            visits::VISIT_ITEMS,
            &[ID],
            &["booking_items"],
        ),
        Q::new(
            "search by ID number (and earlier visits)",
            search::SEARCH_BY_ID_NUMBER,
            &[KEY, Int(50)],
            &["bookings b", "people p"],
        ),
        // GET /api/desk/search?q=
        Q::new(
            "search by mobile",
            search::SEARCH_BY_MOBILE,
            &[Text("mobile-index"), Int(50)],
            &["people p", "bookings b"],
        ),
        Q::new(
            "search by exam number or booking code",
            search::SEARCH_BY_NUMBER,
            &[Text("BK18A"), Int(50)],
            &["bookings b", "people p"],
        ),
        Q::new(
            "search by name",
            search::SEARCH_BY_NAME,
            &[Text("name-token"), Int(50)],
            &["person_name_tokens", "bookings b", "people p"],
        ),
        Q::new(
            "search by pinyin initials",
            search::SEARCH_BY_INITIALS_SQLITE,
            &[Text("yc"), Text("yd"), Int(50)],
            &["people", "bookings b", "people p"],
        )
        .only(Backend::Sqlite),
        Q::new(
            "search by pinyin initials",
            search::SEARCH_BY_INITIALS_PG,
            &[Text("yc%"), Int(50)],
            &["people", "bookings b", "people p"],
        )
        .only(Backend::Postgres),
        // The queue: call-next and finish (queue::apply_all), the doctor
        // station's room, the room screens, joining.
        Q::new(
            "queue: the day's log read on",
            queue::EVENTS_AFTER,
            &[CAMPUS, DAY, Int(0)],
            &["queue_events"],
        )
        .by(&["day", "id"]),
        Q::new(
            "queue: a change's people's open entries",
            crate::queue::entries::open_entries_sql(3),
            &[DAY, Int(1), Int(2), Int(3)],
            &["queue_entries"],
        )
        .by(&["booking_id"]),
        Q::new(
            "queue: a visit's campus",
            queue::VISIT_CAMPUS,
            &[ID],
            &["bookings"],
        ),
        Q::new(
            "queue: a visit's stops",
            queue::ACTIVE_ITEMS,
            &[ID],
            &["booking_items"],
        ),
        Q::new(
            "queue: the joiner's visits' stops",
            queue::active_items_sql(IDS.len()),
            IDS,
            &["booking_items"],
        )
        .by(&["booking_id"]),
        Q::new(
            "queue: names of visits",
            queue::who_sql(IDS.len()),
            IDS,
            &["bookings b", "people p"],
        ),
        Q::new(
            "room: since when the people listed wait",
            queue::waiting_since_sql(IDS.len()),
            IDS_DAY,
            &["queue_entries"],
        )
        .by(&["booking_id"]),
        Q::new(
            "room: its day",
            queue::ROOM_DAY,
            &[CAMPUS, DAY, ROOM],
            &["queue_entries"],
        )
        .by(&["room"]),
        // Every minute (the prune job): visits whose change number was
        // lost between their commit and its stamp.
        Q::new(
            "prune: visits without a change number",
            bookings::UNSTAMPED,
            &[CAMPUS],
            &["bookings"],
        )
        .by(&["campus"]),
        // /figures (E14): a week of a year's ledger and bookings.
        Q::new(
            "figures: the days' ledger",
            crate::finance::store::DAY_LEDGER,
            &[DAY, LAST_DAY],
            &["ledger"],
        )
        .by(&["day"]),
        Q::new(
            "figures: a campus's visits of the day",
            crate::finance::store::DAY_VISITS,
            &[CAMPUS, DAY, LAST_DAY],
            &["bookings"],
        )
        .by(&["exam_date"]),
        Q::new(
            "figures: what a campus's arrived visits owe",
            crate::finance::store::DAY_OUTSTANDING,
            &[CAMPUS, DAY, LAST_DAY],
            &["bookings b", "booking_items i"],
        )
        .by(&["exam_date"]),
        Q::new(
            "room: its history",
            queue::ROOM_HISTORY,
            &[CAMPUS, DAY, ROOM],
            &["queue_entries"],
        )
        .by(&["room"]),
        Q::new(
            "room screen: calls after its cursor",
            queue::CALLS_AFTER,
            &[CAMPUS, Int(0), ROOM, Int(200)],
            &["queue_calls"],
        )
        .by(&["seq"]),
        Q::new(
            "queue join: arrivals not joined",
            queue::TO_JOIN,
            &[CAMPUS, DAY, Int(0)],
            &["bookings b", "queue_people q"],
        )
        .by(&["change_seq"]),
        // The kiosks' push of check-ins (db/events.rs, and sync_visit above).
        Q::new(
            "push: campuses by id",
            scope::campuses_by_id_sql(IDS.len()),
            IDS,
            &["bookings"],
        ),
        Q::new(
            "push: campuses by code",
            scope::campuses_by_code_sql(CODES.len()),
            CODES,
            &["bookings"],
        ),
        Q::new(
            "check-in: the bookings",
            events::bookings_for_check_in_sql(IDS.len()),
            IDS,
            &["bookings"],
        ),
        Q::new(
            "check-in: marked",
            events::check_in_bookings_sql(2),
            &[Int(1), Int(7), Int(2), Int(8)],
            &["bookings"],
        ),
        Q::new(
            "check-in: whose consent",
            privacy::PERSON_OF_VISIT,
            &[ID],
            &["bookings"],
        ),
        Q::new(
            "check-in: a no to photos",
            privacy::DELETE_PHOTOS,
            &[KEY],
            &["visit_photos", "bookings"],
        ),
        // The kiosks' pull.
        Q::new(
            "pull: changes since the cursor",
            bookings::CHANGES_SINCE,
            &[CAMPUS, Int(0), Int(501)],
            &["bookings b", "people p"],
        )
        .by(&["change_seq"]),
        Q::new(
            "pull: the bookings' items",
            items::items_of_sql(IDS.len()),
            IDS,
            &["booking_items"],
        ),
        // Every staff request.
        Q::new(
            "session: the record",
            sessions::SESSION_RECORD,
            &[Text("token-hash")],
            &["staff_sessions s", "staff_users u"],
        ),
        Q::new(
            "session: touched",
            sessions::TOUCH_SESSION,
            &[Text("token-hash"), AT],
            &["staff_sessions"],
        ),
        // The registrations page and its live stream.
        Q::new(
            "registrations: the page",
            staff::REGISTRATIONS_NEWEST_FIRST,
            &[AT, Int(0), Int(500)],
            &["registrations r", "bookings b", "people p"],
        ),
        Q::new(
            "registrations: the live stream",
            staff::REGISTRATIONS_OLDEST_FIRST,
            &[AT, Int(0), Int(100)],
            &["registrations r", "bookings b", "people p"],
        ),
        // Every minute, over the whole store.
        Q::new("no-show sweep", desk::NO_SHOWS, &[DAY, TIME], &["bookings"]).by(&["exam_date"]),
        Q::new(
            "alarms: refusals of late",
            alarms::RECENT_REFUSALS,
            &[AT],
            &["audit_log"],
        )
        .by(&["at"]),
        Q::new(
            "alarms: check-ins in the future",
            alarms::REGISTRATIONS_IN_FUTURE,
            &[AT],
            &["registrations"],
        ),
        Q::new(
            "alarms: negative amounts",
            alarms::NEGATIVE_AMOUNTS,
            &[],
            &["bookings", "booking_items"],
        ),
        Q::new(
            "alarms: a line's open messages",
            crate::interfaces::view::LINE_OPEN_COUNTS,
            &[Text("his")],
            &["interface_messages"],
        ),
        // Before every message an interface sender delivers, and the
        // alarms' failing head.
        Q::new(
            "interfaces: the number a visit's next message must exceed",
            crate::interfaces::store::seq_floor_sql(3),
            IDS,
            &["interface_messages"],
        ),
        Q::new(
            "interfaces: a line's next message",
            crate::interfaces::store::LINE_NEXT,
            &[Text("his")],
            &["interface_messages"],
        )
        .ordered(),
        Q::new(
            "interfaces: a line's newest error",
            crate::interfaces::view::LINE_LAST_ERROR,
            &[Text("his")],
            &["interface_messages"],
        ),
        Q::new(
            "alarms: rows outside the chain",
            audit::UNCHAINED,
            &[AT],
            &["audit_log"],
        ),
    ]
}
