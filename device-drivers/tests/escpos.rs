//! The ESC/POS driver against the printer simulator over TCP 9100-style
//! sockets: a guide sheet printed and compared with its golden image, and
//! the faults (paper out mid-job, cover open, garbled status, unplugged).

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::net::TcpStream;
use std::time::Duration;

use device_drivers::escpos::{Align, Block, PrintError, Receipt, ReceiptPrinter, encode};
use device_drivers::sim::render::{Paper, load_font, render};
use device_drivers::sim::{PrinterFault, PrinterSim};

fn connect(sim: &PrinterSim) -> ReceiptPrinter<TcpStream> {
    let addr = sim.listen_tcp().unwrap();
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    ReceiptPrinter::new(s, Duration::from_secs(1))
}

/// A 96×96 dot stand-in for the patient's photo: a head-and-shoulders outline.
fn photo() -> Block {
    let (w, h) = (96usize, 96usize);
    let mut bits = vec![0u8; w / 8 * h];
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as i64 - 48, y as i64 - 36);
            let head = dx * dx + dy * dy <= 22 * 22;
            let (sx, sy) = (x as i64 - 48, y as i64 - 110);
            let shoulders = sx * sx + sy * sy <= 46 * 46;
            let border = x < 2 || y < 2 || x >= w - 2 || y >= h - 2;
            if head || shoulders || border {
                bits[y * (w / 8) + x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    Block::Raster {
        width_bytes: (w / 8) as u16,
        height: h as u16,
        bits,
    }
}

fn guide_sheet() -> Receipt {
    Receipt::default()
        .text("体检中心 · 体检指引单", Align::Center, true, true)
        .text("Health Examination Guide", Align::Center, false, false)
        .block(Block::Feed(1))
        .block(photo())
        .text("姓名：王秀英    女  45岁", Align::Left, true, false)
        .text("套餐：女性全面体检套餐", Align::Left, false, false)
        .text("预约号：BK261122000042", Align::Left, false, false)
        .text(
            "签到：2026-11-22 08:31  自助机 K-01",
            Align::Left,
            false,
            false,
        )
        .block(Block::Code128 {
            data: "00123567".into(),
            height: 80,
        })
        .text("首站：抽血室（二楼 203）", Align::Left, true, true)
        .text("排队号：A017  请空腹先完成抽血", Align::Left, false, false)
        .block(Block::Qr {
            data: "BK261122000042".into(),
            module: 5,
        })
        .text("扫码查看检查进度与排队", Align::Center, false, false)
        .block(Block::Feed(2))
        .block(Block::Cut)
}

/// Compares a printed receipt with `tests/golden/<name>.png` (within 0.2 %
/// of pixels); `UPDATE_GOLDEN=1` writes the image. Returns the golden one.
fn assert_golden(paper: &Paper, name: &str) -> Paper {
    let golden_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.png"));
    let png = paper.to_png().unwrap();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden_path, &png).unwrap();
    }
    let golden = Paper::from_png(
        &std::fs::read(&golden_path).expect("golden image (UPDATE_GOLDEN=1 writes it)"),
    )
    .unwrap();
    let diff = paper.difference(&golden);
    if diff > 0.002 {
        let out = std::env::temp_dir().join(format!("{name}-actual.png"));
        std::fs::write(&out, &png).unwrap();
        panic!(
            "{name} differs from the golden image in {:.2}% of pixels; see {}",
            diff * 100.0,
            out.display()
        );
    }
    golden
}

/// The fee list with its longest lines: each wraps within the 80 mm
/// paper instead of running off its right edge.
#[test]
fn the_fee_list_s_longest_lines_wrap_as_the_golden_image() {
    let fee_list = Receipt::default()
        .text("缴费清单 · Fee list", Align::Center, true, true)
        .block(Block::Feed(1))
        .text("姓名：王*英", Align::Left, false, false)
        .text("体检预约：BK261122000042", Align::Left, false, false)
        .text(
            "女性全面体检套餐（含乳腺彩超、甲状腺彩超、骨密度）  ¥1280.00",
            Align::Left,
            false,
            false,
        )
        .text("合计 Total：¥1280.00", Align::Right, true, false)
        .text(
            "待缴费：请到收费处或扫码缴费 / To pay at the cashier",
            Align::Left,
            true,
            false,
        )
        .text("2026-11-22 08:31  自助机 K-01", Align::Left, false, false)
        .block(Block::Feed(2))
        .block(Block::Cut);
    let font = load_font().expect("a CJK font (fonts-noto-cjk)");
    let papers = render(&encode(&fee_list), &font).unwrap();
    assert_eq!(papers.len(), 1);
    assert_golden(&papers[0], "fee-list");
}

#[test]
fn guide_sheet_prints_as_the_golden_image() {
    let sim = PrinterSim::new();
    let mut p = connect(&sim);
    let status = p.print_part(&encode(&guide_sheet())).unwrap();
    assert_eq!(status.label(), "ok");
    assert!(sim.errors().is_empty(), "{:?}", sim.errors());
    let font = load_font().expect("a CJK font (fonts-noto-cjk)");
    let papers = render(&sim.printed(), &font).unwrap();
    assert_eq!(papers.len(), 1);
    assert!(papers[0].cut);
    let golden = assert_golden(&papers[0], "guide-sheet");
    // And a different sheet does differ: the comparison can fail.
    let other = render(
        &encode(
            &Receipt::default()
                .text("别的单据", Align::Left, false, false)
                .block(Block::Cut),
        ),
        &font,
    )
    .unwrap();
    assert!(other[0].difference(&golden) > 0.002);
}

#[test]
fn paper_out_in_the_middle_of_a_job_is_reported_and_refused_until_fixed() {
    let sim = PrinterSim::new();
    let mut p = connect(&sim);
    let part = encode(&guide_sheet());
    sim.inject(PrinterFault::PaperOutAfter(part.len() / 2));
    match p.print_part(&part) {
        Err(PrintError::FailedDuring(s)) => assert!(s.paper_out, "{s:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.printed().len(),
        part.len() / 2,
        "half the part made it onto paper"
    );
    assert!(sim.dropped() > 0);
    match p.print_part(&part) {
        Err(PrintError::NotReady(s)) => assert_eq!(s.label(), "paper_out"),
        other => panic!("{other:?}"),
    }
    sim.fix();
    p.print_part(&part).unwrap();

    sim.inject(PrinterFault::CoverOpen);
    assert!(matches!(p.print_part(&part), Err(PrintError::NotReady(s)) if s.cover_open));
    sim.fix();
    sim.inject(PrinterFault::NearEnd);
    assert_eq!(
        p.print_part(&part).unwrap().label(),
        "paper_near_end",
        "near end still prints, and says so"
    );
    sim.inject(PrinterFault::CutterError);
    assert!(matches!(p.print_part(&part), Err(PrintError::NotReady(s)) if s.cutter_error));
    sim.fix();
    sim.inject(PrinterFault::GarbledStatus);
    assert!(matches!(p.status(), Err(PrintError::Garbled(0xFF))));
    assert_eq!(p.status().unwrap().label(), "ok");
}

#[test]
fn an_unplugged_printer_is_a_disconnect_not_a_hang() {
    let sim = PrinterSim::new();
    let mut p = connect(&sim);
    p.status().unwrap();
    sim.inject(PrinterFault::Disconnect);
    // The simulator drops the connection at its next read.
    let e = (0..3)
        .find_map(|_| p.status().err())
        .expect("fails once the connection is gone");
    assert!(e.is_disconnect() || matches!(e, PrintError::Io(_)), "{e}");
}
