//! Lab barcode labels through the TSPL and ZPL drivers into the label
//! printer simulator, parsed back; faults included.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::net::TcpStream;
use std::time::Duration;

use device_drivers::label::{Label, LabelError, LabelItem, LabelPrinter, Language};
use device_drivers::sim::{LabelFault, LabelSim};

fn lab_label(tube: &str) -> Label {
    Label {
        width_mm: 50,
        height_mm: 30,
        gap_mm: 2,
        copies: 1,
        items: vec![
            LabelItem::Text {
                x: 16,
                y: 8,
                height: 24,
                text: format!("王秀英 女 45岁 {tube}"),
            },
            LabelItem::Code128 {
                x: 16,
                y: 44,
                height: 96,
                narrow: 2,
                data: "00123567-01".into(),
            },
            LabelItem::Text {
                x: 16,
                y: 190,
                height: 24,
                text: "血常规 · 生化全套".into(),
            },
        ],
    }
}

fn printer(sim: &LabelSim, lang: Language) -> LabelPrinter<TcpStream> {
    let s = TcpStream::connect(sim.listen_tcp(lang).unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    LabelPrinter::new(s, lang, Duration::from_secs(1))
}

#[test]
fn labels_arrive_intact_in_both_languages() {
    for lang in [Language::Tspl, Language::Zpl] {
        let sim = LabelSim::new();
        let mut p = printer(&sim, lang);
        let (a, b) = (lab_label("紫管"), lab_label("黄管"));
        p.print(&a).unwrap();
        p.print(&b).unwrap();
        assert!(sim.errors().is_empty(), "{lang:?}: {:?}", sim.errors());
        // ZPL has the printer sense the gap; it carries no gap size.
        let sent = |l: Label| {
            if lang == Language::Zpl {
                Label { gap_mm: 0, ..l }
            } else {
                l
            }
        };
        assert_eq!(sim.labels(), vec![sent(a), sent(b)], "{lang:?}");
    }
}

#[test]
fn paper_out_head_open_and_pause_are_reported() {
    for lang in [Language::Tspl, Language::Zpl] {
        let sim = LabelSim::new();
        let mut p = printer(&sim, lang);
        sim.inject(LabelFault::PaperOutAfter(1));
        assert!(
            matches!(p.print(&lab_label("紫管")), Err(LabelError::FailedDuring(s)) if s.paper_out),
            "{lang:?}"
        );
        assert!(matches!(p.print(&lab_label("黄管")), Err(LabelError::NotReady(s)) if s.paper_out));
        assert_eq!(sim.labels().len(), 1);
        sim.fix();
        sim.inject(LabelFault::HeadOpen);
        assert!(matches!(p.print(&lab_label("黄管")), Err(LabelError::NotReady(s)) if s.head_open));
        sim.fix();
        sim.inject(LabelFault::Pause);
        assert!(matches!(p.status(), Ok(s) if s.paused && !s.ready()));
        sim.fix();
        p.print(&lab_label("黄管")).unwrap();
        assert_eq!(sim.labels().len(), 2);
    }
}

#[test]
fn a_received_label_renders_to_an_image() {
    let sim = LabelSim::new();
    let mut p = printer(&sim, Language::Tspl);
    p.print(&lab_label("紫管")).unwrap();
    let font = device_drivers::sim::render::load_font().expect("a CJK font (fonts-noto-cjk)");
    let img = device_drivers::sim::render::render_label(&sim.labels()[0], &font);
    assert_eq!((img.width, img.height), (400, 240));
    let dark = |y0: usize, y1: usize| {
        (y0..y1)
            .flat_map(|y| img.pixels[y * img.width..(y + 1) * img.width].iter())
            .filter(|&&p| p < 128)
            .count()
    };
    assert!(dark(8, 36) > 200, "the name line is printed");
    assert!(dark(44, 140) > 5_000, "the barcode is printed");
    assert_eq!(dark(225, 240), 0, "nothing below the last line");
    if let Some(out) = std::env::var_os("SCREENSHOT_DIR") {
        std::fs::write(
            std::path::Path::new(&out).join("lab-label.png"),
            img.to_png().unwrap(),
        )
        .unwrap();
    }
}
