//! The PyPI Tencent Cloud SDK (`tencentcloud-sdk-python-common` and
//! `-sms`, written by others) against the `sms-sim` binary and our signer:
//! the SDK's SendSms is verified and answered by the simulator, its wrong
//! key refused with AuthFailure.SignatureFailure, its PullSmsSendStatus
//! gets the report; and our TC3 signature equals the SDK's for the same
//! inputs. Fails (never skips) when the Python peer is missing.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use exam_sms::{OutgoingSms, TencentSms, TencentSmsConfig};
use zeroize::Zeroizing;

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> String {
    std::env::var("EXAM_PEERS_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/exam-kiosk/peers-venv/bin/python",
            std::env::var("HOME").unwrap_or_default()
        )
    })
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peer_sdk.py");
const KEY: &str = "peer-test-secret-key-000000000000";
const ID: &str = "AKIDpeertest000000000000000000000000";

fn run_peer(args: &[&str]) -> serde_json::Value {
    let out = Command::new(python())
        .arg(SCRIPT)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("the Python peer ({}) did not start: {e}", python()));
    assert!(
        out.status.success(),
        "the SDK peer failed (is tests/peers/requirements.txt installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("peer said {:?}: {e}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn the_sdk_sends_through_sms_sim_and_pulls_its_report() {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_sms-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--secret-id",
            ID,
            "--report-delay-ms",
            "100",
        ])
        .env("SMS_SIM_SECRET_KEY", KEY)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = sim.stdout.take().unwrap();
    let _guard = Kill(sim);
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    assert!(!line.contains(KEY), "sms-sim printed its key");
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = info["url"].as_str().unwrap().to_string();
    let app = info["sdk_app_id"].as_str().unwrap().to_string();

    let r = run_peer(&["send", &url, ID, KEY, &app]);
    assert_eq!(r["code"], "Ok", "{r}");
    assert_eq!(r["fee"], 1);
    assert_eq!(r["wrong_key"], "AuthFailure.SignatureFailure", "{r}");
    let serial = r["serial_no"].as_str().unwrap();
    assert_eq!(r["pulled"][0]["serial_no"], serial, "{r}");
    assert_eq!(r["pulled"][0]["status"], "SUCCESS");

    // What the simulator kept is what the SDK sent.
    let kept: serde_json::Value = reqwest::get(format!("{url}/sim/messages"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept.as_array().unwrap().len(), 1, "{kept}");
    assert_eq!(kept[0]["phone"], "+8613700001111");
    assert_eq!(kept[0]["params"][0], "王女士");
    assert_eq!(kept[0]["session_context"], "peer-sdk");
    let stats: serde_json::Value = reqwest::get(format!("{url}/sim/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["auth_failures"], 1);
}

#[test]
fn our_signature_equals_the_sdks() {
    let host = "sms.tencentcloudapi.com";
    let c = TencentSms::new(TencentSmsConfig {
        endpoint: format!("https://{host}"),
        region: "ap-guangzhou".into(),
        secret_id: ID.into(),
        secret_key: Zeroizing::new(KEY.into()),
        sdk_app_id: "1400000001".into(),
        sign_name: "体检中心".into(),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let ours = c
        .send_request_body(&OutgoingSms {
            phone: "13700001111".into(),
            template_id: "2001".into(),
            params: vec!["王女士".into(), "T20261205007".into()],
            session_context: "peer-sdk".into(),
        })
        .unwrap();
    let dir = tempfile_dir();
    let body_file = dir.join("body.json");
    std::fs::write(&body_file, &ours).unwrap();
    let ts = 1_764_900_000_i64;
    let r = run_peer(&[
        "sign",
        host,
        ID,
        KEY,
        &ts.to_string(),
        body_file.to_str().unwrap(),
    ]);
    // The SDK's own request, signed by us: the same Authorization.
    let sdk_body = r["sdk"]["body"].as_str().unwrap().as_bytes().to_vec();
    assert_eq!(r["sdk"]["content_type"], exam_sms::gateway::CONTENT_TYPE);
    assert_eq!(r["sdk"]["host"], host);
    let signed = c.sign("SendSms", sdk_body, ts);
    let auth = &signed
        .headers
        .iter()
        .find(|(k, _)| *k == "Authorization")
        .unwrap()
        .1;
    assert_eq!(auth, r["sdk"]["authorization"].as_str().unwrap());
    // Our request, signed by the SDK: the same signature.
    let signed = c.sign("SendSms", ours, ts);
    let auth = &signed
        .headers
        .iter()
        .find(|(k, _)| *k == "Authorization")
        .unwrap()
        .1;
    assert!(
        auth.ends_with(&format!(
            "Signature={}",
            r["ours_signature"].as_str().unwrap()
        )),
        "{auth} vs {r}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("exam-sms-peer-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
