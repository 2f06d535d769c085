//! Exam reports as PDF (E9): the personal report and the company's group
//! report book, generated from data.
//!
//! Three steps, each testable alone: the [`model`] says what a report
//! shows; the layout flows it down A4 pages into display lists (page
//! breaks, wrapping, tables, charts), so the page count is known before
//! anything is written (第 n 页 共 N 页, the book's contents); the
//! emitter writes the lists with krilla, which embeds and subsets the CJK
//! font with a ToUnicode map (the text is searchable and copyable).
//!
//! ```no_run
//! let fonts = exam_report::Fonts::noto_sans_sc(None)?;
//! # let report: exam_report::model::Personal = todo!();
//! let pdf = exam_report::personal(&fonts, &report)?;
//! # Ok::<(), exam_report::Error>(())
//! ```

mod chart;
mod emit;
mod font;
mod group;
mod layout;
pub mod model;
mod personal;
#[doc(hidden)]
pub mod sample;
mod slip;

pub use font::{Face, Fonts};
pub use layout::{Op, Page};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("font: {0}")]
    Font(String),
    #[error("signature image: {0}")]
    Image(String),
    #[error("PDF: {0}")]
    Pdf(String),
}

/// The personal report's pages, laid out (tests look at these).
pub fn personal_pages(fonts: &Fonts, r: &model::Personal) -> Vec<Page> {
    let mut flow = layout::Flow::new(fonts);
    personal::lay_out(&mut flow, r);
    let right = format!("{}　{}　{}", r.name, r.exam_no, r.exam_date);
    let mut pages = flow.pages;
    running(
        fonts,
        &mut pages,
        &format!("{} · {}", r.centre.name, r.kind.title()),
        &right,
    );
    pages
}

/// The personal report as PDF.
pub fn personal(fonts: &Fonts, r: &model::Personal) -> Result<Vec<u8>, Error> {
    let pages = personal_pages(fonts, r);
    let title = format!("{} {}", r.name, r.kind.title());
    emit::pdf(fonts, &pages, &title, r.signature.as_deref())
}

/// The group book's pages, laid out.
pub fn group_pages(fonts: &Fonts, b: &model::GroupBook) -> Vec<Page> {
    let mut flow = layout::Flow::new(fonts);
    group::lay_out(&mut flow, b);
    let mut pages = flow.pages;
    running(
        fonts,
        &mut pages,
        &format!("{} · 团体健康体检报告", b.centre.name),
        &b.company,
    );
    pages
}

/// The group book as PDF.
pub fn group_book(fonts: &Fonts, b: &model::GroupBook) -> Result<Vec<u8>, Error> {
    let pages = group_pages(fonts, b);
    emit::pdf(
        fonts,
        &pages,
        &format!("{} 团体健康体检报告", b.company),
        None,
    )
}

/// The company's batch pickup slip as PDF.
pub fn pickup_slip(fonts: &Fonts, s: &model::PickupSlip) -> Result<Vec<u8>, Error> {
    let mut flow = layout::Flow::new(fonts);
    slip::lay_out(&mut flow, s);
    let mut pages = flow.pages;
    running(
        fonts,
        &mut pages,
        &format!("{} · 体检报告领取单", s.centre.name),
        &s.company,
    );
    emit::pdf(
        fonts,
        &pages,
        &format!("{} 体检报告领取单", s.company),
        None,
    )
}

/// Several PDFs as one, every page as it was (batch printing of the
/// published reports: what each person got, not a new rendering).
pub fn merge(pdfs: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
    use krilla::pdf::{Pdf, PdfDocument};
    let mut doc = krilla::Document::new();
    for (i, bytes) in pdfs.iter().enumerate() {
        let pdf = Pdf::new(bytes.clone())
            .map_err(|_| Error::Pdf(format!("document {} is not a readable PDF", i + 1)))?;
        let pages: Vec<usize> = (0..pdf.pages().len()).collect();
        doc.embed_pdf_pages(&PdfDocument::new(std::sync::Arc::new(pdf)), &pages);
    }
    doc.finish().map_err(|e| Error::Pdf(format!("{e:?}")))
}

/// Header and footer on every page but the cover.
fn running(fonts: &Fonts, pages: &mut [Page], left: &str, right: &str) {
    use layout::{GREY, MARGIN_X, Op, PAGE_H, PAGE_W, RULE, WIDTH};
    let total = pages.len();
    let size = 8.5;
    let rw = fonts.regular.width(right, size);
    for (i, page) in pages.iter_mut().enumerate() {
        if page.bare {
            continue;
        }
        let footer = format!("第 {} 页 共 {} 页", i + 1, total);
        let fw = fonts.regular.width(&footer, size);
        let text = |x, y, text: &str| Op::Text {
            x,
            y,
            size,
            bold: false,
            color: GREY,
            text: text.to_string(),
        };
        page.ops.push(text(MARGIN_X, 40.0, left));
        page.ops.push(text(MARGIN_X + WIDTH - rw, 40.0, right));
        page.ops.push(Op::Line {
            points: vec![(MARGIN_X, 46.0), (MARGIN_X + WIDTH, 46.0)],
            width: 0.5,
            color: RULE,
        });
        page.ops
            .push(text((PAGE_W - fw) / 2.0, PAGE_H - 30.0, &footer));
    }
}
