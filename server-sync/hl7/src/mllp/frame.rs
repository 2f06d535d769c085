//! MLLP framing (HL7 v2 Minimal Lower Layer Protocol, release 2 block
//! format): `0x0B payload 0x1C 0x0D`. A pure, incremental decoder: bytes
//! in, frames and what was thrown away out; no I/O, no meaning (the
//! payload is handed on as bytes; [`crate::decode`] reads it).

pub const START: u8 = 0x0B;
pub const END: u8 = 0x1C;
pub const CR: u8 = 0x0D;

/// Default bound on one frame's payload: a report with an embedded PDF
/// fits with room to spare; anything larger is refused, not buffered.
pub const DEFAULT_MAX_FRAME: usize = 4 * 1024 * 1024;

/// Wraps a payload in a frame. The payload must not hold 0x0B or 0x1C;
/// [`crate::Message::encode`] never writes them (control characters in
/// values go out as `\Xhh\`), and GBK / UTF-8 text never holds them.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 3);
    out.push(START);
    out.extend_from_slice(payload);
    out.push(END);
    out.push(CR);
    out
}

/// Why bytes were dropped instead of framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Bytes outside any frame (before a start byte).
    Garbage,
    /// A frame longer than the bound; everything up to the next start
    /// byte is dropped with it.
    Oversized,
    /// A new start byte came before the end of the frame in progress:
    /// the sender gave up on it (or the link glitched); it is dropped.
    Interrupted,
}

/// What the decoder yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Frame(Vec<u8>),
    Dropped { why: Dropped, bytes: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for a start byte; counts garbage.
    Idle { garbage: usize },
    /// Inside a frame.
    InFrame,
    /// Saw 0x1C: a frame ended; expecting the CR.
    AfterEnd,
    /// Dropping an oversized frame until the next start byte.
    Skipping { bytes: usize },
}

/// The incremental decoder. Feed it what the socket gave; it keeps a
/// partial frame between calls, never holds more than `max` payload bytes,
/// and finds the next frame after any garbage.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max: usize,
    buf: Vec<u8>,
    state: State,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(DEFAULT_MAX_FRAME)
    }
}

impl FrameDecoder {
    pub fn new(max_frame: usize) -> FrameDecoder {
        FrameDecoder {
            max: max_frame,
            buf: Vec::new(),
            state: State::Idle { garbage: 0 },
        }
    }

    /// True when no frame is in progress (a clean place for the peer to
    /// close the connection).
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle { .. } | State::AfterEnd)
    }

    /// Feeds bytes; returns frames completed and bytes dropped, in order.
    /// Garbage is reported when the next start byte shows where it ended.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Decoded> {
        let mut out = Vec::new();
        for &b in data {
            self.byte(b, &mut out);
        }
        out
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Decoded>) {
        self.state = match self.state {
            State::Idle { garbage } => {
                if b == START {
                    if garbage > 0 {
                        out.push(Decoded::Dropped {
                            why: Dropped::Garbage,
                            bytes: garbage,
                        });
                    }
                    self.buf.clear();
                    State::InFrame
                } else {
                    State::Idle {
                        garbage: garbage + 1,
                    }
                }
            }
            State::InFrame => match b {
                END => {
                    out.push(Decoded::Frame(std::mem::take(&mut self.buf)));
                    State::AfterEnd
                }
                START => {
                    out.push(Decoded::Dropped {
                        why: Dropped::Interrupted,
                        bytes: self.buf.len() + 1,
                    });
                    self.buf.clear();
                    State::InFrame
                }
                _ if self.buf.len() >= self.max => {
                    let bytes = self.buf.len() + 2;
                    self.buf = Vec::new();
                    State::Skipping { bytes }
                }
                _ => {
                    self.buf.push(b);
                    State::InFrame
                }
            },
            // The CR after 0x1C is required by the standard; some senders
            // leave it out, so any other byte simply starts over.
            State::AfterEnd if b == CR => State::Idle { garbage: 0 },
            State::AfterEnd => {
                self.state = State::Idle { garbage: 0 };
                return self.byte(b, out);
            }
            State::Skipping { bytes } => {
                if b == START {
                    out.push(Decoded::Dropped {
                        why: Dropped::Oversized,
                        bytes,
                    });
                    self.buf.clear();
                    State::InFrame
                } else {
                    State::Skipping { bytes: bytes + 1 }
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(out: &[Decoded]) -> Vec<&[u8]> {
        out.iter()
            .filter_map(|d| match d {
                Decoded::Frame(f) => Some(f.as_slice()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn whole_and_split_frames() {
        let mut wire = encode(b"MSH|one");
        wire.extend(encode(b"MSH|two"));
        let mut d = FrameDecoder::default();
        assert_eq!(frames(&d.feed(&wire)), [b"MSH|one".as_slice(), b"MSH|two"]);
        // One byte at a time gives the same frames.
        let mut d = FrameDecoder::default();
        let out: Vec<Decoded> = wire.iter().flat_map(|b| d.feed(&[*b])).collect();
        assert_eq!(frames(&out), [b"MSH|one".as_slice(), b"MSH|two"]);
        assert!(d.is_idle());
    }

    #[test]
    fn resyncs_after_garbage_and_interruptions() {
        let mut wire = b"noise".to_vec();
        wire.extend(encode(b"A"));
        wire.extend([START, b'x', b'y']); // abandoned frame
        wire.extend(encode(b"B"));
        wire.extend([END, CR, b'z']);
        wire.extend(encode(b"C"));
        let mut d = FrameDecoder::default();
        let out = d.feed(&wire);
        assert_eq!(
            out,
            vec![
                Decoded::Dropped {
                    why: Dropped::Garbage,
                    bytes: 5
                },
                Decoded::Frame(b"A".to_vec()),
                Decoded::Dropped {
                    why: Dropped::Interrupted,
                    bytes: 3
                },
                Decoded::Frame(b"B".to_vec()),
                Decoded::Dropped {
                    why: Dropped::Garbage,
                    bytes: 3
                },
                Decoded::Frame(b"C".to_vec()),
            ]
        );
    }

    #[test]
    fn missing_cr_tolerated() {
        let mut d = FrameDecoder::default();
        let out = d.feed(&[START, b'A', END, START, b'B', END, CR]);
        assert_eq!(frames(&out), [b"A".as_slice(), b"B"]);
    }

    #[test]
    fn oversized_frames_dropped_without_buffering() {
        let mut d = FrameDecoder::new(4);
        let mut wire = vec![START];
        wire.extend([b'x'; 100]);
        wire.extend([END, CR]);
        wire.extend(encode(b"ok"));
        let out = d.feed(&wire);
        assert!(d.buf.capacity() < 100);
        assert_eq!(
            out,
            vec![
                Decoded::Dropped {
                    why: Dropped::Oversized,
                    bytes: 103
                },
                Decoded::Frame(b"ok".to_vec())
            ]
        );
        // Exactly the bound is accepted.
        assert_eq!(frames(&d.feed(&encode(b"1234"))), [b"1234".as_slice()]);
    }
}
