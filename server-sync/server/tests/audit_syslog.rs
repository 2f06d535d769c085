//! S7 / 等保 §(九) 8.3: every audit row also reaches a syslog collector as an
//! RFC 5424 message, over UDP (one per datagram) and TCP (RFC 6587 octet
//! counting). A real socket in the test is the collector; each message is
//! read by our own strict reading of the format and by an independent
//! parser (the `syslog_rfc5424` crate). A collector that is away costs
//! messages, never a request: they are counted and reported in the trail.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use exam_server::Config;
use exam_server::audit::{AuditEvent, Category};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, UdpSocket};

const SD_ID: &str = "exam-audit@32473";

/// A server on SQLite whose audit rows go to `target`.
async fn server(target: String, queue: usize) -> (exam_server::Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("data.key");
    exam_vault::KeyRing::generate()
        .unwrap()
        .write_new_file(&key)
        .unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", dir.path().join("exam.db").display()),
        data_key_file: Some(key),
        syslog_target: Some(target),
        syslog_queue: queue,
        ..Config::default()
    };
    (exam_server::start(config).await.unwrap(), dir)
}

/// What our strict reading of RFC 5424 finds in a message.
#[derive(Debug)]
struct Parsed {
    pri: u8,
    timestamp: String,
    app: String,
    msgid: String,
    params: Vec<(String, String)>,
    msg: String,
}

impl Parsed {
    fn param(&self, k: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {k} in {self:?}"))
    }
}

/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID PARAM="V"...] BOM MSG`,
/// every header field printable ASCII without spaces, values escaped.
fn strict(bytes: &[u8]) -> Parsed {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let rest = text.strip_prefix('<').expect("PRI opens with <");
    let (pri, rest) = rest.split_once('>').unwrap();
    assert!(pri.len() <= 3 && pri.bytes().all(|b| b.is_ascii_digit()));
    let rest = rest.strip_prefix("1 ").expect("VERSION 1");
    let mut head = rest.splitn(6, ' ');
    let timestamp = head.next().unwrap().to_string();
    let host = head.next().unwrap();
    let app = head.next().unwrap().to_string();
    let procid = head.next().unwrap();
    let msgid = head.next().unwrap().to_string();
    for f in [&timestamp[..], host, &app, procid, &msgid] {
        assert!(
            !f.is_empty() && f.bytes().all(|b| b.is_ascii_graphic()),
            "{f:?}"
        );
    }
    chrono::DateTime::parse_from_rfc3339(&timestamp).expect("RFC 3339 time");
    let sd = head.next().unwrap();
    let sd = sd.strip_prefix('[').expect("structured data");
    let (id, mut sd) = sd.split_once(' ').unwrap();
    assert_eq!(id, SD_ID);
    let mut params = vec![];
    loop {
        let (name, after) = sd.split_once("=\"").unwrap();
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("closing quote");
            match c {
                '\\' => value.push(chars.next().unwrap().1),
                '"' => break i,
                ']' => panic!("unescaped ] in a value"),
                c => value.push(c),
            }
        };
        params.push((name.to_string(), value));
        let after = &after[end + 1..];
        if let Some(r) = after.strip_prefix(' ') {
            sd = r;
        } else {
            let msg = after.strip_prefix("] \u{FEFF}").expect("SD closes, BOM");
            return Parsed {
                pri: pri.parse().unwrap(),
                timestamp,
                app,
                msgid,
                params,
                msg: msg.to_string(),
            };
        }
    }
}

/// Both readings agree on a message; returns ours.
fn read_both(bytes: &[u8]) -> Parsed {
    let ours = strict(bytes);
    let theirs =
        syslog_rfc5424::parse_message(std::str::from_utf8(bytes).unwrap()).unwrap_or_else(|e| {
            panic!(
                "syslog_rfc5424 refuses {:?}: {e}",
                String::from_utf8_lossy(bytes)
            )
        });
    assert_eq!(theirs.facility, syslog_rfc5424::SyslogFacility::LOG_AUDIT);
    assert_eq!(theirs.severity as u8, ours.pri % 8);
    assert_eq!(theirs.appname.as_deref(), Some(ours.app.as_str()));
    assert_eq!(theirs.msgid.as_deref(), Some(ours.msgid.as_str()));
    for (k, v) in &ours.params {
        assert_eq!(
            theirs.sd.find_tuple(SD_ID, k).map(String::as_str),
            Some(v.as_str()),
            "{k}"
        );
    }
    assert_eq!(theirs.msg.trim_start_matches('\u{FEFF}'), ours.msg);
    ours
}

fn id_number() -> String {
    exam_domain::IdNumber::compose(
        "321002",
        chrono::NaiveDate::from_ymd_opt(1980, 3, 15).unwrap(),
        71,
    )
    .unwrap()
    .as_str()
    .to_string()
}

/// A row with an ID number, quotes and a bracket in it.
async fn probe(s: &exam_server::Server, n: usize) {
    s.state
        .db
        .audit_event(
            &AuditEvent::new(Category::Access, "desk\"1]", "view.probe")
                .source("10.9.8.7")
                .subject(id_number())
                .detail(format!("probe {n} of {} 张三", id_number())),
        )
        .await
        .unwrap();
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_reach_a_udp_collector_as_rfc5424() {
    let collector = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = format!("udp://{}", collector.local_addr().unwrap());
    let (s, _dir) = server(target, 100).await;
    // A refused kiosk request (no signature): a security event, denied,
    // with the caller's address as its source.
    let r = reqwest::Client::new()
        .post(format!("{}{}", s.url(), exam_protocol::paths::HEARTBEAT))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    probe(&s, 1).await;

    let mut seen = vec![];
    let mut buf = vec![0u8; 65_536];
    while !seen
        .iter()
        .any(|p: &Parsed| p.param("action") == "view.probe")
    {
        let n = within("a datagram", collector.recv(&mut buf))
            .await
            .unwrap();
        assert!(n <= exam_server::audit::syslog::UDP_MAX);
        seen.push(read_both(&buf[..n]));
    }
    let start = seen
        .iter()
        .find(|p| p.param("action") == "system.start")
        .expect("the start is forwarded");
    // facility 13 (log audit) × 8 + informational 6
    assert_eq!((start.pri, start.msgid.as_str()), (110, "system"));
    assert_eq!(start.app, "exam-server");
    let refused = seen
        .iter()
        .find(|p| p.param("action") == "kiosk.refused")
        .expect("the refusal is forwarded");
    assert_eq!(refused.pri, 13 * 8 + 4, "a denial is a warning");
    assert_eq!(refused.param("outcome"), "denied");
    assert_eq!(refused.param("source"), "127.0.0.1");
    let p = seen.last().unwrap();
    assert_eq!(p.msgid, "access");
    assert_eq!(p.param("actor"), "desk\"1]");
    assert_eq!(p.param("source"), "10.9.8.7");
    // ID numbers leave masked, in the subject and in the text.
    let masked = exam_domain::mask::id_number(&id_number());
    assert_eq!(p.param("subject"), masked);
    assert_eq!(p.msg, format!("probe 1 of {masked} 张三"));
    assert!(!seen.iter().any(|p| p.msg.contains(&id_number())));
    // The message carries the row's place and hash: the collector holds
    // the chain's anchors.
    let rows = s
        .state
        .db
        .audit_rows(&Default::default(), 100)
        .await
        .unwrap();
    let row = rows.iter().find(|r| r.action == "view.probe").unwrap();
    assert_eq!(p.param("seq"), row.seq.to_string());
    assert_eq!(p.param("hash"), row.hash);
    assert_eq!(p.timestamp, row.at);
    // Every row was sent once, in chain order.
    let seqs: Vec<i64> = seen
        .iter()
        .map(|p| p.param("seq").parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    s.stop().await;
}

/// Reads octet-counted frames (`LEN SP MSG`) until one satisfies `done`.
async fn read_frames(
    conn: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
    done: impl Fn(&Parsed) -> bool,
) -> Vec<Parsed> {
    let mut out = vec![];
    loop {
        while let Some(sp) = buf.iter().position(|&b| b == b' ') {
            let len: usize = std::str::from_utf8(&buf[..sp]).unwrap().parse().unwrap();
            if buf.len() < sp + 1 + len {
                break;
            }
            let msg: Vec<u8> = buf[sp + 1..sp + 1 + len].to_vec();
            buf.drain(..sp + 1 + len);
            let p = read_both(&msg);
            let stop = done(&p);
            out.push(p);
            if stop {
                return out;
            }
        }
        let mut chunk = [0u8; 8192];
        let n = within("a TCP frame", conn.read(&mut chunk)).await.unwrap();
        assert!(n > 0, "the service closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_reach_a_tcp_collector_octet_counted() {
    let collector = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("tcp://{}", collector.local_addr().unwrap());
    let (s, _dir) = server(target, 100).await;
    for i in 0..3 {
        probe(&s, i).await;
    }
    let (mut conn, _) = within("the connection", collector.accept()).await.unwrap();
    let mut buf = vec![];
    let got = read_frames(&mut conn, &mut buf, |p| p.msg.starts_with("probe 2 ")).await;
    let probes: Vec<&str> = got
        .iter()
        .filter(|p| p.param("action") == "view.probe")
        .map(|p| p.msg.split(" of ").next().unwrap())
        .collect();
    assert_eq!(probes, ["probe 0", "probe 1", "probe 2"]);
    assert_eq!(got[0].param("action"), "system.start");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absent_collector_costs_messages_not_requests_and_is_reported() {
    // A port nobody listens on (yet).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (s, _dir) = server(format!("tcp://127.0.0.1:{port}"), 4).await;
    let started = std::time::Instant::now();
    for i in 0..40 {
        probe(&s, i).await;
    }
    // The requests were not held up by the collector.
    assert!(started.elapsed() < Duration::from_secs(10));
    within("drops to be counted", async {
        while s.state.metrics.syslog_dropped.load(Relaxed) < 30 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    // The collector comes back: the loss is reported in the trail, and the
    // report reaches the collector.
    let collector = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let (mut conn, _) = within("the connection", collector.accept()).await.unwrap();
    let mut buf = vec![];
    let got = read_frames(&mut conn, &mut buf, |p| {
        p.param("action") == "syslog.dropped"
    })
    .await;
    let report = got.last().unwrap();
    assert_eq!(report.msgid, "system");
    let reported: u64 = s
        .state
        .db
        .audit_rows(
            &exam_server::db::AuditQuery {
                actions: vec!["syslog.dropped".into()],
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.detail.split(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(reported >= 30, "{reported}");
    assert_eq!(reported, s.state.metrics.syslog_dropped.load(Relaxed));
    assert!(s.state.metrics.syslog_sent.load(Relaxed) >= 1);
    s.stop().await;
}
