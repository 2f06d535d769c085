//! The company's group report book: cover, contents, the people examined
//! by age and sex, abnormal findings by frequency with charts, the major
//! abnormal results, advice, and everyone's main conclusions.

use crate::chart;
use crate::layout::{ACCENT, BLACK, Cell, Col, Flow, GREY, MARGIN_X, Op, PAGE_W, WIDTH};
use crate::model::{Count, GroupBook};

/// The sections, in order, as the contents lists them.
const SECTIONS: [&str; 6] = [
    "一、体检概况",
    "二、年龄与性别分布",
    "三、主要异常结果统计",
    "四、重要异常结果人员名单",
    "五、健康建议",
    "六、人员体检结论一览",
];

pub(crate) fn lay_out(flow: &mut Flow, b: &GroupBook) {
    cover(flow, b);
    // The contents page is filled once the sections' pages are known.
    flow.new_page();
    let contents_page = flow.at();
    let mut starts = Vec::with_capacity(SECTIONS.len());

    flow.new_page();
    starts.push(flow.at() + 1);
    flow.heading(SECTIONS[0], 40.0);
    let rate = if b.booked == 0 {
        0.0
    } else {
        f64::from(b.examined) * 100.0 / f64::from(b.booked)
    };
    let (men, women) = b
        .by_age
        .iter()
        .fold((0, 0), |(m, w), (_, a, c)| (m + a, w + c));
    flow.para(
        &format!(
            "{} 于 {} 在本中心进行健康体检，应检 {} 人，实检 {} 人（男 {} 人，女 {} 人），受检率 {:.1}%。",
            b.company, b.period, b.booked, b.examined, men, women, rate
        ),
        10.5,
        BLACK,
        0.0,
    );
    let with_abnormal = b
        .members
        .iter()
        .filter(|m| m.conclusions != "未见明显异常")
        .count();
    flow.para(
        &format!(
            "有异常结果者 {} 人；重要异常结果 {} 人次，均已通知本人并随访。",
            with_abnormal,
            b.majors.len()
        ),
        10.5,
        BLACK,
        0.0,
    );

    starts.push(flow.at() + 1);
    flow.heading(SECTIONS[1], 120.0);
    let rows: Vec<Vec<Cell>> = b
        .by_age
        .iter()
        .map(|(band, m, w)| {
            vec![
                Cell::plain(band),
                Cell::plain(m.to_string()),
                Cell::plain(w.to_string()),
                Cell::plain((m + w).to_string()),
            ]
        })
        .collect();
    let cols = [
        Col {
            share: 2.0,
            right: false,
        },
        Col {
            share: 1.0,
            right: true,
        },
        Col {
            share: 1.0,
            right: true,
        },
        Col {
            share: 1.0,
            right: true,
        },
    ];
    flow.table(&cols, &["年龄段", "男", "女", "合计"], &rows);
    flow.y += 10.0;
    let by_band: Vec<Count> = b
        .by_age
        .iter()
        .map(|(band, m, w)| Count {
            label: band.clone(),
            men: *m,
            women: *w,
        })
        .collect();
    chart::bars(flow, &by_band, b.examined, ACCENT);

    starts.push(flow.at() + 1);
    flow.heading(SECTIONS[2], 120.0);
    flow.para("按检出人数排序；比例为占实检人数的百分比。", 9.0, GREY, 0.0);
    flow.y += 4.0;
    chart::bars(flow, &b.findings, b.examined, (0xe0, 0x8a, 0x1e));
    flow.y += 10.0;
    let (men, women) = (men.max(1), women.max(1));
    let pct = |n: u32, of: u32| format!("{n}（{:.1}%）", f64::from(n) * 100.0 / f64::from(of));
    let rows: Vec<Vec<Cell>> = b
        .findings
        .iter()
        .map(|c| {
            vec![
                Cell::plain(&c.label),
                Cell::plain(pct(c.men, men)),
                Cell::plain(pct(c.women, women)),
                Cell::plain(pct(c.people(), b.examined.max(1))),
            ]
        })
        .collect();
    let cols = [
        Col {
            share: 2.0,
            right: false,
        },
        Col {
            share: 1.3,
            right: true,
        },
        Col {
            share: 1.3,
            right: true,
        },
        Col {
            share: 1.3,
            right: true,
        },
    ];
    flow.table(
        &cols,
        &["异常结果", "男（检出率）", "女（检出率）", "合计"],
        &rows,
    );

    starts.push(flow.at() + 1);
    flow.heading(SECTIONS[3], 60.0);
    if b.majors.is_empty() {
        flow.para("本次体检无重要异常结果。", 10.5, BLACK, 0.0);
    } else {
        let rows: Vec<Vec<Cell>> = b
            .majors
            .iter()
            .map(|m| {
                vec![
                    Cell::plain(&m.name),
                    Cell::plain(&m.exam_no),
                    Cell::flagged(&m.finding, true),
                    Cell::plain(&m.handled),
                ]
            })
            .collect();
        let cols = [
            Col {
                share: 1.2,
                right: false,
            },
            Col {
                share: 1.6,
                right: false,
            },
            Col {
                share: 3.5,
                right: false,
            },
            Col {
                share: 1.2,
                right: false,
            },
        ];
        flow.table(&cols, &["姓名", "体检编号", "重要异常结果", "处理"], &rows);
    }

    starts.push(flow.at() + 1);
    flow.heading(SECTIONS[4], 40.0);
    for (i, a) in b.advice.iter().enumerate() {
        flow.para(&format!("{}. {a}", i + 1), 10.5, BLACK, 0.0);
    }

    starts.push(flow.at() + 1);
    flow.heading(SECTIONS[5], 60.0);
    let rows: Vec<Vec<Cell>> = b
        .members
        .iter()
        .map(|m| {
            vec![
                Cell::plain(&m.exam_no),
                Cell::plain(&m.name),
                Cell::plain(&m.sex),
                Cell::plain(m.age.to_string()),
                Cell::plain(&m.conclusions),
            ]
        })
        .collect();
    let cols = [
        Col {
            share: 1.6,
            right: false,
        },
        Col {
            share: 1.0,
            right: false,
        },
        Col {
            share: 0.5,
            right: false,
        },
        Col {
            share: 0.5,
            right: true,
        },
        Col {
            share: 5.0,
            right: false,
        },
    ];
    flow.table(
        &cols,
        &["体检编号", "姓名", "性别", "年龄", "主要结论"],
        &rows,
    );
    contents(flow, contents_page, &starts);
}

fn cover(flow: &mut Flow, b: &GroupBook) {
    flow.page().bare = true;
    let centre = |flow: &mut Flow, y: f32, size: f32, color, text: &str| {
        let w = flow.width(text, size, true);
        flow.text((PAGE_W - w) / 2.0, y, size, true, color, text);
    };
    flow.push(Op::Rect {
        x: 0.0,
        y: 0.0,
        w: PAGE_W,
        h: 210.0,
        fill: Some(ACCENT),
        stroke: None,
    });
    centre(flow, 110.0, 22.0, (0xff, 0xff, 0xff), &b.centre.name);
    centre(flow, 320.0, 30.0, BLACK, "团体健康体检报告");
    centre(flow, 370.0, 18.0, BLACK, &b.company);
    centre(flow, 420.0, 12.0, GREY, &format!("体检时间：{}", b.period));
    centre(
        flow,
        445.0,
        12.0,
        GREY,
        &format!("实检人数：{} 人", b.examined),
    );
    centre(flow, 470.0, 12.0, GREY, &format!("报告日期：{}", b.date));
    centre(flow, 720.0, 10.0, GREY, &b.centre.contact);
    flow.push(Op::Seal {
        x: PAGE_W / 2.0 + 120.0,
        y: 600.0,
        r: 46.0,
        text: b.centre.name.clone(),
    });
}

/// Fills the contents page: each section with its page number.
fn contents(flow: &mut Flow, page: usize, starts: &[usize]) {
    let mut ops = Vec::new();
    let x = MARGIN_X + 40.0;
    ops.push(Op::Text {
        x: MARGIN_X,
        y: 100.0,
        size: 18.0,
        bold: true,
        color: ACCENT,
        text: "目　录".into(),
    });
    for (i, (title, start)) in SECTIONS.iter().zip(starts).enumerate() {
        let y = 150.0 + i as f32 * 30.0;
        ops.push(Op::Text {
            x,
            y,
            size: 12.0,
            bold: false,
            color: BLACK,
            text: (*title).to_string(),
        });
        let n = start.to_string();
        let w = flow.width(&n, 12.0, false);
        ops.push(Op::Line {
            points: vec![(x + 200.0, y - 3.0), (MARGIN_X + WIDTH - 50.0, y - 3.0)],
            width: 0.5,
            color: (0xc7, 0xc7, 0xcc),
        });
        ops.push(Op::Text {
            x: MARGIN_X + WIDTH - 40.0 - w,
            y,
            size: 12.0,
            bold: false,
            color: BLACK,
            text: n,
        });
    }
    flow.pages[page].ops.extend(ops);
}
