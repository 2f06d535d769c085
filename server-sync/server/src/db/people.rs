//! People at rest (issue 17 item 9) and their identity (item 6).
//!
//! A person's ID number, name and mobile are stored sealed (AES-256-GCM
//! under the service's key ring, `exam_vault`), each bound to its column and
//! row. Rows are found through keyed blind indexes instead:
//!
//! - `people.person_key`: the ID number's blind index, the person's key in
//!   every table that refers to a person (bookings, group members, name
//!   tokens) and, as `person:<key>`, the operation log's subject;
//! - `people.mobile_idx`: the mobile's blind index (K4 checks ID + mobile);
//! - `person_name_tokens`: one token per name prefix of two characters or
//!   more (the desk's name search). A one-character prefix is not indexed:
//!   its token would group everyone by the first character of their surname.
//!
//! Pinyin initials (`people.initials`, "zsf") stay in clear: they are not
//! the name and cannot be turned back into it, and the desk searches them by
//! prefix (an index range).
//!
//! Identity fields are written once, when a person is first stored; a later
//! booking or roster import leaves them alone ([`ensure_person`]). They
//! change only through [`Db::correct_identity`], named and audited.

use chrono::Utc;
use exam_domain::{IdNumber, Person, mask};
use exam_vault::{IndexKind, KeyRing};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Db, DbError, Result, oplog, ts};

/// The shortest name prefix with a search token.
pub(crate) const MIN_PREFIX: usize = 2;
/// Prefixes longer than this share the token of their first `MAX_PREFIX`
/// characters; the opened names are compared after the lookup.
pub(crate) const MAX_PREFIX: usize = 12;

/// The person's key: the ID number's blind index.
pub(crate) fn person_key(keys: &KeyRing, id: &IdNumber) -> String {
    keys.blind_index(IndexKind::IdNumber, id.as_str())
}

/// The operation log's subject for a person (searchable, not the number).
pub(crate) fn subject(keys: &KeyRing, id: &IdNumber) -> String {
    format!("person:{}", person_key(keys, id))
}

/// The mobile's blind index; empty for no mobile.
pub(crate) fn mobile_index(keys: &KeyRing, mobile: &str) -> String {
    let m = mobile.trim();
    if m.is_empty() {
        String::new()
    } else {
        keys.blind_index(IndexKind::Mobile, m)
    }
}

/// A name as it is indexed and compared: no spaces, lower case.
pub(crate) fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The search tokens of a name: each prefix of `MIN_PREFIX` to `MAX_PREFIX`
/// characters, and the whole name when it is shorter.
pub(crate) fn name_tokens(keys: &KeyRing, name: &str) -> Vec<String> {
    let chars: Vec<char> = normalize_name(name).chars().collect();
    if chars.is_empty() {
        return vec![];
    }
    let shortest = MIN_PREFIX.min(chars.len());
    (shortest..=chars.len().min(MAX_PREFIX))
        .map(|n| {
            let prefix: String = chars[..n].iter().collect();
            keys.blind_index(IndexKind::NamePrefix, &prefix)
        })
        .collect()
}

/// The token a typed name prefix is looked up by (None: too short).
pub(crate) fn name_query_token(keys: &KeyRing, typed: &str) -> Option<String> {
    let chars: Vec<char> = normalize_name(typed).chars().collect();
    if chars.len() < MIN_PREFIX {
        return None;
    }
    let prefix: String = chars[..chars.len().min(MAX_PREFIX)].iter().collect();
    Some(keys.blind_index(IndexKind::NamePrefix, &prefix))
}

/// The associated data of a person's sealed column: a value copied to
/// another column or person does not open.
fn ad(column: &str, key: &str) -> Vec<u8> {
    format!("people.{column}|{key}").into_bytes()
}

pub(crate) fn seal_field(keys: &KeyRing, column: &str, key: &str, value: &str) -> Result<String> {
    Ok(keys.seal_str(value, &ad(column, key))?)
}

pub(crate) fn open_field(keys: &KeyRing, column: &str, key: &str, sealed: &str) -> Result<String> {
    Ok(keys.open_string(sealed, &ad(column, key))?)
}

/// The person of a row with `person_key` and the sealed `id_number`,
/// `name` and `mobile` (sex and birth date come from the ID number).
pub(crate) fn person_of_row(keys: &KeyRing, r: &AnyRow) -> Result<Person> {
    let key: String = r.try_get("person_key")?;
    let sealed = |c: &str| -> Result<String> {
        let v: String = r.try_get(c)?;
        open_field(keys, c, &key, &v)
    };
    let id_number = IdNumber::parse(&sealed("id_number")?)
        .map_err(|e| DbError::Corrupt(format!("person id number: {e}")))?;
    Ok(Person {
        sex: id_number.sex(),
        birth_date: id_number.birth_date(),
        id_number,
        name: sealed("name")?,
        mobile: sealed("mobile")?,
    })
}

/// The optional name and ID number of a LEFT JOINed person (columns
/// `person_key`, `id_number`, `name`), opened; None when no person joined.
pub(crate) fn joined_name_and_id(
    keys: &KeyRing,
    r: &AnyRow,
) -> Result<(Option<String>, Option<String>)> {
    let Some(key) = r.try_get::<Option<String>, _>("person_key")? else {
        return Ok((None, None));
    };
    let open = |c: &str| -> Result<Option<String>> {
        r.try_get::<Option<String>, _>(c)?
            .map(|v| open_field(keys, c, &key, &v))
            .transpose()
    };
    Ok((open("name")?, open("id_number")?))
}

/// What storing a person found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stored {
    /// A new person, stored as given.
    New,
    /// Known already: the stored identity is kept. `differs` when the name
    /// or mobile given here is not the stored one (a correction is a
    /// separate, audited step); `stored`: that identity, when it was read
    /// here (not when a concurrent transaction stored it a moment ago).
    Known {
        differs: bool,
        stored: Option<Person>,
    },
}

impl Stored {
    /// The person as the store holds them now, when known exactly:
    /// `given` when new.
    pub(crate) fn person(self, given: &Person) -> Option<Person> {
        match self {
            Stored::New => Some(as_stored(given, given.name.clone(), given.mobile.clone())),
            Stored::Known { stored, .. } => stored,
        }
    }
}

/// `p` with the name and mobile the store holds, as [`person_of_row`]
/// reads them (sex and birth date from the ID number).
fn as_stored(p: &Person, name: String, mobile: String) -> Person {
    Person {
        sex: p.id_number.sex(),
        birth_date: p.id_number.birth_date(),
        id_number: p.id_number.clone(),
        name,
        mobile,
    }
}

/// A person by key (every booking and walk-in asks first).
pub(crate) const PERSON_BY_KEY: &str = "SELECT name, mobile FROM people WHERE person_key = $1";

const INSERT_PERSON: &str =
    "INSERT INTO people(person_key, id_number, name, mobile, mobile_idx, initials, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person_key) DO NOTHING";

/// Stores a person seen for the first time; a known person's identity is
/// left as it is (item 6: a booking or a roster import never rewrites a
/// name or a mobile, and an empty mobile wipes nothing).
pub(crate) async fn ensure_person(
    tx: &mut Transaction<'_, Any>,
    keys: &KeyRing,
    p: &Person,
    initials: &str,
) -> Result<Stored> {
    Ok(ensure(tx, keys, p, initials, None).await?.0)
}

/// A person by key with the exam number of their visit on a day, if any.
pub(crate) const PERSON_AND_DAY: &str = "SELECT p.name, p.mobile,
        (SELECT b.exam_no FROM bookings b
          WHERE b.person_key = p.person_key AND b.exam_date = $2 AND b.state <> 'cancelled'
          LIMIT 1) AS same_day
   FROM people p WHERE p.person_key = $1";

/// [`ensure_person`] for a visit on `day`, with the exam number of the
/// person's visit that day if they have one (one visit a day): one read
/// for both, as a person not stored yet has no visit. Nothing is stored
/// when they have.
pub(crate) async fn ensure_person_for_day(
    tx: &mut Transaction<'_, Any>,
    keys: &KeyRing,
    p: &Person,
    initials: &str,
    day: &str,
) -> Result<(Stored, Option<String>)> {
    ensure(tx, keys, p, initials, Some(day)).await
}

async fn ensure(
    tx: &mut Transaction<'_, Any>,
    keys: &KeyRing,
    p: &Person,
    initials: &str,
    day: Option<&str>,
) -> Result<(Stored, Option<String>)> {
    let key = person_key(keys, &p.id_number);
    let known = match day {
        None => sqlx::query(PERSON_BY_KEY).bind(&key),
        Some(d) => sqlx::query(PERSON_AND_DAY).bind(&key).bind(d),
    }
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = known {
        let same_day = match day {
            None => None,
            Some(_) => r.try_get::<Option<String>, _>("same_day")?,
        };
        let name = open_field(keys, "name", &key, &r.try_get::<String, _>("name")?)?;
        let mobile = open_field(keys, "mobile", &key, &r.try_get::<String, _>("mobile")?)?;
        let differs = normalize_name(&name) != normalize_name(&p.name)
            || (!p.mobile.is_empty() && mobile != p.mobile);
        let stored = Stored::Known {
            differs,
            stored: Some(as_stored(p, name, mobile)),
        };
        return Ok((stored, same_day));
    }
    let tokens = name_tokens(keys, &p.name);
    // On PostgreSQL the person and their name's tokens in one statement
    // (a new person at every other desk request under load, issue 21).
    let together = tx.backend_name() == "PostgreSQL"
        && !tokens.is_empty()
        && tokens.len() <= super::ROWS_PER_STATEMENT;
    let sql = if together {
        format!(
            "WITH p AS ({INSERT_PERSON} RETURNING person_key),
                  t AS (INSERT INTO person_name_tokens(token, person_key)
                        SELECT v.token, p.person_key FROM p, (VALUES {}) AS v(token)
                        ON CONFLICT DO NOTHING)
             SELECT CAST(COUNT(*) AS BIGINT) FROM p",
            (8..8 + tokens.len())
                .map(|i| format!("(${i})"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        INSERT_PERSON.to_string()
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&key)
        .bind(seal_field(keys, "id_number", &key, p.id_number.as_str())?)
        .bind(seal_field(keys, "name", &key, &p.name)?)
        .bind(seal_field(keys, "mobile", &key, &p.mobile)?)
        .bind(mobile_index(keys, &p.mobile))
        .bind(initials)
        .bind(ts(Utc::now()));
    let inserted = if together {
        for t in &tokens {
            q = q.bind(t);
        }
        let n: i64 = q.fetch_one(&mut **tx).await?.try_get(0)?;
        n as u64
    } else {
        q.execute(&mut **tx).await?.rows_affected()
    };
    if inserted == 0 {
        // Stored by a concurrent transaction a moment ago (its commit
        // waited for): theirs stands, and it may have made that day's visit.
        let stored = Stored::Known {
            differs: false,
            stored: None,
        };
        let same_day = match day {
            None => None,
            Some(d) => {
                sqlx::query_scalar(super::desk::SAME_DAY_VISIT)
                    .bind(&key)
                    .bind(d)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        };
        return Ok((stored, same_day));
    }
    if !together {
        write_tokens(tx, &key, &tokens).await?;
    }
    Ok((Stored::New, None))
}

/// The person's name tokens ([`name_tokens`]), one statement a hundred.
async fn write_tokens(tx: &mut Transaction<'_, Any>, key: &str, tokens: &[String]) -> Result<()> {
    for chunk in tokens.chunks(super::ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO person_name_tokens(token, person_key) VALUES {} ON CONFLICT DO NOTHING",
            super::value_rows(chunk.len(), 2)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for token in chunk {
            q = q.bind(token).bind(key);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Which identity field a correction changes. The ID number is not among
/// them: it is the person's key (a wrong one is a different person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityField {
    Name,
    Mobile,
}

impl IdentityField {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityField::Name => "name",
            IdentityField::Mobile => "mobile",
        }
    }

    /// How the log shows a value of this field: masked.
    pub fn masked(self, value: &str) -> String {
        match self {
            IdentityField::Name => mask::name(value),
            IdentityField::Mobile if value.is_empty() => "（空）".into(),
            IdentityField::Mobile => mask::mobile(value),
        }
    }
}

/// A correction as made: the field, the old and new values masked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Corrected {
    pub field: IdentityField,
    pub old_masked: String,
    pub new_masked: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CorrectionError {
    #[error("没有这条预约")]
    NoVisit,
    #[error("新值与原值相同")]
    Unchanged,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for CorrectionError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

impl Db {
    /// The operation log's subject for what staff type: an ID number
    /// becomes `person:<its blind index>`, anything else stays as typed.
    pub fn subject_of(&self, typed: &str) -> String {
        match IdNumber::parse(typed.trim()) {
            Ok(id) => subject(&self.keys, &id),
            Err(_) => typed.to_string(),
        }
    }

    /// Corrects the name or mobile of the person of visit `booking_id`
    /// (already checked by the caller: a 1–30 character name, an 11-digit
    /// mobile or empty), with the reason, in one transaction with its audit
    /// line, which carries masked values only.
    pub async fn correct_identity(
        &self,
        actor: &str,
        booking_id: i64,
        field: IdentityField,
        new_value: &str,
        initials: &str,
        reason: &str,
    ) -> Result<Corrected, CorrectionError> {
        let keys = &*self.keys;
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query(
            "SELECT p.person_key, p.id_number, p.name, p.mobile FROM bookings b
               JOIN people p ON p.person_key = b.person_key WHERE b.id = $1",
        )
        .bind(booking_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(CorrectionError::NoVisit)?;
        let key: String = r.try_get("person_key")?;
        let person = person_of_row(keys, &r)?;
        let old = match field {
            IdentityField::Name => person.name.clone(),
            IdentityField::Mobile => person.mobile.clone(),
        };
        if old == new_value {
            return Err(CorrectionError::Unchanged);
        }
        let sealed = seal_field(keys, field.as_str(), &key, new_value)?;
        match field {
            IdentityField::Name => {
                sqlx::query("UPDATE people SET name = $2, initials = $3 WHERE person_key = $1")
                    .bind(&key)
                    .bind(sealed)
                    .bind(initials)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM person_name_tokens WHERE person_key = $1")
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                write_tokens(&mut tx, &key, &name_tokens(keys, new_value)).await?;
            }
            IdentityField::Mobile => {
                sqlx::query("UPDATE people SET mobile = $2, mobile_idx = $3 WHERE person_key = $1")
                    .bind(&key)
                    .bind(sealed)
                    .bind(mobile_index(keys, new_value))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let done = Corrected {
            field,
            old_masked: field.masked(&old),
            new_masked: field.masked(new_value),
        };
        oplog::log(
            &mut tx,
            actor,
            "person.correct",
            &format!("person:{key}"),
            &format!(
                "id={} visit={booking_id} field={} old={} new={} reason={reason}",
                mask::id_number(person.id_number.as_str()),
                field.as_str(),
                done.old_masked,
                done.new_masked
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// People whose pinyin initials are not computed yet (seeded rows): their
    /// keys and opened names.
    pub async fn people_without_initials(&self, limit: i64) -> Result<Vec<(String, String)>> {
        sqlx::query("SELECT person_key, name FROM people WHERE initials = '' LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let key: String = r.try_get("person_key")?;
                let name = open_field(&self.keys, "name", &key, &r.try_get::<String, _>("name")?)?;
                Ok((key, name))
            })
            .collect()
    }

    /// Stores computed initials by person key.
    pub async fn set_initials(&self, rows: &[(String, String)]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (key, initials) in rows {
            sqlx::query("UPDATE people SET initials = $2 WHERE person_key = $1")
                .bind(key)
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
    fn name_tokens_cover_prefixes_of_two_characters_or_more() {
        let k = KeyRing::generate().unwrap();
        let t = name_tokens(&k, "欧阳 明月");
        assert_eq!(t.len(), 3, "欧阳, 欧阳明, 欧阳明月");
        assert_eq!(name_query_token(&k, "欧阳").as_ref(), Some(&t[0]));
        assert_eq!(name_query_token(&k, "欧阳明月").as_ref(), Some(&t[2]));
        assert_eq!(name_query_token(&k, "欧"), None, "one character: no token");
        assert_eq!(
            name_tokens(&k, "王").len(),
            1,
            "a one-character name has its own"
        );
        assert_eq!(
            name_tokens(&k, "John Smith")[0],
            name_query_token(&k, "jo").unwrap()
        );
        let long = "一二三四五六七八九十甲乙丙丁";
        assert_eq!(name_tokens(&k, long).len(), MAX_PREFIX - 1);
        assert_eq!(
            name_query_token(&k, long),
            name_query_token(&k, &long.chars().take(MAX_PREFIX).collect::<String>())
        );
    }

    #[test]
    fn corrections_are_logged_masked() {
        assert_eq!(
            IdentityField::Mobile.masked("13812345678"),
            mask::mobile("13812345678")
        );
        assert!(!IdentityField::Mobile.masked("13812345678").contains("1234"));
        assert!(!IdentityField::Name.masked("张三丰").contains("三丰"));
    }
}
