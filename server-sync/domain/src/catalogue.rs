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
    /// Every campus's code, in the catalogue's order.
    pub fn campus_codes(&self) -> Vec<String> {
        self.campuses.iter().map(|c| c.code.clone()).collect()
    }

    /// A campus's name, or its code when the catalogue has no such campus.
    pub fn campus_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.campuses
            .iter()
            .find(|c| c.code == code)
            .map_or(code, |c| c.name.as_str())
    }

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

/// Why an edited package cannot be saved (E12), in words for the staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("套餐编码为 1–24 位大写字母、数字或 -")]
    Code,
    #[error("套餐名称不能为空，最多 40 字")]
    Name,
    #[error("价格须在 0–100000 元之间")]
    Price,
    #[error("没有体检类型 {0}")]
    ExamType(String),
    #[error("套餐至少包含一个项目")]
    Empty,
    #[error("没有项目 {0}")]
    UnknownItem(String),
    #[error("项目 {0} 重复")]
    Duplicate(String),
    #[error("{name}仅限{only}，不能放进{package}套餐")]
    WrongSex {
        name: String,
        only: &'static str,
        package: &'static str,
    },
    #[error("{0}")]
    Conflict(String),
}

impl Catalogue {
    /// Checks an edited or new package against the dictionaries: its items
    /// exist once each, suit the package's sex, and none conflicts with
    /// another (the rules registration would otherwise refuse later).
    pub fn check_package(&self, p: &Package) -> Result<(), PackageError> {
        let code_ok = !p.code.is_empty()
            && p.code.len() <= 24
            && p.code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if !code_ok {
            return Err(PackageError::Code);
        }
        let name = p.name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(PackageError::Name);
        }
        if !(0..=10_000_000).contains(&p.price_fen) {
            return Err(PackageError::Price);
        }
        if !self.exam_types.iter().any(|t| t.code == p.exam_type) {
            return Err(PackageError::ExamType(p.exam_type.clone()));
        }
        if p.items.is_empty() {
            return Err(PackageError::Empty);
        }
        let label = |s: SexRule| match s {
            SexRule::Male => "男性",
            SexRule::Female => "女性",
            SexRule::Both => "通用",
        };
        for (i, code) in p.items.iter().enumerate() {
            let item = self
                .item(code)
                .ok_or_else(|| PackageError::UnknownItem(code.clone()))?;
            if p.items[..i].contains(code) {
                return Err(PackageError::Duplicate(code.clone()));
            }
            if p.sex != SexRule::Both && item.sex != SexRule::Both && item.sex != p.sex {
                return Err(PackageError::WrongSex {
                    name: item.name.clone(),
                    only: label(item.sex),
                    package: label(p.sex),
                });
            }
        }
        let codes: Vec<&str> = p.items.iter().map(String::as_str).collect();
        crate::plan::check_conflicts(self, &codes)
            .map_err(|e| PackageError::Conflict(e.to_string()))
    }
}

#[cfg(test)]
mod package_tests {
    use super::*;

    fn edit(f: impl FnOnce(&mut Package)) -> Result<(), PackageError> {
        let cat = seed::catalogue();
        let mut p = cat.package("P-M-BASIC").unwrap().clone();
        f(&mut p);
        cat.check_package(&p)
    }

    #[test]
    fn every_seeded_package_passes() {
        let cat = seed::catalogue();
        for p in &cat.packages {
            assert_eq!(cat.check_package(p), Ok(()), "{}", p.code);
        }
    }

    #[test]
    fn edits_that_registration_would_refuse_are_refused_here() {
        assert_eq!(edit(|p| p.items.push("US-THY".into())), Ok(()));
        assert_eq!(edit(|p| p.code = "p-x".into()), Err(PackageError::Code));
        assert_eq!(edit(|p| p.name = " ".into()), Err(PackageError::Name));
        assert_eq!(edit(|p| p.price_fen = -1), Err(PackageError::Price));
        assert_eq!(edit(|p| p.items.clear()), Err(PackageError::Empty));
        assert_eq!(
            edit(|p| p.items.push("NOPE".into())),
            Err(PackageError::UnknownItem("NOPE".into()))
        );
        assert_eq!(
            edit(|p| p.items.push("L-CBC".into())),
            Err(PackageError::Duplicate("L-CBC".into()))
        );
        let e = edit(|p| p.items.push("US-BREAST".into())).unwrap_err();
        assert!(matches!(e, PackageError::WrongSex { .. }), "{e}");
        let e = edit(|p| p.items.push("RAD-LDCT".into())).unwrap_err();
        assert!(
            e.to_string().contains("低剂量") && e.to_string().contains("DR"),
            "both items named: {e}"
        );
    }
}
