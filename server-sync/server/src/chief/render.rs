//! The report's data from the records, and the PDF (crate exam-report).
//!
//! `personal_model` is pure: the stored entries, summaries, earlier
//! years, major results and the chief's conclusions in, the report's model
//! out; `load` gathers them (and audits nothing: its callers do).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use exam_domain::Sex;
use exam_domain::catalogue::Catalogue;
use exam_domain::results::chief::ReportConclusion;
use exam_domain::results::summary::Earlier;
use exam_domain::results::{FieldKind, Flag, Knowledge, Value, judge, range_for, range_text};
use exam_report::model as m;

use crate::AppState;
use crate::error::ApiErr;
use crate::results::store::{StoredEntry, StoredSummary};

/// The fonts, loaded once (Debian's fonts-noto-cjk unless configured).
pub(crate) fn fonts(st: &AppState) -> Result<&'static exam_report::Fonts, ApiErr> {
    static F: OnceLock<Result<exam_report::Fonts, String>> = OnceLock::new();
    F.get_or_init(|| {
        exam_report::Fonts::noto_sans_sc(st.config.report.fonts_dir.as_deref())
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| {
        ApiErr::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "no_fonts",
            format!("报告字体缺失（需安装 fonts-noto-cjk）：{e}"),
        )
    })
}

/// Runs a PDF's rendering off the async threads.
pub(crate) async fn off_thread(
    f: impl FnOnce() -> Result<Vec<u8>, exam_report::Error> + Send + 'static,
) -> Result<Vec<u8>, ApiErr> {
    let err = |e: String| ApiErr::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "render", e);
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| err(e.to_string()))?
        .map_err(|e| err(e.to_string()))
}

/// Everything a personal report is made of.
pub(crate) struct Input {
    pub centre: m::Centre,
    pub kind: m::ExamKind,
    pub name: String,
    pub sex: Sex,
    pub age: u32,
    pub id_masked: String,
    pub exam_no: String,
    pub company: Option<String>,
    pub package: String,
    pub exam_date: chrono::NaiveDate,
    pub entries: Vec<StoredEntry>,
    /// Results the laboratory, ECG and imaging systems sent (final), for
    /// items without an entry at a department page.
    pub received: Vec<Received>,
    pub summaries: Vec<StoredSummary>,
    pub earlier: Vec<Earlier>,
    /// 病史 and questionnaires' lines.
    pub history: Vec<(String, String)>,
    /// Major abnormal results, as lines.
    pub major: Vec<String>,
    pub conclusions: Vec<ReportConclusion>,
    pub chief: String,
    pub reviewer: String,
    pub signature: Option<Vec<u8>>,
    pub review_date: chrono::NaiveDate,
}

/// One item's final result from a hospital system, as its observations.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub item: String,
    pub rows: Vec<m::ResultRow>,
    /// Image reports (ECG, ultrasound, function tests): embedded PDFs and
    /// links to the imaging system.
    pub documents: Vec<Document>,
}

/// An image report a system sent with its result.
#[derive(Debug, Clone)]
pub(crate) enum Document {
    Embedded {
        name: String,
        mime: String,
        data: Vec<u8>,
    },
    Link {
        name: String,
        url: String,
    },
}

fn document(o: &exam_hl7::Observation) -> Option<Document> {
    use exam_hl7::ObservationValue as V;
    let name = o.identifier.text.clone();
    match &o.value {
        V::Document(d) => Some(Document::Embedded {
            name,
            mime: if d.subtype.eq_ignore_ascii_case("PDF") {
                "application/pdf".into()
            } else {
                format!("image/{}", d.subtype.to_ascii_lowercase())
            },
            data: d.data.clone(),
        }),
        // Only web addresses: anything else is not a link a browser opens.
        V::Link(l) if l.pointer.starts_with("http://") || l.pointer.starts_with("https://") => {
            Some(Document::Link {
                name,
                url: l.pointer.clone(),
            })
        }
        _ => None,
    }
}

/// An observation (OBX) as a report row: the system's own value, unit,
/// range and flag.
fn observation_row(o: &exam_hl7::Observation) -> m::ResultRow {
    use exam_hl7::{AbnormalFlag as F, ObservationValue as V};
    let value = match &o.value {
        V::Numeric(s) | V::Text(s) => s.clone(),
        V::Coded(c) => c.text.clone(),
        V::Other { raw, .. } => raw.clone(),
        V::Document(_) => "（图文报告，见附件）".into(),
        V::Link(_) => "（图文报告，见影像系统）".into(),
    };
    let flag = match o.abnormal {
        None | Some(F::Normal) => m::Flag::Normal,
        Some(F::Low | F::CriticalLow | F::BelowScale) => m::Flag::Low,
        Some(F::High | F::CriticalHigh | F::AboveScale) => m::Flag::High,
        Some(_) => m::Flag::Abnormal,
    };
    m::ResultRow {
        name: o.identifier.text.clone(),
        value,
        unit: o.units.clone(),
        flag,
        range: o.reference_range.clone(),
    }
}

/// The final results hospital systems sent for a visit's items, the
/// latest of each item (a correction replaces the first).
pub(crate) async fn received(st: &AppState, booking: i64) -> Result<Vec<Received>, ApiErr> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT id, item_code, order_no, payload FROM interface_inbound
          WHERE booking_id = $1 AND status IN ('final', 'corrected') ORDER BY received_at, id",
    )
    .bind(booking)
    .fetch_all(&st.db.read)
    .await
    .map_err(crate::db::DbError::from)?;
    let mut out: BTreeMap<String, Received> = BTreeMap::new();
    for r in &rows {
        let id: i64 = r.try_get("id").map_err(crate::db::DbError::from)?;
        let item: String = r.try_get("item_code").map_err(crate::db::DbError::from)?;
        let order: Option<String> = r.try_get("order_no").map_err(crate::db::DbError::from)?;
        let body = st
            .db
            .keys
            .open_string(
                &r.try_get::<String, _>("payload")
                    .map_err(crate::db::DbError::from)?,
                &crate::db::ad("interface_inbound", "payload", &[&id.to_string()]),
            )
            .map_err(crate::db::DbError::from)?;
        // Kept only after it parsed on arrival; one that does not now is
        // left off the report rather than failing it.
        let Ok(msg) = exam_hl7::Message::parse(&body, exam_hl7::Charset::Utf8) else {
            continue;
        };
        let Ok(result) = exam_hl7::ResultMessage::from_message(&msg, exam_hl7::Charset::Utf8)
        else {
            continue;
        };
        let Some(it) = result
            .items
            .iter()
            .find(|i| Some(&i.placer_order_number) == order.as_ref())
        else {
            continue;
        };
        out.insert(
            item.clone(),
            Received {
                item,
                rows: it.observations.iter().map(observation_row).collect(),
                documents: it.observations.iter().filter_map(document).collect(),
            },
        );
    }
    Ok(out.into_values().collect())
}

fn number(v: f64, decimals: u8) -> String {
    format!("{v:.*}", usize::from(decimals))
}

/// One field's row on the report.
fn row(k: &Knowledge, item: &str, field: &str, value: &Value, sex: Sex, age: u32) -> m::ResultRow {
    let template = k.template(item);
    let Some(f) = template.field(field) else {
        return m::ResultRow {
            name: field.to_string(),
            value: format!("{value:?}"),
            unit: String::new(),
            flag: m::Flag::Normal,
            range: String::new(),
        };
    };
    let flag = match judge(f, value, sex, age).unwrap_or(Flag::Normal) {
        Flag::Normal => m::Flag::Normal,
        Flag::High => m::Flag::High,
        Flag::Low => m::Flag::Low,
        Flag::Positive => m::Flag::Abnormal,
    };
    let (text, unit, range) = match (&f.kind, value) {
        (
            FieldKind::Numeric {
                unit,
                decimals,
                ranges,
                ..
            },
            Value::Number(v),
        ) => (
            number(*v, *decimals),
            unit.clone(),
            range_text(range_for(ranges, sex, age)),
        ),
        (FieldKind::Findings { normal, positives }, Value::Findings(codes)) => {
            let text = if codes.is_empty() {
                normal.clone()
            } else {
                codes
                    .iter()
                    .map(|c| {
                        positives
                            .iter()
                            .find(|p| &p.code == c)
                            .map_or(c.clone(), |p| p.text.clone())
                    })
                    .collect::<Vec<_>>()
                    .join("；")
            };
            (text, String::new(), String::new())
        }
        (_, Value::Text(t)) => (t.clone(), String::new(), String::new()),
        (_, v) => (format!("{v:?}"), String::new(), String::new()),
    };
    m::ResultRow {
        name: f.name.clone(),
        value: text,
        unit,
        flag,
        range,
    }
}

/// Whether the knowledge base has fields of its own for `item` (else it
/// records one finding).
fn has_template(k: &Knowledge, item: &str) -> bool {
    k.templates.iter().any(|t| t.item == item)
}

/// Laboratory departments: one table per item, with units and ranges.
fn is_lab(department: &str) -> bool {
    department == "lab"
}

/// The report's model (pure).
pub(crate) fn personal_model(k: &Knowledge, cat: &Catalogue, i: Input) -> m::Personal {
    let dept_name = |code: &str| {
        cat.department(code)
            .map_or(code.to_string(), |d| d.name.clone())
    };
    let item_name = |code: &str| cat.item(code).map_or(code.to_string(), |c| c.name.clone());
    let summary_of: BTreeMap<&str, &StoredSummary> = i
        .summaries
        .iter()
        .map(|s| (s.department.as_str(), s))
        .collect();
    // Departments in the catalogue's order; laboratory items each alone.
    let mut sections: Vec<m::Section> = Vec::new();
    let mut abnormal = Vec::new();
    for d in &cat.departments {
        let entries: Vec<&StoredEntry> = i
            .entries
            .iter()
            .filter(|e| e.department == d.code)
            .collect();
        if entries.is_empty() {
            continue;
        }
        let rows_of = |e: &StoredEntry| -> Vec<m::ResultRow> {
            e.values
                .iter()
                .map(|(f, v)| row(k, &e.item, f, v, i.sex, i.age))
                .collect()
        };
        let summary = summary_of.get(d.code.as_str());
        if is_lab(&d.code) {
            // Items with a template of their own (values, units, ranges):
            // a table each; the rest (one finding each, the knowledge base
            // has no fields for them yet): one table, a row per item.
            let mut others: Vec<m::ResultRow> = Vec::new();
            let mut others_by_hand = false;
            for e in entries {
                let mut rows = rows_of(e);
                let bad: Vec<String> = rows
                    .iter()
                    .filter(|r| r.flag.abnormal())
                    .map(|r| format!("{} {} {} {}", r.name, r.value, r.unit, r.flag.mark()))
                    .collect();
                abnormal.extend(bad.iter().cloned());
                if !has_template(k, &e.item) {
                    for r in &mut rows {
                        r.name = item_name(&e.item);
                    }
                    others.extend(rows);
                    others_by_hand |= e.source == crate::results::Source::Manual;
                    continue;
                }
                sections.push(m::Section {
                    name: item_name(&e.item),
                    lab: true,
                    summary: if bad.is_empty() {
                        "未见异常。".into()
                    } else {
                        format!("{}。", bad.join("；"))
                    },
                    rows,
                    doctor: e.entered_by.clone(),
                    by_hand: e.source == crate::results::Source::Manual,
                });
            }
            if !others.is_empty() {
                sections.push(m::Section {
                    name: "其他检验项目".into(),
                    lab: false,
                    summary: String::new(),
                    rows: others,
                    doctor: String::new(),
                    by_hand: others_by_hand,
                });
            }
            continue;
        }
        let mut rows = Vec::new();
        let mut numeric = false;
        for e in &entries {
            let own = has_template(k, &e.item);
            for mut r in rows_of(e) {
                if !own {
                    r.name = item_name(&e.item);
                }
                numeric |= !r.unit.is_empty();
                if r.flag.abnormal() {
                    abnormal.push(
                        format!("{}：{} {} {}", d.name, r.name, r.value, r.flag.mark())
                            .trim_end()
                            .to_string(),
                    );
                }
                rows.push(r);
            }
        }
        sections.push(m::Section {
            name: dept_name(&d.code),
            lab: numeric,
            rows,
            summary: summary.map(|s| s.text.clone()).unwrap_or_default(),
            doctor: summary.map_or_else(|| entries[0].entered_by.clone(), |s| s.written_by.clone()),
            by_hand: entries
                .iter()
                .any(|e| e.source == crate::results::Source::Manual),
        });
    }
    for r in &i.received {
        if i.entries.iter().any(|e| e.item == r.item) || r.rows.is_empty() {
            continue;
        }
        let bad: Vec<String> = r
            .rows
            .iter()
            .filter(|x| x.flag.abnormal())
            .map(|x| format!("{} {} {} {}", x.name, x.value, x.unit, x.flag.mark()))
            .collect();
        abnormal.extend(bad.iter().cloned());
        let numeric = r
            .rows
            .iter()
            .any(|x| !x.unit.is_empty() || !x.range.is_empty());
        sections.push(m::Section {
            name: item_name(&r.item),
            lab: numeric,
            summary: if bad.is_empty() {
                "未见异常。".into()
            } else {
                format!("{}。", bad.join("；"))
            },
            rows: r.rows.clone(),
            doctor: String::new(),
            by_hand: false,
        });
    }
    m::Personal {
        kind: i.kind,
        centre: i.centre,
        name: i.name,
        sex: if i.sex == Sex::Male { "男" } else { "女" }.into(),
        age: i.age,
        id_masked: i.id_masked,
        exam_no: i.exam_no,
        company: i.company,
        package: i.package,
        exam_date: i.exam_date.to_string(),
        major: i.major,
        abnormal,
        conclusions: i
            .conclusions
            .iter()
            .map(|c| m::Conclusion {
                name: c.name.clone(),
                advice: c.advice.clone(),
            })
            .collect(),
        trends: trends(k, &i.entries, &i.earlier, i.exam_date, i.sex, i.age),
        history: i.history,
        sections,
        occupational: None,
        fitness: None,
        chief: i.chief,
        reviewer: i.reviewer,
        signature: i.signature,
        review_date: i.review_date.to_string(),
    }
}

/// Key indicators across the years: numeric fields this visit has that
/// earlier years have too (at most six, the abnormal ones first).
fn trends(
    k: &Knowledge,
    entries: &[StoredEntry],
    earlier: &[Earlier],
    date: chrono::NaiveDate,
    sex: Sex,
    age: u32,
) -> Vec<m::Trend> {
    use chrono::Datelike;
    let mut out: Vec<(bool, m::Trend)> = Vec::new();
    for e in entries {
        let template = k.template(&e.item);
        for (field, value) in &e.values {
            let (Value::Number(now), Some(f)) = (value, template.field(field)) else {
                continue;
            };
            let FieldKind::Numeric { unit, ranges, .. } = &f.kind else {
                continue;
            };
            let mut points: BTreeMap<i32, f64> = earlier
                .iter()
                .filter(|x| x.item == e.item && &x.field == field)
                .filter_map(|x| match x.value {
                    Value::Number(v) => Some((x.year, v)),
                    _ => None,
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            points.insert(date.year(), *now);
            let range = range_for(ranges, sex, age);
            let bad = judge(f, value, sex, age).is_ok_and(|fl| fl.abnormal());
            out.push((
                bad,
                m::Trend {
                    name: f.name.clone(),
                    unit: unit.clone(),
                    points: points
                        .into_iter()
                        .map(|(y, v)| (y.to_string(), v))
                        .collect(),
                    range: range.and_then(|r| match (r.low, r.high) {
                        (Some(a), Some(b)) => Some((a, b)),
                        (None, Some(b)) => Some((0.0, b)),
                        _ => None,
                    }),
                },
            ));
        }
    }
    out.sort_by_key(|(bad, _)| !*bad);
    out.into_iter().take(6).map(|(_, t)| t).collect()
}

/// The report's exam kind from the package's name (职业 / 入职).
pub(crate) fn kind_of(package: &str) -> m::ExamKind {
    if package.contains("职业") {
        m::ExamKind::Occupational
    } else if package.contains("入职") {
        m::ExamKind::Entry
    } else {
        m::ExamKind::Health
    }
}

/// The centre as the report names it.
pub(crate) fn centre(st: &AppState) -> m::Centre {
    m::Centre {
        name: st.config.report.centre_name.clone(),
        contact: st.config.report.centre_contact.clone(),
    }
}
