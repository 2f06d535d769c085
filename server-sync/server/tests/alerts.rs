//! Alarms (S8): the Prometheus rules shipped in `deploy/alerts.yml` name
//! only metrics the service exports (read from a real scrape), with the
//! thresholds the administration page uses; `/metrics` answers only an
//! allowed address or the bearer token; the administration page lists the
//! current alarms.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::{Backend, Harness, quiet_heartbeat};
use exam_server::alarms::Thresholds;
use yaml_rust2::{Yaml, YamlLoader};

const RULES: &str = include_str!("../deploy/alerts.yml");

/// PromQL words that are not metric names.
const PROMQL: &[&str] = &[
    "and",
    "or",
    "unless",
    "on",
    "ignoring",
    "by",
    "without",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
];

/// The metric names an expression reads: identifiers outside label
/// matchers, ranges and strings, not called as functions, not keywords.
fn metrics_in(expr: &str) -> BTreeSet<String> {
    let mut plain = String::new();
    let mut depth_brace = 0;
    let mut depth_bracket = 0;
    let mut in_string = false;
    for c in expr.chars() {
        match c {
            '"' => in_string = !in_string,
            _ if in_string => {}
            '{' => depth_brace += 1,
            '}' => depth_brace -= 1,
            '[' => depth_bracket += 1,
            ']' => depth_bracket -= 1,
            _ if depth_brace == 0 && depth_bracket == 0 => plain.push(c),
            _ => {}
        }
        if depth_brace > 0 || depth_bracket > 0 {
            plain.push(' ');
        }
    }
    let mut out = BTreeSet::new();
    let chars: Vec<char> = plain.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() || chars[i] == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let called = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&'(');
            if !called && !PROMQL.contains(&word.to_ascii_lowercase().as_str()) {
                out.insert(word);
            }
        } else {
            i += 1;
        }
    }
    out
}

struct Rule {
    alert: String,
    expr: String,
    severity: String,
}

fn rules() -> Vec<Rule> {
    let doc = &YamlLoader::load_from_str(RULES).unwrap()[0];
    let mut out = Vec::new();
    for g in doc["groups"].as_vec().unwrap() {
        for r in g["rules"].as_vec().unwrap() {
            assert!(
                !matches!(r["annotations"]["summary"], Yaml::BadValue),
                "{:?} has no summary",
                r["alert"]
            );
            out.push(Rule {
                alert: r["alert"].as_str().unwrap().to_string(),
                expr: r["expr"].as_str().unwrap().to_string(),
                severity: r["labels"]["severity"].as_str().unwrap().to_string(),
            });
        }
    }
    out
}

async fn scrape(h: &Harness, auth: Option<&str>) -> (u16, String) {
    let mut req = h.http.get(format!("{}/metrics", h.url));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[test]
fn the_expression_reader_finds_metrics_only() {
    assert_eq!(
        metrics_in(
            r#"exam_backup_configured == 1 and time() - exam_backup_last_success_timestamp_seconds > 26 * 3600"#
        ),
        [
            "exam_backup_configured",
            "exam_backup_last_success_timestamp_seconds"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        metrics_in(r#"increase(exam_staff_denied_total{job="x", kind=~"a|b"}[10m]) >= 20"#),
        ["exam_staff_denied_total".to_string()].into()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_reads_metrics_the_service_exports() {
    let h = Harness::start(Backend::Sqlite).await;
    // A kiosk that called in, so the per-kiosk gauges have samples too.
    let key = h.kiosk("K-ALERT").await;
    let body = serde_json::to_vec(&quiet_heartbeat(0)).unwrap();
    let (s, v) = h
        .signed(&key, "POST", exam_protocol::paths::HEARTBEAT, &body, None)
        .await;
    assert_eq!(s, 200, "{v}");
    let (status, text) = scrape(&h, None).await;
    assert_eq!(status, 200, "loopback is allowed by default");
    let exported: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(String::from)
        .collect();
    let rules = rules();
    assert!(rules.len() >= 15, "{} rules", rules.len());
    let mut seen_alerts = BTreeSet::new();
    for r in &rules {
        assert!(seen_alerts.insert(r.alert.clone()), "{} twice", r.alert);
        assert!(
            ["critical", "warning"].contains(&r.severity.as_str()),
            "{}: {}",
            r.alert,
            r.severity
        );
        let names = metrics_in(&r.expr);
        assert!(!names.is_empty(), "{} reads no metric", r.alert);
        for m in names {
            // `up` is Prometheus's own, about the scrape itself.
            assert!(
                m == "up" || exported.contains(&m),
                "{}: {m} is not exported",
                r.alert
            );
        }
    }
    // What the issue names has a rule.
    for a in [
        "ExamServerDown",
        "KioskOffline",
        "KioskPrintBacklog",
        "KioskPrinterFault",
        "DiskNearlyFull",
        "BackupTooOld",
        "BackupFailed",
        "LoginFailureSpike",
        "PermissionDeniedSpike",
        "AuditChainBroken",
        "SyslogDrops",
        "ImplausibleData",
    ] {
        assert!(seen_alerts.contains(a), "no rule {a}");
    }
    // The rules' thresholds are the administration page's.
    let t = Thresholds::default();
    let expr = |a: &str| rules.iter().find(|r| r.alert == a).unwrap().expr.clone();
    assert!(expr("KioskOffline").contains(&format!("> {}", t.kiosk_offline.num_seconds())));
    assert!(expr("BackupTooOld").contains(&format!("> {} * 3600", t.backup_max_age.num_hours())));
    assert!(expr("DiskNearlyFull").contains(&format!("< {:.2}", t.disk_free_min)));
    assert!(expr("KioskPrintBacklog").contains(&format!(">= {}", t.backlog_parts)));
    assert!(expr("KioskPrintBacklog").contains(&format!("> {}", t.backlog_age.num_seconds())));
    assert!(expr("PermissionDeniedSpike").contains(&format!(">= {}", t.denied_per_window)));
    assert!(expr("LoginFailureSpike").contains(&format!(">= {}", t.login_failed_per_window)));
    let window = format!("[{}m]", t.window.num_minutes());
    assert!(expr("PermissionDeniedSpike").contains(&window));
    assert!(
        text.contains("exam_kiosk_last_heartbeat_timestamp_seconds{kiosk=\"K-ALERT\"}"),
        "{text}"
    );

    // The administration page lists the alarms (no backup_dir in the harness).
    let admin = h.staff("alarm-admin", "admin").await;
    let html = admin
        .http
        .get(format!("{}/admin", h.url))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"alarms\""), "{html}");
    assert!(html.contains("未配置备份目录"), "{html}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_answer_only_allowed_callers() {
    let h = Harness::start_with(Backend::Sqlite, |c| {
        c.metrics_allow = vec!["192.0.2.0/24".into()];
        c.metrics_token = Some("scrape-token-for-tests".into());
    })
    .await;
    // Loopback is not in this allow list: as if the path did not exist.
    let (s, body) = scrape(&h, None).await;
    assert_eq!(s, 404);
    assert!(!body.contains("exam_"), "{body}");
    assert_eq!(scrape(&h, Some("Bearer wrong-token")).await.0, 404);
    assert_eq!(scrape(&h, Some("scrape-token-for-tests")).await.0, 404);
    let (s, body) = scrape(&h, Some("Bearer scrape-token-for-tests")).await;
    assert_eq!(s, 200);
    assert!(
        body.contains("exam_backup_last_success_timestamp_seconds 0"),
        "{body}"
    );
    h.stop().await;

    // A typo in the allow list stops the start, naming it.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    exam_vault::KeyRing::generate()
        .unwrap()
        .write_new_file(&key)
        .unwrap();
    let e = exam_server::start(exam_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}/x.db", dir.path().display()),
        data_key_file: Some(key),
        metrics_allow: vec!["10.0.0.0/33".into()],
        ..exam_server::Config::default()
    })
    .await
    .unwrap_err();
    assert!(e.to_string().contains("10.0.0.0/33"), "{e}");
}
