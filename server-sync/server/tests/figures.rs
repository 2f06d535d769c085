//! E14, 财务收入独立核算: the desk takes money at two campuses and gives
//! some back; the day's figures show each campus apart (visits, charges
//! and refunds by method, net, what arrived visits still owe) and the
//! group's total as their sum, as JSON, CSV and the page; finance and the
//! administrator see them, the desk does not. The ledger's line is in
//! the transaction that moved the money. Both stores.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, Staff, id_number};
use serde_json::{Value, json};

on_both_stores!(each_campus_is_accounted_apart);

async fn walk_in(desk: &Staff, campus: &str, seq: u16) -> i64 {
    let (st, r) = desk
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": id_number(1980, seq), "name": "院区测试", "mobile": "" },
                    "marital": "married", "package": "P-EMP", "walk_in": true, "campus": campus }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    r["visit"]["id"].as_i64().unwrap()
}

async fn pay(desk: &Staff, id: i64, method: &str) -> i64 {
    let (st, r) = desk
        .post(
            &format!("/api/desk/visits/{id}/pay"),
            json!({ "method": method }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let fen = r["paid_fen"].as_i64().unwrap();
    assert!(fen > 0, "{r}");
    fen
}

fn campus<'a>(f: &'a Value, code: &str) -> &'a Value {
    f["campuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["campus"] == code)
        .unwrap_or_else(|| panic!("no campus {code} in {f}"))
}

async fn each_campus_is_accounted_apart(h: &Harness) {
    let desk = h.staff("fig-desk", "front_desk").await;
    let finance = h.staff("fig-money", "finance").await;
    let (st, empty) = finance.get("/api/figures").await;
    assert_eq!(st, 200, "{empty}");
    assert_eq!(empty["total"]["net_fen"], 0, "{empty}");
    assert_eq!(campus(&empty, "east")["name"], "东区分院");

    let a = walk_in(&desk, "main", 1).await;
    let b = walk_in(&desk, "main", 3).await;
    let c = walk_in(&desk, "east", 5).await;
    let owed = walk_in(&desk, "east", 7).await;
    let cash = pay(&desk, a, "cash").await;
    let card = pay(&desk, b, "card").await;
    let wechat = pay(&desk, c, "wechat").await;
    // A refund of one of a's items goes back as it was taken: cash.
    let (_, v) = desk.get(&format!("/api/desk/visits/{a}")).await;
    let item = &v["items"][0];
    let code = item["code"].as_str().unwrap();
    let (st, r) = desk
        .post(
            &format!("/api/desk/visits/{a}/items/{code}"),
            json!({ "change": "refund" }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let refunded = item["price_fen"].as_i64().unwrap();
    assert!(refunded > 0);
    // The unpaid visit's items are what the east campus is still owed.
    let (_, v) = desk.get(&format!("/api/desk/visits/{owed}")).await;
    let due: i64 = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "active" && i["paid"] == false)
        .map(|i| i["price_fen"].as_i64().unwrap())
        .sum();
    assert!(due > 0, "{v}");

    let (st, f) = finance.get("/api/figures").await;
    assert_eq!(st, 200, "{f}");
    let main = campus(&f, "main");
    assert_eq!(main["arrived"], 2, "{f}");
    assert_eq!(main["charges"], 2);
    assert_eq!(main["charged_fen"]["cash"], cash);
    assert_eq!(main["charged_fen"]["card"], card);
    assert_eq!(main["charged_fen"]["wechat"], 0);
    assert_eq!(
        (
            main["refunds"].as_i64(),
            main["refunded_fen"]["cash"].as_i64()
        ),
        (Some(1), Some(refunded))
    );
    assert_eq!(main["net_fen"], cash + card - refunded);
    let east = campus(&f, "east");
    assert_eq!(east["arrived"], 2);
    assert_eq!(east["charged_fen"]["wechat"], wechat);
    assert_eq!(east["charged_fen"]["cash"], 0);
    assert_eq!(east["net_fen"], wechat);
    assert_eq!(east["outstanding_fen"], due);
    assert_eq!(f["total"]["net_fen"], cash + card - refunded + wechat);
    assert_eq!(f["total"]["arrived"], 4);

    // The ledger's lines carry who took the money, under the visit's campus.
    let lines = h
        .sql_text(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM ledger WHERE booking_id = {a} AND campus = 'main' AND by_user = 'fig-desk'"
        ))
        .await;
    assert_eq!(lines.as_deref(), Some("2"), "a's charge and refund");

    // Another day has none of it.
    let (_, other) = finance.get("/api/figures?day=2001-01-01").await;
    assert_eq!(other["total"]["net_fen"], 0, "{other}");
    assert_eq!(other["total"]["arrived"], 0);

    // The CSV for Excel: its mark, a row per campus and the total, in yuan.
    let r = h
        .http
        .get(format!("{}/api/figures.csv", h.url))
        .header("cookie", &finance.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("figures-")
    );
    let csv = r.text().await.unwrap();
    let rows: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert!(rows[0].starts_with('\u{feff}'), "{csv}");
    assert_eq!(rows.len(), 4, "{csv}");
    let net = cash + card - refunded + wechat;
    assert!(
        rows[3].contains(&format!(",{}.{:02},", net / 100, net % 100)),
        "{csv}"
    );

    // The page, and who may see it.
    let r = h
        .http
        .get(format!("{}/figures", h.url))
        .header("cookie", &finance.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("东区分院") && html.contains("id=\"figures\""));
    let (st, _) = desk.get("/api/figures").await;
    assert_eq!(st, 403, "the desk does not see the books");
    let admin = h.staff("fig-admin", "admin").await;
    let (st, _) = admin.get("/api/figures").await;
    assert_eq!(st, 200, "central control");
}
