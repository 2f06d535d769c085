//! Several instances of the service on one store (issue 21, R1 / R2).
//!
//! Nothing another instance needs lives in one instance's memory:
//!
//! - **Leases** (`lease`): one table of conditional-UPDATE leases for what
//!   must run once across instances: the interfaces' lines, the background
//!   jobs (`job`: pruning, no-shows, backups, the payments job, price sync,
//!   alarms, the audit chain's check, the queue's joiner), the id nodes.
//! - **Ids** (`node`): each running instance holds one of 64 nodes, part of
//!   every id it makes (`db::next_id`), so two instances never make the
//!   same id.
//! - **Live pages** (`feed`): a change is written to `change_log`; every
//!   instance reads the log from its cursor a few times a second and wakes
//!   its own pages' streams, so a staff page attached to one instance shows
//!   a check-in pushed to another within a second. Works on every store.
//!
//! Caches that stay per instance say their staleness where they are: the
//! catalogue (reloaded within `catalogue::RELOAD` of another instance's
//! edit), the queue's engines (read on from the log within a second, and
//! brought up to date under the campus's lock before each change).

pub mod feed;
pub mod lease;
pub mod node;

use std::sync::Arc;

/// This running instance: its name in leases and the change log.
#[derive(Debug, Clone)]
pub struct Instance {
    pub name: Arc<str>,
    /// Topics changed here and not yet written to the change log (the
    /// feed writes them together every `feed::POLL`: no commit of its own
    /// per change under load).
    pub(crate) pending: Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
}

impl Instance {
    /// A fresh random name (`instance-<hex>`): a restart is a new instance.
    pub fn new() -> Self {
        let n = hex::encode(exam_protocol::auth::random_bytes::<8>());
        Self {
            name: format!("instance-{n}").into(),
            pending: Arc::default(),
        }
    }
}

impl Default for Instance {
    fn default() -> Self {
        Self::new()
    }
}
