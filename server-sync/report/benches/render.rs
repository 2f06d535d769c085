//! Report rendering speed and memory, printed as a table:
//! `cargo bench -p exam-report --bench render -- --people 1000 --runs 20`
//!
//! The group book is made first, so the process's peak resident memory
//! (VmHWM) is the book's, with the fonts loaded; then the 12-page personal
//! report with its charts, `runs` times on this one thread (median and
//! slowest). Targets (issue E9): personal ≤ 300 ms, book ≤ 2 min and
//! ≤ 300 MB.

use std::time::Instant;

use exam_report::model::ExamKind;
use exam_report::{Fonts, sample};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let people = arg("--people", 1000) as u32;
    let runs = arg("--runs", 20).max(1);
    let t = Instant::now();
    let fonts = Fonts::noto_sans_sc(None).expect("fonts-noto-cjk");
    let load = t.elapsed();
    let rss_fonts = status_kb("VmRSS:");

    let t = Instant::now();
    let book = sample::group_book(people);
    let pdf = exam_report::group_book(&fonts, &book).expect("book");
    let book_time = t.elapsed();
    let book_pages = exam_report::group_pages(&fonts, &book).len();
    let peak = status_kb("VmHWM:");

    let r = sample::personal(ExamKind::Health);
    let pages = exam_report::personal_pages(&fonts, &r).len();
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        bytes = exam_report::personal(&fonts, &r).expect("report").len();
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;

    println!("| what | figure | target |");
    println!("|---|---|---|");
    println!(
        "| fonts loaded (Noto Sans CJK SC regular + bold) | {:.0} ms, RSS {} MB | |",
        ms(load),
        rss_fonts / 1024
    );
    println!(
        "| personal report, {pages} pages with 6 trend charts, median of {runs} | {:.0} ms ({} KB) | ≤ 300 ms |",
        ms(times[runs / 2]),
        bytes / 1024
    );
    println!(
        "| personal report, slowest | {:.0} ms | |",
        ms(*times.last().unwrap())
    );
    println!(
        "| group book, {people} people, {book_pages} pages | {:.0} ms ({} KB) | ≤ 120 s |",
        ms(book_time),
        pdf.len() / 1024
    );
    println!(
        "| peak resident memory (VmHWM) | {} MB | ≤ 300 MB |",
        peak / 1024
    );
}
