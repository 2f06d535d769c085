//! The company's batch pickup slip: one line per report with a place for
//! the receiver's signature, and the hand-over signatures at the end.

use crate::layout::{ACCENT, BLACK, Cell, Col, Flow, GREY, MARGIN_X, WIDTH};
use crate::model::PickupSlip;

pub(crate) fn lay_out(flow: &mut Flow, s: &PickupSlip) {
    flow.y += 10.0;
    let title = "体检报告领取单";
    let w = flow.width(title, 20.0, true);
    flow.text(
        MARGIN_X + (WIDTH - w) / 2.0,
        flow.y + 20.0,
        20.0,
        true,
        ACCENT,
        title,
    );
    flow.y += 40.0;
    flow.para(
        &format!(
            "单位：{}　　报告份数：{}　　制单日期：{}",
            s.company,
            s.lines.len(),
            s.date
        ),
        10.5,
        BLACK,
        0.0,
    );
    flow.y += 6.0;
    let rows: Vec<Vec<Cell>> = s
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            vec![
                Cell::plain((i + 1).to_string()),
                Cell::plain(&l.exam_no),
                Cell::plain(&l.name),
                Cell::plain(&l.sex),
                Cell::plain(&l.department),
                Cell::plain(l.pages.to_string()),
                Cell::plain(""),
                Cell::plain(""),
            ]
        })
        .collect();
    let col = |share, right| Col { share, right };
    let cols = [
        col(0.6, true),
        col(1.7, false),
        col(1.1, false),
        col(0.6, false),
        col(1.4, false),
        col(0.7, true),
        col(1.6, false),
        col(1.3, false),
    ];
    flow.table(
        &cols,
        &[
            "序号",
            "体检编号",
            "姓名",
            "性别",
            "部门",
            "页数",
            "领取人签字",
            "领取日期",
        ],
        &rows,
    );
    flow.need(90.0);
    flow.y += 30.0;
    let y = flow.y;
    flow.text(
        MARGIN_X,
        y,
        11.0,
        false,
        BLACK,
        "发放人（体检中心）：____________",
    );
    flow.text(
        MARGIN_X + WIDTH / 2.0,
        y,
        11.0,
        false,
        BLACK,
        "单位经办人：____________",
    );
    flow.text(
        MARGIN_X,
        y + 30.0,
        11.0,
        false,
        BLACK,
        "日期：____年__月__日",
    );
    flow.text(
        MARGIN_X + WIDTH / 2.0,
        y + 30.0,
        11.0,
        false,
        BLACK,
        "日期：____年__月__日",
    );
    flow.y = y + 50.0;
    flow.para(
        "报告涉及个人隐私，请单位经办人逐份发放至本人，勿拆阅、勿转交他人。",
        9.0,
        GREY,
        0.0,
    );
}
