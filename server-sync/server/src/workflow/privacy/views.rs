//! What the person's-rights page and its JSON show (masked: a screen at the
//! desk), and the export file (full values: it is the person's own copy).

use chrono::NaiveDate;
use exam_domain::privacy::{self, NOTICE_VERSION, Purpose};
use exam_domain::{BookingState, Catalogue, Sex, mask};
use serde::Serialize;

use crate::db::{
    AccessLine, ConsentRow, FaceHeld, MembershipHeld, PersonRecord, PhotoHeld, ReportHeld, Visit,
};

/// The retention rule, as the page and the export state it.
pub(crate) const RETENTION_RULE: &str = "《医疗机构病历管理规定》（2013 年版）第二十九条：门（急）诊病历自患者最后一次就诊之日起保存不少于 15 年。体检的项目、结果与报告按此保存；手机号、照片与可选授权可删除；仅有预约、未做体检者可整体匿名化。";

/// Where identity fields are corrected (another route, named and audited).
pub(crate) const CORRECTION: &str = "姓名或手机号有误：在前台登记页打开此人的体检记录，用“更正身份信息”更正（须填原因，记入审计日志）。身份证号有误即为另一人，请重新登记。";

#[derive(Debug, Serialize)]
pub(crate) struct PersonShown {
    pub name: String,
    pub id_number: String,
    pub sex: Sex,
    pub mobile: String,
    pub has_mobile: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ItemHeld {
    pub code: String,
    pub name: String,
    pub price_fen: i64,
    pub paid: bool,
    pub status: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct VisitHeld {
    pub id: i64,
    pub exam_no: String,
    pub code: String,
    pub date: NaiveDate,
    pub campus: String,
    pub package: String,
    pub state: BookingState,
    pub state_zh: &'static str,
    pub performed: bool,
    pub registered_at: Option<String>,
    pub items: Vec<ItemHeld>,
}

impl VisitHeld {
    pub(crate) fn new(cat: &Catalogue, v: &Visit) -> Self {
        let b = &v.record.booking;
        Self {
            id: b.id,
            exam_no: b.exam_no.clone(),
            code: b.code.clone(),
            date: b.exam_date,
            campus: b.campus.clone(),
            package: b.package.clone(),
            state: b.state,
            state_zh: match b.state {
                BookingState::Booked => "已预约",
                BookingState::CheckedIn => "已登记",
                BookingState::Cancelled => "已取消",
            },
            performed: b.state == BookingState::CheckedIn || v.registered_at.is_some(),
            registered_at: v.registered_at.map(crate::db::ts),
            items: v
                .items
                .iter()
                .map(|i| ItemHeld {
                    code: i.code.clone(),
                    name: cat
                        .item(&i.code)
                        .map_or_else(|| i.code.clone(), |it| it.name.clone()),
                    price_fen: i.price_fen,
                    paid: i.paid,
                    status: i.status.label_zh(),
                })
                .collect(),
        }
    }
}

/// One purpose: whether a consent is in force, and what it allows.
#[derive(Debug, Serialize)]
pub(crate) struct PurposeState {
    pub purpose: Purpose,
    pub label: &'static str,
    pub allows: &'static str,
    pub in_force: bool,
    pub required: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Retention {
    pub medical_record: bool,
    pub exams_performed: usize,
    pub keep_until: Option<NaiveDate>,
    pub may_anonymise: bool,
    pub rule: &'static str,
}

/// Everything held, as the desk's screen shows it (identity masked).
#[derive(Debug, Serialize)]
pub(crate) struct RecordView {
    pub person: PersonShown,
    pub visits: Vec<VisitHeld>,
    pub reports: Vec<ReportHeld>,
    pub photos: Vec<PhotoHeld>,
    pub face: Option<FaceHeld>,
    pub consents: Vec<ConsentRow>,
    pub purposes: Vec<PurposeState>,
    pub memberships: Vec<MembershipHeld>,
    pub accesses: Vec<AccessLine>,
    pub retention: Retention,
    pub notice_version: &'static str,
    pub correction: &'static str,
}

pub(crate) fn purposes(consents: &[ConsentRow]) -> Vec<PurposeState> {
    let answers: Vec<privacy::Consent> = consents.iter().filter_map(|c| c.consent().ok()).collect();
    Purpose::ALL
        .into_iter()
        .map(|p| PurposeState {
            purpose: p,
            label: p.label_zh(),
            allows: p.allows_zh(),
            in_force: privacy::allows(&answers, p),
            required: p.required(),
        })
        .collect()
}

pub(crate) fn retention(r: &PersonRecord) -> Retention {
    Retention {
        medical_record: r.held.has_medical_record(),
        exams_performed: r.held.exams_performed,
        keep_until: r.held.keep_until(),
        may_anonymise: !r.held.has_medical_record(),
        rule: RETENTION_RULE,
    }
}

impl RecordView {
    pub(crate) fn new(cat: &Catalogue, r: &PersonRecord) -> Self {
        let p = &r.person;
        Self {
            person: PersonShown {
                name: mask::name(&p.name),
                id_number: mask::id_number(p.id_number.as_str()),
                sex: p.sex,
                mobile: mask::mobile(&p.mobile),
                has_mobile: !p.mobile.is_empty(),
            },
            visits: r.visits.iter().map(|v| VisitHeld::new(cat, v)).collect(),
            reports: r.reports.clone(),
            photos: r.photos.clone(),
            face: r.face.clone(),
            consents: r.consents.clone(),
            purposes: purposes(&r.consents),
            memberships: r.memberships.clone(),
            accesses: r.accesses.clone(),
            retention: retention(r),
            notice_version: NOTICE_VERSION,
            correction: CORRECTION,
        }
    }
}

/// The person's own copy: every value in full.
#[derive(Debug, Serialize)]
pub(crate) struct ExportFile {
    pub exported_at: String,
    pub exported_by: String,
    pub notice_version: &'static str,
    pub person: exam_domain::Person,
    pub visits: Vec<VisitHeld>,
    pub reports: Vec<ReportHeld>,
    pub photos: Vec<PhotoExport>,
    pub face: Option<FaceHeld>,
    pub consents: Vec<ConsentRow>,
    pub memberships: Vec<MembershipHeld>,
    pub accesses: Vec<AccessLine>,
    pub retention: Retention,
}

/// A check-in photo with the picture itself when it is still held.
#[derive(Debug, Serialize)]
pub(crate) struct PhotoExport {
    #[serde(flatten)]
    pub photo: PhotoHeld,
    /// The picture, PNG as base64.
    pub png_base64: Option<String>,
}
