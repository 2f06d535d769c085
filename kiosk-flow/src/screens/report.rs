//! The words of the report screens (K9, K12 "query report → print"), in
//! Chinese or English, on the generic pick and summary screens.

use kiosk_ui::Screen as Ui;

use super::book::{pick, row, summary};
use super::t;
use crate::flow::{Flow, ReportStep, Unavailable};

/// The report screen of this step.
pub(super) fn view(flow: &Flow, step: &ReportStep, en: bool) -> Ui {
    match step {
        ReportStep::PlaceCard => Ui::Summary {
            title: t(en, "请放置身份证", "Place your ID card"),
            sub: t(
                en,
                "体检报告凭本人身份证打印，请将身份证放在读卡区",
                "Reports print only for the holder of the ID card on the reader",
            ),
            lines: vec![],
            picture: "idcard".into(),
            actions: super::book::buttons(en, flow),
        },
        ReportStep::Loading => Ui::Looking {
            via: t(en, "正在查询您的报告", "Looking for your reports"),
        },
        ReportStep::Fetching => Ui::Looking {
            via: t(en, "正在准备报告，请稍候", "Preparing your reports"),
        },
        ReportStep::List { selected } => {
            let Some(r) = flow.reports() else {
                return Ui::Looking { via: String::new() };
            };
            let rows = r
                .list
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let pages = if s.pages > 0 {
                        t(
                            en,
                            &format!(" · {} 页", s.pages),
                            &format!(" · {} pages", s.pages),
                        )
                    } else {
                        String::new()
                    };
                    row(
                        i,
                        s.title.clone(),
                        t(
                            en,
                            &format!("体检日期 {} · 体检号 {}{pages}", s.exam_date, s.exam_no),
                            &format!("Examined {} · no. {}{pages}", s.exam_date, s.exam_no),
                        ),
                        if s.printed == 0 {
                            t(en, "未打印", "Not printed yet")
                        } else {
                            t(
                                en,
                                &format!("已打印 {} 次", s.printed),
                                &format!("Printed {}×", s.printed),
                            )
                        },
                        true,
                        selected.contains(&i),
                    )
                })
                .collect();
            let name = exam_domain::mask::name(&r.name);
            pick(
                en,
                flow,
                t(en, &format!("您好，{name}"), &format!("Hello, {name}")),
                t(
                    en,
                    "请选择要打印的体检报告（A4）",
                    "Choose the reports to print (A4)",
                ),
                rows,
                String::new(),
            )
        }
        ReportStep::NoneYet => summary(
            en,
            flow,
            t(en, "您的体检报告尚未出具", "Your report is not ready yet"),
            t(
                en,
                "报告出具后会以短信通知您，届时可在本机打印，或到服务台领取。",
                "You will get a text message when it is ready; print it here or collect it at the desk.",
            ),
            vec![],
        ),
        ReportStep::Unavailable(u) => {
            let sub = match u {
                Unavailable::Offline => t(
                    en,
                    "报告查询暂时不可用，请稍后再试，或到服务台领取。",
                    "Reports cannot be looked up just now: try later or ask at the desk.",
                ),
                Unavailable::Refused(why) => t(
                    en,
                    &format!("{why}。"),
                    &format!("{why}. Please ask at the desk."),
                ),
            };
            summary(
                en,
                flow,
                t(
                    en,
                    "暂时不能打印报告",
                    "Your report cannot be printed here now",
                ),
                sub,
                vec![],
            )
        }
    }
}

/// The printing and "take your report" screens of a report print.
pub(super) fn printing(flow: &Flow, en: bool) -> Option<Ui> {
    flow.reports()?;
    Some(match &flow.screen {
        crate::flow::Screen::Printing { done, total, .. } => Ui::Summary {
            title: t(
                en,
                "报告打印中，请稍候",
                "Printing your report, please wait",
            ),
            sub: t(
                en,
                &format!("已完成 {done} / {total} 份"),
                &format!("Done {done} / {total}"),
            ),
            lines: vec![t(
                en,
                "请勿离开，报告从下方出纸口送出",
                "Please stay: the report comes out of the slot below",
            )],
            picture: String::new(),
            actions: vec![],
        },
        crate::flow::Screen::TakeDocuments { .. } => summary(
            en,
            flow,
            t(en, "请取走您的体检报告", "Please take your report"),
            t(
                en,
                "如对报告有疑问，可到服务台预约医生解读。",
                "For questions about your report, ask the desk for a doctor's consultation.",
            ),
            vec![],
        ),
        _ => return None,
    })
}
