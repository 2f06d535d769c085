//! The documents a booking prints, attached to the records kiosks receive
//! (change feed and lookups), so a kiosk prints the same guide-sheet
//! stations and lab labels as the front desk, online or from its cache.

use exam_domain::catalogue::Marital;
use exam_domain::documents::{self, DocItem};
use exam_domain::plan::{self, PlanRequest};
use exam_protocol::BookingRecord;

use crate::AppState;
use crate::db::DbError;

pub(crate) async fn attach_documents(
    st: &AppState,
    records: &mut [BookingRecord],
) -> Result<(), DbError> {
    if records.is_empty() {
        return Ok(());
    }
    let cat = st.catalogue.get();
    let ids: Vec<i64> = records.iter().map(|r| r.booking.id).collect();
    let mut items = st.db.items_of(&ids).await?;
    for r in records.iter_mut() {
        let b = &r.booking;
        let list = match items.remove(&b.id) {
            Some(v) if !v.is_empty() => v,
            // Bookings made before items were recorded (seeded or imported
            // with a package name only): the package as the rules cut it.
            _ => {
                let Some(pkg) = cat
                    .packages
                    .iter()
                    .find(|p| p.name == b.package || p.code == b.package)
                else {
                    continue;
                };
                let req = PlanRequest {
                    package: Some(pkg.code.clone()),
                    ..PlanRequest::default()
                };
                let Ok(p) = plan::plan(&cat, r.person.sex, Marital::Unknown, &req) else {
                    continue;
                };
                p.items
                    .into_iter()
                    .map(|i| DocItem {
                        code: i.code,
                        price_fen: i.price_fen,
                        paid: b.amount_due_fen == 0,
                    })
                    .collect()
            }
        };
        r.documents = Some(documents::documents(&cat, &b.campus, &b.exam_no, &list));
    }
    Ok(())
}
