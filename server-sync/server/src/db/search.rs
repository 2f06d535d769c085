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

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl Db {
    pub async fn search(&self, key: &SearchKey, limit: i64) -> Result<Vec<Hit>> {
        let (sql, arg) = match key {
            SearchKey::IdNumber(v) => (
                select_visit!(
                    "WHERE b.id_number = $1 ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"
                ),
                v.clone(),
            ),
            SearchKey::Mobile(v) => (
                select_visit!("WHERE p.mobile = $1 ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"),
                v.clone(),
            ),
            SearchKey::Number(v) => (
                select_visit!("WHERE b.exam_no = $1 OR b.code = $1 ORDER BY b.id DESC LIMIT $2"),
                v.clone(),
            ),
            SearchKey::Initials(v) => (
                select_visit!(
                    "WHERE p.initials LIKE $1 ESCAPE '\\' ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"
                ),
                format!("{}%", like_escape(v)),
            ),
            SearchKey::Name(v) => (
                select_visit!(
                    "WHERE p.name LIKE $1 ESCAPE '\\' ORDER BY b.exam_date DESC, b.id DESC LIMIT $2"
                ),
                format!("%{}%", like_escape(v)),
            ),
        };
        let rows = sqlx::query(sql)
            .bind(arg)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
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
    }
}
