//! E2 group exams (团检) in the store: companies, groups with their package
//! and grouping rule, roster members, imports, batch booking, batch item
//! changes and bans. Each batch is one transaction: all or nothing.

use chrono::Utc;
use exam_domain::catalogue::Marital;
use exam_domain::exam_no::ExamNoRule;
use exam_domain::roster::GroupRule;
use exam_domain::slot::SlotTemplate;
use exam_domain::{BookingState, Person, Sex};
use sqlx::Row;

use super::desk::{self, Created, DeskError, NewVisit};
use super::people::{ensure_person, person_key, person_of_row};
use super::{Db, DbError, Result, next_id, oplog, slots, ts};

#[derive(Debug, Clone, serde::Serialize)]
pub struct CompanyRow {
    pub id: i64,
    pub name: String,
    pub contact: String,
    pub members: i64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GroupSpec {
    pub name: String,
    pub package_code: String,
    pub sex: Option<Sex>,
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
    pub marital: Option<Marital>,
    /// Percentage of list price the company pays (100 = no discount).
    pub discount_pct: u32,
    pub pay_later: bool,
}

impl GroupSpec {
    pub fn rule(&self) -> GroupRule {
        GroupRule {
            sex: self.sex,
            min_age: self.min_age,
            max_age: self.max_age,
            marital: self.marital,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupRow {
    pub id: i64,
    pub spec: GroupSpec,
    pub banned: bool,
    pub members: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MemberRow {
    pub id: i64,
    pub person: Person,
    pub marital: Marital,
    pub department: Option<String>,
    pub employee_no: Option<String>,
    pub group_id: Option<i64>,
    pub banned: bool,
    pub booking_id: Option<i64>,
    pub exam_no: Option<String>,
    /// The state of the member's visit, if they have one.
    pub state: Option<BookingState>,
    /// The campus of the member's visit, if they have one.
    pub campus: Option<String>,
}

/// What an import was: its file, its rows, its errors and their report.
#[derive(Debug, Clone, Copy)]
pub struct ImportRecord<'a> {
    pub file_name: &'a str,
    pub data_rows: usize,
    pub errors: usize,
    pub report: &'a str,
}

/// One roster row ready to store.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub person: Person,
    pub initials: String,
    pub marital: Marital,
    pub department: Option<String>,
    pub employee_no: Option<String>,
    pub note: Option<String>,
    pub group_id: Option<i64>,
}

impl Db {
    pub async fn create_company(&self, actor: &str, name: &str, contact: &str) -> Result<i64> {
        let id = next_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO companies(id, name, contact, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(name)
            .bind(contact)
            .bind(ts(Utc::now()))
            .execute(&mut *tx)
            .await?;
        oplog::log(
            &mut tx,
            actor,
            "group.company",
            &format!("company:{id}"),
            name,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn company_exists(&self, id: i64) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM companies WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .is_some())
    }

    pub async fn companies(&self) -> Result<Vec<CompanyRow>> {
        sqlx::query(
            "SELECT c.id, c.name, c.contact, (SELECT COUNT(*) FROM group_members m WHERE m.company_id = c.id) AS n
               FROM companies c ORDER BY c.name",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(CompanyRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                contact: r.try_get("contact")?,
                members: r.try_get("n")?,
            })
        })
        .collect()
    }

    pub async fn create_group(&self, actor: &str, company: i64, g: &GroupSpec) -> Result<i64> {
        let id = next_id();
        let mut tx = self.pool.begin().await?;
        let pos: i64 = sqlx::query("SELECT COUNT(*) FROM exam_groups WHERE company_id = $1")
            .bind(company)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        sqlx::query(
            "INSERT INTO exam_groups(id, company_id, name, package_code, sex, min_age, max_age, marital,
                                     discount_pct, pay_later, banned, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11)",
        )
        .bind(id)
        .bind(company)
        .bind(&g.name)
        .bind(&g.package_code)
        .bind(g.sex.map(|s| s.as_str()))
        .bind(g.min_age.map(i64::from))
        .bind(g.max_age.map(i64::from))
        .bind(g.marital.map(|m| m.as_str()))
        .bind(i64::from(g.discount_pct))
        .bind(i64::from(g.pay_later))
        .bind(pos)
        .execute(&mut *tx)
        .await?;
        oplog::log(
            &mut tx,
            actor,
            "group.create",
            &format!("company:{company}"),
            &format!(
                "{} package={} rule={:?} discount={}%",
                g.name,
                g.package_code,
                g.rule(),
                g.discount_pct
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn groups(&self, company: i64) -> Result<Vec<GroupRow>> {
        sqlx::query(
            "SELECT g.*, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS n
               FROM exam_groups g WHERE g.company_id = $1 ORDER BY g.position",
        )
        .bind(company)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(GroupRow {
                id: r.try_get("id")?,
                spec: GroupSpec {
                    name: r.try_get("name")?,
                    package_code: r.try_get("package_code")?,
                    sex: r
                        .try_get::<Option<String>, _>("sex")?
                        .and_then(|s| Sex::parse(&s)),
                    min_age: r.try_get::<Option<i64>, _>("min_age")?.map(|v| v as u32),
                    max_age: r.try_get::<Option<i64>, _>("max_age")?.map(|v| v as u32),
                    marital: r
                        .try_get::<Option<String>, _>("marital")?
                        .and_then(|s| Marital::parse(&s)),
                    discount_pct: r.try_get::<i64, _>("discount_pct")? as u32,
                    pay_later: r.try_get::<i64, _>("pay_later")? != 0,
                },
                banned: r.try_get::<i64, _>("banned")? != 0,
                members: r.try_get("n")?,
            })
        })
        .collect()
    }

    /// Stores an import: the members (new ones added, known ones updated)
    /// and the import's record with its error report. `progress` is called
    /// every few hundred rows.
    pub async fn import_members(
        &self,
        actor: &str,
        company: i64,
        import: &ImportRecord<'_>,
        members: &[NewMember],
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<i64> {
        let ImportRecord {
            file_name,
            data_rows,
            errors,
            report,
        } = *import;
        let import_id = next_id();
        let mut tx = self.pool.begin().await?;
        let now = ts(Utc::now());
        for (i, m) in members.iter().enumerate() {
            // A known person keeps their name and mobile (item 6).
            ensure_person(&mut tx, &self.keys, &m.person, &m.initials).await?;
            sqlx::query(
                "INSERT INTO group_members(id, company_id, group_id, person_key, marital, department, employee_no,
                                           note, banned, import_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)
                 ON CONFLICT (company_id, person_key) DO UPDATE SET marital = excluded.marital,
                     department = excluded.department, employee_no = excluded.employee_no, note = excluded.note,
                     group_id = COALESCE(group_members.group_id, excluded.group_id)",
            )
            .bind(next_id())
            .bind(company)
            .bind(m.group_id)
            .bind(person_key(&self.keys, &m.person.id_number))
            .bind(m.marital.as_str())
            .bind(&m.department)
            .bind(&m.employee_no)
            .bind(&m.note)
            .bind(import_id)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            if i % 250 == 249 {
                progress(i + 1);
            }
        }
        sqlx::query(
            "INSERT INTO roster_imports(id, company_id, file_name, actor, at, data_rows, errors, imported, report)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(import_id)
        .bind(company)
        .bind(file_name)
        .bind(actor)
        .bind(&now)
        .bind(data_rows as i64)
        .bind(errors as i64)
        .bind(members.len() as i64)
        // The error report quotes the rows: names, ID numbers, mobiles.
        .bind(self.keys.seal_str(report, &report_ad(import_id))?)
        .execute(&mut *tx)
        .await?;
        oplog::log(
            &mut tx,
            actor,
            "group.import",
            &format!("company:{company}"),
            &format!(
                "file={file_name} rows={data_rows} errors={errors} imported={}",
                members.len()
            ),
        )
        .await?;
        tx.commit().await?;
        progress(members.len());
        Ok(import_id)
    }

    /// The error report of an import (CSV), if the import belongs to the company.
    pub async fn import_report(&self, company: i64, import: i64) -> Result<Option<String>> {
        sqlx::query("SELECT report FROM roster_imports WHERE id = $1 AND company_id = $2")
            .bind(import)
            .bind(company)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| -> Result<String> {
                let sealed: String = r.try_get("report")?;
                Ok(self.keys.open_string(&sealed, &report_ad(import))?)
            })
            .transpose()
    }

    pub async fn members(&self, company: i64) -> Result<Vec<MemberRow>> {
        sqlx::query(
            "SELECT m.id, m.marital, m.department, m.employee_no, m.group_id, m.banned, m.booking_id,
                    p.person_key, p.id_number, p.name, p.mobile, b.exam_no, b.state, b.campus
               FROM group_members m JOIN people p ON p.person_key = m.person_key
               LEFT JOIN bookings b ON b.id = m.booking_id
              WHERE m.company_id = $1",
        )
        .bind(company)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(MemberRow {
                id: r.try_get("id")?,
                person: person_of_row(&self.keys, r)?,
                marital: Marital::parse(&r.try_get::<String, _>("marital")?)
                    .unwrap_or(Marital::Unknown),
                department: r.try_get("department")?,
                employee_no: r.try_get("employee_no")?,
                group_id: r.try_get("group_id")?,
                banned: r.try_get::<i64, _>("banned")? != 0,
                booking_id: r.try_get("booking_id")?,
                exam_no: r.try_get("exam_no")?,
                state: r
                    .try_get::<Option<String>, _>("state")?
                    .map(|s| {
                        BookingState::parse(&s)
                            .ok_or_else(|| DbError::Corrupt(format!("booking state {s:?}")))
                    })
                    .transpose()?,
                campus: r.try_get("campus")?,
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(|mut rows| {
            // Names are sealed: ordered here, by department, name, row.
            rows.sort_by(|a, b| {
                (&a.department, &a.person.name, a.id).cmp(&(&b.department, &b.person.name, b.id))
            });
            rows
        })
    }

    /// Puts members into groups (the caller applied the grouping rules).
    pub async fn assign_groups(
        &self,
        actor: &str,
        company: i64,
        moves: &[(i64, i64)],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (member, group) in moves {
            sqlx::query("UPDATE group_members SET group_id = $3 WHERE id = $1 AND company_id = $2")
                .bind(member)
                .bind(company)
                .bind(group)
                .execute(&mut *tx)
                .await?;
        }
        oplog::log(
            &mut tx,
            actor,
            "group.assign",
            &format!("company:{company}"),
            &format!("members={}", moves.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Books every visit in one transaction, first free slot of the day for
    /// each (all or nothing), and links each to its member.
    pub async fn book_members(
        &self,
        actor: &str,
        company: i64,
        rule: &ExamNoRule,
        tpl: &SlotTemplate,
        visits: &[NewVisit],
    ) -> std::result::Result<Vec<Created>, DeskError> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(visits.len());
        let mut lines = Vec::with_capacity(visits.len());
        let mut days: Vec<(&str, chrono::NaiveDate)> =
            visits.iter().map(|v| (v.campus.as_str(), v.date)).collect();
        days.dedup();
        for (campus, date) in days {
            slots::ensure(&mut tx, tpl, campus, date).await?;
        }
        for v in visits {
            let mut placed = None;
            for (start, end) in tpl.times() {
                if slots::take(&mut tx, &v.campus, v.date, start).await? {
                    placed = Some((start, end));
                    break;
                }
            }
            let slot = placed.ok_or(DeskError::SlotFull)?;
            let mut v = v.clone();
            v.slot = slot;
            v.take_slot = false; // taken above
            let (c, line) = desk::create_visit_unlogged(
                &mut tx,
                &self.keys,
                actor,
                rule,
                tpl,
                &v,
                None,
                desk::Stamp::InTransaction,
            )
            .await?;
            lines.push(line);
            sqlx::query(
                "UPDATE group_members SET booking_id = $3 WHERE id = $1 AND company_id = $2",
            )
            .bind(v.member_id)
            .bind(company)
            .bind(c.id)
            .execute(&mut *tx)
            .await?;
            out.push(c);
        }
        // The audit lines last: from the first one the chain's lock is held
        // to the commit, and no slot or person lock is taken after it.
        for line in &lines {
            super::audit::append(&mut tx, line).await?;
        }
        oplog::log(
            &mut tx,
            actor,
            "group.book",
            &format!("company:{company}"),
            &format!("visits={}", out.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// 禁检 / 恢复 of members; a ban cancels their visits not yet attended.
    pub async fn ban_members(
        &self,
        actor: &str,
        company: i64,
        ids: &[i64],
        banned: bool,
    ) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let mut n = 0;
        for id in ids {
            n += sqlx::query(
                "UPDATE group_members SET banned = $3 WHERE id = $1 AND company_id = $2",
            )
            .bind(id)
            .bind(company)
            .bind(i64::from(banned))
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
            if !banned {
                continue;
            }
            let booking: Option<i64> = sqlx::query(
                "SELECT m.booking_id FROM group_members m JOIN bookings b ON b.id = m.booking_id
                  WHERE m.id = $1 AND m.company_id = $2 AND b.state = 'booked'",
            )
            .bind(id)
            .bind(company)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("booking_id"))
            .transpose()?;
            if let Some(b) = booking {
                let v = super::visits::visit_in(&mut tx, &self.keys, b)
                    .await
                    .map_err(desk_to_db)?;
                desk::cancel_in(&mut tx, &v, "banned")
                    .await
                    .map_err(desk_to_db)?;
            }
        }
        oplog::log(
            &mut tx,
            actor,
            if banned { "group.ban" } else { "group.restore" },
            &format!("company:{company}"),
            &format!("members={n}"),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}

fn report_ad(import: i64) -> Vec<u8> {
    super::at_rest::ad("roster_imports", "report", &[&import.to_string()])
}

fn desk_to_db(e: DeskError) -> DbError {
    match e {
        DeskError::Db(e) => e,
        other => DbError::Corrupt(other.to_string()),
    }
}
