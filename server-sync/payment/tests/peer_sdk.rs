//! The PyPI WeChat Pay v3 SDK (`wechatpayv3`, written by others) against
//! the `pay-sim` binary: the SDK's own request signing, answer verification
//! and callback verification / decryption accept what the simulator speaks.
//! Fails (never skips) when the Python peer is missing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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

#[test]
fn wechatpayv3_sdk_speaks_with_pay_sim() {
    let keys = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Command::new(env!("CARGO_BIN_EXE_pay-sim"))
        .args(["--listen", "127.0.0.1:0", "--keys-dir"])
        .arg(keys.path())
        .args([
            "--notify-backoff-ms",
            "200,200,400",
            "--refund-delay-ms",
            "200",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting pay-sim: {e}"));
    let mut line = String::new();
    let out = sim
        .stdout
        .take()
        .unwrap_or_else(|| panic!("pay-sim stdout"));
    let _guard = Kill(sim);
    BufReader::new(out)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("{e}"));
    let info: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("pay-sim said {line:?}: {e}"));
    let url = info["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no url in {line}"))
        .to_string();
    // Nothing secret in what pay-sim prints.
    assert!(!line.contains("PRIVATE"));

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/peers/wechatpay_sdk.py"
    );
    let py = python();
    let out = Command::new(&py)
        .arg(script)
        .arg(&url)
        .arg(keys.path())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run the Python peer {py} ({e}): run scripts/test, or set EXAM_PEERS_PYTHON"
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the SDK check failed ({}):\n{stderr}\n{stdout}",
        out.status
    );
    let v: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{stdout}: {e}"));
    let checks: Vec<&str> = v["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str())
        .collect();
    for wanted in [
        "sdk native order 200",
        "sdk query verifies, NOTPAY",
        "sdk callback decrypts payment",
        "sdk refuses a tampered notification",
        "sdk callback decrypts refund",
        "sdk close 204 verifies",
        "sdk rejects an answer signed by another key",
        "pay-sim refuses a request signed by another key",
    ] {
        assert!(
            checks.contains(&wanted),
            "missing check {wanted:?} in {checks:?}"
        );
    }
}
