//! The twenty seeded packages. A `Both` package may hold items of either sex
//! (and both the married and the unmarried gynaecological variants' one
//! side); registration cuts it to the person.

use super::{B, F, M};
use crate::catalogue::SexRule;

/// (code, name, sex, exam_type, price_fen, items)
pub(super) type PackageRow = (
    &'static str,
    &'static str,
    SexRule,
    &'static str,
    i64,
    &'static [&'static str],
);

const BASE: [&str; 3] = ["GEN-BASIC", "INT-EXAM", "SUR-EXAM"];

#[rustfmt::skip]
pub(super) const PACKAGES: &[PackageRow] = &[
    ("P-EMP", "入职体检基础套餐", B, "employment", 19_800, &[
        BASE[0], BASE[1], BASE[2], "EYE-VA", "EYE-COLOR", "ENT-EXAM", "DEN-EXAM",
        "L-CBC", "L-URINE", "L-ALT", "L-AST", "L-TBIL", "L-UREA", "L-CREA", "L-GLU",
        "RAD-DR-CHEST", "ECG-12",
    ]),
    ("P-M-BASIC", "男性基础套餐", M, "health", 46_800, &[
        BASE[0], BASE[1], BASE[2], "GEN-WAIST", "SUR-MALE", "EYE-VA", "EYE-EXAM", "ENT-EXAM",
        "DEN-EXAM", "L-CBC", "L-URINE", "L-ALT", "L-AST", "L-GGT", "L-TBIL", "L-UREA",
        "L-CREA", "L-UA", "L-GLU", "L-LIPID4", "L-AFP", "L-CEA", "RAD-DR-CHEST", "US-ABD",
        "US-PROSTATE", "ECG-12",
    ]),
    ("P-F-BASIC-U", "女性基础套餐(未婚)", F, "health", 56_800, &[
        BASE[0], BASE[1], BASE[2], "GEN-WAIST", "GYN-EXT", "GYN-BREAST", "EYE-VA", "EYE-EXAM",
        "ENT-EXAM", "DEN-EXAM", "L-CBC", "L-URINE", "L-ALT", "L-AST", "L-GGT", "L-TBIL",
        "L-UREA", "L-CREA", "L-UA", "L-GLU", "L-LIPID4", "L-AFP", "L-CEA", "RAD-DR-CHEST",
        "US-ABD", "US-BREAST", "US-ABDGYN", "ECG-12",
    ]),
    ("P-F-BASIC-M", "女性基础套餐(已婚)", F, "health", 72_800, &[
        BASE[0], BASE[1], BASE[2], "GEN-WAIST", "GYN-EXAM", "GYN-BREAST", "EYE-VA", "EYE-EXAM",
        "ENT-EXAM", "DEN-EXAM", "L-CBC", "L-URINE", "L-ALT", "L-AST", "L-GGT", "L-TBIL",
        "L-UREA", "L-CREA", "L-UA", "L-GLU", "L-LIPID4", "L-AFP", "L-CEA", "L-LEUK", "L-TCT",
        "RAD-DR-CHEST", "US-ABD", "US-BREAST", "US-VAG", "ECG-12",
    ]),
    ("P-M-FULL", "男性全面体检套餐", M, "health", 128_000, &[
        BASE[0], BASE[1], BASE[2], "GEN-WAIST", "GEN-BODY", "SUR-DRE", "SUR-MALE", "EYE-VA",
        "EYE-EXAM", "EYE-FUNDUS", "EYE-IOP", "ENT-EXAM", "DEN-EXAM", "L-CBC", "L-URINE",
        "L-STOOL", "L-ALT", "L-AST", "L-GGT", "L-ALP", "L-TBIL", "L-DBIL", "L-TPRO", "L-ALB",
        "L-UREA", "L-CREA", "L-UA", "L-CYSC", "L-GLU", "L-LIPID4", "L-HCY", "L-HSCRP",
        "L-ELEC", "L-THY3", "L-AFP", "L-CEA", "L-CA199", "L-CA724", "L-PSA", "L-FPSA",
        "L-HBV5", "L-C13", "RAD-CT-CHEST", "US-ABD", "US-PROSTATE", "US-THY", "US-CAROTID",
        "ECG-12", "FUNC-BMD",
    ]),
    ("P-F-FULL", "女性全面体检套餐", F, "health", 136_000, &[
        BASE[0], BASE[1], BASE[2], "GEN-WAIST", "GEN-BODY", "GYN-EXAM", "GYN-BREAST",
        "EYE-VA", "EYE-EXAM", "EYE-FUNDUS", "EYE-IOP", "ENT-EXAM", "DEN-EXAM", "L-CBC",
        "L-URINE", "L-STOOL", "L-ALT", "L-AST", "L-GGT", "L-ALP", "L-TBIL", "L-DBIL",
        "L-TPRO", "L-ALB", "L-UREA", "L-CREA", "L-UA", "L-GLU", "L-LIPID4", "L-HSCRP",
        "L-THY3", "L-AFP", "L-CEA", "L-CA199", "L-CA125", "L-CA153", "L-HBV5", "L-LEUK",
        "L-TCT", "L-C13", "RAD-CT-CHEST", "US-ABD", "US-THY", "US-BREAST", "US-VAG",
        "US-CAROTID", "ECG-12", "FUNC-BMD",
    ]),
    ("P-SENIOR", "中老年体检套餐", B, "health", 58_000, &[
        BASE[0], BASE[1], BASE[2], "EYE-VA", "EYE-EXAM", "ENT-EXAM", "GYN-EXAM", "L-CBC",
        "L-URINE", "L-ALT", "L-AST", "L-GGT", "L-TBIL", "L-UREA", "L-CREA", "L-UA", "L-GLU",
        "L-LIPID4", "L-AFP", "L-CEA", "L-PSA", "L-CA125", "RAD-DR-CHEST", "US-ABD",
        "US-CAROTID", "US-PROSTATE", "US-BREAST", "ECG-12", "FUNC-BMD",
    ]),
    ("P-CV", "心脑血管专项套餐", B, "health", 98_000, &[
        BASE[0], BASE[1], "ECG-12", "US-HEART", "US-CAROTID", "US-VERT", "FUNC-ABI",
        "FUNC-TCD", "L-LIPID4", "L-APO", "L-LPA", "L-HCY", "L-HSCRP", "L-GLU", "L-HBA1C",
        "L-CK", "L-BNP", "RAD-CT-HEAD",
    ]),
    ("P-ONC-M", "肿瘤筛查套餐(男)", M, "health", 118_000, &[
        BASE[0], BASE[1], "SUR-DRE", "L-AFP", "L-CEA", "L-CA199", "L-CA724", "L-CA242",
        "L-PSA", "L-FPSA", "L-NSE", "L-CYFRA", "L-SCC", "L-PROGRP", "L-EBV", "L-PG",
        "L-G17", "L-FIT", "L-C13", "RAD-LDCT", "US-ABD", "US-PROSTATE", "US-THY",
    ]),
    ("P-ONC-F", "肿瘤筛查套餐(女)", F, "health", 158_000, &[
        BASE[0], BASE[1], "GYN-EXAM", "GYN-BREAST", "L-AFP", "L-CEA", "L-CA199", "L-CA724",
        "L-CA125", "L-CA153", "L-HE4", "L-NSE", "L-CYFRA", "L-SCC", "L-TCT", "L-HPV",
        "L-PG", "L-G17", "L-FIT", "RAD-LDCT", "RAD-MAMMO", "US-ABD", "US-BREAST", "US-THY",
        "US-VAG",
    ]),
    ("P-GI", "消化道专项套餐", B, "health", 168_000, &[
        BASE[1], "ENDO-GC-PL", "L-C13", "L-PG", "L-G17", "L-FIT", "L-CEA", "L-CA199",
        "L-CA724", "L-CBC", "L-COAG", "L-ALT", "L-AST", "US-ABD", "ECG-12",
    ]),
    ("P-CIVIL", "公务员录用体检套餐", B, "civil_service", 32_000, &[
        BASE[0], BASE[1], BASE[2], "EYE-VA", "EYE-COLOR", "EYE-EXAM", "ENT-EXAM", "DEN-EXAM",
        "GYN-EXAM", "L-CBC", "L-URINE", "L-ALT", "L-AST", "L-TBIL", "L-UREA", "L-CREA",
        "L-GLU", "RAD-DR-CHEST", "US-ABD", "ECG-12",
    ]),
    ("P-TEACHER", "教师资格体检套餐", B, "employment", 34_800, &[
        BASE[0], BASE[1], BASE[2], "EYE-VA", "EYE-COLOR", "ENT-EXAM", "ENT-HEAR", "DEN-EXAM",
        "GYN-EXAM", "L-CBC", "L-URINE", "L-ALT", "L-CREA", "L-GLU", "RAD-DR-CHEST", "US-ABD",
        "ECG-12", "PSY-SCL90",
    ]),
    ("P-DRIVER", "驾驶员体检套餐", B, "driver", 3_000, &[
        BASE[0], BASE[2], "EYE-VA", "EYE-COLOR", "ENT-HEAR",
    ]),
    ("P-GRP-A", "单位团检A套餐", B, "health", 45_000, &[
        BASE[0], BASE[1], BASE[2], "EYE-VA", "EYE-EXAM", "ENT-EXAM", "DEN-EXAM", "GYN-EXAM",
        "GYN-BREAST", "L-CBC", "L-URINE", "L-ALT", "L-AST", "L-GGT", "L-TBIL", "L-UREA",
        "L-CREA", "L-UA", "L-GLU", "L-LIPID4", "L-AFP", "L-CEA", "L-PSA", "RAD-DR-CHEST",
        "US-ABD", "US-PROSTATE", "US-BREAST", "ECG-12",
    ]),
    ("P-GRP-B", "单位团检B套餐", B, "health", 28_000, &[
        BASE[0], BASE[1], BASE[2], "EYE-VA", "ENT-EXAM", "GYN-EXAM", "L-CBC", "L-URINE",
        "L-ALT", "L-AST", "L-CREA", "L-UA", "L-GLU", "L-LIPID4", "RAD-DR-CHEST", "US-ABD",
        "ECG-12",
    ]),
    ("P-VIP-M", "VIP尊享套餐(男)", M, "health", 568_000, &[
        BASE[0], BASE[1], BASE[2], "GEN-WAIST", "GEN-BODY", "SUR-DRE", "SUR-MALE", "EYE-VA",
        "EYE-EXAM", "EYE-FUNDUS", "EYE-IOP", "EYE-OCT", "ENT-EXAM", "ENT-NASO", "DEN-EXAM",
        "DEN-CLEAN", "L-CBC", "L-URINE", "L-UACR", "L-STOOL", "L-COAG", "L-ALT", "L-AST",
        "L-GGT", "L-ALP", "L-TBIL", "L-DBIL", "L-TPRO", "L-ALB", "L-TBA", "L-UREA", "L-CREA",
        "L-UA", "L-CYSC", "L-GLU", "L-INS", "L-HBA1C", "L-LIPID4", "L-APO", "L-LPA", "L-HCY",
        "L-HSCRP", "L-ELEC", "L-CK", "L-BNP", "L-THY5", "L-TAB", "L-VD", "L-FERR",
        "L-HBV5Q", "L-HCV", "L-SYPH", "L-AFP", "L-CEA", "L-CA199", "L-CA724", "L-CA242",
        "L-PSA", "L-FPSA", "L-NSE", "L-CYFRA", "L-SCC", "L-PROGRP", "L-PG", "L-G17", "L-EBV",
        "L-C13", "RAD-LDCT", "RAD-MRI-HEAD", "RAD-MRA-HEAD", "RAD-CT-CAC", "US-ABD",
        "US-URO", "US-PROSTATE", "US-THY", "US-CAROTID", "US-HEART", "FUNC-ABI", "FUNC-DXA",
        "FUNC-PFT", "ECG-12", "ECG-HOLTER", "ENDO-GC-PL", "TCM-CONST", "PSY-SCL90",
    ]),
    ("P-VIP-F", "VIP尊享套餐(女)", F, "health", 588_000, &[
        BASE[0], BASE[1], BASE[2], "GEN-WAIST", "GEN-BODY", "GYN-EXAM", "GYN-BREAST",
        "EYE-VA", "EYE-EXAM", "EYE-FUNDUS", "EYE-IOP", "EYE-OCT", "ENT-EXAM", "ENT-NASO",
        "DEN-EXAM", "DEN-CLEAN", "L-CBC", "L-URINE", "L-UACR", "L-STOOL", "L-COAG", "L-ALT",
        "L-AST", "L-GGT", "L-ALP", "L-TBIL", "L-DBIL", "L-TPRO", "L-ALB", "L-TBA", "L-UREA",
        "L-CREA", "L-UA", "L-CYSC", "L-GLU", "L-INS", "L-HBA1C", "L-LIPID4", "L-APO", "L-LPA",
        "L-HCY", "L-HSCRP", "L-ELEC", "L-CK", "L-BNP", "L-THY5", "L-TAB", "L-VD", "L-FERR",
        "L-SEX6", "L-AMH", "L-HBV5Q", "L-HCV", "L-SYPH", "L-AFP", "L-CEA", "L-CA199",
        "L-CA724", "L-CA125", "L-CA153", "L-HE4", "L-NSE", "L-CYFRA", "L-SCC", "L-PG",
        "L-G17", "L-LEUK", "L-TCT", "L-HPV", "L-C13", "RAD-LDCT", "RAD-MRI-HEAD",
        "RAD-MAMMO", "US-ABD", "US-URO", "US-THY", "US-BREAST", "US-VAG", "US-CAROTID",
        "US-HEART", "FUNC-ABI", "FUNC-DXA", "FUNC-PFT", "ECG-12", "ECG-HOLTER",
        "ENDO-GC-PL", "TCM-CONST", "PSY-SCL90",
    ]),
    ("P-OCC-DUST", "职业健康体检套餐(粉尘作业)", B, "occupational", 23_800, &[
        BASE[0], BASE[1], BASE[2], "ENT-EXAM", "L-CBC", "L-URINE", "L-ALT", "L-AST",
        "RAD-DR-CHEST", "ECG-12", "FUNC-PFT",
    ]),
    ("P-YOUTH", "青年白领体检套餐", B, "health", 78_000, &[
        BASE[0], BASE[1], BASE[2], "GEN-BODY", "EYE-VA", "EYE-EXAM", "DEN-EXAM", "GYN-EXT",
        "L-CBC", "L-URINE", "L-ALT", "L-AST", "L-GGT", "L-UA", "L-GLU", "L-LIPID4", "L-THY3",
        "L-C13", "RAD-DR-CHEST", "US-ABD", "US-THY", "US-BREAST", "US-ABDGYN", "ECG-12",
        "PSY-SCL90", "PSY-SLEEP",
    ]),
];
