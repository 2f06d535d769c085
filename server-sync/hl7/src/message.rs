//! The HL7 v2.x message model: segments of fields, a field of repetitions,
//! a repetition of components, a component of subcomponents. Values are
//! kept unescaped; the delimiters come from MSH-1 / MSH-2.
//!
//! Numbering follows HL7: `segment.field(1)` is the first field after the
//! segment id (for MSH, MSH-1 is the field separator itself and MSH-2 the
//! encoding characters, kept as written).

use crate::charset::Charset;
use crate::error::{EncodeError, ParseError};
use crate::escape::{escape, unescape};

/// The separators of one message (MSH-1 and MSH-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
    /// v2.7's fifth encoding character, when MSH-2 has one.
    pub truncation: Option<char>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
            truncation: None,
        }
    }
}

impl Delimiters {
    /// MSH-2 as written.
    pub fn encoding_characters(&self) -> String {
        let mut s: String = [
            self.component,
            self.repetition,
            self.escape,
            self.subcomponent,
        ]
        .into_iter()
        .collect();
        s.extend(self.truncation);
        s
    }

    fn from_msh(field: char, enc: &str) -> Result<Self, ParseError> {
        let chars: Vec<char> = enc.chars().collect();
        if !(4..=5).contains(&chars.len()) {
            return Err(ParseError::BadDelimiters(format!(
                "MSH-2 {enc:?} must have 4 or 5 characters"
            )));
        }
        let d = Delimiters {
            field,
            component: chars[0],
            repetition: chars[1],
            escape: chars[2],
            subcomponent: chars[3],
            truncation: chars.get(4).copied(),
        };
        let mut all = vec![d.field, d.component, d.repetition, d.escape, d.subcomponent];
        all.extend(d.truncation);
        if all
            .iter()
            .any(|c| c.is_alphanumeric() || c.is_control() || c.is_whitespace() || !c.is_ascii())
        {
            return Err(ParseError::BadDelimiters(format!(
                "{all:?}: delimiters must be printable ASCII punctuation"
            )));
        }
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != all.len() {
            return Err(ParseError::BadDelimiters(format!(
                "{all:?}: delimiters must differ"
            )));
        }
        Ok(d)
    }
}

/// One component: its subcomponents (most often exactly one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub subcomponents: Vec<String>,
}

/// One repetition of a field: its components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repetition {
    pub components: Vec<Component>,
}

/// One field: its repetitions (an empty field is one empty repetition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub repetitions: Vec<Repetition>,
}

impl Default for Field {
    fn default() -> Self {
        Field::text("")
    }
}

impl Field {
    /// A field of one plain value.
    pub fn text(value: impl Into<String>) -> Field {
        Field::components([value.into()])
    }

    /// A field of one repetition with these components.
    pub fn components<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Field {
        let components: Vec<Component> = values
            .into_iter()
            .map(|v| Component {
                subcomponents: vec![v.into()],
            })
            .collect();
        let components = if components.is_empty() {
            vec![Component {
                subcomponents: vec![String::new()],
            }]
        } else {
            components
        };
        Field {
            repetitions: vec![Repetition { components }],
        }
    }

    /// The first subcomponent of component `n` (1-based) of the first
    /// repetition; "" when absent.
    pub fn component(&self, n: usize) -> &str {
        self.repetitions
            .first()
            .map(|r| r.component(n))
            .unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.repetitions.iter().all(|r| {
            r.components
                .iter()
                .all(|c| c.subcomponents.iter().all(String::is_empty))
        })
    }
}

impl Repetition {
    /// The first subcomponent of component `n` (1-based); "" when absent.
    pub fn component(&self, n: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.components.get(i))
            .and_then(|c| c.subcomponents.first())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// One segment: its id and fields (`fields[0]` is field 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    pub fields: Vec<Field>,
}

impl Segment {
    pub fn new(id: &str) -> Segment {
        Segment {
            id: id.to_string(),
            fields: Vec::new(),
        }
    }

    /// Field `n` (1-based), if present.
    pub fn field(&self, n: usize) -> Option<&Field> {
        n.checked_sub(1).and_then(|i| self.fields.get(i))
    }

    /// The first component of field `n`, or "" (the common case: a field
    /// holding one plain value).
    pub fn get(&self, n: usize) -> &str {
        self.component(n, 1)
    }

    /// Component `c` of field `n` (first repetition, first subcomponent).
    pub fn component(&self, n: usize, c: usize) -> &str {
        self.field(n).map(|f| f.component(c)).unwrap_or("")
    }

    /// Sets field `n` (1-based), adding empty fields before it as needed.
    pub fn set(&mut self, n: usize, field: Field) -> &mut Self {
        if let Some(i) = n.checked_sub(1) {
            if self.fields.len() <= i {
                self.fields.resize_with(i + 1, Field::default);
            }
            self.fields[i] = field;
        }
        self
    }

    /// Builder form of [`Segment::set`].
    pub fn with(mut self, n: usize, field: Field) -> Self {
        self.set(n, field);
        self
    }
}

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub delimiters: Delimiters,
    pub segments: Vec<Segment>,
}

impl Message {
    /// A message whose first segment is an MSH with these delimiters and
    /// fields from MSH-3 on (MSH-1 and MSH-2 are filled in).
    pub fn new(delimiters: Delimiters, mut msh: Segment) -> Message {
        msh.id = "MSH".into();
        if msh.fields.len() < 2 {
            msh.fields.resize_with(2, Field::default);
        }
        msh.fields[0] = Field::text(delimiters.field.to_string());
        msh.fields[1] = Field::text(delimiters.encoding_characters());
        Message {
            delimiters,
            segments: vec![msh],
        }
    }

    pub fn push(&mut self, segment: Segment) -> &mut Self {
        self.segments.push(segment);
        self
    }

    /// The MSH segment (always the first: parsing refuses anything else).
    pub fn msh(&self) -> Option<&Segment> {
        self.segments.first().filter(|s| s.id == "MSH")
    }

    /// The first segment with this id.
    pub fn segment(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }

    /// Every segment with this id, in order.
    pub fn segments_named<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments.iter().filter(move |s| s.id == id)
    }

    /// MSH-9 as `(code, trigger)`, e.g. `("ORU", "R01")`.
    pub fn message_type(&self) -> (&str, &str) {
        self.msh()
            .map(|m| (m.component(9, 1), m.component(9, 2)))
            .unwrap_or(("", ""))
    }

    /// MSH-10, the message control id an ACK echoes.
    pub fn control_id(&self) -> &str {
        self.msh().map(|m| m.get(10)).unwrap_or("")
    }

    /// Parses text (already decoded). Segments end with CR; LF and CRLF
    /// are accepted too, and blank lines are skipped.
    pub fn parse(text: &str, charset: Charset) -> Result<Message, ParseError> {
        let mut lines = text
            .split(['\r', '\n'])
            .filter(|l| !l.trim().is_empty())
            .peekable();
        let first = lines.peek().ok_or(ParseError::Empty)?;
        if !first.starts_with("MSH") {
            return Err(ParseError::MissingMsh);
        }
        let mut chars = first.chars().skip(3);
        let field_sep = chars.next().ok_or(ParseError::MshTooShort)?;
        let enc: String = chars.take_while(|c| *c != field_sep).collect();
        let d = Delimiters::from_msh(field_sep, &enc)?;

        let mut segments = Vec::new();
        for (index, line) in lines.enumerate() {
            let mut parts = line.split(d.field);
            let id = parts.next().unwrap_or("");
            if !valid_segment_id(id) {
                return Err(ParseError::BadSegmentId {
                    index,
                    id: id.chars().take(16).collect(),
                });
            }
            let mut fields = Vec::new();
            if id == "MSH" {
                if index != 0 {
                    return Err(ParseError::BadSegmentId {
                        index,
                        id: id.to_string(),
                    });
                }
                fields.push(Field::text(d.field.to_string()));
                fields.push(Field::text(parts.next().unwrap_or("")));
            }
            for raw in parts {
                fields.push(parse_field(raw, &d, charset).map_err(|hex| {
                    ParseError::BadHexEscape {
                        index,
                        hex: hex.0.chars().take(32).collect(),
                    }
                })?);
            }
            segments.push(Segment {
                id: id.to_string(),
                fields,
            });
        }
        Ok(Message {
            delimiters: d,
            segments,
        })
    }

    /// The message as text, segments ended by CR (the last one too).
    pub fn encode(&self) -> String {
        let d = &self.delimiters;
        let mut out = String::new();
        for seg in &self.segments {
            out.push_str(&seg.id);
            let skip = if seg.id == "MSH" {
                // MSH-1 is the separator we are about to write; MSH-2 is
                // written as the delimiters say, never escaped.
                out.push(d.field);
                out.push_str(&d.encoding_characters());
                2
            } else {
                0
            };
            for field in seg.fields.iter().skip(skip) {
                out.push(d.field);
                encode_field(field, d, &mut out);
            }
            out.push('\r');
        }
        out
    }

    /// The message as bytes in `charset`.
    pub fn encode_bytes(&self, charset: Charset) -> Result<Vec<u8>, EncodeError> {
        charset.encode(&self.encode())
    }
}

fn valid_segment_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 3
        && b[0].is_ascii_uppercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn parse_field(
    raw: &str,
    d: &Delimiters,
    charset: Charset,
) -> Result<Field, crate::escape::BadHex> {
    let repetitions = raw
        .split(d.repetition)
        .map(|rep| {
            let components = rep
                .split(d.component)
                .map(|comp| {
                    let subcomponents = comp
                        .split(d.subcomponent)
                        .map(|s| unescape(s, d, charset))
                        .collect::<Result<_, _>>()?;
                    Ok(Component { subcomponents })
                })
                .collect::<Result<_, _>>()?;
            Ok(Repetition { components })
        })
        .collect::<Result<_, _>>()?;
    Ok(Field { repetitions })
}

fn encode_field(field: &Field, d: &Delimiters, out: &mut String) {
    for (ri, rep) in field.repetitions.iter().enumerate() {
        if ri > 0 {
            out.push(d.repetition);
        }
        for (ci, comp) in rep.components.iter().enumerate() {
            if ci > 0 {
                out.push(d.component);
            }
            for (si, sub) in comp.subcomponents.iter().enumerate() {
                if si > 0 {
                    out.push(d.subcomponent);
                }
                out.push_str(&escape(sub, d));
            }
        }
    }
}

/// Decodes bytes from a peer: in the peer's configured charset, unless
/// MSH-18 names another one we support (then that one is used). Returns
/// the message and the charset it was read in (an ACK goes back in it).
pub fn decode(bytes: &[u8], peer: Charset) -> Result<(Message, Charset), ParseError> {
    match peer.decode(bytes) {
        Ok(text) => {
            let msg = Message::parse(&text, peer)?;
            let named = msg
                .msh()
                .map(|m| Charset::from_hl7_name(m.get(18)))
                .transpose()?
                .flatten();
            match named {
                Some(other) if other != peer => {
                    let text = other.decode(bytes)?;
                    Ok((Message::parse(&text, other)?, other))
                }
                _ => Ok((msg, peer)),
            }
        }
        Err(err) => {
            // Not text in the peer's charset: MSH-18 may say what it is.
            // Read it from the ASCII part of the first segment.
            let first = bytes.split(|b| *b == b'\r' || *b == b'\n').next();
            let named = first
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .filter(|l| l.starts_with("MSH") && l.len() > 3)
                .and_then(|l| {
                    let sep = l[3..].chars().next()?;
                    l.split(sep).nth(17).map(str::to_owned)
                });
            match named.map(|n| Charset::from_hl7_name(&n)).transpose()? {
                Some(Some(other)) if other != peer => {
                    let text = other.decode(bytes)?;
                    Ok((Message::parse(&text, other)?, other))
                }
                _ => Err(err),
            }
        }
    }
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
