//! What a visit's steps leave in `interface_items`: written set-wise, one
//! upsert per kind of step for every visit synced together.

use sqlx::{Any, Transaction};

use crate::db::Result;
use crate::interfaces::Counterpart;

pub(super) enum Update {
    Ordered(String, Counterpart, u32, String),
    Cancelled(String),
    Charged(Vec<String>),
    Refunded(Vec<String>),
}

/// One row of `interface_items` as a step leaves it.
struct ItemRow<'a> {
    booking_id: i64,
    code: &'a str,
    counterpart: Option<&'static str>,
    generation: i64,
    order_no: Option<&'a str>,
}

/// Per kind of step (ordered, cancelled, charged, refunded): the flags of
/// a row made by it, and what it changes in a row that exists.
const RECORDS: [(&str, &str); 4] = [
    (
        "1, 0, 0",
        "counterpart = excluded.counterpart, generation = excluded.generation, ordered = 1,
         order_no = excluded.order_no, result = 'none', result_at = NULL",
    ),
    ("0, 0, 0", "ordered = 0"),
    ("0, 1, 0", "charged = 1, refunded = 0"),
    ("0, 0, 1", "refunded = 1"),
];

/// Writes the steps into `interface_items` (the row made on first use):
/// one upsert per kind of step, however many visits. A visit comes once
/// and its plan names an item once per kind, so no statement meets the
/// same row twice.
pub(super) async fn record(tx: &mut Transaction<'_, Any>, updates: &[(i64, Update)]) -> Result<()> {
    let mut kinds: [Vec<ItemRow>; 4] = Default::default();
    let plain = |booking_id, code| ItemRow {
        booking_id,
        code,
        counterpart: None,
        generation: 0,
        order_no: None,
    };
    for (booking_id, u) in updates {
        let booking_id = *booking_id;
        match u {
            Update::Ordered(code, c, g, order_no) => kinds[0].push(ItemRow {
                booking_id,
                code,
                counterpart: Some(c.as_str()),
                generation: i64::from(*g),
                order_no: Some(order_no),
            }),
            Update::Cancelled(code) => kinds[1].push(plain(booking_id, code)),
            Update::Charged(codes) => kinds[2].extend(codes.iter().map(|c| plain(booking_id, c))),
            Update::Refunded(codes) => kinds[3].extend(codes.iter().map(|c| plain(booking_id, c))),
        }
    }
    for (rows, (flags, set)) in kinds.iter().zip(RECORDS) {
        for chunk in rows.chunks(crate::db::ROWS_PER_STATEMENT) {
            let values = (0..chunk.len())
                .map(|r| {
                    let p = r * 5;
                    format!(
                        "(${}, ${}, ${}, ${}, {flags}, 'none', ${})",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO interface_items(booking_id, item_code, counterpart, generation, ordered, charged, refunded, result, order_no)
                 VALUES {values} ON CONFLICT (booking_id, item_code) DO UPDATE SET {set}"
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.booking_id)
                    .bind(r.code)
                    .bind(r.counterpart)
                    .bind(r.generation)
                    .bind(r.order_no);
            }
            q.execute(&mut **tx).await?;
        }
    }
    Ok(())
}
