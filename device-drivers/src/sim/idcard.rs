//! A simulated ID card reader: answers the SAM frame protocol byte for byte,
//! holds a card (or none), and injects faults: an unreadable card, garbled,
//! truncated or mis-checksummed frames, a slow or silent reader.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::lock;
use crate::idcard::frame::{self, FrameError, cmd, status};
use crate::idcard::{CardRead, text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdCardFault {
    /// The card is on the reader but its chip does not answer (status 41).
    Unreadable,
    /// The next response has a byte flipped in its data.
    Garbled,
    /// The next response stops half way.
    Truncated,
    /// The next response's checksum is wrong.
    BadChecksum,
    /// Every response is delayed.
    Slow(Duration),
    /// The reader stops answering.
    Silent,
}

#[derive(Debug, Default)]
struct State {
    card: Option<CardRead>,
    faults: Vec<IdCardFault>,
    commands: u64,
    replies: u64,
}

/// A handle to the simulated reader, shared with the thread serving it.
#[derive(Debug, Clone, Default)]
pub struct IdCardSim {
    state: Arc<Mutex<State>>,
}

impl IdCardSim {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn place(&self, card: CardRead) {
        let mut s = lock(&self.state);
        s.card = Some(card);
        s.faults.retain(|f| *f != IdCardFault::Unreadable);
    }

    pub fn remove(&self) {
        lock(&self.state).card = None;
    }

    pub fn inject(&self, fault: IdCardFault) {
        lock(&self.state).faults.push(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    /// Commands answered so far (tests check the polling rate with it).
    pub fn commands(&self) -> u64 {
        lock(&self.state).commands
    }

    /// Replies written to the port so far (a late reply counts once it is
    /// out, so a test can wait for it instead of sleeping).
    pub fn replies(&self) -> u64 {
        lock(&self.state).replies
    }

    /// The response frame to one command body, or None when silent.
    pub fn respond(&self, body: &[u8]) -> (Option<Vec<u8>>, Duration) {
        let mut s = lock(&self.state);
        s.commands += 1;
        let delay = s
            .faults
            .iter()
            .find_map(|f| {
                if let IdCardFault::Slow(d) = f {
                    Some(*d)
                } else {
                    None
                }
            })
            .unwrap_or_default();
        if s.faults.contains(&IdCardFault::Silent) {
            return (None, delay);
        }
        let unreadable = s.faults.contains(&IdCardFault::Unreadable);
        let c = [
            body.first().copied().unwrap_or(0),
            body.get(1).copied().unwrap_or(0),
        ];
        let ok = |st: u8, data: &[u8]| {
            let mut v = vec![0x00, 0x00, st];
            v.extend_from_slice(data);
            v
        };
        let reply = match (c, &s.card) {
            (cmd::FIND_CARD, Some(_)) => ok(status::FIND_OK, &[0, 0, 0, 0]),
            (cmd::FIND_CARD, None) => ok(status::NO_CARD, &[]),
            (cmd::SELECT_CARD, Some(_)) if !unreadable => ok(status::OK, &[0; 8]),
            (cmd::SELECT_CARD, _) => ok(status::SELECT_FAILED, &[]),
            (cmd::READ_TEXT_PHOTO, Some(card)) if !unreadable => {
                let t = text::encode(&card.text);
                let mut d = Vec::with_capacity(4 + t.len() + card.photo_wlt.len());
                d.extend_from_slice(&(t.len() as u16).to_be_bytes());
                d.extend_from_slice(&(card.photo_wlt.len() as u16).to_be_bytes());
                d.extend_from_slice(&t);
                d.extend_from_slice(&card.photo_wlt);
                ok(status::OK, &d)
            }
            (cmd::READ_TEXT_PHOTO, _) => ok(status::READ_FAILED, &[]),
            (cmd::SAM_STATUS | cmd::RESET_SAM, _) => ok(status::OK, &[]),
            _ => ok(0x21, &[]),
        };
        let mut f = frame::encode(&reply);
        // One-shot faults apply to the next response and are used up.
        let one_shot = s.faults.iter().position(|f| {
            matches!(
                f,
                IdCardFault::Garbled | IdCardFault::Truncated | IdCardFault::BadChecksum
            )
        });
        if let Some(i) = one_shot {
            match s.faults.remove(i) {
                IdCardFault::Garbled => {
                    let at = (f.len() / 2 + 3).min(f.len() - 2);
                    f[at] ^= 0x5A;
                }
                IdCardFault::Truncated => f.truncate(f.len() / 2),
                _ => *f.last_mut().expect("non-empty frame") ^= 0xFF,
            }
        }
        (Some(f), delay)
    }

    /// Serves the protocol on `port` until `stop` is set or the port closes.
    pub fn serve<T: Read + Write>(&self, mut port: T, stop: &AtomicBool) -> io::Result<()> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 512];
        while !stop.load(Ordering::Relaxed) {
            match port.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if crate::serial::no_data_yet(&e) => {
                    continue;
                }
                Err(e) => return Err(e),
            }
            loop {
                match frame::decode(&buf) {
                    Ok((body, used)) => {
                        buf.drain(..used);
                        let (reply, delay) = self.respond(&body);
                        if !delay.is_zero() {
                            std::thread::sleep(delay);
                        }
                        if let Some(r) = reply {
                            port.write_all(&r)?;
                            port.flush()?;
                            lock(&self.state).replies += 1;
                        }
                    }
                    Err(FrameError::Truncated { .. }) => break,
                    // Noise or a broken command: drop it, as a real SAM does.
                    Err(_) => {
                        buf.clear();
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A resident ID card for a person (the simulator's card deck).
pub fn card_for(person: &exam_domain::Person) -> CardRead {
    use crate::idcard::{CardKind, CardText, ValidUntil};
    let issued = person
        .birth_date
        .with_year(person.birth_date.year() + 30)
        .unwrap_or(person.birth_date);
    CardRead {
        text: CardText {
            kind: CardKind::Resident,
            name: person.name.clone(),
            english_name: None,
            sex: person.id_number.sex(),
            ethnicity_or_nationality: "01".into(),
            birth_date: person.id_number.birth_date(),
            address: Some("江苏省扬州市广陵区文昌中路88号".into()),
            number: person.id_number.to_string(),
            authority: "扬州市公安局广陵分局".into(),
            valid_from: issued,
            valid_until: ValidUntil::LongTerm,
            pass_number: None,
        },
        // A WLT photo is 1024 bytes of vendor-compressed data; the
        // simulator's differ per card (decoding needs the vendor library,
        // simulated by `sim::wlt`).
        photo_wlt: super::wlt::card_photo(&person.id_number.to_string()),
    }
}

use chrono::Datelike;
