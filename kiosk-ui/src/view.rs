//! What a screen shows, as plain data, and how it is set on the window.

use slint::{ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, VecModel};

use crate::{ActionButton, BookingRow, KioskWindow, ScreenKind, Theme, Words};

/// A booking row on the choose screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: i64,
    pub title: String,
    pub detail: String,
    pub status: String,
    pub ready: bool,
    pub selected: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keypad {
    pub id_number: String,
    pub mobile: String,
    /// 0: the ID number is being typed, 1: the mobile number.
    pub field: u8,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemView {
    pub title: String,
    pub detail: String,
    /// Needs the desk (red) rather than another try (amber).
    pub serious: bool,
    /// The label of a second way on (booking instead), empty for none.
    pub action: String,
}

/// A button at the foot of a booking screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub label: String,
    pub enabled: bool,
    pub primary: bool,
}

/// Which screen, with what is particular to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Attract,
    Keypad(Keypad),
    Looking {
        via: String,
    },
    Consent {
        name: String,
    },
    Choose {
        name: String,
        bookings: Vec<Booking>,
    },
    Photo {
        retakes_left: u8,
    },
    /// `qr` is the payment link the QR code encodes.
    Pay {
        amount: String,
        qr: String,
        provider: String,
    },
    Printing {
        done: usize,
        total: usize,
        resumed: bool,
    },
    TakeDocuments {
        first_station: String,
    },
    Problem(ProblemView),
    /// A list to pick from, with buttons (the booking screens).
    Pick {
        title: String,
        sub: String,
        rows: Vec<Booking>,
        prompt: String,
        actions: Vec<Action>,
        /// One row per line (long titles); else two columns in landscape.
        wide: bool,
    },
    /// A title, a few lines and buttons; `picture` names a pictogram.
    Summary {
        title: String,
        sub: String,
        lines: Vec<String>,
        picture: String,
        actions: Vec<Action>,
    },
    /// K3: the camera's picture (the window's preview image) with what to
    /// do now; `arrow` is "left", "right", "nod" or empty.
    Face {
        title: String,
        sub: String,
        arrow: String,
        actions: Vec<Action>,
    },
}

/// The words of the screens, in the patient's language: kiosk-app's
/// `screens` module fills them (their one home), the window's `Words`
/// global shows them. Empty until then.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScreenWords {
    /// The step guide's five steps.
    pub steps: [String; 5],
    pub mode_toggle: String,
    pub other_language: String,
    pub book_button: String,
    pub book_button_long: String,
    pub reports_button: String,
    pub reports_button_long: String,
    pub call_staff: String,
    pub back_to_start: String,
    pub key_delete: String,
    pub choose_how: String,
    pub way_idcard: String,
    pub way_idcard_hint: String,
    pub way_qr: String,
    pub way_qr_hint: String,
    pub way_keypad: String,
    pub way_keypad_hint: String,
    pub way_face: String,
    pub way_face_hint: String,
    pub keypad_button: String,
    pub keypad_button_long: String,
    pub hello: String,
    pub choose_sub: String,
    pub print_all: String,
    pub print_selected: String,
    pub keypad_title: String,
    pub id_number: String,
    pub mobile: String,
    pub look_up: String,
    pub looking: String,
    pub consent: String,
    pub consent_yes: String,
    pub consent_no: String,
    pub photo_title: String,
    pub photo_sub: String,
    pub take_photo: String,
    pub retake: String,
    pub skip: String,
    pub amount_due: String,
    pub pay_how: String,
    pub pay_later: String,
    pub printing_resumed: String,
    pub printing: String,
    pub printed: String,
    pub printing_stay: String,
    pub take_documents: String,
    pub follow_sheet: String,
    pub go_first: String,
    pub done: String,
    pub swipe_more: String,
    /// The link to the privacy notice (start screen, consent step).
    pub privacy_link: String,
}

/// Everything the window shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub screen: Screen,
    pub elderly: bool,
    pub english: bool,
    pub centre_name: String,
    pub welcome: String,
    pub ticker: String,
    pub clock: String,
    pub face_available: bool,
    /// The start screen offers "print my report".
    pub reports_available: bool,
    pub notice: String,
    /// The check-in step the guide at the top shows (0–4), if any.
    pub step: Option<u8>,
    /// The screen offers "back to start".
    pub back: bool,
    pub words: ScreenWords,
}

impl View {
    pub fn new(screen: Screen) -> Self {
        Self {
            screen,
            elderly: false,
            english: false,
            centre_name: "健康管理中心".into(),
            welcome: "欢迎使用自助签到".into(),
            ticker: String::new(),
            clock: String::new(),
            face_available: false,
            reports_available: false,
            notice: String::new(),
            step: None,
            back: false,
            words: ScreenWords::default(),
        }
    }

    /// Sets every property of the window from this view. Properties of
    /// other screens are reset, so nothing personal lingers in the window.
    pub fn apply(&self, w: &KioskWindow) {
        let theme = w.global::<Theme>();
        theme.set_elderly(self.elderly);
        theme.set_english(self.english);
        w.set_centre_name(self.centre_name.as_str().into());
        w.set_welcome(self.welcome.as_str().into());
        w.set_ticker(self.ticker.as_str().into());
        w.set_clock(self.clock.as_str().into());
        w.set_face_available(self.face_available);
        w.set_reports_available(self.reports_available);
        w.set_notice(self.notice.as_str().into());
        w.set_step(self.step.map_or(-1, i32::from));
        w.set_show_back(self.back);
        let words = w.global::<Words>();
        words.set_steps(ModelRc::new(VecModel::from(
            self.words
                .steps
                .iter()
                .map(|s| slint::SharedString::from(s.as_str()))
                .collect::<Vec<_>>(),
        )));
        words.set_mode_toggle(self.words.mode_toggle.as_str().into());
        words.set_other_language(self.words.other_language.as_str().into());
        words.set_book_button(self.words.book_button.as_str().into());
        words.set_book_button_long(self.words.book_button_long.as_str().into());
        words.set_reports_button(self.words.reports_button.as_str().into());
        words.set_reports_button_long(self.words.reports_button_long.as_str().into());
        words.set_call_staff(self.words.call_staff.as_str().into());
        words.set_back_to_start(self.words.back_to_start.as_str().into());
        words.set_key_delete(self.words.key_delete.as_str().into());
        words.set_choose_how(self.words.choose_how.as_str().into());
        words.set_way_idcard(self.words.way_idcard.as_str().into());
        words.set_way_idcard_hint(self.words.way_idcard_hint.as_str().into());
        words.set_way_qr(self.words.way_qr.as_str().into());
        words.set_way_qr_hint(self.words.way_qr_hint.as_str().into());
        words.set_way_keypad(self.words.way_keypad.as_str().into());
        words.set_way_keypad_hint(self.words.way_keypad_hint.as_str().into());
        words.set_way_face(self.words.way_face.as_str().into());
        words.set_way_face_hint(self.words.way_face_hint.as_str().into());
        words.set_keypad_button(self.words.keypad_button.as_str().into());
        words.set_keypad_button_long(self.words.keypad_button_long.as_str().into());
        words.set_hello(self.words.hello.as_str().into());
        words.set_choose_sub(self.words.choose_sub.as_str().into());
        words.set_print_all(self.words.print_all.as_str().into());
        words.set_print_selected(self.words.print_selected.as_str().into());
        words.set_keypad_title(self.words.keypad_title.as_str().into());
        words.set_id_number(self.words.id_number.as_str().into());
        words.set_mobile(self.words.mobile.as_str().into());
        words.set_look_up(self.words.look_up.as_str().into());
        words.set_looking(self.words.looking.as_str().into());
        words.set_consent(self.words.consent.as_str().into());
        words.set_consent_yes(self.words.consent_yes.as_str().into());
        words.set_consent_no(self.words.consent_no.as_str().into());
        words.set_photo_title(self.words.photo_title.as_str().into());
        words.set_photo_sub(self.words.photo_sub.as_str().into());
        words.set_take_photo(self.words.take_photo.as_str().into());
        words.set_retake(self.words.retake.as_str().into());
        words.set_skip(self.words.skip.as_str().into());
        words.set_amount_due(self.words.amount_due.as_str().into());
        words.set_pay_how(self.words.pay_how.as_str().into());
        words.set_pay_later(self.words.pay_later.as_str().into());
        words.set_printing_resumed(self.words.printing_resumed.as_str().into());
        words.set_printing(self.words.printing.as_str().into());
        words.set_printed(self.words.printed.as_str().into());
        words.set_printing_stay(self.words.printing_stay.as_str().into());
        words.set_take_documents(self.words.take_documents.as_str().into());
        words.set_follow_sheet(self.words.follow_sheet.as_str().into());
        words.set_go_first(self.words.go_first.as_str().into());
        words.set_done(self.words.done.as_str().into());
        words.set_swipe_more(self.words.swipe_more.as_str().into());
        words.set_privacy_link(self.words.privacy_link.as_str().into());

        let blank = Image::default();
        let mut kind = ScreenKind::Attract;
        let (mut name, mut via) = (String::new(), String::new());
        let mut rows: Vec<BookingRow> = Vec::new();
        let mut pick_rows: Vec<BookingRow> = Vec::new();
        let mut keypad = Keypad::default();
        let (mut amount, mut provider, mut qr) = (String::new(), String::new(), blank.clone());
        let (mut done, mut total, mut resumed, mut retakes_left) = (0, 0, false, 0);
        let mut station = String::new();
        let mut problem = ProblemView {
            title: String::new(),
            detail: String::new(),
            serious: false,
            action: String::new(),
        };
        let (mut title, mut sub, mut prompt, mut picture) =
            (String::new(), String::new(), String::new(), String::new());
        let mut lines: Vec<slint::SharedString> = Vec::new();
        let mut actions: Vec<Action> = Vec::new();
        let mut wide = false;
        match &self.screen {
            Screen::Attract => {}
            Screen::Keypad(k) => {
                kind = ScreenKind::Keypad;
                keypad = k.clone();
            }
            Screen::Looking { via: v } => {
                kind = ScreenKind::Looking;
                via = v.clone();
            }
            Screen::Consent { name: n } => {
                kind = ScreenKind::Consent;
                name = n.clone();
            }
            Screen::Choose { name: n, bookings } => {
                kind = ScreenKind::Choose;
                name = n.clone();
                rows = bookings.iter().map(row).collect();
            }
            Screen::Photo { retakes_left: r } => {
                kind = ScreenKind::Photo;
                retakes_left = i32::from(*r);
            }
            Screen::Pay {
                amount: a,
                qr: link,
                provider: p,
            } => {
                kind = ScreenKind::Pay;
                amount = a.clone();
                provider = p.clone();
                qr = qr_image(link);
            }
            Screen::Printing {
                done: d,
                total: t,
                resumed: r,
            } => {
                kind = ScreenKind::Printing;
                (done, total, resumed) = (*d as i32, *t as i32, *r);
            }
            Screen::TakeDocuments { first_station } => {
                kind = ScreenKind::TakeDocuments;
                station = first_station.clone();
            }
            Screen::Problem(p) => {
                kind = ScreenKind::Problem;
                problem = p.clone();
            }
            Screen::Pick {
                title: t,
                sub: s,
                rows: r,
                prompt: p,
                actions: a,
                wide: wd,
            } => {
                kind = ScreenKind::Pick;
                wide = *wd;
                (title, sub, prompt, actions) = (t.clone(), s.clone(), p.clone(), a.clone());
                pick_rows = r.iter().map(row).collect();
            }
            Screen::Summary {
                title: t,
                sub: s,
                lines: l,
                picture: p,
                actions: a,
            } => {
                kind = ScreenKind::Summary;
                (title, sub, picture, actions) = (t.clone(), s.clone(), p.clone(), a.clone());
                lines = l.iter().map(|l| l.as_str().into()).collect();
            }
            Screen::Face {
                title: t,
                sub: s,
                arrow,
                actions: a,
            } => {
                kind = ScreenKind::Face;
                (title, sub, picture, actions) = (t.clone(), s.clone(), arrow.clone(), a.clone());
            }
        }
        w.set_screen(kind);
        w.set_person_name(name.into());
        w.set_looking_via(via.into());
        w.set_bookings(ModelRc::new(VecModel::from(rows)));
        w.set_keypad_id(keypad.id_number.into());
        w.set_keypad_mobile(keypad.mobile.into());
        w.set_keypad_field(i32::from(keypad.field));
        w.set_keypad_error(keypad.error.into());
        w.set_amount(amount.into());
        w.set_pay_qr(qr);
        w.set_pay_provider(provider.into());
        w.set_done(done);
        w.set_total(total);
        w.set_resumed(resumed);
        w.set_retakes_left(retakes_left);
        w.set_first_station(station.into());
        w.set_problem_title(problem.title.into());
        w.set_problem_detail(problem.detail.into());
        w.set_problem_serious(problem.serious);
        w.set_problem_action(problem.action.into());
        w.set_pick_title(title.into());
        w.set_pick_sub(sub.into());
        w.set_pick_prompt(prompt.into());
        w.set_pick_wide(wide);
        w.set_pick_rows(ModelRc::new(VecModel::from(pick_rows)));
        w.set_summary_lines(ModelRc::new(VecModel::from(lines)));
        w.set_summary_picture(picture.into());
        w.set_actions(ModelRc::new(VecModel::from(
            actions
                .into_iter()
                .map(|a| ActionButton {
                    label: a.label.into(),
                    enabled: a.enabled,
                    primary: a.primary,
                })
                .collect::<Vec<_>>(),
        )));
    }
}

fn row(b: &Booking) -> BookingRow {
    BookingRow {
        id: b.id as i32,
        title: b.title.as_str().into(),
        detail: b.detail.as_str().into(),
        status: b.status.as_str().into(),
        ready: b.ready,
        selected: b.selected,
    }
}

/// A QR code as an image, 8 pixels a module with a quiet zone.
pub fn qr_image(data: &str) -> Image {
    let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
        return Image::default();
    };
    let n = code.width();
    let (quiet, px) = (4, 8);
    let side = (n + 2 * quiet) * px;
    let mut buf = SharedPixelBuffer::<Rgb8Pixel>::new(side as u32, side as u32);
    let colors = code.to_colors();
    for (i, p) in buf.make_mut_slice().iter_mut().enumerate() {
        let (x, y) = (i % side / px, i / side / px);
        let dark = x >= quiet
            && y >= quiet
            && x < n + quiet
            && y < n + quiet
            && colors[(y - quiet) * n + (x - quiet)] == qrcode::Color::Dark;
        let v = if dark { 0 } else { 255 };
        *p = Rgb8Pixel { r: v, g: v, b: v };
    }
    Image::from_rgb8(buf)
}
