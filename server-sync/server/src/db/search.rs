//! Front-desk search (E1, E11): by name, ID number, mobile, exam number,
//! booking code or pinyin initials, one box for all.

use exam_domain::IdNumber;
use sqlx::Row;

use super::bookings::decode;
use super::desk::select_visit;
use super::{Db, Result};
use exam_protocol::BookingRecord;

/// What the words typed into the search box mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    IdNumber(String),
    Mobile(String),
    /// Exam number or booking code.
    Number(String),
    Initials(String),
    Name(String),
}

impl SearchKey {
    pub fn parse(q: &str) -> Option<Self> {
        let q = q.trim();
        if q.is_empty() || q.chars().count() > 40 {
            return None;
        }
        if let Ok(id) = IdNumber::parse(q) {
            return Some(Self::IdNumber(id.as_str().into()));
        }
        if q.len() == 11 && q.starts_with('1') && q.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Self::Mobile(q.into()));
        }
        if q.bytes().all(|b| b.is_ascii_digit()) || q.to_ascii_uppercase().starts_with("BK") {
            return Some(Self::Number(q.to_ascii_uppercase()));
        }
        if q.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Some(Self::Initials(q.to_ascii_lowercase()));
        }
        Some(Self::Name(q.into()))
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    pub record: BookingRecord,
    pub kind: String,
    pub flags: String,
}

/// The smallest string above every string that starts with `prefix`
/// (its last character moved up by one code point).
fn after_prefix(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(c) = chars.pop() {
        if let Some(next) = char::from_u32(c as u32 + 1) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    "\u{10FFFF}".into()
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Db {
    pub async fn search(&self, key: &SearchKey, limit: i64) -> Result<Vec<Hit>> {
        // Initials and names match by prefix. On SQLite a prefix is a range
        // on the index (binary order is code-point order, so the range is
        // exact); PostgreSQL's collation is not, so it gets LIKE.
        let sqlite = self.backend == super::Backend::Sqlite;
        let prefix = |v: &str| {
            (
                v.to_string(),
                after_prefix(v),
                format!("{}%", like_escape(v)),
            )
        };
        let rows = match key {
            SearchKey::IdNumber(v) => {
                sqlx::query(select_visit!(
                    "WHERE b.id_number = $1 ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"
                ))
                .bind(v)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
            SearchKey::Mobile(v) => {
                sqlx::query(select_visit!(
                    "WHERE p.mobile = $1 ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"
                ))
                .bind(v)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
            SearchKey::Number(v) => {
                sqlx::query(select_visit!(
                    "WHERE b.exam_no = $1 OR b.code = $1 ORDER BY b.id DESC LIMIT $2"
                ))
                .bind(v)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
            SearchKey::Initials(v) | SearchKey::Name(v) => {
                let (lo, hi, like) = prefix(v);
                let initials = matches!(key, SearchKey::Initials(_));
                // People first (by their index), then their visits: left to
                // itself the planner walks every booking in date order.
                let q = match (sqlite, initials) {
                    (true, true) => select_visit!(
                        "WHERE b.id_number IN (SELECT id_number FROM people WHERE initials >= $1 AND initials < $2 LIMIT 200) ORDER BY b.exam_date DESC, b.id DESC LIMIT $3"
                    ),
                    (true, false) => select_visit!(
                        "WHERE b.id_number IN (SELECT id_number FROM people WHERE name >= $1 AND name < $2 LIMIT 200) ORDER BY b.exam_date DESC, b.id DESC LIMIT $3"
                    ),
                    (false, true) => select_visit!(
                        "WHERE b.id_number IN (SELECT id_number FROM people WHERE initials LIKE $1 ESCAPE '\\' LIMIT 200) ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"
                    ),
                    (false, false) => select_visit!(
                        "WHERE b.id_number IN (SELECT id_number FROM people WHERE name LIKE $1 ESCAPE '\\' LIMIT 200) ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"
                    ),
                };
                if sqlite {
                    sqlx::query(q)
                        .bind(lo)
                        .bind(hi)
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?
                } else {
                    sqlx::query(q)
                        .bind(like)
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?
                }
            }
        };
        rows.iter()
            .map(|r| {
                Ok(Hit {
                    record: decode(r)?,
                    kind: r.try_get("kind")?,
                    flags: r.try_get("flags")?,
                })
            })
            .collect()
    }

    /// People whose pinyin initials are not computed yet (seeded rows).
    pub async fn people_without_initials(&self, limit: i64) -> Result<Vec<(String, String)>> {
        sqlx::query("SELECT id_number, name FROM people WHERE initials = '' LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id_number")?, r.try_get("name")?)))
            .collect()
    }

    pub async fn set_initials(&self, rows: &[(String, String)]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (id, initials) in rows {
            sqlx::query("UPDATE people SET initials = $2 WHERE id_number = $1")
                .bind(id)
                .bind(initials)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_box_understands_what_was_typed() {
        assert_eq!(
            SearchKey::parse("11010519491231002x"),
            Some(SearchKey::IdNumber("11010519491231002X".into()))
        );
        assert_eq!(
            SearchKey::parse("13800138000"),
            Some(SearchKey::Mobile("13800138000".into()))
        );
        assert_eq!(
            SearchKey::parse("123560001"),
            Some(SearchKey::Number("123560001".into()))
        );
        assert_eq!(
            SearchKey::parse("bk18a"),
            Some(SearchKey::Number("BK18A".into()))
        );
        assert_eq!(
            SearchKey::parse("ZS"),
            Some(SearchKey::Initials("zs".into()))
        );
        assert_eq!(
            SearchKey::parse(" 张三 "),
            Some(SearchKey::Name("张三".into()))
        );
        assert_eq!(SearchKey::parse("  "), None);
        assert_eq!(like_escape("a%_\\"), "a\\%\\_\\\\");
        assert_eq!(after_prefix("zs"), "zt");
        assert_eq!(after_prefix("欧阳"), "欧阴");
    }
}
