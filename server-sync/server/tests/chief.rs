//! Issue 20, the chief examination and the generated report over HTTP on
//! both stores: a visit whose results are all in enters the pool (a
//! make-up item holds one back); a reviewer assigns; the chief physician
//! reads the departments' conclusions as the draft, adds one from the
//! dictionary by pinyin initials, merges two, reorders, locks; a reviewer
//! returns it with a reason (counted), the physician corrects and locks
//! again; the reviewer passes it: the PDF is generated and published (the
//! desk and the kiosk get it); who may do what, and two people at once.

#![allow(clippy::unwrap_used)]

mod common;
mod interfaces;

use std::process::{Command, Stdio};

use common::{Backend, Harness, Staff};
use exam_domain::results::{FieldKind, Template, range_for};
use interfaces::walk_in;
use serde_json::{Value, json};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await;
            }
        })*
    };
}

both!(
    a_report_goes_through_the_chief_examination_and_is_published,
    the_laboratorys_own_results_print_on_the_report,
    a_companys_reports_are_printed_together_handed_over_and_summed_up,
);

/// Enters every room's items of a visit as normal (findings unticked,
/// numbers in the middle of the person's range), except the findings in
/// `ticked` ((item, field, finding)).
pub async fn enter_results(doc: &Staff, id: i64, ticked: &[(&str, &str, &str)]) {
    enter_results_but(doc, id, ticked, &[]).await;
}

/// As [`enter_results`], leaving the items in `skip` to their systems.
pub async fn enter_results_but(doc: &Staff, id: i64, ticked: &[(&str, &str, &str)], skip: &[&str]) {
    let cat = exam_domain::catalogue::seed::catalogue();
    let (_, v) = doc.get(&format!("/api/results/visits/{id}?room=int")).await;
    let exam_no = v["person"]["exam_no"].as_str().unwrap().to_string();
    let sex = if v["person"]["sex"] == "男" {
        exam_domain::Sex::Male
    } else {
        exam_domain::Sex::Female
    };
    let age = u32::try_from(v["person"]["age"].as_u64().unwrap()).unwrap();
    let mut rooms: Vec<String> = cat.rooms.iter().map(|r| r.code.clone()).collect();
    rooms.sort();
    rooms.dedup();
    for room in rooms {
        let (st, v) = doc
            .get(&format!("/api/results/find?q={exam_no}&room={room}"))
            .await;
        if st != 200 || v["items"].as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        let mut entries = Vec::new();
        for item in v["items"].as_array().unwrap() {
            if item["status"] != "active" || skip.contains(&item["code"].as_str().unwrap()) {
                continue;
            }
            let t: Template = serde_json::from_value(item["template"].clone()).unwrap();
            let mut values = Vec::new();
            for f in &t.fields {
                let value = match &f.kind {
                    FieldKind::Findings { .. } => {
                        let ticked: Vec<&str> = ticked
                            .iter()
                            .filter(|(i, field, _)| *i == t.item && *field == f.code)
                            .map(|x| x.2)
                            .collect();
                        json!({ "type": "findings", "value": ticked })
                    }
                    FieldKind::Numeric {
                        ranges, plausible, ..
                    } => {
                        let x = range_for(ranges, sex, age).map_or(
                            (plausible.0 + plausible.1) / 2.0,
                            |r| match (r.low, r.high) {
                                (Some(a), Some(b)) => (a + b) / 2.0,
                                (Some(a), None) => a * 1.1,
                                (None, Some(b)) => b * 0.8,
                                (None, None) => (plausible.0 + plausible.1) / 2.0,
                            },
                        );
                        json!({ "type": "number", "value": (x * 10.0).round() / 10.0 })
                    }
                    FieldKind::Text => continue,
                };
                values.push(json!([f.code, value]));
            }
            entries.push(json!({ "item": t.item, "values": values }));
        }
        if entries.is_empty() {
            continue;
        }
        let dept = v["department"].as_str().unwrap().to_string();
        let (st, saved) = doc
            .post(
                &format!("/api/results/visits/{id}/departments/{dept}"),
                json!({ "entries": entries, "confirm": true }),
            )
            .await;
        assert_eq!(st, 200, "{room}: {saved}");
        assert_eq!(saved["saved"], true, "{room}: {saved}");
    }
}

fn signature_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 80, 24);
    enc.set_color(png::ColorType::Grayscale);
    let mut w = enc.write_header().unwrap();
    let px: Vec<u8> = (0..80 * 24)
        .map(|i| if (i / 80 + i % 80) % 9 == 0 { 0 } else { 255 })
        .collect();
    w.write_image_data(&px).unwrap();
    drop(w);
    out
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .stdin(Stdio::null())
        .output()
        .expect("pdftotext (poppler-utils) is installed by scripts/test");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

async fn bytes(s: &Staff, path: &str) -> (u16, Vec<u8>) {
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

fn names(report: &Value) -> Vec<String> {
    report["conclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

async fn a_report_goes_through_the_chief_examination_and_is_published(backend: Backend) {
    let h = Harness::start(backend).await;
    let desk = h.staff("c-desk", "front_desk").await;
    let doc = h.staff("c-doc", "doctor").await;
    let admin = h.staff("c-admin", "admin").await;
    let (a, b) = (
        h.staff("c-wang", "doctor").await,
        h.staff("c-li", "doctor").await,
    );

    // Two chief physicians, both senior and both reviewers (one reviews
    // what the other locked); the signature is a PNG or refused.
    for (login, sig) in [("c-wang", true), ("c-li", true)] {
        let mut body = json!({ "level": 3, "reviewer": true });
        if sig {
            use base64::Engine;
            body["signature_png"] = base64::engine::general_purpose::STANDARD
                .encode(signature_png())
                .into();
        }
        let (st, e) = admin
            .post(&format!("/api/chief/physicians/{login}"), body)
            .await;
        assert_eq!(st, 204, "{e}");
    }
    let (st, _) = admin
        .post(
            "/api/chief/physicians/c-li",
            json!({ "level": 3, "reviewer": true, "signature_png": "R0lGODlh" }),
        )
        .await;
    assert_eq!(st, 422, "not a PNG");
    let (st, _) = admin
        .post(
            "/api/chief/physicians/nobody",
            json!({ "level": 1, "reviewer": false }),
        )
        .await;
    assert_eq!(st, 404);
    let (st, _) = a
        .post(
            "/api/chief/physicians/c-wang",
            json!({ "level": 3, "reviewer": true }),
        )
        .await;
    assert_eq!(st, 403, "a doctor does not set levels");

    // Two visits: one with every result in, one with an item to make up.
    let ready = walk_in(&desk, 901).await;
    let held = walk_in(&desk, 902).await;
    let (st, e) = desk
        .post(
            &format!("/api/desk/visits/{held}/items/US-ABD"),
            json!({ "change": "make_up" }),
        )
        .await;
    assert_eq!(st, 200, "{e}");
    enter_results(&doc, ready, &[("US-ABD", "liver", "fatty")]).await;
    enter_results(&doc, held, &[]).await;

    // The medical history (taken once) and internal medicine's
    // questionnaire; a paste too long and a wrong answer are refused.
    let history = json!({ "past": "高血压 2 年", "allergies": "青霉素过敏", "smoking": "current" });
    let (st, told) = doc
        .post(&format!("/api/results/visits/{ready}/history"), history)
        .await;
    assert_eq!(st, 200, "{told}");
    assert_eq!(told["written_by"], "c-doc");
    let (st, _) = doc
        .post(
            &format!("/api/results/visits/{ready}/history"),
            json!({ "family": "父".repeat(501) }),
        )
        .await;
    assert_eq!(st, 422);
    let (_, room) = doc
        .get(&format!("/api/results/visits/{ready}?room=int"))
        .await;
    assert_eq!(room["history"]["history"]["allergies"], "青霉素过敏");
    assert_eq!(
        room["asked"]["questions"].as_array().unwrap().len(),
        4,
        "{room}"
    );
    let q = format!("/api/results/visits/{ready}/departments/int/questionnaire");
    let (st, lines) = doc
        .post(
            &q,
            json!({ "answers": [["breath", true], ["chest_pain", false]] }),
        )
        .await;
    assert_eq!(st, 200, "{lines}");
    assert_eq!(lines, json!(["活动后有无气短"]));
    let (st, _) = doc
        .post(&q, json!({ "answers": [["breath", "也许"]] }))
        .await;
    assert_eq!(st, 422, "a yes / no question wants yes or no");

    let (st, w) = a.get("/api/chief/worklist").await;
    assert_eq!(st, 200, "{w}");
    let pool: Vec<i64> = w["pool"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["booking_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        pool,
        [ready],
        "the make-up item holds the other visit back: {w}"
    );
    assert!(
        w["pool"][0]["name"].as_str().unwrap().contains('*'),
        "names masked in lists"
    );

    // A reviewer gives the pool out.
    let (st, r) = a.post("/api/chief/assign", json!({})).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["assigned"], 1);
    let (_, rep) = a.get(&format!("/api/chief/reports/{ready}")).await;
    let chief_login = rep["report"]["physician"].as_str().unwrap().to_string();
    let (chief, reviewer) = if chief_login == "c-wang" {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let reviewer_login = if chief_login == "c-wang" {
        "c-li"
    } else {
        "c-wang"
    };

    // The draft: the departments' conclusions (fatty liver from the
    // ultrasound room), the results as they will print.
    let (st, rep) = chief.get(&format!("/api/chief/reports/{ready}")).await;
    assert_eq!(st, 200, "{rep}");
    assert_eq!(names(&rep["report"]), ["脂肪肝"], "{rep}");
    assert!(rep["may"].as_array().unwrap().contains(&json!("lock")));
    assert!(rep["sections"].as_array().unwrap().len() > 3);
    let (_, other) = reviewer.get(&format!("/api/chief/reports/{ready}")).await;
    assert_eq!(
        other["may"],
        json!([]),
        "not the reviewer's report, not locked yet"
    );

    // Add from the dictionary by pinyin initials, merge, reorder.
    let (_, hits) = chief.get("/api/chief/conclusions?q=gdgc").await;
    let code = hits[0]["code"].as_str().unwrap().to_string();
    assert_eq!(hits[0]["name"], "高胆固醇血症", "{hits}");
    let version = rep["report"]["version"].as_i64().unwrap();
    let (st, r) = chief
        .post(
            &format!("/api/chief/reports/{ready}/edits"),
            json!({ "op": "add", "code": code, "version": version }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let version = r["version"].as_i64().unwrap();
    // The stale version: refused, nothing lost.
    let (st, e) = chief
        .post(
            &format!("/api/chief/reports/{ready}/edits"),
            json!({ "op": "remove", "at": 0, "version": version - 1 }),
        )
        .await;
    assert_eq!(st, 409, "{e}");
    let (st, r) = chief
        .post(
            &format!("/api/chief/reports/{ready}/edits"),
            json!({ "op": "write", "name": "超重", "advice": "控制体重", "version": version }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(names(&r), ["脂肪肝", "高胆固醇血症", "超重"]);
    let (st, r) = chief
        .post(
            &format!("/api/chief/reports/{ready}/edits"),
            json!({ "op": "merge", "a": 0, "b": 1, "name": "脂肪肝伴血脂异常", "advice": "", "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(names(&r), ["脂肪肝伴血脂异常", "超重"]);
    let (st, r) = chief
        .post(
            &format!("/api/chief/reports/{ready}/edits"),
            json!({ "op": "move", "from": 1, "to": 0, "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(names(&r), ["超重", "脂肪肝伴血脂异常"]);
    assert_eq!(r["state"], "draft");

    // The preview is the PDF as it would print.
    let (st, pdf) = bytes(chief, &format!("/api/chief/reports/{ready}/preview.pdf")).await;
    assert_eq!(st, 200);
    let text = pdftotext(&pdf);
    let (i, j) = (
        text.find("超重").unwrap(),
        text.find("脂肪肝伴血脂异常").unwrap(),
    );
    assert!(i < j, "the conclusions in the physician's order");

    // Lock; the physician cannot approve their own.
    let (st, r) = chief
        .post(
            &format!("/api/chief/reports/{ready}"),
            json!({ "action": "lock", "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["state"], "locked");
    let (st, e) = chief
        .post(
            &format!("/api/chief/reports/{ready}"),
            json!({ "action": "approve", "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 409, "no review of one's own report: {e}");
    let (st, e) = chief
        .post(
            &format!("/api/chief/reports/{ready}/edits"),
            json!({ "op": "remove", "at": 0, "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 409, "locked: no edits: {e}");

    // The reviewer sees it to review and returns it with a reason.
    let (_, w) = reviewer.get("/api/chief/worklist").await;
    assert_eq!(w["review"][0]["booking_id"], ready, "{w}");
    let (st, e) = reviewer
        .post(
            &format!("/api/chief/reports/{ready}"),
            json!({ "action": "return", "reason": "other", "note": " ", "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 422, "“other” needs a note: {e}");
    let (st, r) = reviewer
        .post(
            &format!("/api/chief/reports/{ready}"),
            json!({ "action": "return", "reason": "advice", "note": "超重的建议不具体", "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["state"], "draft");
    let (_, rep) = chief.get(&format!("/api/chief/reports/{ready}")).await;
    assert_eq!(rep["returns"][0]["reason_zh"], "建议不当");
    assert_eq!(rep["returns"][0]["note"], "超重的建议不具体");
    let (_, s) = reviewer.get("/api/chief/stats").await;
    assert_eq!(
        s["returns"],
        json!([[chief_login, "advice", "建议不当", 1]]),
        "{s}"
    );

    // It comes back: the advice corrected, locked again, passed.
    let (st, r) = chief
        .post(
            &format!("/api/chief/reports/{ready}/edits"),
            json!({ "op": "advice", "at": 0, "advice": "每周运动 150 分钟，三个月减重 3 公斤", "version": rep["report"]["version"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let (_, r) = chief
        .post(
            &format!("/api/chief/reports/{ready}"),
            json!({ "action": "lock", "version": r["version"] }),
        )
        .await;
    let (st, r) = reviewer
        .post(
            &format!("/api/chief/reports/{ready}"),
            json!({ "action": "approve", "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["state"], "published");
    assert_eq!(r["reviewed_by"], reviewer_login);

    // Published: the desk has it (generated, not uploaded), with the
    // person's name, the conclusions in order, the advice as corrected.
    let (st, d) = desk.get(&format!("/api/desk/visits/{ready}/report")).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["published_by"], reviewer_login, "{d}");
    let (st, pdf) = bytes(&desk, &format!("/api/desk/visits/{ready}/report/pdf")).await;
    assert_eq!(st, 200);
    let text = pdftotext(&pdf);
    let name = h.db().visit(ready).await.unwrap().record.person.name;
    for (before, after) in [
        (name.as_str(), "超重"),
        ("超重", "脂肪肝伴血脂异常"),
        ("三个月减重 3 公斤", "脂肪肝伴血脂异常"),
    ] {
        let (i, j) = (text.find(before).unwrap(), text.find(after).unwrap());
        assert!(i < j, "{before} before {after}");
    }
    assert!(text.contains("审核日期"));
    for told in [
        "病史与问诊",
        "青霉素过敏",
        "高血压 2 年",
        "内科问诊",
        "活动后有无气短",
    ] {
        assert!(text.contains(told), "{told} on the report");
    }
    let (_, rep) = chief.get(&format!("/api/chief/reports/{ready}")).await;
    assert_eq!(rep["may"], json!([]), "published: nothing more here");

    // Who may: the front desk has no chief examination; a doctor who is
    // not a chief physician reads but cannot act.
    let (st, _) = desk.get("/api/chief/worklist").await;
    assert_eq!(st, 403);
    let (st, e) = doc
        .post(
            &format!("/api/chief/reports/{ready}"),
            json!({ "action": "lock", "version": 1 }),
        )
        .await;
    assert_eq!(st, 409, "{e}");
    assert_eq!(e["error"], "not_chief");

    // The trail: the reads and every step, by the two physicians.
    let auditor = h.staff("c-audit", "auditor").await;
    let mut actions = Vec::new();
    for who in ["c-wang", "c-li"] {
        let (st, trail) = auditor
            .get(&format!("/api/audit/operations?actor={who}"))
            .await;
        assert_eq!(st, 200, "{trail}");
        for r in trail["operations"].as_array().unwrap() {
            actions.push(r["action"].as_str().unwrap().to_string());
        }
    }
    for a in [
        "chief.assign",
        "chief.edit",
        "chief.lock",
        "chief.return",
        "chief.approve",
        "read.chief_report",
        "report.publish",
    ] {
        assert!(actions.iter().any(|t| t == a), "{a} in {actions:?}");
    }
}

/// Sends `text` (an ORU^R01) as `from` to a listener of the service over
/// MLLP, and expects it accepted.
async fn send_oru(
    h: &Harness,
    from: exam_server::interfaces::Counterpart,
    text: &str,
    control: &str,
) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(exam_server::interfaces::hl7::listen(
        h.db().clone(),
        from,
        exam_hl7::Charset::Utf8,
        l,
    ));
    let mut client = exam_hl7::mllp::MllpClient::new(exam_hl7::mllp::ClientConfig::new(format!(
        "127.0.0.1:{port}"
    )));
    let ack = client.send_bytes(text.as_bytes(), control).await.unwrap();
    assert_eq!(ack.code, exam_hl7::AckCode::Accept, "{ack:?}");
}

/// The laboratory's electrolytes arrive over MLLP (ORU^R01, final) and are
/// not typed at any department page: the visit is ready with them, and
/// the generated report prints the laboratory's own values, units, ranges
/// and flags (a high sodium among the abnormal results).
async fn the_laboratorys_own_results_print_on_the_report(backend: Backend) {
    let h = Harness::start(backend).await;
    let desk = h.staff("l-desk", "front_desk").await;
    let doc = h.staff("l-doc", "doctor").await;
    let admin = h.staff("l-admin", "admin").await;
    let (a, b) = (
        h.staff("l-wang", "doctor").await,
        h.staff("l-li", "doctor").await,
    );
    for login in ["l-wang", "l-li"] {
        let (st, _) = admin
            .post(
                &format!("/api/chief/physicians/{login}"),
                json!({ "level": 3, "reviewer": true }),
            )
            .await;
        assert_eq!(st, 204);
    }
    let (st, r) = desk
        .post(
            "/api/desk/visits",
            json!({ "person": { "id_number": common::id_number(1968, 905), "name": "钱立新", "mobile": "13912345670" },
                    "marital": "married", "package": "P-M-BASIC", "add": ["L-ELEC"], "walk_in": true }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let id = r["visit"]["id"].as_i64().unwrap();
    interfaces::pay(&desk, id).await;
    let (items, _) = h.db().interface_visit(id).await.unwrap();
    let order = items
        .iter()
        .find(|i| i.item_code == "L-ELEC")
        .and_then(|i| i.order_no.clone())
        .expect("the electrolytes ordered at the laboratory");

    // The laboratory's result over MLLP, through the service's listener.
    let oru = format!(
        "MSH|^~\\&|LIS|LAB|EXAM|CENTER|20261205101500||ORU^R01^ORU_R01|LIS-ELEC-1|P|2.5\r\
         PID|1||P0001^^^^PI||钱立新||19680315|M\r\
         OBR|1|{order}|L9911|L-ELEC|||20261205100000||||||||||||||||||F\r\
         OBX|1|NM|K^钾^L||4.1|mmol/L|3.5-5.3|N|||F\r\
         OBX|2|NM|NA^钠^L||151|mmol/L|137-147|H|||F\r"
    );
    send_oru(
        &h,
        exam_server::interfaces::Counterpart::Lis,
        &oru,
        "LIS-ELEC-1",
    )
    .await;

    // The ECG system's report: an embedded PDF (OBX ED) beside its text.
    let ecg = items
        .iter()
        .find(|i| i.item_code == "ECG-12")
        .and_then(|i| i.order_no.clone())
        .expect("the ECG ordered");
    use base64::Engine;
    let ecg_pdf = b"%PDF-1.4 the ECG's own report %%EOF".to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&ecg_pdf);
    let oru_ecg = format!(
        "MSH|^~\\&|ECG|ECG|EXAM|CENTER|20261205103000||ORU^R01^ORU_R01|ECG-1|P|2.5\r\
         PID|1||P0001^^^^PI||钱立新||19680315|M\r\
         OBR|1|{ecg}|E551|ECG-12|||20261205102000||||||||||||||||||F\r\
         OBX|1|TX|IMP^心电图诊断^L||窦性心律，正常心电图||||||F\r\
         OBX|2|ED|PDF^心电图报告^L||^AP^PDF^Base64^{b64}||||||F\r"
    );
    send_oru(
        &h,
        exam_server::interfaces::Counterpart::Ecg,
        &oru_ecg,
        "ECG-1",
    )
    .await;

    enter_results_but(&doc, id, &[], &["L-ELEC", "ECG-12"]).await;
    let (_, w) = a.get("/api/chief/worklist").await;
    assert!(
        w["pool"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["booking_id"] == id),
        "ready with the laboratory's result: {w}"
    );
    let (_, rep) = a.get(&format!("/api/chief/reports/{id}")).await;
    assert!(
        rep["abnormal"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().contains("钠 151")),
        "{rep}"
    );
    // The ECG's own report is viewable; the text is on the report.
    assert_eq!(rep["documents"][0]["name"], "心电图报告", "{rep}");
    let (st, got) = bytes(&a, rep["documents"][0]["url"].as_str().unwrap()).await;
    assert_eq!(st, 200);
    assert_eq!(got, ecg_pdf);
    let (st, _) = bytes(&a, &format!("/api/chief/reports/{id}/documents/9")).await;
    assert_eq!(st, 404);
    let (st, r) = a
        .post(
            &format!("/api/chief/reports/{id}"),
            json!({ "action": "save", "version": rep["report"]["version"], "conclusions": rep["report"]["conclusions"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let (_, r) = a
        .post(
            &format!("/api/chief/reports/{id}"),
            json!({ "action": "lock", "version": r["version"] }),
        )
        .await;
    let (st, r) = b
        .post(
            &format!("/api/chief/reports/{id}"),
            json!({ "action": "approve", "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let (st, pdf) = bytes(&desk, &format!("/api/desk/visits/{id}/report/pdf")).await;
    assert_eq!(st, 200);
    let text = pdftotext(&pdf);
    for want in [
        "钠",
        "151 ↑",
        "137-147",
        "钾",
        "4.1",
        "3.5-5.3",
        "窦性心律，正常心电图",
    ] {
        assert!(text.contains(want), "{want} on the report");
    }
}

/// Passes a visit's report with its conclusions as the departments gave
/// them: `chief` saves and locks, `reviewer` approves.
async fn pass(chief: &Staff, reviewer: &Staff, id: i64) {
    let (_, w) = chief.get("/api/chief/worklist").await;
    assert!(
        w["pool"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["booking_id"] == id),
        "{id} in the pool: {w}"
    );
    let (st, rep) = chief.get(&format!("/api/chief/reports/{id}")).await;
    assert_eq!(st, 200, "{rep}");
    let (st, r) = chief
        .post(
            &format!("/api/chief/reports/{id}"),
            json!({ "action": "save", "version": rep["report"]["version"], "conclusions": rep["report"]["conclusions"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let (_, r) = chief
        .post(
            &format!("/api/chief/reports/{id}"),
            json!({ "action": "lock", "version": r["version"] }),
        )
        .await;
    let (st, r) = reviewer
        .post(
            &format!("/api/chief/reports/{id}"),
            json!({ "action": "approve", "version": r["version"] }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
}

fn pages(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdfinfo")
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Pages:"))
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap()
}

/// A company's roster booked, two members examined and their reports
/// passed: the group book sums them up, the batch file holds both reports
/// page for page, the pickup slip lists them; a report is handed to a
/// proxy with their name, ID tail and signature (refused without).
async fn a_companys_reports_are_printed_together_handed_over_and_summed_up(backend: Backend) {
    let h = Harness::start(backend).await;
    let desk = h.staff("g-desk", "front_desk").await;
    let doc = h.staff("g-doc", "doctor").await;
    let admin = h.staff("g-admin", "admin").await;
    let group = h.staff("g-group", "group_desk").await;
    let (a, b) = (
        h.staff("g-wang", "doctor").await,
        h.staff("g-li", "doctor").await,
    );
    for login in ["g-wang", "g-li"] {
        let (st, _) = admin
            .post(
                &format!("/api/chief/physicians/{login}"),
                json!({ "level": 3, "reviewer": true }),
            )
            .await;
        assert_eq!(st, 204);
    }
    let company = exam_server::workflow::seed_demo_company(h.db())
        .await
        .unwrap()
        .unwrap();
    let tomorrow =
        (exam_server::workflow::now_local().date() + chrono::Duration::days(1)).to_string();
    let (st, r) = group
        .post(
            &format!("/api/group/companies/{company}/book"),
            json!({ "date": tomorrow }),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let (_, m) = group
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    let visits: Vec<i64> = m["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["booking_id"].as_i64())
        .take(2)
        .collect();
    assert_eq!(visits.len(), 2, "{m}");
    // Nothing published yet: said so.
    let (st, e) = desk
        .get(&format!("/api/group/companies/{company}/book.pdf"))
        .await;
    assert_eq!(st, 409, "{e}");
    for (n, id) in visits.iter().enumerate() {
        h.db().register("g-desk", *id, &[]).await.unwrap();
        let ticked: &[(&str, &str, &str)] = if n == 0 {
            &[("US-ABD", "liver", "fatty")]
        } else {
            &[]
        };
        enter_results(&doc, *id, ticked).await;
        pass(&a, &b, *id).await;
    }

    // The group book: the company, its examined, the findings.
    let (st, book) = bytes(&desk, &format!("/api/group/companies/{company}/book.pdf")).await;
    assert_eq!(st, 200);
    let text = pdftotext(&book);
    let company_name = exam_domain::demo::DEMO_COMPANY;
    for want in [
        "团体健康体检报告",
        company_name,
        "目",
        "实检 2 人",
        "脂肪肝",
        "人员体检结论一览",
    ] {
        assert!(text.contains(want), "{want} in the book");
    }
    let (st, _) = group
        .get(&format!("/api/group/companies/{company}/book.pdf"))
        .await;
    assert_eq!(st, 403, "the group desk reads no reports");

    // Batch printing: both reports, page for page, by company and by date.
    let mut each = 0;
    for id in &visits {
        let (_, pdf) = bytes(&desk, &format!("/api/desk/visits/{id}/report/pdf")).await;
        each += pages(&pdf);
    }
    let (st, all) = bytes(
        &desk,
        &format!("/api/desk/reports/batch.pdf?company={company}"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(pages(&all), each);
    let (st, by_date) = bytes(
        &desk,
        &format!("/api/desk/reports/batch.pdf?date={tomorrow}"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(pages(&by_date), each);
    let (st, e) = desk.get("/api/desk/reports/batch.pdf").await;
    assert_eq!(st, 422, "{e}");

    // The pickup slip lists both exam numbers, names masked.
    let (st, slip) = bytes(
        &desk,
        &format!("/api/group/companies/{company}/pickup-slip.pdf"),
    )
    .await;
    assert_eq!(st, 200);
    let text = pdftotext(&slip);
    for id in &visits {
        let v = h.db().visit(*id).await.unwrap();
        assert!(text.contains(&v.record.booking.exam_no));
        assert!(!text.contains(&v.record.person.name), "masked on the slip");
    }

    // E14: a company's members may be examined at several campuses; an
    // account bound to another campus than theirs (main) prints, slips
    // and sums none of their reports, and its roster leaves them out.
    let (east_desk, east_group) = (
        h.staff("g-east-desk", "front_desk").await,
        h.staff("g-east-group", "group_desk").await,
    );
    for who in ["g-east-desk", "g-east-group"] {
        h.db()
            .set_account_campus("test", who, Some("east"))
            .await
            .unwrap();
    }
    let (_, listed) = desk.get("/api/desk/reports/companies").await;
    assert_eq!(listed[0]["reports"], 2, "{listed}");
    let (_, listed) = east_desk.get("/api/desk/reports/companies").await;
    assert_eq!(listed, json!([]));
    for path in [
        format!("/api/desk/reports/batch.pdf?company={company}"),
        format!("/api/desk/reports/batch.pdf?date={tomorrow}"),
        format!("/api/group/companies/{company}/pickup-slip.pdf"),
    ] {
        let (st, e) = east_desk.get(&path).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (404, Some("no_reports")),
            "{path}: {e}"
        );
    }
    let (st, _) = east_desk
        .get(&format!("/api/group/companies/{company}/book.pdf"))
        .await;
    assert_eq!(st, 409, "nothing of its campus published");
    let booked = |m: &Value| {
        m["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["booking_id"].is_i64())
            .count()
    };
    let (_, all) = group
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    let (_, mine) = east_group
        .get(&format!("/api/group/companies/{company}/members"))
        .await;
    assert!(booked(&all) >= 2);
    assert_eq!(booked(&mine), 0, "{mine}");
    assert_eq!(
        mine["members"].as_array().unwrap().len(),
        all["members"].as_array().unwrap().len() - booked(&all),
        "the members not booked yet stay on its roster"
    );
    // The group's discount is what every campus charges: not its to change.
    let gid = all["members"][0]["group_id"].as_i64().unwrap();
    let (st, e) = east_group
        .post(
            &format!("/api/group/companies/{company}/discount"),
            json!({ "group_id": gid, "discount_pct": 50 }),
        )
        .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (403, Some("other_campus")),
        "{e}"
    );

    // Handed to a proxy: named, ID tail, signed; refused without.
    let id = visits[0];
    let url = format!("/api/desk/visits/{id}/report/handover");
    let (st, e) = desk
        .post(
            &url,
            json!({ "to": "proxy", "proxy_name": "王小二", "proxy_id_tail": "123X" }),
        )
        .await;
    assert_eq!(st, 422, "unsigned: {e}");
    let (st, e) = desk
        .post(&url, json!({ "to": "proxy", "signature_png": "x" }))
        .await;
    assert_eq!(st, 422, "no proxy named: {e}");
    use base64::Engine;
    let sig = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(signature_png())
    );
    let (st, list) = desk
        .post(&url, json!({ "to": "proxy", "proxy_name": "王小二", "proxy_id_tail": "123x", "signature_png": sig }))
        .await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list[0]["to"], "proxy");
    assert_eq!(list[0]["proxy_id_tail"], "123X");
    assert_eq!(list[0]["signed"], true);
    let (_, again) = desk
        .get(&format!("/api/desk/visits/{id}/report/handovers"))
        .await;
    assert_eq!(again, list);
}
