//! The privacy notice (隐私政策, 002 §(九) 6.5.4): one text for the kiosk's
//! screen and the phone page, so both always show the same version. A
//! change of the words is a new [`NOTICE_VERSION`]; consents record the
//! version the person was shown.

/// The version of the notice below. Change it with the text.
pub const NOTICE_VERSION: &str = "2026-12-06";

/// One section of the notice, in Chinese and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeSection {
    pub title_zh: &'static str,
    pub title_en: &'static str,
    pub body_zh: &'static [&'static str],
    pub body_en: &'static [&'static str],
}

/// The notice, section by section.
pub const NOTICE: &[NoticeSection] = &[
    NoticeSection {
        title_zh: "一、我们是谁",
        title_en: "1. Who we are",
        body_zh: &[
            "本院健康管理中心（体检中心）是您个人信息的处理者，依照《中华人民共和国个人信息保护法》处理您的个人信息。",
        ],
        body_en: &[
            "The hospital's health management (examination) centre processes your personal information under the Personal Information Protection Law of the PRC.",
        ],
    },
    NoticeSection {
        title_zh: "二、我们收集哪些信息",
        title_en: "2. What we collect",
        body_zh: &[
            "身份信息：姓名、身份证号、性别、出生日期（读取身份证或由您输入）。",
            "联系方式：手机号。",
            "体检信息：预约、检查项目、缴费、检查结果与体检报告。",
            "现场照片：仅在您同意时于自助机拍摄。",
            "人脸特征：仅在您同意刷脸签到时，由自助机从现场照片计算出的一串数字（不是照片），用于下次来检时认出您；刷脸时摄像头画面只在自助机内比对，不保存、不上传。",
        ],
        body_en: &[
            "Identity: name, ID number, sex, date of birth (read from your ID card or typed by you).",
            "Contact: your mobile number.",
            "Examination: bookings, items, payments, results and reports.",
            "Photo: taken at the kiosk only with your consent.",
            "Face template: only if you agree to face check-in, a list of numbers (not a picture) the kiosk computes from your check-in photo, to recognise you on later visits; when you use face check-in the camera's picture is compared inside the kiosk only, never kept or sent.",
        ],
    },
    NoticeSection {
        title_zh: "三、用途与授权",
        title_en: "3. Purposes and consent",
        body_zh: &[
            "体检服务：完成您申请的体检所必需（个人信息保护法第十三条第二项）。",
            "现场拍照核对身份、刷脸签到、短信通知、向单位提供团检报告、去标识化统计与研究：均需您单独同意，可随时撤回；不同意不影响体检。",
        ],
        body_en: &[
            "The examination itself: necessary for the service you asked for (PIPL art. 13 (2)).",
            "A photo to check identity, face check-in, text messages, the report for your employer (group exams), de-identified research: each only with your separate consent, which you may withdraw at any time; saying no does not affect your exam.",
        ],
    },
    NoticeSection {
        title_zh: "四、保存期限",
        title_en: "4. How long we keep it",
        body_zh: &[
            "体检记录属于门诊病历，按《医疗机构病历管理规定》自最后一次就诊起保存不少于 15 年。",
            "人脸特征保存至您撤回同意或最后一次来检后一年，以先到者为准。",
            "手机号、照片与可选授权可应您的要求删除；仅有预约、未做体检的，可整体匿名化。",
            "访问与操作日志依《网络安全法》保存不少于六个月。",
        ],
        body_en: &[
            "Examination records are outpatient medical records, kept at least 15 years after your last visit (Regulation on Medical Records of Medical Institutions).",
            "A face template is kept until you withdraw your consent or one year after your last visit, whichever comes first.",
            "Your mobile number, photo and optional consents are erased on request; with bookings only and no exam performed, everything can be anonymised.",
            "Access and operation logs are kept at least six months (Cybersecurity Law).",
        ],
    },
    NoticeSection {
        title_zh: "五、共享与安全",
        title_en: "5. Sharing and security",
        body_zh: &[
            "我们不出售您的信息。团检报告仅在您同意后提供给组织体检的单位。",
            "信息加密保存、传输；工作人员按岗位授权查看，屏幕上脱敏显示，每次查看均有记录。",
        ],
        body_en: &[
            "We never sell your information. A group exam's report goes to your employer only with your consent.",
            "Data are encrypted at rest and in transit; staff see only what their role needs, masked on screen, and every access is logged.",
        ],
    },
    NoticeSection {
        title_zh: "六、您的权利",
        title_en: "6. Your rights",
        body_zh: &[
            "您可以查阅、复制、更正、删除您的个人信息，撤回授权，了解谁查看过您的记录。",
            "请携带身份证到体检中心服务台办理。",
        ],
        body_en: &[
            "You may see, copy, correct and erase your information, withdraw consent, and learn who looked at your record.",
            "Bring your ID card to the centre's front desk.",
        ],
    },
];

/// The notice as lines for a screen: each section's title, then its body.
pub fn notice_lines(english: bool) -> Vec<String> {
    NOTICE
        .iter()
        .flat_map(|s| {
            let (title, body) = if english {
                (s.title_en, s.body_en)
            } else {
                (s.title_zh, s.body_zh)
            };
            std::iter::once(title).chain(body.iter().copied())
        })
        .map(str::to_string)
        .collect()
}
