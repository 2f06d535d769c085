//! A bounded, namespace-aware XML tree over quick-xml, and escaping for the
//! XML we write. Outside bytes reach quick-xml only through `parse`: a size,
//! depth and element-count limit, no DTD (so no entity of its own can be
//! declared, let alone expanded), only the five predefined entities and
//! character references.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

pub const MAX_BYTES: usize = 1024 * 1024;
pub const MAX_DEPTH: usize = 32;
pub const MAX_ELEMENTS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI, `None` when the name is in no namespace.
    pub ns: Option<String>,
    pub name: String,
    pub children: Vec<Element>,
    /// Text content (character data and CDATA of this element itself).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("document larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("more than {MAX_ELEMENTS} elements")]
    TooMany,
    #[error("a DTD is not accepted")]
    Doctype,
    #[error("undeclared namespace prefix {0:?}")]
    UnknownPrefix(String),
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    #[error("not one root element")]
    NoRoot,
    #[error("not well-formed: {0}")]
    Syntax(String),
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.name == name
    }

    /// The first child with this name in this namespace.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The child's text, trimmed (XML Schema's whitespace collapse for the
    /// simple types we use).
    pub fn child_text(&self, ns: &str, name: &str) -> Option<&str> {
        self.child(ns, name).map(|c| c.text.trim())
    }
}

fn resolved_ns(r: ResolveResult<'_>) -> Result<Option<String>, XmlError> {
    match r {
        ResolveResult::Bound(ns) => Ok(Some(ns.0.to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(XmlError::UnknownPrefix(p)),
    }
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Parses one document into its root element.
pub fn parse(input: &[u8]) -> Result<Element, XmlError> {
    if input.len() > MAX_BYTES {
        return Err(XmlError::TooLarge);
    }
    let text = std::str::from_utf8(input).map_err(|e| XmlError::Syntax(e.to_string()))?;
    // A UTF-8 byte order mark is allowed before the declaration.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| XmlError::Syntax(e.to_string()))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(XmlError::NoRoot);
                }
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooMany);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(Element {
                    ns: resolved_ns(ns)?,
                    name: start.local_name().as_ref().to_owned(),
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            Event::End(_) => {
                let done = stack.pop().ok_or(XmlError::NoRoot)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Empty(_) => unreachable_empty()?,
            Event::Text(t) => {
                let content = t.xml10_content();
                match stack.last_mut() {
                    Some(e) => push_text(&mut e.text, &content)?,
                    None if content.trim().is_empty() => {}
                    None => return Err(XmlError::NoRoot),
                }
            }
            Event::CData(c) => match stack.last_mut() {
                Some(e) => push_text(&mut e.text, &c.xml10_content())?,
                None => return Err(XmlError::NoRoot),
            },
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch,
                    Ok(None) => predefined_entity(&r)
                        .ok_or_else(|| XmlError::UnknownEntity(r.to_string()))?,
                    Err(e) => return Err(XmlError::Syntax(e.to_string())),
                };
                let e = stack.last_mut().ok_or(XmlError::NoRoot)?;
                let mut b = [0u8; 4];
                push_text(&mut e.text, ch.encode_utf8(&mut b))?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax("unclosed element".into()));
    }
    root.ok_or(XmlError::NoRoot)
}

/// `expand_empty_elements` turns `<a/>` into Start + End; an Empty event
/// would mean the configuration was lost.
fn unreachable_empty() -> Result<(), XmlError> {
    Err(XmlError::Syntax("unexpanded empty element".into()))
}

fn push_text(into: &mut String, more: &str) -> Result<(), XmlError> {
    if into.len() + more.len() > MAX_BYTES {
        return Err(XmlError::TooLarge);
    }
    into.push_str(more);
    Ok(())
}

/// Text for an XML 1.0 text node or attribute: markup escaped, and the
/// characters XML 1.0 cannot carry at all (most C0 controls, lone
/// surrogates cannot occur in `str`, U+FFFE/U+FFFF) replaced by U+FFFD, so
/// no value we are given can break the document.
pub fn escape(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
    };
    if s.chars().all(allowed) {
        quick_xml::escape::escape(s)
    } else {
        let cleaned: String = s
            .chars()
            .map(|c| if allowed(c) { c } else { '\u{fffd}' })
            .collect();
        Cow::Owned(quick_xml::escape::escape(cleaned.as_str()).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_prefixes_entities_and_cdata() {
        let doc = br#"<?xml version="1.0"?>
<s:Envelope xmlns:s="urn:s" xmlns:h="urn:h"><s:Body><h:X a="1">a &amp; b&#x4E2D;<![CDATA[<c>]]></h:X><Y xmlns="urn:d">y</Y></s:Body></s:Envelope>"#;
        let root = parse(doc).expect("parses");
        assert!(root.is("urn:s", "Envelope"));
        let body = root.child("urn:s", "Body").expect("body");
        assert_eq!(body.child_text("urn:h", "X"), Some("a & b中<c>"));
        assert_eq!(body.child_text("urn:d", "Y"), Some("y"));
    }

    #[test]
    fn refuses_what_could_hurt() {
        let bomb = br#"<!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><a>&x;</a>"#;
        assert_eq!(parse(bomb), Err(XmlError::Doctype));
        assert!(matches!(
            parse(b"<a>&x;</a>"),
            Err(XmlError::UnknownEntity(_))
        ));
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
        assert!(matches!(parse(b"<p:a/>"), Err(XmlError::UnknownPrefix(_))));
        assert!(matches!(parse(b"<a></b>"), Err(XmlError::Syntax(_))));
        assert_eq!(parse(b"<a/><b/>"), Err(XmlError::NoRoot));
        assert_eq!(parse(b""), Err(XmlError::NoRoot));
        assert!(matches!(parse(b"<a>"), Err(XmlError::Syntax(_))));
    }

    #[test]
    fn escaping_keeps_any_string_inside_its_node() {
        let nasty = "</x><y>&\"'\u{0}\u{1b}";
        let doc = format!("<x>{}</x>", escape(nasty));
        let root = parse(doc.as_bytes()).expect("still one element");
        assert_eq!(root.text, "</x><y>&\"'\u{fffd}\u{fffd}");
    }
}
