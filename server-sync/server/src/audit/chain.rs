//! The hash chain over audit rows (S7): row `n` stores `prev_hash` (row
//! `n-1`'s hash; 64 zeros for the first) and
//! `hash = SHA-256(prev_hash bytes || canonical encoding of row n)`.
//! Editing, removing or reordering a row in the raw database file changes a
//! hash that a later row (or the row itself) pins, so [`Verifier`] names the
//! first row where the chain no longer holds.
//!
//! Pure: no I/O, no clock; the store feeds rows in `seq` order.
//!
//! What a chain cannot show by itself: rows cut off the end together with
//! the counter, or a forged row appended with a correctly computed hash by
//! someone who can write the file. The syslog copy (`super::syslog`), held
//! on another machine, is the answer to both: it has every row's hash.

use sha2::{Digest, Sha256};

/// `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of a row that its hash covers, in the order they are encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    pub seq: i64,
    pub id: i64,
    pub at: String,
    pub category: String,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub subject: String,
    pub outcome: String,
    pub detail: String,
}

/// The canonical encoding's version tag, its first bytes.
pub const TAG: &[u8] = b"exam-audit-v1";

fn field(out: &mut Vec<u8>, f: &str) {
    out.extend_from_slice(&(f.len() as u64).to_be_bytes());
    out.extend_from_slice(f.as_bytes());
}

impl ChainRow {
    /// The canonical encoding: a version tag, then every field as its
    /// length (8 bytes, big-endian) and its UTF-8 bytes, so no two rows
    /// encode alike (no separator can be forged inside a field).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = TAG.to_vec();
        field(&mut out, &self.seq.to_string());
        out.extend_from_slice(&self.canonical_after_seq());
        out
    }

    /// The encoding's part after `seq`: on PostgreSQL the store joins the
    /// tag, the number it hands out and this, and hashes them itself, so
    /// that an audit line is one statement under the chain's lock.
    pub fn canonical_after_seq(&self) -> Vec<u8> {
        let id = self.id.to_string();
        let fields: [&str; 9] = [
            &id,
            &self.at,
            &self.category,
            &self.actor,
            &self.source,
            &self.action,
            &self.subject,
            &self.outcome,
            &self.detail,
        ];
        let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 8).sum::<usize>());
        for f in fields {
            field(&mut out, f);
        }
        out
    }
}

/// The hash of `row` chained after `prev_hash` (hex), in hex. A `prev_hash`
/// that is not 64 hex digits is hashed as its text, so a damaged stored
/// value still yields a (non-matching) hash instead of an error.
pub fn link(prev_hash: &str, row: &ChainRow) -> String {
    let mut h = Sha256::new();
    match hex::decode(prev_hash) {
        Ok(b) if b.len() == 32 => h.update(&b),
        _ => h.update(prev_hash.as_bytes()),
    }
    h.update(row.canonical());
    hex::encode(h.finalize())
}

/// Where the chain first fails, as the auditor is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// Row `seq` is not what was hashed: its content was changed.
    Altered { seq: i64, id: i64 },
    /// Row `seq` does not point at the row before it (that row was replaced,
    /// or this one moved).
    Unlinked { seq: i64, id: i64 },
    /// Rows `expected..found` are missing: the next row present is `found`.
    Missing { expected: i64, found: i64 },
    /// The chain ends at `last` but the counter says rows up to `counter`
    /// were written: the tail was removed.
    Truncated { last: i64, counter: i64 },
}

impl Break {
    /// The first row the break concerns (the auditor's "broken at row M").
    pub fn seq(&self) -> i64 {
        match *self {
            Break::Altered { seq, .. } | Break::Unlinked { seq, .. } => seq,
            Break::Missing { expected, .. } => expected,
            Break::Truncated { last, .. } => last + 1,
        }
    }
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Altered { seq, id } => write!(
                f,
                "row {seq} (id {id}) was altered: its hash does not match its content / 第 {seq} 行内容被改动"
            ),
            Break::Unlinked { seq, id } => write!(
                f,
                "row {seq} (id {id}) does not follow the row before it / 第 {seq} 行与前一行不相接"
            ),
            Break::Missing { expected, found } => write!(
                f,
                "rows {expected} to {} are missing / 第 {expected} 至 {} 行缺失",
                found - 1,
                found - 1
            ),
            Break::Truncated { last, counter } => write!(
                f,
                "rows {} to {counter} were removed from the end / 末尾第 {} 至 {counter} 行被删除",
                last + 1,
                last + 1
            ),
        }
    }
}

/// Checks rows fed in `seq` order; stops at the first break.
#[derive(Debug, Clone)]
pub struct Verifier {
    prev_hash: String,
    next_seq: i64,
    broken: Option<Break>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            prev_hash: GENESIS.to_string(),
            next_seq: 1,
            broken: None,
        }
    }
}

/// A verification's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The last row that verified (0: none).
    pub verified: i64,
    /// Its hash (the anchor to compare with the syslog copy).
    pub head: String,
    pub broken: Option<Break>,
}

impl Verifier {
    /// Resumes after a verified row (`seq`, its `hash`), to check only what
    /// came since.
    pub fn resume(seq: i64, hash: &str) -> Self {
        Self {
            prev_hash: hash.to_string(),
            next_seq: seq + 1,
            broken: None,
        }
    }

    /// Feeds the next row with what it stores; false once broken (stop feeding).
    pub fn push(&mut self, row: &ChainRow, prev_hash: &str, hash: &str) -> bool {
        if self.broken.is_some() {
            return false;
        }
        if row.seq != self.next_seq {
            self.broken = Some(if row.seq > self.next_seq {
                Break::Missing {
                    expected: self.next_seq,
                    found: row.seq,
                }
            } else {
                // A seq seen before: a duplicate, i.e. a fork.
                Break::Unlinked {
                    seq: row.seq,
                    id: row.id,
                }
            });
            return false;
        }
        if prev_hash != self.prev_hash {
            self.broken = Some(Break::Unlinked {
                seq: row.seq,
                id: row.id,
            });
            return false;
        }
        if link(prev_hash, row) != hash {
            self.broken = Some(Break::Altered {
                seq: row.seq,
                id: row.id,
            });
            return false;
        }
        self.prev_hash = hash.to_string();
        self.next_seq += 1;
        true
    }

    /// The result once every row was fed; `counter` is the number of rows
    /// the store says it chained.
    pub fn finish(self, counter: i64) -> Report {
        let verified = self.next_seq - 1;
        let broken = self.broken.or_else(|| {
            (counter > verified).then_some(Break::Truncated {
                last: verified,
                counter,
            })
        });
        Report {
            verified,
            head: self.prev_hash,
            broken,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, detail: &str) -> ChainRow {
        ChainRow {
            seq,
            id: 1000 + seq,
            at: format!("2026-03-10T08:00:{:02}.000Z", seq % 60),
            category: "operation".into(),
            actor: "desk1".into(),
            source: "10.0.0.7".into(),
            action: "visit.register".into(),
            subject: "110101198003150071".into(),
            outcome: "allowed".into(),
            detail: detail.into(),
        }
    }

    /// Rows 1..=n as stored: (row, prev_hash, hash).
    fn chain(n: i64) -> Vec<(ChainRow, String, String)> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|s| {
                let r = row(s, &format!("exam_no={s}"));
                let h = link(&prev, &r);
                let out = (r, prev.clone(), h.clone());
                prev = h;
                out
            })
            .collect()
    }

    fn verify(rows: &[(ChainRow, String, String)], counter: i64) -> Report {
        let mut v = Verifier::default();
        for (r, p, h) in rows {
            if !v.push(r, p, h) {
                break;
            }
        }
        v.finish(counter)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = chain(5);
        let rep = verify(&rows, 5);
        assert_eq!(rep.broken, None);
        assert_eq!(rep.verified, 5);
        assert_eq!(rep.head, rows[4].2);
        assert_eq!(verify(&[], 0).broken, None);
    }

    #[test]
    fn an_edited_field_is_named_by_its_row() {
        let mut rows = chain(5);
        rows[2].0.detail = "exam_no=9".into();
        let rep = verify(&rows, 5);
        assert_eq!(rep.broken, Some(Break::Altered { seq: 3, id: 1003 }));
        assert_eq!(rep.verified, 2);
        // Every field is covered, not just the detail.
        for edit in 0..9 {
            let mut rows = chain(3);
            let r = &mut rows[1].0;
            match edit {
                0 => r.id += 1,
                1 => r.at.push('1'),
                2 => r.category = "access".into(),
                3 => r.actor = "desk2".into(),
                4 => r.source = "10.0.0.8".into(),
                5 => r.action = "visit.cancel".into(),
                6 => r.subject = "110101198003150080".into(),
                7 => r.outcome = "denied".into(),
                _ => r.detail.clear(),
            }
            assert_eq!(verify(&rows, 3).broken.map(|b| b.seq()), Some(2), "{edit}");
        }
    }

    #[test]
    fn a_rehashed_row_breaks_the_link_of_the_next() {
        // Whoever edits a row and recomputes its hash still breaks row n+1.
        let mut rows = chain(4);
        rows[1].0.detail = "forged".into();
        rows[1].2 = link(&rows[1].1, &rows[1].0);
        assert_eq!(
            verify(&rows, 4).broken,
            Some(Break::Unlinked { seq: 3, id: 1003 })
        );
    }

    #[test]
    fn removed_and_duplicated_rows_are_found() {
        let mut rows = chain(5);
        rows.remove(1);
        assert_eq!(
            verify(&rows, 5).broken,
            Some(Break::Missing {
                expected: 2,
                found: 3
            })
        );
        let rows = chain(5);
        assert_eq!(
            verify(&rows[..3], 5).broken,
            Some(Break::Truncated {
                last: 3,
                counter: 5
            })
        );
        let mut rows = chain(3);
        let dup = rows[1].clone();
        rows.insert(2, dup);
        assert_eq!(verify(&rows, 3).broken.map(|b| b.seq()), Some(2));
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let mut a = row(1, "x");
        let mut b = row(1, "x");
        a.actor = "ab".into();
        a.source = "c".into();
        b.actor = "a".into();
        b.source = "bc".into();
        assert_ne!(a.canonical(), b.canonical());
        assert_ne!(link(GENESIS, &a), link(GENESIS, &b));
    }

    #[test]
    fn resuming_checks_only_what_follows() {
        let rows = chain(6);
        let mut v = Verifier::resume(4, &rows[3].2);
        for (r, p, h) in &rows[4..] {
            assert!(v.push(r, p, h));
        }
        let rep = v.finish(6);
        assert_eq!((rep.verified, rep.broken), (6, None));
    }

    #[test]
    fn the_hash_is_sha256_of_prev_and_the_encoding() {
        let r = row(1, "d");
        let mut h = Sha256::new();
        h.update([0u8; 32]);
        h.update(r.canonical());
        assert_eq!(link(GENESIS, &r), hex::encode(h.finalize()));
        assert_eq!(link(GENESIS, &r).len(), 64);
    }
}
