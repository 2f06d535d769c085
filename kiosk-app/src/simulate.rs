//! `kiosk ui --simulate`: every device simulated in-process, speaking its
//! real protocol (ID card frames on a pseudo-terminal, scanner lines on
//! another, ESC/POS over TCP), so the real drivers run; function keys on
//! the window place a card, scan a code or cause a fault.
//!
//! The simulators and what renders their output are built only with the
//! `simulate` feature (on by default, off for the kiosk image): without it
//! `Simulated::start` says so and nothing else changes.

use exam_domain::demo::DemoDay as Day;
#[cfg(feature = "simulate")]
pub use with_simulators::Simulated;
#[cfg(not(feature = "simulate"))]
pub use without_simulators::Simulated;

/// The keys of the developer panel, shown in the window title.
pub const KEYS: &str = "F1 card · F2 scan QR · F3 unreadable card · F4 remove card · F5 pay · F6 paper out/in · F7 cover open";

/// What a key did, for the log and the screen's notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Card,
    Scan,
    Unreadable,
    Remove,
    Pay,
    PaperToggle,
    CoverOpen,
}

impl Key {
    pub fn parse(s: &str) -> Option<Key> {
        Some(match s {
            "F1" => Key::Card,
            "F2" => Key::Scan,
            "F3" => Key::Unreadable,
            "F4" => Key::Remove,
            "F5" => Key::Pay,
            "F6" => Key::PaperToggle,
            "F7" => Key::CoverOpen,
            _ => return None,
        })
    }
}

#[cfg(feature = "simulate")]
mod with_simulators {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    use device_drivers::serial::TTYPort;
    use device_drivers::serial::{Pty, pty_pair};
    use device_drivers::sim::idcard::card_for;
    use device_drivers::sim::{
        IdCardFault, IdCardSim, PrinterFault, PrinterSim, ScannerSim, Terminator,
    };

    use super::{Day, Key};

    pub struct Simulated {
        pub idcard_path: String,
        pub scanner_path: String,
        pub printer_address: String,
        idcard: IdCardSim,
        scanner: ScannerSim<TTYPort>,
        printer: PrinterSim,
        day: Day,
        next: usize,
        paper_out: bool,
        _ptys: (Pty, Pty),
        _stop: Arc<AtomicBool>,
    }

    impl std::fmt::Debug for Simulated {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Simulated")
                .field("idcard", &self.idcard_path)
                .finish()
        }
    }

    impl Simulated {
        /// Starts the simulators; the demo day gives the people whose cards and
        /// booking codes the keys present (the central service's demo data).
        pub fn start(day: Day) -> std::io::Result<Self> {
            let stop = Arc::new(AtomicBool::new(false));
            let idcard_pty = pty_pair().map_err(std::io::Error::other)?;
            let scanner_pty = pty_pair().map_err(std::io::Error::other)?;
            let idcard = IdCardSim::new();
            let (server, port, st) = (
                idcard.clone(),
                idcard_pty
                    .sim
                    .try_clone_native()
                    .map_err(std::io::Error::other)?,
                stop.clone(),
            );
            std::thread::spawn(move || server.serve(port, &st));
            let scanner = ScannerSim::new(
                scanner_pty
                    .sim
                    .try_clone_native()
                    .map_err(std::io::Error::other)?,
                Terminator::CrLf,
            );
            let printer = PrinterSim::new();
            let addr = printer.listen_tcp()?;
            Ok(Self {
                idcard_path: idcard_pty.path.clone(),
                scanner_path: scanner_pty.path.clone(),
                printer_address: format!("tcp://{addr}"),
                idcard,
                scanner,
                printer,
                day,
                next: 0,
                paper_out: false,
                _ptys: (idcard_pty, scanner_pty),
                _stop: stop,
            })
        }

        /// Everything printed so far (ESC/POS bytes).
        pub fn printed(&self) -> Vec<u8> {
            self.printer.printed()
        }

        /// Performs a key; `Pay` is the session's business and returns false.
        pub fn key(&mut self, k: &Key) -> bool {
            let n = self.day.people.len().max(1);
            match k {
                Key::Card => {
                    self.idcard.clear_faults();
                    if let Some(p) = self.day.people.get(self.next % n) {
                        self.idcard.place(card_for(p));
                    }
                    self.next += 1;
                }
                Key::Scan => {
                    if let Some(b) = self
                        .day
                        .bookings
                        .get(self.next % self.day.bookings.len().max(1))
                    {
                        let _ = self.scanner.scan(&b.code);
                    }
                    self.next += 1;
                }
                Key::Unreadable => {
                    self.idcard.inject(IdCardFault::Unreadable);
                    if let Some(p) = self.day.people.get(self.next % n) {
                        self.idcard.place(card_for(p));
                    }
                }
                Key::Remove => self.idcard.remove(),
                Key::PaperToggle => {
                    self.paper_out = !self.paper_out;
                    if self.paper_out {
                        self.printer.inject(PrinterFault::PaperOutAfter(0));
                    } else {
                        self.printer.fix();
                    }
                }
                Key::CoverOpen => self.printer.inject(PrinterFault::CoverOpen),
                Key::Pay => return false,
            }
            true
        }
    }
}

#[cfg(not(feature = "simulate"))]
mod without_simulators {
    use super::{Day, Key};

    /// A kiosk built without the simulators: `start` refuses, so no value
    /// of this type exists.
    #[derive(Debug)]
    pub struct Simulated {
        pub idcard_path: String,
        pub scanner_path: String,
        pub printer_address: String,
        never: std::convert::Infallible,
    }

    impl Simulated {
        pub fn start(_day: Day) -> std::io::Result<Self> {
            Err(std::io::Error::other(
                "this kiosk was built without the device simulators \
                 (cargo feature `simulate`, left out of the kiosk image)",
            ))
        }

        pub fn printed(&self) -> Vec<u8> {
            match self.never {}
        }

        pub fn key(&mut self, _k: &Key) -> bool {
            match self.never {}
        }
    }
}
