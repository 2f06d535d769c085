//! Schema migrations, tracked in `PRAGMA user_version`. Append only: a
//! migration that shipped is never edited, so every kiosk's journal reaches
//! the same schema whatever version it started from (R5).

use rusqlite::Connection;

use crate::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: outbox, local check-ins, offline cache, print jobs, settings.
    r#"
    CREATE TABLE outbox (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        id         TEXT NOT NULL UNIQUE,
        kind       TEXT NOT NULL,
        payload    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        acked_at   TEXT,
        rejected   TEXT,
        attempts   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_pending ON outbox(seq) WHERE acked_at IS NULL AND rejected IS NULL;

    CREATE TABLE checkins (
        event_id      TEXT PRIMARY KEY REFERENCES outbox(id),
        booking_id    INTEGER NOT NULL,
        id_number     TEXT NOT NULL,
        identified_by TEXT NOT NULL,
        checked_in_at TEXT NOT NULL,
        offline       INTEGER NOT NULL
    );
    CREATE INDEX checkins_booking ON checkins(booking_id);

    CREATE TABLE cache_people (
        id_number  TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        sex        TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        mobile     TEXT NOT NULL
    );
    CREATE TABLE cache_bookings (
        id             INTEGER PRIMARY KEY,
        code           TEXT NOT NULL,
        exam_no        TEXT NOT NULL,
        id_number      TEXT NOT NULL,
        campus         TEXT NOT NULL,
        package        TEXT NOT NULL,
        exam_date      TEXT NOT NULL,
        slot_start     TEXT NOT NULL,
        slot_end       TEXT NOT NULL,
        amount_due_fen INTEGER NOT NULL,
        state          TEXT NOT NULL,
        change_seq     INTEGER NOT NULL
    );
    CREATE INDEX cache_bookings_id_number ON cache_bookings(id_number);
    CREATE INDEX cache_bookings_code ON cache_bookings(code);
    CREATE INDEX cache_bookings_exam_no ON cache_bookings(exam_no);

    CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE print_jobs (
        id         TEXT PRIMARY KEY,
        kind       TEXT NOT NULL,
        event_id   TEXT REFERENCES outbox(id),
        person     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE TABLE print_parts (
        job_id     TEXT NOT NULL REFERENCES print_jobs(id),
        idx        INTEGER NOT NULL,
        printer    TEXT NOT NULL,
        body       BLOB NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done', 'failed')),
        attempts   INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (job_id, idx)
    );
    "#,
    // 2: documents left for the desk to hand over, and jobs moved by staff
    // to another kiosk (K15).
    r#"
    ALTER TABLE print_jobs ADD COLUMN left_behind_at TEXT;
    ALTER TABLE print_jobs ADD COLUMN moved_to TEXT;
    "#,
    // 3: what each cached booking prints (stations, lab labels), as JSON,
    // so an offline check-in prints the same as an online one.
    r#"
    ALTER TABLE cache_bookings ADD COLUMN documents TEXT;
    "#,
    // 4: a label part names its printer language ("label:tspl",
    // "label:zpl"), so nothing needs to read it from the bytes. Parts
    // journaled as plain "label" are told by their first command, as the
    // journal used to when moving them: ZPL starts `^XA`, TSPL `SIZE`
    // (a part that is neither, which no kiosk renders, is taken as TSPL).
    r#"
    UPDATE print_parts SET printer = CASE
        WHEN ltrim(CAST(body AS TEXT), ' ' || char(9, 10, 13)) LIKE '^XA%' THEN 'label:zpl'
        ELSE 'label:tspl'
      END
    WHERE printer = 'label';
    "#,
];

pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Runs the migrations up to the `upto`-th (a journal of that version).
fn migrate_to(conn: &mut Connection, upto: usize) -> Result<()> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(upto)
        .skip(found as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A journal of version 3 holds label parts as plain "label": after
    /// the migration each names its language, and the other parts keep
    /// their printer.
    #[test]
    fn label_parts_of_an_older_journal_get_their_language() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO print_jobs(id, kind, person, created_at) VALUES ('j', 'guide_sheet', 'BK1', 't');
             INSERT INTO print_parts(job_id, idx, printer, body, state, updated_at) VALUES
               ('j', 0, 'receipt', X'1B40', 'pending', 't'),
               ('j', 1, 'label', CAST('SIZE 50 mm,30 mm' AS BLOB), 'pending', 't'),
               ('j', 2, 'label', CAST(char(13, 10) || '^XA^FO1,1^XZ' AS BLOB), 'sending', 't'),
               ('j', 3, 'report', CAST('%PDF-1.4' AS BLOB), 'done', 't');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let printers: Vec<String> = conn
            .prepare("SELECT printer FROM print_parts ORDER BY idx")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(printers, ["receipt", "label:tspl", "label:zpl", "report"]);
        for p in &printers {
            assert!(p.parse::<exam_protocol::PrinterKind>().is_ok(), "{p}");
        }
    }
}
