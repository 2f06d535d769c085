//! The personal report: cover, what is abnormal first, the conclusions and
//! advice, each department's results, the trends, the signatures.

use crate::chart;
use crate::layout::{
    ACCENT, BLACK, Cell, Col, Flow, GREY, MARGIN_X, Op, PAGE_H, PAGE_W, RED, RULE, WIDTH,
};
use crate::model::{ExamKind, Personal};

pub(crate) fn lay_out(flow: &mut Flow, r: &Personal) {
    cover(flow, r);
    flow.new_page();
    findings(flow, r);
    conclusions(flow, r);
    match r.kind {
        ExamKind::Occupational => {
            if let Some(o) = &r.occupational {
                flow.heading("职业健康检查结论", 60.0);
                flow.para(
                    &format!("接触职业病危害因素：{}", o.hazards),
                    10.5,
                    BLACK,
                    0.0,
                );
                flow.para(&format!("结论：{}", o.conclusion), 10.5, BLACK, 0.0);
            }
        }
        ExamKind::Entry => {
            if let Some(f) = &r.fitness {
                flow.heading("入职体检结论", 40.0);
                flow.para(f, 11.0, BLACK, 0.0);
            }
        }
        ExamKind::Health => {}
    }
    sign(flow, r);
    if !r.history.is_empty() {
        flow.heading("病史与问诊", 60.0);
        let rows: Vec<Vec<Cell>> = r
            .history
            .iter()
            .map(|(k, v)| vec![Cell::plain(k), Cell::plain(v)])
            .collect();
        let cols = [
            Col {
                share: 1.4,
                right: false,
            },
            Col {
                share: 5.6,
                right: false,
            },
        ];
        flow.table(&cols, &["项目", "内容"], &rows);
    }
    for s in &r.sections {
        section(flow, s);
    }
    trends(flow, r);
}

fn cover(flow: &mut Flow, r: &Personal) {
    let page = flow.page();
    page.bare = true;
    let centre = |flow: &mut Flow, y: f32, size: f32, bold: bool, color, text: &str| {
        let w = flow.width(text, size, bold);
        flow.text((PAGE_W - w) / 2.0, y, size, bold, color, text);
    };
    flow.push(Op::Rect {
        x: 0.0,
        y: 0.0,
        w: PAGE_W,
        h: 210.0,
        fill: Some(ACCENT),
        stroke: None,
    });
    centre(flow, 110.0, 22.0, true, (0xff, 0xff, 0xff), &r.centre.name);
    centre(flow, 300.0, 34.0, true, BLACK, r.kind.title());
    centre(flow, 340.0, 12.0, false, GREY, "HEALTH EXAMINATION REPORT");
    let fields = [
        ("姓　　名", r.name.clone()),
        ("性　　别", r.sex.clone()),
        ("年　　龄", format!("{} 岁", r.age)),
        ("证件号码", r.id_masked.clone()),
        ("体检编号", r.exam_no.clone()),
        (
            "单　　位",
            r.company.clone().unwrap_or_else(|| "个人".into()),
        ),
        ("体检套餐", r.package.clone()),
        ("体检日期", r.exam_date.clone()),
    ];
    let mut y = 420.0;
    for (k, v) in fields {
        flow.text(170.0, y, 12.0, false, GREY, k);
        flow.text(250.0, y, 12.0, true, BLACK, &v);
        flow.push(Op::Line {
            points: vec![(245.0, y + 5.0), (430.0, y + 5.0)],
            width: 0.5,
            color: RULE,
        });
        y += 30.0;
    }
    centre(flow, PAGE_H - 90.0, 10.0, false, GREY, &r.centre.contact);
    centre(
        flow,
        PAGE_H - 70.0,
        9.0,
        false,
        GREY,
        "本报告涉及个人隐私，请妥善保管；报告结果仅对本次检查负责，如有疑问请咨询体检中心。",
    );
}

fn findings(flow: &mut Flow, r: &Personal) {
    if !r.major.is_empty() {
        flow.heading("重要异常结果提示", 40.0);
        let start = flow.y;
        flow.y += 6.0;
        for m in &r.major {
            flow.para(&format!("● {m}"), 11.0, RED, 10.0);
        }
        flow.para(
            "以上结果需尽快到相关专科就诊，体检中心已电话通知并将随访。",
            9.5,
            GREY,
            10.0,
        );
        flow.y += 6.0;
        let (y, h) = (start, flow.y - start);
        // The frame goes round what the lines took on this page (a long
        // list that breaks keeps its lines, without a frame).
        if flow.y > start {
            flow.push(Op::Rect {
                x: MARGIN_X,
                y,
                w: WIDTH,
                h,
                fill: None,
                stroke: Some(RED),
            });
        }
    }
    flow.heading("异常结果汇总", 30.0);
    if r.abnormal.is_empty() {
        flow.para("本次体检各项检查未见明显异常。", 10.5, BLACK, 0.0);
    }
    for (i, a) in r.abnormal.iter().enumerate() {
        flow.para(&format!("{}. {a}", i + 1), 10.5, BLACK, 0.0);
    }
}

fn conclusions(flow: &mut Flow, r: &Personal) {
    flow.heading("总检结论与健康建议", 60.0);
    if r.conclusions.is_empty() {
        flow.para(
            "本次体检未见明显异常，请保持良好的生活方式，定期体检。",
            10.5,
            BLACK,
            0.0,
        );
    }
    for (i, c) in r.conclusions.iter().enumerate() {
        flow.need(40.0);
        flow.y += 8.0;
        let title = format!("{}. {}", i + 1, c.name);
        flow.y += 12.0;
        flow.text(MARGIN_X, flow.y, 11.5, true, BLACK, &title);
        if !c.advice.is_empty() {
            flow.para(&format!("建议：{}", c.advice), 10.0, GREY, 16.0);
        }
    }
}

fn sign(flow: &mut Flow, r: &Personal) {
    flow.need(110.0);
    flow.y += 24.0;
    let top = flow.y;
    let x = MARGIN_X + WIDTH - 250.0;
    flow.text(
        x,
        top + 20.0,
        10.5,
        false,
        BLACK,
        &format!("总检医生：{}", r.chief),
    );
    flow.text(x, top + 50.0, 10.5, false, BLACK, "审核医生：");
    if r.signature.is_some() {
        flow.push(Op::Signature {
            x: x + 55.0,
            y: top + 30.0,
            w: 90.0,
            h: 30.0,
        });
    } else {
        flow.text(x + 55.0, top + 50.0, 10.5, false, BLACK, &r.reviewer);
    }
    flow.text(
        x,
        top + 80.0,
        10.5,
        false,
        BLACK,
        &format!("审核日期：{}", r.review_date),
    );
    flow.push(Op::Seal {
        x: x + 190.0,
        y: top + 45.0,
        r: 42.0,
        text: r.centre.name.clone(),
    });
    flow.y = top + 95.0;
}

fn section(flow: &mut Flow, s: &crate::model::Section) {
    let title = if s.by_hand {
        format!("{}（手工录入）", s.name)
    } else {
        s.name.clone()
    };
    flow.heading(&title, 60.0);
    let rows: Vec<Vec<Cell>> = s
        .rows
        .iter()
        .map(|row| {
            let bad = row.flag.abnormal();
            let value = if row.flag.mark().is_empty() || row.flag == crate::model::Flag::Abnormal {
                row.value.clone()
            } else {
                format!("{} {}", row.value, row.flag.mark())
            };
            if s.lab {
                vec![
                    Cell::plain(&row.name),
                    Cell::flagged(value, bad),
                    Cell::plain(&row.unit),
                    Cell::plain(&row.range),
                ]
            } else {
                vec![Cell::plain(&row.name), Cell::flagged(value, bad)]
            }
        })
        .collect();
    if s.lab {
        let cols = [
            Col {
                share: 3.0,
                right: false,
            },
            Col {
                share: 2.0,
                right: true,
            },
            Col {
                share: 1.5,
                right: false,
            },
            Col {
                share: 2.2,
                right: false,
            },
        ];
        flow.table(&cols, &["项目", "结果", "单位", "参考范围"], &rows);
    } else {
        let cols = [
            Col {
                share: 2.0,
                right: false,
            },
            Col {
                share: 5.0,
                right: false,
            },
        ];
        flow.table(&cols, &["项目", "检查所见"], &rows);
    }
    if !s.summary.is_empty() {
        flow.y += 4.0;
        flow.para(&format!("小结：{}", s.summary), 10.0, BLACK, 0.0);
    }
    if !s.doctor.is_empty() {
        flow.para(&format!("检查医生：{}", s.doctor), 9.0, GREY, 0.0);
    }
}

fn trends(flow: &mut Flow, r: &Personal) {
    let shown: Vec<_> = r.trends.iter().filter(|t| !t.points.is_empty()).collect();
    if shown.is_empty() {
        return;
    }
    flow.heading("主要指标历年趋势", 170.0);
    flow.para(
        "绿色区域为参考范围，红点为超出参考范围的结果。",
        9.0,
        GREY,
        0.0,
    );
    let (w, h) = (WIDTH / 2.0 - 6.0, 160.0);
    for pair in shown.chunks(2) {
        flow.need(h + 8.0);
        let y = flow.y + 4.0;
        for (i, t) in pair.iter().enumerate() {
            chart::trend(flow, t, MARGIN_X + i as f32 * (w + 12.0), y, w, h);
        }
        flow.y = y + h;
    }
}
