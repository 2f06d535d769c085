//! What a report shows, as plain data: the service fills these from its
//! records; this crate only lays them out.

use serde::Serialize;

/// The exam's kind: each has its own cover title and closing section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExamKind {
    /// 健康体检
    Health,
    /// 职业健康检查: hazards and the occupational conclusion.
    Occupational,
    /// 入职体检: fit or not for the post.
    Entry,
}

impl ExamKind {
    pub fn title(self) -> &'static str {
        match self {
            Self::Health => "健康体检报告",
            Self::Occupational => "职业健康检查报告",
            Self::Entry => "入职体检报告",
        }
    }
}

/// The centre that issues the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Centre {
    pub name: String,
    /// Address and telephone, on the cover.
    pub contact: String,
}

/// A result's flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Normal,
    High,
    Low,
    /// A finding (not a number) that is abnormal.
    Abnormal,
}

impl Flag {
    pub fn abnormal(self) -> bool {
        self != Flag::Normal
    }
    pub fn mark(self) -> &'static str {
        match self {
            Flag::Normal => "",
            Flag::High => "↑",
            Flag::Low => "↓",
            Flag::Abnormal => "异常",
        }
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultRow {
    pub name: String,
    pub value: String,
    pub unit: String,
    pub flag: Flag,
    /// The reference range, empty for findings.
    pub range: String,
}

/// A department's (or laboratory's) results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub name: String,
    /// Laboratory tables show units and reference ranges.
    pub lab: bool,
    pub rows: Vec<ResultRow>,
    /// 小结
    pub summary: String,
    pub doctor: String,
    /// Entered by hand (not from the laboratory or imaging system).
    pub by_hand: bool,
}

/// One of the chief physician's conclusions with its advice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conclusion {
    pub name: String,
    pub advice: String,
}

/// A key indicator over the person's years.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub name: String,
    pub unit: String,
    /// (year, value), oldest first.
    pub points: Vec<(String, f64)>,
    pub range: Option<(f64, f64)>,
}

/// The occupational exam's own part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occupational {
    /// 接触的职业病危害因素
    pub hazards: String,
    /// 目前未见异常 / 复查 / 疑似职业病 / 职业禁忌证 / 其他疾病或异常
    pub conclusion: String,
}

/// One person's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Personal {
    pub kind: ExamKind,
    pub centre: Centre,
    pub name: String,
    pub sex: String,
    pub age: u32,
    /// Masked (e.g. 1101**********1234).
    pub id_masked: String,
    pub exam_no: String,
    pub company: Option<String>,
    pub package: String,
    pub exam_date: String,
    /// Major abnormal results (重要异常), shown first in red.
    pub major: Vec<String>,
    /// Every abnormal result, one line each.
    pub abnormal: Vec<String>,
    pub conclusions: Vec<Conclusion>,
    /// 病史 and the departments' questionnaires: (what, told).
    pub history: Vec<(String, String)>,
    pub sections: Vec<Section>,
    pub trends: Vec<Trend>,
    pub occupational: Option<Occupational>,
    /// Entry exams: 合格 / 不合格 with the reason.
    pub fitness: Option<String>,
    pub chief: String,
    pub reviewer: String,
    /// The reviewer's signature image (PNG).
    pub signature: Option<Vec<u8>>,
    pub review_date: String,
}

/// A count and its share of the people examined.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub label: String,
    pub men: u32,
    pub women: u32,
}

impl Count {
    pub fn people(&self) -> u32 {
        self.men + self.women
    }
}

/// One person's line in the group book.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub name: String,
    pub sex: String,
    pub age: u32,
    pub exam_no: String,
    /// The main conclusions, joined.
    pub conclusions: String,
}

/// A major abnormal result in the company's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MajorLine {
    pub name: String,
    pub exam_no: String,
    pub finding: String,
    /// 已通知 / 已随访 …
    pub handled: String,
}

/// The company's group report book (团检报告).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupBook {
    pub centre: Centre,
    pub company: String,
    pub period: String,
    pub examined: u32,
    pub booked: u32,
    /// By age band and sex: (band, men, women).
    pub by_age: Vec<(String, u32, u32)>,
    /// Abnormal findings, most frequent first.
    pub findings: Vec<Count>,
    pub majors: Vec<MajorLine>,
    pub members: Vec<Member>,
    /// Advice to the company.
    pub advice: Vec<String>,
    pub reviewer: String,
    pub date: String,
}

/// One person on a company's pickup slip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickupLine {
    pub exam_no: String,
    pub name: String,
    pub sex: String,
    pub department: String,
    pub pages: u32,
}

/// The company's batch pickup slip (报告领取单): who receives which report,
/// with a line to sign each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickupSlip {
    pub centre: Centre,
    pub company: String,
    pub date: String,
    pub lines: Vec<PickupLine>,
}
