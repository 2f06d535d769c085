//! The demo's second campus (E14): a front desk at 东区分院 that registers
//! its booked people as they arrive and takes their money (cash, card,
//! WeChat at the desk's terminal, in turn) through the same store calls
//! the desk's routes make (`Db::register`, `Db::mark_paid`), so `/figures`
//! shows two campuses' takings apart and the group's total, and east's
//! queue has people for its simulated doctors.

use std::time::Duration;

use exam_server::AppState;
use exam_server::finance::Method;

/// East's demo people: a seed of their own, so none of them is one of
/// the main campus's (one visit a person a day).
const EAST_SEED: u64 = 0xEA57_CA4F;
/// Past any demo day's own bookings (numbered 1, 2, … within a day's
/// block of 100,000 ids).
const EAST_OFFSET: i64 = 60_000;

/// Seeds `people` bookings at `campus` for today and registers one every
/// `every`, paying as it goes. Returns at once; the desk runs in a task.
pub async fn spawn(
    st: AppState,
    campus: &str,
    people: usize,
    every: Duration,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let today = chrono::Utc::now()
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    let t = chrono::NaiveTime::MIN;
    let mut day = exam_domain::demo::generate(EAST_SEED, people, today, t, t, campus);
    // The generator numbers a day's bookings from 1 whatever the seed:
    // east's are moved past the main campus's ids, codes and numbers.
    for b in &mut day.bookings {
        b.id += EAST_OFFSET;
        b.code = format!("BKE{}", &b.code[2..]);
        b.exam_no = format!("9{}", b.exam_no);
    }
    st.db.insert_bookings(&day.people, &day.bookings).await?;
    // Their packages' items, as the main campus's demo bookings get: what
    // the desk then takes money for.
    st.db.demo_items(&st.catalogue.get()).await?;
    let ids: Vec<i64> = day.bookings.iter().map(|b| b.id).collect();
    Ok(tokio::spawn(async move {
        let methods = [Method::Cash, Method::Card, Method::Wechat];
        for (n, id) in ids.into_iter().enumerate() {
            // Already here from an earlier start of the demo: next.
            if st.db.register("demo-east-desk", id, &[]).await.is_err() {
                continue;
            }
            let method = methods[n % methods.len()];
            if let Err(e) = st.db.mark_paid("demo-east-desk", id, method).await {
                tracing::warn!(error = %e, "the east desk's payment failed");
            }
            tokio::time::sleep(every).await;
        }
    }))
}
