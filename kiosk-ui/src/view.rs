//! What a screen shows, as plain data, and how it is set on the window.

use slint::{ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, VecModel};

use crate::{ActionButton, BookingRow, KioskWindow, ScreenKind, Theme};

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
