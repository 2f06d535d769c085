//! A virtual smart card for vsmartcard's virtual reader (vpcd in pcscd):
//! it connects to vpcd's TCP port and answers its messages (2-byte
//! big-endian length, then a 1-byte control code or an APDU). Connected
//! means inserted; closing the connection removes the card.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::smartcard::apdu::SSSE_AID;

/// vpcd's port for its first reader.
pub const VPCD_PORT: u16 = 35963;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardModel {
    pub atr: Vec<u8>,
    /// (card number, social security number, name) when the card carries
    /// the social security application.
    pub social_security: Option<(String, String, String)>,
    /// Answer records with a wrong length (a broken or foreign card).
    pub garble_records: bool,
}

impl CardModel {
    pub fn social_security(card_number: &str, id_number: &str, name: &str) -> Self {
        Self {
            atr: vec![
                0x3B, 0x6C, 0x00, 0x00, 0x80, 0x64, 0x11, 0x65, 0x01, 0x90, 0x73, 0x00, 0x00, 0x00,
                0x81, 0x07,
            ],
            social_security: Some((card_number.into(), id_number.into(), name.into())),
            garble_records: false,
        }
    }

    pub fn other() -> Self {
        Self {
            atr: vec![0x3B, 0x80, 0x80, 0x01, 0x01],
            social_security: None,
            garble_records: false,
        }
    }

    /// The card's answer to one APDU; `ef` is the selected elementary file.
    pub fn respond(&self, apdu: &[u8], ef: &mut Option<[u8; 2]>) -> Vec<u8> {
        const OK: [u8; 2] = [0x90, 0x00];
        let Some((number, id, name)) = &self.social_security else {
            return vec![0x6A, 0x82]; // file not found
        };
        match apdu {
            [0x00, 0xA4, 0x04, 0x00, n, aid @ ..]
                if usize::from(*n) == aid.len() && aid == SSSE_AID =>
            {
                OK.to_vec()
            }
            [0x00, 0xA4, 0x02, 0x00, 0x02, a, b] => {
                *ef = Some([*a, *b]);
                OK.to_vec()
            }
            [0x00, 0xB2, rec, 0x04, ..] => {
                let value: Vec<u8> = match (ef.as_ref(), rec) {
                    (Some([0xEF, 0x05]), 0x07) => number.as_bytes().to_vec(),
                    (Some([0xEF, 0x06]), 0x08) => id.as_bytes().to_vec(),
                    (Some([0xEF, 0x06]), 0x09) => {
                        let mut v = encoding_rs::GB18030.encode(name).0.into_owned();
                        v.resize(30, b' ');
                        v
                    }
                    _ => return vec![0x6A, 0x83], // record not found
                };
                let len = if self.garble_records {
                    value.len() + 3
                } else {
                    value.len()
                };
                let mut r = vec![*rec, len as u8];
                r.extend_from_slice(&value);
                r.extend_from_slice(&OK);
                r
            }
            _ => vec![0x6D, 0x00], // instruction not supported
        }
    }
}

/// A card "in" the virtual reader until removed or dropped.
#[derive(Debug)]
pub struct VirtualCard {
    stream: TcpStream,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn read_msg(s: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut msg)?;
    Ok(msg)
}

fn send(s: &mut TcpStream, data: &[u8]) -> io::Result<()> {
    let mut m = (data.len() as u16).to_be_bytes().to_vec();
    m.extend_from_slice(data);
    s.write_all(&m)
}

impl VirtualCard {
    /// Inserts the card into the virtual reader listening on `port`.
    pub fn insert(port: u16, model: CardModel) -> io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_millis(200)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (mut s, st) = (stream.try_clone()?, stop.clone());
        let thread = std::thread::spawn(move || {
            let mut ef = None;
            while !st.load(Ordering::Relaxed) {
                let msg = match read_msg(&mut s) {
                    Ok(m) => m,
                    Err(e) if crate::serial::no_data_yet(&e) => {
                        continue;
                    }
                    Err(_) => return,
                };
                let reply = match msg.as_slice() {
                    [0x04] => Some(model.atr.clone()),
                    [0x00] | [0x01] | [0x02] => {
                        ef = None;
                        None
                    }
                    apdu => Some(model.respond(apdu, &mut ef)),
                };
                if let Some(r) = reply
                    && send(&mut s, &r).is_err()
                {
                    return;
                }
            }
        });
        Ok(Self {
            stream,
            stop,
            thread: Some(thread),
        })
    }

    pub fn remove(mut self) {
        self.close();
    }

    fn close(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.close();
    }
}
