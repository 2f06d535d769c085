//! From the flow's state to what the touch screen shows, in Chinese or
//! English: pure, so every screen and text is tested without a display.

use exam_domain::slot::Eligibility;
use kiosk_ui::{Booking, Keypad, ProblemView, Screen as Ui, View};

use crate::flow::{Field, Flow, KeypadError, Problem, Screen, Via, offers_booking};

mod book;
mod face;
mod privacy;
mod report;
mod words;

pub use words::words;

/// What the screen needs beyond the flow: the centre's words, the language,
/// the payment link, a passing notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub english: bool,
    pub centre_name: String,
    /// Where the front desk is, for "please go to …".
    pub desk: String,
    pub clock: String,
    pub notice: String,
    /// The payment link of the open order, and who takes the money.
    pub payment: Option<(String, String)>,
    /// A receipt printer is configured (booking slips are printed).
    pub printer: bool,
    /// A report printer is configured (the start screen offers reports).
    pub reports: bool,
}

impl Default for Context {
    fn default() -> Self {
        Self {
            english: false,
            centre_name: "健康管理中心".into(),
            desk: "一楼服务台".into(),
            clock: String::new(),
            notice: String::new(),
            payment: None,
            printer: false,
            reports: false,
        }
    }
}

pub(crate) fn t(en: bool, zh: &str, english: &str) -> String {
    if en { english.into() } else { zh.into() }
}

/// 12345 fen → "¥123.45".
pub fn yuan(fen: i64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}

fn status(en: bool, e: &Eligibility) -> String {
    match e {
        Eligibility::Ready => t(en, "可打印", "Ready to print"),
        Eligibility::TooEarly { opens_at } => {
            let hm = opens_at.format("%H:%M");
            t(en, &format!("{hm} 起可打印"), &format!("Opens at {hm}"))
        }
        Eligibility::NotToday => t(en, "非今日预约", "Not booked for today"),
        Eligibility::OtherCampus { campus } => t(
            en,
            &format!("请到{campus}院区签到"),
            &format!("Booked at campus {campus}"),
        ),
        Eligibility::AlreadyCheckedIn => t(en, "已签到", "Already checked in"),
        Eligibility::Cancelled => t(en, "已取消", "Cancelled"),
    }
}

fn problem(en: bool, desk: &str, p: &Problem) -> ProblemView {
    let (title, detail, serious) = match p {
        Problem::NoBooking => (
            t(en, "未找到您的预约", "We found no booking for you"),
            t(
                en,
                &format!(
                    "请到{desk}，工作人员会为您登记。如已在手机上预约，也可扫描预约二维码再试。"
                ),
                &format!(
                    "Please go to the desk ({desk}); staff will register you. If you booked on your phone, try scanning its QR code."
                ),
            ),
            true,
        ),
        Problem::CardUnreadable => (
            t(en, "身份证没有读出来", "Your ID card could not be read"),
            t(
                en,
                "请把身份证平放在读卡区，停留两秒。仍不行可扫描预约二维码或输入证件号。",
                "Lay the card flat on the reader for two seconds. Or scan your QR code or type your ID number.",
            ),
            false,
        ),
        Problem::TooEarly { opens_at } => {
            let hm = opens_at.format("%H:%M");
            (
                t(en, "还没到您的预约时段", "It is not your time slot yet"),
                t(
                    en,
                    &format!("{hm} 起可以签到打印，请稍后再来。"),
                    &format!("Check-in and printing open at {hm}. Please come back then."),
                ),
                false,
            )
        }
        Problem::NothingToday => (
            t(
                en,
                "今天本院区没有您可签到的预约",
                "Nothing to check in here today",
            ),
            t(
                en,
                &format!("您的预约不在今天或不在本院区，详情请到{desk}咨询。"),
                &format!(
                    "Your booking is for another day or campus. Please ask at the desk ({desk})."
                ),
            ),
            true,
        ),
        Problem::PrinterOut => (
            t(en, "本机暂时无法打印", "This kiosk cannot print right now"),
            t(
                en,
                &format!(
                    "您的签到已保存，工作人员已收到通知。请到旁边的自助机刷证继续打印，或到{desk}领取单据。"
                ),
                &format!(
                    "Your check-in is saved and staff have been told. Use the next kiosk to print, or collect your documents at the desk ({desk})."
                ),
            ),
            true,
        ),
        Problem::PaymentFailed => (
            t(en, "支付没有成功", "The payment did not go through"),
            t(
                en,
                &format!("请重新扫码支付，或到{desk}缴费。"),
                &format!("Please scan again, or pay at the desk ({desk})."),
            ),
            false,
        ),
    };
    ProblemView {
        title,
        detail,
        serious,
        action: String::new(),
    }
}

fn keypad_error(en: bool, e: &Option<KeypadError>) -> String {
    match e {
        None => String::new(),
        Some(KeypadError::Mobile) => t(
            en,
            "手机号应为以 1 开头的 11 位数字",
            "A mobile number has 11 digits and starts with 1",
        ),
        Some(KeypadError::IdNumber(e)) => {
            use exam_domain::IdNumberError as E;
            match e {
                E::Length(n) => t(
                    en,
                    &format!("身份证号应为 18 位，现在是 {n} 位"),
                    &format!("An ID number has 18 characters, not {n}"),
                ),
                E::CheckDigit { .. } | E::Characters | E::BirthDate => t(
                    en,
                    "身份证号有误，请核对后重新输入",
                    "This ID number is not valid: please check it",
                ),
            }
        }
    }
}

/// The view of the flow's current screen.
pub fn view(flow: &Flow, cx: &Context) -> View {
    let en = cx.english;
    let screen = match &flow.screen {
        Screen::Printing { .. } | Screen::TakeDocuments { .. } if flow.reports().is_some() => {
            report::printing(flow, en).unwrap_or(Ui::Attract)
        }
        Screen::Attract => Ui::Attract,
        Screen::Keypad(e) => Ui::Keypad(Keypad {
            id_number: e.id_number.clone(),
            mobile: e.mobile.clone(),
            field: u8::from(e.field == Field::Mobile),
            error: keypad_error(en, &e.error),
        }),
        Screen::Looking { via } => Ui::Looking {
            via: match via {
                Via::IdCard => t(en, "已读取身份证", "ID card read"),
                Via::Scan => t(en, "已扫描", "Code scanned"),
                Via::Keypad => t(en, "按证件号查询", "Looking up your ID number"),
                Via::Face => t(en, "已认出您", "Recognised"),
            },
        },
        Screen::Consent { name } => Ui::Consent { name: name.clone() },
        Screen::Choose {
            name,
            bookings,
            selected,
        } => Ui::Choose {
            name: name.clone(),
            bookings: bookings
                .iter()
                .map(|b| Booking {
                    id: b.id,
                    title: b.package.clone(),
                    detail: if b.amount_due_fen > 0 {
                        t(
                            en,
                            &format!("预约号 {} · 待缴 {}", b.code, yuan(b.amount_due_fen)),
                            &format!("Booking {} · due {}", b.code, yuan(b.amount_due_fen)),
                        )
                    } else {
                        t(
                            en,
                            &format!("预约号 {}", b.code),
                            &format!("Booking {}", b.code),
                        )
                    },
                    status: status(en, &b.eligibility),
                    ready: b.eligibility == Eligibility::Ready,
                    selected: selected.contains(&b.id),
                })
                .collect(),
        },
        Screen::Photo { retakes } => Ui::Photo {
            retakes_left: 3u8.saturating_sub(*retakes),
        },
        Screen::Pay { amount_fen } => {
            let (qr, provider) = cx.payment.clone().unwrap_or_default();
            Ui::Pay {
                amount: yuan(*amount_fen),
                qr,
                provider,
            }
        }
        Screen::Printing {
            done,
            total,
            resumed,
        } => Ui::Printing {
            done: *done,
            total: *total,
            resumed: *resumed,
        },
        Screen::TakeDocuments { first_station } => Ui::TakeDocuments {
            first_station: first_station.clone().unwrap_or_default(),
        },
        Screen::Problem(p) => {
            let mut v = problem(en, &cx.desk, p);
            if flow.has_card_holder() && offers_booking(p) {
                v.action = t(en, "自助预约 / 改约", "Book or change");
            }
            Ui::Problem(v)
        }
        Screen::Book(step) => book::view(flow, step, en, cx.printer),
        Screen::Reports(step) => report::view(flow, step, en),
        Screen::Privacy { .. } => privacy::view(en),
        Screen::Face(step) => face::view(flow, step, en),
    };
    let mut v = View::new(screen);
    let guide = flow.guide();
    (v.step, v.back) = (guide.step, guide.back);
    v.words = words(en, flow.settings.elderly);
    v.elderly = flow.settings.elderly;
    v.english = en;
    v.centre_name = cx.centre_name.clone();
    v.welcome = t(
        en,
        "欢迎使用体检自助签到",
        "Welcome to self-service check-in",
    );
    v.ticker = t(
        en,
        "请放置身份证 · 或扫描预约二维码 · 体检当天请空腹 · 报告打印中，请稍候 · 如需帮助请点右上角呼叫工作人员",
        "Place your ID card · or scan your booking QR code · come fasting on exam day · tap Call staff at the top right for help",
    );
    v.reports_available = cx.reports;
    v.face_available = flow.offers_face();
    v.clock = cx.clock.clone();
    v.notice = cx.notice.clone();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_yuan() {
        assert_eq!(yuan(0), "¥0.00");
        assert_eq!(yuan(12345), "¥123.45");
        assert_eq!(yuan(5), "¥0.05");
    }

    #[test]
    fn every_problem_has_words_in_both_languages_and_names_the_desk() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        for p in [
            Problem::NoBooking,
            Problem::CardUnreadable,
            Problem::TooEarly { opens_at: at },
            Problem::NothingToday,
            Problem::PrinterOut,
            Problem::PaymentFailed,
        ] {
            let zh = problem(false, "二楼服务台", &p);
            let en = problem(true, "2F desk", &p);
            assert!(!zh.title.is_empty() && !en.title.is_empty());
            assert!(zh.title.chars().any(|c| c > '\u{2e80}'), "{zh:?}");
            assert!(en.title.is_ascii(), "{en:?}");
            if matches!(p, Problem::TooEarly { .. }) {
                assert!(zh.detail.contains("09:30") && en.detail.contains("09:30"));
            }
            if zh.serious {
                assert!(zh.detail.contains("二楼服务台") && en.detail.contains("2F desk"));
            }
        }
    }
}
