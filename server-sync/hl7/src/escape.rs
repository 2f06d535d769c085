//! HL7 escape sequences (v2.5 §2.7): `\F\ \S\ \T\ \R\ \E\` for the
//! delimiters, `\P\` for the truncation character (v2.7), `\Xhh..\` for
//! bytes in the message's character set, and the formatting sequences
//! `\H\ \N\ \.br\ ...` that report text carries.

use crate::charset::Charset;
use crate::message::Delimiters;

/// Why a leaf value could not be unescaped (the caller adds where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadHex(pub String);

/// Unescapes one leaf (a subcomponent). Sequences we do not know (`\Zxx\`
/// local escapes, `\C..\` / `\M..\` charset switches) and an escape
/// character without its closing one are kept literally: real senders
/// write lone backslashes, and keeping them means re-encoding keeps the
/// meaning (the backslash goes out as `\E\`). A `\X..\` that is not whole
/// bytes of hex, or whose bytes are not text in `charset`, is an error:
/// guessing would change a value.
pub(crate) fn unescape(s: &str, d: &Delimiters, charset: Charset) -> Result<String, BadHex> {
    if !s.contains(d.escape) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find(d.escape) {
        out.push_str(&rest[..start]);
        let after = &rest[start + d.escape.len_utf8()..];
        let Some(end) = after.find(d.escape) else {
            // No closing escape character: the rest is literal.
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let seq = &after[..end];
        match seq {
            "F" => out.push(d.field),
            "S" => out.push(d.component),
            "T" => out.push(d.subcomponent),
            "R" => out.push(d.repetition),
            "E" => out.push(d.escape),
            "P" if d.truncation.is_some() => out.extend(d.truncation),
            // Highlighting on / off: no meaning in plain text.
            "H" | "N" => {}
            ".br" => out.push('\n'),
            _ if seq.starts_with(".sp") => out.push('\n'),
            _ if seq.starts_with('.') && seq.len() > 1 => {}
            _ if seq.starts_with('X') && seq.len() > 1 => {
                let hex = &seq[1..];
                let bytes = decode_hex(hex).ok_or_else(|| BadHex(hex.to_string()))?;
                let text = charset
                    .decode(&bytes)
                    .map_err(|_| BadHex(hex.to_string()))?;
                out.push_str(&text);
            }
            _ => {
                // Unknown: keep it as it was written.
                out.push(d.escape);
                out.push_str(seq);
                out.push(d.escape);
            }
        }
        rest = &after[end + d.escape.len_utf8()..];
    }
    out.push_str(rest);
    Ok(out)
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Escapes one leaf for writing: the delimiters, the escape character and
/// the truncation character by name, and every control character (CR, LF,
/// and the MLLP block characters 0x0B / 0x1C) as `\Xhh\`, so an encoded
/// message never holds a byte that would end a segment or a frame.
pub(crate) fn escape(s: &str, d: &Delimiters) -> String {
    let special = |c: char| {
        c == d.field
            || c == d.component
            || c == d.subcomponent
            || c == d.repetition
            || c == d.escape
            || Some(c) == d.truncation
            || c.is_ascii_control()
    };
    if !s.chars().any(special) {
        return s.to_string();
    }
    let e = d.escape;
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        let code = if c == d.field {
            "F".to_string()
        } else if c == d.component {
            "S".to_string()
        } else if c == d.subcomponent {
            "T".to_string()
        } else if c == d.repetition {
            "R".to_string()
        } else if c == d.escape {
            "E".to_string()
        } else if Some(c) == d.truncation {
            "P".to_string()
        } else if c.is_ascii_control() {
            format!("X{:02X}", c as u32)
        } else {
            out.push(c);
            continue;
        };
        out.push(e);
        out.push_str(&code);
        out.push(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn un(s: &str) -> Result<String, BadHex> {
        unescape(s, &Delimiters::default(), Charset::Utf8)
    }

    #[test]
    fn delimiters_and_hex() {
        assert_eq!(un(r"a\F\b\S\c\T\d\R\e\E\f").unwrap(), r"a|b^c&d~e\f");
        assert_eq!(un(r"\X0D0A\").unwrap(), "\r\n");
        assert_eq!(un(r"\XE992BE\").unwrap(), "钾");
        assert_eq!(un(r"line\.br\two\H\bold\N\").unwrap(), "line\ntwobold");
        assert!(un(r"\X0\").is_err());
        assert!(un(r"\XZZ\").is_err());
        assert!(un(r"\XFF\").is_err()); // not UTF-8
        // GBK bytes in a GBK message.
        assert_eq!(
            unescape(r"\XBCD8\", &Delimiters::default(), Charset::Gbk).unwrap(),
            "钾"
        );
    }

    #[test]
    fn lenient_with_what_senders_really_write() {
        assert_eq!(un(r"C:\path").unwrap(), r"C:\path");
        assert_eq!(un(r"\Zlocal\").unwrap(), r"\Zlocal\");
        assert_eq!(un(r"\\").unwrap(), r"\\");
    }

    #[test]
    fn escape_round_trips() {
        let d = Delimiters::default();
        for s in [
            r"a|b^c&d~e\f",
            "cr\rlf\n\u{b}\u{1c}",
            "钾 5.1",
            "",
            r"\X41\",
        ] {
            let e = escape(s, &d);
            assert!(!e.contains(['|', '^', '&', '~', '\r', '\n', '\u{b}', '\u{1c}']));
            assert_eq!(unescape(&e, &d, Charset::Utf8).unwrap(), s);
        }
        assert_eq!(escape("a|b", &d), r"a\F\b");
    }
}
