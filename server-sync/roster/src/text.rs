//! CSV: decoding (Chinese Excel saves CSV in GBK) and parsing.

use std::borrow::Cow;

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

use crate::{ReadError, TableBuilder};

/// The file's text: UTF-8 (with or without BOM), UTF-16 with a BOM, else
/// GB18030 (a superset of GBK). Binary content is refused.
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ReadError> {
    let text: Cow<'_, str> = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Cow::Borrowed(std::str::from_utf8(rest).map_err(|_| ReadError::NotText)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        UTF_16LE
            .decode_without_bom_handling_and_without_replacement(rest)
            .ok_or(ReadError::NotText)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        UTF_16BE
            .decode_without_bom_handling_and_without_replacement(rest)
            .ok_or(ReadError::NotText)?
    } else if let Ok(s) = std::str::from_utf8(bytes) {
        Cow::Borrowed(s)
    } else {
        GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or(ReadError::NotText)?
    };
    // Text has no control characters but tab, CR, LF (and the odd form feed).
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n' | '\x0c'))
    {
        return Err(ReadError::NotText);
    }
    Ok(text)
}

/// Comma-separated, or tab-separated if the first line has tabs and no
/// commas (Excel's “Unicode text”).
fn delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.contains('\t') && !first.contains(',') {
        b'\t'
    } else {
        b','
    }
}

/// Empty lines at `at`, where the previous record ended (its CRLF
/// terminator may have been read up to the CR only).
fn blank_lines(bytes: &[u8], mut at: usize) -> usize {
    if at > 0 && bytes.get(at - 1) == Some(&b'\r') && bytes.get(at) == Some(&b'\n') {
        at += 1;
    }
    let mut n = 0;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'\n' => at += 1,
            b'\r' if bytes.get(at + 1) == Some(&b'\n') => at += 2,
            b'\r' => at += 1,
            _ => break,
        }
        n += 1;
    }
    n
}

pub(crate) fn read_csv(text: &str) -> Result<Vec<Vec<String>>, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text.as_bytes());
    let mut table = TableBuilder::default();
    let mut record = csv::StringRecord::new();
    // The csv reader skips empty lines, a spreadsheet shows them as empty
    // rows: row numbers follow the spreadsheet, counting the line breaks
    // that lead each record's bytes.
    let bytes = text.as_bytes();
    let mut row = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(ReadError::Csv(format!("第 {} 行：{e}", row + 1))),
        }
        let start = record.position().map_or(0, |p| p.byte());
        row = row.saturating_add(blank_lines(
            bytes,
            usize::try_from(start).unwrap_or(usize::MAX),
        ));
        for (col, cell) in record.iter().enumerate() {
            table.put(row, col, cell.to_string())?;
        }
        row = row.saturating_add(1);
    }
    Ok(table.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_gbk_and_utf16() {
        assert_eq!(decode("姓名,身份证号".as_bytes()).unwrap(), "姓名,身份证号");
        assert_eq!(decode(b"\xEF\xBB\xBFa,b").unwrap(), "a,b");
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,身份证号\r\n张三,1");
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(decode(&gbk).unwrap(), "姓名,身份证号\r\n张三,1");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("姓名\t身份证号".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16).unwrap(), "姓名\t身份证号");
        assert_eq!(decode(b"a,b\x00c"), Err(ReadError::NotText));
        assert_eq!(decode(&[0x81, 0x20]), Err(ReadError::NotText));
        assert_eq!(decode(b"\xEF\xBB\xBF\xFF"), Err(ReadError::NotText));
    }

    #[test]
    fn tab_separated_when_the_first_line_says_so() {
        let t = read_csv("\n姓名\t身份证号\r\n张三\t1").unwrap();
        assert_eq!(t[1], ["姓名", "身份证号"]);
        assert_eq!(t[2], ["张三", "1"]);
        assert_eq!(read_csv("a,b\tc").unwrap()[0], ["a", "b\tc"]);
    }

    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them() {
        for nl in ["\n", "\r\n", "\r"] {
            let csv = format!("a,b{nl}{nl}\"x{nl}y\",\"1,2\"{nl}{nl}{nl}last{nl}{nl}");
            let t = read_csv(&csv).unwrap();
            assert_eq!(t.len(), 6, "{csv:?}: {t:?}");
            assert_eq!(t[0], ["a", "b"]);
            assert!(t[1].is_empty());
            assert_eq!(t[2], [format!("x{nl}y").as_str(), "1,2"]);
            assert!(t[3].is_empty() && t[4].is_empty());
            assert_eq!(t[5], ["last"]);
        }
        assert_eq!(read_csv("\r\n\r\nx").unwrap().len(), 3);
    }
}
