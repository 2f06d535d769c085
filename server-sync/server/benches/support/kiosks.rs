//! Kiosks for the benchmarks that push check-ins: enrolled with the
//! service, and every booking as their pull gives it.

use exam_protocol::BookingRecord;

/// `n` kiosks `<prefix>-0` … enrolled with `server` (campus main).
pub async fn enrol(
    server: &exam_server::Server,
    prefix: &str,
    n: usize,
) -> anyhow::Result<Vec<sync_client::SyncClient>> {
    const SECRET: &str = "bench-kiosk-secret-0123456789";
    let link = sync_client::ServiceLink::loopback_dev(&server.url())?;
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let id = format!("{prefix}-{k}");
        server
            .state
            .db
            .add_kiosk(&id, "main", "lobby", SECRET)
            .await?;
        let (key, _) = sync_client::SyncClient::enrol(&link, &id, SECRET, "bench").await?;
        out.push(sync_client::SyncClient::new(&link, key));
    }
    Ok(out)
}

/// Every booking of the store, through a kiosk's pull.
pub async fn all_records(c: &sync_client::SyncClient) -> anyhow::Result<Vec<BookingRecord>> {
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let r = c.changes(cursor, 1000).await?;
        out.extend(r.records);
        cursor = r.next_cursor;
        if !r.more {
            return Ok(out);
        }
    }
}
