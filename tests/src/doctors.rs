//! The demo's simulated doctors (issue 19): in every room of the campus a
//! doctor per desk presses 呼叫下一位 when free, sees the person for the
//! room's minutes (compressed: `seconds_per_minute` real seconds each,
//! drawn ±50 %), now and then marks a no-show, and presses 完成, through
//! the same `exam_server::queue::apply` the doctor station's routes call;
//! so room screens move, speak, and phones follow, without a human at
//! each station. Rooms someone called by hand are left to that person.

use std::collections::BTreeMap;
use std::time::Duration;

use exam_domain::queue::{Decision, Event};
use exam_server::AppState;
use tokio::time::Instant;

/// Starts the doctors of `campus`.
pub fn spawn(st: AppState, campus: String, seconds_per_minute: f64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Whom our doctors are seeing, and until when (or a no-show).
        let mut seeing: BTreeMap<i64, (Instant, bool)> = BTreeMap::new();
        let mut rng: u64 = 0x5EED_D0C7;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng >> 11) as f64 / (1u64 << 53) as f64
        };
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
