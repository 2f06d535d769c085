//! The words of the window around every screen and of the fixed parts of
//! each screen (buttons, titles, hints), in Chinese or English: with the
//! rest of `screens`, the one home of what the patient reads. Elderly mode
//! takes shorter English where large type fills the width.

use exam_domain::privacy::NOTICE_VERSION;
use kiosk_ui::ScreenWords;

use super::t;

/// The words for this language and theme.
pub fn words(en: bool, elderly: bool) -> ScreenWords {
    ScreenWords {
        steps: [
            t(en, "放置证件", "Identify"),
            t(en, "核验身份", "Verify"),
            t(en, "确认项目", "Confirm"),
            t(en, "打印单据", "Print"),
            t(en, "取走单据", "Take"),
        ],
        mode_toggle: if elderly {
            t(en, "标准模式", "Standard")
        } else {
            t(en, "老年模式", "Large text")
        },
        // The language button names the other language in its own words.
        other_language: if en { "中文" } else { "English" }.into(),
        book_button: t(
            en,
            "预约 · 改约 · 取消",
            if elderly {
                "Bookings"
            } else {
                "Book · change · cancel"
            },
        ),
        book_button_long: t(en, "预约 · 改约 · 取消", "Book · change · cancel"),
        reports_button: t(
            en,
            "打印体检报告",
            if elderly {
                "Print report"
            } else {
                "Print my report"
            },
        ),
        reports_button_long: t(en, "打印体检报告", "Print my report"),
        call_staff: t(en, "呼叫工作人员", "Call staff"),
        back_to_start: t(en, "返回首页", "Back to start"),
        key_delete: t(en, "删除", "Del"),
        choose_how: t(en, "请选择一种方式开始签到", "Choose how to check in"),
        way_idcard: t(en, "放置身份证", "Place your ID card"),
        way_idcard_hint: t(
            en,
            "请将身份证放在下方读卡区",
            "On the reader below the screen",
        ),
        way_qr: t(en, "扫描二维码 / 条码", "Scan your QR code"),
        way_qr_hint: t(
            en,
            "预约二维码、体检号或电子健康卡",
            "Booking QR, exam number or e-health card",
        ),
        way_keypad: t(en, "输入证件号", "Type your ID number"),
        way_keypad_hint: t(en, "没带证件？点这里", "No card with you? Tap here"),
        way_face: t(en, "刷脸签到", "Face"),
        way_face_hint: t(en, "需本人同意", "With your consent"),
        keypad_button: t(en, "没带证件？输入证件号", "Type ID number"),
        keypad_button_long: t(en, "没带证件？输入证件号", "No card? Type the number"),
        hello: t(en, "您好，", "Hello, "),
        choose_sub: t(
            en,
            "您有以下预约，请选择要打印的单据",
            "You have these bookings: choose what to print",
        ),
        print_all: t(en, "全部打印", "Print all"),
        print_selected: t(en, "打印所选", "Print selected"),
        keypad_title: t(
            en,
            "请输入身份证号和手机号",
            "Type your ID number and mobile number",
        ),
        id_number: t(en, "身份证号", "ID number"),
        mobile: t(en, "手机号", "Mobile"),
        look_up: t(en, "查询", "Look up"),
        looking: t(
            en,
            "正在核验身份，请稍候…",
            "Checking your booking, one moment…",
        ),
        consent: t(
            en,
            &format!(
                "为核对身份，体检单据上需印有您的现场照片。照片仅用于本次体检，按《个人信息保护法》保存和处理，您可随时撤回同意（详见隐私政策 {NOTICE_VERSION} 版）。是否同意拍照？"
            ),
            &format!(
                "Your guide sheet carries a photo taken here, to check it is you. It is used only for this exam and kept as the Personal Information Protection Law requires; you may withdraw consent at any time (privacy notice of {NOTICE_VERSION}). May we take it?"
            ),
        ),
        consent_yes: t(en, "同意拍照", "Yes, take a photo"),
        consent_no: t(en, "不同意", "No photo"),
        photo_title: t(en, "请看向摄像头", "Please look at the camera"),
        photo_sub: t(
            en,
            "照片将印在指引单上",
            "The photo goes on your guide sheet",
        ),
        take_photo: t(en, "拍照", "Take photo"),
        retake: t(en, "重拍", "Retake"),
        skip: t(en, "跳过", "Skip"),
        amount_due: t(en, "待缴费用 ", "Amount due "),
        pay_how: t(
            en,
            "请用微信、支付宝或医保电子凭证扫码支付，支付成功后自动打印",
            "Scan with WeChat Pay, Alipay or your medical-insurance e-certificate; printing starts when paid",
        ),
        pay_later: t(en, "暂不支付，返回", "Not now, go back"),
        printing_resumed: t(en, "继续打印您的单据", "Continuing to print your documents"),
        printing: t(en, "打印中，请稍候", "Printing, please wait"),
        printed: t(en, "已完成 ", "Done "),
        printing_stay: t(
            en,
            "请勿离开，单据打印完成后请从下方出纸口取走",
            "Please stay: take your documents from the slot below when done",
        ),
        take_documents: t(en, "请取走您的单据", "Please take your documents"),
        follow_sheet: t(
            en,
            "请按指引单上的顺序前往各科室检查",
            "Follow the order on your guide sheet",
        ),
        go_first: t(en, "请先前往：", "Please go first to: "),
        done: t(en, "完成", "Done"),
        swipe_more: t(en, "上下滑动查看更多", "Swipe up for more"),
        privacy_link: t(en, "隐私政策", "Privacy notice"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_there_in_both_languages() {
        for elderly in [false, true] {
            let (zh, en) = (words(false, elderly), words(true, elderly));
            // No word is left empty (the window would show a blank).
            for w in [&zh, &en] {
                let debug = format!("{w:?}");
                assert!(
                    !debug.contains(": \"\"") && !debug.contains("\"\","),
                    "{debug}"
                );
            }
            assert!(zh.looking.chars().any(|c| c > '\u{2e80}'), "{zh:?}");
            assert!(en.looking.is_ascii() || en.looking.ends_with('…'), "{en:?}");
            assert_ne!(zh.mode_toggle, en.mode_toggle);
        }
        assert_eq!(words(true, true).book_button, "Bookings");
        assert_eq!(words(true, false).book_button, "Book · change · cancel");
        assert_ne!(
            words(false, false).mode_toggle,
            words(false, true).mode_toggle
        );
    }
}
