//! A kiosk is answered about its own campus only (and, for reports, only
//! from a zone that may print them): a kiosk key is a credential of one
//! place, not of the whole centre. A request about a booking, a person's
//! report or an event of another campus gets exactly the answer a booking
//! that does not exist would get (an empty list, a 404 with the same words,
//! an event acknowledged and ignored), so a stolen key learns nothing of
//! other campuses; the server counts it
//! (`exam_kiosk_out_of_scope_total`) and writes it to the audit log as a
//! security event (`kiosk.out_of_scope`, actor `kiosk:<id>`, no personal
//! data in the line).

use std::collections::HashMap;

use exam_protocol::{Event, EventBody};

use super::actor;
use crate::AppState;
use crate::db::KioskRow;
use crate::error::ApiErr;
use crate::metrics::Metrics;

/// Records that `withheld` answers (or events) of another campus were kept
/// from `kiosk` on `route`.
pub(super) async fn out_of_scope(
    st: &AppState,
    kiosk: &KioskRow,
    route: &str,
    withheld: usize,
) -> Result<(), ApiErr> {
    Metrics::inc(&st.metrics.kiosk_out_of_scope);
    tracing::warn!(kiosk = %kiosk.id, campus = %kiosk.campus, route, withheld, "kiosk asked outside its campus");
    st.db
        .audit(
            &actor(kiosk),
            "kiosk.out_of_scope",
            &format!(
                "route={route} campus={} zone={} withheld={withheld}",
                kiosk.campus, kiosk.zone
            ),
        )
        .await?;
    Ok(())
}

/// May a kiosk of `zone` list and print reports, given the configured
/// report zones (none configured: every zone)?
pub(super) fn prints_reports(report_zones: &[String], zone: &str) -> bool {
    report_zones.is_empty() || report_zones.iter().any(|z| z == zone)
}

/// The booking an event is about, when it names one: by id, or by code.
enum Target<'a> {
    Id(i64),
    Code(&'a str),
}

fn target(body: &EventBody) -> Option<Target<'_>> {
    match body {
        EventBody::CheckIn(c) => Some(Target::Id(c.booking_id)),
        EventBody::Photo(p) => Some(Target::Id(p.booking_id)),
        EventBody::ReportPrinted(r) => Some(Target::Id(r.booking_id)),
        EventBody::DocumentsWaiting(d) => Some(Target::Code(&d.booking_code)),
        // Moves name kiosks, which the move itself checks.
        EventBody::PrintReleased(_) | EventBody::PrintAccepted(_) => None,
    }
}

/// Splits a pushed batch into the events about this kiosk's campus (or
/// about no booking, or one that does not exist: the store records those as
/// it always has) and those about another campus's bookings, which are
/// not applied.
pub(super) async fn split_events(
    st: &AppState,
    kiosk: &KioskRow,
    events: Vec<(Event, EventBody)>,
) -> Result<(Vec<(Event, EventBody)>, Vec<Event>), ApiErr> {
    let (mut ids, mut codes) = (Vec::new(), Vec::new());
    for (_, body) in &events {
        match target(body) {
            Some(Target::Id(id)) => ids.push(id),
            Some(Target::Code(code)) => codes.push(code.to_string()),
            None => {}
        }
    }
    if ids.is_empty() && codes.is_empty() {
        return Ok((events, vec![]));
    }
    ids.sort_unstable();
    ids.dedup();
    codes.sort_unstable();
    codes.dedup();
    let (by_id, by_code) = st.db.booking_campuses(&ids, &codes).await?;
    Ok(partition(&kiosk.campus, events, &by_id, &by_code))
}

/// The pure half of [`split_events`].
fn partition(
    campus: &str,
    events: Vec<(Event, EventBody)>,
    by_id: &HashMap<i64, String>,
    by_code: &HashMap<String, String>,
) -> (Vec<(Event, EventBody)>, Vec<Event>) {
    let mut mine = Vec::with_capacity(events.len());
    let mut foreign = Vec::new();
    for (event, body) in events {
        let elsewhere = match target(&body) {
            Some(Target::Id(id)) => by_id.get(&id).is_some_and(|c| c != campus),
            Some(Target::Code(code)) => by_code.get(code).is_some_and(|c| c != campus),
            None => false,
        };
        if elsewhere {
            foreign.push(event);
        } else {
            mine.push((event, body));
        }
    }
    (mine, foreign)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use exam_protocol::{CheckIn, DocumentsWaiting, PhotoRecord};

    fn ev(n: u128, body: EventBody) -> (Event, EventBody) {
        let e = Event::new(uuid::Uuid::from_u128(n), 1, Utc::now(), &body);
        (e, body)
    }

    #[test]
    fn reports_are_printed_in_the_configured_zones_only() {
        assert!(prints_reports(&[], "lobby"), "none configured: every zone");
        let zones = ["report-pickup".to_string()];
        assert!(prints_reports(&zones, "report-pickup"));
        assert!(!prints_reports(&zones, "lobby"));
    }

    #[test]
    fn events_about_another_campus_are_set_aside() {
        // From JSON, as a kiosk sends it (fields added later are optional).
        let check_in = |booking_id: i64| {
            EventBody::CheckIn(
                serde_json::from_value::<CheckIn>(serde_json::json!({
                    "booking_id": booking_id, "booking_code": "BK1",
                    "id_number": "321002198003150077", "identified_by": "id_card",
                    "checked_in_at": Utc::now(), "offline": false,
                }))
                .unwrap(),
            )
        };
        let photo = |booking_id| {
            EventBody::Photo(PhotoRecord {
                booking_id,
                booking_code: "BK1".into(),
                outcome: "declined".into(),
                png: None,
                taken_at: Utc::now(),
                face: None,
            })
        };
        let waiting = |code: &str| {
            EventBody::DocumentsWaiting(DocumentsWaiting {
                job_id: uuid::Uuid::from_u128(99),
                booking_code: code.into(),
                document: "guide_sheet".into(),
                since: Utc::now(),
            })
        };
        let by_id = HashMap::from([(1, "main".to_string()), (2, "east".to_string())]);
        let by_code = HashMap::from([
            ("BK-A".to_string(), "main".to_string()),
            ("BK-B".to_string(), "east".to_string()),
        ]);
        let events = vec![
            ev(1, check_in(1)),
            ev(2, check_in(2)),
            ev(3, check_in(3)), // no such booking: the store says so, as before
            ev(4, photo(2)),
            ev(5, waiting("BK-A")),
            ev(6, waiting("BK-B")),
        ];
        let ids: Vec<_> = events.iter().map(|(e, _)| e.id).collect();
        let (mine, foreign) = partition("main", events, &by_id, &by_code);
        let mine: Vec<_> = mine.iter().map(|(e, _)| e.id).collect();
        let foreign: Vec<_> = foreign.iter().map(|e| e.id).collect();
        assert_eq!(mine, [ids[0], ids[2], ids[4]]);
        assert_eq!(foreign, [ids[1], ids[3], ids[5]]);
    }
}
