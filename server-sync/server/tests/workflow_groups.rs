//! The group desk over HTTP (E2), on SQLite and PostgreSQL: a roster with
//! errors is refused whole (with a downloadable report) unless the operator
//! chooses a partial import; members are grouped by sex, age and marital
//! status; batch booking, batch items, bans; everything in the log.

// An integration test: its helpers run outside #[test] fns, where clippy.toml's
// allow-unwrap-in-tests does not reach; in a test a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, Staff, id_number};
use serde_json::{Value, json};

on_both_stores!(
    roster_import_grouping_batch_booking_and_bans,
    an_xlsx_roster_and_a_fake_one,
    a_roster_for_a_company_that_does_not_exist,
    the_demo_company_fills_the_group_desk,
);

fn csv_roster() -> String {
    let mut s = String::from(
        "某某科技有限公司2026年度员工体检名单\n序号,姓名,证件号码,性别,手机号码,婚否,部门\n",
    );
    // Men 30-49, married and not; women married and not; one over 50.
    let rows = [
        (
            1,
            "张伟",
            id_number(1990, 101),
            "男",
            "13800000001",
            "已婚",
            "研发部",
        ),
        (
            2,
            "王芳",
            id_number(1992, 102),
            "女",
            "13800000002",
            "已婚",
            "财务部",
        ),
        (
            3,
            "李娜",
            id_number(2000, 104),
            "女",
            "13800000003",
            "未婚",
            "市场部",
        ),
        (
            4,
            "刘强",
            id_number(1970, 105),
            "男",
            "13800000004",
            "已婚",
            "后勤部",
        ),
        (5, "陈静", id_number(1998, 106), "女", "", "", "研发部"),
    ];
    for r in rows {
        s.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            r.0, r.1, r.2, r.3, r.4, r.5, r.6
        ));
    }
    s.push_str(",,,,,,\n"); // an empty row, skipped
    // Errors: a wrong check digit, sex against the ID number, a duplicate.
    let mut bad = id_number(1990, 108);
    let last = if bad.ends_with('1') { '2' } else { '1' };
    bad.pop();
    bad.push(last);
    s.push_str(&format!("6,赵敏,{bad},女,13800000006,未婚,市场部\n"));
    s.push_str(&format!(
        "7,孙立,{},女,13800000007,已婚,研发部\n",
        id_number(1985, 107)
    ));
    s.push_str(&format!(
        "8,张伟,{},男,13800000001,已婚,研发部\n",
        id_number(1990, 101)
    ));
    s
}

async fn setup(s: &Staff) -> (i64, Vec<i64>) {
    let (st, c) = s
        .post(
            "/api/group/companies",
            json!({ "name": "某某科技有限公司", "contact": "人事部 王主任" }),
        )
        .await;
    assert_eq!(st, 200, "{c}");
    let company = c["id"].as_i64().unwrap();
    let (st, e) = s
        .post(
            "/api/group/companies",
            json!({ "name": "某某科技有限公司" }),
        )
        .await;
    assert_eq!(st, 422, "duplicate company: {e}");
    let mut groups = Vec::new();
    for g in [
        json!({ "name": "50岁以上", "package_code": "P-SENIOR", "sex": null, "min_age": 50, "max_age": null, "marital": null, "discount_pct": 90, "pay_later": true }),
        json!({ "name": "男", "package_code": "P-GRP-A", "sex": "male", "min_age": null, "max_age": null, "marital": null, "discount_pct": 85, "pay_later": true }),
        json!({ "name": "女已婚", "package_code": "P-GRP-A", "sex": "female", "min_age": null, "max_age": null, "marital": "married", "discount_pct": 85, "pay_later": true }),
        json!({ "name": "女未婚", "package_code": "P-GRP-B", "sex": "female", "min_age": null, "max_age": null, "marital": "unmarried", "discount_pct": 85, "pay_later": true }),
    ] {
        let (st, r) = s
            .post(&format!("/api/group/companies/{company}/groups"), g)
            .await;
        assert_eq!(st, 200, "{r}");
        groups.push(r["id"].as_i64().unwrap());
    }
    let (st, _) = s
        .post(&format!("/api/group/companies/{company}/groups"), json!({ "name": "坏", "package_code": "P-NOPE", "discount_pct": 100, "pay_later": true }))
        .await;
    assert_eq!(st, 422);
    (company, groups)
}

async fn roster_import_grouping_batch_booking_and_bans(h: &Harness) {
    let s = h.staff("group1", "group_desk").await;
    let (company, groups) = setup(&s).await;
    let url =
        |q: &str| format!("/api/group/companies/{company}/roster?file_name=roster.csv&token=t1{q}");

    // Errors and no choice made: nothing is imported, the report downloads.
    let (st, r) = s.post_bytes(&url(""), csv_roster().into_bytes()).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (
            r["refused"].as_bool(),
            r["imported"].as_i64(),
            r["rows"].as_i64()
        ),
        (Some(true), Some(0), Some(5)),
        "{r}"
    );
    assert_eq!(r["empty_rows"], 1);
    let errs = r["error_list"].as_array().unwrap();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e["line"] == 9 && e["message"].as_str().unwrap().contains("校验")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e["line"] == 11 && e["message"].as_str().unwrap().contains("第 3 行")),
        "duplicate names the earlier line: {errs:?}"
    );
    let (_, members) = s
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    assert_eq!(
        members["members"].as_array().unwrap().len(),
        0,
        "no partial import unless chosen"
    );
    let report = s
        .http
        .get(format!(
            "{}/api/group/companies/{company}/imports/{}/errors.csv",
            s.url, r["import_id"]
        ))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status().as_u16(), 200);
    let text = report.text().await.unwrap();
    assert!(
        text.starts_with('\u{feff}') && text.contains("行号") && text.lines().count() == 4,
        "{text}"
    );

    // The operator chooses to import the good rows.
    let (st, r) = s
        .post_bytes(&url("&partial=true"), csv_roster().into_bytes())
        .await;
    assert_eq!(
        (st, r["imported"].as_i64(), r["grouped"].as_i64()),
        (200, Some(5), Some(4)),
        "{r}"
    );
    let (_, p) = s.get("/api/group/progress/t1").await;
    assert_eq!(
        (p["stage"].as_str(), p["done"].as_i64()),
        (Some("done"), Some(5))
    );
    let (_, m) = s
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    let m = m["members"].as_array().unwrap().clone();
    let group_of = |name: &str| {
        m.iter().find(|x| x["name"] == name).unwrap()["group_id"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        group_of("刘强"),
        groups[0],
        "56 years old: the first rule that fits"
    );
    assert_eq!(group_of("张伟"), groups[1]);
    assert_eq!(group_of("王芳"), groups[2]);
    assert_eq!(group_of("李娜"), groups[3]);
    let chen = m.iter().find(|x| x["name"] == "陈静").unwrap();
    assert!(
        chen["group_id"].is_null(),
        "marital status unknown: no married/unmarried rule may take her"
    );
    assert_eq!(chen["mobile"], Value::Null, "lists never carry the mobile");
}

async fn an_xlsx_roster_and_a_fake_one(h: &Harness) {
    let s = h.staff("group2", "group_desk").await;
    let (company, _) = setup(&s).await;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, head) in ["名字", "身份证号", "联系电话", "婚姻状况"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *head).unwrap();
    }
    for i in 0..300u32 {
        let r = i + 1;
        ws.write_string(
            r,
            0,
            format!(
                "员工{}号",
                "甲乙丙丁戊己庚辛壬癸"
                    .chars()
                    .nth((i % 10) as usize)
                    .unwrap()
            ),
        )
        .unwrap();
        ws.write_string(r, 1, id_number(1975 + (i % 25) as i32, 200 + i as u16))
            .unwrap();
        ws.write_string(r, 2, format!("139{:08}", i)).unwrap();
        ws.write_string(r, 3, if i % 3 == 0 { "未婚" } else { "已婚" })
            .unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let (st, r) = s
        .post_bytes(
            &format!("/api/group/companies/{company}/roster?file_name=名单.xlsx&token=x1"),
            bytes,
        )
        .await;
    assert_eq!(
        (st, r["imported"].as_i64(), r["errors"].as_i64()),
        (200, Some(300), Some(0)),
        "{r}"
    );
    let members = |m: &Value| m["members"].as_array().unwrap().clone();
    let (_, m) = s
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    assert!(
        members(&m).iter().all(|x| !x["group_id"].is_null()),
        "everyone fits a group"
    );
    // 7 slots of 40 = 280 places a day: 300 people are refused whole.
    let tomorrow =
        (exam_server::workflow::now_local().date() + chrono::Duration::days(1)).to_string();
    let (st, b) = s
        .post(
            &format!("/api/group/companies/{company}/book"),
            json!({ "date": tomorrow }),
        )
        .await;
    assert_eq!((st, b["error"].as_str()), (409, Some("slot_full")), "{b}");
    let (_, m) = s
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    assert!(
        members(&m).iter().all(|x| x["booking_id"].is_null()),
        "nothing booked"
    );
    let (_, slots) = s.get(&format!("/api/desk/slots?date={tomorrow}")).await;
    assert!(
        slots["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["booked"] == 0),
        "no place taken: {slots}"
    );
    // Twenty are banned (禁检): the other 280 fit exactly. Exam first, pay later.
    let ids: Vec<i64> = members(&m)
        .iter()
        .take(20)
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    let (_, r) = s
        .post(
            &format!("/api/group/companies/{company}/ban"),
            json!({ "member_ids": ids, "banned": true }),
        )
        .await;
    assert_eq!(r["changed"], 20);
    let (st, b) = s
        .post(
            &format!("/api/group/companies/{company}/book"),
            json!({ "date": tomorrow }),
        )
        .await;
    assert_eq!((st, b["booked"].as_i64()), (200, Some(280)), "{b}");
    let (_, m) = s
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    let m = members(&m);
    assert!(
        m.iter()
            .filter(|x| x["banned"] == false)
            .all(|x| x["state"] == "booked" && !x["exam_no"].as_str().unwrap().contains('4'))
    );
    let one = m.iter().find(|x| x["state"] == "booked").unwrap().clone();
    let (_, v) = s
        .get(&format!("/api/desk/visits/{}", one["booking_id"]))
        .await;
    assert_eq!(
        (v["kind"].as_str(), v["amount_due_fen"].as_i64()),
        (Some("group"), Some(0)),
        "exam first, pay later"
    );

    // Batch add an item to one group; a conflicting one is refused per member.
    let gid = one["group_id"].as_i64().unwrap();
    let (st, r) = s
        .post(
            &format!("/api/group/companies/{company}/items"),
            json!({ "group_id": gid, "add": ["L-HCY"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert!(
        r["changed"].as_i64().unwrap() > 0 && r["skipped"].as_array().unwrap().is_empty(),
        "{r}"
    );
    let (_, v) = s
        .get(&format!("/api/desk/visits/{}", one["booking_id"]))
        .await;
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["code"] == "L-HCY")
    );

    // Batch discount: the group's unpaid items re-priced from 85 % to 50 %.
    let sum = |v: &Value| -> i64 {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["price_fen"].as_i64().unwrap())
            .sum()
    };
    let before = sum(&v);
    let n_items = v["items"].as_array().unwrap().len() as i64;
    let (st, r) = s
        .post(
            &format!("/api/group/companies/{company}/discount"),
            json!({ "group_id": gid, "discount_pct": 50 }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let (_, v) = s
        .get(&format!("/api/desk/visits/{}", one["booking_id"]))
        .await;
    let after = sum(&v);
    assert!(
        (after * 85 - before * 50).abs() <= 85 * n_items,
        "{before} at 85 % -> {after} at 50 %"
    );
    let (st, _) = s
        .post(
            &format!("/api/group/companies/{company}/discount"),
            json!({ "group_id": gid, "discount_pct": 0 }),
        )
        .await;
    assert_eq!(st, 422);

    // Ban cancels the booking; restore allows booking again.
    let (st, r) = s
        .post(
            &format!("/api/group/companies/{company}/ban"),
            json!({ "member_ids": [one["id"]], "banned": true }),
        )
        .await;
    assert_eq!((st, r["changed"].as_i64()), (200, Some(1)));
    let (_, v) = s
        .get(&format!("/api/desk/visits/{}", one["booking_id"]))
        .await;
    assert_eq!(
        (v["state"].as_str(), v["state_reason"].as_str()),
        (Some("cancelled"), Some("banned"))
    );
    let (_, r) = s
        .post(
            &format!("/api/group/companies/{company}/ban"),
            json!({ "member_ids": [one["id"]], "banned": false }),
        )
        .await;
    assert_eq!(r["changed"], 1);
    let (_, b) = s
        .post(
            &format!("/api/group/companies/{company}/book"),
            json!({ "date": tomorrow }),
        )
        .await;
    assert_eq!(
        b["booked"], 1,
        "only the restored member, into the place the ban freed: {b}"
    );

    // A file named .xlsx that is not one, and a forbidden extension.
    let (st, e) = s
        .post_bytes(
            &format!("/api/group/companies/{company}/roster?file_name=fake.xlsx"),
            b"name,id\n".to_vec(),
        )
        .await;
    assert_eq!(st, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("xlsx"), "{e}");
    let (st, _) = s
        .post_bytes(
            &format!("/api/group/companies/{company}/roster?file_name=roster.exe"),
            b"MZ".to_vec(),
        )
        .await;
    assert_eq!(st, 422);
    let (_, ops) = s
        .get(&format!("/api/desk/operations?subject=company:{company}"))
        .await;
    let actions: Vec<&str> = ops["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    for a in [
        "group.company",
        "group.create",
        "group.import",
        "group.book",
        "group.ban",
        "group.restore",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

/// A roster (or a group) for a company that does not exist is a 404 that
/// says so, not the store's foreign-key error as "central store
/// unavailable"; nothing is recorded.
async fn a_roster_for_a_company_that_does_not_exist(h: &Harness) {
    let s = h.staff("group9", "group_desk").await;
    for q in ["", "&dry_run=true", "&partial=true"] {
        let (st, e) = s
            .post_bytes(
                &format!("/api/group/companies/424242/roster?file_name=roster.csv&token=t9{q}"),
                csv_roster().into_bytes(),
            )
            .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (404, Some("no_company")),
            "{q}: {e}"
        );
        assert!(e["message"].as_str().unwrap().contains("424242"), "{e}");
    }
    let (st, e) = s
        .post(
            "/api/group/companies/424242/groups",
            json!({ "name": "男", "package_code": "P-GRP-A", "sex": "male", "min_age": null, "max_age": null, "marital": null, "discount_pct": 85, "pay_later": true }),
        )
        .await;
    assert_eq!((st, e["error"].as_str()), (404, Some("no_company")), "{e}");
    // The same import into a company that exists is taken.
    let (company, _) = setup(&s).await;
    let (st, r) = s
        .post_bytes(
            &format!(
                "/api/group/companies/{company}/roster?file_name=roster.csv&token=t9&dry_run=true"
            ),
            csv_roster().into_bytes(),
        )
        .await;
    assert_eq!(st, 200, "{r}");
}

/// The demo's company: once seeded, the group desk lists it with its
/// groups and a roster grouped by their rules; seeding again adds nothing.
async fn the_demo_company_fills_the_group_desk(h: &Harness) {
    let company = exam_server::workflow::seed_demo_company(h.db())
        .await
        .unwrap()
        .expect("created");
    assert_eq!(
        exam_server::workflow::seed_demo_company(h.db())
            .await
            .unwrap(),
        None
    );
    let s = h.staff("group-demo", "group_desk").await;
    let (_, c) = s.get("/api/group/companies").await;
    let listed: Vec<&Value> = c["companies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == exam_domain::demo::DEMO_COMPANY)
        .collect();
    assert_eq!(listed.len(), 1, "{c}");
    assert_eq!(
        (listed[0]["id"].as_i64(), listed[0]["members"].as_i64()),
        (Some(company), Some(40))
    );
    let (_, g) = s
        .get(&format!("/api/group/companies/{company}/groups"))
        .await;
    let groups = g["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 4, "{g}");
    assert!(
        groups.iter().all(|g| g["members"].as_i64().unwrap() > 0),
        "{g}"
    );
    let (_, m) = s
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    let members = m["members"].as_array().unwrap();
    assert_eq!(members.len(), 40);
    assert!(
        members
            .iter()
            .all(|m| m["id_number"].as_str().unwrap().contains('*'))
    );
}
