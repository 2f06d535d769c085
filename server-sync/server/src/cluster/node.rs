//! Each running instance holds one of `db::NODES` id nodes under a lease
//! (`node.<n>`), renewed every 20 s for 90 s: its ids carry it, so two
//! instances never make the same id (`db::next_id`).
//!
//! If an instance cannot renew for 90 s (the store away), a starting one
//! may take its node; the first id they then share fails its insert on the
//! primary key (a retried request, nothing overwritten).

use chrono::{Duration, Utc};

use super::Instance;
use crate::db::{Db, DbError, NODES, Result, set_node};

const TTL: Duration = Duration::seconds(90);
const RENEW: std::time::Duration = std::time::Duration::from_secs(20);

fn lease_name(n: i64) -> String {
    format!("node.{n}")
}

/// Takes the lowest free node and makes it this process's.
pub async fn claim(db: &Db, me: &Instance) -> Result<i64> {
    for n in 0..NODES {
        if db
            .take_lease(&lease_name(n), &me.name, Utc::now(), TTL)
            .await?
        {
            set_node(n);
            return Ok(n);
        }
    }
    Err(DbError::Corrupt(format!(
        "all {NODES} id nodes are held by running instances"
    )))
}

/// Keeps the node's lease (given up with the instance's other leases at
/// its stop).
pub fn keep(db: &Db, me: &Instance, n: i64) -> tokio::task::JoinHandle<()> {
    let (db, me) = (db.clone(), me.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RENEW).await;
            match db
                .take_lease(&lease_name(n), &me.name, Utc::now(), TTL)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(node = n, "id node taken by another instance: stop this one")
                }
                Err(e) => tracing::warn!(node = n, error = %e, "renewing the id node failed"),
            }
        }
    })
}
