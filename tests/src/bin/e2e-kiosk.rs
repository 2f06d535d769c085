//! The `kiosk` command, built inside this package so that end-to-end tests
//! can start (and kill) it as a real process.

fn main() -> anyhow::Result<()> {
    kiosk_app::cli::main()
}
