//! E12 dictionaries: campuses, departments, rooms, exam items, packages and
//! exam types. Plain data; the seeded catalogue of a Chinese centre is in
//! `catalogue::seed`.

use serde::{Deserialize, Serialize};

use crate::Sex;

pub mod seed;

/// Who an item is for (项目适用性别).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SexRule {
    Both,
    Male,
    Female,
}

impl SexRule {
    pub fn allows(self, sex: Sex) -> bool {
        match self {
            SexRule::Both => true,
            SexRule::Male => sex == Sex::Male,
            SexRule::Female => sex == Sex::Female,
        }
    }
}

/// 婚否: what the centre knows of a person's marital status. Some
/// gynaecological items are only done for people who have been married
/// (已婚 includes divorced and widowed in the centre's usage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Marital {
    Unmarried,
    Married,
    Unknown,
}

impl Marital {
    pub fn as_str(self) -> &'static str {
        match self {
            Marital::Unmarried => "unmarried",
            Marital::Married => "married",
            Marital::Unknown => "unknown",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unmarried" => Some(Self::Unmarried),
            "married" => Some(Self::Married),
            "unknown" => Some(Self::Unknown),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Marital::Unmarried => "未婚",
            Marital::Married => "已婚",
            Marital::Unknown => "未知",
        }
    }
}

/// Which marital status an item requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaritalRule {
    Any,
    /// 已婚项目: e.g. 妇科检查, 宫颈 TCT, 阴道 B 超.
    MarriedOnly,
    /// 未婚项目: e.g. 经腹部子宫附件 B 超 instead of the vaginal one.
    UnmarriedOnly,
}

/// The specimen a lab item needs; items of one sample type share a tube
/// and so a barcode label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleType {
    /// 静脉血 (serum, yellow/red cap tube).
    Serum,
    /// 全血 EDTA (purple cap).
    WholeBlood,
    /// 血浆 citrate (blue cap, coagulation).
    Plasma,
    /// 尿液.
    Urine,
    /// 粪便.
    Stool,
    /// 宫颈脱落细胞.
    Cervical,
    /// 呼气 (13C breath test).
    Breath,
}

impl SampleType {
    pub fn label_zh(self) -> &'static str {
        match self {
            SampleType::Serum => "血清(黄管)",
            SampleType::WholeBlood => "全血(紫管)",
            SampleType::Plasma => "血浆(蓝管)",
            SampleType::Urine => "尿液",
            SampleType::Stool => "粪便",
            SampleType::Cervical => "宫颈细胞",
            SampleType::Breath => "呼气",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campus {
    pub code: String,
    pub name: String,
    /// Digits (never a 4) that prefix exam numbers under a per-campus rule.
    pub exam_no_prefix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub code: String,
    pub campus: String,
    pub name: String,
    pub floor: i32,
    pub department: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamItem {
    pub code: String,
    pub name: String,
    pub department: String,
    /// Room code at each campus is `<campus>-<room>`; the catalogue names the
    /// room by its short code, the same at every campus.
    pub room: String,
    pub sex: SexRule,
    pub marital: MaritalRule,
    /// 空腹: must be done before eating; guide sheets list these first.
    pub fasting: bool,
    pub price_fen: i64,
    pub sample: Option<SampleType>,
    /// Codes of items that may not be booked together with this one, with
    /// the reason shown to the patient. Conflicts are symmetric: either side
    /// may name the other.
    pub conflicts: Vec<Conflict>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub with: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub code: String,
    pub name: String,
    /// Who the package is meant for; `Both` packages hold items of either
    /// sex, and registration drops the ones that don't apply.
    pub sex: SexRule,
    pub items: Vec<String>,
    /// The package price in fen (usually below the sum of its items).
    pub price_fen: i64,
    pub exam_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamType {
    pub code: String,
    pub name: String,
}

/// The whole dictionary set, as loaded from the store or the seed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub campuses: Vec<Campus>,
    pub departments: Vec<Department>,
    pub rooms: Vec<Room>,
    pub items: Vec<ExamItem>,
    pub packages: Vec<Package>,
    pub exam_types: Vec<ExamType>,
}

impl Catalogue {
    pub fn item(&self, code: &str) -> Option<&ExamItem> {
        self.items.iter().find(|i| i.code == code)
    }
    pub fn package(&self, code: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.code == code)
    }
    pub fn room(&self, campus: &str, code: &str) -> Option<&Room> {
        self.rooms
            .iter()
            .find(|r| r.campus == campus && r.code == code)
    }
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }
}
