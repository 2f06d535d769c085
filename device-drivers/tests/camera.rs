//! Frames from the replay camera: codes read from them (QR and CODE128 as
//! a phone or a printed sheet shows them), and a photo for the receipt.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use device_drivers::camera::{Frame, FrameSource, ReplaySource};
use device_drivers::escpos::Block;
use device_drivers::scanner::ScannedCode;
use device_drivers::sim::camera::{frame_with, qr};

fn code128(text: &str) -> Vec<Vec<bool>> {
    let bars = barcoders::sym::code128::Code128::new(format!("Ɓ{text}"))
        .unwrap()
        .encode();
    vec![bars.iter().map(|&b| b == 1).collect(); 40]
}

fn save_png(f: &Frame, path: &std::path::Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut e = png::Encoder::new(file, f.width, f.height);
    e.set_color(png::ColorType::Grayscale);
    e.set_depth(png::BitDepth::Eight);
    e.write_header().unwrap().write_image_data(&f.luma).unwrap();
}

#[test]
fn codes_are_read_from_camera_frames() {
    let dir = tempfile::tempdir().unwrap();
    let frames = [
        frame_with(&qr("BK261122000042"), 6, 200, 120),
        frame_with(&code128("00123567"), 3, 120, 200),
        frame_with(&qr("https://tj.example.cn/b/BK261122000043"), 5, 60, 60),
        frame_with(&qr("你好"), 6, 300, 200),
        frame_with(&[vec![false]], 1, 10, 10),
    ];
    let paths: Vec<_> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let p = dir.path().join(format!("frame{i}.png"));
            save_png(f, &p);
            p
        })
        .collect();
    let mut cam = ReplaySource::from_pngs(&paths).unwrap();
    let mut next = || cam.next_frame().unwrap().scan();
    assert_eq!(
        next().unwrap(),
        Ok(ScannedCode::Booking("BK261122000042".into()))
    );
    assert_eq!(next().unwrap(), Ok(ScannedCode::ExamNo("00123567".into())));
    assert_eq!(
        next().unwrap(),
        Ok(ScannedCode::Booking("BK261122000043".into()))
    );
    assert!(
        matches!(next(), Some(Err(e)) if e.to_string().contains("你好")),
        "Chinese text decoded, then refused clearly"
    );
    assert_eq!(next(), None, "no code in an empty frame");
    assert!(ReplaySource::from_pngs(&[dir.path().join("missing.png")]).is_err());
    assert!(ReplaySource::new(vec![]).next_frame().is_err());
}

#[test]
fn a_photo_becomes_a_receipt_raster() {
    let f = frame_with(&qr("x"), 4, 100, 100);
    let Block::Raster {
        width_bytes,
        height,
        bits,
    } = f.to_raster(200)
    else {
        panic!()
    };
    assert_eq!(width_bytes, 25);
    assert_eq!(height, 150, "aspect kept: 640×480 → 200×150");
    assert_eq!(bits.len(), 25 * 150);
    let black = bits.iter().map(|b| b.count_ones()).sum::<u32>() as f64 / (200.0 * 150.0);
    assert!(
        (0.1..0.9).contains(&black),
        "dithered, not blank or solid: {black}"
    );
}

/// The photo kept with a registration: a small grayscale PNG of the frame,
/// read back the same.
#[test]
fn a_frame_is_kept_as_a_small_png() {
    let f = Frame {
        width: 640,
        height: 480,
        luma: (0..640 * 480).map(|i| ((i % 640) / 3) as u8).collect(),
    };
    let png = f.to_png(320);
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.png");
    std::fs::write(&path, &png).unwrap();
    let back = Frame::from_png_file(&path).unwrap();
    assert_eq!((back.width, back.height), (320, 240));
    assert_eq!(back.luma[10], f.luma[20], "scaled, not changed");
    // A small frame is not enlarged.
    let small = Frame {
        width: 102,
        height: 126,
        luma: vec![7; 102 * 126],
    };
    std::fs::write(&path, small.to_png(320)).unwrap();
    assert_eq!(Frame::from_png_file(&path).unwrap(), small);
}
