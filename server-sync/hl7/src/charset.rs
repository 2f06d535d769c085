//! The character set of a peer's messages: UTF-8 or GBK (older Chinese LIS
//! and HIS still send GBK). Chosen per peer by configuration; MSH-18 of an
//! incoming message may override it (see [`crate::decode`]).

use crate::error::{EncodeError, ParseError};

/// The character sets we speak. GBK is decoded with the GB 18030 decoder
/// (encoding_rs's GBK decoder accepts all of GB 18030), so a peer that
/// says "GB 18030-2000" in MSH-18 is read correctly; we write GBK, a subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Charset {
    #[default]
    Utf8,
    Gbk,
}

impl Charset {
    /// The value we write in MSH-18 (HL7 table 0211 names).
    pub fn hl7_name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UNICODE UTF-8",
            Charset::Gbk => "GB 18030-2000",
        }
    }

    /// Reads MSH-18. `Ok(None)` for an empty field or plain ASCII (a subset
    /// of both: the peer's configured charset applies); the local names
    /// Chinese systems write ("GBK", "GB2312", "UTF-8") are accepted too.
    pub fn from_hl7_name(name: &str) -> Result<Option<Charset>, ParseError> {
        let n: String = name
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
            .flat_map(char::to_uppercase)
            .collect();
        match n.as_str() {
            "" | "ASCII" => Ok(None),
            "UNICODEUTF8" | "UTF8" | "UNICODE" => Ok(Some(Charset::Utf8)),
            "GB180302000" | "GB18030" | "GBK" | "GB2312" | "GB231280" | "CP936" => {
                Ok(Some(Charset::Gbk))
            }
            _ => Err(ParseError::UnsupportedCharset(name.to_string())),
        }
    }

    /// Bytes to text, strictly: invalid bytes are an error, never replaced
    /// (a replaced character in a name or a result would be silent damage).
    pub fn decode(self, bytes: &[u8]) -> Result<String, ParseError> {
        match self {
            Charset::Utf8 => {
                let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
                std::str::from_utf8(bytes)
                    .map(str::to_owned)
                    .map_err(|e| ParseError::InvalidText {
                        charset: self,
                        valid_up_to: e.valid_up_to(),
                    })
            }
            Charset::Gbk => encoding_rs::GBK
                .decode_without_bom_handling_and_without_replacement(bytes)
                .map(|c| c.into_owned())
                .ok_or_else(|| ParseError::InvalidText {
                    charset: self,
                    valid_up_to: gbk_valid_up_to(bytes),
                }),
        }
    }

    /// Text to bytes; a character GBK cannot hold is an error (encoding_rs
    /// would otherwise write an HTML character reference into the message).
    pub fn encode(self, text: &str) -> Result<Vec<u8>, EncodeError> {
        match self {
            Charset::Utf8 => Ok(text.as_bytes().to_vec()),
            Charset::Gbk => {
                let (bytes, _, had_errors) = encoding_rs::GBK.encode(text);
                if had_errors {
                    let ch = text
                        .chars()
                        .find(|c| {
                            let mut b = [0u8; 4];
                            encoding_rs::GBK.encode(c.encode_utf8(&mut b)).2
                        })
                        .unwrap_or('\u{FFFD}');
                    return Err(EncodeError::Unencodable { charset: self, ch });
                }
                Ok(bytes.into_owned())
            }
        }
    }
}

impl std::fmt::Display for Charset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Charset::Utf8 => "UTF-8",
            Charset::Gbk => "GBK",
        })
    }
}

impl std::str::FromStr for Charset {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Charset::from_hl7_name(s)?.ok_or_else(|| ParseError::UnsupportedCharset(s.to_string()))
    }
}

/// Where GBK decoding first fails, for the error message.
fn gbk_valid_up_to(bytes: &[u8]) -> usize {
    let mut decoder = encoding_rs::GBK.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3 + 16);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(bad, _) => read.saturating_sub(bad as usize),
        _ => read,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_round_trip_and_errors() {
        let bytes = Charset::Gbk.encode("张三 钾").unwrap();
        assert_eq!(bytes[..2], [0xD5, 0xC5]); // 张 in GBK
        assert_eq!(Charset::Gbk.decode(&bytes).unwrap(), "张三 钾");
        assert!(matches!(
            Charset::Gbk.encode("😀"),
            Err(EncodeError::Unencodable { ch: '😀', .. })
        ));
        assert!(matches!(
            Charset::Gbk.decode(b"ab\x81"),
            Err(ParseError::InvalidText { valid_up_to: 2, .. })
        ));
        assert!(matches!(
            Charset::Utf8.decode(b"ab\xD5\xC5"),
            Err(ParseError::InvalidText { valid_up_to: 2, .. })
        ));
    }

    #[test]
    fn msh18_names() {
        assert_eq!(
            Charset::from_hl7_name("UNICODE UTF-8").unwrap(),
            Some(Charset::Utf8)
        );
        assert_eq!(Charset::from_hl7_name("gbk").unwrap(), Some(Charset::Gbk));
        assert_eq!(
            Charset::from_hl7_name("GB 18030-2000").unwrap(),
            Some(Charset::Gbk)
        );
        assert_eq!(Charset::from_hl7_name("").unwrap(), None);
        assert!(Charset::from_hl7_name("8859/1").is_err());
    }
}
