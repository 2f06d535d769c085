//! The four messages the centre sends, as platform templates: each kind has
//! a template approved at the platform (its id from the configuration) and
//! the same text here, so the length and segment count are checked before
//! anything is sent, and the staff page can show what the phone shows.
//!
//! The texts carry no result and no diagnosis: an SMS can be read by anyone
//! holding the phone, so an abnormal or critical result only asks the
//! person to call the centre (the number is a parameter).
//!
//! Length: the signature `【…】` counts; up to 70 characters is one
//! message, longer ones are sent as 67-character segments, each billed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    BookingConfirmed,
    ReportReady,
    AbnormalResult,
    CriticalValue,
}

impl TemplateKind {
    pub const ALL: [TemplateKind; 4] = [
        Self::BookingConfirmed,
        Self::ReportReady,
        Self::AbnormalResult,
        Self::CriticalValue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BookingConfirmed => "booking_confirmed",
            Self::ReportReady => "report_ready",
            Self::AbnormalResult => "abnormal_result",
            Self::CriticalValue => "critical_value",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::BookingConfirmed => "预约成功",
            Self::ReportReady => "报告已出",
            Self::AbnormalResult => "异常结果",
            Self::CriticalValue => "危急值",
        }
    }

    /// The template text, `{1}`, `{2}`, ... for the parameters (the
    /// platform's placeholder syntax).
    pub fn text(self) -> &'static str {
        match self {
            // {1} salutation, {2} date, {3} time, {4} campus.
            Self::BookingConfirmed => {
                "{1}您好，您已预约{2} {3}在{4}体检，请空腹并携带身份证按时到检。"
            }
            // {1} salutation, {2} exam number.
            Self::ReportReady => {
                "{1}您好，您体检号{2}的体检报告已出，可凭身份证到自助机打印或到体检中心领取。"
            }
            // {1} salutation, {2} the centre's telephone.
            Self::AbnormalResult => "{1}您好，您的体检结果中有需要关注的项目，请尽快致电{2}咨询。",
            // {1} salutation, {2} the centre's telephone.
            Self::CriticalValue => {
                "{1}您好，您的体检结果需要立即处理，请马上致电{2}或尽快到医院就诊。"
            }
        }
    }

    pub fn param_count(self) -> usize {
        match self {
            Self::BookingConfirmed => 4,
            _ => 2,
        }
    }

    /// Sent past the rate limits (a critical value is never held back by
    /// our own limits).
    pub fn urgent(self) -> bool {
        self == Self::CriticalValue
    }
}

/// The platform's template id per kind (`[interfaces.counterparts.sms]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateIds {
    pub booking_confirmed: String,
    pub report_ready: String,
    pub abnormal_result: String,
    pub critical_value: String,
}

impl TemplateIds {
    pub fn of(&self, k: TemplateKind) -> &str {
        match k {
            TemplateKind::BookingConfirmed => &self.booking_confirmed,
            TemplateKind::ReportReady => &self.report_ready,
            TemplateKind::AbnormalResult => &self.abnormal_result,
            TemplateKind::CriticalValue => &self.critical_value,
        }
    }
}

/// One message's text as the phone shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub chars: usize,
    pub segments: usize,
}

/// Characters in one message, and per segment of a long one.
pub const SINGLE: usize = 70;
pub const SEGMENT: usize = 67;
/// The longest text the platform sends.
pub const MAX_CHARS: usize = 500;
/// One parameter's longest value (our bound, below the platform's).
pub const MAX_PARAM_CHARS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("{kind:?} takes {want} parameters, got {got}")]
    ParamCount {
        kind: TemplateKind,
        want: usize,
        got: usize,
    },
    #[error("parameter {0} is empty")]
    Empty(usize),
    #[error("parameter {0} is longer than {MAX_PARAM_CHARS} characters")]
    ParamTooLong(usize),
    /// Brackets, links and line breaks are refused by the platform's review
    /// in parameters (and would let a value pose as the signature).
    #[error("parameter {0} has a character the platform refuses")]
    Forbidden(usize),
    #[error("{chars} characters is {segments} segments, over the {max} allowed")]
    TooLong {
        chars: usize,
        segments: usize,
        max: usize,
    },
    #[error("the signature must be 2 to 12 characters")]
    Signature,
}

pub fn segments(chars: usize) -> usize {
    if chars <= SINGLE {
        1
    } else {
        chars.div_ceil(SEGMENT)
    }
}

/// The text of `kind` with `params`, signed `【sign】`, checked: the
/// parameter count, each parameter's length and characters, at most
/// `max_segments` segments.
pub fn render(
    kind: TemplateKind,
    sign: &str,
    params: &[String],
    max_segments: usize,
) -> Result<Rendered, TemplateError> {
    if !(2..=12).contains(&sign.chars().count()) {
        return Err(TemplateError::Signature);
    }
    if params.len() != kind.param_count() {
        return Err(TemplateError::ParamCount {
            kind,
            want: kind.param_count(),
            got: params.len(),
        });
    }
    let mut text = kind.text().to_string();
    for (i, p) in params.iter().enumerate() {
        let n = i + 1;
        if p.trim().is_empty() {
            return Err(TemplateError::Empty(n));
        }
        if p.chars().count() > MAX_PARAM_CHARS {
            return Err(TemplateError::ParamTooLong(n));
        }
        if p.chars()
            .any(|c| "【】[]{}<>\r\n".contains(c) || c.is_control())
            || p.contains("http")
            || p.contains("www.")
        {
            return Err(TemplateError::Forbidden(n));
        }
        text = text.replace(&format!("{{{n}}}"), p);
    }
    let text = format!("【{sign}】{text}");
    let chars = text.chars().count();
    let segs = segments(chars);
    let max = max_segments.clamp(1, MAX_CHARS.div_ceil(SEGMENT));
    if chars > MAX_CHARS || segs > max {
        return Err(TemplateError::TooLong {
            chars,
            segments: segs,
            max,
        });
    }
    Ok(Rendered {
        text,
        chars,
        segments: segs,
    })
}

/// How a message addresses the person without the full name: the surname
/// and 先生 / 女士 (`female`), or 您 alone when there is no name.
pub fn salutation(name: &str, female: bool) -> String {
    match name.trim().chars().next() {
        Some(c) => format!("{c}{}", if female { "女士" } else { "先生" }),
        None => "尊敬的客户".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_kind_renders_within_two_segments_at_its_longest() {
        let long = "一二三四五六七八九十一二三四五六七八九十";
        for k in TemplateKind::ALL {
            assert_eq!(TemplateKind::parse(k.as_str()), Some(k));
            let placeholders = (1..=k.param_count())
                .filter(|n| k.text().contains(&format!("{{{n}}}")))
                .count();
            assert_eq!(placeholders, k.param_count(), "{k:?}");
            let r = render(k, "体检中心", &vec![long.to_string(); k.param_count()], 3).unwrap();
            assert!(r.segments <= 3, "{k:?}: {r:?}");
        }
    }

    #[test]
    fn a_booking_confirmation_as_the_phone_shows_it() {
        let r = render(
            TemplateKind::BookingConfirmed,
            "市一院体检中心",
            &p(&["张先生", "12月6日", "08:00", "本部"]),
            2,
        )
        .unwrap();
        assert_eq!(
            r.text,
            "【市一院体检中心】张先生您好，您已预约12月6日 08:00在本部体检，请空腹并携带身份证按时到检。"
        );
        assert_eq!((r.chars, r.segments), (50, 1));
    }

    #[test]
    fn segments_are_counted_as_the_platform_bills() {
        assert_eq!(segments(1), 1);
        assert_eq!(segments(70), 1);
        assert_eq!(segments(71), 2);
        assert_eq!(segments(134), 2);
        assert_eq!(segments(135), 3);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let k = TemplateKind::CriticalValue;
        let ok = |v: &[&str]| render(k, "体检中心", &p(v), 1);
        assert!(ok(&["张先生", "0571-88888888"]).is_ok());
        assert_eq!(
            ok(&["张先生"]),
            Err(TemplateError::ParamCount {
                kind: k,
                want: 2,
                got: 1
            })
        );
        assert_eq!(ok(&["", "1"]), Err(TemplateError::Empty(1)));
        assert_eq!(
            ok(&["张先生", "【假冒】"]),
            Err(TemplateError::Forbidden(2))
        );
        assert_eq!(
            ok(&["张先生", "http://x.cn"]),
            Err(TemplateError::Forbidden(2))
        );
        assert_eq!(
            ok(&["张先生", "123456789012345678901"]),
            Err(TemplateError::ParamTooLong(2))
        );
        assert!(matches!(
            render(
                TemplateKind::ReportReady,
                "体检中心",
                &p(&[
                    "一二三四五六七八九十一二三四五六七八九十",
                    "一二三四五六七八九十一二三四五六七八九十"
                ]),
                1
            ),
            Err(TemplateError::TooLong {
                segments: 2,
                max: 1,
                ..
            })
        ));
        assert_eq!(
            render(k, "体", &p(&["a", "b"]), 1),
            Err(TemplateError::Signature)
        );
    }

    #[test]
    fn salutations() {
        assert_eq!(salutation("张三丰", false), "张先生");
        assert_eq!(salutation(" 李四", true), "李女士");
        assert_eq!(salutation("", true), "尊敬的客户");
    }
}
