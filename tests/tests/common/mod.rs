//! Shared by the tests that run the kiosk as a real process.

// Support shared by integration tests, outside #[test] fns where clippy.toml's
// allow-unwrap-in-tests does not reach; a panic here fails the calling test.
#![allow(clippy::unwrap_used)]

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
            // The tests' service is plain HTTP on 127.0.0.1.
            "--dev-loopback-http",
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

/// Runs `cmd` to its end and checks the kiosk reported everything synced
/// and printed. A kiosk with a long print queue may take as long as it
/// needs while `progress` (e.g. what the printers received) keeps changing;
/// it fails when nothing moved for `stall` (with `|| 0`: a plain limit).
/// A stalled kiosk is killed and the error carries the end of what it
/// printed and logged (a stall seen once in CI must say why); the caller
/// adds what it can tell of its side.
pub async fn run_while_progressing(
    mut cmd: Command,
    stall: std::time::Duration,
    progress: impl Fn() -> usize,
) -> Result<(), String> {
    cmd.stderr(Stdio::piped()).env("RUST_LOG", "info");
    let mut child = cmd.spawn().unwrap();
    let read = |mut r: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        tokio::spawn(async move {
            let mut s = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut r, &mut s).await;
            s
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let (mut last, mut since) = (progress(), std::time::Instant::now());
    let status = loop {
        if let Ok(s) = tokio::time::timeout(std::time::Duration::from_secs(1), child.wait()).await {
            break s.unwrap();
        }
        let now = progress();
        if now != last {
            (last, since) = (now, std::time::Instant::now());
        }
        if since.elapsed() >= stall {
            let _ = child.start_kill();
            let _ = child.wait().await;
            let (stdout, stderr) = (out.await.unwrap(), err.await.unwrap());
            return Err(format!(
                "the last run finishes: nothing moved for {stall:?}\n\
                 kiosk stdout (end):\n{}\nkiosk log (end):\n{}",
                tail(&stdout, 20),
                tail(&stderr, 60)
            ));
        }
    };
    let stdout = out.await.unwrap();
    assert!(status.success() && stdout.contains("drained"), "{stdout}");
    Ok(())
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
