//! A simulated label printer speaking TSPL or ZPL: parses each label back
//! into the [`Label`] model, answers status queries, and runs out of
//! labels, opens its head or pauses on request.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::lock;

use crate::label::{Label, LabelItem, LabelStatus, Language, tspl, zpl};

#[cfg(test)]
mod tests {
    #[test]
    fn non_ascii_zpl_commands_are_refused_not_panicked_on() {
        assert!(super::parse_zpl("^\u{FFFD}\n;").is_err());
        assert!(super::parse_zpl("^X\u{4E2D}").is_err());
        assert!(super::parse_tspl("TEXT \"\u{4E2D}").is_err());
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelFault {
    /// The roll ends after this many more labels.
    PaperOutAfter(usize),
    HeadOpen,
    RibbonOut,
    Pause,
    /// Each label takes this long to print (a slow device).
    Slow(std::time::Duration),
}

#[derive(Debug, Default)]
struct State {
    status: LabelStatus,
    labels_left: Option<usize>,
    slow: Option<std::time::Duration>,
    labels: Vec<Label>,
    dropped: usize,
    errors: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LabelSim {
    state: Arc<Mutex<State>>,
}

/// Splits `a,b,"c,d",e` at commas outside quotes, unquoting.
fn args(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

fn num(s: &str) -> Option<u32> {
    s.trim().trim_end_matches("mm").trim().parse().ok()
}

/// Parses one TSPL label (the lines from SIZE to PRINT).
pub fn parse_tspl(text: &str) -> Result<Label, String> {
    let mut l = Label {
        width_mm: 0,
        height_mm: 0,
        gap_mm: 0,
        items: Vec::new(),
        copies: 1,
    };
    for line in text.split("\r\n").map(str::trim).filter(|l| !l.is_empty()) {
        let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
        let a = args(rest);
        let bad = || format!("bad TSPL line {line:?}");
        match cmd {
            "SIZE" => {
                l.width_mm = num(&a[0]).ok_or_else(bad)?;
                l.height_mm = a.get(1).and_then(|s| num(s)).ok_or_else(bad)?;
            }
            "GAP" => l.gap_mm = num(&a[0]).ok_or_else(bad)?,
            "DIRECTION" | "CODEPAGE" => {}
            "CLS" => l.items.clear(),
            "TEXT" if a.len() == 7 => l.items.push(LabelItem::Text {
                x: num(&a[0]).ok_or_else(bad)?,
                y: num(&a[1]).ok_or_else(bad)?,
                height: 24 * num(&a[5]).ok_or_else(bad)?,
                text: a[6].clone(),
            }),
            "BARCODE" if a.len() == 9 && a[2] == "128" => l.items.push(LabelItem::Code128 {
                x: num(&a[0]).ok_or_else(bad)?,
                y: num(&a[1]).ok_or_else(bad)?,
                height: num(&a[3]).ok_or_else(bad)?,
                narrow: num(&a[6]).ok_or_else(bad)?,
                data: a[8].clone(),
            }),
            "PRINT" => l.copies = num(&a[0]).ok_or_else(bad)?,
            _ => return Err(bad()),
        }
    }
    Ok(l)
}

/// Parses one ZPL label (^XA … ^XZ).
pub fn parse_zpl(text: &str) -> Result<Label, String> {
    let mut l = Label {
        width_mm: 0,
        height_mm: 0,
        gap_mm: 0,
        items: Vec::new(),
        copies: 1,
    };
    let (mut at, mut font_h, mut bar, mut narrow, mut data) =
        ((0, 0), 24, None::<u32>, 2, None::<String>);
    for cmd in text
        .split('^')
        .map(|c| c.trim_end_matches(['\n', '\r']))
        .filter(|c| !c.is_empty())
    {
        let bad = || format!("bad ZPL command ^{cmd}");
        // Command names are two characters; split on a character boundary
        // (a fuzzer found that a byte index panics on non-ASCII input).
        let (name, rest) = cmd.split_at(cmd.char_indices().nth(2).map_or(cmd.len(), |(i, _)| i));
        match name {
            "XA" | "XZ" | "CI" | "MN" => {}
            "PW" => l.width_mm = num(rest).ok_or_else(bad)? / crate::label::DOTS_PER_MM,
            "LL" => l.height_mm = num(rest).ok_or_else(bad)? / crate::label::DOTS_PER_MM,
            "FO" => {
                let a = args(rest);
                at = (
                    num(&a[0]).ok_or_else(bad)?,
                    a.get(1).and_then(|s| num(s)).ok_or_else(bad)?,
                );
            }
            "A@" => font_h = args(rest).get(1).and_then(|s| num(s)).ok_or_else(bad)?,
            "BY" => narrow = num(rest).ok_or_else(bad)?,
            "BC" => bar = Some(args(rest).get(1).and_then(|s| num(s)).ok_or_else(bad)?),
            "FD" => data = Some(rest.to_string()),
            "FS" => {
                let d = data.take().ok_or_else(bad)?;
                l.items.push(match bar.take() {
                    Some(height) => LabelItem::Code128 {
                        x: at.0,
                        y: at.1,
                        height,
                        narrow,
                        data: d,
                    },
                    None => LabelItem::Text {
                        x: at.0,
                        y: at.1,
                        height: font_h,
                        text: d,
                    },
                });
            }
            "PQ" => l.copies = num(rest).ok_or_else(bad)?,
            _ => return Err(bad()),
        }
    }
    Ok(l)
}

impl LabelSim {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn inject(&self, f: LabelFault) {
        let mut s = lock(&self.state);
        match f {
            LabelFault::PaperOutAfter(n) => s.labels_left = Some(n),
            LabelFault::HeadOpen => s.status.head_open = true,
            LabelFault::RibbonOut => s.status.ribbon_out = true,
            LabelFault::Pause => s.status.paused = true,
            LabelFault::Slow(d) => s.slow = Some(d),
        }
    }

    pub fn fix(&self) {
        let mut s = lock(&self.state);
        s.status = LabelStatus::default();
        s.labels_left = None;
    }

    /// Labels printed so far, parsed back from the printer language.
    pub fn labels(&self) -> Vec<Label> {
        lock(&self.state).labels.clone()
    }

    pub fn dropped(&self) -> usize {
        lock(&self.state).dropped
    }

    pub fn errors(&self) -> Vec<String> {
        lock(&self.state).errors.clone()
    }

    fn finish(&self, parsed: Result<Label, String>) {
        let slow = lock(&self.state).slow;
        if let Some(d) = slow {
            std::thread::sleep(d);
        }
        let mut s = lock(&self.state);
        match parsed {
            Err(e) => s.errors.push(e),
            Ok(_) if !s.status.ready() => s.dropped += 1,
            Ok(l) => {
                s.labels.push(l);
                if let Some(left) = s.labels_left.as_mut() {
                    *left = left.saturating_sub(1);
                    if *left == 0 {
                        s.status.paper_out = true;
                        s.labels_left = None;
                    }
                }
            }
        }
    }

    fn status_answer(&self, lang: Language) -> Vec<u8> {
        let st = lock(&self.state).status;
        match lang {
            Language::Tspl => vec![tspl::status_byte(&st)],
            Language::Zpl => zpl::status_answer(&st),
        }
    }

    /// Serves one connection in `lang` until it closes or `stop`.
    pub fn serve<T: Read + Write>(
        &self,
        mut port: T,
        lang: Language,
        stop: &AtomicBool,
    ) -> io::Result<()> {
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 4096];
        // TSPL lines of the label being received, up to its PRINT line.
        let mut pending = String::new();
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
                if lang == Language::Zpl {
                    // Between labels only whitespace (or noise) before the next ^ or ~.
                    let start = buf
                        .iter()
                        .position(|&b| b == b'^' || b == b'~')
                        .unwrap_or(buf.len());
                    buf.drain(..start);
                }
                let query: &[u8] = if lang == Language::Tspl {
                    &tspl::STATUS_QUERY
                } else {
                    zpl::STATUS_QUERY
                };
                if buf.starts_with(query) {
                    port.write_all(&self.status_answer(lang))?;
                    port.flush()?;
                    buf.drain(..query.len());
                    continue;
                }
                let end: &[u8] = if lang == Language::Tspl {
                    b"\r\n"
                } else {
                    b"^XZ"
                };
                let Some(i) = buf.windows(end.len()).position(|w| w == end) else {
                    break;
                };
                let block = buf.drain(..i + end.len()).collect::<Vec<u8>>();
                match lang {
                    Language::Tspl => {
                        let (line, _) = encoding_rs::GB18030.decode_without_bom_handling(&block);
                        pending.push_str(&line);
                        if line.trim_start().starts_with("PRINT") {
                            self.finish(parse_tspl(&std::mem::take(&mut pending)));
                        }
                    }
                    Language::Zpl => {
                        let text = String::from_utf8_lossy(&block);
                        let start = text.find("^XA").unwrap_or(0);
                        self.finish(parse_zpl(&text[start..]));
                    }
                }
            }
        }
        Ok(())
    }

    /// Listens on loopback TCP, one connection at a time.
    pub fn listen_tcp(&self, lang: Language) -> io::Result<SocketAddr> {
        let sim = self.clone();
        super::listen_tcp(move |conn| {
            let _ = sim.serve(conn, lang, &AtomicBool::new(false));
        })
    }
}
