//! Configuration: defaults, then a TOML file, then `EXAM_*` environment
//! variables, then command-line flags (each overrides the one before).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use crate::staff_auth::AccountPolicy;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// `sqlite://path/to/file.db` (embedded, the default) or `postgres://user@host/db`;
    /// or such a URL sealed with `exam-server seal-secret` (`sealed:v1:...`).
    pub database_url: String,
    /// The data keys (`exam-server gen-data-key --out FILE`, mode 600): every
    /// personal datum in the store is sealed with them. Without this file the
    /// key text is read from `EXAM_DATA_KEY`; without either the service
    /// does not start.
    pub data_key_file: Option<PathBuf>,
    /// The address patients' phones reach this service at
    /// (`https://tj.example-hospital.cn`, no trailing slash): the guide
    /// sheet's QR code then opens the person's phone page (Q6). Unset: the
    /// QR carries the booking code, which the guide desk scans.
    pub public_url: Option<String>,
    /// Seed this many demo people with bookings for today (0: none).
    pub demo_people: usize,
    /// The campus demo bookings belong to.
    pub demo_campus: String,
    /// Minutes a staff session may sit idle before it ends (S1).
    pub session_idle_minutes: i64,
    /// Staff accounts and sign-in (S1): password age and history, lockout,
    /// captcha, rate limits, absolute session lifetime, second factor.
    #[serde(default)]
    pub accounts: AccountPolicy,
    /// Mark the session cookie Secure even without `tls_cert` (behind a
    /// TLS-terminating proxy on this machine); with TLS it is always set.
    pub secure_cookies: bool,
    /// HTTPS: the certificate chain (PEM, leaf first). With `tls_key`;
    /// without both, plain HTTP is served on a loopback address only.
    pub tls_cert: Option<PathBuf>,
    /// HTTPS: the private key of `tls_cert` (PEM).
    pub tls_key: Option<PathBuf>,
    /// Seconds between checks of the certificate files for a change (a
    /// renewed certificate is taken without a restart).
    pub tls_reload_seconds: u64,
    /// A plain-HTTP listener whose only answer is a redirect to HTTPS.
    pub http_redirect_listen: Option<SocketAddr>,
    /// Log as JSON lines instead of text.
    pub log_json: bool,
    /// SQLite only: writes that arrive together share one transaction and
    /// one flush to the disk, each in a savepoint of its own (db/group.rs).
    /// Off: every write its own commit, as before; for measuring.
    pub group_commit: bool,
    /// E3: how exam numbers are made (serial, date_serial, campus_date_serial).
    pub exam_no_rule: exam_domain::exam_no::ExamNoRule,
    /// Bookable slots each day: first and last start ("HH:MM"), length, capacity.
    pub slots: exam_domain::slot::SlotTemplate,
    /// Minutes after a slot's end before an unattended booking is released.
    pub no_show_grace_minutes: i64,
    /// K9: the kiosk zones that may list and print reports (e.g.
    /// `["report-pickup"]`); empty: every zone of the kiosk's campus.
    pub report_zones: Vec<String>,
    /// S7: also send every audit row to this syslog collector (RFC 5424),
    /// `udp://HOST:PORT` or `tcp://HOST:PORT` (octet-counted framing).
    pub syslog_target: Option<String>,
    /// Audit rows waiting for the syslog collector at most; beyond it they
    /// are dropped from the copy (counted, and reported in the trail).
    pub syslog_queue: usize,
    /// Apply the migrations at start (the default). Off for a production
    /// role split on PostgreSQL: the owner runs `exam-server migrate`, the
    /// service's role may not alter the schema or the audit trail's guards,
    /// and the service only checks that the store is up to date and guarded.
    pub migrate_on_start: bool,
    /// S9: where scheduled backups go: a mount of another disk or a remote
    /// share (NFS, SMB), never the disk the store is on. The directory must
    /// exist (a missing one is an unmounted disk: no backup, an alarm).
    /// Unset: no scheduled backups (`exam-server backup` still works).
    pub backup_dir: Option<PathBuf>,
    /// S9: the weekday of the weekly full backup (`Sun`, `Mon`, ...); the
    /// other days take an incremental one on it.
    pub backup_full_weekday: chrono::Weekday,
    /// S9: the local time of the daily backup (`"02:30"`).
    pub backup_time: chrono::NaiveTime,
    /// S9: full backups kept (each with its incrementals); older ones are
    /// deleted after a successful backup.
    pub backup_keep_fulls: usize,
    /// Who may read `/metrics` by address: IP addresses or CIDR ranges
    /// (the Prometheus server). Others get a 404.
    pub metrics_allow: Vec<String>,
    /// Or with `Authorization: Bearer <token>` from anywhere (unset: by
    /// address only).
    pub metrics_token: Option<String>,
    /// S5: bulk exports (CSV of members, registrations, the audit trail):
    /// rows per export and rows per staff user per day (`[exports]`
    /// `max_rows`, `daily_rows`); more is refused and the refusal audited.
    #[serde(default)]
    pub exports: crate::db::ExportLimits,
    /// Hospital interfaces (I1–I3): the outbound queue's retries, dead
    /// letters, lease and alarm, and the adapter of each counterpart
    /// (`[interfaces]`, `[interfaces.counterparts.<his|lis|pacs|…>]`).
    #[serde(default)]
    pub interfaces: crate::interfaces::InterfacesConfig,
    /// The unified payment platform (K16, I4): `[payment]` with the
    /// platform's URL, the merchant's identifiers and keys (files, or
    /// values sealed with `exam-server seal-secret`), order expiry and the
    /// daily bill's time. No `base_url`: payment unavailable.
    #[serde(default)]
    pub payment: crate::payments::PaymentConfig,
    /// Emergency mode (E15): `[emergency] after_minutes` (30), how long HIS
    /// or the payment platform must be away before the centre may switch
    /// it on by itself.
    #[serde(default)]
    pub emergency: crate::emergency::EmergencyConfig,
    /// What generated reports say of the centre, and their fonts (E9).
    #[serde(default)]
    pub report: ReportConfig,
    /// K3: the centre's face policy every kiosk follows (`[face]`:
    /// `identify`, `verify_card`, `keep_templates`).
    #[serde(default)]
    pub face: exam_protocol::FacePolicy,
}

/// The `[report]` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// The centre's name, on the cover, the running header and the seal.
    pub centre_name: String,
    /// Address and telephone, on the cover.
    pub centre_contact: String,
    /// Where NotoSansCJK-Regular.ttc (and -Bold) are; Debian's
    /// fonts-noto-cjk path when unset.
    pub fonts_dir: Option<PathBuf>,
}

impl Default for ReportConfig {
    fn default() -> Self {
        Self {
            centre_name: "健康管理中心".into(),
            centre_contact: String::new(),
            fonts_dir: None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid address"),
            database_url: "sqlite://exam-server.db".into(),
            data_key_file: None,
            public_url: None,
            demo_people: 0,
            demo_campus: "main".into(),
            session_idle_minutes: 15,
            accounts: AccountPolicy::default(),
            secure_cookies: false,
            tls_cert: None,
            tls_key: None,
            tls_reload_seconds: 10,
            http_redirect_listen: None,
            log_json: false,
            group_commit: true,
            exam_no_rule: Default::default(),
            slots: Default::default(),
            no_show_grace_minutes: 720,
            report_zones: Vec::new(),
            syslog_target: None,
            syslog_queue: crate::audit::syslog::QUEUE,
            migrate_on_start: true,
            backup_dir: None,
            backup_full_weekday: chrono::Weekday::Sun,
            backup_time: chrono::NaiveTime::from_hms_opt(2, 30, 0).expect("valid time"),
            backup_keep_fulls: 5,
            metrics_allow: vec!["127.0.0.1".into(), "::1".into()],
            metrics_token: None,
            exports: crate::db::ExportLimits::default(),
            interfaces: crate::interfaces::InterfacesConfig::default(),
            payment: crate::payments::PaymentConfig::default(),
            emergency: crate::emergency::EmergencyConfig::default(),
            report: ReportConfig::default(),
            face: Default::default(),
        }
    }
}

impl Config {
    /// Layers the sources; `overrides` are the command-line flags given.
    pub fn load(
        file: Option<&Path>,
        overrides: impl Serialize,
    ) -> Result<Self, Box<figment::Error>> {
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            f = f.merge(Toml::file_exact(file));
        }
        // Only our keys: other EXAM_* variables (a test's, a shell's) are not settings.
        let env = Env::prefixed("EXAM_").only(&[
            "listen",
            "database_url",
            "data_key_file",
            "public_url",
            "demo_people",
            "demo_campus",
            "session_idle_minutes",
            "secure_cookies",
            "tls_cert",
            "tls_key",
            "tls_reload_seconds",
            "http_redirect_listen",
            "log_json",
            "syslog_target",
            "syslog_queue",
            "migrate_on_start",
            "backup_dir",
            "backup_full_weekday",
            "backup_time",
            "backup_keep_fulls",
            "metrics_token",
            "group_commit",
        ]);
        f.merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_file_then_flags() {
        let dir = std::env::temp_dir().join(format!("exam-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\ndemo_people = 5\n").unwrap();
        #[derive(Serialize)]
        struct Flags {
            demo_people: usize,
        }
        let c = Config::load(Some(&file), Flags { demo_people: 7 }).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.demo_people, 7);
        std::fs::write(&file, "listn = 1\n").unwrap();
        let e = Config::load(Some(&file), Flags { demo_people: 7 }).unwrap_err();
        assert!(e.to_string().contains("listn"), "{e}");
    }
}
