//! Front-desk search (E1, E11): by name, ID number, mobile, exam number,
//! booking code or pinyin initials, one box for all.

use exam_domain::IdNumber;
use sqlx::Row;

use super::bookings::decode;
use super::people::{mobile_index, name_query_token, normalize_name, person_key};
use super::visits::select_visit;
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

// The search box's statements, one per kind of key. Each finds people by
// an index first and only then their visits: left to itself the planner
// walks every booking in date order.
pub(crate) const SEARCH_BY_ID_NUMBER: &str =
    select_visit!("WHERE b.person_key = $1 ORDER BY b.exam_date DESC, b.id DESC LIMIT $2");
pub(crate) const SEARCH_BY_MOBILE: &str =
    select_visit!("WHERE p.mobile_idx = $1 ORDER BY b.exam_date DESC, b.id DESC LIMIT $2");
pub(crate) const SEARCH_BY_NUMBER: &str =
    select_visit!("WHERE b.exam_no = $1 OR b.code = $1 ORDER BY b.id DESC LIMIT $2");
pub(crate) const SEARCH_BY_NAME: &str = select_visit!(
    "WHERE b.person_key IN (SELECT person_key FROM person_name_tokens WHERE token = $1 LIMIT 200) ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"
);
/// Initials by prefix on SQLite: a range on the index (binary order is
/// code-point order, so the range is exact).
pub(crate) const SEARCH_BY_INITIALS_SQLITE: &str = select_visit!(
    "WHERE b.person_key IN (SELECT person_key FROM people WHERE initials >= $1 AND initials < $2 LIMIT 200) ORDER BY b.exam_date DESC, b.id DESC LIMIT $3"
);
/// Initials by prefix on PostgreSQL, whose collation is not code-point
/// order: LIKE, served by the `text_pattern_ops` index.
pub(crate) const SEARCH_BY_INITIALS_PG: &str = select_visit!(
    "WHERE b.person_key IN (SELECT person_key FROM people WHERE initials LIKE $1 ESCAPE '\\' LIMIT 200) ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"
);

impl Db {
    pub async fn search(&self, key: &SearchKey, limit: i64) -> Result<Vec<Hit>> {
        // ID numbers, mobiles and names are sealed: they are found by their
        // blind indexes (db/people.rs). Initials match by prefix: on SQLite
        // a range on the index (binary order is code-point order, so the
        // range is exact); PostgreSQL's collation is not, so it gets LIKE.
        let sqlite = self.backend == super::Backend::Sqlite;
        let rows = match key {
            SearchKey::IdNumber(v) => {
                let Ok(id) = IdNumber::parse(v) else {
                    return Ok(vec![]);
                };
                sqlx::query(SEARCH_BY_ID_NUMBER)
                    .bind(person_key(&self.keys, &id))
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
            SearchKey::Mobile(v) => {
                sqlx::query(SEARCH_BY_MOBILE)
                    .bind(mobile_index(&self.keys, v))
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
            SearchKey::Number(v) => {
                sqlx::query(SEARCH_BY_NUMBER)
                    .bind(v)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
            SearchKey::Name(v) => {
                let Some(token) = name_query_token(&self.keys, v) else {
                    return Ok(vec![]);
                };
                // People first (by their token), then their visits.
                sqlx::query(SEARCH_BY_NAME)
                    .bind(token)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
            }
            SearchKey::Initials(v) => {
                if sqlite {
                    sqlx::query(SEARCH_BY_INITIALS_SQLITE)
                        .bind(v)
                        .bind(after_prefix(v))
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?
                } else {
                    sqlx::query(SEARCH_BY_INITIALS_PG)
                        .bind(format!("{}%", like_escape(v)))
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?
                }
            }
        };
        let typed_name = match key {
            SearchKey::Name(v) => Some(normalize_name(v)),
            _ => None,
        };
        let mut hits = Vec::with_capacity(rows.len());
        for r in &rows {
            let record = decode(r, &self.keys)?;
            // A token stands for at most `MAX_PREFIX` characters (and two
            // prefixes could share one): the opened name decides.
            if let Some(t) = &typed_name
                && !normalize_name(&record.person.name).starts_with(t.as_str())
            {
                continue;
            }
            hits.push(Hit {
                record,
                kind: r.try_get("kind")?,
                flags: r.try_get("flags")?,
            });
        }
        Ok(hits)
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
