//! Provisioning a kiosk image (T3): `image-build/provision` writes checked
//! settings onto the EFI partition of a disk file (no mounts), refuses bad
//! values with what is wrong and writes nothing then. Runs on a small GPT
//! disk file built like the real image (mkfs.vfat -C, sfdisk, dd), so it
//! needs no root and no image build.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Checks the disk tools are there. `scripts/test` installs them, so their
/// absence fails the test (never a silent skip).
fn tools() {
    let missing: Vec<_> = ["mkfs.vfat", "mcopy", "mtype", "sfdisk"]
        .into_iter()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{missing:?} missing: install dosfstools, mtools and fdisk (scripts/test does)"
    );
}

/// A 40 MiB GPT disk with a 33 MiB partition named ESP at 1 MiB.
fn disk(dir: &Path) -> PathBuf {
    let esp = dir.join("esp.img");
    let img = dir.join("disk.img");
    let sh = format!(
        "set -e; mkfs.vfat -n ESP -C {esp} 33000 >/dev/null; truncate -s 40M {img}; \
         printf 'label: gpt\\nstart=2048, size=67584, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"ESP\"\\n' \
           | sfdisk -q {img}; dd if={esp} of={img} bs=1M seek=1 conv=notrunc status=none",
        esp = esp.display(),
        img = img.display()
    );
    let out = Command::new("sh").args(["-c", &sh]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    img
}

fn provision(img: &Path, args: &[&str]) -> std::process::Output {
    Command::new(repo().join("image-build/provision"))
        .arg(img)
        .args(args)
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap()
}

/// A CA certificate to pin (a development CA: any PEM certificate will do).
fn server_ca(dir: &Path) -> PathBuf {
    let pki = exam_server::tls::dev::issue(&[], chrono::Utc::now().date_naive()).unwrap();
    let path = dir.join("hospital-ca.pem");
    std::fs::write(&path, pki.ca_pem).unwrap();
    path
}

fn settings_on(img: &Path) -> Option<String> {
    let out = Command::new("mtype")
        .args(["-i", &format!("{}@@1048576", img.display()), "::kiosk.env"])
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn settings_are_checked_and_written_onto_the_efi_partition() {
    tools();
    let dir = tempfile::tempdir().unwrap();
    let img = disk(dir.path());

    let bad = provision(
        &img,
        &[
            "--kiosk-id",
            "K 1",
            "--server",
            "ftp://exam",
            "--enrol-secret",
            "short",
            "--idcard",
            "ttyS0",
            "--label-language",
            "epl",
            "--camera",
            "video0",
        ],
    );
    assert!(!bad.status.success());
    let why = String::from_utf8_lossy(&bad.stderr);
    for what in [
        "KIOSK_ID",
        "KIOSK_SERVER",
        "KIOSK_ENROL_SECRET",
        "KIOSK_IDCARD",
        "KIOSK_LABEL_LANGUAGE",
        "KIOSK_CAMERA",
    ] {
        assert!(why.contains(what), "{what} named in: {why}");
    }
    assert_eq!(settings_on(&img), None, "nothing written");

    let secret = "0123456789abcdef0123456789abcdef0123456789abcdef";
    let ca = server_ca(dir.path());
    let ca = ca.to_str().unwrap();
    // Kiosks speak HTTPS only, and trust only the CA given at flash time.
    let plain = provision(
        &img,
        &[
            "--kiosk-id",
            "K-1",
            "--server",
            "http://exam.example.org",
            "--server-ca",
            ca,
            "--enrol-secret",
            secret,
        ],
    );
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("KIOSK_SERVER must be an https://"));
    let unpinned = provision(
        &img,
        &[
            "--kiosk-id",
            "K-1",
            "--server",
            "https://exam.example.org",
            "--enrol-secret",
            secret,
        ],
    );
    assert!(!unpinned.status.success());
    assert!(String::from_utf8_lossy(&unpinned.stderr).contains("--server-ca is required"));
    assert_eq!(settings_on(&img), None, "nothing written");

    let ok = provision(
        &img,
        &[
            "--kiosk-id",
            "K-LOBBY-01",
            "--server",
            "https://exam.example.org",
            "--server-ca",
            ca,
            "--enrol-secret",
            secret,
            "--idcard",
            "/dev/ttyS1",
            "--receipt-printer",
            "tcp://10.1.2.3:9100",
            "--label-printer",
            "/dev/usb/lp0",
            "--label-language",
            "zpl",
            "--report-device",
            "ipp://10.1.2.4/ipp/print",
            "--centre-name",
            "市第一人民医院 健康管理中心",
            "--camera",
            "/dev/v4l/by-id/usb-046d_0825_ABC-video-index0",
            "--face",
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let env = settings_on(&img).expect("kiosk.env on the ESP");
    assert!(env.contains("KIOSK_ID=K-LOBBY-01\n"), "{env}");
    assert!(env.contains(&format!("KIOSK_ENROL_SECRET={secret}\n")));
    // The CA goes beside the settings; the kiosk finds it on its data partition.
    assert!(
        env.contains("KIOSK_SERVER_CA=/data/kiosk/server-ca.pem\n"),
        "{env}"
    );
    let on_esp = Command::new("mtype")
        .args([
            "-i",
            &format!("{}@@1048576", img.display()),
            "::server-ca.pem",
        ])
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap();
    assert_eq!(on_esp.stdout, std::fs::read(ca).unwrap());
    assert!(env.contains("KIOSK_CENTRE_NAME=市第一人民医院 健康管理中心"));
    // The V4L2 camera, and face check-in with the image's models.
    assert!(env.contains("KIOSK_CAMERA=/dev/v4l/by-id/usb-046d_0825_ABC-video-index0\n"));
    assert!(env.contains("KIOSK_FACE_MODELS=/usr/share/kiosk/face\n"));
    // The report printer becomes the local CUPS queue the kiosk prints to.
    assert!(env.contains("KIOSK_REPORT_DEVICE=ipp://10.1.2.4/ipp/print\n"));
    assert!(env.contains("KIOSK_REPORT_PRINTER=ipp://localhost:631/printers/REPORTS\n"));

    // The kiosk applies the same rules at first boot.
    let file = dir.path().join("kiosk.env");
    std::fs::write(&file, &env).unwrap();
    let check = Command::new(repo().join("image-build/rootfs/usr/lib/kiosk/check-settings"))
        .arg(&file)
        .status()
        .unwrap();
    assert!(check.success());
    std::fs::write(&file, format!("{env}KIOSK_SHELL=/bin/sh\n")).unwrap();
    let check = Command::new(repo().join("image-build/rootfs/usr/lib/kiosk/check-settings"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(!check.status.success(), "unknown keys are refused");

    // Not a kiosk image: said so.
    let other = dir.path().join("other.img");
    std::fs::write(&other, vec![0u8; 1 << 20]).unwrap();
    let out = provision(
        &other,
        &[
            "--kiosk-id",
            "K-1",
            "--server",
            "https://x",
            "--server-ca",
            ca,
            "--enrol-secret",
            secret,
        ],
    );
    assert!(!out.status.success());
}

/// A device file goes onto the EFI partition beside kiosk.env once the
/// kiosk (here the test build of it) has checked it; a bad one is refused
/// with its key named and nothing is written.
#[test]
fn a_device_file_is_checked_by_the_kiosk_and_written_beside_the_settings() {
    tools();
    let dir = tempfile::tempdir().unwrap();
    let img = disk(dir.path());
    let secret = "0123456789abcdef0123456789abcdef";
    let ca = server_ca(dir.path());
    let base = [
        "--kiosk-id",
        "K-2",
        "--server",
        "https://exam.example.org",
        "--server-ca",
        ca.to_str().unwrap(),
        "--enrol-secret",
        secret,
    ];
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[idcard]\nport = \"/dev/ttyS1\"\npoll_ms = 50\n").unwrap();
    let run = |devices: &Path, extra: &[&str]| {
        Command::new(repo().join("image-build/provision"))
            .arg(&img)
            .args(base)
            .arg("--devices")
            .arg(devices)
            .args(extra)
            .env("MTOOLS_SKIP_CHECK", "1")
            .env("KIOSK_BIN", env!("CARGO_BIN_EXE_e2e-kiosk"))
            .output()
            .unwrap()
    };
    let out = run(&bad, &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("idcard.poll_ms"),
        "{out:?}"
    );
    assert_eq!(settings_on(&img), None, "nothing written");

    let good = dir.path().join("devices.toml");
    std::fs::write(
        &good,
        "[idcard]\nport = \"/dev/ttyS1\"\n[[scanner]]\nkind = \"hid\"\ndevice = \"Newland\"\n[label_printer]\naddress = \"/dev/usb/lp0\"\nlanguage = \"zpl\"\n",
    )
    .unwrap();
    let out = run(&good, &["--hid-scanner", "Honeywell"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = settings_on(&img).unwrap();
    assert!(
        env.contains("KIOSK_DEVICES=/data/kiosk/devices.toml\n"),
        "{env}"
    );
    assert!(env.contains("KIOSK_HID_SCANNER=Honeywell\n"), "{env}");
    let on_esp = Command::new("mtype")
        .args([
            "-i",
            &format!("{}@@1048576", img.display()),
            "::devices.toml",
        ])
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap();
    assert_eq!(on_esp.stdout, std::fs::read(&good).unwrap());
}
