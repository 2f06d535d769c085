//! The audit trail (S7; 等保三级 §(九) 3.5/3.6, 5.6/5.7, 8.1–8.7): what a
//! row says ([`AuditEvent`], with its [`Category`] and [`Outcome`]), how rows
//! are chained by hash ([`chain`], pure), how they leave the machine as
//! RFC 5424 syslog ([`syslog`]), and how refusals from callers nobody
//! authenticated are kept from flooding the trail ([`limiter`]).
//!
//! Storage is `db/audit.rs`: a row's number is given under the
//! `audit_seq` counter's row lock (as it is written on SQLite; after its
//! commit by the chainer on PostgreSQL), so the chain has one order with
//! many connections; the store itself refuses UPDATE and DELETE of
//! `audit_log` but a row's one placing (triggers installed by `Db::migrate`).

pub mod chain;
mod events;
pub mod limiter;
pub mod syslog;

pub use events::{AuditState, ChainStatus, verify_and_record};
pub(crate) use events::{csrf_failed, denied, kiosk_refused, read_personal, spawn_background};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

/// What kind of event a row records; the auditor filters by it and syslog
/// carries it as the MSGID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A change made in the workflow (增删改): bookings, registrations,
    /// items, payments, groups, reports, printing.
    Operation,
    /// A read of personal data (S5, 6.2.3, 8.7.5): who looked at whom, or
    /// at how many.
    Access,
    /// Accounts and rights (8.6): an account created, disabled or
    /// unlocked, a role changed, a password reset, a kiosk enrolled.
    Permission,
    /// Security events (8.7.3, 8.7.4): sign-in and out, failed logins,
    /// lockouts, denied requests, CSRF failures, refused kiosk requests.
    Security,
    /// The system itself (8.5, 8.7.6, 8.7.7): start and stop, dictionary
    /// and price maintenance, chain checks, syslog drops.
    System,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Operation,
        Category::Access,
        Category::Permission,
        Category::Security,
        Category::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Operation => "operation",
            Category::Access => "access",
            Category::Permission => "permission",
            Category::Security => "security",
            Category::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// What the auditor's page calls it.
    pub fn label_zh(self) -> &'static str {
        match self {
            Category::Operation => "业务操作",
            Category::Access => "个人信息访问",
            Category::Permission => "权限变更",
            Category::Security => "安全事件",
            Category::System => "系统",
        }
    }

    /// The category of a row written through the untyped entry points
    /// (`Db::audit`, `Db::audit_on`, `oplog::log`), by its action. The one
    /// table that maps action names; typed callers name their category in
    /// the [`AuditEvent`] instead.
    pub fn of_action(action: &str) -> Self {
        const TABLE: &[(&str, Category)] = &[
            // Rights over other accounts come before the own-password line.
            ("password.reset", Category::Permission),
            ("password.must_change", Category::Permission),
            ("user.", Category::Permission),
            ("role.", Category::Permission),
            ("kiosk.add", Category::Permission),
            ("kiosk.enrolled", Category::Permission),
            ("login.", Category::Security),
            ("logout", Category::Security),
            ("password.", Category::Security),
            ("totp.", Category::Security),
            ("session.", Category::Security),
            ("access.", Category::Security),
            ("csrf", Category::Security),
            ("kiosk.", Category::Security),
            ("catalogue.", Category::System),
            ("system.", Category::System),
            ("audit.", Category::System),
            ("syslog.", Category::System),
            ("config.", Category::System),
            ("view.", Category::Access),
            ("read.", Category::Access),
            ("export.", Category::Access),
            ("search.", Category::Access),
            ("photo.view", Category::Access),
            ("signature.view", Category::Access),
            ("report.view", Category::Access),
            ("report.fetch", Category::Access),
            ("group.report_download", Category::Access),
            ("lookup", Category::Access),
        ];
        TABLE
            .iter()
            .find(|(prefix, _)| action.starts_with(prefix))
            .map_or(Category::Operation, |&(_, c)| c)
    }
}

/// Whether what was attempted was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
}

impl Outcome {
    /// The outcome of a row written through the untyped entry points, by
    /// its action: the refusals the service records under these names are
    /// `Denied`, everything else `Allowed`.
    pub fn of_action(action: &str) -> Self {
        const DENIED: &[&str] = &[
            "login.failed",
            "login.locked",
            "login.refused",
            "access.denied",
            "csrf.refused",
            "kiosk.refused",
            "kiosk.enrol_refused",
            "kiosk.out_of_scope",
        ];
        if DENIED.contains(&action) {
            Outcome::Denied
        } else {
            Outcome::Allowed
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Outcome::Allowed, Outcome::Denied]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One audit row to append: `Db::audit_event(&AuditEvent::new(..)...)`, or
/// `db::audit::append(tx, ..)` inside the transaction of the change it
/// records. ID numbers in `detail` should be masked by the caller; the
/// subject may carry the full number (the auditor searches by it; every
/// view and the syslog copy mask it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub category: Category,
    /// The staff user name, `kiosk:<id>`, or `system`.
    pub actor: String,
    /// The caller's IP address (or a kiosk id); `None` takes the request's
    /// own ([`source`]).
    pub source: Option<String>,
    pub action: String,
    /// What the action was about: an ID number, `company:<id>`, a user name.
    pub subject: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl AuditEvent {
    /// A row named by its action only: category and outcome follow from it
    /// ([`Category::of_action`], [`Outcome::of_action`]). What `Db::audit`
    /// and `oplog::log` write.
    pub fn by_action(actor: impl Into<String>, action: &str) -> Self {
        Self::new(Category::of_action(action), actor, action).outcome(Outcome::of_action(action))
    }

    pub fn new(category: Category, actor: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            category,
            actor: actor.into(),
            source: None,
            action: action.into(),
            subject: String::new(),
            outcome: Outcome::Allowed,
            detail: String::new(),
        }
    }

    pub fn subject(mut self, s: impl Into<String>) -> Self {
        self.subject = s.into();
        self
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = d.into();
        self
    }

    pub fn source(mut self, s: impl Into<String>) -> Self {
        self.source = Some(s.into());
        self
    }

    pub fn outcome(mut self, o: Outcome) -> Self {
        self.outcome = o;
        self
    }

    pub fn denied(self) -> Self {
        self.outcome(Outcome::Denied)
    }
}

/// `text` with every valid ID number in it masked (a run of 17 digits and
/// a check character that parses), the rest untouched: what any view of
/// the trail and the syslog copy show.
pub fn mask_ids(text: &str) -> String {
    let is_id_char = |c: char| c.is_ascii_digit() || c == 'X' || c == 'x';
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if exam_domain::IdNumber::parse(run).is_ok() {
            out.push_str(&exam_domain::mask::id_number(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_id_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

tokio::task_local! {
    /// The calling machine of the request being served (its IP address).
    static SOURCE: String;
}

/// The source of the request this task is serving ("" outside a request:
/// background work, the command line).
pub fn source() -> String {
    SOURCE.try_with(Clone::clone).unwrap_or_default()
}

/// Runs the rest of the request with its peer address as the audit source,
/// so every row a request writes names where it came from without each
/// handler passing it down. The peer address, not `X-Forwarded-For`: a
/// header is the caller's to choose.
pub(crate) async fn with_source(req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
        .unwrap_or_default();
    SOURCE.scope(peer, next.run(req)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_outcomes_read_as_written() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        assert_eq!(Category::parse("Operation"), None);
        for o in [Outcome::Allowed, Outcome::Denied] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }

    #[test]
    fn actions_fall_in_their_category() {
        use Category::*;
        for (action, want) in [
            ("visit.register", Operation),
            ("item.refund", Operation),
            ("user.create", Permission),
            ("user.role", Permission),
            ("password.reset", Permission),
            ("password.changed", Security),
            ("login.failed", Security),
            ("login.locked", Security),
            ("logout", Security),
            ("access.denied", Security),
            ("kiosk.enrol_refused", Security),
            ("kiosk.enrolled", Permission),
            ("catalogue.item_price", System),
            ("view.registrations", Access),
            ("photo.view", Access),
            ("report.view", Access),
            ("lookup", Access),
        ] {
            assert_eq!(Category::of_action(action), want, "{action}");
        }
        assert_eq!(Outcome::of_action("login.failed"), Outcome::Denied);
        assert_eq!(Outcome::of_action("kiosk.enrol_refused"), Outcome::Denied);
        assert_eq!(Outcome::of_action("login.ok"), Outcome::Allowed);
        let e = AuditEvent::by_action("x", "login.locked");
        assert_eq!(
            (e.category, e.outcome),
            (Category::Security, Outcome::Denied)
        );
    }

    #[tokio::test]
    async fn the_source_is_the_requests_own() {
        assert_eq!(source(), "");
        let inside = SOURCE.scope("10.1.2.3".into(), async { source() }).await;
        assert_eq!(inside, "10.1.2.3");
    }
}
