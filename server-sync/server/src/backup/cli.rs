//! What the `backup`, `restore` and `verify-backup` commands do, for
//! `main.rs` to call and print.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use exam_vault::KeyRing;

use super::{BackupError, Kind, Manifest, Result, TableDiff, manifest, schedule};
use crate::Config;

/// Which backup the `backup` command takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    Full,
    Incremental,
    /// What the schedule would take now: full on the full-backup weekday,
    /// or when there is no recent full backup; else incremental.
    Auto,
}

/// `exam-server backup`: into `dir` (default `backup_dir`).
pub async fn backup(
    config: &Config,
    keys: &Arc<KeyRing>,
    database_url: &str,
    which: Which,
    dir: Option<PathBuf>,
) -> Result<Manifest> {
    let dir = dir
        .or_else(|| config.backup_dir.clone())
        .ok_or_else(|| BackupError::NoBase("(no --dir and no backup_dir set)".into()))?;
    let now = Utc::now();
    let kind = match which {
        Which::Full => Kind::Full,
        Which::Incremental => Kind::Incremental,
        Which::Auto => {
            let list = manifest::list(&dir).unwrap_or_default();
            let store = super::store_of(database_url)?;
            let local = |t: chrono::DateTime<Utc>| {
                t.with_timezone(&exam_domain::centre_offset()).naive_local()
            };
            let last_full = list
                .iter()
                .filter(|m| m.store == store && m.kind == Kind::Full)
                .map(|m| local(m.taken_at))
                .max();
            let plan = schedule::Plan {
                full_weekday: config.backup_full_weekday,
                // Taken now, whatever the configured time.
                time: chrono::NaiveTime::MIN,
            };
            match schedule::due(&plan, local(now), None, last_full) {
                schedule::Due::Take(k) => k,
                schedule::Due::Nothing => Kind::Incremental,
            }
        }
    };
    match super::take(database_url, keys, &dir, kind, now).await {
        Err(e) if which == Which::Auto && e.wants_full() => {
            super::take(database_url, keys, &dir, Kind::Full, now).await
        }
        r => r,
    }
}

/// One line per backup: what was taken.
pub fn describe(m: &Manifest) -> String {
    let rows: u64 = m.tables.iter().map(|t| t.rows).sum();
    let mut s = format!(
        "{} backup {} ({} bytes, {} tables, {} rows, {:.1} s)",
        match m.kind {
            Kind::Full => "full",
            Kind::Incremental => "incremental",
        },
        m.file,
        m.file_bytes,
        m.tables.len(),
        rows,
        m.seconds
    );
    if let Some(b) = &m.base {
        let _ = write!(s, " on {b}");
    }
    if let Some(f) = &m.sqlite {
        let _ = write!(s, "; {} of {} pages stored", f.pages_stored, f.pages);
    }
    if let Some(f) = &m.postgres
        && m.kind == Kind::Incremental
    {
        let _ = write!(
            s,
            "; {} rows inserted, {} updated, {} deleted",
            f.inserted, f.updated, f.deleted
        );
    }
    s
}

/// The comparison as a table, and whether every table is equal.
pub fn render_comparison(diff: &[TableDiff], left: &str, right: &str) -> (String, bool) {
    let mut s = format!("{:<24} {:>10} {:>10}  checksum\n", "table", left, right);
    let mut all = true;
    for d in diff {
        let rows =
            |t: &Option<super::TableSum>| t.as_ref().map_or("-".into(), |t| t.rows.to_string());
        let verdict = if d.equal() { "equal" } else { "DIFFERENT" };
        all &= d.equal();
        let _ = writeln!(
            s,
            "{:<24} {:>10} {:>10}  {verdict}",
            d.table,
            rows(&d.left),
            rows(&d.right)
        );
    }
    let _ = writeln!(
        s,
        "{}",
        if all {
            "every table has the same rows"
        } else {
            "the stores differ"
        }
    );
    (s, all)
}

/// `exam-server verify-backup --file`: the file and its base match their
/// manifests and open with the keys.
pub async fn check_file(file: &Path, keys: &Arc<KeyRing>) -> Result<String> {
    let m = super::check(file, keys).await?;
    Ok(format!(
        "{}: intact, opens with the data keys",
        describe(&m)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::TableSum;

    #[test]
    fn the_comparison_says_which_tables_differ() {
        let s = |t: &str, rows, h: &str| TableSum {
            table: t.into(),
            rows,
            sha256: h.into(),
        };
        let d = crate::backup::rows::compare(
            &[s("people", 3, "a"), s("audit_log", 9, "b")],
            &[s("people", 3, "a"), s("audit_log", 9, "c")],
        );
        let (text, all) = render_comparison(&d, "live", "restored");
        assert!(!all);
        assert!(
            text.contains("audit_log") && text.contains("DIFFERENT"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("people") && l.ends_with("equal")),
            "{text}"
        );
    }
}
