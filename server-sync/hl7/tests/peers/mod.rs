//! Shared by the tests: the Python peers (tests/peers/hl7_peer.py, run by
//! $EXAM_PEERS_PYTHON) and sample messages.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveDateTime};
use exam_hl7::mllp::{Inbound, ListenerConfig, Reply, serve};
use exam_hl7::{
    Charset, Coded, DuplicateKey, ErrorCode, Header, MessageKind, Order, OrderControl, OrderLine,
    Patient, ResultMessage, SeenKeys, Sex, TargetSystem,
};

pub fn python() -> String {
    let py = std::env::var("EXAM_PEERS_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/exam-kiosk/peers-venv/bin/python",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    // Fail, never skip, when the peers are missing: the test's point is
    // the outside peer.
    let ok = Command::new(&py)
        .args(["-c", "import hl7, hl7.mllp, hl7apy"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the Python peers (python-hl7, hl7apy) are missing: run scripts/test, or install \
         tests/peers/requirements.txt into a venv and set EXAM_PEERS_PYTHON (tried {py})"
    );
    py
}

pub fn peer_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers/hl7_peer.py")
}

/// A child process killed when dropped (a failing test leaves nothing).
pub struct Peer {
    pub child: Child,
    pub out: BufReader<ChildStdout>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    pub fn spawn(program: &str, args: &[&str]) -> Peer {
        let mut child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {program}: {e}"));
        let out = BufReader::new(child.stdout.take().expect("stdout piped"));
        Peer { child, out }
    }

    /// The next line of its stdout (blocking; the peers print promptly).
    pub fn line(&mut self) -> String {
        let mut s = String::new();
        let n = self
            .out
            .read_line(&mut s)
            .expect("reading the peer's stdout");
        assert!(n > 0, "the peer exited without answering");
        s.trim_end().to_string()
    }
}

pub fn at(h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 5)
        .and_then(|d| d.and_hms_opt(h, m, 0))
        .expect("valid time")
}

pub fn header(control_id: &str, charset: Charset) -> Header {
    Header {
        sending_application: "EXAM".into(),
        sending_facility: "CENTER".into(),
        receiving_application: "LIS".into(),
        receiving_facility: "LAB".into(),
        timestamp: at(8, 30),
        control_id: control_id.into(),
        processing: Default::default(),
        charset,
    }
}

pub fn order(kind: MessageKind, control_id: &str, charset: Charset, patient_id: &str) -> Order {
    let line = |control, barcode: &str, code: &str, name: &str| OrderLine {
        control,
        placer_order_number: barcode.into(),
        item: Coded::new(code, name),
        requested_at: Some(at(8, 30)),
        specimen: (kind == MessageKind::OmlO21).then(|| Coded::new("SER", "血清")),
    };
    Order {
        kind,
        header: header(control_id, charset),
        patient: Patient {
            id: patient_id.into(),
            name: "张三".into(),
            sex: Sex::Male,
            birth_date: NaiveDate::from_ymd_opt(1980, 1, 1),
        },
        visit_number: "2612050001".into(),
        department: Coded::new("TJK", "体检科"),
        target: TargetSystem::Lis,
        lines: vec![
            line(OrderControl::New, "B100001", "L-ELEC", "电解质(钾、钠、氯)"),
            line(OrderControl::New, "B100002", "L-GLU", "空腹血糖(GLU)"),
        ],
    }
}

/// What our result listener saw.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Results applied (after duplicates were dropped).
    pub applied: Vec<ResultMessage>,
    /// Every readable message received, by control id, duplicates too.
    pub received: Vec<String>,
}

/// Our result listener as the central service will run it: results
/// parsed, duplicates (by control id, then by barcode + item + status)
/// acknowledged but applied once.
pub async fn start_collector(charset: Charset) -> (u16, Arc<Mutex<Seen>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen_all = Arc::new(Mutex::new(Seen::default()));
    let keys = Arc::new(Mutex::new(SeenKeys::new(10_000)));
    let cfg = ListenerConfig {
        peer_charset: charset,
        ..ListenerConfig::default()
    };
    let out = seen_all.clone();
    tokio::spawn(serve(listener, cfg, move |inbound: Inbound| {
        let keys = keys.clone();
        let out = out.clone();
        async move {
            out.lock()
                .unwrap()
                .received
                .push(inbound.message.control_id().to_string());
            let r = match ResultMessage::from_message(&inbound.message, inbound.charset) {
                Ok(r) => r,
                Err(e) => return Reply::error(ErrorCode::DataType, e.to_string()),
            };
            let mut keys = keys.lock().unwrap();
            if !keys.insert(DuplicateKey::for_message(&inbound.message)) {
                return Reply::accept();
            }
            let mut fresh = r.clone();
            fresh
                .items
                .retain(|i| keys.insert(DuplicateKey::for_result(i)));
            if !fresh.items.is_empty() {
                out.lock().unwrap().applied.push(fresh);
            }
            Reply::accept()
        }
    }));
    (port, seen_all)
}
