//! The network side of K17: what the booking screens load and send, over
//! the signed kiosk API. Booking needs the central service; without it the
//! screen says so calmly and check-in goes on offline.

use chrono::{DateTime, Utc};
use exam_domain::{IdNumber, IdentityQuery};
use sync_client::SyncError;

use crate::checkin::CheckinCore;
use crate::flow::{Loaded, Outcome, Submission, Unavailable};

/// How many days ahead the kiosk offers (today included).
pub const DAYS: i64 = 7;

/// A failed request to the central service as the patient's screen says
/// it: the service's own words when it refused, else "not just now".
pub(crate) fn unavailable(e: SyncError) -> Unavailable {
    match e {
        SyncError::Refused { error, .. } => Unavailable::Refused(error.message),
        e => {
            tracing::warn!(error = %e, "central service unavailable for the patient in front");
            Unavailable::Offline
        }
    }
}

/// The card holder's bookings and the options of the next [`DAYS`] days
/// that still have a time to book.
pub async fn load(
    core: &CheckinCore,
    id_number: IdNumber,
    now: DateTime<Utc>,
) -> Result<Loaded, Unavailable> {
    let client = core.client().ok_or(Unavailable::Offline)?;
    let today = now
        .with_timezone(&exam_domain::centre_offset())
        .date_naive();
    // The days are asked for at once: one round trip's wait, not seven.
    let mut asks = tokio::task::JoinSet::new();
    for d in 0..DAYS {
        let (client, date) = (client.clone(), today + chrono::Duration::days(d));
        asks.spawn(async move { client.booking_options(date).await });
    }
    let mut days = Vec::new();
    while let Some(answer) = asks.join_next().await {
        let o = answer
            .map_err(|_| Unavailable::Offline)?
            .map_err(unavailable)?;
        if !o.slots.is_empty() {
            days.push(o);
        }
    }
    days.sort_by_key(|o| o.date);
    let bookings = client
        .lookup(
            &IdentityQuery::IdNumber { id_number },
            std::time::Duration::from_secs(5),
        )
        .await
        .map_err(unavailable)?
        .records
        .into_iter()
        .map(|r| r.booking)
        .collect();
    Ok(Loaded {
        today,
        bookings,
        days,
    })
}

/// Sends what the patient confirmed.
pub async fn submit(core: &CheckinCore, sub: Submission) -> Result<Outcome, Unavailable> {
    let client = core.client().ok_or(Unavailable::Offline)?;
    match sub {
        Submission::Book(r) => client
            .book(&r)
            .await
            .map(|b| Outcome::Booked {
                booking: b.booking,
                plan: b.plan,
            })
            .map_err(unavailable),
        Submission::Rebook(r) => client
            .rebook(&r)
            .await
            .map(Outcome::Rebooked)
            .map_err(unavailable),
        Submission::Cancel(r) => client
            .cancel(&r)
            .await
            .map(Outcome::Cancelled)
            .map_err(unavailable),
    }
}
