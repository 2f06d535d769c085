//! Damaged and hostile files: whatever the bytes, `import` answers with a
//! roster or an error, never a panic. A quick, deterministic stand-in for
//! the `roster_import` fuzz target (fuzz/fuzz_targets/roster_import.rs).

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Cursor, Read, Write};

use common::{Rng, id, strings, text_xlsx};
use exam_roster::{ImportError, ReadError, import};

const XLS: &[u8] = include_bytes!("fixtures/roster.xls");

fn good_xlsx() -> Vec<u8> {
    text_xlsx(
        &["姓名", "身份证号", "性别"],
        &[
            strings(&["张三", &id(1980, 1, 2, 11), "男"]),
            strings(&["李四", &id(1990, 5, 6, 22), "女"]),
        ],
    )
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(b.len());
        match rng.below(5) {
            0 => b[at] = rng.next() as u8,
            1 => b[at] ^= 1 << rng.below(8),
            2 => b.truncate(at.max(1)),
            3 => b.insert(at, rng.next() as u8),
            // An interesting little-endian number: 0, -1, a big one.
            _ => {
                let v: u32 = [0, u32::MAX, 0x7FFF_FFFF, 0xFFFF][rng.below(4)];
                for (i, x) in v.to_le_bytes().into_iter().enumerate() {
                    if let Some(c) = b.get_mut(at + i) {
                        *c = x;
                    }
                }
            }
        }
    }
    b
}

/// The panic hook stays quiet while calamine's panics are caught inside
/// `import`; a panic escaping `import` still fails the test.
fn import_all(bytes: &[u8]) {
    for name in ["x.xlsx", "x.xls", "x.csv"] {
        let _ = import(name, bytes);
    }
}

#[test]
fn mutated_spreadsheets_never_panic() {
    let xlsx = good_xlsx();
    let csv = format!("姓名,身份证号\n\"张三\",{}\n", id(1980, 1, 2, 11)).into_bytes();
    // ROSTER_MUTATIONS=100000 for a longer run where cargo-fuzz is missing.
    let iterations: usize = std::env::var("ROSTER_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for i in 0..iterations {
            let seed: &[u8] = match i % 3 {
                0 => &xlsx,
                1 => XLS,
                _ => &csv,
            };
            import_all(&mutate(&mut rng, seed));
        }
    }));
    std::panic::set_hook(hook);
    assert!(result.is_ok(), "a panic escaped import");
}

/// Rebuilds an xlsx with one entry's content replaced.
fn replace_entry(xlsx: &[u8], name: &str, f: impl Fn(String) -> String) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut e = zin.by_index(i).unwrap();
        let entry_name = e.name().unwrap().to_string();
        let mut body = Vec::new();
        e.read_to_end(&mut body).unwrap();
        if entry_name == name {
            body = f(String::from_utf8(body).unwrap()).into_bytes();
        }
        out.start_file(entry_name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&body).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn a_huge_declared_string_count_is_refused() {
    let xlsx = good_xlsx();
    let patched = replace_entry(&xlsx, "xl/sharedStrings.xml", |s| {
        let at = s.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
        let end = at + s[at..].find('"').unwrap();
        format!("{}99999999999999999{}", &s[..at], &s[end..])
    });
    match import("x.xlsx", &patched) {
        Err(ImportError::Read(ReadError::Damaged(m))) => assert!(m.contains("共享字符串"), "{m}"),
        other => panic!("{other:?}"),
    }
    // The same file untouched reads.
    assert_eq!(
        import("x.xlsx", &replace_entry(&xlsx, "none", |s| s))
            .unwrap()
            .rows
            .len(),
        2
    );
}

#[test]
fn a_zip_bomb_is_refused() {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    out.start_file("xl/workbook.xml", options).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..101 {
        out.write_all(&zeros).unwrap();
    }
    let bytes = out.finish().unwrap().into_inner();
    assert!(bytes.len() < 1 << 20, "{}", bytes.len());
    match import("x.xlsx", &bytes) {
        Err(ImportError::Read(ReadError::TooLargeInflated)) => {}
        other => panic!("{other:?}"),
    }
}
