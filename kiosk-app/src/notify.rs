//! systemd's readiness and watchdog protocol (sd_notify), without libsystemd:
//! a datagram to `$NOTIFY_SOCKET`. The kiosk image's unit is `Type=notify`
//! with `WatchdogSec=`, so systemd knows when the kiosk is up (enrolled,
//! journal open, devices started) and restarts it when it hangs. Outside
//! systemd nothing is sent.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

fn send(msg: &str) -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some_and(|p| send_to(&p, msg))
}

/// Sends one notification to the socket at `path` (`@name`: abstract).
fn send_to(path: &std::ffi::OsStr, msg: &str) -> bool {
    let Ok(sock) = UnixDatagram::unbound() else {
        return false;
    };
    let bytes = path.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        // An abstract socket (systemd in a container, some test harnesses).
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(msg.as_bytes(), &a))
    } else {
        sock.send_to(msg.as_bytes(), path)
    };
    sent.is_ok()
}

/// Tells systemd the kiosk is ready, with a status line for `systemctl
/// status`; then pings the watchdog at half its period from a thread for
/// as long as the process lives (a hung runtime stops `alive` from being
/// called, see [`spawn_watchdog`]).
pub fn ready(status: &str) {
    if send(&ready_message(status)) {
        tracing::info!(status, "told systemd we are ready");
    }
}

fn ready_message(status: &str) -> String {
    format!("READY=1\nSTATUS={status}")
}

/// The watchdog period systemd asked for, if any.
pub fn watchdog_period() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    // Only if the watchdog is meant for this process.
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// Pings the watchdog from the async runtime, so a stuck runtime (not just
/// a dead process) gets the kiosk restarted.
pub fn spawn_watchdog() {
    let Some(period) = watchdog_period() else {
        return;
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period / 2);
        loop {
            tick.tick().await;
            send("WATCHDOG=1");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_reaches_the_notify_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let rx = UnixDatagram::bind(&path).unwrap();
        assert!(send_to(path.as_os_str(), &ready_message("enrolled as K-1")));
        let mut buf = [0u8; 128];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=enrolled as K-1");
        assert!(
            !send_to(dir.path().join("none").as_os_str(), "WATCHDOG=1"),
            "no socket, nothing sent"
        );
    }
}
