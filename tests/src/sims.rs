//! The hospital's other systems for the demo, each speaking its real wire:
//! the payment platform (`pay-sim`, in this process: WeChat Pay v3 over
//! HTTP), HIS (`his-sim`, REST / JSON) and one `lis-sim` per HL7 system
//! (laboratory, radiology, ultrasound, ECG, endoscopy, pathology: orders in,
//! ACKs and results out over MLLP) as child processes from their own
//! binaries beside this one.
//! The service's configuration is pointed at them, so the demo's payments,
//! orders and results go through the same adapters as in a hospital.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use exam_server::interfaces::Counterpart;
use exam_server::interfaces::settings::AdapterSpec;
use serde_json::json;

use crate::free_addr;

pub struct HospitalSims {
    pub pay: Arc<exam_payment::sim::Sim>,
    pub pay_url: String,
    /// One line per system, for the demo's banner.
    pub lines: Vec<String>,
    /// Killed when dropped (the demo's end).
    _children: Vec<tokio::process::Child>,
}

/// The HL7 systems the demo runs a `lis-sim` for.
const HL7_SYSTEMS: [(Counterpart, &str); 6] = [
    (Counterpart::Lis, "laboratory (LIS)"),
    (Counterpart::Pacs, "radiology (PACS)"),
    (Counterpart::Ultrasound, "ultrasound"),
    (Counterpart::Ecg, "ECG"),
    (Counterpart::Endoscopy, "endoscopy"),
    (Counterpart::Pathology, "pathology"),
];

/// Starts the systems and points `config` at them (`ca_pem`: the CA of the
/// service's HTTPS certificate, for the platform's notifications). `critical_patient`:
/// an HIS patient id or ID number whose potassium the laboratory reports
/// critically high (HH), to show a major abnormal result arriving.
pub async fn start(
    data: &Path,
    config: &mut exam_server::Config,
    ca_pem: &[u8],
    critical_patient: Option<&str>,
) -> anyhow::Result<HospitalSims> {
    let keys = data.join("pay-sim");
    let (pay, pay_url) =
        crate::pay_sim_trusting(&keys, exam_payment::sim::Faults::default(), Some(ca_pem)).await?;
    *config = crate::with_pay_sim(config.clone(), &pay_url, &keys);
    // Patients have five minutes at the pay screen, as in the field.
    config.payment.query_after_seconds = 3;
    config.payment.poll_ms = 1_000;

    let dir = std::env::current_exe()?
        .parent()
        .context("the demo's directory")?
        .to_path_buf();
    let mut children = Vec::new();
    let mut lines = vec![format!(
        "payment platform: pay-sim at {pay_url} (WeChat Pay v3; the demo's payer scans the QR)"
    )];

    let his = free_addr();
    children.push(
        spawn(
            &dir.join("his-sim"),
            &["--listen", &his.to_string(), "--seed", "1"],
        )
        .await?,
    );
    config.interfaces.counterparts.insert(
        Counterpart::His,
        spec(
            "his_rest",
            json!({ "endpoint": format!("http://{his}/his/api/v1"), "timeout_seconds": 5 }),
        ),
    );
    lines.push(format!(
        "HIS: his-sim at http://{his}/his/api/v1 (REST; SOAP and its WSDL at /his/soap?wsdl)"
    ));

    for (counterpart, name) in HL7_SYSTEMS {
        let (orders, results) = (free_addr(), free_addr());
        let mut args = vec![
            "--listen".to_string(),
            orders.to_string(),
            "--results-to".into(),
            results.to_string(),
            "--delay-ms".into(),
            "4000".into(),
        ];
        if counterpart == Counterpart::Lis {
            if let Some(p) = critical_patient {
                args.extend(["--critical-patient".to_string(), p.to_string()]);
            }
            // About one patient in ten has a critically high potassium
            // (where their package measures it): a major abnormal result.
            args.extend(["--critical-share".to_string(), "0.1".to_string()]);
            // One result in twenty lost on the way, as real links lose
            // them: staff's re-fetch (QRY^R02) on the visit's interface
            // page brings it.
            args.extend(["--lost-rate".to_string(), "0.05".to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        children.push(spawn(&dir.join("lis-sim"), &args).await?);
        config.interfaces.counterparts.insert(
            counterpart,
            spec(
                "hl7_mllp",
                json!({ "address": orders.to_string(), "listen": results.to_string(), "charset": "utf-8" }),
            ),
        );
        lines.push(format!(
            "{name}: lis-sim, orders to mllp://{orders}, results back to mllp://{results}{}",
            if counterpart == Counterpart::Lis {
                " (one result in twenty lost: re-fetch it on /interfaces)"
            } else {
                ""
            }
        ));
    }
    // The SMS platform (Tencent Cloud SMS API 3.0 wire, TC3-signed): its
    // key made now, given to the simulator and to the service's key file.
    let sms = free_addr();
    let key = exam_protocol::auth::random_token();
    let key_file = data.join("sms-secret-key");
    exam_server::tls::dev::write_private(&key_file, key.as_bytes())
        .with_context(|| format!("writing {}", key_file.display()))?;
    children.push(
        spawn_with(
            &dir.join("sms-sim"),
            &[
                "--listen",
                &sms.to_string(),
                "--templates",
                "2001=4,2002=2,2003=2,2004=2",
                "--phone-limits",
                "30:3,3600:10,86400:20",
                "--report-delay-ms",
                "2000",
            ],
            &[("SMS_SIM_SECRET_KEY", key.as_str())],
        )
        .await?,
    );
    config.interfaces.counterparts.insert(
        Counterpart::Sms,
        spec(
            "tencent_sms",
            json!({
                "endpoint": format!("http://{sms}"),
                "secret_id": "AKIDsmssimtest0000000000000000000000",
                "secret_key_file": key_file.display().to_string(),
                "sdk_app_id": "1400000001",
                "sign_name": "演示体检中心",
                "centre_phone": "0571-88888888",
                "template_booking_confirmed": "2001",
                "template_report_ready": "2002",
                "template_abnormal_result": "2003",
                "template_critical_value": "2004",
            }),
        ),
    );
    lines.push(format!(
        "SMS: sms-sim at http://{sms} (the phones: http://{sms}/sim/messages)"
    ));

    // A demo's queue is short: retries come round quickly.
    config.interfaces.backoff_base_seconds = 2;
    config.interfaces.backoff_cap_seconds = 30;
    Ok(HospitalSims {
        pay,
        pay_url,
        lines,
        _children: children,
    })
}

fn spec(adapter: &str, options: serde_json::Value) -> AdapterSpec {
    let options: BTreeMap<String, serde_json::Value> = options
        .as_object()
        .map(|o| o.clone().into_iter().collect())
        .unwrap_or_default();
    AdapterSpec {
        adapter: adapter.into(),
        options,
    }
}

/// A simulator's own binary (built beside the demo by `scripts/demo`), its
/// output in the demo's log only when something goes wrong.
async fn spawn(exe: &Path, args: &[&str]) -> anyhow::Result<tokio::process::Child> {
    spawn_with(exe, args, &[]).await
}

async fn spawn_with(
    exe: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<tokio::process::Child> {
    let child = tokio::process::Command::new(exe)
        .args(args)
        .envs(env.iter().copied())
        // Their progress lines would drown the demo's own: problems only.
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!(
                "starting {} (built by scripts/demo: cargo build --release -p exam-his -p exam-hl7)",
                exe.display()
            )
        })?;
    // Its listener is up before the service's first message.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    Ok(child)
}
