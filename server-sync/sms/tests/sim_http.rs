//! The client against the simulator over real HTTP, fault by fault: every
//! answer the platform gives is read into the right typed error, and
//! delivery reports come back by pull and by push.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use exam_sms::model::parse_callback;
use exam_sms::sim::{Faults, Sim, SimConfig, spawn};
use exam_sms::{
    DeliveryReport, OutgoingSms, ReportStatus, Retry, SmsError, SmsGateway, TencentSms,
    TencentSmsConfig,
};
use zeroize::Zeroizing;

async fn start(cfg: SimConfig) -> (Arc<Sim>, String) {
    let sim = Sim::new(cfg);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = spawn(sim.clone(), l).await.unwrap();
    (sim, format!("http://{addr}"))
}

fn client(url: &str, cfg: &SimConfig, secret_key: &str) -> TencentSms {
    TencentSms::new(TencentSmsConfig {
        endpoint: url.to_string(),
        region: "ap-guangzhou".into(),
        secret_id: cfg.secret_id.clone(),
        secret_key: Zeroizing::new(secret_key.to_string()),
        sdk_app_id: cfg.sdk_app_id.clone(),
        sign_name: "体检中心".into(),
        timeout: Duration::from_millis(800),
    })
    .unwrap()
}

fn msg(phone: &str) -> OutgoingSms {
    OutgoingSms {
        phone: phone.into(),
        template_id: "2001".into(),
        params: vec!["张先生".into(), "T20261205001".into()],
        session_context: "sms:test:1".into(),
    }
}

fn faults(f: impl FnOnce(&mut Faults)) -> SimConfig {
    let mut c = SimConfig {
        report_delay: Duration::from_millis(50),
        timeout_delay: Duration::from_millis(1500),
        ..SimConfig::default()
    };
    f(&mut c.faults);
    c
}

async fn pull_until(c: &TencentSms, n: usize) -> Vec<DeliveryReport> {
    let mut out = Vec::new();
    for _ in 0..40 {
        out.extend(c.pull_reports(100).await.unwrap());
        if out.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    out
}

#[tokio::test]
async fn sent_kept_and_reported_by_pull() {
    let cfg = faults(|_| {});
    let (sim, url) = start(cfg.clone()).await;
    let c = client(&url, &cfg, &cfg.secret_key);
    let r = c.send(&msg("138 1234 5678")).await.unwrap();
    assert_eq!(r.fee, 1);
    let kept = sim.messages();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].phone, "+8613812345678");
    assert_eq!(kept[0].params, ["张先生", "T20261205001"]);
    assert_eq!(kept[0].session_context, "sms:test:1");
    assert_eq!(kept[0].serial_no, r.serial_no);
    let reports = pull_until(&c, 1).await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].serial_no, r.serial_no);
    assert_eq!(reports[0].status, ReportStatus::Success);
    assert_eq!(reports[0].phone, "+8613812345678");
    // Handed out once.
    assert!(c.pull_reports(100).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_signature_is_refused_for_good() {
    let cfg = faults(|_| {});
    let (sim, url) = start(cfg.clone()).await;
    let e = client(&url, &cfg, "not-the-key")
        .send(&msg("13812345678"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AuthFailure.SignatureFailure"), "{e}");
    assert_eq!(e.retry(), Retry::Permanent);
    assert_eq!(sim.stats().auth_failures, 1);
    assert!(sim.messages().is_empty());
}

#[tokio::test]
async fn server_errors_and_internal_errors_are_retryable_and_send_nothing() {
    let cfg = faults(|f| f.server_error = 1.0);
    let (sim, url) = start(cfg.clone()).await;
    let e = client(&url, &cfg, &cfg.secret_key)
        .send(&msg("13812345678"))
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::Http { status: 502 }), "{e}");
    assert_eq!(e.retry(), Retry::Retryable);
    let cfg = faults(|f| f.internal_error = 1.0);
    let (sim2, url) = start(cfg.clone()).await;
    let e = client(&url, &cfg, &cfg.secret_key)
        .send(&msg("13812345678"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InternalError.Timeout"));
    assert_eq!(e.retry(), Retry::Retryable);
    assert!(sim.messages().is_empty() && sim2.messages().is_empty());
}

/// A timeout is retryable, and the platform may have sent the message: it
/// did here (the simulator sends, then answers late).
#[tokio::test]
async fn a_timeout_is_retryable_and_the_message_may_have_gone() {
    let cfg = faults(|f| f.timeout = 1.0);
    let (sim, url) = start(cfg.clone()).await;
    let c = client(&url, &cfg, &cfg.secret_key);
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let e = c.send(&msg("13812345678")).await.unwrap_err();
    assert!(matches!(e, SmsError::Unavailable(_)), "{e}");
    assert_eq!(e.retry(), Retry::Retryable);
    assert_eq!(sim.messages().len(), 1);
    // Did it go? Its report, by number, names its session context (and it
    // is still there for the ordinary pull).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = c.reports_for("13812345678", since).await.unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].session_context, "sms:test:1");
    assert_eq!(r[0].serial_no, sim.messages()[0].serial_no);
    assert!(
        c.reports_for("13912345678", since)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(pull_until(&c, 1).await.len(), 1);
}

#[tokio::test]
async fn per_number_limits_answer_when_to_come_back() {
    let cfg = faults(|f| f.limit = 1.0);
    let (_sim, url) = start(cfg.clone()).await;
    let e = client(&url, &cfg, &cfg.secret_key)
        .send(&msg("13812345678"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("LimitExceeded.PhoneNumberDailyLimit"));
    assert_eq!(e.retry(), Retry::After(Duration::from_secs(86_400)));
    // The platform's own 30-second limit, without a fault.
    let cfg = faults(|_| {});
    let (sim, url) = start(cfg.clone()).await;
    let c = client(&url, &cfg, &cfg.secret_key);
    c.send(&msg("13812345678")).await.unwrap();
    let e = c.send(&msg("13812345678")).await.unwrap_err();
    assert_eq!(e.code(), Some("LimitExceeded.PhoneNumberThirtySecondLimit"));
    assert_eq!(e.retry(), Retry::After(Duration::from_secs(30)));
    c.send(&msg("13912345678")).await.unwrap();
    assert_eq!(sim.messages().len(), 2);
}

#[tokio::test]
async fn failed_lost_and_duplicate_reports() {
    let cfg = faults(|f| f.delivery_fail = 1.0);
    let (_s, url) = start(cfg.clone()).await;
    let c = client(&url, &cfg, &cfg.secret_key);
    c.send(&msg("13812345678")).await.unwrap();
    let r = pull_until(&c, 1).await;
    assert_eq!(r[0].status, ReportStatus::Fail);
    assert_eq!(r[0].description, "UNDELIV");

    let cfg = faults(|f| f.report_lost = 1.0);
    let (sim, url) = start(cfg.clone()).await;
    let c = client(&url, &cfg, &cfg.secret_key);
    c.send(&msg("13812345678")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(c.pull_reports(100).await.unwrap().is_empty());
    assert_eq!(sim.stats().reports_lost, 1);

    let cfg = faults(|f| f.report_duplicate = 1.0);
    let (_s, url) = start(cfg.clone()).await;
    let c = client(&url, &cfg, &cfg.secret_key);
    let sent = c.send(&msg("13812345678")).await.unwrap();
    let r = pull_until(&c, 2).await;
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|x| x.serial_no == sent.serial_no));
}

#[tokio::test]
async fn what_the_platform_refuses_before_sending() {
    let mut cfg = faults(|_| {});
    cfg.templates.insert("2001".into(), 2);
    let (sim, url) = start(cfg.clone()).await;
    let c = client(&url, &cfg, &cfg.secret_key);
    let mut m = msg("13812345678");
    m.template_id = "9999".into();
    let e = c.send(&m).await.unwrap_err();
    assert_eq!(
        e.code(),
        Some("FailedOperation.TemplateIncorrectOrUnapproved")
    );
    assert_eq!(e.retry(), Retry::Permanent);
    let e = c.send(&msg("12345")).await.unwrap_err();
    assert!(matches!(e, SmsError::Invalid(_)));
    assert!(sim.messages().is_empty());
    // Nothing of the number in what an error says or a message's Debug.
    assert!(!format!("{:?}", msg("13812345678")).contains("12345678"));
}

/// Reports pushed to a callback URL as the platform pushes them; a
/// receiver that refuses a batch gets it again.
#[tokio::test]
async fn reports_pushed_to_a_callback() {
    let got: Arc<Mutex<Vec<DeliveryReport>>> = Arc::default();
    let refused_once = Arc::new(Mutex::new(false));
    let (g, r) = (got.clone(), refused_once.clone());
    let app = axum::Router::new().route(
        "/sms/reports",
        axum::routing::post(move |body: axum::body::Bytes| {
            let (g, r) = (g.clone(), r.clone());
            async move {
                let mut refused = r.lock().unwrap();
                if !*refused {
                    *refused = true;
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
                }
                g.lock().unwrap().extend(parse_callback(&body).unwrap());
                (
                    axum::http::StatusCode::OK,
                    exam_sms::model::CALLBACK_ACK.to_string(),
                )
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cb = format!("http://{}/sms/reports", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let mut cfg = faults(|f| f.delivery_fail = 0.0);
    cfg.callback_url = Some(cb);
    let (sim, url) = start(cfg.clone()).await;
    let c = client(&url, &cfg, &cfg.secret_key);
    let a = c.send(&msg("13812345678")).await.unwrap();
    let b = c.send(&msg("13912345678")).await.unwrap();
    for _ in 0..50 {
        if got.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = got.lock().unwrap().clone();
    let mut serials: Vec<_> = got.iter().map(|r| r.serial_no.clone()).collect();
    serials.sort();
    let mut want = vec![a.serial_no, b.serial_no];
    want.sort();
    assert_eq!(serials, want);
    assert!(
        got.iter()
            .all(|r| r.status == ReportStatus::Success && r.received_at.is_some())
    );
    assert_eq!(sim.stats().push_failures, 1);
    // Pushed, so none to pull.
    assert!(c.pull_reports(10).await.unwrap().is_empty());
}
