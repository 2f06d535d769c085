//! Made-up reports for the tests, the benchmark and the pictures in
//! `docs/`: a full personal report (about twelve pages with its charts)
//! and a company's group book of any size. Deterministic.

use crate::model::*;

fn centre() -> Centre {
    Centre {
        name: "示例市第一人民医院健康管理中心".into(),
        contact: "地址：示例市健康路 1 号　电话：0571-8888 6666".into(),
    }
}

fn row(name: &str, value: &str, unit: &str, flag: Flag, range: &str) -> ResultRow {
    ResultRow {
        name: name.into(),
        value: value.into(),
        unit: unit.into(),
        flag,
        range: range.into(),
    }
}

fn finding(name: &str, value: &str) -> ResultRow {
    row(name, value, "", Flag::Normal, "")
}

fn section(name: &str, lab: bool, rows: Vec<ResultRow>, summary: &str, doctor: &str) -> Section {
    Section {
        name: name.into(),
        lab,
        rows,
        summary: summary.into(),
        doctor: doctor.into(),
        by_hand: false,
    }
}

/// A 45-year-old man's report with abnormal lipids, glucose and liver
/// findings and five years of trends.
pub fn personal(kind: ExamKind) -> Personal {
    use Flag::{High as H, Normal as N};
    let mut blood = vec![
        row("白细胞计数(WBC)", "6.2", "10^9/L", N, "3.5-9.5"),
        row("红细胞计数(RBC)", "4.9", "10^12/L", N, "4.3-5.8"),
        row("血红蛋白(Hb)", "152", "g/L", N, "130-175"),
        row("红细胞压积(HCT)", "45.1", "%", N, "40-50"),
        row("平均红细胞体积(MCV)", "92.0", "fL", N, "82-100"),
        row("平均血红蛋白量(MCH)", "31.0", "pg", N, "27-34"),
        row("平均血红蛋白浓度(MCHC)", "337", "g/L", N, "316-354"),
        row("血小板计数(PLT)", "238", "10^9/L", N, "125-350"),
        row("中性粒细胞百分比", "58.3", "%", N, "40-75"),
        row("淋巴细胞百分比", "32.1", "%", N, "20-50"),
        row("单核细胞百分比", "6.4", "%", N, "3-10"),
        row("嗜酸性粒细胞百分比", "2.7", "%", N, "0.4-8"),
        row("嗜碱性粒细胞百分比", "0.5", "%", N, "0-1"),
        row("红细胞分布宽度", "12.8", "%", N, "11-16"),
        row("平均血小板体积", "10.2", "fL", N, "7.4-12.5"),
    ];
    blood.push(row("超敏C反应蛋白", "1.2", "mg/L", N, "0-3"));
    let liver = vec![
        row("谷丙转氨酶(ALT)", "68", "U/L", H, "9-50"),
        row("谷草转氨酶(AST)", "45", "U/L", H, "15-40"),
        row("谷氨酰转肽酶(GGT)", "72", "U/L", H, "10-60"),
        row("碱性磷酸酶(ALP)", "88", "U/L", N, "45-125"),
        row("总胆红素(TBIL)", "14.2", "μmol/L", N, "0-23"),
        row("直接胆红素(DBIL)", "4.1", "μmol/L", N, "0-8"),
        row("总蛋白(TP)", "72.3", "g/L", N, "65-85"),
        row("白蛋白(ALB)", "45.6", "g/L", N, "40-55"),
        row("球蛋白(GLB)", "26.7", "g/L", N, "20-40"),
    ];
    let kidney = vec![
        row("尿素(UREA)", "5.4", "mmol/L", N, "3.1-8.0"),
        row("肌酐(CREA)", "82", "μmol/L", N, "57-111"),
        row("尿酸(UA)", "468", "μmol/L", H, "208-428"),
        row("估算肾小球滤过率", "98", "mL/min", N, ">90"),
    ];
    let lipids = vec![
        row("总胆固醇(TC)", "6.42", "mmol/L", H, "<5.2"),
        row("甘油三酯(TG)", "2.35", "mmol/L", H, "<1.7"),
        row("高密度脂蛋白(HDL-C)", "1.02", "mmol/L", N, ">1.0"),
        row("低密度脂蛋白(LDL-C)", "4.21", "mmol/L", H, "<3.4"),
        row("空腹血糖(GLU)", "6.6", "mmol/L", H, "3.9-6.1"),
        row("糖化血红蛋白(HbA1c)", "6.1", "%", N, "4.0-6.0"),
    ];
    let urine = vec![
        row("尿比重", "1.020", "", N, "1.003-1.030"),
        row("酸碱度", "6.0", "", N, "4.5-8.0"),
        row("尿蛋白", "阴性", "", N, "阴性"),
        row("尿糖", "阴性", "", N, "阴性"),
        row("尿酮体", "阴性", "", N, "阴性"),
        row("尿胆原", "正常", "", N, "正常"),
        row("胆红素", "阴性", "", N, "阴性"),
        row("隐血", "阴性", "", N, "阴性"),
        row("白细胞酯酶", "阴性", "", N, "阴性"),
        row("亚硝酸盐", "阴性", "", N, "阴性"),
    ];
    let tumour = vec![
        row("甲胎蛋白(AFP)", "3.1", "ng/mL", N, "0-7"),
        row("癌胚抗原(CEA)", "2.4", "ng/mL", N, "0-5"),
        row("前列腺特异抗原(PSA)", "1.1", "ng/mL", N, "0-4"),
        row("糖类抗原 CA19-9", "12.5", "U/mL", N, "0-37"),
        row("细胞角蛋白19片段", "1.8", "ng/mL", N, "0-3.3"),
    ];
    let thyroid = vec![
        row("促甲状腺激素(TSH)", "2.31", "mIU/L", N, "0.27-4.2"),
        row("游离T3", "4.8", "pmol/L", N, "3.1-6.8"),
        row("游离T4", "16.2", "pmol/L", N, "12-22"),
    ];
    let years = |v: [f64; 5]| -> Vec<(String, f64)> {
        (2022..=2026).map(|y| y.to_string()).zip(v).collect()
    };
    let trend = |name: &str, unit: &str, v, range| Trend {
        name: name.into(),
        unit: unit.into(),
        points: years(v),
        range,
    };
    Personal {
        kind,
        centre: centre(),
        name: "张伟".into(),
        sex: "男".into(),
        age: 45,
        id_masked: "3301**********1234".into(),
        exam_no: "TJ20261205-0042".into(),
        company: Some("示例科技有限公司".into()),
        package: "中年男性深度体检套餐".into(),
        exam_date: "2026-12-05".into(),
        major: vec!["空腹血糖 6.6 mmol/L 结合糖化血红蛋白 6.1%：糖尿病前期，建议内分泌科就诊".into()],
        abnormal: vec![
            "血压 142/92 mmHg ↑".into(),
            "体重指数 27.8 ↑（超重）".into(),
            "总胆固醇 6.42 mmol/L ↑，甘油三酯 2.35 mmol/L ↑，低密度脂蛋白 4.21 mmol/L ↑".into(),
            "谷丙转氨酶 68 U/L ↑，谷草转氨酶 45 U/L ↑，谷氨酰转肽酶 72 U/L ↑".into(),
            "尿酸 468 μmol/L ↑".into(),
            "空腹血糖 6.6 mmol/L ↑".into(),
            "腹部超声：脂肪肝（中度）".into(),
            "甲状腺超声：甲状腺右叶结节（TI-RADS 3类）".into(),
        ],
        conclusions: vec![
            Conclusion {
                name: "空腹血糖受损".into(),
                advice: "控制饮食总热量，减少精制糖摄入，规律运动；3 个月后复查空腹血糖及糖化血红蛋白，必要时行口服葡萄糖耐量试验，内分泌科就诊。".into(),
            },
            Conclusion {
                name: "高脂血症".into(),
                advice: "低脂低胆固醇饮食，戒烟限酒，每周至少 150 分钟中等强度运动；3～6 个月复查血脂，心内科评估是否需药物治疗。".into(),
            },
            Conclusion {
                name: "脂肪肝（中度）伴肝功能异常".into(),
                advice: "减重 5%～10%，避免饮酒及肝损药物；1～3 个月复查肝功能，消化内科随诊。".into(),
            },
            Conclusion {
                name: "血压偏高".into(),
                advice: "低盐饮食（每日食盐不超过 5 克），家庭自测血压并记录，2～4 周内心内科复诊。".into(),
            },
            Conclusion {
                name: "高尿酸血症".into(),
                advice: "少食动物内脏、海鲜及啤酒，多饮水；复查血尿酸。".into(),
            },
            Conclusion {
                name: "甲状腺结节（TI-RADS 3类）".into(),
                advice: "6～12 个月复查甲状腺超声。".into(),
            },
            Conclusion {
                name: "超重".into(),
                advice: "合理膳食，增加运动，目标体重指数 24 以下。".into(),
            },
        ],
        history: vec![
            ("既往史".into(), "高血压 2 年，未规律服药".into()),
            ("手术史".into(), "无".into()),
            ("家族史".into(), "父亲 2 型糖尿病".into()),
            ("现病史".into(), "无不适".into()),
            ("过敏史".into(), "青霉素过敏".into()),
            ("用药史".into(), "无".into()),
            ("吸烟".into(), "有".into()),
            ("饮酒".into(), "有".into()),
            ("内科问诊".into(), "活动后有无气短".into()),
        ],
        sections: vec![
            section(
                "一般检查",
                true,
                vec![
                    row("身高", "172.0", "cm", N, ""),
                    row("体重", "82.3", "kg", N, ""),
                    row("体重指数", "27.8", "kg/m²", H, "18.5-23.9"),
                    row("收缩压", "142", "mmHg", H, "90-139"),
                    row("舒张压", "92", "mmHg", H, "60-89"),
                    row("脉搏", "76", "次/分", N, "60-100"),
                ],
                "超重；血压偏高。",
                "李敏",
            ),
            section(
                "内科",
                false,
                vec![
                    finding("心率", "76 次/分"),
                    finding("心律", "齐"),
                    finding("心音", "正常"),
                    finding("肺部听诊", "未闻及异常"),
                    finding("腹部", "平软，无压痛"),
                    finding("肝脏触诊", "未触及"),
                    finding("脾脏触诊", "未触及"),
                    finding("神经系统", "生理反射存在，病理反射未引出"),
                ],
                "未见明显异常。",
                "王建国",
            ),
            section(
                "外科",
                false,
                vec![
                    finding("皮肤", "未见异常"),
                    finding("浅表淋巴结", "未触及肿大"),
                    finding("甲状腺", "未触及肿大"),
                    finding("脊柱四肢", "未见异常"),
                    finding("前列腺", "未见异常"),
                ],
                "未见明显异常。",
                "赵强",
            ),
            section(
                "眼科",
                false,
                vec![
                    finding("视力（右/左）", "1.0 / 0.8"),
                    finding("外眼", "未见异常"),
                    finding("眼底", "视网膜动脉硬化Ⅰ期"),
                ],
                "视网膜动脉硬化Ⅰ期。",
                "孙丽",
            ),
            section(
                "耳鼻咽喉科",
                false,
                vec![
                    finding("外耳道", "通畅"),
                    finding("鼓膜", "完整"),
                    finding("鼻腔", "黏膜正常"),
                    finding("咽喉", "未见异常"),
                ],
                "未见明显异常。",
                "周涛",
            ),
            section("血常规", true, blood, "各项指标在参考范围内。", "检验科"),
            section("肝功能", true, liver, "转氨酶及谷氨酰转肽酶升高。", "检验科"),
            section("肾功能", true, kidney, "尿酸升高。", "检验科"),
            section("血脂与血糖", true, lipids, "血脂升高；空腹血糖升高。", "检验科"),
            section("尿常规", true, urine, "未见异常。", "检验科"),
            section("肿瘤标志物", true, tumour, "未见异常。", "检验科"),
            section("甲状腺功能", true, thyroid, "未见异常。", "检验科"),
            section(
                "电解质",
                true,
                vec![
                    row("钾(K)", "4.2", "mmol/L", N, "3.5-5.3"),
                    row("钠(Na)", "141", "mmol/L", N, "137-147"),
                    row("氯(Cl)", "103", "mmol/L", N, "99-110"),
                    row("钙(Ca)", "2.35", "mmol/L", N, "2.11-2.52"),
                    row("镁(Mg)", "0.92", "mmol/L", N, "0.75-1.02"),
                    row("磷(P)", "1.12", "mmol/L", N, "0.85-1.51"),
                ],
                "未见异常。",
                "检验科",
            ),
            section(
                "凝血功能",
                true,
                vec![
                    row("凝血酶原时间(PT)", "11.8", "s", N, "9.4-12.5"),
                    row("国际标准化比值(INR)", "1.02", "", N, "0.8-1.2"),
                    row("活化部分凝血活酶时间", "29.6", "s", N, "25.1-36.5"),
                    row("纤维蛋白原(FIB)", "3.1", "g/L", N, "2-4"),
                    row("D-二聚体", "0.21", "mg/L", N, "0-0.55"),
                ],
                "未见异常。",
                "检验科",
            ),
            section(
                "乙肝五项",
                true,
                vec![
                    row("乙肝表面抗原", "阴性", "", N, "阴性"),
                    row("乙肝表面抗体", "阳性", "", N, ""),
                    row("乙肝e抗原", "阴性", "", N, "阴性"),
                    row("乙肝e抗体", "阴性", "", N, "阴性"),
                    row("乙肝核心抗体", "阴性", "", N, "阴性"),
                ],
                "乙肝表面抗体阳性（有保护性抗体）。",
                "检验科",
            ),
            section(
                "心肌酶与心血管风险",
                true,
                vec![
                    row("肌酸激酶(CK)", "132", "U/L", N, "50-310"),
                    row("肌酸激酶同工酶", "12", "U/L", N, "0-24"),
                    row("乳酸脱氢酶(LDH)", "186", "U/L", N, "120-250"),
                    row("同型半胱氨酸", "13.8", "μmol/L", N, "0-15"),
                    row("脂蛋白(a)", "182", "mg/L", N, "0-300"),
                    row("载脂蛋白A1", "1.21", "g/L", N, "1.0-1.6"),
                    row("载脂蛋白B", "1.18", "g/L", H, "0.6-1.1"),
                ],
                "载脂蛋白B偏高。",
                "检验科",
            ),
            section(
                "肺功能",
                true,
                vec![
                    row("用力肺活量(FVC)", "4.21", "L", N, ">3.45"),
                    row("第一秒用力呼气量(FEV1)", "3.38", "L", N, ">2.74"),
                    row("一秒率(FEV1/FVC)", "80.3", "%", N, ">70"),
                    row("最大呼气流量(PEF)", "8.9", "L/s", N, ">7.2"),
                ],
                "肺通气功能正常。",
                "郑华",
            ),
            section(
                "动脉硬化检测",
                true,
                vec![
                    row("臂踝脉搏波速度（右）", "1520", "cm/s", H, "<1400"),
                    row("臂踝脉搏波速度（左）", "1498", "cm/s", H, "<1400"),
                    row("踝臂指数（右）", "1.08", "", N, "0.9-1.3"),
                    row("踝臂指数（左）", "1.11", "", N, "0.9-1.3"),
                ],
                "动脉弹性轻度减退。",
                "郑华",
            ),
            section(
                "骨密度",
                true,
                vec![
                    row("T 值（腰椎）", "-0.6", "", N, ">-1.0"),
                    row("Z 值（腰椎）", "-0.2", "", N, ""),
                ],
                "骨量正常。",
                "郑华",
            ),
            section(
                "碳13呼气试验",
                true,
                vec![row("幽门螺杆菌(DOB)", "2.1", "", N, "<4.0")],
                "幽门螺杆菌阴性。",
                "检验科",
            ),
            section(
                "口腔科",
                false,
                vec![
                    finding("牙齿", "左下 6 龋齿"),
                    finding("牙周", "牙结石（+），牙龈轻度退缩"),
                    finding("口腔黏膜", "未见异常"),
                ],
                "龋齿；牙结石。建议口腔科治疗及洁牙。",
                "吴芳",
            ),
            section(
                "颈动脉超声",
                false,
                vec![
                    finding("右侧颈总动脉", "内中膜厚 0.9 mm，管腔通畅，血流速度正常"),
                    finding("左侧颈总动脉", "内中膜厚 1.0 mm，分叉处后壁见 5×2 mm 等回声斑块"),
                    finding("椎动脉", "双侧椎动脉血流方向正常，未见狭窄"),
                ],
                "左侧颈动脉斑块形成。",
                "刘洋",
            ),
            section(
                "心脏超声",
                false,
                vec![
                    finding("心腔", "各房室腔内径在正常范围"),
                    finding("室壁", "室间隔及左室后壁厚度正常，运动协调"),
                    finding("瓣膜", "各瓣膜形态、启闭未见异常；三尖瓣微量反流"),
                    finding("心功能", "左室射血分数 64%，左室舒张功能正常"),
                ],
                "心脏结构及功能未见明显异常。",
                "刘洋",
            ),
            section(
                "心电图",
                false,
                vec![finding("心电图", "窦性心律，心率 74 次/分，正常心电图")],
                "正常心电图。",
                "陈静",
            ),
            section(
                "腹部超声",
                false,
                vec![
                    finding("肝脏", "形态大小正常，实质回声细密增强，远场衰减，提示中度脂肪肝"),
                    finding("胆囊", "大小正常，壁光滑，腔内未见异常回声"),
                    finding("胰腺", "未见明显异常"),
                    finding("脾脏", "未见明显异常"),
                    finding("双肾", "未见明显异常"),
                ],
                "脂肪肝（中度）。",
                "刘洋",
            ),
            section(
                "甲状腺超声",
                false,
                vec![finding(
                    "甲状腺",
                    "右叶中部见一低回声结节，大小约 6×5 mm，边界清，形态规则，未见钙化，TI-RADS 3 类",
                )],
                "甲状腺右叶结节（TI-RADS 3类）。",
                "刘洋",
            ),
            section(
                "胸部 CT",
                false,
                vec![finding("胸部 CT", "双肺纹理清晰，未见明确实性结节；纵隔未见肿大淋巴结")],
                "未见明显异常。",
                "黄磊",
            ),
        ],
        trends: vec![
            trend("空腹血糖", "mmol/L", [5.4, 5.7, 5.9, 6.2, 6.6], Some((3.9, 6.1))),
            trend("总胆固醇", "mmol/L", [5.1, 5.6, 5.9, 6.1, 6.42], Some((2.8, 5.2))),
            trend("甘油三酯", "mmol/L", [1.5, 1.9, 2.1, 2.0, 2.35], Some((0.4, 1.7))),
            trend("谷丙转氨酶", "U/L", [32.0, 41.0, 55.0, 61.0, 68.0], Some((9.0, 50.0))),
            trend("收缩压", "mmHg", [128.0, 131.0, 135.0, 138.0, 142.0], Some((90.0, 139.0))),
            trend("体重指数", "kg/m²", [25.1, 25.9, 26.6, 27.2, 27.8], Some((18.5, 23.9))),
        ],
        occupational: (kind == ExamKind::Occupational).then(|| Occupational {
            hazards: "噪声".into(),
            conclusion: "目前未见异常".into(),
        }),
        fitness: (kind == ExamKind::Entry).then(|| "合格".to_string()),
        chief: "王建国".into(),
        reviewer: "林海".into(),
        signature: None,
        review_date: "2026-12-07".into(),
    }
}

/// A company's book for `people` employees (deterministic).
pub fn group_book(people: u32) -> GroupBook {
    const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗";
    const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂";
    const FINDINGS: [&str; 10] = [
        "血脂异常",
        "脂肪肝",
        "超重",
        "甲状腺结节",
        "血压偏高",
        "高尿酸血症",
        "空腹血糖受损",
        "乳腺增生",
        "肺结节",
        "颈椎退行性变",
    ];
    let s: Vec<char> = SURNAMES.chars().collect();
    let g: Vec<char> = GIVEN.chars().collect();
    let mut x: u64 = 7;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as u32
    };
    let mut members = Vec::new();
    let mut counts = [(0u32, 0u32); 10];
    let bands = [
        "20-29 岁",
        "30-39 岁",
        "40-49 岁",
        "50-59 岁",
        "60 岁及以上",
    ];
    let mut by_age: Vec<(String, u32, u32)> = bands.iter().map(|b| (b.to_string(), 0, 0)).collect();
    let mut majors = Vec::new();
    for i in 0..people {
        let man = next() % 2 == 0;
        let age = 22 + next() % 40;
        let name = format!(
            "{}{}{}",
            s[next() as usize % s.len()],
            g[next() as usize % g.len()],
            if next() % 3 == 0 {
                g[next() as usize % g.len()].to_string()
            } else {
                String::new()
            }
        );
        let band = ((age - 20) / 10).min(4) as usize;
        if man {
            by_age[band].1 += 1
        } else {
            by_age[band].2 += 1
        }
        let mut found = Vec::new();
        for (f, count) in FINDINGS.iter().zip(counts.iter_mut()) {
            if next() % 100 < 18 + age / 4 {
                if *f == "乳腺增生" && man {
                    continue;
                }
                if man {
                    count.0 += 1
                } else {
                    count.1 += 1
                }
                found.push(*f);
            }
        }
        let exam_no = format!("TJ2026{:06}", 1000 + i);
        if next() % 150 == 0 {
            majors.push(MajorLine {
                name: name.clone(),
                exam_no: exam_no.clone(),
                finding: "血钾 6.4 mmol/L（A 类，需立即处置）".into(),
                handled: "已通知，已随访".into(),
            });
        }
        members.push(Member {
            name,
            sex: if man { "男" } else { "女" }.into(),
            age,
            exam_no,
            conclusions: if found.is_empty() {
                "未见明显异常".into()
            } else {
                found.join("；")
            },
        });
    }
    let mut findings: Vec<Count> = FINDINGS
        .iter()
        .zip(counts)
        .map(|(f, (men, women))| Count {
            label: (*f).into(),
            men,
            women,
        })
        .collect();
    findings.sort_by_key(|c| std::cmp::Reverse(c.people()));
    GroupBook {
        centre: centre(),
        company: "示例科技有限公司".into(),
        period: "2026-11-02 至 2026-11-27".into(),
        examined: people,
        booked: people + people / 20,
        by_age,
        findings,
        majors,
        members,
        advice: vec![
            "血脂异常与脂肪肝检出率较高，建议单位食堂提供低脂饮食，组织工间运动。".into(),
            "久坐岗位人员颈椎退行性变较多，建议调整工位高度，每小时活动 5 分钟。".into(),
            "检出重要异常结果者已逐一通知，请单位督促其及时专科就诊。".into(),
        ],
        reviewer: "林海".into(),
        date: "2026-12-05".into(),
    }
}
