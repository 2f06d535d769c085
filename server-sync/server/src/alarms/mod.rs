//! Alarms (S8; seed §(九) 7.1: faults, capacity, implausible data,
//! permission mismatches). One set of facts ([`Facts`], gathered by
//! `facts`) feeds two readers:
//!
//! - [`evaluate`], a pure function of the facts and `now`, gives the alarm
//!   list the administration page shows, with severities;
//! - `prom` exports the same facts as Prometheus gauges, over which the
//!   alert rules shipped in `deploy/alerts.yml` fire (a test checks every
//!   metric a rule names is exported).
//!
//! The thresholds are the same numbers in both places ([`Thresholds`] and
//! the rules file).

pub mod facts;
pub mod prom;
mod watch;

pub use watch::spawn as spawn_watch;

use chrono::{DateTime, Duration, Utc};
use exam_protocol::{DeviceState, DeviceStatus};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Act now: data or service at risk.
    Critical,
    /// Act today.
    Warning,
}

impl Severity {
    pub fn label_zh(self) -> &'static str {
        match self {
            Severity::Critical => "严重",
            Severity::Warning => "警告",
        }
    }
}

/// What an alarm is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    KioskOffline,
    PrinterFault,
    PrintBacklog,
    KioskRejectedEvents,
    BackupNone,
    BackupLate,
    BackupFailing,
    DiskNearlyFull,
    DeniedSpike,
    LoginFailureSpike,
    AuditChainBroken,
    SyslogDrops,
    /// A hospital interface's head message has been failing too long.
    InterfaceFailing,
    /// A hospital interface has dead letters waiting for staff.
    InterfaceDeadLetters,
    /// A category-A major abnormal result (重要异常结果) is raised and not
    /// yet handled: the patient must be told at once.
    MajorAbnormalOpen,
    /// A critical-value or abnormal-result SMS did not reach the person
    /// (refused, dead letter, or the platform reported it undelivered):
    /// staff must call them.
    SmsNoticeFailed,
    Implausible(Implausible),
}

/// Data that cannot be right (7.1 数据合理性).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Implausible {
    /// A check-in dated later than now.
    RegistrationInFuture,
    /// An amount due or an item price below zero.
    NegativeAmount,
    /// A slot holding more bookings than its capacity.
    SlotOverbooked,
}

impl Implausible {
    pub const ALL: [Implausible; 3] = [
        Implausible::RegistrationInFuture,
        Implausible::NegativeAmount,
        Implausible::SlotOverbooked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Implausible::RegistrationInFuture => "registration_in_future",
            Implausible::NegativeAmount => "negative_amount",
            Implausible::SlotOverbooked => "slot_overbooked",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Implausible::RegistrationInFuture => "签到时间晚于当前时间",
            Implausible::NegativeAmount => "金额为负数",
            Implausible::SlotOverbooked => "时段预约数超过容量",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    pub severity: Severity,
    pub kind: AlarmKind,
    /// What it concerns: a kiosk id, a disk, "backup".
    pub subject: String,
    pub zh: String,
}

/// One kiosk as its last heartbeat left it.
#[derive(Debug, Clone, PartialEq)]
pub struct KioskFact {
    pub id: String,
    /// Enrolled (has a key): only those are expected to call in.
    pub enrolled: bool,
    pub last_seen: Option<DateTime<Utc>>,
    pub devices: Vec<DeviceStatus>,
    pub print_waiting: i64,
    pub print_waiting_since: Option<DateTime<Utc>>,
    pub rejected: i64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BackupFact {
    /// A backup directory is configured (scheduled backups are on).
    pub configured: bool,
    pub last_success: Option<DateTime<Utc>>,
    /// Failures since the last success.
    pub failures_since_success: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiskFact {
    /// "store" or "backup".
    pub what: String,
    pub free_bytes: u64,
    pub total_bytes: u64,
}

impl DiskFact {
    pub fn free_ratio(&self) -> f64 {
        if self.total_bytes == 0 {
            1.0
        } else {
            self.free_bytes as f64 / self.total_bytes as f64
        }
    }
}

/// One counterpart's line (hospital interfaces, I1-I3).
#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceFact {
    pub counterpart: crate::interfaces::Counterpart,
    /// Messages still to deliver.
    pub open: i64,
    pub dead: i64,
    /// Since when the head has been failing (None: it is not).
    pub failing_since: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// `[interfaces] alarm_after_minutes`.
    pub alarm_after: Duration,
}

/// Open major abnormal results of one category.
#[derive(Debug, Clone, PartialEq)]
pub struct AbnormalFact {
    pub category: exam_domain::abnormal::Category,
    pub open: i64,
    /// When the oldest open one was raised.
    pub oldest: Option<DateTime<Utc>>,
}

/// Everything the alarms are computed from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    pub kiosks: Vec<KioskFact>,
    pub backup: BackupFact,
    /// Staff requests refused by role (403) within the window.
    pub denied_recent: u64,
    /// Failed or locked staff sign-ins within the window.
    pub login_failed_recent: u64,
    /// The audit chain's first broken row, if it is broken.
    pub audit_broken: Option<String>,
    /// Audit rows not forwarded to syslog since the start.
    pub syslog_dropped: u64,
    pub disks: Vec<DiskFact>,
    pub implausible: Vec<(Implausible, u64)>,
    pub interfaces: Vec<InterfaceFact>,
    pub major_abnormal: Vec<AbnormalFact>,
    /// Critical-value and abnormal-result SMS that failed in the last day.
    pub sms_notices_failed: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub kiosk_offline: Duration,
    pub backlog_parts: i64,
    pub backlog_age: Duration,
    pub backup_max_age: Duration,
    pub disk_free_min: f64,
    /// The window `denied_recent` and `login_failed_recent` count over.
    pub window: Duration,
    pub denied_per_window: u64,
    pub login_failed_per_window: u64,
}

impl Default for Thresholds {
    /// The same numbers as `deploy/alerts.yml`.
    fn default() -> Self {
        Self {
            kiosk_offline: Duration::minutes(5),
            backlog_parts: 20,
            backlog_age: Duration::minutes(15),
            backup_max_age: Duration::hours(26),
            disk_free_min: 0.10,
            window: Duration::minutes(10),
            denied_per_window: 20,
            login_failed_per_window: 30,
        }
    }
}

/// A device state that needs a person (the printer cannot print, or a
/// device does not work).
pub fn is_fault(state: DeviceState) -> bool {
    state.stops_printing()
        || matches!(
            state,
            DeviceState::PaperJam
                | DeviceState::HeadOpen
                | DeviceState::RibbonOut
                | DeviceState::Faulty
                | DeviceState::Offline
        )
}

fn minutes(d: Duration) -> i64 {
    d.num_minutes()
}

/// The current alarms, most severe first.
pub fn evaluate(f: &Facts, t: &Thresholds, now: DateTime<Utc>) -> Vec<Alarm> {
    let mut out = Vec::new();
    let mut push = |severity, kind, subject: &str, zh: String| {
        out.push(Alarm {
            severity,
            kind,
            subject: subject.to_string(),
            zh,
        })
    };
    for k in &f.kiosks {
        let silent = k.last_seen.map(|s| now - s);
        if k.enrolled && silent.is_none_or(|d| d > t.kiosk_offline) {
            let zh = match silent {
                Some(d) => format!("自助机 {} 已 {} 分钟没有联系服务器", k.id, minutes(d)),
                None => format!("自助机 {} 登记后从未联系服务器", k.id),
            };
            push(Severity::Critical, AlarmKind::KioskOffline, &k.id, zh);
            // Its devices and backlog are as old as its last call.
            continue;
        }
        for d in k.devices.iter().filter(|d| is_fault(d.state)) {
            push(
                Severity::Critical,
                AlarmKind::PrinterFault,
                &k.id,
                format!("自助机 {} 的 {} 故障：{}", k.id, d.name, d.state),
            );
        }
        let waited = k.print_waiting_since.map(|s| now - s);
        if k.print_waiting >= t.backlog_parts
            || (k.print_waiting > 0 && waited.is_some_and(|w| w > t.backlog_age))
        {
            push(
                Severity::Warning,
                AlarmKind::PrintBacklog,
                &k.id,
                format!(
                    "自助机 {} 有 {} 份待打印，最久已等 {} 分钟",
                    k.id,
                    k.print_waiting,
                    waited.map_or(0, minutes)
                ),
            );
        }
        if k.rejected > 0 {
            push(
                Severity::Warning,
                AlarmKind::KioskRejectedEvents,
                &k.id,
                format!(
                    "自助机 {} 有 {} 条被服务器拒收的记录待处理",
                    k.id, k.rejected
                ),
            );
        }
    }
    let b = &f.backup;
    if b.configured {
        match b.last_success {
            None => push(
                Severity::Critical,
                AlarmKind::BackupNone,
                "backup",
                "尚无成功的备份".into(),
            ),
            Some(at) if now - at > t.backup_max_age => push(
                Severity::Critical,
                AlarmKind::BackupLate,
                "backup",
                format!("最近一次成功备份在 {} 小时前", (now - at).num_hours()),
            ),
            Some(_) => {}
        }
        if b.failures_since_success > 0 {
            push(
                Severity::Critical,
                AlarmKind::BackupFailing,
                "backup",
                format!("备份失败 {} 次（见服务日志）", b.failures_since_success),
            );
        }
    } else {
        push(
            Severity::Warning,
            AlarmKind::BackupNone,
            "backup",
            "未配置备份目录（backup_dir），没有定时备份".into(),
        );
    }
    for d in &f.disks {
        if d.free_ratio() < t.disk_free_min {
            push(
                Severity::Critical,
                AlarmKind::DiskNearlyFull,
                &d.what,
                format!(
                    "{} 所在磁盘仅剩 {:.1}% 空间（{} MiB）",
                    if d.what == "backup" {
                        "备份"
                    } else {
                        "数据库"
                    },
                    d.free_ratio() * 100.0,
                    d.free_bytes >> 20
                ),
            );
        }
    }
    if f.denied_recent >= t.denied_per_window {
        push(
            Severity::Warning,
            AlarmKind::DeniedSpike,
            "access",
            format!(
                "{} 分钟内 {} 次越权访问被拒绝（权限不匹配）",
                minutes(t.window),
                f.denied_recent
            ),
        );
    }
    if f.login_failed_recent >= t.login_failed_per_window {
        push(
            Severity::Warning,
            AlarmKind::LoginFailureSpike,
            "login",
            format!(
                "{} 分钟内 {} 次登录失败",
                minutes(t.window),
                f.login_failed_recent
            ),
        );
    }
    if let Some(at) = &f.audit_broken {
        push(
            Severity::Critical,
            AlarmKind::AuditChainBroken,
            "audit",
            format!("审计日志链校验失败：{at}"),
        );
    }
    if f.syslog_dropped > 0 {
        push(
            Severity::Warning,
            AlarmKind::SyslogDrops,
            "syslog",
            format!("{} 条审计记录未能转发到 syslog", f.syslog_dropped),
        );
    }
    for i in &f.interfaces {
        let c = i.counterpart;
        if let Some(since) = i.failing_since
            && now - since >= i.alarm_after
        {
            push(
                Severity::Critical,
                AlarmKind::InterfaceFailing,
                c.as_str(),
                format!(
                    "{} 队首消息已连续失败 {} 分钟，{} 条待发送：{}",
                    c.label_zh(),
                    minutes(now - since),
                    i.open,
                    i.error.as_deref().unwrap_or("")
                ),
            );
        }
        if i.dead > 0 {
            push(
                Severity::Warning,
                AlarmKind::InterfaceDeadLetters,
                c.as_str(),
                format!("{} 有 {} 条死信待处理（接口监控页）", c.label_zh(), i.dead),
            );
        }
    }
    for a in &f.major_abnormal {
        if a.category == exam_domain::abnormal::Category::A && a.open > 0 {
            push(
                Severity::Critical,
                AlarmKind::MajorAbnormalOpen,
                "abnormal:A",
                format!(
                    "{} 条A类重要异常结果待通知，最久已等 {} 分钟（接口监控页）",
                    a.open,
                    a.oldest.map_or(0, |t| minutes(now - t))
                ),
            );
        }
    }
    if f.sms_notices_failed > 0 {
        push(
            Severity::Critical,
            AlarmKind::SmsNoticeFailed,
            "sms:notice",
            format!(
                "{} 条危急值/重要异常结果短信未能送达（24 小时内），请电话通知受检者（短信页）",
                f.sms_notices_failed
            ),
        );
    }
    for &(kind, n) in &f.implausible {
        if n > 0 {
            push(
                Severity::Warning,
                AlarmKind::Implausible(kind),
                kind.as_str(),
                format!("数据异常：{} 条记录{}", n, kind.zh()),
            );
        }
    }
    out.sort_by_key(|a| a.severity);
    out
}

/// An alarm as the administration page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmView {
    pub critical: bool,
    pub level: &'static str,
    pub subject: String,
    pub zh: String,
}

impl From<Alarm> for AlarmView {
    fn from(a: Alarm) -> Self {
        Self {
            critical: a.severity == Severity::Critical,
            level: a.severity.label_zh(),
            subject: a.subject,
            zh: a.zh,
        }
    }
}

/// The alarms now, for the administration page (an alarm of its own when
/// the facts cannot be read: the page must not look calm then).
pub async fn current(st: &crate::AppState) -> Vec<AlarmView> {
    let now = Utc::now();
    let t = Thresholds::default();
    match facts::gather(st, &t, now).await {
        Ok(f) => evaluate(&f, &t, now).into_iter().map(Into::into).collect(),
        Err(e) => {
            tracing::error!(error = %e, "alarm facts unreadable");
            vec![AlarmView {
                critical: true,
                level: Severity::Critical.label_zh(),
                subject: "store".into(),
                zh: "无法读取告警数据：数据库不可用".into(),
            }]
        }
    }
}

#[cfg(test)]
mod tests;
