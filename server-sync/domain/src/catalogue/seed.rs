//! The seeded catalogue of a Chinese 体检中心: two campuses, fifteen
//! departments, their rooms, about 160 exam items and twenty packages.
//! Plain tables turned into structs; prices in fen.

use super::{
    Campus, Catalogue, Conflict, Department, ExamItem, ExamType, MaritalRule, Package, Room,
    SampleType, SexRule,
};

const B: SexRule = SexRule::Both;
const M: SexRule = SexRule::Male;
const F: SexRule = SexRule::Female;
const ANY: MaritalRule = MaritalRule::Any;
const MAR: MaritalRule = MaritalRule::MarriedOnly;
const UNM: MaritalRule = MaritalRule::UnmarriedOnly;
/// Fasting (空腹) column.
const Y: bool = true;
const N: bool = false;
const NO: Option<SampleType> = None;
const SER: Option<SampleType> = Some(SampleType::Serum);
const WB: Option<SampleType> = Some(SampleType::WholeBlood);
const PLA: Option<SampleType> = Some(SampleType::Plasma);
const URI: Option<SampleType> = Some(SampleType::Urine);
const STO: Option<SampleType> = Some(SampleType::Stool);
const CER: Option<SampleType> = Some(SampleType::Cervical);
const BRE: Option<SampleType> = Some(SampleType::Breath);

/// (code, name, exam_no_prefix)
const CAMPUSES: &[(&str, &str, &str)] = &[("main", "本部院区", "1"), ("east", "东区分院", "2")];

const EXAM_TYPES: &[(&str, &str)] = &[
    ("health", "健康体检"),
    ("employment", "入职体检"),
    ("occupational", "职业健康"),
    ("civil_service", "公务员体检"),
    ("driver", "驾驶员体检"),
];

const DEPARTMENTS: &[(&str, &str)] = &[
    ("gen", "一般检查科"),
    ("int", "内科"),
    ("sur", "外科"),
    ("eye", "眼科"),
    ("ent", "耳鼻喉科"),
    ("den", "口腔科"),
    ("gyn", "妇科"),
    ("lab", "检验科"),
    ("rad", "放射科"),
    ("us", "超声科"),
    ("ecg", "心电图室"),
    ("func", "功能检查科"),
    ("endo", "内镜中心"),
    ("tcm", "中医科"),
    ("psy", "心理测评室"),
];

/// (code, name, department, floor at main, floor at east). The main building
/// has no 4th floor (四); B1 is floor -1.
const ROOMS: &[(&str, &str, &str, i32, i32)] = &[
    ("gen", "一般检查室", "gen", 1, 1),
    ("blood", "采血室", "lab", 1, 1),
    ("spec", "标本留取处", "lab", 1, 1),
    ("breath", "呼气试验室", "lab", 1, 2),
    ("dr", "DR摄片室", "rad", -1, 1),
    ("ct", "CT室", "rad", -1, 1),
    ("mri", "磁共振室", "rad", -1, 1),
    ("mammo", "乳腺钼靶室", "rad", -1, 1),
    ("int", "内科诊室", "int", 2, 2),
    ("sur", "外科诊室", "sur", 2, 2),
    ("us1", "彩超一室(腹部/浅表)", "us", 2, 2),
    ("us2", "彩超二室(心脏/血管)", "us", 2, 2),
    ("us3", "彩超三室(妇科/乳腺)", "us", 2, 2),
    ("ecg", "心电图室", "ecg", 2, 2),
    ("func", "功能检查室", "func", 2, 2),
    ("bmd", "骨密度室", "func", 2, 2),
    ("lung", "肺功能室", "func", 2, 2),
    ("eye", "眼科诊室", "eye", 3, 3),
    ("ent", "耳鼻喉科诊室", "ent", 3, 3),
    ("audio", "纯音测听室", "ent", 3, 3),
    ("den", "口腔科诊室", "den", 3, 3),
    ("gyn", "妇科诊室", "gyn", 3, 3),
    ("tcm", "中医体质辨识室", "tcm", 3, 3),
    ("psy", "心理测评室", "psy", 3, 3),
    ("endo", "内镜中心", "endo", 5, 3),
];

/// (code, name, department, room, sex, marital, fasting, price_fen, sample)
type ItemRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    SexRule,
    MaritalRule,
    bool,
    i64,
    Option<SampleType>,
);

#[rustfmt::skip]
const ITEMS: &[ItemRow] = &[
    ("GEN-BASIC", "一般检查(身高、体重、BMI、血压、脉搏)", "gen", "gen", B, ANY, N, 1_000, NO),
    ("GEN-WAIST", "腰围臀围测量", "gen", "gen", B, ANY, N, 500, NO),
    ("GEN-BODY", "人体成分分析", "gen", "gen", B, ANY, N, 5_000, NO),
    ("INT-EXAM", "内科检查(心、肺、腹部)", "int", "int", B, ANY, N, 1_000, NO),
    ("SUR-EXAM", "外科检查(皮肤、淋巴结、甲状腺、脊柱四肢)", "sur", "sur", B, ANY, N, 1_000, NO),
    ("SUR-DRE", "肛门直肠指检", "sur", "sur", B, ANY, N, 1_000, NO),
    ("SUR-MALE", "外生殖器检查(男)", "sur", "sur", M, ANY, N, 1_000, NO),
    ("EYE-VA", "视力(裸眼/矫正)", "eye", "eye", B, ANY, N, 500, NO),
    ("EYE-COLOR", "色觉检查", "eye", "eye", B, ANY, N, 500, NO),
    ("EYE-EXAM", "眼科常规检查(外眼、裂隙灯)", "eye", "eye", B, ANY, N, 2_000, NO),
    ("EYE-FUNDUS", "免散瞳眼底照相", "eye", "eye", B, ANY, N, 5_000, NO),
    ("EYE-IOP", "非接触眼压", "eye", "eye", B, ANY, N, 2_000, NO),
    ("EYE-OCT", "眼底光学相干断层扫描(OCT)", "eye", "eye", B, ANY, N, 15_000, NO),
    ("ENT-EXAM", "耳鼻喉科常规检查", "ent", "ent", B, ANY, N, 1_500, NO),
    ("ENT-HEAR", "听力粗测(耳语/音叉)", "ent", "ent", B, ANY, N, 500, NO),
    ("ENT-AUDIO", "纯音测听", "ent", "audio", B, ANY, N, 5_000, NO),
    ("ENT-NASO", "电子鼻咽喉镜", "ent", "ent", B, ANY, N, 20_000, NO),
    ("DEN-EXAM", "口腔检查", "den", "den", B, ANY, N, 1_000, NO),
    ("DEN-CLEAN", "超声波洁牙(全口)", "den", "den", B, ANY, N, 18_000, NO),
    ("GYN-EXAM", "妇科检查(已婚，内诊)", "gyn", "gyn", F, MAR, N, 3_000, NO),
    ("GYN-EXT", "妇科检查(未婚，外阴视诊)", "gyn", "gyn", F, UNM, N, 1_500, NO),
    ("GYN-BREAST", "乳腺触诊", "gyn", "gyn", F, ANY, N, 1_000, NO),
    // 放射科
    ("RAD-DR-CHEST", "胸部正位DR", "rad", "dr", B, ANY, N, 8_000, NO),
    ("RAD-DR-CSP", "颈椎正侧位DR", "rad", "dr", B, ANY, N, 12_000, NO),
    ("RAD-DR-LSP", "腰椎正侧位DR", "rad", "dr", B, ANY, N, 12_000, NO),
    ("RAD-DR-KNEE", "双膝关节正侧位DR", "rad", "dr", B, ANY, N, 15_000, NO),
    ("RAD-BARIUM", "上消化道钡餐造影", "rad", "dr", B, ANY, Y, 15_000, NO),
    ("RAD-CT-CHEST", "胸部CT平扫", "rad", "ct", B, ANY, N, 28_000, NO),
    ("RAD-LDCT", "胸部低剂量螺旋CT(肺癌筛查)", "rad", "ct", B, ANY, N, 25_000, NO),
    ("RAD-CT-HEAD", "头颅CT平扫", "rad", "ct", B, ANY, N, 25_000, NO),
    ("RAD-CT-ABD", "上腹部CT平扫", "rad", "ct", B, ANY, Y, 30_000, NO),
    ("RAD-CT-ABD-E", "上腹部CT增强", "rad", "ct", B, ANY, Y, 65_000, NO),
    ("RAD-CT-CAC", "冠状动脉钙化积分CT", "rad", "ct", B, ANY, N, 30_000, NO),
    ("RAD-CT-LSP", "腰椎间盘CT平扫", "rad", "ct", B, ANY, N, 30_000, NO),
    ("RAD-MRI-HEAD", "头颅MRI平扫", "rad", "mri", B, ANY, N, 50_000, NO),
    ("RAD-MRA-HEAD", "头颅MRA(脑血管成像)", "rad", "mri", B, ANY, N, 60_000, NO),
    ("RAD-MRI-LSP", "腰椎MRI平扫", "rad", "mri", B, ANY, N, 55_000, NO),
    ("RAD-MAMMO", "乳腺钼靶(双侧)", "rad", "mammo", F, ANY, N, 18_000, NO),
    // 超声科
    ("US-ABD", "腹部彩超(肝胆胰脾肾)", "us", "us1", B, ANY, Y, 12_000, NO),
    ("US-LGPS", "肝胆胰脾彩超", "us", "us1", B, ANY, Y, 10_000, NO),
    ("US-URO", "泌尿系彩超(双肾、输尿管、膀胱)", "us", "us1", B, ANY, N, 8_000, NO),
    ("US-PROSTATE", "前列腺彩超", "us", "us1", M, ANY, N, 6_000, NO),
    ("US-SCROTUM", "阴囊睾丸彩超", "us", "us1", M, ANY, N, 8_000, NO),
    ("US-FIBRO", "肝脏瞬时弹性成像", "us", "us1", B, ANY, Y, 20_000, NO),
    ("US-THY", "甲状腺彩超", "us", "us1", B, ANY, N, 8_000, NO),
    ("US-LN", "颈部浅表淋巴结彩超", "us", "us1", B, ANY, N, 8_000, NO),
    ("US-CAROTID", "颈动脉彩超", "us", "us2", B, ANY, N, 12_000, NO),
    ("US-VERT", "椎动脉彩超", "us", "us2", B, ANY, N, 10_000, NO),
    ("US-HEART", "心脏彩超", "us", "us2", B, ANY, N, 20_000, NO),
    ("US-LEG-A", "双下肢动脉彩超", "us", "us2", B, ANY, N, 15_000, NO),
    ("US-LEG-V", "双下肢静脉彩超", "us", "us2", B, ANY, N, 15_000, NO),
    ("US-BREAST", "乳腺彩超", "us", "us3", F, ANY, N, 10_000, NO),
    ("US-VAG", "经阴道子宫附件彩超", "us", "us3", F, MAR, N, 12_000, NO),
    ("US-ABDGYN", "经腹部子宫附件彩超", "us", "us3", F, UNM, N, 10_000, NO),
    // 心电图、功能检查、内镜、中医、心理
    ("ECG-12", "十二导联心电图", "ecg", "ecg", B, ANY, N, 2_500, NO),
    ("ECG-HOLTER", "动态心电图(24小时)", "ecg", "ecg", B, ANY, N, 20_000, NO),
    ("ECG-ABPM", "动态血压监测(24小时)", "ecg", "ecg", B, ANY, N, 15_000, NO),
    ("FUNC-BMD", "骨密度检测(超声法)", "func", "bmd", B, ANY, N, 5_000, NO),
    ("FUNC-DXA", "骨密度检测(双能X线)", "func", "bmd", B, ANY, N, 15_000, NO),
    ("FUNC-PFT", "肺功能检查", "func", "lung", B, ANY, N, 8_000, NO),
    ("FUNC-FENO", "呼出气一氧化氮(FeNO)", "func", "lung", B, ANY, N, 8_000, NO),
    ("FUNC-ABI", "动脉硬化检测(PWV/ABI)", "func", "func", B, ANY, N, 8_000, NO),
    ("FUNC-TCD", "经颅多普勒(TCD)", "func", "func", B, ANY, N, 12_000, NO),
    ("ENDO-GAS", "电子胃镜(普通)", "endo", "endo", B, ANY, Y, 30_000, NO),
    ("ENDO-GAS-PL", "无痛电子胃镜", "endo", "endo", B, ANY, Y, 80_000, NO),
    ("ENDO-COL", "电子肠镜(普通)", "endo", "endo", B, ANY, Y, 40_000, NO),
    ("ENDO-COL-PL", "无痛电子肠镜", "endo", "endo", B, ANY, Y, 90_000, NO),
    ("ENDO-GC-PL", "无痛胃肠镜(同次麻醉)", "endo", "endo", B, ANY, Y, 130_000, NO),
    ("TCM-CONST", "中医体质辨识", "tcm", "tcm", B, ANY, N, 5_000, NO),
    ("TCM-DIAG", "中医舌象脉象分析", "tcm", "tcm", B, ANY, N, 8_000, NO),
    ("PSY-SCL90", "心理健康测评(SCL-90)", "psy", "psy", B, ANY, N, 6_000, NO),
    ("PSY-SASDS", "焦虑抑郁量表(SAS/SDS)", "psy", "psy", B, ANY, N, 5_000, NO),
    ("PSY-SLEEP", "睡眠质量评估(PSQI)", "psy", "psy", B, ANY, N, 3_000, NO),
    // 检验科: 全血、血浆
    ("L-CBC", "血常规(五分类)", "lab", "blood", B, ANY, N, 2_000, WB),
    ("L-HBA1C", "糖化血红蛋白(HbA1c)", "lab", "blood", B, ANY, N, 6_000, WB),
    ("L-ABO", "ABO血型+Rh血型", "lab", "blood", B, ANY, N, 2_500, WB),
    ("L-ESR", "红细胞沉降率(血沉)", "lab", "blood", B, ANY, N, 1_000, WB),
    ("L-PB", "血铅", "lab", "blood", B, ANY, N, 6_000, WB),
    ("L-COAG", "凝血四项(PT/APTT/TT/FIB)", "lab", "blood", B, ANY, N, 8_000, PLA),
    ("L-DDIMER", "D-二聚体", "lab", "blood", B, ANY, N, 6_000, PLA),
    // 生化 (空腹)
    ("L-ALT", "谷丙转氨酶(ALT)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-AST", "谷草转氨酶(AST)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-GGT", "γ-谷氨酰转移酶(GGT)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-ALP", "碱性磷酸酶(ALP)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-TBIL", "总胆红素(TBIL)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-DBIL", "直接胆红素(DBIL)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-TPRO", "总蛋白(TP)", "lab", "blood", B, ANY, Y, 400, SER),
    ("L-ALB", "白蛋白(ALB)", "lab", "blood", B, ANY, Y, 400, SER),
    ("L-TBA", "总胆汁酸(TBA)", "lab", "blood", B, ANY, Y, 1_500, SER),
    ("L-PA", "前白蛋白(PA)", "lab", "blood", B, ANY, Y, 1_500, SER),
    ("L-UREA", "尿素(UREA)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-CREA", "肌酐(CREA)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-UA", "尿酸(UA)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-CYSC", "胱抑素C", "lab", "blood", B, ANY, Y, 3_000, SER),
    ("L-B2MG", "β2-微球蛋白", "lab", "blood", B, ANY, Y, 3_000, SER),
    ("L-GLU", "空腹血糖(GLU)", "lab", "blood", B, ANY, Y, 500, SER),
    ("L-INS", "空腹胰岛素", "lab", "blood", B, ANY, Y, 4_000, SER),
    ("L-CPEP", "C肽", "lab", "blood", B, ANY, Y, 4_000, SER),
    ("L-LIPID4", "血脂四项(TC/TG/HDL-C/LDL-C)", "lab", "blood", B, ANY, Y, 4_000, SER),
    ("L-APO", "载脂蛋白AI/B", "lab", "blood", B, ANY, Y, 3_000, SER),
    ("L-LPA", "脂蛋白(a)", "lab", "blood", B, ANY, Y, 2_500, SER),
    ("L-SDLDL", "小而密低密度脂蛋白", "lab", "blood", B, ANY, Y, 4_000, SER),
    ("L-HCY", "同型半胱氨酸(HCY)", "lab", "blood", B, ANY, Y, 5_000, SER),
    ("L-G17", "胃泌素17(G-17)", "lab", "blood", B, ANY, Y, 8_000, SER),
    // 生化 (不必空腹)
    ("L-ELEC", "电解质(钾、钠、氯)", "lab", "blood", B, ANY, N, 2_000, SER),
    ("L-CA", "血钙", "lab", "blood", B, ANY, N, 500, SER),
    ("L-P", "血磷", "lab", "blood", B, ANY, N, 500, SER),
    ("L-CK", "心肌酶谱(CK/CK-MB/LDH)", "lab", "blood", B, ANY, N, 4_000, SER),
    ("L-TNI", "高敏肌钙蛋白I", "lab", "blood", B, ANY, N, 8_000, SER),
    ("L-BNP", "N末端B型利钠肽前体(NT-proBNP)", "lab", "blood", B, ANY, N, 15_000, SER),
    ("L-HSCRP", "超敏C反应蛋白(hs-CRP)", "lab", "blood", B, ANY, N, 2_500, SER),
    ("L-AMY", "血淀粉酶", "lab", "blood", B, ANY, N, 1_500, SER),
    ("L-FERR", "铁蛋白", "lab", "blood", B, ANY, N, 4_000, SER),
    ("L-FE", "血清铁", "lab", "blood", B, ANY, N, 1_000, SER),
    // 肿瘤标志物
    ("L-AFP", "甲胎蛋白(AFP)", "lab", "blood", B, ANY, N, 3_500, SER),
    ("L-CEA", "癌胚抗原(CEA)", "lab", "blood", B, ANY, N, 3_500, SER),
    ("L-CA125", "糖类抗原125(CA125)", "lab", "blood", F, ANY, N, 5_000, SER),
    ("L-CA153", "糖类抗原153(CA153)", "lab", "blood", F, ANY, N, 5_000, SER),
    ("L-HE4", "人附睾蛋白4(HE4)", "lab", "blood", F, ANY, N, 10_000, SER),
    ("L-CA199", "糖类抗原199(CA199)", "lab", "blood", B, ANY, N, 5_000, SER),
    ("L-CA724", "糖类抗原724(CA724)", "lab", "blood", B, ANY, N, 5_000, SER),
    ("L-CA242", "糖类抗原242(CA242)", "lab", "blood", B, ANY, N, 5_000, SER),
    ("L-PSA", "总前列腺特异性抗原(tPSA)", "lab", "blood", M, ANY, N, 5_000, SER),
    ("L-FPSA", "游离前列腺特异性抗原(fPSA)", "lab", "blood", M, ANY, N, 5_000, SER),
    ("L-NSE", "神经元特异性烯醇化酶(NSE)", "lab", "blood", B, ANY, N, 5_000, SER),
    ("L-CYFRA", "细胞角蛋白19片段(CYFRA21-1)", "lab", "blood", B, ANY, N, 5_000, SER),
    ("L-SCC", "鳞状细胞癌抗原(SCC)", "lab", "blood", B, ANY, N, 5_000, SER),
    ("L-PROGRP", "胃泌素释放肽前体(ProGRP)", "lab", "blood", B, ANY, N, 8_000, SER),
    ("L-PG", "胃蛋白酶原I/II(PGI/PGII)", "lab", "blood", B, ANY, N, 8_000, SER),
    ("L-EBV", "EB病毒VCA-IgA抗体(鼻咽癌筛查)", "lab", "blood", B, ANY, N, 5_000, SER),
    // 甲状腺、激素、维生素
    ("L-THY3", "甲状腺功能三项(FT3/FT4/TSH)", "lab", "blood", B, ANY, N, 7_000, SER),
    ("L-THY5", "甲状腺功能五项(T3/T4/FT3/FT4/TSH)", "lab", "blood", B, ANY, N, 10_000, SER),
    ("L-TAB", "甲状腺抗体(TPOAb/TGAb)", "lab", "blood", B, ANY, N, 8_000, SER),
    ("L-CALC", "降钙素", "lab", "blood", B, ANY, N, 8_000, SER),
    ("L-SEX6", "性激素六项", "lab", "blood", F, ANY, N, 18_000, SER),
    ("L-AMH", "抗缪勒管激素(AMH)", "lab", "blood", F, ANY, N, 25_000, SER),
    ("L-VD", "25-羟基维生素D", "lab", "blood", B, ANY, N, 12_000, SER),
    ("L-B12", "维生素B12", "lab", "blood", B, ANY, N, 4_000, SER),
    ("L-FOLATE", "叶酸", "lab", "blood", B, ANY, N, 4_000, SER),
    // 免疫、感染
    ("L-HBV5", "乙肝五项(定性)", "lab", "blood", B, ANY, N, 3_000, SER),
    ("L-HBV5Q", "乙肝五项(定量)", "lab", "blood", B, ANY, N, 8_000, SER),
    ("L-HCV", "丙肝抗体(抗-HCV)", "lab", "blood", B, ANY, N, 4_000, SER),
    ("L-SYPH", "梅毒螺旋体抗体(TP)", "lab", "blood", B, ANY, N, 3_000, SER),
    ("L-HIV", "HIV抗体", "lab", "blood", B, ANY, N, 4_000, SER),
    ("L-HPAB", "幽门螺杆菌抗体", "lab", "blood", B, ANY, N, 4_000, SER),
    ("L-RF", "类风湿因子(RF)", "lab", "blood", B, ANY, N, 2_000, SER),
    ("L-ASO", "抗链球菌溶血素O(ASO)", "lab", "blood", B, ANY, N, 2_000, SER),
    ("L-IG", "免疫球蛋白(IgG/IgA/IgM)", "lab", "blood", B, ANY, N, 4_000, SER),
    ("L-C3C4", "补体C3/C4", "lab", "blood", B, ANY, N, 3_000, SER),
    // 尿、便、宫颈、呼气
    ("L-URINE", "尿常规", "lab", "spec", B, ANY, N, 1_000, URI),
    ("L-UACR", "尿微量白蛋白/肌酐比值", "lab", "spec", B, ANY, N, 4_000, URI),
    ("L-STOOL", "便常规+潜血", "lab", "spec", B, ANY, N, 2_000, STO),
    ("L-FIT", "粪便潜血(免疫法)", "lab", "spec", B, ANY, N, 3_000, STO),
    ("L-TCT", "宫颈液基薄层细胞学(TCT)", "lab", "gyn", F, MAR, N, 15_000, CER),
    ("L-HPV", "HPV分型检测(23型)", "lab", "gyn", F, MAR, N, 25_000, CER),
    ("L-HPV1618", "HPV16/18分型检测", "lab", "gyn", F, MAR, N, 15_000, CER),
    ("L-LEUK", "白带常规", "lab", "gyn", F, MAR, N, 2_000, CER),
    ("L-C13", "碳13尿素呼气试验", "lab", "breath", B, ANY, Y, 15_000, BRE),
    ("L-C14", "碳14尿素呼气试验", "lab", "breath", B, ANY, Y, 10_000, BRE),
];

const SAME_TEST: &str = "同一检查，两种方法只能选一种";
const PAINLESS: &str = "同一检查，普通与无痛只能选一种";
const GC_BOTH: &str = "无痛胃肠镜已包含胃镜和肠镜";
const STOMACH: &str = "胃部检查只需一种，胃镜可直接观察并取活检";

/// (item, the item it excludes, reason shown to the patient)
/// Items a patient may add on at a self-service kiosk (K17): common
/// screenings that need no doctor's advice to choose. Everything else is
/// booked at the desk.
pub const SELF_SERVICE_ADDONS: &[&str] = &[
    "RAD-LDCT",
    "L-C13",
    "L-C14",
    "US-THY",
    "US-CAROTID",
    "US-HEART",
    "FUNC-BMD",
    "EYE-FUNDUS",
    "L-HCY",
    "L-THY3",
    "L-PSA",
    "US-BREAST",
    "RAD-MAMMO",
    "L-HPV",
    "ENDO-GAS-PL",
];

const CONFLICTS: &[(&str, &str, &str)] = &[
    ("L-C13", "L-C14", SAME_TEST),
    ("US-VAG", "US-ABDGYN", "两种检查方式只能选一种"),
    ("GYN-EXAM", "GYN-EXT", "已婚内诊与未婚外阴视诊只能选一种"),
    (
        "RAD-CT-CHEST",
        "RAD-DR-CHEST",
        "胸部影像只需一种，CT已包含DR所见",
    ),
    (
        "RAD-LDCT",
        "RAD-DR-CHEST",
        "胸部影像只需一种，CT已包含DR所见",
    ),
    (
        "RAD-LDCT",
        "RAD-CT-CHEST",
        "胸部CT只需一种，低剂量CT与常规平扫二选一",
    ),
    (
        "RAD-CT-ABD-E",
        "RAD-CT-ABD",
        "同一部位增强扫描已包含平扫，只需选一种",
    ),
    ("ENDO-GAS", "RAD-BARIUM", STOMACH),
    ("ENDO-GAS-PL", "RAD-BARIUM", STOMACH),
    ("ENDO-GC-PL", "RAD-BARIUM", STOMACH),
    ("ENDO-GAS-PL", "ENDO-GAS", PAINLESS),
    ("ENDO-COL-PL", "ENDO-COL", PAINLESS),
    ("ENDO-GC-PL", "ENDO-GAS", GC_BOTH),
    ("ENDO-GC-PL", "ENDO-GAS-PL", GC_BOTH),
    ("ENDO-GC-PL", "ENDO-COL", GC_BOTH),
    ("ENDO-GC-PL", "ENDO-COL-PL", GC_BOTH),
    ("US-ABD", "US-LGPS", "检查部位重复，腹部彩超已包含肝胆胰脾"),
    ("L-HBV5Q", "L-HBV5", "同一检查只需一种，定量已包含定性结果"),
    ("L-THY5", "L-THY3", "项目重复，甲功五项已包含甲功三项"),
    ("L-HPV", "L-HPV1618", "项目重复，23型分型已包含16/18型"),
    ("FUNC-DXA", "FUNC-BMD", SAME_TEST),
];

mod packages;

/// The seeded catalogue. Deterministic: the same data on every call.
pub fn catalogue() -> Catalogue {
    let s = |v: &str| v.to_string();
    let campuses = CAMPUSES
        .iter()
        .map(|&(code, name, prefix)| Campus {
            code: s(code),
            name: s(name),
            exam_no_prefix: s(prefix),
        })
        .collect();
    let departments = DEPARTMENTS
        .iter()
        .map(|&(code, name)| Department {
            code: s(code),
            name: s(name),
        })
        .collect();
    let rooms = CAMPUSES
        .iter()
        .flat_map(|&(campus, ..)| {
            ROOMS
                .iter()
                .map(move |&(code, name, dept, main, east)| Room {
                    code: s(code),
                    campus: s(campus),
                    name: s(name),
                    floor: if campus == "main" { main } else { east },
                    department: s(dept),
                })
        })
        .collect();
    let items = ITEMS
        .iter()
        .map(
            |&(code, name, dept, room, sex, marital, fasting, price_fen, sample)| ExamItem {
                code: s(code),
                name: s(name),
                department: s(dept),
                room: s(room),
                sex,
                marital,
                fasting,
                price_fen,
                sample,
                conflicts: CONFLICTS
                    .iter()
                    .filter(|c| c.0 == code)
                    .map(|&(_, with, reason)| Conflict {
                        with: s(with),
                        reason: s(reason),
                    })
                    .collect(),
            },
        )
        .collect();
    let packages = packages::PACKAGES
        .iter()
        .map(|&(code, name, sex, exam_type, price_fen, items)| Package {
            code: s(code),
            name: s(name),
            sex,
            items: items.iter().map(|i| s(i)).collect(),
            price_fen,
            exam_type: s(exam_type),
        })
        .collect();
    let exam_types = EXAM_TYPES
        .iter()
        .map(|&(code, name)| ExamType {
            code: s(code),
            name: s(name),
        })
        .collect();
    Catalogue {
        campuses,
        departments,
        rooms,
        items,
        packages,
        exam_types,
    }
}

#[cfg(test)]
mod tests;
