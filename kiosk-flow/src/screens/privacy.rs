//! The privacy notice's screen: the whole notice in a scrolling card (the
//! same text as the service's `/privacy` page, from `exam_domain::privacy`),
//! its version, and one button back.

use exam_domain::privacy::{NOTICE_VERSION, notice_lines};
use kiosk_ui::{Action as Button, Screen as Ui};

use super::t;

pub(super) fn view(en: bool) -> Ui {
    Ui::Summary {
        title: t(en, "隐私政策", "Privacy notice"),
        sub: t(
            en,
            &format!("{NOTICE_VERSION} 版 · 体检中心如何处理您的个人信息"),
            &format!("Version {NOTICE_VERSION} · how the centre handles your personal information"),
        ),
        lines: notice_lines(en),
        picture: String::new(),
        // The flow's one action here is `Action::Back` (`Flow::book_actions`).
        actions: vec![Button {
            label: t(en, "返回", "Back"),
            enabled: true,
            primary: true,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Event, Flow, Settings};
    use crate::screens::{Context, view as screen_view};

    #[test]
    fn the_notice_screen_shows_the_whole_notice_its_version_and_back() {
        let mut f = Flow::new(Settings {
            photo: true,
            face: false,
            face_policy: Default::default(),
            elderly: false,
        });
        f.handle(Event::OpenPrivacy);
        for en in [false, true] {
            let cx = Context {
                english: en,
                ..Context::default()
            };
            let v = screen_view(&f, &cx);
            let Ui::Summary {
                title,
                sub,
                lines,
                actions,
                ..
            } = v.screen
            else {
                panic!("a summary screen: {:?}", v.screen);
            };
            assert!(!title.is_empty());
            assert!(sub.contains(NOTICE_VERSION), "{sub}");
            assert_eq!(lines, notice_lines(en));
            assert_eq!(actions.len(), f.book_actions().len());
            assert!(!v.words.privacy_link.is_empty());
            assert!(v.words.consent.contains(NOTICE_VERSION));
        }
    }
}
