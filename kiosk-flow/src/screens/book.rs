//! The words of the booking screens (K17), in Chinese or English.

use chrono::{Datelike, NaiveDate};
use kiosk_ui::{Action as Button, Booking as Row, Screen as Ui};

use super::{t, yuan};
use crate::flow::{
    Action, Book, CANCEL_REASONS, Flow, Outcome, Step, Target, Unavailable, slot_text,
};

fn label(en: bool, a: Action, place_card: bool) -> String {
    if a == Action::Finish && place_card {
        return t(en, "返回首页", "Back to start");
    }
    match a {
        Action::New => t(en, "新预约", "New booking"),
        Action::Rebook => t(en, "改约", "Change time"),
        Action::CancelBooking => t(en, "取消预约", "Cancel booking"),
        Action::Next => t(en, "下一步", "Next"),
        Action::Back => t(en, "上一步", "Back"),
        Action::Submit => t(en, "确认", "Confirm"),
        Action::Finish => t(en, "完成", "Done"),
        Action::Print => t(en, "打印所选报告", "Print selected"),
        Action::Keypad => t(en, "输入身份证号", "Type my ID number"),
    }
}

/// The buttons of a booking or report screen, as the flow has them.
pub(super) fn buttons(en: bool, flow: &Flow) -> Vec<Button> {
    let place_card = matches!(
        flow.screen,
        crate::flow::Screen::Book(Step::PlaceCard)
            | crate::flow::Screen::Reports(crate::flow::ReportStep::PlaceCard)
    );
    flow.book_actions()
        .into_iter()
        .map(|(a, enabled)| Button {
            label: label(en, a, place_card),
            enabled,
            primary: !matches!(a, Action::Back | Action::CancelBooking),
        })
        .collect()
}

/// A booking's day and time, as every booking screen shows it.
fn when(b: &exam_domain::Booking) -> String {
    slot_text(b.exam_date, b.slot_start, b.slot_end)
}

fn weekday(en: bool, d: NaiveDate) -> String {
    let i = d.weekday().num_days_from_monday() as usize;
    if en {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i].into()
    } else {
        ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][i].into()
    }
}

fn day_name(en: bool, d: NaiveDate, today: NaiveDate) -> String {
    let rel = match (d - today).num_days() {
        0 => t(en, "今天 ", "Today, "),
        1 => t(en, "明天 ", "Tomorrow, "),
        _ => String::new(),
    };
    if en {
        format!("{rel}{} {}", weekday(en, d), d.format("%-d %b"))
    } else {
        format!("{rel}{}月{}日 {}", d.month(), d.day(), weekday(en, d))
    }
}

pub(super) fn row(
    id: usize,
    title: String,
    detail: String,
    status: String,
    ready: bool,
    selected: bool,
) -> Row {
    Row {
        id: id as i64,
        title,
        detail,
        status,
        ready,
        selected,
    }
}

pub(super) fn pick(
    en: bool,
    flow: &Flow,
    title: String,
    sub: String,
    rows: Vec<Row>,
    prompt: String,
) -> Ui {
    // Bookings, packages and add-ons have long names: one per line.
    let wide = matches!(
        flow.screen,
        crate::flow::Screen::Book(Step::Home { .. } | Step::Package | Step::Addons { .. })
            | crate::flow::Screen::Reports(_)
    );
    Ui::Pick {
        title,
        sub,
        rows,
        prompt,
        actions: buttons(en, flow),
        wide,
    }
}

pub(super) fn summary(en: bool, flow: &Flow, title: String, sub: String, lines: Vec<String>) -> Ui {
    Ui::Summary {
        title,
        sub,
        lines,
        picture: String::new(),
        actions: buttons(en, flow),
    }
}

fn left(en: bool, n: i64) -> String {
    if n <= 0 {
        t(en, "已约满", "Full")
    } else {
        t(en, &format!("余 {n} 个名额"), &format!("{n} places left"))
    }
}

fn what(en: bool, b: &Book) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(p) = b.chosen_package() {
        lines.push(t(
            en,
            &format!("套餐：{}", p.name),
            &format!("Package: {}", p.name),
        ));
    }
    let addons: Vec<&str> = b
        .addon_options()
        .into_iter()
        .filter(|a| b.addons.contains(&a.code))
        .map(|a| a.name.as_str())
        .collect();
    if !addons.is_empty() {
        let list = addons.join("、");
        lines.push(t(en, &format!("加项：{list}"), &format!("Add-ons: {list}")));
    }
    lines
}

/// The booking screen of this step.
pub(super) fn view(flow: &Flow, step: &Step, en: bool, printer: bool) -> Ui {
    let Some(b) = flow.booking() else {
        return match step {
            Step::Unavailable(u) => unavailable(en, flow, u),
            Step::Loading | Step::Working => Ui::Looking {
                via: t(en, "正在查询，请稍候", "One moment, please"),
            },
            _ => Ui::Summary {
                title: t(en, "请放置身份证", "Place your ID card"),
                sub: t(
                    en,
                    "预约、改约和取消预约需要核验身份，请将身份证放在读卡区",
                    "Booking needs your ID card: place it on the reader",
                ),
                lines: vec![],
                picture: "idcard".into(),
                actions: buttons(en, flow),
            },
        };
    };
    let name = exam_domain::mask::name(&b.holder.name);
    match step {
        Step::PlaceCard | Step::Loading | Step::Working => Ui::Looking {
            via: t(en, "正在提交，请稍候", "Sending, one moment please"),
        },
        Step::Home { selected } => {
            let rows = b
                .upcoming
                .iter()
                .enumerate()
                .map(|(i, bk)| {
                    row(
                        i,
                        bk.package.clone(),
                        t(
                            en,
                            &format!("预约号 {} · {}", bk.code, when(bk)),
                            &format!("Booking {} · {}", bk.code, when(bk)),
                        ),
                        t(en, "已预约", "Booked"),
                        true,
                        *selected == Some(i),
                    )
                })
                .collect();
            pick(
                en,
                flow,
                t(en, &format!("您好，{name}"), &format!("Hello, {name}")),
                t(
                    en,
                    "选中一条预约可改约或取消，也可以新预约",
                    "Pick a booking to change or cancel it, or make a new one",
                ),
                rows,
                String::new(),
            )
        }
        Step::Marital => pick(
            en,
            flow,
            t(en, "您的婚姻状况", "Your marital status"),
            t(
                en,
                "部分妇科项目只适用于已婚或未婚女性，系统将据此为您调整项目",
                "Some gynaecological items depend on it; we adjust your items accordingly",
            ),
            vec![
                row(
                    0,
                    t(en, "已婚", "Married"),
                    String::new(),
                    String::new(),
                    true,
                    false,
                ),
                row(
                    1,
                    t(en, "未婚", "Unmarried"),
                    String::new(),
                    String::new(),
                    true,
                    false,
                ),
            ],
            String::new(),
        ),
        Step::Package => {
            let rows = b
                .packages()
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    row(
                        i,
                        p.name.clone(),
                        t(
                            en,
                            &format!("{} 项", p.items.len()),
                            &format!("{} items", p.items.len()),
                        ),
                        yuan(p.price_fen),
                        true,
                        b.package == Some(i),
                    )
                })
                .collect();
            pick(
                en,
                flow,
                t(en, "请选择体检套餐", "Choose a package"),
                t(
                    en,
                    "不确定选哪个？可到服务台咨询",
                    "Not sure? Ask at the desk",
                ),
                rows,
                String::new(),
            )
        }
        Step::Addons { clash } => {
            let rows = b
                .addon_options()
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let inside = b.in_package(&a.code);
                    row(
                        i,
                        a.name.clone(),
                        a.department.clone(),
                        if inside {
                            t(en, "套餐已含", "In the package")
                        } else {
                            yuan(a.price_fen)
                        },
                        !inside,
                        b.addons.contains(&a.code),
                    )
                })
                .collect();
            let prompt = clash.as_ref().map_or_else(String::new, |c| {
                t(
                    en,
                    &format!(
                        "「{}」与「{}」不能同时预约：{}。如需调整，请到{}咨询。",
                        c.item, c.with, c.reason, c.department
                    ),
                    &format!(
                        "{} cannot be booked with {}: {}. Please ask at {}.",
                        c.item, c.with, c.reason, c.department
                    ),
                )
            });
            pick(
                en,
                flow,
                t(en, "需要加项吗？", "Any add-ons?"),
                t(en, "可多选，也可以直接下一步", "Pick any, or go on"),
                rows,
                prompt,
            )
        }
        Step::Day => {
            let rows = b
                .days
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let n = Book::left(d);
                    row(
                        i,
                        day_name(en, d.date, b.today),
                        String::new(),
                        left(en, n),
                        n > 0,
                        b.day == Some(i),
                    )
                })
                .collect();
            pick(
                en,
                flow,
                t(en, "请选择体检日期", "Choose a day"),
                String::new(),
                rows,
                String::new(),
            )
        }
        Step::Slot => {
            let (rows, day) = b.chosen_day().map_or((vec![], String::new()), |d| {
                let rows = d
                    .slots
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        row(
                            i,
                            format!("{}–{}", s.start.format("%H:%M"), s.end.format("%H:%M")),
                            String::new(),
                            left(en, s.left),
                            s.left > 0,
                            b.slot == Some(i),
                        )
                    })
                    .collect();
                (rows, day_name(en, d.date, b.today))
            });
            pick(
                en,
                flow,
                t(en, "请选择时段", "Choose a time"),
                day,
                rows,
                String::new(),
            )
        }
        Step::Confirm => {
            let mut lines = match b.target {
                Target::Rebook(i) => b
                    .upcoming
                    .get(i)
                    .map(|bk| {
                        vec![t(
                            en,
                            &format!("{}：{} 改到", bk.package, when(bk)),
                            &format!("{}: from {} to", bk.package, when(bk)),
                        )]
                    })
                    .unwrap_or_default(),
                _ => what(en, b),
            };
            if let (Some(d), Some(s)) = (b.chosen_day(), b.chosen_slot()) {
                let when = slot_text(d.date, s.start, s.end);
                lines.push(t(en, &format!("时间：{when}"), &format!("Time: {when}")));
            }
            if b.target == Target::New {
                let fee = yuan(b.estimate_fen());
                lines.push(t(
                    en,
                    &format!("预计费用：{fee}（按您的情况调整后以预约结果为准）"),
                    &format!("About {fee} (adjusted to you when booked)"),
                ));
            }
            summary(
                en,
                flow,
                t(en, "请核对预约信息", "Please check"),
                t(en, &format!("预约人：{name}"), &format!("For: {name}")),
                lines,
            )
        }
        Step::CancelReason { selected } => {
            let rows = CANCEL_REASONS
                .iter()
                .enumerate()
                .map(|(i, (zh, e))| {
                    row(
                        i,
                        t(en, zh, e),
                        String::new(),
                        String::new(),
                        true,
                        *selected == Some(i),
                    )
                })
                .collect();
            let sub = match b.target {
                Target::Cancel(i) => b
                    .upcoming
                    .get(i)
                    .map_or_else(String::new, |bk| format!("{} · {}", bk.package, when(bk))),
                _ => String::new(),
            };
            pick(
                en,
                flow,
                t(en, "取消原因", "Why cancel?"),
                sub,
                rows,
                String::new(),
            )
        }
        Step::Done(o) => done(en, flow, o, printer),
        Step::Unavailable(u) => unavailable(en, flow, u),
    }
}

fn done(en: bool, flow: &Flow, o: &Outcome, printer: bool) -> Ui {
    let slip = if printer {
        t(
            en,
            "预约单正在打印，请取走。",
            "Your booking slip is printing: please take it.",
        )
    } else {
        String::new()
    };
    let (title, mut lines) = match o {
        Outcome::Booked { booking: bk, plan } => {
            let mut lines = vec![
                t(
                    en,
                    &format!("预约号：{}", bk.code),
                    &format!("Booking code: {}", bk.code),
                ),
                t(
                    en,
                    &format!("时间：{}", when(bk)),
                    &format!("Time: {}", when(bk)),
                ),
                t(
                    en,
                    &format!("费用：{}（到检当天缴费）", yuan(plan.total_fen)),
                    &format!("Fee: {} (paid on the day)", yuan(plan.total_fen)),
                ),
            ];
            for x in &plan.excluded {
                let instead = plan.replacement(x).map_or_else(String::new, |r| {
                    t(en, &format!("，改为{r}"), &format!("; {r} instead"))
                });
                lines.push(t(
                    en,
                    &format!("不做「{}」：{}{instead}", x.name, x.reason),
                    &format!("Not {}: {}{instead}", x.name, x.reason),
                ));
            }
            (t(en, "预约成功", "Booked"), lines)
        }
        Outcome::Rebooked(bk) => (
            t(en, "改约成功", "Time changed"),
            vec![t(
                en,
                &format!("新时间：{}", when(bk)),
                &format!("New time: {}", when(bk)),
            )],
        ),
        Outcome::Cancelled(bk) => (
            t(en, "已取消预约", "Booking cancelled"),
            vec![t(
                en,
                &format!("预约号：{}", bk.code),
                &format!("Booking code: {}", bk.code),
            )],
        ),
    };
    if !matches!(o, Outcome::Cancelled(_)) {
        lines.push(t(
            en,
            "体检当天请空腹，带身份证到自助机签到。",
            "Come fasting on the day and check in here with your ID card.",
        ));
    }
    summary(en, flow, title, slip, lines)
}

fn unavailable(en: bool, flow: &Flow, u: &Unavailable) -> Ui {
    let (title, sub) = match u {
        Unavailable::Offline => (
            t(
                en,
                "自助预约暂时不可用",
                "Booking is not available just now",
            ),
            t(
                en,
                "请稍后再试，或到服务台预约。签到和打印单据不受影响。",
                "Please try later or book at the desk. Check-in and printing still work.",
            ),
        ),
        Unavailable::Refused(why) => (
            t(en, "未能完成", "That did not go through"),
            t(
                en,
                &format!("{why}。可以重新选择，或到服务台办理。"),
                &format!("{why}. Try again, or ask at the desk."),
            ),
        ),
    };
    summary(en, flow, title, sub, vec![])
}
