//! Staff roles and what each may do: the one place that grants rights.
//!
//! Routes name the [`Capability`] they need where they are registered
//! (`crate::routes::Access`), and the route gate asks [`Role::may`] before
//! the handler runs; the few checks that depend on what a request asks for
//! (a refund among item changes, a person's history in a visit's details)
//! ask [`Role::may`] too. Nothing else compares roles. Changing who may do
//! what is a change to the table in [`Role::may`] and to the test below.
//!
//! ## Who does what in the centre
//!
//! - **前台 front desk** (`front_desk`, also the cashier and the report
//!   office): looks up any patient, books, registers walk-ins and bookings,
//!   changes items, takes payment and refunds, records waivers and shows
//!   their signatures, prints documents, sees the check-in photo, publishes
//!   reports, hands over documents waiting at a kiosk and moves a kiosk's
//!   print jobs when its printer is out.
//! - **前台主管 desk supervisor** (`desk_supervisor`): everything the front
//!   desk does, and switches emergency mode on and off (E15) once HIS or the
//!   payment platform has been away long enough (the hospital's plan lets
//!   the centre decide that on its own after 30 minutes).
//! - **团检 group desk** (`group_desk`): works for companies that send their
//!   staff for exams (单位体检). It keeps the companies, their groups with a
//!   package and a discount, imports rosters, books members in batches, adds
//!   or removes items for a group, bans (禁检) and restores members, and on
//!   the exam day registers arriving members (团检登记), opens a member's
//!   visit, changes its items (not refunds: members pay nothing at the
//!   desk; the company settles later), rebooks or cancels it and prints its
//!   guide sheet. It finds members through the group-member search and the
//!   rosters: it does not search the whole patient base, sees no one's
//!   earlier visits, takes no payment, refunds nothing, sees neither waiver
//!   signatures, photos nor reports, and has no part in the kiosks' trays.
//! - **系统管理员 administrator** (`admin`): accounts and roles, the
//!   dictionaries and prices; stands in for either desk (a small centre's
//!   head of the desk); the only one who may switch emergency mode on
//!   before the centre is eligible, with a stated reason. It does **not**
//!   read the audit trail.
//! - **财务 finance** (`finance`): the payments and the platform's daily
//!   bill (`/payments`: orders and refunds by merchant number and amount,
//!   no names; run a day's reconciliation again) and the emergency
//!   episodes' reports (amounts by method, to reconcile afterwards);
//!   nothing of a patient, no desk.
//! - **审计员 auditor** (`auditor`): reads the audit trail (its own page,
//!   `/audit`) and nothing else: no patient, no desk, no settings.
//!
//! ## Separation of duties (三权分立, 等保三级)
//!
//! The level-3 rules separate the system administrator, the security
//! administrator and the auditor. Here the administrator manages accounts,
//! roles and settings, and the auditor reviews what everyone did, the
//! administrator included. So [`Capability::ViewAudit`] is the auditor's
//! alone: an administrator who could read the trail could watch whether
//! their own changes (a new account, a role raised, a price cut) were
//! noticed, and could pick a moment to act unseen; and nobody, the auditor
//! included, can change or delete a line of it (no route does, and the
//! store refuses it). Account management stays with the administrator, so
//! the auditor cannot give itself or anyone else more rights; every account
//! and role change is in the trail the auditor reads. The security
//! administrator's duties (lockouts, password policy) are settings of the
//! service here, not a role of their own.

use serde::{Deserialize, Serialize};

/// A staff account's role, stored as its snake-case text in `staff_users.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    FrontDesk,
    /// 前台主管: the front desk, plus emergency mode's switch.
    DeskSupervisor,
    GroupDesk,
    /// 财务: the payments' books and the emergency reports.
    Finance,
    /// 审计员: the audit trail only.
    Auditor,
    /// 导诊: the guide desk (queues, moves, room states).
    Guide,
    /// 医生: the doctor station (call, recall, no-show, finish).
    Doctor,
}

/// Something a staff member does that not every role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// The front-desk page (`/desk`).
    UseDeskPage,
    /// The group-desk page (`/groups`).
    UseGroupPage,
    /// The maintenance page (`/admin`).
    UseAdminPage,
    /// Today's kiosk check-ins, the kiosk fleet and the documents waiting
    /// in kiosk trays (`/registrations`, masked).
    ViewRegistrations,
    /// Hand over documents waiting in a kiosk's tray, and move a kiosk's
    /// waiting print jobs to another kiosk (K15).
    ManagePrintouts,
    /// The dictionaries, a day's slots, a plan's price before booking: no
    /// personal data.
    ViewCatalogue,
    /// Search every patient (name, ID number, mobile, codes), open any
    /// visit, and see a person's earlier visits.
    SearchPatients,
    /// Search among group members only, and open, register, change items
    /// of, rebook, cancel and print a group member's visit.
    ServeGroupVisits,
    /// Book an individual visit, register a walk-in; rebook and cancel any visit.
    BookVisit,
    /// 开单登记 of any booked visit.
    RegisterVisit,
    /// Add, remove, make up, defer, restore and waive items of any visit.
    ChangeItems,
    /// Refund a paid item (money back): the cashier's.
    Refund,
    /// Take a payment at the desk.
    TakePayment,
    /// See the patient's signature on a waiver.
    ViewSignatures,
    /// Print any visit's documents at the desk.
    PrintDocuments,
    /// See the photo a kiosk took at check-in (K6).
    ViewPhoto,
    /// Publish, preview and withdraw exam reports (medical data).
    HandleReports,
    /// The desk's view of the operation log: the caller's own work of today.
    ViewDeskLog,
    /// Companies, groups, members, import progress and error reports.
    ViewGroups,
    /// Create companies and groups, regroup, batch items and discounts.
    EditGroups,
    /// Import a roster.
    ImportRoster,
    /// Book a company's (or a group's) members.
    BookGroup,
    /// 禁检 / 恢复 of members.
    BanMembers,
    /// Staff accounts and their roles.
    ManageAccounts,
    /// Item prices and packages.
    EditCatalogue,
    /// The audit trail, searched by time, ID number and operator (`/audit`).
    ViewAudit,
    /// Correct a person's name or mobile, with a reason (audited, masked):
    /// the one way identity fields change (issue 17 item 6).
    CorrectIdentity,
    /// A person's rights under PIPL, served at the desk for the person
    /// present with their ID card: see everything held about them, export
    /// it for them, record or withdraw consents, erase what retention
    /// allows (`workflow::privacy`).
    ServeDataRights,
    /// The hospital interfaces' page: each counterpart's queue and last
    /// error, dead letters and their retry, a visit's orders and results,
    /// re-fetch and manual transfer (I1–I3). The administrator's: it is
    /// the system's plumbing, and a retry or a transfer sends a patient's
    /// data to another system.
    ManageInterfaces,
    /// The payments and the daily bill's reconciliation (`/payments`,
    /// finance): orders and refunds by merchant number and amount, no
    /// names; run a day's reconciliation again; each campus's day figures
    /// and the group's total (`/figures`, E14: sums only). Finance's and
    /// the administrator's (no desk role sees the books).
    ReconcilePayments,
    /// The emergency page (`/emergency`): the centre's state, why it is
    /// (not) eligible, the episodes and their reconciliation reports
    /// (exam numbers and amounts, no names).
    ViewEmergency,
    /// Switch emergency mode on (once eligible) and off (E15).
    SwitchEmergency,
    /// Switch it on before the centre is eligible, with a reason.
    OverrideEmergency,
    /// The guide desk (`/guide`): every room's queue (masked), a person's
    /// places; moves, VIP, room states, evacuation, 改日检, links.
    GuideQueue,
    /// The doctor station (`/station`): call, recall, no-show, finish.
    CallPatients,
    /// The queue's rules, rooms and screens (`/api/queue/settings`).
    ManageQueue,
    /// The department page (`/dept`): a visit's results as a room sees
    /// them (other departments' summaries, earlier years), entering and
    /// saving them (E6). Medical data: the doctor's and the administrator's.
    EnterResults,
    /// The major-abnormal-results board (`/abnormal`): cases with values
    /// and the person's number, review, notification, follow-up, reports
    /// by hand (E7). Medical data: the doctor's and the administrator's.
    ManageAbnormal,
    /// The specimens page (`/specimens`): a visit's tubes, the draw with
    /// its notes, the hand-over, the laboratory's receipt or refusal, the
    /// draw again (E5).
    CollectSpecimens,
    /// The chief examination (`/chief`): the worklist, a visit's results
    /// and conclusions, the draft, lock, and for reviewers (listed as such
    /// among the chief physicians) review and publication (E8). Medical
    /// data: the doctor's and the administrator's.
    ChiefExamine,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::FrontDesk,
        Role::DeskSupervisor,
        Role::GroupDesk,
        Role::Finance,
        Role::Auditor,
        Role::Guide,
        Role::Doctor,
    ];

    /// The rights table (see the module's notes for why each line is so).
    pub fn may(self, c: Capability) -> bool {
        use Capability::*;
        match self {
            // Everything but the audit trail (separation of duties).
            Role::Admin => !matches!(c, ViewAudit),
            Role::FrontDesk => match c {
                UseDeskPage | ViewRegistrations | ManagePrintouts | ViewCatalogue
                | SearchPatients | BookVisit | RegisterVisit | ChangeItems | Refund
                | TakePayment | ViewSignatures | PrintDocuments | ViewPhoto | HandleReports
                | ViewDeskLog | CorrectIdentity | ServeDataRights | ViewEmergency | GuideQueue => {
                    true
                }
                UseGroupPage | UseAdminPage | ServeGroupVisits | ViewGroups | EditGroups
                | ImportRoster | BookGroup | BanMembers | ManageAccounts | EditCatalogue
                | ViewAudit | ManageInterfaces | ReconcilePayments | SwitchEmergency
                | OverrideEmergency | CallPatients | ManageQueue | EnterResults
                | ManageAbnormal | CollectSpecimens | ChiefExamine => false,
            },
            // The front desk's rights and the switch (not the override).
            Role::DeskSupervisor => match c {
                SwitchEmergency => true,
                OverrideEmergency => false,
                c => Role::FrontDesk.may(c),
            },
            Role::GroupDesk => match c {
                UseDeskPage | UseGroupPage | ViewCatalogue | ServeGroupVisits | ViewDeskLog
                | ViewGroups | EditGroups | ImportRoster | BookGroup | BanMembers => true,
                UseAdminPage | ViewRegistrations | ManagePrintouts | SearchPatients | BookVisit
                | RegisterVisit | ChangeItems | Refund | TakePayment | ViewSignatures
                | PrintDocuments | ViewPhoto | HandleReports | ManageAccounts | EditCatalogue
                | ViewAudit | CorrectIdentity | ServeDataRights | ManageInterfaces
                | ReconcilePayments | ViewEmergency | SwitchEmergency | OverrideEmergency
                | GuideQueue | CallPatients | ManageQueue | EnterResults | ManageAbnormal
                | CollectSpecimens | ChiefExamine => false,
            },
            Role::Finance => matches!(c, ReconcilePayments | ViewEmergency),
            Role::Auditor => matches!(c, ViewAudit),
            Role::Guide => matches!(c, GuideQueue | ViewCatalogue),
            Role::Doctor => matches!(
                c,
                CallPatients | EnterResults | ManageAbnormal | CollectSpecimens | ChiefExamine
            ),
        }
    }

    /// Where this role lands after signing in (and at `/`): the first page
    /// it may open.
    pub fn home(self) -> &'static str {
        if self.may(Capability::ViewRegistrations) {
            "/registrations"
        } else if self.may(Capability::UseGroupPage) {
            "/groups"
        } else if self.may(Capability::UseDeskPage) {
            "/desk"
        } else if self.may(Capability::ReconcilePayments) {
            "/payments"
        } else if self.may(Capability::ViewAudit) {
            "/audit"
        } else if self.may(Capability::GuideQueue) {
            "/guide"
        } else if self.may(Capability::CallPatients) {
            "/station"
        } else {
            "/password"
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::FrontDesk => "front_desk",
            Role::DeskSupervisor => "desk_supervisor",
            Role::GroupDesk => "group_desk",
            Role::Finance => "finance",
            Role::Auditor => "auditor",
            Role::Guide => "guide",
            Role::Doctor => "doctor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, UnknownRole> {
        Self::parse(s).ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// The header's links: only the pages this role may open, so nobody is
/// shown a link that answers 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Nav {
    pub registrations: bool,
    pub desk: bool,
    pub groups: bool,
    pub admin: bool,
    pub audit: bool,
    pub interfaces: bool,
    pub emergency: bool,
    pub payments: bool,
    pub guide: bool,
    pub station: bool,
    pub dept: bool,
    pub abnormal: bool,
    pub specimens: bool,
    pub chief: bool,
}

impl Nav {
    pub(crate) fn of(role: Role) -> Self {
        Self {
            registrations: role.may(Capability::ViewRegistrations),
            desk: role.may(Capability::UseDeskPage),
            groups: role.may(Capability::UseGroupPage),
            admin: role.may(Capability::UseAdminPage),
            audit: role.may(Capability::ViewAudit),
            interfaces: role.may(Capability::ManageInterfaces),
            emergency: role.may(Capability::ViewEmergency),
            payments: role.may(Capability::ReconcilePayments),
            guide: role.may(Capability::GuideQueue),
            station: role.may(Capability::CallPatients),
            dept: role.may(Capability::EnterResults),
            abnormal: role.may(Capability::ManageAbnormal),
            specimens: role.may(Capability::CollectSpecimens),
            chief: role.may(Capability::ChiefExamine),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown role {0:?}: use admin, front_desk, desk_supervisor, group_desk, finance, auditor, guide or doctor"
)]
pub struct UnknownRole(pub String);

impl Capability {
    pub const ALL: [Capability; 40] = {
        use Capability::*;
        [
            UseDeskPage,
            UseGroupPage,
            UseAdminPage,
            ViewRegistrations,
            ManagePrintouts,
            ViewCatalogue,
            SearchPatients,
            ServeGroupVisits,
            BookVisit,
            RegisterVisit,
            ChangeItems,
            Refund,
            TakePayment,
            ViewSignatures,
            PrintDocuments,
            ViewPhoto,
            HandleReports,
            ViewDeskLog,
            ViewGroups,
            EditGroups,
            ImportRoster,
            BookGroup,
            BanMembers,
            ManageAccounts,
            EditCatalogue,
            ViewAudit,
            CorrectIdentity,
            ServeDataRights,
            ManageInterfaces,
            ReconcilePayments,
            ViewEmergency,
            SwitchEmergency,
            OverrideEmergency,
            GuideQueue,
            CallPatients,
            ManageQueue,
            EnterResults,
            ManageAbnormal,
            CollectSpecimens,
            ChiefExamine,
        ]
    };

    /// What a refused staff member is told.
    pub fn refusal_zh(self) -> &'static str {
        match self {
            Capability::ViewPhoto => "当前账号没有查看照片的权限",
            Capability::HandleReports => "当前账号没有处理体检报告的权限",
            Capability::UseAdminPage => "只有管理员可以进入系统维护",
            Capability::ViewAudit => "只有审计员可以查看审计日志",
            Capability::Refund => "当前账号没有退费的权限",
            Capability::ViewSignatures => "当前账号没有查看签名的权限",
            Capability::SearchPatients => "当前账号只能查询团检人员",
            Capability::ServeDataRights => "当前账号不能办理个人信息查询、导出与删除",
            Capability::ManageInterfaces => "只有管理员可以查看和处理接口队列",
            Capability::SwitchEmergency => "只有前台主管和管理员可以切换应急模式",
            Capability::OverrideEmergency => "只有管理员可以在未满断线时限时开启应急模式",
            _ => "当前账号没有此操作的权限",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, one line per capability (A = admin, F = front
    /// desk, S = desk supervisor, G = group desk, M = finance (money),
    /// U = auditor, D = guide (导诊), R = doctor (医生)). A change of
    /// rights shows up here
    /// in review.
    #[test]
    fn the_rights_table() {
        let table: String = Capability::ALL
            .iter()
            .map(|&c| {
                let marks: String = Role::ALL
                    .iter()
                    .map(|r| if r.may(c) { 'x' } else { '.' })
                    .collect();
                format!("{marks} {c:?}\n")
            })
            .collect();
        println!("AFSGMUDR\n{table}");
        assert_eq!(
            table,
            "\
xxxx.... UseDeskPage
x..x.... UseGroupPage
x....... UseAdminPage
xxx..... ViewRegistrations
xxx..... ManagePrintouts
xxxx..x. ViewCatalogue
xxx..... SearchPatients
x..x.... ServeGroupVisits
xxx..... BookVisit
xxx..... RegisterVisit
xxx..... ChangeItems
xxx..... Refund
xxx..... TakePayment
xxx..... ViewSignatures
xxx..... PrintDocuments
xxx..... ViewPhoto
xxx..... HandleReports
xxxx.... ViewDeskLog
x..x.... ViewGroups
x..x.... EditGroups
x..x.... ImportRoster
x..x.... BookGroup
x..x.... BanMembers
x....... ManageAccounts
x....... EditCatalogue
.....x.. ViewAudit
xxx..... CorrectIdentity
xxx..... ServeDataRights
x....... ManageInterfaces
x...x... ReconcilePayments
xxx.x... ViewEmergency
x.x..... SwitchEmergency
x....... OverrideEmergency
xxx...x. GuideQueue
x......x CallPatients
x....... ManageQueue
x......x EnterResults
x......x ManageAbnormal
x......x CollectSpecimens
x......x ChiefExamine
"
        );
    }

    /// 三权分立: the auditor reads the trail and does nothing else; the
    /// administrator does everything else and does not read the trail.
    #[test]
    fn the_auditor_and_the_administrator_are_separate() {
        for c in Capability::ALL {
            assert_eq!(Role::Auditor.may(c), c == Capability::ViewAudit, "{c:?}");
            assert_eq!(Role::Admin.may(c), c != Capability::ViewAudit, "{c:?}");
        }
    }

    #[test]
    fn every_role_lands_on_a_page_it_may_open() {
        let home: Vec<_> = Role::ALL.iter().map(|r| (r.as_str(), r.home())).collect();
        assert_eq!(
            home,
            [
                ("admin", "/registrations"),
                ("front_desk", "/registrations"),
                ("desk_supervisor", "/registrations"),
                ("group_desk", "/groups"),
                ("finance", "/payments"),
                ("auditor", "/audit"),
                ("guide", "/guide"),
                ("doctor", "/station"),
            ]
        );
    }

    #[test]
    fn roles_read_and_write_as_stored() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        assert!("root".parse::<Role>().is_err());
        assert!("Admin".parse::<Role>().is_err());
        assert_eq!("auditor".parse::<Role>().unwrap(), Role::Auditor);
    }
}
