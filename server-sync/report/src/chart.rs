//! Charts as display-list operations: a key indicator's trend over the
//! years with its reference band, and horizontal bars for counts.

use crate::layout::{ACCENT, BAND, BLACK, Flow, GREY, MARGIN_X, Op, RED, RULE, Rgb, WIDTH};
use crate::model::{Count, Trend};

/// Round bounds for an axis holding `lo..=hi`.
fn axis(lo: f64, hi: f64) -> (f64, f64) {
    let span = (hi - lo).abs().max(hi.abs() * 0.1).max(1e-6);
    let step = 10f64.powf((span / 4.0).log10().floor());
    let lo = ((lo - span * 0.15) / step).floor() * step;
    let hi = ((hi + span * 0.15) / step).ceil() * step;
    (lo, hi)
}

fn label(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A trend chart `w` × `h` points at (x, y) on the flow's current page.
pub fn trend(flow: &mut Flow, t: &Trend, x: f32, y: f32, w: f32, h: f32) {
    let title = if t.unit.is_empty() {
        t.name.clone()
    } else {
        format!("{}（{}）", t.name, t.unit)
    };
    flow.text(x, y + 12.0, 10.0, true, BLACK, &title);
    let (px, py, pw, ph) = (x + 30.0, y + 22.0, w - 42.0, h - 40.0);
    let mut lo = t.points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let mut hi = t
        .points
        .iter()
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max);
    if let Some((a, b)) = t.range {
        lo = lo.min(a);
        hi = hi.max(b);
    }
    if !lo.is_finite() {
        return;
    }
    let (lo, hi) = axis(lo, hi);
    let to_y = |v: f64| py + ph - ((v - lo) / (hi - lo)) as f32 * ph;
    if let Some((a, b)) = t.range {
        let (top, bottom) = (to_y(b), to_y(a));
        flow.push(Op::Rect {
            x: px,
            y: top,
            w: pw,
            h: bottom - top,
            fill: Some(BAND),
            stroke: None,
        });
    }
    for v in [lo, (lo + hi) / 2.0, hi] {
        let gy = to_y(v);
        flow.push(Op::Line {
            points: vec![(px, gy), (px + pw, gy)],
            width: 0.4,
            color: RULE,
        });
        let l = label(v);
        let lw = flow.width(&l, 7.5, false);
        flow.text(px - 4.0 - lw, gy + 2.5, 7.5, false, GREY, &l);
    }
    let n = t.points.len();
    let step = if n > 1 { pw / (n - 1) as f32 } else { 0.0 };
    let at = |i: usize| {
        if n > 1 {
            px + step * i as f32
        } else {
            px + pw / 2.0
        }
    };
    let points: Vec<(f32, f32)> = t
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| (at(i), to_y(p.1)))
        .collect();
    if points.len() > 1 {
        flow.push(Op::Line {
            points: points.clone(),
            width: 1.4,
            color: ACCENT,
        });
    }
    for (i, ((year, v), (cx, cy))) in t.points.iter().zip(&points).enumerate() {
        let out = t.range.is_some_and(|(a, b)| *v < a || *v > b);
        let color: Rgb = if out { RED } else { ACCENT };
        flow.push(Op::Dot {
            x: *cx,
            y: *cy,
            r: 2.4,
            color,
        });
        let l = label(*v);
        let lw = flow.width(&l, 7.5, false);
        flow.text(cx - lw / 2.0, cy - 5.0, 7.5, out, color, &l);
        let yw = flow.width(year, 7.5, false);
        let _ = i;
        flow.text(cx - yw / 2.0, py + ph + 11.0, 7.5, false, GREY, year);
    }
}

/// Horizontal bars, one per count, as a share of `of`.
pub fn bars(flow: &mut Flow, counts: &[Count], of: u32, color: Rgb) {
    const ROW: f32 = 17.0;
    let label_w = 150.0;
    let bar_w = WIDTH - label_w - 90.0;
    let most = counts.iter().map(Count::people).max().unwrap_or(1).max(1);
    for c in counts {
        flow.need(ROW);
        let y = flow.y;
        flow.text(MARGIN_X, y + 12.0, 9.0, false, BLACK, &c.label);
        let w = bar_w * c.people() as f32 / most as f32;
        flow.push(Op::Rect {
            x: MARGIN_X + label_w,
            y: y + 3.0,
            w: w.max(0.5),
            h: ROW - 6.0,
            fill: Some(color),
            stroke: None,
        });
        let share = if of == 0 {
            0.0
        } else {
            f64::from(c.people()) * 100.0 / f64::from(of)
        };
        let text = format!("{} 人 {:.1}%", c.people(), share);
        flow.text(
            MARGIN_X + label_w + w + 6.0,
            y + 12.0,
            8.5,
            false,
            GREY,
            &text,
        );
        flow.y += ROW;
    }
}

#[cfg(test)]
mod tests {
    use super::axis;

    #[test]
    fn the_axis_holds_the_values_with_room() {
        let (lo, hi) = axis(4.1, 6.8);
        assert!(lo < 4.1 && hi > 6.8, "{lo}..{hi}");
        let (lo, hi) = axis(120.0, 120.0);
        assert!(lo < 120.0 && hi > 120.0, "{lo}..{hi}");
    }
}
