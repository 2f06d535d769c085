//! Real-time status (DLE EOT n): four one-byte answers about the printer,
//! why it is offline, which error, and the paper roll.

pub const DLE_EOT: [u8; 2] = [0x10, 0x04];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    pub offline: bool,
    pub cover_open: bool,
    pub paper_near_end: bool,
    pub paper_out: bool,
    pub cutter_error: bool,
    pub unrecoverable: bool,
}

impl PrinterStatus {
    /// May a part be sent now?
    pub fn ready(&self) -> bool {
        !(self.offline
            || self.cover_open
            || self.paper_out
            || self.cutter_error
            || self.unrecoverable)
    }

    /// The state name the heartbeat and fleet view show.
    pub fn label(&self) -> &'static str {
        match () {
            _ if self.cover_open => "cover_open",
            _ if self.paper_out => "paper_out",
            _ if self.cutter_error => "cutter_error",
            _ if self.unrecoverable => "error",
            _ if self.offline => "offline",
            _ if self.paper_near_end => "paper_near_end",
            _ => "ok",
        }
    }

    /// The four answer bytes a printer in this state gives (n = 1..=4).
    pub fn answers(&self) -> [u8; 4] {
        let bit = |on: bool, mask: u8| if on { mask } else { 0 };
        [
            0x12 | bit(self.offline || self.cover_open || self.paper_out, 0x08),
            0x12 | bit(self.cover_open, 0x04)
                | bit(self.paper_out, 0x20)
                | bit(self.cutter_error || self.unrecoverable, 0x40),
            0x12 | bit(self.cutter_error, 0x08) | bit(self.unrecoverable, 0x20),
            0x12 | bit(self.paper_near_end, 0x0C) | bit(self.paper_out, 0x60),
        ]
    }
}

/// Every answer byte has bits 1 and 4 set and bits 0 and 7 clear.
pub fn well_formed(b: u8) -> bool {
    b & 0x93 == 0x12
}

/// Reads the four answers back into a status.
pub fn parse(a: [u8; 4]) -> Option<PrinterStatus> {
    if !a.iter().all(|&b| well_formed(b)) {
        return None;
    }
    Some(PrinterStatus {
        offline: a[0] & 0x08 != 0,
        cover_open: a[1] & 0x04 != 0,
        paper_out: a[1] & 0x20 != 0 || a[3] & 0x60 != 0,
        cutter_error: a[2] & 0x08 != 0,
        unrecoverable: a[2] & 0x20 != 0,
        paper_near_end: a[3] & 0x0C != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let states = [
            PrinterStatus::default(),
            PrinterStatus {
                paper_near_end: true,
                ..Default::default()
            },
            PrinterStatus {
                paper_out: true,
                offline: true,
                ..Default::default()
            },
            PrinterStatus {
                cover_open: true,
                offline: true,
                ..Default::default()
            },
            PrinterStatus {
                cutter_error: true,
                ..Default::default()
            },
        ];
        for s in states {
            assert_eq!(parse(s.answers()), Some(s));
        }
        assert_eq!(parse([0x12, 0x12, 0x12, 0xFF]), None);
        assert_eq!(
            PrinterStatus {
                paper_out: true,
                ..Default::default()
            }
            .label(),
            "paper_out"
        );
        assert!(
            !PrinterStatus {
                cover_open: true,
                ..Default::default()
            }
            .ready()
        );
    }
}
