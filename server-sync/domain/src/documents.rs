//! E1 / K9: what a registration prints — guide sheet, lab barcode labels,
//! fee list — as plain data, so the kiosk and the front desk print the same
//! thing. Rendering (ESC/POS, TSPL, HTML) is the printer's business.
//!
//! Guide-sheet order (Q5): fasting stations first so people can eat early,
//! then by floor and room so nobody walks back and forth.

use serde::{Deserialize, Serialize};

use crate::catalogue::{Catalogue, SampleType};

/// One item of a registration as the documents need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocItem {
    pub code: String,
    pub price_fen: i64,
    pub paid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    pub room: String,
    pub room_name: String,
    pub floor: i32,
    pub fasting: bool,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideSheet {
    pub exam_no: String,
    pub stations: Vec<Station>,
    /// The first station the queue gives the person, when the service was
    /// asked just now (a kiosk's online lookup, Q1): live, unlike the
    /// planned order of `stations`. None offline: the sheet sends them to
    /// the guide desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<FirstStation>,
    /// The person's phone page (Q6), a signed expiring link the sheet
    /// prints as its QR code; None when the centre has no public address
    /// configured or the service was not asked (the QR then carries the
    /// booking code, which the guide desk scans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Where the queue sends a person first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstStation {
    pub room: String,
    pub room_name: String,
    pub floor: i32,
}

impl FirstStation {
    /// "2楼 采血室", "负1楼 DR摄片室".
    pub fn label(&self) -> String {
        if self.floor < 0 {
            format!("负{}楼 {}", -self.floor, self.room_name)
        } else {
            format!("{}楼 {}", self.floor, self.room_name)
        }
    }
}

/// One tube, one label: the barcode is the exam number and the tube's
/// two-digit sample suffix, so the lab scans a tube straight to its person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabLabel {
    pub barcode: String,
    pub sample: SampleType,
    pub sample_name: String,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    pub name: String,
    pub price_fen: i64,
    pub paid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeList {
    pub lines: Vec<FeeLine>,
    pub total_fen: i64,
    pub due_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Documents {
    pub guide: GuideSheet,
    pub labels: Vec<LabLabel>,
    pub fee_list: FeeList,
}

fn sample_suffix(s: SampleType) -> u8 {
    match s {
        SampleType::Serum => 1,
        SampleType::WholeBlood => 2,
        SampleType::Plasma => 3,
        SampleType::Urine => 5,
        SampleType::Stool => 6,
        SampleType::Cervical => 7,
        SampleType::Breath => 8,
    }
}

/// The barcode of a tube of `sample` for visit `exam_no`, as its label
/// prints it (what the laboratory's system files the specimen under).
pub fn label_barcode(exam_no: &str, sample: SampleType) -> String {
    format!("{exam_no}{:02}", sample_suffix(sample))
}

/// The documents of one registration at `campus`. Items the catalogue does
/// not know (retired since) still appear on the fee list by code.
pub fn documents(cat: &Catalogue, campus: &str, exam_no: &str, items: &[DocItem]) -> Documents {
    let mut stations: Vec<Station> = Vec::new();
    let mut labels: Vec<LabLabel> = Vec::new();
    let mut lines = Vec::new();
    for di in items {
        let item = cat.item(&di.code);
        let name = item.map_or(di.code.clone(), |i| i.name.clone());
        lines.push(FeeLine {
            name: name.clone(),
            price_fen: di.price_fen,
            paid: di.paid,
        });
        let Some(item) = item else { continue };
        if let Some(sample) = item.sample {
            match labels.iter_mut().find(|l| l.sample == sample) {
                Some(l) => l.items.push(name.clone()),
                None => labels.push(LabLabel {
                    barcode: label_barcode(exam_no, sample),
                    sample,
                    sample_name: sample.label_zh().into(),
                    items: vec![name.clone()],
                }),
            }
        }
        let (room_name, floor) = cat
            .room(campus, &item.room)
            .map_or((item.room.clone(), 1), |r| (r.name.clone(), r.floor));
        match stations.iter_mut().find(|s| s.room == item.room) {
            Some(s) => {
                s.fasting |= item.fasting;
                s.items.push(name);
            }
            None => stations.push(Station {
                room: item.room.clone(),
                room_name,
                floor,
                fasting: item.fasting,
                items: vec![name],
            }),
        }
    }
    stations.sort_by(|a, b| {
        b.fasting
            .cmp(&a.fasting)
            .then(a.floor.cmp(&b.floor))
            .then(a.room.cmp(&b.room))
    });
    labels.sort_by_key(|l| l.sample);
    let total_fen = lines.iter().map(|l| l.price_fen).sum();
    let due_fen = lines.iter().filter(|l| !l.paid).map(|l| l.price_fen).sum();
    Documents {
        guide: GuideSheet {
            exam_no: exam_no.into(),
            stations,
            first: None,
            phone: None,
        },
        labels,
        fee_list: FeeList {
            lines,
            total_fen,
            due_fen,
        },
    }
}

/// The number of pages of a PDF, counted from its page objects; None when
/// it cannot be told (pages inside compressed object streams).
pub fn pdf_pages(pdf: &[u8]) -> Option<i32> {
    let mut n = 0;
    let needle = b"/Type";
    let mut i = 0;
    while let Some(at) = pdf[i..].windows(needle.len()).position(|w| w == needle) {
        let rest = &pdf[i + at + needle.len()..];
        let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
        if rest.starts_with(b"/Page") && !rest.starts_with(b"/Pages") {
            n += 1;
        }
        i += at + needle.len();
    }
    if n == 0 || pdf.windows(7).any(|w| w == b"/ObjStm") {
        return None;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{ExamItem, MaritalRule, Room, SexRule};

    fn item(code: &str, room: &str, fasting: bool, sample: Option<SampleType>) -> ExamItem {
        ExamItem {
            code: code.into(),
            name: code.into(),
            department: "d".into(),
            room: room.into(),
            sex: SexRule::Both,
            marital: MaritalRule::Any,
            fasting,
            price_fen: 1000,
            sample,
            conflicts: vec![],
        }
    }

    fn room(code: &str, floor: i32) -> Room {
        Room {
            code: code.into(),
            campus: "main".into(),
            name: format!("{code}室"),
            floor,
            department: "d".into(),
        }
    }

    #[test]
    fn fasting_first_then_by_floor_one_label_per_tube() {
        let cat = Catalogue {
            rooms: vec![
                room("blood", 1),
                room("us", 2),
                room("ecg", 1),
                room("eye", 3),
            ],
            items: vec![
                item("EYE", "eye", false, None),
                item("ECG", "ecg", false, None),
                item("GLU", "blood", true, Some(SampleType::Serum)),
                item("CBC", "blood", false, Some(SampleType::WholeBlood)),
                item("LIPID", "blood", true, Some(SampleType::Serum)),
                item("ABD", "us", true, None),
                item("URINE", "toilet", false, Some(SampleType::Urine)),
            ],
            ..Catalogue::default()
        };
        let items: Vec<DocItem> = ["EYE", "ECG", "GLU", "CBC", "LIPID", "ABD", "URINE", "OLD"]
            .iter()
            .enumerate()
            .map(|(i, c)| DocItem {
                code: c.to_string(),
                price_fen: 1000,
                paid: i % 2 == 0,
            })
            .collect();
        let d = documents(&cat, "main", "123", &items);
        let order: Vec<&str> = d.guide.stations.iter().map(|s| s.room.as_str()).collect();
        assert_eq!(order, ["blood", "us", "ecg", "toilet", "eye"]);
        assert_eq!(d.guide.stations[0].items, ["GLU", "CBC", "LIPID"]);
        let labels: Vec<(&str, usize)> = d
            .labels
            .iter()
            .map(|l| (l.barcode.as_str(), l.items.len()))
            .collect();
        assert_eq!(labels, [("12301", 2), ("12302", 1), ("12305", 1)]);
        assert_eq!(d.fee_list.lines.len(), 8, "unknown items still billed");
        assert_eq!(d.fee_list.total_fen, 8000);
        assert_eq!(d.fee_list.due_fen, 4000);
    }
}
