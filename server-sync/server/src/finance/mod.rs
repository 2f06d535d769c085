//! 财务收入独立核算 · 总院集中管控 (E14): one ledger for every campus, each
//! line under the campus of its visit, and the day's figures per campus
//! beside the group's total.
//!
//! - **The ledger** (`ledger`, migration 0027): a line for every sum of
//!   money taken (the desk's 收费, a payment platform order marked paid)
//!   or given back (a refund of a paid item), written in the same
//!   transaction as the change it accounts for, so a charge without its
//!   line (or the reverse) cannot be committed. Lines are never changed.
//! - **The day's figures** ([`day_figures`], pure): visits booked,
//!   arrived and cancelled, charges and refunds by method, what arrived
//!   visits still owe, per campus and for the group; on `/figures` for
//!   finance and the administrator, as JSON and as a CSV for Excel.

pub(crate) mod page;
pub mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Money in or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    Charge,
    Refund,
}

impl Entry {
    pub fn as_str(self) -> &'static str {
        match self {
            Entry::Charge => "charge",
            Entry::Refund => "refund",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Entry::Charge, Entry::Refund]
            .into_iter()
            .find(|e| e.as_str() == s)
    }
}

/// How money was taken or given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// At the desk: cash, a bank card, or WeChat / Alipay on the desk's
    /// own terminal.
    Cash,
    Card,
    Wechat,
    Alipay,
    /// The unified payment platform (a kiosk's QR, the desk's QR).
    Platform,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Cash,
        Method::Card,
        Method::Wechat,
        Method::Alipay,
        Method::Platform,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Cash => "cash",
            Method::Card => "card",
            Method::Wechat => "wechat",
            Method::Alipay => "alipay",
            Method::Platform => "platform",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Method::Cash => "现金",
            Method::Card => "银行卡",
            Method::Wechat => "微信(收费处)",
            Method::Alipay => "支付宝(收费处)",
            Method::Platform => "统一支付平台",
        }
    }
}

/// The ledger's lines of a day, summed by campus, entry and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerSum {
    pub campus: String,
    pub entry: Entry,
    pub method: Method,
    pub lines: i64,
    pub fen: i64,
}

/// Visits of a day at a campus in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VisitState {
    /// Booked and not (yet) here.
    Booked,
    /// Registered at the desk or checked in at a kiosk.
    Arrived,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitCount {
    pub campus: String,
    pub state: VisitState,
    /// A company's (团检) visits among them.
    pub group: bool,
    pub visits: i64,
}

/// By method, in fen (every method listed, 0 when none).
pub type ByMethod = BTreeMap<Method, i64>;

/// A campus's day, or the group's (the sum of every campus).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CampusDay {
    pub campus: String,
    pub name: String,
    pub booked: i64,
    pub arrived: i64,
    pub cancelled: i64,
    /// Company visits among booked, arrived and cancelled.
    pub group_visits: i64,
    pub charges: i64,
    pub charged_fen: ByMethod,
    pub refunds: i64,
    pub refunded_fen: ByMethod,
    /// Charged less refunded: the campus's takings of the day.
    pub net_fen: i64,
    /// Active items of arrived visits not paid yet (pay later, a company's
    /// bill, or not yet at the cashier).
    pub outstanding_fen: i64,
}

impl CampusDay {
    fn new(campus: &str, name: &str) -> Self {
        let zero: ByMethod = Method::ALL.into_iter().map(|m| (m, 0)).collect();
        Self {
            campus: campus.to_string(),
            name: name.to_string(),
            charged_fen: zero.clone(),
            refunded_fen: zero,
            ..Self::default()
        }
    }

    fn add(&mut self, o: &CampusDay) {
        self.booked += o.booked;
        self.arrived += o.arrived;
        self.cancelled += o.cancelled;
        self.group_visits += o.group_visits;
        self.charges += o.charges;
        self.refunds += o.refunds;
        for (m, f) in &o.charged_fen {
            *self.charged_fen.entry(*m).or_default() += f;
        }
        for (m, f) in &o.refunded_fen {
            *self.refunded_fen.entry(*m).or_default() += f;
        }
        self.net_fen += o.net_fen;
        self.outstanding_fen += o.outstanding_fen;
    }
}

/// The figures of a day, or of the days `day..=last_day`: each campus
/// apart, then the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayFigures {
    pub day: chrono::NaiveDate,
    pub last_day: chrono::NaiveDate,
    pub campuses: Vec<CampusDay>,
    pub total: CampusDay,
}

impl DayFigures {
    /// "2026-12-06", or "2026-12-01~2026-12-07" for several days.
    pub fn period(&self) -> String {
        if self.day == self.last_day {
            self.day.to_string()
        } else {
            format!("{}~{}", self.day, self.last_day)
        }
    }
}

/// Builds the figures of the days `day..=last_day` from the store's sums.
/// `campuses`: (code, name) in the catalogue's order; a campus the
/// catalogue no longer names but the rows do is listed after them by its
/// code, so no money goes missing from the total.
pub fn day_figures(
    (day, last_day): (chrono::NaiveDate, chrono::NaiveDate),
    campuses: &[(String, String)],
    ledger: &[LedgerSum],
    visits: &[VisitCount],
    outstanding: &[(String, i64)],
) -> DayFigures {
    let mut by: Vec<CampusDay> = campuses.iter().map(|(c, n)| CampusDay::new(c, n)).collect();
    fn at<'a>(by: &'a mut Vec<CampusDay>, campus: &str) -> &'a mut CampusDay {
        match by.iter().position(|d| d.campus == campus) {
            Some(i) => &mut by[i],
            None => {
                by.push(CampusDay::new(campus, campus));
                by.last_mut().expect("just pushed")
            }
        }
    }
    for l in ledger {
        let d = at(&mut by, &l.campus);
        match l.entry {
            Entry::Charge => {
                d.charges += l.lines;
                *d.charged_fen.entry(l.method).or_default() += l.fen;
                d.net_fen += l.fen;
            }
            Entry::Refund => {
                d.refunds += l.lines;
                *d.refunded_fen.entry(l.method).or_default() += l.fen;
                d.net_fen -= l.fen;
            }
        }
    }
    for v in visits {
        let d = at(&mut by, &v.campus);
        match v.state {
            VisitState::Booked => d.booked += v.visits,
            VisitState::Arrived => d.arrived += v.visits,
            VisitState::Cancelled => d.cancelled += v.visits,
        }
        if v.group {
            d.group_visits += v.visits;
        }
    }
    for (campus, fen) in outstanding {
        at(&mut by, campus).outstanding_fen += fen;
    }
    let mut total = CampusDay::new("", "合计");
    for d in &by {
        total.add(d);
    }
    DayFigures {
        day,
        last_day,
        campuses: by,
        total,
    }
}

/// Fen as yuan with two decimals ("-0.50").
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// The figures as CSV for Excel (UTF-8 with its byte-order mark, so
/// Excel reads the Chinese headings), amounts in yuan.
pub fn to_csv(f: &DayFigures) -> String {
    let mut out = String::from("\u{feff}日期,院区,预约未到,已到检,已取消,其中团检,收费笔数");
    for m in Method::ALL {
        out.push_str(&format!(",收费-{}", m.label_zh()));
    }
    out.push_str(",退费笔数");
    for m in Method::ALL {
        out.push_str(&format!(",退费-{}", m.label_zh()));
    }
    out.push_str(",净收入,到检未收\r\n");
    for d in f.campuses.iter().chain([&f.total]) {
        // A campus name is the catalogue's; a quote in it is doubled.
        let name = d.name.replace('"', "\"\"");
        out.push_str(&format!(
            "{},\"{name}\",{},{},{},{},{}",
            f.period(),
            d.booked,
            d.arrived,
            d.cancelled,
            d.group_visits,
            d.charges
        ));
        for m in Method::ALL {
            out.push_str(&format!(",{}", yuan(d.charged_fen[&m])));
        }
        out.push_str(&format!(",{}", d.refunds));
        for m in Method::ALL {
            out.push_str(&format!(",{}", yuan(d.refunded_fen[&m])));
        }
        out.push_str(&format!(
            ",{},{}\r\n",
            yuan(d.net_fen),
            yuan(d.outstanding_fen)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn sum(campus: &str, entry: Entry, method: Method, lines: i64, fen: i64) -> LedgerSum {
        LedgerSum {
            campus: campus.into(),
            entry,
            method,
            lines,
            fen,
        }
    }

    fn visits(campus: &str, state: VisitState, group: bool, n: i64) -> VisitCount {
        VisitCount {
            campus: campus.into(),
            state,
            group,
            visits: n,
        }
    }

    #[test]
    fn several_days_are_one_period() {
        let (a, b) = (
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
        );
        let campuses = [("main".to_string(), "总院".to_string())];
        let week = day_figures((a, b), &campuses, &[], &[], &[]);
        assert_eq!(week.period(), "2026-12-01~2026-12-07");
        assert!(to_csv(&week).contains("\r\n2026-12-01~2026-12-07,\"总院\","));
        assert_eq!(
            day_figures((b, b), &campuses, &[], &[], &[]).period(),
            "2026-12-07"
        );
    }

    #[test]
    fn each_campus_apart_and_the_group_the_sum() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let campuses = vec![
            ("main".to_string(), "总院".to_string()),
            ("east".to_string(), "东院".to_string()),
        ];
        let f = day_figures(
            (day, day),
            &campuses,
            &[
                sum("main", Entry::Charge, Method::Cash, 2, 30_000),
                sum("main", Entry::Charge, Method::Platform, 1, 50_000),
                sum("main", Entry::Refund, Method::Platform, 1, 8_000),
                sum("east", Entry::Charge, Method::Card, 3, 12_345),
                // A campus since removed from the catalogue keeps its money.
                sum("old", Entry::Charge, Method::Cash, 1, 100),
            ],
            &[
                visits("main", VisitState::Arrived, false, 10),
                visits("main", VisitState::Arrived, true, 5),
                visits("main", VisitState::Booked, false, 7),
                visits("east", VisitState::Cancelled, false, 2),
            ],
            &[("main".into(), 4_200)],
        );
        let main = &f.campuses[0];
        assert_eq!((main.campus.as_str(), main.name.as_str()), ("main", "总院"));
        assert_eq!((main.booked, main.arrived, main.cancelled), (7, 15, 0));
        assert_eq!(main.group_visits, 5);
        assert_eq!((main.charges, main.refunds), (3, 1));
        assert_eq!(main.charged_fen[&Method::Cash], 30_000);
        assert_eq!(main.charged_fen[&Method::Platform], 50_000);
        assert_eq!(main.refunded_fen[&Method::Platform], 8_000);
        assert_eq!(main.net_fen, 72_000);
        assert_eq!(main.outstanding_fen, 4_200);
        let east = &f.campuses[1];
        assert_eq!((east.net_fen, east.cancelled, east.charges), (12_345, 2, 3));
        assert_eq!(east.charged_fen[&Method::Cash], 0, "every method listed");
        assert_eq!(f.campuses[2].campus, "old");
        assert_eq!(f.total.net_fen, 72_000 + 12_345 + 100);
        assert_eq!(f.total.charged_fen[&Method::Cash], 30_100);
        assert_eq!(
            (f.total.arrived, f.total.booked, f.total.cancelled),
            (15, 7, 2)
        );
        assert_eq!(f.total.outstanding_fen, 4_200);
    }

    #[test]
    fn the_csv_has_a_row_per_campus_and_the_total_in_yuan() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let f = day_figures(
            (day, day),
            &[("main".into(), "总院 \"A\"".into())],
            &[
                sum("main", Entry::Charge, Method::Wechat, 1, 12_305),
                sum("main", Entry::Refund, Method::Cash, 1, 20_000),
            ],
            &[],
            &[],
        );
        let csv = to_csv(&f);
        let rows: Vec<&str> = csv.trim_end().split("\r\n").collect();
        assert!(rows[0].starts_with("\u{feff}日期,院区"));
        assert_eq!(rows.len(), 3);
        let cells: Vec<&str> = rows[1].split(',').collect();
        assert_eq!(cells[1], "\"总院 \"\"A\"\"\"");
        assert!(rows[1].contains(",123.05,"), "{}", rows[1]);
        // Charged 123.05, refunded 200.00: the day's net is negative.
        assert!(rows[1].ends_with(",-76.95,0.00"), "{}", rows[1]);
        assert!(rows[2].contains("合计"));
        let f = day_figures(
            (day, day),
            &[("main".into(), "总院".into())],
            &[sum("main", Entry::Refund, Method::Cash, 1, 50)],
            &[],
            &[],
        );
        assert!(to_csv(&f).contains(",-0.50,"), "a sign below one yuan");
    }

    #[test]
    fn names_round_trip() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        for e in [Entry::Charge, Entry::Refund] {
            assert_eq!(Entry::parse(e.as_str()), Some(e));
        }
        assert_eq!(Method::parse("bitcoin"), None);
    }
}
