//! E12 dictionaries in the store: seeded once from the domain's catalogue,
//! loaded whole into memory (a few hundred rows) for the pure rules.

use exam_domain::catalogue::{
    Campus, Catalogue, Conflict, Department, ExamItem, ExamType, MaritalRule, Package, Room,
    SampleType, SexRule,
};
use sqlx::Row;

use super::{Db, DbError, Result};

fn enum_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn enum_parse<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| DbError::Corrupt(format!("{what}: {s:?}")))
}

fn json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| DbError::Corrupt(format!("{what}: {e}")))
}

impl Db {
    /// Writes `cat` into empty dictionary tables; a store that already has
    /// dictionaries is left alone (staff may have edited them).
    pub async fn seed_catalogue(&self, cat: &Catalogue) -> Result<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM exam_items")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        if n > 0 {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await?;
        for c in &cat.campuses {
            sqlx::query("INSERT INTO campuses(code, name, exam_no_prefix) VALUES ($1, $2, $3)")
                .bind(&c.code)
                .bind(&c.name)
                .bind(&c.exam_no_prefix)
                .execute(&mut *tx)
                .await?;
        }
        for d in &cat.departments {
            sqlx::query("INSERT INTO departments(code, name) VALUES ($1, $2)")
                .bind(&d.code)
                .bind(&d.name)
                .execute(&mut *tx)
                .await?;
        }
        for r in &cat.rooms {
            sqlx::query(
                "INSERT INTO rooms(campus, code, name, floor, department) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&r.campus)
            .bind(&r.code)
            .bind(&r.name)
            .bind(r.floor)
            .bind(&r.department)
            .execute(&mut *tx)
            .await?;
        }
        for t in &cat.exam_types {
            sqlx::query("INSERT INTO exam_types(code, name) VALUES ($1, $2)")
                .bind(&t.code)
                .bind(&t.name)
                .execute(&mut *tx)
                .await?;
        }
        for (pos, i) in cat.items.iter().enumerate() {
            sqlx::query(
                "INSERT INTO exam_items(code, name, department, room, sex, marital, fasting, price_fen,
                                        sample, conflicts, position)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&i.code)
            .bind(&i.name)
            .bind(&i.department)
            .bind(&i.room)
            .bind(enum_str(&i.sex))
            .bind(enum_str(&i.marital))
            .bind(i64::from(i.fasting))
            .bind(i.price_fen)
            .bind(i.sample.map(|s| enum_str(&s)))
            .bind(serde_json::to_string(&i.conflicts).expect("serialisable"))
            .bind(pos as i64)
            .execute(&mut *tx)
            .await?;
        }
        for (pos, p) in cat.packages.iter().enumerate() {
            sqlx::query(
                "INSERT INTO packages(code, name, sex, price_fen, exam_type, items, position)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&p.code)
            .bind(&p.name)
            .bind(enum_str(&p.sex))
            .bind(p.price_fen)
            .bind(&p.exam_type)
            .bind(serde_json::to_string(&p.items).expect("serialisable"))
            .bind(pos as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn load_catalogue(&self) -> Result<Catalogue> {
        let mut cat = Catalogue::default();
        for r in sqlx::query("SELECT code, name, exam_no_prefix FROM campuses ORDER BY code")
            .fetch_all(&self.pool)
            .await?
        {
            cat.campuses.push(Campus {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                exam_no_prefix: r.try_get("exam_no_prefix")?,
            });
        }
        for r in sqlx::query("SELECT code, name FROM departments ORDER BY code")
            .fetch_all(&self.pool)
            .await?
        {
            cat.departments.push(Department {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
            });
        }
        for r in sqlx::query(
            "SELECT campus, code, name, floor, department FROM rooms ORDER BY campus, code",
        )
        .fetch_all(&self.pool)
        .await?
        {
            cat.rooms.push(Room {
                campus: r.try_get("campus")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                floor: r.try_get::<i32, _>("floor")?,
                department: r.try_get("department")?,
            });
        }
        for r in sqlx::query("SELECT code, name FROM exam_types ORDER BY code")
            .fetch_all(&self.pool)
            .await?
        {
            cat.exam_types.push(ExamType {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
            });
        }
        for r in sqlx::query(
            "SELECT code, name, department, room, sex, marital, fasting, price_fen, sample, conflicts
               FROM exam_items ORDER BY position",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let sample: Option<String> = r.try_get("sample")?;
            cat.items.push(ExamItem {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                department: r.try_get("department")?,
                room: r.try_get("room")?,
                sex: enum_parse::<SexRule>("item sex", &r.try_get::<String, _>("sex")?)?,
                marital: enum_parse::<MaritalRule>(
                    "item marital",
                    &r.try_get::<String, _>("marital")?,
                )?,
                fasting: r.try_get::<i64, _>("fasting")? != 0,
                price_fen: r.try_get("price_fen")?,
                sample: sample
                    .map(|s| enum_parse::<SampleType>("item sample", &s))
                    .transpose()?,
                conflicts: json::<Vec<Conflict>>(
                    "item conflicts",
                    &r.try_get::<String, _>("conflicts")?,
                )?,
            });
        }
        for r in sqlx::query(
            "SELECT code, name, sex, price_fen, exam_type, items FROM packages ORDER BY position",
        )
        .fetch_all(&self.pool)
        .await?
        {
            cat.packages.push(Package {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                sex: enum_parse::<SexRule>("package sex", &r.try_get::<String, _>("sex")?)?,
                price_fen: r.try_get("price_fen")?,
                exam_type: r.try_get("exam_type")?,
                items: json("package items", &r.try_get::<String, _>("items")?)?,
            });
        }
        Ok(cat)
    }

    /// E12: a new list price for an item (what single additions cost from now on).
    pub async fn set_item_price(&self, actor: &str, code: &str, price_fen: i64) -> Result<bool> {
        let n = sqlx::query("UPDATE exam_items SET price_fen = $2 WHERE code = $1")
            .bind(code)
            .bind(price_fen)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 1 {
            self.audit_on(
                actor,
                "catalogue.item_price",
                code,
                &format!("price_fen={price_fen}"),
            )
            .await?;
        }
        Ok(n == 1)
    }

    /// E12: saves an edited package, or adds a new one at the end of the
    /// list; `Package` was checked against the dictionaries by the caller.
    /// Returns whether it is new.
    pub async fn save_package(&self, actor: &str, p: &Package) -> Result<bool> {
        let items = serde_json::to_string(&p.items).expect("serialisable");
        // Both statements take the same six values, in this order.
        let with_values = |sql: &'static str| {
            sqlx::query(sql)
                .bind(&p.code)
                .bind(&p.name)
                .bind(enum_str(&p.sex))
                .bind(p.price_fen)
                .bind(&p.exam_type)
                .bind(&items)
        };
        let mut tx = self.pool.begin().await?;
        let n = with_values(
            "UPDATE packages SET name = $2, sex = $3, price_fen = $4, exam_type = $5, items = $6
             WHERE code = $1",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let created = n == 0;
        if created {
            with_values(
                "INSERT INTO packages(code, name, sex, price_fen, exam_type, items, position)
                 SELECT $1, $2, $3, $4, $5, $6, COALESCE(MAX(position), -1) + 1 FROM packages",
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let detail = format!(
            "{} price_fen={} items={}",
            if created { "created" } else { "updated" },
            p.price_fen,
            p.items.join(",")
        );
        self.audit_on(actor, "catalogue.package", &p.code, &detail)
            .await?;
        Ok(created)
    }
}
