//! Personal information (PIPL, 个人信息保护法; S6 / 002 §(九) 6.5): what
//! each purpose of processing allows, what withdrawing a consent stops, and
//! what may be erased while the medical-record retention rule holds. Pure:
//! the store records consents and performs the erasure; the rules are here.
//!
//! The retention rule: 《医疗机构病历管理规定》（2013 年版）第二十九条 —
//! outpatient records (门（急）诊病历) are kept at least 15 years from the
//! patient's last visit. A health examination's items, results and report
//! are such a record, so once an exam was performed (the person checked in
//! at a kiosk or was registered at the desk) they are kept, and only what
//! the record does not need may be erased: the mobile number, the check-in
//! photo, and the optional consents (SMS, employer delivery, research). A
//! person with bookings only (no exam performed) has no medical record and
//! may be anonymised whole.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

mod notice;

pub use notice::{NOTICE, NOTICE_VERSION, NoticeSection, notice_lines};

/// Years a medical record is kept after the last visit (see the module doc).
pub const MEDICAL_RECORD_YEARS: i32 = 15;

/// Why personal information is processed; each is consented to (or not)
/// on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The examination itself: booking, registration, items, results,
    /// report. Necessary for the service the person asked for (PIPL
    /// art. 13 (2)); cannot be withdrawn while records are kept.
    ExamService,
    /// The photo taken at the kiosk, printed on the guide sheet and shown
    /// to the desk to check who is who (K6).
    PhotoIdentity,
    /// Text messages: booking confirmations, report ready, reminders.
    SmsNotifications,
    /// A group exam's report sent to the employer that booked it.
    EmployerReport,
    /// De-identified use for statistics and research.
    Research,
    /// K3 刷脸: a face template (an embedding computed at the kiosk from the
    /// check-in photo) kept to recognise the person at a later visit, and
    /// compared with the camera's picture at the kiosk when they choose
    /// face check-in.
    FaceRecognition,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Purpose::ExamService,
        Purpose::PhotoIdentity,
        Purpose::SmsNotifications,
        Purpose::EmployerReport,
        Purpose::Research,
        Purpose::FaceRecognition,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::ExamService => "exam_service",
            Purpose::PhotoIdentity => "photo_identity",
            Purpose::SmsNotifications => "sms_notifications",
            Purpose::EmployerReport => "employer_report",
            Purpose::Research => "research",
            Purpose::FaceRecognition => "face_recognition",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Purpose::ExamService => "体检服务",
            Purpose::PhotoIdentity => "现场拍照核对身份",
            Purpose::SmsNotifications => "短信通知",
            Purpose::EmployerReport => "向单位提供团检报告",
            Purpose::Research => "去标识化统计与研究",
            Purpose::FaceRecognition => "刷脸签到",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Purpose::ExamService => "The examination itself",
            Purpose::PhotoIdentity => "Photo to check identity",
            Purpose::SmsNotifications => "Text messages",
            Purpose::EmployerReport => "Report to the employer (group exams)",
            Purpose::Research => "De-identified statistics and research",
            Purpose::FaceRecognition => "Face check-in",
        }
    }

    /// What a consent to this purpose lets the centre do.
    pub fn allows_zh(self) -> &'static str {
        match self {
            Purpose::ExamService => {
                "处理身份、预约、检查项目、结果与报告，用于完成本次体检；病历按规定保存"
            }
            Purpose::PhotoIdentity => "在自助机拍照，印在指引单上并供服务台核对本人",
            Purpose::SmsNotifications => "向登记的手机号发送预约确认、报告就绪等短信",
            Purpose::EmployerReport => "团检时把体检报告提供给组织体检的单位",
            Purpose::Research => "去除身份信息后用于统计与科研",
            Purpose::FaceRecognition => {
                "保存由现场照片计算的人脸特征（不是照片），下次来检时在自助机刷脸签到"
            }
        }
    }

    /// Necessary for the service itself: recorded, but not withdrawable
    /// (the person may instead ask for erasure where retention allows).
    pub fn required(self) -> bool {
        self == Purpose::ExamService
    }

    /// What withdrawing a consent to this purpose stops or removes.
    pub fn on_withdrawal(self) -> &'static [Withdrawal] {
        match self {
            Purpose::ExamService => &[],
            Purpose::PhotoIdentity => &[Withdrawal::DeletePhotos],
            Purpose::SmsNotifications => &[Withdrawal::StopSms],
            Purpose::EmployerReport => &[Withdrawal::StopEmployerReport],
            Purpose::Research => &[Withdrawal::ExcludeFromResearch],
            Purpose::FaceRecognition => &[Withdrawal::DeleteFaceTemplates],
        }
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a withdrawal does, for the store to carry out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Withdrawal {
    /// Every stored check-in photo of the person is deleted.
    DeletePhotos,
    /// No more text messages.
    StopSms,
    /// No report goes to the employer any more.
    StopEmployerReport,
    /// Left out of statistics and research exports.
    ExcludeFromResearch,
    /// The person's face templates are deleted: no kiosk recognises them.
    DeleteFaceTemplates,
}

/// Where a consent was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Kiosk,
    Desk,
    Phone,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Kiosk, Channel::Desk, Channel::Phone];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Kiosk => "kiosk",
            Channel::Desk => "desk",
            Channel::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Channel::Kiosk => "自助机",
            Channel::Desk => "服务台",
            Channel::Phone => "手机页面",
        }
    }
}

/// One answer of a person about one purpose: given (or refused) at `at`
/// through `channel` after seeing the notice of `notice_version`, and
/// withdrawn at `withdrawn_at` if it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub purpose: Purpose,
    pub granted: bool,
    pub channel: Channel,
    pub notice_version: String,
    pub at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// The answer in force for `purpose`: the latest one given.
pub fn current(records: &[Consent], purpose: Purpose) -> Option<&Consent> {
    records
        .iter()
        .filter(|c| c.purpose == purpose)
        .max_by_key(|c| c.at)
}

/// May the centre process for `purpose` now? Only on a consent in force:
/// the latest answer was yes and has not been withdrawn. No answer is no.
pub fn allows(records: &[Consent], purpose: Purpose) -> bool {
    current(records, purpose).is_some_and(|c| c.granted && c.withdrawn_at.is_none())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawError {
    #[error("{0} 是体检服务所必需的，不能撤回；可申请删除可删除的信息")]
    Required(&'static str),
    #[error("没有在效的同意可撤回")]
    NotInForce,
}

/// Checks a withdrawal of `purpose` and says what it must do.
pub fn withdraw(
    records: &[Consent],
    purpose: Purpose,
) -> Result<&'static [Withdrawal], WithdrawError> {
    if purpose.required() {
        return Err(WithdrawError::Required(purpose.label_zh()));
    }
    if !allows(records, purpose) {
        return Err(WithdrawError::NotInForce);
    }
    Ok(purpose.on_withdrawal())
}

/// What the centre holds of a person, as far as erasure depends on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// Visits where the exam was performed (checked in or registered).
    pub exams_performed: usize,
    /// The date of the latest performed exam.
    pub last_exam: Option<NaiveDate>,
    /// Published reports (they exist only for performed exams).
    pub reports: usize,
}

impl Held {
    /// A medical record exists: the retention rule applies.
    pub fn has_medical_record(&self) -> bool {
        self.exams_performed > 0 || self.reports > 0
    }

    /// The earliest day the medical record may be destroyed.
    pub fn keep_until(&self) -> Option<NaiveDate> {
        self.last_exam.map(|d| {
            let y = d.year() + MEDICAL_RECORD_YEARS;
            // 29 February of a year that has none: the next day.
            d.with_year(y)
                .or_else(|| NaiveDate::from_ymd_opt(y, 3, 1))
                .unwrap_or(d)
        })
    }
}

/// What the person asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Erasure {
    /// The mobile number, the photos and the optional consents.
    ContactAndPhoto,
    /// Everything: only for a person without a medical record.
    Anonymise,
}

/// What an erasure does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasurePlan {
    pub erase_mobile: bool,
    pub delete_photos: bool,
    /// Optional consents withdrawn with it.
    pub withdraw: Vec<Purpose>,
    /// Name, ID number and group memberships replaced by a pseudonym;
    /// open bookings cancelled.
    pub anonymise: bool,
    /// The medical record kept until this day (the retention rule).
    pub keep_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ErasureError {
    #[error(
        "已有体检记录，按《医疗机构病历管理规定》须保存至 {until}，不能整体匿名化；可删除手机号、照片与可选授权"
    )]
    RecordKept { until: NaiveDate },
}

/// The erasure the retention rule allows for `ask`.
pub fn plan_erasure(held: &Held, ask: Erasure) -> Result<ErasurePlan, ErasureError> {
    let withdraw = Purpose::ALL.into_iter().filter(|p| !p.required()).collect();
    match ask {
        Erasure::ContactAndPhoto => Ok(ErasurePlan {
            erase_mobile: true,
            delete_photos: true,
            withdraw,
            anonymise: false,
            keep_until: held.keep_until(),
        }),
        Erasure::Anonymise if held.has_medical_record() => Err(ErasureError::RecordKept {
            until: held.keep_until().unwrap_or(NaiveDate::MAX),
        }),
        Erasure::Anonymise => Ok(ErasurePlan {
            erase_mobile: true,
            delete_photos: true,
            withdraw,
            anonymise: true,
            keep_until: None,
        }),
    }
}

#[cfg(test)]
mod tests;
