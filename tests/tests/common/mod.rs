//! Shared by the tests that run the kiosk as a real process.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

/// `kiosk run` (built as `e2e-kiosk`) against `server`, playing `script`
/// and exiting once everything is synced and printed; `extra` adds flags.
pub fn kiosk_command(
    journal: &Path,
    server: &str,
    kiosk_id: &str,
    secret: &str,
    script: &Path,
    extra: &[&str],
) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_e2e-kiosk"));
    c.args(["run", "--journal"])
        .arg(journal)
        .args([
            "--server",
            server,
            "--kiosk-id",
            kiosk_id,
            "--enrol-secret",
            secret,
        ])
        .args(extra)
        .arg("--script")
        .arg(script)
        .args(["--exit-when-drained", "--sync-every-s", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    c
}

/// Runs `cmd` to its end (within `limit`) and checks the kiosk reported
/// everything synced and printed.
pub async fn run_until_drained(mut cmd: Command, limit: std::time::Duration) {
    let out = tokio::time::timeout(limit, cmd.output())
        .await
        .expect("the last run finishes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("drained"),
        "{stdout}"
    );
}
