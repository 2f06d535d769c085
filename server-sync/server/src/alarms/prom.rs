//! `GET /metrics`: the Prometheus scrape, for allowed callers only (an
//! open metrics endpoint tells a scanner the service's inner state). A
//! caller is allowed by its peer address (`metrics_allow`: addresses or
//! CIDR ranges; loopback by default) or by `Authorization: Bearer
//! <metrics_token>`; anyone else gets a plain 404, as for a path that does
//! not exist.
//!
//! Besides the counters of `Metrics`, the scrape carries gauges of the
//! alarm facts (kiosks, printers, backlog, backups, disks, the audit
//! chain, implausible data): `deploy/alerts.yml` fires on them.

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Facts, Thresholds, evaluate, is_fault};
use crate::AppState;

/// An address or a CIDR range of `metrics_allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (a, p) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("metrics_allow: {s:?} is not an address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() {
            max
        } else {
            p.parse::<u8>()
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| format!("metrics_allow: bad prefix length in {s:?}"))?
        };
        Ok(Self { addr, prefix })
    }
}

impl Net {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer on an IPv6 socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let bits = |ip: IpAddr| -> (u128, u32) {
            match ip {
                IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, 32),
                IpAddr::V6(a) => (u128::from(a), 128),
            }
        };
        let ((net, w1), (got, w2)) = (bits(self.addr), bits(ip));
        if w1 != w2 {
            return false;
        }
        let mask = if self.prefix == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.prefix))
        };
        net & mask == got & mask
    }
}

/// Checks `metrics_allow` (at start: a typo must not open the endpoint
/// or lock Prometheus out silently).
pub fn parse_allow(list: &[String]) -> Result<Vec<Net>, String> {
    list.iter().map(|s| s.parse()).collect()
}

fn same_secret(a: &str, b: &str) -> bool {
    // Hashes first: equal length, and the comparison below runs in the
    // same time wherever the texts differ.
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

/// Whether a scrape from `peer` with `authorization` may read the metrics.
pub fn allowed(
    allow: &[Net],
    token: Option<&str>,
    peer: Option<IpAddr>,
    authorization: Option<&str>,
) -> bool {
    if peer.is_some_and(|ip| allow.iter().any(|n| n.contains(ip))) {
        return true;
    }
    match (token, authorization.and_then(|h| h.strip_prefix("Bearer "))) {
        (Some(t), Some(given)) if !t.is_empty() => same_secret(t, given.trim()),
        _ => false,
    }
}

pub async fn prometheus(State(st): State<AppState>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let allow = parse_allow(&st.config.metrics_allow).unwrap_or_default();
    if !allowed(&allow, st.config.metrics_token.as_deref(), peer, auth) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let backlogs = st
        .db
        .kiosks()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|k| Some((k.id, k.backlog?)))
        .collect::<Vec<_>>();
    let mut body = st.metrics.render(&backlogs);
    if let Some((writes, commits)) = st.db.group_commit_counts() {
        // How many writes a flush carries (db/group.rs).
        let _ = std::fmt::Write::write_fmt(
            &mut body,
            format_args!(
                "# HELP exam_store_group_writes_total Writes committed through the group commit.\n# TYPE exam_store_group_writes_total counter\nexam_store_group_writes_total {writes}\n# HELP exam_store_group_commits_total Commits (disk flushes) they took.\n# TYPE exam_store_group_commits_total counter\nexam_store_group_commits_total {commits}\n"
            ),
        );
    }
    let pools = st.db.pool_state();
    let _ = std::fmt::Write::write_fmt(
        &mut body,
        format_args!(
            "# HELP exam_store_connections Store connections by pool and state.\n# TYPE exam_store_connections gauge\nexam_store_connections{{pool=\"writer\",state=\"open\"}} {}\nexam_store_connections{{pool=\"writer\",state=\"idle\"}} {}\nexam_store_connections{{pool=\"reader\",state=\"open\"}} {}\nexam_store_connections{{pool=\"reader\",state=\"idle\"}} {}\n",
            pools.writer.0, pools.writer.1, pools.reader.0, pools.reader.1
        ),
    );
    let now = Utc::now();
    let t = Thresholds::default();
    match super::facts::gather(&st, &t, now).await {
        Ok(f) => body.push_str(&render_facts(&f, &t, now)),
        Err(e) => {
            tracing::error!(error = %e, "alarm facts unreadable");
            body.push_str("# HELP exam_store_up Whether the store answered.\n# TYPE exam_store_up gauge\nexam_store_up 0\n");
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Label values: kiosk ids and device names are checked words, but a
/// quote or backslash must never break the format.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn gauge(s: &mut String, name: &str, help: &str) {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// The alarm facts as gauges (pure).
pub fn render_facts(f: &Facts, t: &Thresholds, now: DateTime<Utc>) -> String {
    let mut s = String::new();
    gauge(&mut s, "exam_store_up", "Whether the store answered.");
    let _ = writeln!(s, "exam_store_up 1");
    gauge(
        &mut s,
        "exam_kiosk_last_heartbeat_timestamp_seconds",
        "Unix time of each enrolled kiosk's last heartbeat (0: never).",
    );
    for k in f.kiosks.iter().filter(|k| k.enrolled) {
        let at = k.last_seen.map_or(0, |t| t.timestamp());
        let _ = writeln!(
            s,
            "exam_kiosk_last_heartbeat_timestamp_seconds{{kiosk=\"{}\"}} {at}",
            label(&k.id)
        );
    }
    gauge(
        &mut s,
        "exam_kiosk_print_waiting",
        "Print parts waiting at each kiosk.",
    );
    for k in &f.kiosks {
        let _ = writeln!(
            s,
            "exam_kiosk_print_waiting{{kiosk=\"{}\"}} {}",
            label(&k.id),
            k.print_waiting
        );
    }
    gauge(
        &mut s,
        "exam_kiosk_print_waiting_oldest_seconds",
        "Seconds the oldest waiting print part has waited at each kiosk (0: none).",
    );
    for k in &f.kiosks {
        let age = match (k.print_waiting, k.print_waiting_since) {
            (n, Some(since)) if n > 0 => (now - since).num_seconds().max(0),
            _ => 0,
        };
        let _ = writeln!(
            s,
            "exam_kiosk_print_waiting_oldest_seconds{{kiosk=\"{}\"}} {age}",
            label(&k.id)
        );
    }
    gauge(
        &mut s,
        "exam_kiosk_device_faults",
        "Devices of each kiosk in a state that needs a person (printer out of paper, jammed, unplugged, faulty).",
    );
    for k in &f.kiosks {
        let n = k.devices.iter().filter(|d| is_fault(d.state)).count();
        let _ = writeln!(
            s,
            "exam_kiosk_device_faults{{kiosk=\"{}\"}} {n}",
            label(&k.id)
        );
    }
    gauge(
        &mut s,
        "exam_kiosk_rejected_events",
        "Events each kiosk set aside because this service refused them.",
    );
    for k in &f.kiosks {
        let _ = writeln!(
            s,
            "exam_kiosk_rejected_events{{kiosk=\"{}\"}} {}",
            label(&k.id),
            k.rejected
        );
    }
    gauge(
        &mut s,
        "exam_backup_configured",
        "Whether scheduled backups are on (backup_dir set).",
    );
    let _ = writeln!(
        s,
        "exam_backup_configured {}",
        u8::from(f.backup.configured)
    );
    gauge(
        &mut s,
        "exam_backup_consecutive_failures",
        "Backups that failed since the last success.",
    );
    let _ = writeln!(
        s,
        "exam_backup_consecutive_failures {}",
        f.backup.failures_since_success
    );
    gauge(
        &mut s,
        "exam_disk_free_ratio",
        "Free share of the disk holding the store or the backups.",
    );
    for d in &f.disks {
        let _ = writeln!(
            s,
            "exam_disk_free_ratio{{disk=\"{}\"}} {:.4}",
            label(&d.what),
            d.free_ratio()
        );
    }
    gauge(
        &mut s,
        "exam_disk_free_bytes",
        "Free bytes of the disk holding the store or the backups.",
    );
    for d in &f.disks {
        let _ = writeln!(
            s,
            "exam_disk_free_bytes{{disk=\"{}\"}} {}",
            label(&d.what),
            d.free_bytes
        );
    }
    gauge(
        &mut s,
        "exam_audit_chain_intact",
        "1 when the audit trail's hash chain verifies, 0 when broken.",
    );
    let _ = writeln!(
        s,
        "exam_audit_chain_intact {}",
        u8::from(f.audit_broken.is_none())
    );
    gauge(
        &mut s,
        "exam_implausible_records",
        "Records that cannot be right, by kind.",
    );
    for (kind, n) in &f.implausible {
        let _ = writeln!(
            s,
            "exam_implausible_records{{kind=\"{}\"}} {n}",
            kind.as_str()
        );
    }
    render_interfaces(&mut s, f, now);
    render_abnormal(&mut s, f, now);
    gauge(
        &mut s,
        "exam_alarms",
        "Alarms the administration page shows now, by severity.",
    );
    let alarms = evaluate(f, t, now);
    for sev in [super::Severity::Critical, super::Severity::Warning] {
        let n = alarms.iter().filter(|a| a.severity == sev).count();
        let sev = match sev {
            super::Severity::Critical => "critical",
            super::Severity::Warning => "warning",
        };
        let _ = writeln!(s, "exam_alarms{{severity=\"{sev}\"}} {n}");
    }
    s
}

/// Hospital interfaces (I1-I3): each counterpart's queue depth, dead
/// letters, and how long its head has been failing.
fn render_interfaces(s: &mut String, f: &Facts, now: DateTime<Utc>) {
    gauge(
        s,
        "exam_interface_queue_depth",
        "Messages waiting to be delivered to each counterpart (pending, sending, retrying).",
    );
    for i in &f.interfaces {
        let _ = writeln!(
            s,
            "exam_interface_queue_depth{{counterpart=\"{}\"}} {}",
            i.counterpart, i.open
        );
    }
    gauge(
        s,
        "exam_interface_dead_letters",
        "Messages each counterpart refused for good or too often, waiting for staff.",
    );
    for i in &f.interfaces {
        let _ = writeln!(
            s,
            "exam_interface_dead_letters{{counterpart=\"{}\"}} {}",
            i.counterpart, i.dead
        );
    }
    gauge(
        s,
        "exam_interface_head_failing_seconds",
        "Seconds the head of each counterpart's line has been failing (0: it is not).",
    );
    for i in &f.interfaces {
        let secs = i
            .failing_since
            .map_or(0, |t| (now - t).num_seconds().max(0));
        let _ = writeln!(
            s,
            "exam_interface_head_failing_seconds{{counterpart=\"{}\"}} {secs}",
            i.counterpart
        );
    }
}

/// Major abnormal results (重要异常结果) raised and not yet handled, per
/// category, and how long the oldest has waited.
fn render_abnormal(s: &mut String, f: &Facts, now: DateTime<Utc>) {
    gauge(
        s,
        "exam_major_abnormal_open",
        "Major abnormal results raised and not yet handled, by category (A: notify at once).",
    );
    for a in &f.major_abnormal {
        let _ = writeln!(
            s,
            "exam_major_abnormal_open{{category=\"{}\"}} {}",
            a.category.as_str(),
            a.open
        );
    }
    gauge(
        s,
        "exam_major_abnormal_oldest_open_seconds",
        "Seconds the oldest open major abnormal result of each category has waited (0: none open).",
    );
    for a in &f.major_abnormal {
        let secs = a.oldest.map_or(0, |t| (now - t).num_seconds().max(0));
        let _ = writeln!(
            s,
            "exam_major_abnormal_oldest_open_seconds{{category=\"{}\"}} {secs}",
            a.category.as_str()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn allow_list_and_token() {
        let allow =
            parse_allow(&["127.0.0.1".into(), "10.20.0.0/16".into(), "::1".into()]).unwrap();
        assert!(allowed(&allow, None, ip("127.0.0.1"), None));
        assert!(allowed(&allow, None, ip("10.20.3.4"), None));
        assert!(allowed(&allow, None, ip("::ffff:10.20.3.4"), None));
        assert!(allowed(&allow, None, ip("::1"), None));
        assert!(!allowed(&allow, None, ip("10.21.0.1"), None));
        assert!(!allowed(&allow, None, None, None));
        // The token opens it from anywhere; a wrong or empty one does not.
        assert!(allowed(
            &[],
            Some("s3cret-token"),
            ip("192.0.2.1"),
            Some("Bearer s3cret-token")
        ));
        assert!(!allowed(
            &[],
            Some("s3cret-token"),
            ip("192.0.2.1"),
            Some("Bearer s3cret-tokeN")
        ));
        assert!(!allowed(
            &[],
            Some("s3cret-token"),
            ip("192.0.2.1"),
            Some("s3cret-token")
        ));
        assert!(!allowed(&[], Some(""), ip("192.0.2.1"), Some("Bearer ")));
        assert!(!allowed(&[], None, ip("192.0.2.1"), Some("Bearer x")));
    }

    #[test]
    fn bad_entries_are_refused_at_start() {
        assert!(parse_allow(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_allow(&["localhost".into()]).is_err());
        assert!(
            parse_allow(&["0.0.0.0/0".into()]).unwrap()[0].contains("203.0.113.9".parse().unwrap())
        );
    }
}
