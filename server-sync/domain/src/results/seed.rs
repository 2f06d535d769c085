//! The seeded knowledge base (知识库模板, item 28): templates for the items
//! departments enter most, and the conclusions dictionary with its advice.
//! Reference ranges are the adult ranges of 《全国临床检验操作规程》(第4版)
//! and WS/T 404 as Chinese laboratories print them; blood pressure per the
//! 2018 Chinese hypertension guideline; BMI per WS/T 428 (Chinese adults:
//! 18.5–23.9). Major findings per 《健康体检重要异常结果管理专家共识》
//! (A: act now; B: soon). A centre edits this dictionary (item 87); the
//! seed is where a new centre starts.

use super::{Conclusion, Field, FieldKind, Finding, Knowledge, NORMAL, RefRange, Template};
use crate::abnormal::Category;
use crate::catalogue::SexRule;

const ADULT: (u32, u32) = (18, 200);
const ALL_AGES: (u32, u32) = (0, 200);

fn range(sex: SexRule, ages: (u32, u32), low: Option<f64>, high: Option<f64>) -> RefRange {
    RefRange {
        sex,
        ages,
        low,
        high,
    }
}

/// Both sexes, every age, `low..=high`.
fn both(low: Option<f64>, high: Option<f64>) -> Vec<RefRange> {
    vec![range(SexRule::Both, ALL_AGES, low, high)]
}

/// Men's and women's adult ranges.
fn by_sex(m: (f64, f64), f: (f64, f64)) -> Vec<RefRange> {
    vec![
        range(SexRule::Male, ALL_AGES, Some(m.0), Some(m.1)),
        range(SexRule::Female, ALL_AGES, Some(f.0), Some(f.1)),
    ]
}

#[allow(clippy::too_many_arguments)]
fn num(
    code: &str,
    name: &str,
    unit: &str,
    decimals: u8,
    plausible: (f64, f64),
    ranges: Vec<RefRange>,
    low: Option<&str>,
    high: Option<&str>,
) -> Field {
    Field {
        code: code.into(),
        name: name.into(),
        kind: FieldKind::Numeric {
            unit: unit.into(),
            decimals,
            plausible,
            ranges,
            low_conclusion: low.map(String::from),
            high_conclusion: high.map(String::from),
            steady: None,
        },
        required: true,
    }
}

/// (code, text, conclusion, major, lasting)
type Pos = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<Category>,
    bool,
);

fn fin(code: &str, name: &str, positives: &[Pos]) -> Field {
    Field {
        code: code.into(),
        name: name.into(),
        kind: FieldKind::Findings {
            normal: NORMAL.into(),
            positives: positives
                .iter()
                .map(|(c, t, concl, major, lasting)| Finding {
                    code: (*c).into(),
                    text: (*t).into(),
                    conclusion: concl.map(String::from),
                    major: *major,
                    lasting: *lasting,
                })
                .collect(),
        },
        required: true,
    }
}

fn remark() -> Field {
    Field {
        code: "remark".into(),
        name: "备注".into(),
        kind: FieldKind::Text,
        required: false,
    }
}

fn t(item: &str, mut fields: Vec<Field>) -> Template {
    fields.push(remark());
    Template {
        item: item.into(),
        fields,
    }
}

const A: Option<Category> = Some(Category::A);
const B: Option<Category> = Some(Category::B);

fn templates() -> Vec<Template> {
    let mut height = num("height", "身高", "cm", 1, (40.0, 250.0), vec![], None, None);
    if let FieldKind::Numeric { steady, .. } = &mut height.kind {
        *steady = Some(2.0);
    }
    vec![
        t(
            "GEN-BASIC",
            vec![
                height,
                num("weight", "体重", "kg", 1, (2.0, 300.0), vec![], None, None),
                num(
                    "bmi",
                    "体重指数",
                    "kg/m²",
                    1,
                    (8.0, 80.0),
                    vec![range(SexRule::Both, ADULT, Some(18.5), Some(23.9))],
                    Some("LOW_WEIGHT"),
                    Some("OVERWEIGHT"),
                ),
                num(
                    "sbp",
                    "收缩压",
                    "mmHg",
                    0,
                    (50.0, 300.0),
                    both(None, Some(139.0)),
                    None,
                    Some("HBP"),
                ),
                num(
                    "dbp",
                    "舒张压",
                    "mmHg",
                    0,
                    (30.0, 200.0),
                    both(None, Some(89.0)),
                    None,
                    Some("HBP"),
                ),
                num(
                    "pulse",
                    "脉搏",
                    "次/分",
                    0,
                    (20.0, 250.0),
                    both(Some(60.0), Some(100.0)),
                    Some("BRADY"),
                    Some("TACHY"),
                ),
            ],
        ),
        t(
            "INT-EXAM",
            vec![
                fin(
                    "heart",
                    "心脏",
                    &[
                        ("arrhythmia", "心律不齐", Some("ARRHYTHMIA"), None, false),
                        ("murmur", "心脏杂音", Some("MURMUR"), None, false),
                    ],
                ),
                fin(
                    "lung",
                    "肺部",
                    &[("coarse", "双肺呼吸音粗", Some("LUNG_MARKINGS"), None, false)],
                ),
                fin(
                    "abdomen",
                    "腹部",
                    &[("hepatomegaly", "肝脏肋下可触及", None, None, false)],
                ),
            ],
        ),
        t(
            "SUR-EXAM",
            vec![
                fin(
                    "skin",
                    "皮肤",
                    &[("nevus", "皮肤色素痣", None, None, false)],
                ),
                fin(
                    "lymph",
                    "浅表淋巴结",
                    &[("enlarged", "浅表淋巴结肿大", Some("LYMPH"), None, false)],
                ),
                fin(
                    "thyroid",
                    "甲状腺",
                    &[(
                        "nodule",
                        "甲状腺可触及结节",
                        Some("THY_NODULE"),
                        None,
                        false,
                    )],
                ),
                fin(
                    "spine",
                    "脊柱四肢",
                    &[("scoliosis", "脊柱侧弯", Some("SCOLIOSIS"), None, false)],
                ),
            ],
        ),
        t(
            "EYE-VA",
            vec![
                num(
                    "od",
                    "右眼视力",
                    "",
                    1,
                    (0.01, 2.0),
                    both(Some(0.8), None),
                    Some("LOW_VA"),
                    None,
                ),
                num(
                    "os",
                    "左眼视力",
                    "",
                    1,
                    (0.01, 2.0),
                    both(Some(0.8), None),
                    Some("LOW_VA"),
                    None,
                ),
            ],
        ),
        t(
            "ENT-EXAM",
            vec![
                fin(
                    "pharynx",
                    "咽部",
                    &[(
                        "chronic",
                        "咽部充血，滤泡增生",
                        Some("PHARYNGITIS"),
                        None,
                        false,
                    )],
                ),
                fin(
                    "nose",
                    "鼻部",
                    &[("septum", "鼻中隔偏曲", None, None, false)],
                ),
                fin(
                    "ear",
                    "外耳道",
                    &[("cerumen", "耵聍栓塞", None, None, false)],
                ),
            ],
        ),
        t(
            "DEN-EXAM",
            vec![fin(
                "teeth",
                "牙齿",
                &[
                    ("caries", "龋齿", Some("CARIES"), None, false),
                    ("calculus", "牙结石", Some("CALCULUS"), None, false),
                ],
            )],
        ),
        t(
            "GYN-EXAM",
            vec![fin(
                "cervix",
                "宫颈",
                &[(
                    "erosion",
                    "宫颈柱状上皮外移，充血",
                    Some("CERVICITIS"),
                    None,
                    false,
                )],
            )],
        ),
        t(
            "US-ABD",
            vec![
                fin(
                    "liver",
                    "肝脏",
                    &[
                        (
                            "fatty",
                            "肝脏回声增强、增粗，远场衰减",
                            Some("FATTY_LIVER"),
                            None,
                            false,
                        ),
                        (
                            "cyst",
                            "肝内无回声区，边界清",
                            Some("LIVER_CYST"),
                            None,
                            false,
                        ),
                        (
                            "mass",
                            "肝内实性占位，边界不清",
                            Some("LIVER_MASS"),
                            B,
                            false,
                        ),
                    ],
                ),
                fin(
                    "gallbladder",
                    "胆囊",
                    &[
                        (
                            "stone",
                            "胆囊内强回声伴声影",
                            Some("GALLSTONE"),
                            None,
                            false,
                        ),
                        (
                            "polyp",
                            "胆囊壁等回声凸起，不随体位移动",
                            Some("GB_POLYP"),
                            None,
                            false,
                        ),
                        (
                            "removed",
                            "胆囊切除术后",
                            Some("CHOLECYSTECTOMY"),
                            None,
                            true,
                        ),
                    ],
                ),
                fin(
                    "kidney",
                    "双肾",
                    &[
                        ("stone", "肾内强回声", Some("KIDNEY_STONE"), None, false),
                        ("cyst", "肾内无回声区", Some("KIDNEY_CYST"), None, false),
                    ],
                ),
                fin(
                    "spleen",
                    "脾脏",
                    &[("enlarged", "脾脏增大", Some("SPLENOMEGALY"), None, false)],
                ),
            ],
        ),
        t(
            "US-THY",
            vec![fin(
                "thyroid",
                "甲状腺",
                &[
                    (
                        "nodule3",
                        "甲状腺结节，TI-RADS 3类",
                        Some("THY_NODULE"),
                        None,
                        false,
                    ),
                    (
                        "nodule4",
                        "甲状腺实性低回声结节，纵横比>1，TI-RADS 4类及以上",
                        Some("THY_NODULE_HIGH"),
                        B,
                        false,
                    ),
                ],
            )],
        ),
        t(
            "ECG-12",
            vec![fin(
                "ecg",
                "心电图",
                &[
                    ("brady", "窦性心动过缓", Some("BRADY"), None, false),
                    ("st_t", "ST-T改变", Some("ST_T"), None, false),
                    ("af_rvr", "心房颤动伴快速心室率", Some("AF_RVR"), A, false),
                    ("avb3", "三度房室传导阻滞", Some("AVB3"), A, false),
                ],
            )],
        ),
        t(
            "RAD-DR-CHEST",
            vec![fin(
                "chest",
                "胸部",
                &[
                    (
                        "markings",
                        "双肺纹理增多",
                        Some("LUNG_MARKINGS"),
                        None,
                        false,
                    ),
                    ("nodule", "肺内结节影", Some("LUNG_NODULE"), None, false),
                    ("mass", "肺内团块影，边缘分叶", Some("LUNG_MASS"), B, false),
                    (
                        "pneumothorax",
                        "气胸，肺组织压缩",
                        Some("PNEUMOTHORAX"),
                        A,
                        false,
                    ),
                ],
            )],
        ),
        t(
            "RAD-LDCT",
            vec![fin(
                "lung",
                "肺部",
                &[
                    (
                        "nodule_small",
                        "肺内微小结节（<6mm）",
                        Some("LUNG_NODULE"),
                        None,
                        false,
                    ),
                    (
                        "nodule_large",
                        "肺内实性结节（≥8mm）",
                        Some("LUNG_MASS"),
                        B,
                        false,
                    ),
                ],
            )],
        ),
        t(
            "L-CBC",
            vec![
                num(
                    "wbc",
                    "白细胞计数",
                    "10^9/L",
                    2,
                    (0.1, 500.0),
                    both(Some(3.5), Some(9.5)),
                    Some("LEUKOPENIA"),
                    Some("LEUKOCYTOSIS"),
                ),
                num(
                    "hgb",
                    "血红蛋白",
                    "g/L",
                    0,
                    (20.0, 250.0),
                    by_sex((130.0, 175.0), (115.0, 150.0)),
                    Some("ANAEMIA"),
                    Some("POLYCYTHAEMIA"),
                ),
                num(
                    "plt",
                    "血小板计数",
                    "10^9/L",
                    0,
                    (1.0, 2000.0),
                    both(Some(125.0), Some(350.0)),
                    Some("THROMBOCYTOPENIA"),
                    Some("THROMBOCYTOSIS"),
                ),
            ],
        ),
        t(
            "L-ESR",
            // Westergren, by sex and age.
            vec![num(
                "esr",
                "红细胞沉降率",
                "mm/h",
                0,
                (0.0, 150.0),
                vec![
                    range(SexRule::Male, (0, 50), None, Some(15.0)),
                    range(SexRule::Male, (50, 200), None, Some(20.0)),
                    range(SexRule::Female, (0, 50), None, Some(20.0)),
                    range(SexRule::Female, (50, 200), None, Some(30.0)),
                ],
                None,
                Some("ESR_HIGH"),
            )],
        ),
        t(
            "L-GLU",
            vec![num(
                "glu",
                "空腹血糖",
                "mmol/L",
                2,
                (0.5, 50.0),
                both(Some(3.9), Some(6.1)),
                Some("HYPOGLYCAEMIA"),
                Some("HYPERGLYCAEMIA"),
            )],
        ),
        t(
            "L-HBA1C",
            vec![num(
                "hba1c",
                "糖化血红蛋白",
                "%",
                1,
                (2.0, 20.0),
                both(Some(4.0), Some(6.0)),
                None,
                Some("HBA1C_HIGH"),
            )],
        ),
        t(
            "L-LIPID4",
            vec![
                num(
                    "tc",
                    "总胆固醇",
                    "mmol/L",
                    2,
                    (0.5, 30.0),
                    both(None, Some(5.2)),
                    None,
                    Some("HYPERCHOL"),
                ),
                num(
                    "tg",
                    "甘油三酯",
                    "mmol/L",
                    2,
                    (0.1, 60.0),
                    both(None, Some(1.7)),
                    None,
                    Some("HYPERTG"),
                ),
                num(
                    "hdl",
                    "高密度脂蛋白胆固醇",
                    "mmol/L",
                    2,
                    (0.1, 6.0),
                    both(Some(1.0), None),
                    Some("LOW_HDL"),
                    None,
                ),
                num(
                    "ldl",
                    "低密度脂蛋白胆固醇",
                    "mmol/L",
                    2,
                    (0.1, 20.0),
                    both(None, Some(3.4)),
                    None,
                    Some("HIGH_LDL"),
                ),
            ],
        ),
        t(
            "L-ALT",
            vec![num(
                "alt",
                "谷丙转氨酶",
                "U/L",
                0,
                (1.0, 10000.0),
                by_sex((9.0, 50.0), (7.0, 40.0)),
                None,
                Some("ALT_HIGH"),
            )],
        ),
        t(
            "L-AST",
            vec![num(
                "ast",
                "谷草转氨酶",
                "U/L",
                0,
                (1.0, 10000.0),
                by_sex((15.0, 40.0), (13.0, 35.0)),
                None,
                Some("AST_HIGH"),
            )],
        ),
        t(
            "L-CREA",
            vec![num(
                "crea",
                "肌酐",
                "µmol/L",
                0,
                (5.0, 3000.0),
                by_sex((57.0, 111.0), (41.0, 81.0)),
                None,
                Some("CREA_HIGH"),
            )],
        ),
        t(
            "L-UA",
            vec![num(
                "ua",
                "尿酸",
                "µmol/L",
                0,
                (30.0, 2000.0),
                by_sex((208.0, 428.0), (155.0, 357.0)),
                None,
                Some("HYPERURICAEMIA"),
            )],
        ),
        t(
            "L-ELEC",
            vec![
                num(
                    "k",
                    "钾",
                    "mmol/L",
                    2,
                    (1.0, 10.0),
                    both(Some(3.5), Some(5.3)),
                    Some("HYPOKALAEMIA"),
                    Some("HYPERKALAEMIA"),
                ),
                num(
                    "na",
                    "钠",
                    "mmol/L",
                    1,
                    (90.0, 200.0),
                    both(Some(137.0), Some(147.0)),
                    Some("HYPONATRAEMIA"),
                    Some("HYPERNATRAEMIA"),
                ),
                num(
                    "cl",
                    "氯",
                    "mmol/L",
                    1,
                    (60.0, 150.0),
                    both(Some(99.0), Some(110.0)),
                    None,
                    None,
                ),
            ],
        ),
        t(
            "L-PSA",
            // Age-specific upper limits (Oesterling 1993).
            vec![num(
                "tpsa",
                "总前列腺特异性抗原",
                "ng/mL",
                2,
                (0.0, 10000.0),
                vec![
                    range(SexRule::Male, (0, 50), None, Some(2.5)),
                    range(SexRule::Male, (50, 60), None, Some(3.5)),
                    range(SexRule::Male, (60, 70), None, Some(4.5)),
                    range(SexRule::Male, (70, 200), None, Some(6.5)),
                ],
                None,
                Some("PSA_HIGH"),
            )],
        ),
        t(
            "L-TCT",
            vec![fin(
                "tct",
                "宫颈细胞学",
                &[
                    (
                        "ascus",
                        "非典型鳞状细胞（ASC-US）",
                        Some("TCT_ASCUS"),
                        None,
                        false,
                    ),
                    (
                        "hsil",
                        "高级别鳞状上皮内病变（HSIL）",
                        Some("TCT_HSIL"),
                        B,
                        false,
                    ),
                ],
            )],
        ),
    ]
}

/// (code, name, pinyin initials, weight, advice)
#[rustfmt::skip]
const CONCLUSIONS: &[(&str, &str, &str, u8, &str)] = &[
    ("LOW_WEIGHT", "体重偏低", "tzpd", 1, "注意均衡营养，适当增加优质蛋白摄入。"),
    ("OVERWEIGHT", "超重/肥胖", "czfp", 1, "控制饮食总热量，每周至少150分钟中等强度运动，减轻体重。"),
    ("HBP", "血压偏高", "xypg", 2, "低盐饮食，规律作息，监测血压；多次测量仍高者心内科就诊。"),
    ("BRADY", "心动过缓", "xdgh", 1, "无不适者定期复查；有头晕、乏力者心内科就诊。"),
    ("TACHY", "心动过速", "xdgs", 1, "避免浓茶咖啡，复查心电图，必要时心内科就诊。"),
    ("ARRHYTHMIA", "心律不齐", "xlbq", 1, "建议复查心电图，必要时行动态心电图检查。"),
    ("MURMUR", "心脏杂音", "xzzy", 2, "建议心脏彩超检查，心内科就诊。"),
    ("LYMPH", "浅表淋巴结肿大", "qblbjzd", 2, "建议浅表淋巴结彩超，1–3个月复查。"),
    ("THY_NODULE", "甲状腺结节", "jzxjj", 1, "定期复查甲状腺彩超（6–12个月）。"),
    ("THY_NODULE_HIGH", "甲状腺结节（TI-RADS 4类及以上）", "jzxjj", 3, "建议甲状腺外科就诊，必要时细针穿刺活检。"),
    ("SCOLIOSIS", "脊柱侧弯", "jzcw", 1, "注意坐姿，必要时骨科就诊。"),
    ("LOW_VA", "视力下降", "slxj", 1, "建议眼科验光检查，注意用眼卫生。"),
    ("PHARYNGITIS", "慢性咽炎", "mxyy", 1, "戒烟限酒，少食辛辣，多饮水。"),
    ("CARIES", "龋齿", "qc", 1, "口腔科治疗，早晚刷牙，使用含氟牙膏。"),
    ("CALCULUS", "牙结石", "yjs", 1, "建议洁牙，定期口腔检查。"),
    ("CERVICITIS", "宫颈炎", "gjy", 1, "妇科门诊随诊，结合宫颈细胞学检查。"),
    ("FATTY_LIVER", "脂肪肝", "zfg", 1, "控制体重，低脂饮食，戒酒，定期复查肝功能及肝脏彩超。"),
    ("LIVER_CYST", "肝囊肿", "gnz", 1, "定期复查肝脏彩超。"),
    ("LIVER_MASS", "肝脏占位性病变", "gzzwxbb", 3, "尽快肝胆外科就诊，行增强CT或MRI检查明确性质。"),
    ("GALLSTONE", "胆囊结石", "dnjs", 1, "低脂饮食，规律进餐；有症状者肝胆外科就诊。"),
    ("GB_POLYP", "胆囊息肉", "dnxr", 1, "6–12个月复查彩超；≥10mm者肝胆外科就诊。"),
    ("CHOLECYSTECTOMY", "胆囊切除术后", "dnqcsh", 1, "注意饮食规律，少食油腻。"),
    ("KIDNEY_STONE", "肾结石", "sjs", 1, "多饮水，定期复查泌尿系彩超；有症状者泌尿外科就诊。"),
    ("KIDNEY_CYST", "肾囊肿", "snz", 1, "定期复查泌尿系彩超。"),
    ("SPLENOMEGALY", "脾大", "pd", 2, "建议血液科或消化科就诊查明原因。"),
    ("ST_T", "ST-T改变", "stgb", 2, "建议心内科就诊，必要时行心脏彩超、运动试验。"),
    ("AF_RVR", "心房颤动伴快速心室率", "xfcdbksxsl", 3, "立即心内科急诊就诊。"),
    ("AVB3", "三度房室传导阻滞", "sdfscdzz", 3, "立即心内科急诊就诊。"),
    ("LUNG_MARKINGS", "肺纹理增多", "fwlzd", 1, "戒烟，注意呼吸道防护。"),
    ("LUNG_NODULE", "肺结节", "fjj", 2, "按结节大小定期复查胸部CT（6–12个月）。"),
    ("LUNG_MASS", "肺部占位性病变", "fbzwxbb", 3, "尽快胸外科或呼吸科就诊，行增强CT明确性质。"),
    ("PNEUMOTHORAX", "气胸", "qx", 3, "立即胸外科急诊就诊。"),
    ("LEUKOPENIA", "白细胞减少", "bxbjs", 1, "1个月后复查血常规，必要时血液科就诊。"),
    ("LEUKOCYTOSIS", "白细胞增多", "bxbzd", 1, "排除感染，复查血常规。"),
    ("ANAEMIA", "贫血", "px", 2, "查明贫血原因，血液科或消化科就诊。"),
    ("POLYCYTHAEMIA", "血红蛋白增高", "xhdbzg", 1, "多饮水，戒烟，复查血常规。"),
    ("THROMBOCYTOPENIA", "血小板减少", "xxbjs", 2, "复查血常规，血液科就诊。"),
    ("THROMBOCYTOSIS", "血小板增多", "xxbzd", 1, "复查血常规，必要时血液科就诊。"),
    ("ESR_HIGH", "血沉增快", "xczk", 1, "结合临床，排查炎症及免疫性疾病。"),
    ("HYPOGLYCAEMIA", "血糖偏低", "xtpd", 1, "规律进食，复查血糖。"),
    ("HYPERGLYCAEMIA", "空腹血糖升高", "kfxtsg", 2, "控制饮食，加强运动，复查空腹血糖及糖化血红蛋白，内分泌科就诊。"),
    ("HBA1C_HIGH", "糖化血红蛋白升高", "thxhdbsg", 2, "内分泌科就诊，评估糖代谢状态。"),
    ("HYPERCHOL", "高胆固醇血症", "gdgcxz", 1, "低脂饮食，适量运动，3–6个月复查血脂。"),
    ("HYPERTG", "高甘油三酯血症", "ggyszxz", 1, "限制饮酒及甜食，适量运动，复查血脂。"),
    ("LOW_HDL", "高密度脂蛋白胆固醇偏低", "gmdzdbdgcpd", 1, "加强有氧运动，戒烟。"),
    ("HIGH_LDL", "低密度脂蛋白胆固醇偏高", "dmdzdbdgcpg", 2, "低脂饮食，复查血脂，心内科评估心血管风险。"),
    ("ALT_HIGH", "谷丙转氨酶升高", "gbzamsg", 1, "戒酒，避免熬夜及肝损药物，2–4周复查肝功能。"),
    ("AST_HIGH", "谷草转氨酶升高", "gczamsg", 1, "戒酒，复查肝功能。"),
    ("CREA_HIGH", "肌酐升高", "jgsg", 2, "复查肾功能，肾内科就诊。"),
    ("HYPERURICAEMIA", "高尿酸血症", "gnsxz", 1, "低嘌呤饮食，多饮水，限酒，复查尿酸。"),
    ("HYPOKALAEMIA", "低钾血症", "djxz", 2, "复查电解质，必要时补钾，内科就诊。"),
    ("HYPERKALAEMIA", "高钾血症", "gjxz", 2, "复查电解质，肾内科就诊。"),
    ("HYPONATRAEMIA", "低钠血症", "dnxz", 2, "复查电解质，内科就诊。"),
    ("HYPERNATRAEMIA", "高钠血症", "gnaxz", 2, "复查电解质，内科就诊。"),
    ("PSA_HIGH", "前列腺特异性抗原升高", "qlxtyxkysg", 2, "泌尿外科就诊，复查PSA，必要时前列腺MRI。"),
    ("TCT_ASCUS", "宫颈细胞学异常（ASC-US）", "gjxbxyc", 2, "结合HPV检测，妇科门诊随诊。"),
    ("TCT_HSIL", "宫颈高级别鳞状上皮内病变", "gjgjblzspnbb", 3, "尽快妇科就诊，行阴道镜检查及活检。"),
];

/// The seeded knowledge base.
pub fn knowledge() -> Knowledge {
    Knowledge {
        templates: templates(),
        conclusions: CONCLUSIONS
            .iter()
            .map(|(code, name, initials, weight, advice)| Conclusion {
                code: (*code).into(),
                name: (*name).into(),
                initials: (*initials).into(),
                advice: (*advice).into(),
                weight: *weight,
            })
            .collect(),
    }
}
