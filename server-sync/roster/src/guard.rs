//! Checks made before `calamine` sees a file, against inputs that would make
//! it allocate without bound (which `catch_unwind` cannot catch: a failed
//! allocation aborts the process).
//!
//! * xlsx: every zip entry is inflated once with a budget (zip bombs), and
//!   a `uniqueCount` attribute (calamine reserves that many strings) must be
//!   modest. `calamine` uses the same `zip` crate, so it reads exactly the
//!   entries checked here.
//! * xls: `calamine` turns each sheet into a dense grid spanning its cells,
//!   and reserves what a DIMENSIONS record claims. The Workbook stream is
//!   taken out of the compound file, its records are walked the way
//!   `calamine` walks them and every cell position and dimension is
//!   bounded; then a fresh compound file holding only that stream is built,
//!   so `calamine` parses exactly the bytes checked here.

use std::io::{Cursor, Read, Write};

use crate::{MAX_COLUMNS, MAX_FILE_BYTES, MAX_TABLE_ROWS, ReadError};

/// Total inflated size of an xlsx's entries.
pub(crate) const MAX_INFLATED_BYTES: u64 = 100 * 1024 * 1024;
/// Largest `uniqueCount` an xlsx may declare (one string per cell of the
/// largest table allowed).
const MAX_UNIQUE_COUNT: u64 = (MAX_TABLE_ROWS * MAX_COLUMNS) as u64;
/// Sheets an xls may have (calamine parses every one).
pub(crate) const MAX_SHEETS: usize = 64;
/// Grid cells (the bounding boxes of all sheets together) calamine may
/// build for an xls: some 140 MB at most.
pub(crate) const MAX_XLS_GRID: u64 = (MAX_TABLE_ROWS * MAX_COLUMNS) as u64;

pub(crate) fn damaged(what: impl std::fmt::Display) -> ReadError {
    ReadError::Damaged(what.to_string())
}

/// Inflates every entry within the budget and checks declared counts.
pub(crate) fn check_xlsx(bytes: &[u8]) -> Result<(), ReadError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| damaged("压缩包不完整或已损坏，可能没有传完"))?;
    let mut budget = MAX_INFLATED_BYTES;
    let mut has_workbook = false;
    let mut buf = Vec::new();
    for i in 0..zip.len() {
        // An entry this crate cannot open, calamine cannot open either.
        let Ok(entry) = zip.by_index(i) else { continue };
        if let Ok(name) = entry.name() {
            let name = name.to_ascii_lowercase();
            has_workbook |= name.ends_with("workbook.xml");
        }
        buf.clear();
        // A read error ends the entry for calamine as well.
        let _ = entry.take(budget + 1).read_to_end(&mut buf);
        let n = buf.len() as u64;
        if n > budget {
            return Err(ReadError::TooLargeInflated);
        }
        budget -= n;
        check_unique_count(&buf)?;
    }
    if !has_workbook {
        return Err(damaged(
            "这是一个 zip 压缩包，但里面没有 Excel 工作簿，可能是 Word 等其他文件",
        ));
    }
    Ok(())
}

/// calamine reserves `uniqueCount` strings up front. It reads the attribute
/// from raw bytes, so looking for the raw name finds every instance.
fn check_unique_count(xml: &[u8]) -> Result<(), ReadError> {
    const NAME: &[u8] = b"uniqueCount";
    let mut at = 0;
    while let Some(i) = find(&xml[at..], NAME) {
        let mut rest = &xml[at + i + NAME.len()..];
        at += i + NAME.len();
        rest = rest.trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        let Some((&quote, value)) = rest.split_first() else {
            continue;
        };
        let value = value.split(|&b| b == quote).next().unwrap_or(value);
        // Whatever the parser makes of the value, it cannot exceed the
        // number its digits spell.
        let digits: Vec<u8> = value
            .iter()
            .copied()
            .filter(u8::is_ascii_digit)
            .skip_while(|&d| d == b'0')
            .collect();
        let big = digits.len() > 12
            || std::str::from_utf8(&digits)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|n| n > MAX_UNIQUE_COUNT);
        if big {
            return Err(damaged(format!(
                "共享字符串表声称有 {} 项",
                String::from_utf8_lossy(value)
            )));
        }
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The compound file rebuilt around its checked Workbook stream.
pub(crate) fn clean_xls(bytes: &[u8]) -> Result<Vec<u8>, ReadError> {
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|_| damaged("不是完整的 Excel 97–2003 文件"))?;
    if cfb.is_stream("/EncryptedPackage") {
        return Err(ReadError::Encrypted);
    }
    let (name, stream) = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| cfb.is_stream(n))
        .map(|n| (n, cfb.open_stream(n)))
        .ok_or_else(|| damaged("文件里没有工作簿"))?;
    let mut data = Vec::new();
    stream
        .map_err(damaged)?
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|_| damaged("工作簿数据不完整"))?;
    if data.len() > MAX_FILE_BYTES {
        return Err(damaged("工作簿数据比文件还大"));
    }
    check_biff(&data)?;
    // Version 3, as Excel writes: calamine refuses a version 4 file whose
    // streams are all too large for the mini stream.
    let mut out = cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
        .map_err(damaged)?;
    let mut s = out.create_stream(name).map_err(damaged)?;
    s.write_all(&data).map_err(damaged)?;
    s.flush().map_err(damaged)?;
    drop(s);
    out.flush().map_err(damaged)?;
    Ok(out.into_inner().into_inner())
}

/// One BIFF record as calamine's `RecordIter` frames it (CONTINUE records
/// following it are skipped, not part of `data`).
struct Record<'a> {
    typ: u16,
    data: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// calamine's record framing; stops where it would report an error.
fn records(mut stream: &[u8]) -> impl Iterator<Item = Record<'_>> {
    std::iter::from_fn(move || {
        let typ = u16_at(stream, 0)?;
        let len = usize::from(u16_at(stream, 2)?);
        let data = stream.get(4..4 + len)?;
        stream = &stream[4 + len..];
        while stream.len() > 4 && u16_at(stream, 0) == Some(0x003C) {
            let len = usize::from(u16_at(stream, 2)?);
            stream = stream.get(4 + len..)?;
        }
        Some(Record { typ, data })
    })
}

/// The rows and columns a sheet's cells span, as calamine's
/// `Range::from_sparse` will.
#[derive(Default)]
struct Span {
    rows: Option<(u32, u32)>,
    cols: Option<(u32, u32)>,
}

impl Span {
    fn add(&mut self, row: u32, col: u32) {
        let grow = |r: Option<(u32, u32)>, v| Some(r.map_or((v, v), |(a, b)| (a.min(v), b.max(v))));
        self.rows = grow(self.rows, row);
        self.cols = grow(self.cols, col);
    }

    fn cells(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1),
            _ => 0,
        }
    }
}

/// Walks the globals and every sheet the way calamine's `parse_workbook`
/// does and bounds what it will allocate.
fn check_biff(stream: &[u8]) -> Result<(), ReadError> {
    let mut sheets = Vec::new();
    for r in records(stream) {
        match r.typ {
            0x0085 => {
                if sheets.len() == MAX_SHEETS {
                    return Err(ReadError::TooManySheets);
                }
                sheets.push(u32_at(r.data, 0).unwrap_or(u32::MAX) as usize);
            }
            0x000A => break,
            _ => {}
        }
    }
    let mut grid = 0u64;
    for pos in sheets {
        let Some(sheet) = stream.get(pos..) else {
            continue;
        };
        grid += check_sheet(sheet)?;
        if grid > MAX_XLS_GRID {
            return Err(ReadError::SheetTooLarge);
        }
    }
    Ok(())
}

/// One sheet's substream; returns its grid size.
fn check_sheet(sheet: &[u8]) -> Result<u64, ReadError> {
    let mut span = Span::default();
    let mut seen_bof = false;
    let mut depth = 0usize;
    for r in records(sheet) {
        if depth > 0 {
            match r.typ {
                0x0809 => depth += 1,
                0x000A => depth -= 1,
                _ => {}
            }
            continue;
        }
        let pos = (u16_at(r.data, 0), u16_at(r.data, 2));
        match r.typ {
            0x0809 if seen_bof => depth += 1,
            0x0809 => seen_bof = true,
            0x0200 => check_dimensions(r.data)?,
            // Number, Label, RString, BoolErr, Rk, LabelSst, Formula.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                if let (Some(row), Some(col)) = pos {
                    span.add(row.into(), col.into());
                }
            }
            // String (a formula's value) lands where the last formula was,
            // (0, 0) before any.
            0x0207 => span.add(0, 0),
            // MulRk: a run of cells from its first column.
            0x00BD => {
                if let (Some(row), Some(first), true) = (pos.0, pos.1, r.data.len() >= 6) {
                    let n = (r.data.len() - 6).div_ceil(6) as u32;
                    span.add(row.into(), first.into());
                    span.add(row.into(), u32::from(first) + n.saturating_sub(1));
                }
            }
            0x000A => break,
            _ => {}
        }
    }
    Ok(span.cells())
}

/// calamine reserves rows × columns of a DIMENSIONS record, computed in
/// `u32` (which wraps in release builds): both must be small and sane.
fn check_dimensions(r: &[u8]) -> Result<(), ReadError> {
    let (rf, rl, cf, cl) = match r.len() {
        10 => (
            u16_at(r, 0).map(u32::from),
            u16_at(r, 2).map(u32::from),
            u16_at(r, 4),
            u16_at(r, 6),
        ),
        14 | 16 => (u32_at(r, 0), u32_at(r, 4), u16_at(r, 8), u16_at(r, 10)),
        _ => return Ok(()), // calamine refuses the record
    };
    let (Some(rf), Some(rl), Some(mut cf), Some(cl)) = (rf, rl, cf, cl) else {
        return Ok(());
    };
    if cf > 0xFF || cl < cf {
        cf = 0;
    }
    let (start, end) = if rl >= 1 && cl >= 1 {
        ((rf, u32::from(cf)), (rl - 1, u32::from(cl) - 1))
    } else {
        ((rf, u32::from(cf)), (rf, u32::from(cf)))
    };
    let rows = end.0.checked_sub(start.0).and_then(|n| n.checked_add(1));
    let cols = end.1.checked_sub(start.1).and_then(|n| n.checked_add(1));
    match (rows, cols) {
        (Some(rows), Some(cols)) if (rows as usize) <= MAX_TABLE_ROWS && cols <= 256 => Ok(()),
        (Some(_), Some(_)) => Err(ReadError::SheetTooLarge),
        _ => Err(damaged("工作表的尺寸记录不合理")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_count_is_bounded_whatever_its_spelling() {
        assert!(check_unique_count(br#"<sst count="3" uniqueCount="3">"#).is_ok());
        assert_eq!(MAX_UNIQUE_COUNT, 2_505_000);
        assert!(check_unique_count(b"<sst uniqueCount = '2505000'>").is_ok());
        for bad in [
            &br#"<sst uniqueCount="99999999999999999">"#[..],
            b"<sst uniqueCount = '2505001'>",
            br#"<x:sst uniqueCount="+0000000000000000000000000000099999999">"#,
        ] {
            assert!(
                check_unique_count(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(check_unique_count(b"uniqueCount").is_ok());
    }

    #[test]
    fn dimensions_like_calamine() {
        let dims = |rf: u32, rl: u32, cf: u16, cl: u16| {
            let mut r = Vec::new();
            r.extend(rf.to_le_bytes());
            r.extend(rl.to_le_bytes());
            r.extend(cf.to_le_bytes());
            r.extend(cl.to_le_bytes());
            r.extend([0, 0]);
            check_dimensions(&r)
        };
        assert!(dims(0, 0, 0, 0).is_ok()); // an empty sheet
        assert!(dims(0, 10, 0, 5).is_ok());
        assert!(dims(0, MAX_TABLE_ROWS as u32, 0, 256).is_ok());
        assert_eq!(dims(0, u32::MAX, 0, 255), Err(ReadError::SheetTooLarge));
        assert_eq!(dims(0, 10, 0, 257), Err(ReadError::SheetTooLarge));
        assert!(matches!(dims(20, 10, 0, 5), Err(ReadError::Damaged(_))));
        assert!(matches!(dims(0, 10, 5, 5), Err(ReadError::Damaged(_))));
        assert!(check_dimensions(&[1, 2, 3]).is_ok());
    }

    #[test]
    fn record_framing_skips_continues_and_stops_on_short_data() {
        let bytes = [
            0x03, 0x02, 2, 0, 7, 7, 0x3C, 0, 1, 0, 9, 0x0A, 0, 0, 0, 0x0A, 0, 5, 0,
        ];
        let recs: Vec<_> = records(&bytes).map(|r| (r.typ, r.data.to_vec())).collect();
        assert_eq!(recs, [(0x0203, vec![7, 7]), (0x000A, vec![])]);
    }
}
