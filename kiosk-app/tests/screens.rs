//! Every screen of the kiosk, reached by driving the real flow, drawn by
//! the real Slint UI with the software renderer (no display) in both themes
//! and both orientations, in Chinese and English. Fails when a screen does
//! not render, when a text does not fit its box, or when something sits
//! outside the window, and when a Chinese screen no longer looks like its
//! committed image in docs/screens/ (within a small tolerance, as the
//! receipt's golden images). A screen changed on purpose is regenerated
//! with `UPDATE_SCREENS=1 cargo test -p kiosk-app --test screens`, looked
//! at, and committed; every render is also written to the target directory.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveTime};
use exam_domain::slot::Eligibility;
use exam_protocol::BookingRecord;
use i_slint_backend_testing::ElementQuery;
use kiosk_app::flow::{Event, Flow, Key, Problem, Settings, Via};
use kiosk_app::screens::{Context, view};
use kiosk_app::{Candidate, Identified, Source};
use kiosk_ui::headless::Screen;
use kiosk_ui::slint::{Image, Rgb8Pixel, SharedPixelBuffer};

fn found(specs: &[(i64, Eligibility)]) -> Identified {
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let t = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let d = exam_domain::demo::generate(7, 3, day, t, t, "main");
    let person = d.people[0].clone();
    let candidates = specs
        .iter()
        .enumerate()
        .map(|(i, (due, e))| {
            let mut b = d.bookings[i % d.bookings.len()].clone();
            b.id = 100 + i as i64;
            b.amount_due_fen = *due;
            Candidate {
                record: BookingRecord {
                    booking: b,
                    person: person.clone(),
                    change_seq: 1,
                    documents: None,
                },
                eligibility: e.clone(),
            }
        })
        .collect();
    Identified {
        source: Source::Online,
        person: Some(person),
        candidates,
    }
}

fn opens() -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 22)
        .unwrap()
        .and_hms_opt(10, 30, 0)
        .unwrap()
}

fn card() -> Event {
    Event::Identify(
        exam_domain::IdentityQuery::IdNumber {
            id_number: exam_domain::IdNumber::parse("11010519491231002X").unwrap(),
        },
        Via::IdCard,
    )
}

/// Drives a fresh flow with `events`, answering its lookup with `answer`.
fn reach(elderly: bool, answer: Option<Identified>, events: Vec<Event>) -> Flow {
    let mut f = Flow::new(Settings {
        elderly,
        photo: true,
        face: false,
        face_policy: Default::default(),
    });
    for ev in events {
        for fx in f.handle(ev) {
            if let (kiosk_app::flow::Effect::Lookup(id, _), Some(a)) = (fx, &answer) {
                f.handle(Event::Found(id, a.clone()));
            }
        }
    }
    f
}

fn cases(elderly: bool) -> Vec<(&'static str, Flow)> {
    use Eligibility::*;
    let three = found(&[
        (68000, Ready),
        (0, Ready),
        (0, TooEarly { opens_at: opens() }),
    ]);
    let one_due = found(&[(68000, Ready)]);
    let mut keypad = reach(elderly, None, vec![Event::OpenKeypad]);
    for d in [1, 1, 0, 1, 0, 5, 1, 9, 4, 9, 1, 2, 3, 1, 0, 0, 2, 1] {
        keypad.handle(Event::Key(Key::Digit(d)));
    }
    keypad.handle(Event::SubmitKeypad);
    let mut printing = reach(
        false,
        Some(one_due.clone()),
        vec![card(), Event::Consent(false), Event::Paid],
    );
    printing.settings.elderly = elderly;
    printing.handle(Event::Printed { done: 1, total: 3 });
    let mut resumed = Flow::new(Settings {
        elderly,
        photo: true,
        face: false,
        face_policy: Default::default(),
    });
    resumed.handle(Event::ResumePrinting { done: 2, total: 3 });
    let mut taken = printing.clone();
    taken.handle(Event::PrintFinished {
        first_station: Some("二楼 抽血室（空腹采血）".into()),
    });
    let problem = |p: Problem| {
        let mut f = Flow::new(Settings {
            elderly,
            photo: true,
            face: false,
            face_policy: Default::default(),
        });
        f.screen = kiosk_app::flow::Screen::Problem(p);
        f
    };
    // Choose needs several bookings; in elderly mode the flow prints them
    // all without asking, so the screen is reached in standard mode.
    let mut choose = reach(
        false,
        Some(three.clone()),
        vec![card(), Event::Consent(true)],
    );
    choose.settings.elderly = elderly;
    let mut v = vec![
        (
            "attract",
            Flow::new(Settings {
                elderly,
                photo: true,
                face: false,
                face_policy: Default::default(),
            }),
        ),
        ("keypad", keypad),
        ("looking", reach(elderly, None, vec![card()])),
        (
            "consent",
            reach(elderly, Some(one_due.clone()), vec![card()]),
        ),
        ("choose", choose),
        (
            "photo",
            reach(
                elderly,
                Some(one_due.clone()),
                vec![card(), Event::Consent(true)],
            ),
        ),
        (
            "pay",
            reach(elderly, Some(one_due), vec![card(), Event::Consent(false)]),
        ),
        ("printing", printing),
        ("printing-resumed", resumed),
        ("take-documents", taken),
        ("no-booking", problem(Problem::NoBooking)),
        ("card-unreadable", problem(Problem::CardUnreadable)),
        (
            "too-early",
            problem(Problem::TooEarly { opens_at: opens() }),
        ),
        ("nothing-today", problem(Problem::NothingToday)),
        ("printer-out", problem(Problem::PrinterOut)),
        ("payment-failed", problem(Problem::PaymentFailed)),
        // PIPL: the privacy notice, from the start screen and from the
        // consent step (the step guide shows there).
        ("privacy", reach(elderly, None, vec![Event::OpenPrivacy])),
        (
            "privacy-at-consent",
            reach(
                elderly,
                Some(found(&[(68000, Eligibility::Ready)])),
                vec![card(), Event::OpenPrivacy],
            ),
        ),
    ];
    v.extend(booking_cases(elderly));
    v.extend(report_cases(elderly));
    v.extend(face_cases(elderly));
    v
}

/// The face screens (K3): the start screen offering it, the notice, the
/// camera's cues, a miss and the enrolment question after the photo.
fn face_cases(elderly: bool) -> Vec<(&'static str, Flow)> {
    use kiosk_app::flow::{Action, Cue, Effect, FaceResult, Miss};
    use kiosk_face::liveness::{Move, Prompt, Why};
    let fresh = || {
        Flow::new(Settings {
            elderly,
            photo: true,
            face: true,
            face_policy: Default::default(),
        })
    };
    let mut notice = fresh();
    notice.handle(Event::StartFace);
    let mut camera = notice.clone();
    let worker = match camera.handle(Event::Act(Action::Next))[..] {
        [Effect::StartFace(w), ..] => w,
        ref other => panic!("{other:?}"),
    };
    let cue = |c: Cue| {
        let mut f = camera.clone();
        f.handle(Event::FaceCue(worker, c));
        f
    };
    let mut missed = camera.clone();
    missed.handle(Event::FaceDone(
        worker,
        FaceResult::Missed(Miss::NotLive(Why::WrongMove(Move::Nod))),
    ));
    let mut enrol = Flow::new(Settings {
        elderly: false,
        photo: true,
        face: true,
        face_policy: Default::default(),
    });
    for fx in enrol.handle(card()) {
        if let Effect::Lookup(id, _) = fx {
            enrol.handle(Event::Found(id, found(&[(0, Eligibility::Ready)])));
        }
    }
    enrol.handle(Event::Consent(true));
    enrol.handle(Event::PhotoTaken);
    enrol.settings.elderly = elderly;
    // 人证核验: a card with a photo at a centre that checks cards.
    let mut card_notice = fresh();
    card_notice.settings.face_policy.verify_card = true;
    card_notice.handle(Event::CardRead(kiosk_app::flow::Holder {
        id_number: exam_domain::IdNumber::parse("11010519491231002X").unwrap(),
        name: "王秀英".into(),
        photo: true,
    }));
    let mut checking = card_notice.clone();
    let checker = match checking.handle(Event::Act(Action::Next))[..] {
        [Effect::CheckCardFace(w, _), ..] => w,
        ref other => panic!("{other:?}"),
    };
    let mut mismatch = checking.clone();
    mismatch.handle(Event::FaceDone(checker, FaceResult::Missed(Miss::NotKnown)));
    let mut declined = card_notice.clone();
    declined.handle(Event::Act(Action::Back));
    checking.handle(Event::FaceCue(
        checker,
        Cue::Challenge(Prompt::Do(Move::TurnRight)),
    ));
    vec![
        ("attract-face", fresh()),
        ("face-card-notice", card_notice),
        ("face-card-checking", checking),
        ("face-card-mismatch", mismatch),
        ("face-card-declined", declined),
        ("face-notice", notice),
        (
            "face-closer",
            cue(Cue::Position(kiosk_face::Problem::TooSmall)),
        ),
        (
            "face-turn-left",
            cue(Cue::Challenge(Prompt::Do(Move::TurnLeft))),
        ),
        ("face-nod", cue(Cue::Challenge(Prompt::Do(Move::Nod)))),
        ("face-missed", missed),
        ("face-enrol", enrol),
    ]
}

/// The report screens (K9): the list is reached in standard mode (elderly
/// mode prints at once) and shown in either theme.
fn report_cases(elderly: bool) -> Vec<(&'static str, Flow)> {
    use exam_protocol::{ReportSummary, ReportsResponse};
    use kiosk_app::flow::{Action, Effect, Holder, Unavailable};
    let holder = Holder {
        id_number: exam_domain::IdNumber::parse("11010519491231002X").unwrap(),
        name: "王秀英".into(),
        photo: false,
    };
    let report = |id: i64, title: &str, printed: u32| ReportSummary {
        id,
        booking_id: id,
        booking_code: format!("BK2611020000{id}"),
        exam_no: format!("2611020{id:03}"),
        exam_date: NaiveDate::from_ymd_opt(2026, 11, 2 + id as u32).unwrap(),
        title: title.into(),
        pages: 12,
        published_at: chrono::Utc::now(),
        printed,
    };
    let start = |answer: Result<Vec<ReportSummary>, Unavailable>| {
        let mut f = Flow::new(Settings {
            elderly: false,
            photo: true,
            face: false,
            face_policy: Default::default(),
        });
        f.handle(Event::StartReports);
        for fx in f.handle(Event::CardRead(holder.clone())) {
            if let Effect::LoadReports(id, _) = fx {
                let answer = answer.clone().map(|reports| ReportsResponse {
                    name: holder.name.clone(),
                    reports,
                });
                f.handle(Event::ReportsLoaded(id, answer));
            }
        }
        f
    };
    let mut place = Flow::new(Settings {
        elderly: false,
        photo: true,
        face: false,
        face_policy: Default::default(),
    });
    place.handle(Event::StartReports);
    let list = start(Ok(vec![
        report(1, "入职体检套餐（男） 体检报告", 0),
        report(2, "年度健康体检 · 心脑血管专项 体检报告", 1),
    ]));
    let none = start(Ok(vec![]));
    let offline = start(Err(Unavailable::Offline));
    let mut printing = list.clone();
    for fx in printing.handle(Event::Act(Action::Print)) {
        if let Effect::PrintReports(id, _, chosen) = fx {
            printing.handle(Event::ReportsQueued(id, Ok(chosen.len())));
        }
    }
    let mut take = printing.clone();
    take.handle(Event::PrintFinished {
        first_station: None,
    });
    let mut v = vec![
        ("report-card", place),
        ("report-list", list),
        ("report-none", none),
        ("report-unavailable", offline),
        ("report-printing", printing),
        ("report-take", take),
    ];
    for (_, f) in &mut v {
        f.settings.elderly = elderly;
    }
    v
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// The booking screens (K17), reached by driving the flow with the seeded
/// catalogue's options.
fn booking_cases(elderly: bool) -> Vec<(&'static str, Flow)> {
    use kiosk_app::flow::{Action, Effect, Holder, Loaded, Outcome, Unavailable};
    let woman = Holder {
        id_number: exam_domain::IdNumber::parse("11010519491231002X").unwrap(),
        name: "王秀英".into(),
        photo: false,
    };
    let cat = exam_domain::catalogue::seed::catalogue();
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let days: Vec<exam_protocol::BookingOptions> = (0..7)
        .map(|d| {
            let slots = (0..6)
                .map(|i| exam_protocol::SlotOption {
                    start: hm(7 + i / 2, (i % 2) * 30),
                    end: hm(7 + i.div_ceil(2), ((i + 1) % 2) * 30),
                    left: if d == 0 {
                        0
                    } else {
                        i64::from((i * 7 + d) % 5)
                    },
                })
                .collect();
            exam_protocol::BookingOptions::new(
                &cat,
                today + chrono::Duration::days(d.into()),
                slots,
            )
        })
        .collect();
    let upcoming = {
        let mut b = found(&[(0, Eligibility::NotToday)]).candidates[0]
            .record
            .booking
            .clone();
        b.exam_date = today + chrono::Duration::days(3);
        b.state = exam_domain::BookingState::Booked;
        b
    };
    let start = |bookings: Vec<exam_domain::Booking>| {
        let mut f = Flow::new(Settings {
            elderly,
            photo: true,
            face: false,
            face_policy: Default::default(),
        });
        f.handle(Event::StartBooking);
        for fx in f.handle(Event::CardRead(woman.clone())) {
            if let Effect::LoadBooking(id, _) = fx {
                f.handle(Event::BookingLoaded(
                    id,
                    Ok(Loaded {
                        today,
                        bookings: bookings.clone(),
                        days: days.clone(),
                    }),
                ));
            }
        }
        f
    };
    let place = {
        let mut f = Flow::new(Settings {
            elderly,
            photo: true,
            face: false,
            face_policy: Default::default(),
        });
        f.handle(Event::StartBooking);
        f
    };
    let mut home = start(vec![upcoming.clone()]);
    home.handle(Event::Pick(0));
    let marital = start(vec![]);
    let mut package = marital.clone();
    package.handle(Event::Pick(0));
    // Taps the package or add-on with this code on the current screen.
    let tap = |f: &mut Flow, code: &str| {
        let kiosk_app::flow::Screen::Book(step) = f.screen.clone() else {
            panic!("not a booking screen")
        };
        let i = f.booking().unwrap().row_of(&step, code).unwrap();
        f.handle(Event::Pick(i));
    };
    tap(&mut package, "P-F-BASIC-M");
    let mut addons = package.clone();
    addons.handle(Event::Act(Action::Next));
    tap(&mut addons, "US-THY");
    tap(&mut addons, "RAD-LDCT");
    let mut day = addons.clone();
    day.handle(Event::Act(Action::Next));
    let mut slot = day.clone();
    slot.handle(Event::Pick(1));
    let mut confirm = slot.clone();
    confirm.handle(Event::Pick(1));
    let mut done = confirm.clone();
    let mut booked = upcoming.clone();
    booked.exam_date = today + chrono::Duration::days(1);
    for fx in done.handle(Event::Act(Action::Submit)) {
        if let Effect::SubmitBooking(id, _) = fx {
            let plan = exam_domain::plan::plan(
                &cat,
                exam_domain::Sex::Female,
                exam_domain::catalogue::Marital::Unmarried,
                &exam_domain::plan::PlanRequest {
                    package: Some("P-F-BASIC-M".into()),
                    add: vec!["US-THY".into()],
                    remove: vec![],
                },
            )
            .unwrap();
            done.handle(Event::BookingAnswer(
                id,
                Ok(Outcome::Booked {
                    booking: booked.clone(),
                    plan,
                }),
            ));
        }
    }
    let mut cancel = home.clone();
    cancel.handle(Event::Act(Action::CancelBooking));
    cancel.handle(Event::Pick(0));
    let mut offline = place.clone();
    for fx in offline.handle(Event::CardRead(woman.clone())) {
        if let Effect::LoadBooking(id, _) = fx {
            offline.handle(Event::BookingLoaded(id, Err(Unavailable::Offline)));
        }
    }
    let mut no_booking = Flow::new(Settings {
        elderly,
        photo: true,
        face: false,
        face_policy: Default::default(),
    });
    for fx in no_booking.handle(Event::CardRead(woman.clone())) {
        if let Effect::Lookup(id, _) = fx {
            no_booking.handle(Event::Found(id, found(&[])));
        }
    }
    vec![
        ("no-booking-card", no_booking),
        ("book-card", place),
        ("book-home", home),
        ("book-marital", marital),
        ("book-package", package),
        ("book-addons-conflict", addons),
        ("book-day", day),
        ("book-slot", slot),
        ("book-confirm", confirm),
        ("book-done", done),
        ("book-cancel", cancel),
        ("book-unavailable", offline),
    ]
}

/// A stand-in camera frame: a soft gradient with a head-and-shoulders shape.
fn fake_camera() -> Image {
    let (w, h) = (480u32, 640u32);
    let mut buf = SharedPixelBuffer::<Rgb8Pixel>::new(w, h);
    for (i, p) in buf.make_mut_slice().iter_mut().enumerate() {
        let (x, y) = ((i as u32 % w) as f32, (i as u32 / w) as f32);
        let head = ((x - 240.0) / 110.0).powi(2) + ((y - 250.0) / 140.0).powi(2) < 1.0;
        let body = y > 420.0 && ((x - 240.0) / 220.0).powi(2) + ((y - 640.0) / 220.0).powi(2) < 1.0;
        let v = if head || body {
            120
        } else {
            200 + (y / 16.0) as u8
        };
        *p = Rgb8Pixel {
            r: v,
            g: v,
            b: v.saturating_add(15),
        };
    }
    Image::from_rgb8(buf)
}

/// A pixel differs when a channel moves by more than this (anti-aliasing
/// noise stays below it).
const CHANNEL_TOLERANCE: u8 = 24;
/// A screen matches its image when at most this share of its pixels differ:
/// 0.05 % is about a thousand pixels of a 1920x1080 screen, less than one
/// changed word at the kiosk's type sizes.
const PIXEL_TOLERANCE: f64 = 0.0005;

/// The share of pixels that differ from the committed PNG `golden`, or why
/// they cannot be compared.
fn difference(px: &[Rgb8Pixel], w: u32, h: u32, golden: &[u8]) -> Result<f64, String> {
    let mut dec = png::Decoder::new(std::io::Cursor::new(golden));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut r = dec.read_info().map_err(|e| e.to_string())?;
    let mut buf = vec![0; r.output_buffer_size().ok_or("too large")?];
    let info = r.next_frame(&mut buf).map_err(|e| e.to_string())?;
    if (info.width, info.height) != (w, h) {
        return Err(format!("{}x{} instead of {w}x{h}", info.width, info.height));
    }
    let step = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => return Err(format!("{other:?} image")),
    };
    let differ = buf[..info.buffer_size()]
        .chunks_exact(step)
        .zip(px)
        .filter(|(g, p)| {
            [p.r, p.g, p.b]
                .iter()
                .zip(g.iter())
                .any(|(a, b)| a.abs_diff(*b) > CHANNEL_TOLERANCE)
        })
        .count();
    Ok(differ as f64 / px.len() as f64)
}

#[test]
fn every_screen_renders_in_both_themes_sizes_and_languages_without_overflow() {
    let update = std::env::var_os("UPDATE_SCREENS").is_some();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screens");
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screens");
    std::fs::create_dir_all(&out).unwrap();
    let mut problems = Vec::new();
    let mut changed = Vec::new();
    let (mut rendered, mut compared) = (0, 0);
    for (w, h) in [(1920u32, 1080u32), (1080, 1920)] {
        let screen = Screen::new(w, h).unwrap();
        screen.window.set_photo_preview(fake_camera());
        for elderly in [false, true] {
            for (name, flow) in cases(elderly) {
                for english in [false, true] {
                    let cx = Context {
                        english,
                        centre_name: "市第一人民医院 健康管理中心".into(),
                        clock: "2026-11-22 08:15".into(),
                        payment: Some((
                            "https://pay.example.invalid/sim/order/3f9c2a".into(),
                            if english {
                                "Payment simulator (no real money)".into()
                            } else {
                                "支付模拟器（不会真实扣款）".into()
                            },
                        )),
                        printer: true,
                        reports: true,
                        ..Context::default()
                    };
                    let v = view(&flow, &cx);
                    screen.show(&v);
                    let px = screen.pixels();
                    let theme = if elderly { "elderly" } else { "standard" };
                    let lang = if english { "en" } else { "zh" };
                    let tag = format!("{name} {theme} {w}x{h} {lang}");
                    let first = px[0];
                    assert!(px.iter().any(|p| *p != first), "{tag}: blank");
                    for label in ElementQuery::from_root(&screen.window)
                        .match_descendants()
                        .match_type_name("Label")
                        .find_all()
                    {
                        let text = label.accessible_label().unwrap_or_default();
                        if text.is_empty() {
                            continue;
                        }
                        if label.accessible_description().as_deref() == Some("overflow") {
                            problems.push(format!(
                                "{tag}: text overflows its box: {text:?} ({:?})",
                                label.size()
                            ));
                        }
                        let (p, s) = (label.absolute_position(), label.size());
                        let inside = p.x >= -0.5
                            && p.y >= -0.5
                            && p.x + s.width <= w as f32 + 0.5
                            && p.y + s.height <= h as f32 + 0.5;
                        // The ticker scrolls sideways by design (but must
                        // be on screen); lines in a scrolling card are
                        // clipped by it.
                        let within_height = p.y >= -0.5 && p.y + s.height <= h as f32 + 0.5;
                        let clipped = match label.accessible_description().as_deref() {
                            Some("ticker") => within_height,
                            Some("scrolls") => true,
                            _ => false,
                        };
                        if !inside && !clipped {
                            problems.push(format!(
                                "{tag}: text outside the window: {text:?} at {p:?} size {s:?}"
                            ));
                        }
                    }
                    if !english {
                        let png = screen.png().unwrap();
                        let file = format!(
                            "{name}-{theme}-{}.png",
                            if w > h { "landscape" } else { "portrait" }
                        );
                        std::fs::write(out.join(&file), &png).unwrap();
                        if update {
                            std::fs::write(repo.join(&file), &png).unwrap();
                        }
                        match std::fs::read(repo.join(&file))
                            .map_err(|e| e.to_string())
                            .and_then(|golden| difference(&px, w, h, &golden))
                        {
                            Ok(d) if d <= PIXEL_TOLERANCE => compared += 1,
                            Ok(d) => changed.push(format!(
                                "{file}: {:.3}% of pixels differ (see {})",
                                d * 100.0,
                                out.join(&file).display()
                            )),
                            Err(e) => changed.push(format!("{file}: {e}")),
                        }
                    }
                    rendered += 1;
                }
            }
        }
    }
    assert_eq!(rendered, 47 * 2 * 2 * 2, "every case in every variant");
    assert!(
        changed.is_empty(),
        "{} screens differ from their committed images in docs/screens/:\n{}\n\
         If the change is wanted, regenerate them with \
         `UPDATE_SCREENS=1 cargo test -p kiosk-app --test screens`, look at them \
         and commit docs/screens/",
        changed.len(),
        changed.join("\n")
    );
    assert_eq!(compared, rendered / 2, "every Chinese screen compared");
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
