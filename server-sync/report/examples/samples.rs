//! Writes the sample reports as PDF into a folder (the pictures in `docs/`
//! are their pages through pdftoppm):
//! `cargo run -p exam-report --example samples -- /tmp/reports`

use exam_report::model::ExamKind;
use exam_report::{Fonts, sample};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "reports".into());
    std::fs::create_dir_all(&dir)?;
    let fonts = Fonts::noto_sans_sc(None)?;
    for (kind, name) in [
        (ExamKind::Health, "personal"),
        (ExamKind::Occupational, "occupational"),
        (ExamKind::Entry, "entry"),
    ] {
        let pdf = exam_report::personal(&fonts, &sample::personal(kind))?;
        std::fs::write(format!("{dir}/{name}.pdf"), pdf)?;
    }
    std::fs::write(
        format!("{dir}/group-book.pdf"),
        exam_report::group_book(&fonts, &sample::group_book(120))?,
    )?;
    println!("written to {dir}");
    Ok(())
}
