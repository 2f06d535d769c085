//! The watermark on pages that show many people (S5; 002 §(九) 6.2.6:
//! 批量展示敏感数据时应使用水印): the signed-in user's name and the time,
//! in light diagonal text repeated over the whole page, so a photo or a
//! screenshot of a list says who looked at it and when.
//!
//! Drawn as an inline `<svg>` that the server writes into each page as it
//! renders it (per request, so the time is the time of the view), laid
//! over the page by `staff.css` (`.watermark`: fixed, full size, no
//! pointer events). The repetition is an SVG `<pattern>`, the look SVG
//! presentation attributes: no inline style and no `data:` URL, so the
//! Content-Security-Policy stays `'self'` only (a CSS background from a
//! `data:` image would need `img-src data:`, which would let any injected
//! markup load arbitrary inline images too).

use chrono::{DateTime, Utc};

/// The markup for `user` at `at` (pure). The name is the account's, which
/// is limited to `[A-Za-z0-9_.-]`, but it is escaped all the same.
pub(crate) fn svg(user: &str, at: DateTime<Utc>) -> String {
    let when = at
        .with_timezone(&exam_domain::centre_offset())
        .format("%Y-%m-%d %H:%M");
    let text = escape(&format!("{user} · {when}"));
    format!(
        concat!(
            r##"<svg class="watermark" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg" width="100%" height="100%">"##,
            r##"<defs><pattern id="watermark" width="560" height="220" patternUnits="userSpaceOnUse" patternTransform="rotate(-25)">"##,
            r##"<text x="10" y="60" fill="#0d3b66" fill-opacity="0.09" font-size="18" font-family="sans-serif">{t}</text>"##,
            r##"<text x="290" y="170" fill="#0d3b66" fill-opacity="0.09" font-size="18" font-family="sans-serif">{t}</text>"##,
            r#"</pattern></defs><rect width="100%" height="100%" fill="url(#watermark)"/></svg>"#
        ),
        t = text
    )
}

/// The markup for `user` now: what the templates call.
pub(crate) fn html(user: &str) -> String {
    svg(user, Utc::now())
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_the_user_and_the_local_time_and_carries_no_style() {
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 1, 30, 0).unwrap();
        let s = svg("desk.li", at);
        assert!(s.contains("desk.li · 2026-12-05 09:30"), "{s}");
        assert_eq!(s.matches("desk.li").count(), 2, "repeated in the tile");
        assert!(s.contains("rotate(-25)") && s.contains("fill=\"url(#watermark)\""));
        // Nothing the Content-Security-Policy would refuse.
        assert!(!s.contains("style=") && !s.contains("data:") && !s.contains("<script"));
    }

    #[test]
    fn markup_in_a_name_is_escaped() {
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 1, 30, 0).unwrap();
        let s = svg("<b>x</b>\"&", at);
        assert!(s.contains("&lt;b&gt;x&lt;/b&gt;&quot;&amp;"), "{s}");
        assert!(!s.contains("<b>"));
    }
}
