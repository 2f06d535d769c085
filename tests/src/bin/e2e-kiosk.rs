//! The `kiosk` command, built inside this package so that end-to-end tests
//! can start (and kill) it as a real process.
//!
//! With `E2E_POWER_CUT=1` its journal goes through the power-cut VFS: every
//! write not yet synced is lost when the process is killed, as on a power
//! cut (a plain SIGKILL leaves them to the kernel's page cache).
//!
//! With `E2E_VFS_CONTROL=DIR` it leaves the harness the evidence of which
//! of the two it ran: `DIR/probe.db`, a database written and never synced
//! (empty after the process died only if the power-cut VFS was in use), and
//! with the VFS, `DIR/vfs-report`, the VFS's running count of buffered
//! writes and of bytes unsynced (what a kill at that moment lost).

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let control = std::env::var_os("E2E_VFS_CONTROL").map(PathBuf::from);
    let power_cut = std::env::var_os("E2E_POWER_CUT").is_some_and(|v| v == "1");
    if power_cut {
        power_cut_vfs::register("power-cut", true)?;
    }
    if let Some(dir) = &control {
        power_cut_vfs::probe(&dir.join("probe.db"))?;
        if power_cut {
            // Counted from here: the journal's writes, not the probe's.
            power_cut_vfs::report_to(&dir.join("vfs-report"))?;
        }
    }
    kiosk_app::cli::main()
}
