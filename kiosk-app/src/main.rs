//! `kiosk`: the self-service check-in kiosk.

fn main() -> anyhow::Result<()> {
    kiosk_app::cli::main()
}
