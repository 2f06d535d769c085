//! Staff roles and what each may do: the one place that grants rights.
//!
//! Handlers never compare roles; they name the [`Capability`] they need and
//! ask [`Role::may`] (through `StaffUser::require` for the JSON API and
//! `staff_auth::page_user` for the pages). Changing who may do what is a
//! change to the table in [`Role::may`] and to the test below, nothing else.

use serde::{Deserialize, Serialize};

/// A staff account's role, stored as its snake-case text in `staff_users.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    FrontDesk,
    GroupDesk,
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
    /// Catalogue, slots, search, a visit's details, a plan's preview.
    LookUpVisits,
    /// Book, rebook, cancel a visit; register a walk-in.
    BookVisit,
    /// 开单登记 of a booked visit.
    RegisterVisit,
    /// Add, remove, refund, waive items (and see a waiver's signature).
    ChangeItems,
    /// Take a payment at the desk.
    TakePayment,
    /// Print a visit's documents at the desk.
    PrintDocuments,
    /// See the photo a kiosk took at check-in (K6).
    ViewPhoto,
    /// Publish, preview and withdraw exam reports (medical data).
    HandleReports,
    /// The desk's view of the operation log.
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
    /// The whole operation log, searched by time, ID number and operator.
    ViewAudit,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::FrontDesk, Role::GroupDesk];

    /// The rights table. The group desk also registers and serves its own
    /// members at the desk, but sees neither photos nor reports (least
    /// privilege: those are the counter's and the report office's).
    pub fn may(self, c: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Admin => true,
            // Not the group page: every call its script makes needs ViewGroups.
            Role::FrontDesk => match c {
                UseDeskPage | LookUpVisits | BookVisit | RegisterVisit | ChangeItems
                | TakePayment | PrintDocuments | ViewPhoto | HandleReports | ViewDeskLog => true,
                UseGroupPage | UseAdminPage | ViewGroups | EditGroups | ImportRoster
                | BookGroup | BanMembers | ManageAccounts | EditCatalogue | ViewAudit => false,
            },
            Role::GroupDesk => match c {
                UseDeskPage | UseGroupPage | LookUpVisits | BookVisit | RegisterVisit
                | ChangeItems | TakePayment | PrintDocuments | ViewDeskLog | ViewGroups
                | EditGroups | ImportRoster | BookGroup | BanMembers => true,
                UseAdminPage | ViewPhoto | HandleReports | ManageAccounts | EditCatalogue
                | ViewAudit => false,
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::FrontDesk => "front_desk",
            Role::GroupDesk => "group_desk",
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
    pub desk: bool,
    pub groups: bool,
    pub admin: bool,
}

impl Nav {
    pub(crate) fn of(role: Role) -> Self {
        Self {
            desk: role.may(Capability::UseDeskPage),
            groups: role.may(Capability::UseGroupPage),
            admin: role.may(Capability::UseAdminPage),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}: use admin, front_desk or group_desk")]
pub struct UnknownRole(pub String);

impl Capability {
    pub const ALL: [Capability; 20] = {
        use Capability::*;
        [
            UseDeskPage,
            UseGroupPage,
            UseAdminPage,
            LookUpVisits,
            BookVisit,
            RegisterVisit,
            ChangeItems,
            TakePayment,
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
        ]
    };

    /// What a refused staff member is told.
    pub fn refusal_zh(self) -> &'static str {
        match self {
            Capability::ViewPhoto => "当前账号没有查看照片的权限",
            Capability::HandleReports => "当前账号没有处理体检报告的权限",
            Capability::UseAdminPage => "只有管理员可以进入系统维护",
            _ => "当前账号没有此操作的权限",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, one line per capability (A = admin, F = front
    /// desk, G = group desk). A change of rights shows up here in review.
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
        println!("AFG\n{table}");
        assert_eq!(
            table,
            "\
xxx UseDeskPage
x.x UseGroupPage
x.. UseAdminPage
xxx LookUpVisits
xxx BookVisit
xxx RegisterVisit
xxx ChangeItems
xxx TakePayment
xxx PrintDocuments
xx. ViewPhoto
xx. HandleReports
xxx ViewDeskLog
x.x ViewGroups
x.x EditGroups
x.x ImportRoster
x.x BookGroup
x.x BanMembers
x.. ManageAccounts
x.. EditCatalogue
x.. ViewAudit
"
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
    }
}
