//! The demo's simulated doctors (issue 19): in every room of the campus a
//! doctor per desk presses 呼叫下一位 when free, sees the person for the
//! room's minutes (compressed: `seconds_per_minute` real seconds each,
//! drawn ±50 %), now and then marks a no-show, and presses 完成, through
//! the same `exam_server::queue::apply` the doctor station's routes call;
//! so room screens move, speak, and phones follow, without a human at
//! each station. Rooms someone called by hand are left to that person.
//! On finishing, the doctor enters the room's results (issue 20) through
//! `exam_server::results::save_entries`, as the department page does:
//! mostly normal, now and then a positive finding or a value out of
//! range, rarely a major abnormal one, so the department page, the
//! summaries and the major-abnormal board have something to show.

use std::collections::BTreeMap;
use std::time::Duration;

use exam_domain::queue::{Decision, Event};
use exam_domain::results::summary::ItemEntry;
use exam_domain::results::{FieldKind, Value, range_for};
use exam_server::AppState;
use tokio::time::Instant;

/// Uniform numbers in [0, 1) from a seed (xorshift64): the doctors' draws,
/// replayable.
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut rng = seed;
    move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Starts the doctors of `campus`.
pub fn spawn(st: AppState, campus: String, seconds_per_minute: f64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Whom our doctors are seeing, and until when (or a no-show).
        let mut seeing: BTreeMap<i64, (Instant, bool)> = BTreeMap::new();
        let mut next = uniform(0x5EED_D0C7);
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let Ok(rooms) = st.queue.read(&st, &campus, |e| e.rooms()).await else {
                continue;
            };
            let now = Instant::now();
            for r in rooms {
                for p in &r.serving {
                    let Some((until, no_show)) = seeing.get(p).copied() else {
                        continue;
                    };
                    if until <= now {
                        seeing.remove(p);
                        let event = if no_show {
                            Event::NoShow { person: *p }
                        } else {
                            draw_tubes(&st, *p, &r.spec.code).await;
                            enter_results(&st, *p, &r.spec.code, &mut next).await;
                            Event::Finished { person: *p }
                        };
                        let _ = exam_server::queue::apply(&st, &campus, event, "demo-doctor", None)
                            .await;
                    }
                }
                let busy = r.serving.len() as u32;
                for _ in busy..r.spec.desks {
                    let Ok(d) = exam_server::queue::apply(
                        &st,
                        &campus,
                        Event::CallNext {
                            room: r.spec.code.clone(),
                        },
                        "demo-doctor",
                        None,
                    )
                    .await
                    else {
                        break;
                    };
                    let Some(Decision::Called { person, .. }) = d.first() else {
                        break;
                    };
                    let minutes = f64::from(r.spec.minutes) * (0.5 + next());
                    let secs = (minutes * seconds_per_minute).max(1.0);
                    // One in twenty does not come when called (过号).
                    let no_show = next() < 0.05;
                    seeing.insert(*person, (now + Duration::from_secs_f64(secs), no_show));
                }
            }
        }
    })
}

/// In the blood room and at the specimen desk: the visit's tubes of that
/// room drawn and handed to the laboratory (E5), whose results then
/// settle them.
async fn draw_tubes(st: &AppState, visit: i64, room: &str) {
    use exam_domain::catalogue::SampleType as S;
    use exam_domain::specimen::TubeEvent;
    let Ok(v) = st.db.visit(visit).await else {
        return;
    };
    let cat = st.catalogue.get();
    let items: Vec<exam_domain::documents::DocItem> = v
        .items
        .iter()
        .map(|i| exam_domain::documents::DocItem {
            code: i.code.clone(),
            price_fen: i.price_fen,
            paid: i.paid,
        })
        .collect();
    let b = &v.record.booking;
    let docs = exam_domain::documents::documents(&cat, &b.campus, &b.exam_no, &items);
    for l in docs.labels {
        let here = match room {
            "blood" => matches!(l.sample, S::Serum | S::WholeBlood | S::Plasma),
            "spec" => matches!(l.sample, S::Urine | S::Stool),
            _ => false,
        };
        if !here {
            continue;
        }
        for e in [TubeEvent::Draw { notes: Vec::new() }, TubeEvent::Send] {
            let _ = exam_server::specimens::record_event(st, &l.barcode, &e, "demo-nurse").await;
        }
    }
}

/// Enters the results of `visit`'s items in `room`, one save per department.
async fn enter_results(st: &AppState, visit: i64, room: &str, next: &mut impl FnMut() -> f64) {
    let cat = st.catalogue.get();
    let Ok(v) = st.db.visit(visit).await else {
        return;
    };
    let p = &v.record.person;
    let age = exam_domain::roster::age_on(p.birth_date, v.record.booking.exam_date);
    let k = exam_server::results::knowledge();
    let mut by_dept: BTreeMap<String, Vec<ItemEntry>> = BTreeMap::new();
    for i in &v.items {
        let Some(item) = cat.item(&i.code).filter(|c| c.room == room) else {
            continue;
        };
        if i.status != exam_domain::changes::ItemStatus::Active {
            continue;
        }
        let t = k.template(&i.code);
        let mut values = Vec::new();
        for f in &t.fields {
            let value = match &f.kind {
                FieldKind::Numeric {
                    ranges,
                    plausible,
                    decimals,
                    ..
                } => {
                    let x = match (f.code.as_str(), range_for(ranges, p.sex, age)) {
                        ("height", _) => 150.0 + next() * 35.0,
                        ("weight", _) => 48.0 + next() * 40.0,
                        (_, Some(r)) => match (r.low, r.high) {
                            (Some(l), Some(h)) => l + (h - l) * (next() * 1.3 - 0.15),
                            (None, Some(h)) => h * (0.55 + next() * 0.55),
                            (Some(l), None) => l * (0.95 + next() * 0.6),
                            (None, None) => (plausible.0 + plausible.1) / 2.0,
                        },
                        (_, None) => (plausible.0 + plausible.1) / 2.0,
                    };
                    let scale = 10f64.powi(i32::from(*decimals));
                    Value::Number(((x * scale).round() / scale).clamp(plausible.0, plausible.1))
                }
                FieldKind::Findings { positives, .. } => {
                    let roll = next();
                    let ordinary: Vec<_> = positives.iter().filter(|x| x.major.is_none()).collect();
                    let ticked = if roll < 0.01 && !positives.is_empty() {
                        vec![
                            positives[(next() * positives.len() as f64) as usize % positives.len()]
                                .code
                                .clone(),
                        ]
                    } else if roll < 0.15 && !ordinary.is_empty() {
                        vec![
                            ordinary[(next() * ordinary.len() as f64) as usize % ordinary.len()]
                                .code
                                .clone(),
                        ]
                    } else {
                        Vec::new()
                    };
                    Value::Findings(ticked)
                }
                FieldKind::Text => continue,
            };
            values.push((f.code.clone(), value));
        }
        by_dept
            .entry(item.department.clone())
            .or_default()
            .push(ItemEntry {
                item: i.code.clone(),
                values,
            });
    }
    for (dept, entries) in by_dept {
        let input = exam_server::results::EntryIn {
            entries,
            summary: None,
            confirm: true,
        };
        let _ = exam_server::results::save_entries(st, visit, &dept, &input, "demo-doctor").await;
    }
}

/// Enters the results of every room of `visit` at once, mostly normal as
/// the doctors do (the demo's early reports and the tests' way to a visit
/// with all its results in).
pub async fn enter_all_results(st: &AppState, visit: i64, seed: u64) {
    let cat = st.catalogue.get();
    let Ok(mut v) = st.db.visit(visit).await else {
        return;
    };
    if v.items.is_empty() {
        // A booking seeded without its items (the demo's day): its
        // package's items are ordered, as the desk's 开单 does.
        let sex = v.record.person.sex;
        let package = cat
            .packages
            .iter()
            .find(|p| p.code == v.record.booking.package || p.name == v.record.booking.package)
            .or_else(|| cat.packages.iter().find(|p| p.sex.allows(sex)));
        if let Some(p) = package {
            let items: Vec<(String, i64)> = p
                .items
                .iter()
                .filter_map(|c| cat.item(c))
                .filter(|i| i.sex.allows(sex))
                .map(|i| (i.code.clone(), i.price_fen))
                .collect();
            if let Ok(with) = st.db.add_items("demo-desk", visit, &items, false).await {
                v = with;
            }
        }
    }
    let rooms: std::collections::BTreeSet<String> = v
        .items
        .iter()
        .filter_map(|i| cat.item(&i.code).map(|c| c.room.clone()))
        .collect();
    let mut next = uniform(seed | 1);
    for room in rooms {
        enter_results(st, visit, &room, &mut next).await;
    }
}

/// The demo's chief physicians (issue 20): every `every`, the visits whose
/// results are all in go through the chief examination and review
/// (`exam_server::chief::simulate`), so their generated reports are
/// published for the kiosk and the desk.
pub fn spawn_chief(st: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = exam_server::chief::simulate(&st, "demo-chief", "demo-review").await {
                tracing::warn!(error = ?e.body, "demo chief examination");
            }
            tokio::time::sleep(every).await;
        }
    })
}
