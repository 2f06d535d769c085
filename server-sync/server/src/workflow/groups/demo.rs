//! The demo's company, so the group desk has something to show on first
//! open: four groups by sex, marital status and age, and a roster grouped
//! by their rules, stored as an import like any other (it is in the log).

use exam_domain::demo::{self, DEMO_COMPANY, DEMO_SEED};
use exam_domain::roster::{self, GroupRule};
use exam_domain::{Marital, Sex};

use crate::db::{Db, DbError, GroupSpec, ImportRecord, NewMember};
use crate::workflow::{initials, now_local};

/// Employees on the demo roster.
const MEMBERS: usize = 40;

fn spec(name: &str, package: &str, sex: Option<Sex>, marital: Option<Marital>) -> GroupSpec {
    GroupSpec {
        name: name.into(),
        package_code: package.into(),
        sex,
        min_age: None,
        max_age: None,
        marital,
        discount_pct: 85,
        pay_later: true,
    }
}

/// Seeds the demo company unless it exists; its id when it was created.
pub async fn seed_demo_company(db: &Db) -> Result<Option<i64>, DbError> {
    if db.companies().await?.iter().any(|c| c.name == DEMO_COMPANY) {
        return Ok(None);
    }
    let company = db
        .create_company("system", DEMO_COMPANY, "人事部 王主任")
        .await?;
    let specs = [
        GroupSpec {
            min_age: Some(50),
            discount_pct: 90,
            ..spec("50岁以上", "P-SENIOR", None, None)
        },
        spec("男员工", "P-GRP-A", Some(Sex::Male), None),
        spec(
            "女员工（已婚）",
            "P-GRP-A",
            Some(Sex::Female),
            Some(Marital::Married),
        ),
        spec(
            "女员工（未婚）",
            "P-GRP-B",
            Some(Sex::Female),
            Some(Marital::Unmarried),
        ),
    ];
    let mut ids = Vec::with_capacity(specs.len());
    for g in &specs {
        ids.push(db.create_group("system", company, g).await?);
    }
    let rules: Vec<GroupRule> = specs.iter().map(GroupSpec::rule).collect();
    let today = now_local().date();
    let members: Vec<NewMember> = demo::company_roster(DEMO_SEED, MEMBERS)
        .into_iter()
        .map(|m| NewMember {
            initials: initials(&m.person.name),
            group_id: roster::assign_person(&rules, &m.person, m.marital, today).map(|i| ids[i]),
            marital: m.marital,
            department: Some(m.department.to_string()),
            employee_no: Some(m.employee_no),
            note: None,
            person: m.person,
        })
        .collect();
    let record = ImportRecord {
        file_name: "demo-roster.csv",
        data_rows: members.len(),
        errors: 0,
        report: "",
    };
    db.import_members("system", company, &record, &members, &|_| {})
        .await?;
    Ok(Some(company))
}
