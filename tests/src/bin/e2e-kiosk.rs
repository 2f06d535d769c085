//! The `kiosk` command, built inside this package so that end-to-end tests
//! can start (and kill) it as a real process.
//!
//! With `E2E_POWER_CUT=1` its journal goes through the power-cut VFS: every
//! write not yet synced is lost when the process is killed, as on a power
//! cut (a plain SIGKILL leaves them to the kernel's page cache).

fn main() -> anyhow::Result<()> {
    if std::env::var_os("E2E_POWER_CUT").is_some_and(|v| v == "1") {
        power_cut_vfs::register("power-cut", true)?;
    }
    kiosk_app::cli::main()
}
