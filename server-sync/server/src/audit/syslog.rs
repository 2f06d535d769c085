//! Every audit row also goes to the hospital's log collector as an RFC 5424
//! syslog message (等保 §(九) 8.3: stored locally and sent to a third-party
//! log server), over UDP (RFC 5426, one message per datagram) or TCP with
//! octet-counting framing (RFC 6587 §3.4.1: `LEN SP MSG`).
//!
//! Rows are read from the store after they commit (so a rolled-back change
//! is never forwarded) by a tailer that claims batches through the
//! `syslog_forwarded` counter (one instance forwards each row), and handed
//! to the sender through a bounded queue. Nothing here is on a request's
//! path: a slow or absent collector fills the queue, and what does not fit
//! (or cannot be delivered) is dropped, counted (`exam_syslog_dropped_total`)
//! and, once the collector takes messages again, recorded as an audit row
//! of its own (`syslog.dropped`), which is forwarded in turn. The rows stay
//! in the store: the collector's gap can be filled from an export.
//!
//! The collector gets what the auditor's page shows: ID numbers masked.
//! The transport is plain UDP/TCP, so the collector belongs on the
//! hospital's management network.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

use super::{AuditEvent, Category, mask_ids};
use crate::db::{AuditRow, Db};
use crate::metrics::Metrics;

/// RFC 5424 facility 13, "log audit".
const FACILITY: u8 = 13;
/// Messages waiting for the collector at most (the default of
/// `syslog_queue`).
pub const QUEUE: usize = 10_000;
/// A UDP datagram carries at most this much (RFC 5426 asks receivers for
/// 2048 octets; longer details are cut at a character boundary).
pub const UDP_MAX: usize = 2048;
/// The SD-ID of the structured data: an enterprise number is required in
/// a private SD-ID; 32473 is the one RFC 5612 reserves for documentation
/// and examples, to be replaced by the hospital's own if it has one.
pub const SD_ID: &str = "exam-audit@32473";

/// Where messages go: `udp://host:port` or `tcp://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Udp(String),
    Tcp(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("syslog_target must be udp://HOST:PORT or tcp://HOST:PORT, not {0:?}")]
pub struct BadTarget(pub String);

impl std::str::FromStr for Target {
    type Err = BadTarget;
    fn from_str(s: &str) -> Result<Self, BadTarget> {
        let bad = || BadTarget(s.to_string());
        let (scheme, addr) = s.split_once("://").ok_or_else(bad)?;
        let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) || addr.contains('/') {
            return Err(bad());
        }
        match scheme {
            "udp" => Ok(Target::Udp(addr.to_string())),
            "tcp" => Ok(Target::Tcp(addr.to_string())),
            _ => Err(bad()),
        }
    }
}

/// RFC 5424 severity of a row: a refusal is a warning, other security
/// events a notice, the rest informational.
fn severity(row: &AuditRow) -> u8 {
    if row.outcome == "denied" {
        4
    } else if row.category == Category::Security.as_str() {
        5
    } else {
        6
    }
}

/// Printable US-ASCII without spaces (HOSTNAME, APP-NAME, MSGID), `-` if empty.
fn header_field(s: &str, max: usize) -> String {
    let f: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if f.is_empty() { "-".into() } else { f }
}

/// A PARAM-VALUE: `"`, `\` and `]` escaped (RFC 5424 §6.3.3).
fn param_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The message for one row (pure): header, structured data with the row's
/// fields and chain hash, and the detail as the UTF-8 MSG (with its BOM).
/// `max` bounds the whole message in bytes (the detail is cut to fit).
pub fn format(row: &AuditRow, hostname: &str, procid: u32, max: usize) -> Vec<u8> {
    let pri = FACILITY * 8 + severity(row);
    let params = [
        ("seq", row.seq.to_string()),
        ("actor", row.actor.clone()),
        ("source", row.source.clone()),
        ("action", row.action.clone()),
        ("subject", mask_ids(&row.subject)),
        ("outcome", row.outcome.clone()),
        ("hash", row.hash.clone()),
    ];
    let sd: String = params
        .iter()
        .map(|(k, v)| format!(" {k}=\"{}\"", param_value(v)))
        .collect();
    let head = format!(
        "<{pri}>1 {} {} exam-server {procid} {} [{SD_ID}{sd}] \u{FEFF}",
        header_field(&row.at, 32),
        header_field(hostname, 255),
        header_field(&row.category, 32),
    );
    let mut msg = head.into_bytes();
    let detail = mask_ids(&row.detail);
    let room = max.saturating_sub(msg.len());
    let mut cut = detail.len().min(room);
    while !detail.is_char_boundary(cut) {
        cut -= 1;
    }
    msg.extend_from_slice(&detail.as_bytes()[..cut]);
    msg
}

/// TCP framing (RFC 6587 octet counting): the length in decimal, a space,
/// the message.
pub fn frame(msg: &[u8]) -> Vec<u8> {
    let mut out = format!("{} ", msg.len()).into_bytes();
    out.extend_from_slice(msg);
    out
}

/// This machine's name for the HOSTNAME field.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "-".into())
}

/// What was lost on the way to the collector since it was last reported:
/// rows the full queue could not take, and messages the sender could not
/// deliver. Reported as an audit row once the sender delivers again (not
/// before: a report the collector cannot take would only be lost too).
#[derive(Debug, Default)]
struct Losses {
    count: AtomicU64,
    first: AtomicI64,
    last: AtomicI64,
    delivered_since: AtomicBool,
}

impl Losses {
    fn lose(&self, seq: i64, metrics: &Metrics) {
        if self.count.fetch_add(1, Relaxed) == 0 {
            self.first.store(seq, Relaxed);
        }
        self.last.store(seq, Relaxed);
        self.delivered_since.store(false, Relaxed);
        Metrics::inc(&metrics.syslog_dropped);
    }

    fn delivered(&self, metrics: &Metrics) {
        self.delivered_since.store(true, Relaxed);
        Metrics::inc(&metrics.syslog_sent);
    }

    /// The losses to report now (count, first and last row), if any and
    /// the collector takes messages again.
    fn take_report(&self) -> Option<(u64, i64, i64)> {
        if !self.delivered_since.load(Relaxed) {
            return None;
        }
        let n = self.count.swap(0, Relaxed);
        (n > 0).then(|| (n, self.first.load(Relaxed), self.last.load(Relaxed)))
    }
}

/// Starts the syslog copy: sets its cursor at the chain's head on first
/// use (so rows from before forwarding was set up are not sent), then
/// forwards until the store closes or the handle is aborted. `queue` is
/// the bound on messages waiting for the collector.
pub async fn spawn(
    db: Db,
    target: Target,
    queue: usize,
    metrics: Arc<Metrics>,
) -> Result<tokio::task::JoinHandle<()>, crate::db::DbError> {
    db.syslog_init().await?;
    Ok(tokio::spawn(async move {
        let (tx, rx) = mpsc::channel::<(i64, Vec<u8>)>(queue.max(1));
        let losses = Arc::new(Losses::default());
        let sender = tokio::spawn(send_loop(
            target.clone(),
            rx,
            losses.clone(),
            metrics.clone(),
        ));
        tail_loop(db, target, tx, losses, metrics).await;
        sender.abort();
    }))
}

async fn tail_loop(
    db: Db,
    target: Target,
    tx: mpsc::Sender<(i64, Vec<u8>)>,
    losses: Arc<Losses>,
    metrics: Arc<Metrics>,
) {
    let max = match target {
        Target::Udp(_) => UDP_MAX,
        Target::Tcp(_) => 8 * 1024,
    };
    let (host, pid) = (hostname(), std::process::id());
    let mut warned = false;
    loop {
        if let Some((n, first, last)) = losses.take_report() {
            let e = AuditEvent::new(Category::System, "system", "syslog.dropped")
                .source("syslog")
                .detail(format!(
                    "{n} audit rows were not forwarded to the syslog collector (rows {first}..{last}): the queue was full or the collector away; they remain in the store"
                ));
            if let Err(err) = db.audit_event(&e).await {
                tracing::error!(error = %err, "could not record dropped syslog messages");
            }
        }
        match db.syslog_claim(256).await {
            Ok(rows) if rows.is_empty() => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(rows) => {
                warned = false;
                for row in rows {
                    if tx
                        .try_send((row.seq, format(&row, &host, pid, max)))
                        .is_err()
                    {
                        losses.lose(row.seq, &metrics);
                    }
                }
            }
            Err(_) if db.is_closed() => return,
            Err(e) => {
                if !warned {
                    tracing::warn!(error = %e, "syslog forwarding cannot read the audit trail");
                    warned = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn send_loop(
    target: Target,
    mut rx: mpsc::Receiver<(i64, Vec<u8>)>,
    losses: Arc<Losses>,
    metrics: Arc<Metrics>,
) {
    let mut backoff = Duration::from_millis(100);
    let mut udp: Option<UdpSocket> = None;
    let mut tcp: Option<TcpStream> = None;
    while let Some((seq, msg)) = rx.recv().await {
        let sent = match &target {
            Target::Udp(addr) => {
                if udp.is_none() {
                    udp = udp_socket(addr).await;
                }
                let ok = match &udp {
                    Some(s) => s.send(&msg).await.is_ok(),
                    None => false,
                };
                if !ok {
                    udp = None;
                }
                ok
            }
            Target::Tcp(addr) => {
                let framed = frame(&msg);
                // One reconnect per message: a collector that is away makes
                // the queue fill and the tailer drop, not this task spin.
                let mut ok = false;
                for _ in 0..2 {
                    if tcp.is_none() {
                        tcp = TcpStream::connect(addr.as_str()).await.ok();
                    }
                    if let Some(c) = tcp.as_mut() {
                        if c.write_all(&framed).await.is_ok() {
                            ok = true;
                            break;
                        }
                        tcp = None;
                    }
                }
                ok
            }
        };
        if sent {
            losses.delivered(&metrics);
            backoff = Duration::from_millis(100);
        } else {
            losses.lose(seq, &metrics);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}

async fn udp_socket(addr: &str) -> Option<UdpSocket> {
    let peer = tokio::net::lookup_host(addr).await.ok()?.next()?;
    let local = if peer.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let s = UdpSocket::bind(local).await.ok()?;
    s.connect(peer).await.ok()?;
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> String {
        exam_domain::IdNumber::compose(
            "110101",
            chrono::NaiveDate::from_ymd_opt(1980, 3, 15).unwrap(),
            7,
        )
        .unwrap()
        .as_str()
        .to_string()
    }

    fn row() -> AuditRow {
        AuditRow {
            seq: 7,
            id: 99,
            at: "2026-03-10T08:00:01.250Z".into(),
            category: "security".into(),
            actor: "desk\"1]".into(),
            source: "10.0.0.9".into(),
            action: "access.denied".into(),
            subject: id(),
            outcome: "denied".into(),
            detail: format!("GET /api/admin/accounts {}", id()),
            prev_hash: String::new(),
            hash: "ab".repeat(32),
        }
    }

    #[test]
    fn targets_parse() {
        assert_eq!(
            "udp://10.0.0.1:514".parse(),
            Ok(Target::Udp("10.0.0.1:514".into()))
        );
        assert_eq!(
            "tcp://logs.example:601".parse(),
            Ok(Target::Tcp("logs.example:601".into()))
        );
        for bad in [
            "10.0.0.1:514",
            "http://a:1",
            "udp://:514",
            "udp://a:0",
            "udp://a:x",
            "udp://a:1/p",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_message_is_rfc5424() {
        let m = String::from_utf8(format(&row(), "exam host", 42, 2048)).unwrap();
        // facility 13 × 8 + warning 4 = 108
        assert!(
            m.starts_with("<108>1 2026-03-10T08:00:01.250Z examhost exam-server 42 security [exam-audit@32473 seq=\"7\""),
            "{m}"
        );
        assert!(m.contains(r#"actor="desk\"1\]""#), "{m}");
        // ID numbers leave masked, in the subject and in the detail.
        let masked = exam_domain::mask::id_number(&id());
        assert!(!m.contains(&id()), "{m}");
        assert!(m.contains(&format!("subject=\"{masked}\"")), "{m}");
        assert!(
            m.ends_with(&format!("] \u{FEFF}GET /api/admin/accounts {masked}")),
            "{m}"
        );
    }

    #[test]
    fn a_long_detail_is_cut_at_a_character() {
        let mut r = row();
        r.detail = "审".repeat(2000);
        let m = format(&r, "h", 1, UDP_MAX);
        assert!(m.len() <= UDP_MAX);
        assert!(String::from_utf8(m).is_ok());
    }

    #[test]
    fn tcp_frames_count_octets() {
        assert_eq!(frame(b"<110>1 x"), b"8 <110>1 x".to_vec());
        let m = format(&row(), "h", 1, 8192);
        let f = frame(&m);
        let (len, rest) = f.split_at(f.iter().position(|&b| b == b' ').unwrap());
        assert_eq!(
            std::str::from_utf8(len).unwrap().parse::<usize>().unwrap(),
            rest.len() - 1
        );
    }
}
