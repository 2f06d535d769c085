//! Frames of the resident ID card SAM module (公安部 SAM, serial):
//!
//! ```text
//! command:  AA AA AA 96 69 | LEN (2, BE) | CMD PARA [data] | CHK
//! response: AA AA AA 96 69 | LEN (2, BE) | SW1 SW2 SW3 [data] | CHK
//! ```
//! LEN counts the bytes after itself, CHK included; CHK is the XOR of the
//! LEN bytes and everything after them up to CHK.

pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// Largest response: text + photo + fingerprint, with headroom.
pub const MAX_LEN: usize = 4096;

/// Commands the driver uses (CMD, PARA).
pub mod cmd {
    pub const RESET_SAM: [u8; 2] = [0x10, 0xFF];
    pub const SAM_STATUS: [u8; 2] = [0x11, 0xFF];
    pub const FIND_CARD: [u8; 2] = [0x20, 0x01];
    pub const SELECT_CARD: [u8; 2] = [0x20, 0x02];
    pub const READ_TEXT_PHOTO: [u8; 2] = [0x30, 0x01];
}

/// SW3, the status byte that matters.
pub mod status {
    pub const OK: u8 = 0x90;
    pub const FIND_OK: u8 = 0x9F;
    pub const NO_CARD: u8 = 0x80;
    pub const SELECT_FAILED: u8 = 0x81;
    pub const READ_FAILED: u8 = 0x41;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame does not start with AA AA AA 96 69")]
    Preamble,
    #[error("frame truncated: need {need} bytes, have {have}")]
    Truncated { need: usize, have: usize },
    #[error("frame length {0} is out of range")]
    Length(usize),
    #[error("frame checksum mismatch (computed {computed:02X}, received {received:02X})")]
    Checksum { computed: u8, received: u8 },
}

fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

/// Builds a frame around `body` (CMD PARA data, or SW1 SW2 SW3 data).
pub fn encode(body: &[u8]) -> Vec<u8> {
    let len = (body.len() + 1) as u16;
    let mut f = Vec::with_capacity(PREAMBLE.len() + 2 + body.len() + 1);
    f.extend_from_slice(&PREAMBLE);
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(body);
    f.push(xor(&f[PREAMBLE.len()..]));
    f
}

/// Finds one frame at the start of `buf` (after skipping noise before the
/// preamble). Returns the body and how many bytes were consumed, or
/// `Truncated` when more bytes are needed.
pub fn decode(buf: &[u8]) -> Result<(Vec<u8>, usize), FrameError> {
    let start = buf.windows(PREAMBLE.len()).position(|w| w == PREAMBLE);
    let Some(start) = start else {
        // Keep waiting while what we have could still be the start of a preamble.
        return if buf.len() < PREAMBLE.len()
            || PREAMBLE.starts_with(&buf[buf.len().saturating_sub(4)..])
        {
            Err(FrameError::Truncated {
                need: PREAMBLE.len() + 3,
                have: buf.len(),
            })
        } else {
            Err(FrameError::Preamble)
        };
    };
    let b = &buf[start..];
    let head = PREAMBLE.len() + 2;
    if b.len() < head {
        return Err(FrameError::Truncated {
            need: head,
            have: b.len(),
        });
    }
    let len = usize::from(u16::from_be_bytes([b[5], b[6]]));
    if !(2..=MAX_LEN).contains(&len) {
        return Err(FrameError::Length(len));
    }
    let total = head + len;
    if b.len() < total {
        return Err(FrameError::Truncated {
            need: total,
            have: b.len(),
        });
    }
    let computed = xor(&b[PREAMBLE.len()..total - 1]);
    let received = b[total - 1];
    if computed != received {
        return Err(FrameError::Checksum { computed, received });
    }
    Ok((b[head..total - 1].to_vec(), start + total))
}

/// A decoded response: the status bytes and the data after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub sw: [u8; 3],
    pub data: Vec<u8>,
}

impl Response {
    pub fn from_body(body: &[u8]) -> Result<Self, FrameError> {
        if body.len() < 3 {
            return Err(FrameError::Length(body.len() + 1));
        }
        Ok(Self {
            sw: [body[0], body[1], body[2]],
            data: body[3..].to_vec(),
        })
    }

    pub fn status(&self) -> u8 {
        self.sw[2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_documented_find_card_frame() {
        // The find-card command as printed in SAM manuals.
        assert_eq!(
            encode(&cmd::FIND_CARD),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22]
        );
        assert_eq!(
            encode(&cmd::SELECT_CARD),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x02, 0x21]
        );
        assert_eq!(
            encode(&cmd::READ_TEXT_PHOTO),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x30, 0x01, 0x32]
        );
    }

    #[test]
    fn decodes_with_noise_truncation_and_bad_checksums() {
        let f = encode(&[0x00, 0x00, status::FIND_OK, 0, 0, 0, 0, 0x01]);
        let mut noisy = vec![0x00, 0x13];
        noisy.extend_from_slice(&f);
        noisy.extend_from_slice(&[0xAA]);
        let (body, used) = decode(&noisy).unwrap();
        assert_eq!(
            Response::from_body(&body).unwrap().status(),
            status::FIND_OK
        );
        assert_eq!(used, noisy.len() - 1);
        assert!(matches!(
            decode(&f[..f.len() - 1]),
            Err(FrameError::Truncated { .. })
        ));
        assert!(matches!(decode(&f[..3]), Err(FrameError::Truncated { .. })));
        let mut bad = f.clone();
        *bad.last_mut().unwrap() ^= 0xFF;
        assert!(matches!(decode(&bad), Err(FrameError::Checksum { .. })));
        let mut huge = PREAMBLE.to_vec();
        huge.extend_from_slice(&[0xFF, 0xFF]);
        assert_eq!(decode(&huge), Err(FrameError::Length(0xFFFF)));
        assert_eq!(decode(&[1, 2, 3, 4, 5, 6, 7, 8]), Err(FrameError::Preamble));
    }
}
