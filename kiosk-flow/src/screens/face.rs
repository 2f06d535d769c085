//! The words of the face screens (K3), in Chinese or English: the notice
//! and the outcome on the generic summary screen, the camera's cues on the
//! face screen. Every cue is one plain request, as the voice says it.

use kiosk_face::Problem as P;
use kiosk_face::liveness::{Move, Prompt, Why};
use kiosk_ui::{Action as Button, Screen as Ui};

use super::t;
use crate::flow::{Action, Cue, FaceStep, Flow, Miss};

/// How long a face template is kept (the privacy notice says the same).
const KEPT: (&str, &str) = (
    "保存至您撤回同意或最后一次来检后一年",
    "kept until you withdraw consent, or one year after your last visit",
);

pub(super) fn view(flow: &Flow, step: &FaceStep, en: bool) -> Ui {
    let actions = buttons(en, flow, step);
    match step {
        FaceStep::Notice => Ui::Summary {
            title: t(en, "刷脸签到", "Check in with your face"),
            sub: t(
                en,
                "使用前请阅读，同意后开始",
                "Please read this first; the camera starts when you agree",
            ),
            lines: notice(en),
            picture: "face".into(),
            actions,
        },
        FaceStep::Looking(cue) => {
            let (title, sub) = cue_words(en, *cue);
            Ui::Face {
                title,
                sub,
                arrow: match cue {
                    Cue::Challenge(Prompt::Do(Move::TurnLeft)) => "left",
                    Cue::Challenge(Prompt::Do(Move::TurnRight)) => "right",
                    Cue::Challenge(Prompt::Do(Move::Nod)) => "nod",
                    _ => "",
                }
                .into(),
                actions,
            }
        }
        FaceStep::Missed(m) => {
            let (title, sub) = miss_words(en, *m);
            Ui::Summary {
                title,
                sub,
                lines: vec![],
                picture: "idcard".into(),
                actions,
            }
        }
        FaceStep::CardNotice => Ui::Summary {
            title: t(en, "核验本人身份", "Is this card yours?"),
            sub: t(
                en,
                "本中心签到需核验持证人本人，同意后开始",
                "This centre checks that a card is its holder's; the camera starts when you agree",
            ),
            lines: card_notice(en),
            picture: "face".into(),
            actions,
        },
        FaceStep::ToDesk(m) => {
            let (title, sub) = desk_words(en, *m);
            Ui::Summary {
                title,
                sub,
                lines: vec![],
                picture: "idcard".into(),
                actions,
            }
        }
        FaceStep::Enrol => Ui::Summary {
            title: t(
                en,
                "下次来检，刷脸即可签到？",
                "Check in by face next time?",
            ),
            sub: t(
                en,
                "需要您单独同意，不同意不影响本次体检",
                "Only with your separate consent; saying no changes nothing today",
            ),
            lines: vec![
                t(
                    en,
                    "本机从刚才的照片计算人脸特征（一串数字，不是照片）并加密保存，下次来检时在自助机上用它认出您。",
                    "The kiosk computes a face template from the photo just taken (a list of numbers, not a picture); it is stored encrypted and used to recognise you at a kiosk next time.",
                ),
                t(
                    en,
                    &format!("{}；可在服务台或手机页面随时撤回，撤回即删除。", KEPT.0),
                    &format!(
                        "It is {}; withdraw at the desk or on your phone at any time and it is deleted.",
                        KEPT.1
                    ),
                ),
            ],
            picture: "face".into(),
            actions,
        },
    }
}

fn buttons(en: bool, flow: &Flow, step: &FaceStep) -> Vec<Button> {
    flow.book_actions()
        .into_iter()
        .map(|(a, enabled)| {
            let (label, primary) = match (step, a) {
                (FaceStep::Notice, Action::Next) => {
                    (t(en, "同意，开始刷脸", "I agree, start"), true)
                }
                (FaceStep::Notice, _) => (t(en, "不同意，用其他方式", "No, another way"), false),
                (FaceStep::Looking(_), _) if flow.checking_card() => {
                    (t(en, "取消", "Cancel"), false)
                }
                (FaceStep::Looking(_), _) => (t(en, "改用身份证", "Use my ID card"), false),
                (FaceStep::Missed(_), Action::Keypad) => {
                    (t(en, "输入身份证号", "Type my ID number"), true)
                }
                (FaceStep::Missed(_), _) => (t(en, "返回首页", "Back to start"), false),
                (FaceStep::Enrol, Action::Next) => (t(en, "同意保存", "Yes, keep it"), true),
                (FaceStep::Enrol, _) => (t(en, "不用了", "No, thanks"), false),
                (FaceStep::CardNotice, Action::Next) => {
                    (t(en, "同意，开始核验", "I agree, start"), true)
                }
                (FaceStep::CardNotice, _) => {
                    (t(en, "不同意，去服务台", "No, I'll go to the desk"), false)
                }
                (FaceStep::ToDesk(_), _) => (t(en, "返回首页", "Back to start"), true),
            };
            Button {
                label,
                enabled,
                primary,
            }
        })
        .collect()
}

/// The notice before the camera starts: what, why, how long, what leaves
/// the kiosk (PIPL art. 28–29: sensitive information, separate consent).
fn notice(en: bool) -> Vec<String> {
    vec![
        t(
            en,
            "收集什么：摄像头拍摄的您的面部画面。",
            "What: the camera's picture of your face.",
        ),
        t(
            en,
            "为什么：与您曾同意保存的人脸特征比对，认出您并找到今天的预约，与刷身份证一样签到。",
            "Why: to compare it with the face template you agreed to keep earlier, find today's booking and check you in, as your ID card would.",
        ),
        t(
            en,
            "请按提示转头或点头，以确认是真人在场（活体检测）。",
            "You will be asked to turn or nod, to show a real person is here (liveness check).",
        ),
        t(
            en,
            "保存多久：画面只在本机内比对，结束即丢弃，不保存、不上传。",
            "How long: the picture is compared inside this kiosk only and discarded at once; it is never stored or sent.",
        ),
        t(
            en,
            &format!("人脸特征{}。", KEPT.0),
            &format!("Your face template is {}.", KEPT.1),
        ),
        t(
            en,
            "不同意也可以刷身份证、扫码或输入证件号签到。",
            "If you do not agree, use your ID card, your booking code or the keypad.",
        ),
    ]
}

/// The notice before a card's holder is compared with its photo: nothing
/// is kept, so no retention to state; the alternative is the desk.
fn card_notice(en: bool) -> Vec<String> {
    vec![
        t(
            en,
            "收集什么：摄像头拍摄的您的面部画面，和身份证芯片里的照片。",
            "What: the camera's picture of your face, and the photo in the card's chip.",
        ),
        t(
            en,
            "为什么：确认持证人是本人（人证核验），防止他人代检。",
            "Why: to make sure the card is being used by its holder, so nobody takes another person's examination.",
        ),
        t(
            en,
            "请按提示转头或点头，以确认是真人在场（活体检测）。",
            "You will be asked to turn or nod, to show a real person is here (liveness check).",
        ),
        t(
            en,
            "保存多久：只在本机内比对，结束即丢弃，不保存、不上传；签到记录只写明已核验。",
            "How long: compared inside this kiosk only and discarded at once; nothing is stored or sent. The check-in record only says the check was made.",
        ),
        t(
            en,
            "不同意也可以到服务台，由工作人员核对您的身份证后签到。",
            "If you do not agree, staff at the desk will check your card by eye and check you in.",
        ),
    ]
}

fn desk_words(en: bool, m: Miss) -> (String, String) {
    let (zh, zh_sub, english, en_sub) = match m {
        Miss::NotCardHolder => (
            "人脸与身份证照片不一致",
            "请到服务台，工作人员会核对您的身份证。已通知工作人员。",
            "Your face does not match the card's photo",
            "Please go to the desk, where staff will check your card. They have been told.",
        ),
        Miss::Declined => (
            "请到服务台签到",
            "工作人员会核对您的身份证后为您签到。",
            "Please check in at the desk",
            "Staff will check your card and check you in.",
        ),
        Miss::NotLive(_) | Miss::NoFace => (
            "没有完成人证核验",
            "请到服务台，工作人员会核对您的身份证后为您签到。",
            "The check could not be completed",
            "Please go to the desk: staff will check your card and check you in.",
        ),
        Miss::Unavailable | Miss::NotKnown => (
            "人证核验暂时不可用",
            "请到服务台，工作人员会核对您的身份证后为您签到。",
            "The card check is not available just now",
            "Please go to the desk: staff will check your card and check you in.",
        ),
    };
    (t(en, zh, english), t(en, zh_sub, en_sub))
}

fn cue_words(en: bool, cue: Cue) -> (String, String) {
    let (zh, zh_sub, english, en_sub) = match cue {
        Cue::Position(P::NoFace) => (
            "请站到摄像头前",
            "让面部出现在框内",
            "Stand in front of the camera",
            "Put your face inside the oval",
        ),
        Cue::Position(P::SeveralFaces) => (
            "请一位一位来",
            "画面中只能有一个人",
            "One person at a time",
            "Only one face may be in the picture",
        ),
        Cue::Position(P::TooSmall) => (
            "请靠近一点",
            "面部要占满框内",
            "Come a little closer",
            "Your face should fill the oval",
        ),
        Cue::Position(P::TooDark) => (
            "光线太暗",
            "请摘下帽子，面向亮处",
            "It is too dark",
            "Take off your hat and face the light",
        ),
        Cue::Position(P::TurnedAway) | Cue::Challenge(Prompt::HoldStill) => (
            "请正对摄像头",
            "保持不动",
            "Look straight at the camera",
            "Hold still",
        ),
        Cue::Challenge(Prompt::Do(Move::TurnLeft)) => (
            "请向左转头",
            "慢慢转，再转回来",
            "Turn your head to the left",
            "Slowly, then back",
        ),
        Cue::Challenge(Prompt::Do(Move::TurnRight)) => (
            "请向右转头",
            "慢慢转，再转回来",
            "Turn your head to the right",
            "Slowly, then back",
        ),
        Cue::Challenge(Prompt::Do(Move::Nod)) => (
            "请点点头",
            "慢慢低头，再抬起",
            "Nod your head",
            "Slowly down, then up",
        ),
        Cue::Challenge(Prompt::BackToCentre) => (
            "请转回来，正对摄像头",
            "好的",
            "Now look straight at the camera",
            "Good",
        ),
        Cue::Comparing => (
            "正在识别，请稍候",
            "保持不动",
            "Recognising you",
            "Hold still",
        ),
    };
    (t(en, zh, english), t(en, zh_sub, en_sub))
}

fn miss_words(en: bool, m: Miss) -> (String, String) {
    let (zh, zh_sub, english, en_sub) = match m {
        Miss::NotKnown => (
            "没有认出您",
            "可能您还没有登记刷脸，或今天没有预约。请刷身份证、扫码或输入证件号签到。",
            "We could not recognise you",
            "You may not have face check-in yet, or no booking today. Please use your ID card, your code or the keypad.",
        ),
        Miss::NotLive(Why::TimedOut) => (
            "时间到了",
            "没关系，请刷身份证、扫码或输入证件号签到。",
            "Time is up",
            "Never mind: please use your ID card, your code or the keypad.",
        ),
        Miss::NotLive(_) => (
            "没有完成动作确认",
            "没关系，请刷身份证、扫码或输入证件号签到。",
            "The movement check did not complete",
            "Never mind: please use your ID card, your code or the keypad.",
        ),
        Miss::NoFace => (
            "没有看清您的面部",
            "请刷身份证、扫码或输入证件号签到。",
            "We could not see your face clearly",
            "Please use your ID card, your code or the keypad.",
        ),
        Miss::Unavailable | Miss::NotCardHolder | Miss::Declined => (
            "刷脸暂时不可用",
            "请刷身份证、扫码或输入证件号签到，工作人员会尽快处理。",
            "Face check-in is not available just now",
            "Please use your ID card, your code or the keypad; staff will see to it.",
        ),
    };
    (t(en, zh, english), t(en, zh_sub, en_sub))
}
