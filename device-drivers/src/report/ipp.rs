//! IPP/1.1 messages (RFC 8010): just what printing reports needs — build
//! requests, parse responses into attribute groups.

/// Value tags.
pub mod tag {
    pub const OPERATION: u8 = 0x01;
    pub const JOB: u8 = 0x02;
    pub const END: u8 = 0x03;
    pub const PRINTER: u8 = 0x04;
    pub const UNSUPPORTED: u8 = 0x05;
    pub const INTEGER: u8 = 0x21;
    pub const RANGE: u8 = 0x33;
    pub const BOOLEAN: u8 = 0x22;
    pub const ENUM: u8 = 0x23;
    pub const TEXT: u8 = 0x41;
    pub const NAME: u8 = 0x42;
    pub const KEYWORD: u8 = 0x44;
    pub const URI: u8 = 0x45;
    pub const CHARSET: u8 = 0x47;
    pub const LANGUAGE: u8 = 0x48;
    pub const MIME: u8 = 0x49;
}

pub mod op {
    pub const PRINT_JOB: u16 = 0x0002;
    pub const GET_JOB_ATTRIBUTES: u16 = 0x0009;
    pub const GET_JOBS: u16 = 0x000A;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i32),
    Bool(bool),
    Text(String),
    Other(u8, Vec<u8>),
}

impl Value {
    pub fn as_int(&self) -> Option<i32> {
        if let Value::Int(i) = self {
            Some(*i)
        } else {
            None
        }
    }
    pub fn as_text(&self) -> Option<&str> {
        if let Value::Text(s) = self {
            Some(s)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub tag: u8,
    pub attributes: Vec<Attribute>,
}

impl Group {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.values.first())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub request_id: u32,
    pub groups: Vec<Group>,
}

impl Response {
    /// successful-ok and its informational variants (0x0000..=0x00FF).
    pub fn ok(&self) -> bool {
        self.status < 0x0100
    }

    pub fn groups(&self, tag: u8) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(move |g| g.tag == tag)
    }

    pub fn message(&self) -> Option<&str> {
        self.groups(tag::OPERATION)
            .find_map(|g| g.get("status-message"))
            .and_then(Value::as_text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IppError {
    #[error("IPP response truncated at byte {0}")]
    Truncated(usize),
    #[error("IPP response has a bad value of tag {tag:#04x} at byte {at}")]
    BadValue { tag: u8, at: usize },
    #[error("IPP response has an attribute before any group")]
    NoGroup,
}

/// Builds a request: operation attributes first (charset and language are
/// added), then the document, if any.
#[derive(Debug)]
pub struct Request {
    buf: Vec<u8>,
}

impl Request {
    pub fn new(operation: u16, request_id: u32, printer_uri: &str) -> Self {
        let mut buf = vec![0x01, 0x01];
        buf.extend_from_slice(&operation.to_be_bytes());
        buf.extend_from_slice(&request_id.to_be_bytes());
        buf.push(tag::OPERATION);
        let mut r = Self { buf };
        r.attr(tag::CHARSET, "attributes-charset", b"utf-8");
        r.attr(tag::LANGUAGE, "attributes-natural-language", b"zh-cn");
        r.attr(tag::URI, "printer-uri", printer_uri.as_bytes());
        r
    }

    pub fn attr(&mut self, value_tag: u8, name: &str, value: &[u8]) -> &mut Self {
        self.buf.push(value_tag);
        self.buf
            .extend_from_slice(&(name.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(name.as_bytes());
        self.buf
            .extend_from_slice(&(value.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(value);
        self
    }

    /// A further value of the previous attribute (name length 0).
    pub fn also(&mut self, value_tag: u8, value: &[u8]) -> &mut Self {
        self.attr(value_tag, "", value)
    }

    /// Starts another attribute group (job attributes after the operation's).
    pub fn group(&mut self, group_tag: u8) -> &mut Self {
        self.buf.push(group_tag);
        self
    }

    /// A rangeOfInteger value (e.g. page-ranges).
    pub fn range(&mut self, name: &str, lower: i32, upper: i32) -> &mut Self {
        let mut v = lower.to_be_bytes().to_vec();
        v.extend_from_slice(&upper.to_be_bytes());
        self.attr(tag::RANGE, name, &v)
    }

    pub fn int(&mut self, name: &str, v: i32) -> &mut Self {
        self.attr(tag::INTEGER, name, &v.to_be_bytes())
    }

    pub fn finish(mut self, document: &[u8]) -> Vec<u8> {
        self.buf.push(tag::END);
        self.buf.extend_from_slice(document);
        self.buf
    }
}

pub fn parse(b: &[u8]) -> Result<Response, IppError> {
    let need = |at: usize, n: usize| {
        if b.len() < at + n {
            Err(IppError::Truncated(at))
        } else {
            Ok(())
        }
    };
    need(0, 8)?;
    let status = u16::from_be_bytes([b[2], b[3]]);
    let request_id = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
    let mut groups: Vec<Group> = Vec::new();
    let mut at = 8;
    loop {
        need(at, 1)?;
        let t = b[at];
        at += 1;
        if t == tag::END {
            break;
        }
        if t < 0x10 {
            groups.push(Group {
                tag: t,
                attributes: Vec::new(),
            });
            continue;
        }
        need(at, 2)?;
        let nl = usize::from(u16::from_be_bytes([b[at], b[at + 1]]));
        at += 2;
        need(at, nl + 2)?;
        let name = String::from_utf8_lossy(&b[at..at + nl]).into_owned();
        at += nl;
        let vl = usize::from(u16::from_be_bytes([b[at], b[at + 1]]));
        at += 2;
        need(at, vl)?;
        let raw = &b[at..at + vl];
        let value = match t {
            tag::INTEGER | tag::ENUM => Value::Int(i32::from_be_bytes(
                raw.try_into()
                    .map_err(|_| IppError::BadValue { tag: t, at })?,
            )),
            tag::BOOLEAN if vl == 1 => Value::Bool(raw[0] != 0),
            tag::BOOLEAN => return Err(IppError::BadValue { tag: t, at }),
            0x41..=0x49 => Value::Text(String::from_utf8_lossy(raw).into_owned()),
            _ => Value::Other(t, raw.to_vec()),
        };
        at += vl;
        let group = groups.last_mut().ok_or(IppError::NoGroup)?;
        match (nl, group.attributes.last_mut()) {
            (0, Some(prev)) => prev.values.push(value),
            (0, None) => return Err(IppError::BadValue { tag: t, at }),
            _ => group.attributes.push(Attribute {
                name,
                values: vec![value],
            }),
        }
    }
    Ok(Response {
        status,
        request_id,
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_builds_and_refuses_truncation() {
        // A response shaped like CUPS's answer to Get-Job-Attributes.
        let mut r = Request::new(0, 7, "ipp://localhost/printers/R");
        r.attr(tag::TEXT, "status-message", b"successful-ok");
        let mut b = r.finish(b"");
        b.pop();
        b.push(tag::JOB);
        b.extend_from_slice(&{
            let mut j = Request { buf: Vec::new() };
            j.int("job-id", 12)
                .attr(tag::ENUM, "job-state", &9i32.to_be_bytes())
                .attr(tag::NAME, "job-name", b"report-1");
            j.also(tag::NAME, b"second");
            j.buf
        });
        b.push(tag::END);
        let resp = parse(&b).unwrap();
        assert!(resp.ok());
        assert_eq!(resp.request_id, 7);
        assert_eq!(resp.message(), Some("successful-ok"));
        let job = resp.groups(tag::JOB).next().unwrap();
        assert_eq!(job.get("job-id"), Some(&Value::Int(12)));
        assert_eq!(job.attributes[2].values.len(), 2);
        for cut in [3, 9, b.len() - 1] {
            assert!(parse(&b[..cut]).is_err(), "cut at {cut}");
        }
    }
}
