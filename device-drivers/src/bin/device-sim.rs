//! `device-sim`: runs a device simulator on a pseudo-terminal for manual
//! tries with the kiosk (`kiosk run --idcard <path>`).
//!
//! ```text
//! device-sim idcard
//! > place 11010519491231002X 张三明
//! > fault garbled | truncated | checksum | unreadable | silent | slow 500 | clear
//! > remove
//! ```

use std::io::BufRead;
use std::sync::atomic::AtomicBool;

use device_drivers::serial;
use device_drivers::sim::{IdCardFault, IdCardSim, idcard::card_for};

fn main() {
    let kind = std::env::args().nth(1).unwrap_or_default();
    if kind == "scanner" {
        return scanner();
    }
    if kind == "printer" || kind == "label" {
        return printers(
            &kind,
            std::env::args().nth(2).unwrap_or_else(|| "printed".into()),
        );
    }
    if kind != "idcard" {
        eprintln!(
            "usage: device-sim idcard    (then type: place <ID number> <name> | remove | fault <kind> | quit)"
        );
        eprintln!(
            "       device-sim scanner   (then type a code per line; 'garbage' and 'overlong' send faults)"
        );
        std::process::exit(2);
    }
    let pty = serial::pty_pair().unwrap_or_else(|e| {
        eprintln!("cannot create a pseudo-terminal: {e}");
        std::process::exit(1)
    });
    println!("ID card reader simulator on {}", pty.path);
    let sim = IdCardSim::new();
    let server = sim.clone();
    let port = pty.sim.try_clone_native().expect("clone pty");
    std::thread::spawn(move || {
        let stop = AtomicBool::new(false);
        if let Err(e) = server.serve(port, &stop) {
            eprintln!("simulator stopped: {e}");
        }
    });
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words.as_slice() {
            ["place", id, name] => match exam_domain::IdNumber::parse(id) {
                Ok(id_number) => {
                    let person = exam_domain::Person {
                        sex: id_number.sex(),
                        birth_date: id_number.birth_date(),
                        id_number,
                        name: (*name).into(),
                        mobile: String::new(),
                    };
                    sim.place(card_for(&person));
                    "card placed".to_string()
                }
                Err(e) => format!("bad ID number: {e}"),
            },
            ["remove"] => {
                sim.remove();
                "card removed".into()
            }
            ["fault", f, rest @ ..] => {
                let fault = match (*f, rest) {
                    ("garbled", _) => Some(IdCardFault::Garbled),
                    ("truncated", _) => Some(IdCardFault::Truncated),
                    ("checksum", _) => Some(IdCardFault::BadChecksum),
                    ("unreadable", _) => Some(IdCardFault::Unreadable),
                    ("silent", _) => Some(IdCardFault::Silent),
                    ("slow", [ms]) => ms
                        .parse()
                        .ok()
                        .map(|ms| IdCardFault::Slow(std::time::Duration::from_millis(ms))),
                    _ => None,
                };
                match fault {
                    Some(f) => {
                        sim.inject(f.clone());
                        format!("fault {f:?} injected")
                    }
                    None if *f == "clear" => {
                        sim.clear_faults();
                        "faults cleared".into()
                    }
                    None => {
                        "faults: garbled truncated checksum unreadable silent 'slow <ms>' clear"
                            .into()
                    }
                }
            }
            ["quit"] => break,
            [] => continue,
            _ => "commands: place <ID number> <name> | remove | fault <kind> | quit".into(),
        };
        println!("{reply}");
    }
    drop(pty);
}

fn scanner() {
    let pty = serial::pty_pair().unwrap_or_else(|e| {
        eprintln!("cannot create a pseudo-terminal: {e}");
        std::process::exit(1)
    });
    println!("serial scanner simulator on {}", pty.path);
    let mut sim = device_drivers::sim::ScannerSim::new(
        pty.sim.try_clone_native().expect("clone pty"),
        device_drivers::sim::Terminator::CrLf,
    );
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let r = match line.trim() {
            "" => continue,
            "quit" => break,
            "garbage" => sim.garbage(),
            "overlong" => sim.overlong(),
            code => sim.scan(code),
        };
        if let Err(e) = r {
            eprintln!("send failed: {e}");
        }
    }
}

/// An ESC/POS receipt printer or a TSPL label printer on a TCP port;
/// everything printed is rendered to PNG files in `dir`.
fn printers(kind: &str, dir: String) {
    use device_drivers::label::Language;
    use device_drivers::sim::render::{load_font, render, render_label};
    use device_drivers::sim::{LabelFault, LabelSim, PrinterFault, PrinterSim};
    let font = load_font().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    std::fs::create_dir_all(&dir).expect("output directory");
    let (receipts, labels) = (PrinterSim::new(), LabelSim::new());
    let addr = if kind == "printer" {
        receipts.listen_tcp()
    } else {
        labels.listen_tcp(Language::Tspl)
    }
    .expect("listen");
    println!(
        "{} simulator on tcp://{addr}; printed output goes to {dir}/",
        if kind == "printer" {
            "ESC/POS receipt printer"
        } else {
            "TSPL label printer"
        }
    );
    let (r2, l2, d2, kind2) = (
        receipts.clone(),
        labels.clone(),
        dir.clone(),
        kind.to_string(),
    );
    std::thread::spawn(move || {
        let mut written = 0;
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let images: Vec<_> = if kind2 == "printer" {
                render(&r2.printed(), &font)
                    .map(|p| p.into_iter().filter(|p| p.cut).collect())
                    .unwrap_or_default()
            } else {
                l2.labels().iter().map(|l| render_label(l, &font)).collect()
            };
            for (i, img) in images.iter().enumerate().skip(written) {
                let path = format!(
                    "{d2}/{}-{:04}.png",
                    if kind2 == "printer" {
                        "receipt"
                    } else {
                        "label"
                    },
                    i + 1
                );
                if let Ok(png) = img.to_png() {
                    let _ = std::fs::write(&path, png);
                    println!("printed {path}");
                }
            }
            written = written.max(images.len());
        }
    });
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        match (line.trim(), kind) {
            ("quit", _) => break,
            ("paper-out", "printer") => receipts.inject(PrinterFault::PaperOutAfter(1)),
            ("cover-open", "printer") => receipts.inject(PrinterFault::CoverOpen),
            ("fix", "printer") => receipts.fix(),
            ("paper-out", _) => labels.inject(LabelFault::PaperOutAfter(1)),
            ("cover-open", _) => labels.inject(LabelFault::HeadOpen),
            ("fix", _) => labels.fix(),
            ("", _) => continue,
            _ => {
                println!("commands: paper-out | cover-open | fix | quit");
                continue;
            }
        }
        println!("ok");
    }
}
