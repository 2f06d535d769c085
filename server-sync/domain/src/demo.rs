//! Deterministic demo data: a day of bookings with realistic Chinese names
//! and valid ID numbers. The same seed always gives the same people, so the
//! demo's simulated ID cards match what the server seeded.

use chrono::{Duration, NaiveDate, NaiveTime};

use crate::{Booking, BookingState, IdNumber, Marital, Person};

/// The seed of the demo data: the server seeds bookings with it and the
/// demo kiosk's simulated ID cards are drawn from it.
pub const DEMO_SEED: u64 = 2026;

/// SplitMix64: tiny, deterministic, good enough for demo data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "欧阳",
    "诸葛",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建国", "志强", "晓东", "海燕", "春梅",
    "子涵", "浩然", "雨桐", "欣怡", "宇轩", "思远", "文博", "婷",
];
/// County codes around Yangzhou and Nanjing (Jiangsu).
const AREAS: &[&str] = &[
    "321002", "321003", "321012", "321023", "321081", "321084", "320102", "320104", "320106",
    "320111",
];
pub const PACKAGES: &[(&str, i64)] = &[
    ("入职体检基础套餐", 19_800),
    ("男性全面体检套餐", 128_000),
    ("女性全面体检套餐", 136_000),
    ("中老年体检套餐", 58_000),
    ("单位团检A套餐", 45_000),
];
const MOBILE_PREFIXES: &[&str] = &[
    "138", "139", "150", "151", "152", "158", "187", "188", "136", "159",
];

pub use crate::exam_no::nth_number_without_four;

#[derive(Debug, Clone)]
pub struct DemoDay {
    pub people: Vec<Person>,
    pub bookings: Vec<Booking>,
}

/// Generates `count` people, each with one booking on `day` (some with two),
/// slots spread between `first_slot` and `last_slot` in half-hour steps.
pub fn generate(
    seed: u64,
    count: usize,
    day: NaiveDate,
    first_slot: NaiveTime,
    last_slot: NaiveTime,
    campus: &str,
) -> DemoDay {
    let mut rng = Rng::new(seed ^ u64::from(day.to_string().len() as u32) ^ day_key(day) as u64);
    let mut people = Vec::with_capacity(count);
    let mut bookings = Vec::with_capacity(count + count / 10);
    let slots = {
        let mut v = Vec::new();
        let mut t = first_slot;
        while t <= last_slot {
            v.push(t);
            let next = t + Duration::minutes(30);
            if next < t {
                break; // wrapped past midnight
            }
            t = next;
        }
        if v.is_empty() {
            v.push(first_slot);
        }
        v
    };
    let mut seen = std::collections::HashSet::new();
    let mut serial = 0u64;
    while people.len() < count {
        let birth = NaiveDate::from_ymd_opt(1950, 1, 1).expect("1950-01-01 is a date")
            + Duration::days(rng.below(365 * 55) as i64);
        let id_number = IdNumber::compose(rng.pick::<&str>(AREAS), birth, rng.below(1000) as u16)
            .expect("valid parts");
        if !seen.insert(id_number.clone()) {
            continue;
        }
        let name = format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN));
        let mobile = format!("{}{:08}", rng.pick(MOBILE_PREFIXES), rng.below(100_000_000));
        let person = Person {
            sex: id_number.sex(),
            birth_date: birth,
            id_number,
            name,
            mobile,
        };
        let n_bookings = if rng.below(10) == 0 { 2 } else { 1 };
        for _ in 0..n_bookings {
            serial += 1;
            let (package, price) = *rng.pick(PACKAGES);
            let slot_start = *rng.pick(&slots);
            bookings.push(Booking {
                id: day_key(day) * 100_000 + serial as i64,
                code: format!("BK{}{:06}", day.format("%y%m%d"), serial),
                exam_no: format!(
                    "{:08}",
                    nth_number_without_four(day_key(day) as u64 % 10_000 * 10_000 + serial)
                ),
                id_number: person.id_number.clone(),
                campus: campus.to_string(),
                package: package.to_string(),
                exam_date: day,
                slot_start,
                slot_end: slot_start + Duration::minutes(30),
                amount_due_fen: if rng.below(10) < 6 { 0 } else { price },
                state: BookingState::Booked,
            });
        }
        people.push(person);
    }
    DemoDay { people, bookings }
}

/// The demo company the group desk opens on.
pub const DEMO_COMPANY: &str = "扬州示例科技有限公司";
const DEPARTMENTS: &[&str] = &["研发部", "财务部", "市场部", "人事部", "后勤部", "生产部"];

/// One employee of the demo company's roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoMember {
    pub person: Person,
    pub marital: Marital,
    pub department: &'static str,
    pub employee_no: String,
}

/// The demo company's roster: `count` employees born 1966–2003 (so the
/// age groups have members), married, unmarried and some unknown (who stay
/// ungrouped until someone says), in a handful of departments. The same
/// seed gives the same people.
pub fn company_roster(seed: u64, count: usize) -> Vec<DemoMember> {
    let mut rng = Rng::new(seed ^ 0x7EA4_C0DE);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(count);
    let first = NaiveDate::from_ymd_opt(1966, 1, 1).expect("valid date");
    while out.len() < count {
        let birth = first + Duration::days(rng.below(365 * 38) as i64);
        let id_number = IdNumber::compose(rng.pick::<&str>(AREAS), birth, rng.below(1000) as u16)
            .expect("valid parts");
        if !seen.insert(id_number.clone()) {
            continue;
        }
        let marital = match rng.below(10) {
            0..=5 => Marital::Married,
            6..=8 => Marital::Unmarried,
            _ => Marital::Unknown,
        };
        out.push(DemoMember {
            person: Person {
                sex: id_number.sex(),
                birth_date: birth,
                id_number,
                name: format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN)),
                mobile: format!("{}{:08}", rng.pick(MOBILE_PREFIXES), rng.below(100_000_000)),
            },
            marital,
            department: rng.pick::<&str>(DEPARTMENTS),
            employee_no: format!("E{:04}", out.len() + 1),
        });
    }
    out
}

fn day_key(day: NaiveDate) -> i64 {
    day.format("%Y%m%d").to_string().parse().expect("digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_four_in_exam_numbers() {
        for n in 0..20_000 {
            assert!(!nth_number_without_four(n).to_string().contains('4'));
        }
        assert_eq!(nth_number_without_four(4), 5);
        assert_eq!(nth_number_without_four(8), 9);
        assert_eq!(nth_number_without_four(9), 10);
        assert_eq!(nth_number_without_four(36), 50);
    }

    #[test]
    fn the_demo_company_has_a_varied_roster() {
        let a = company_roster(DEMO_SEED, 40);
        assert_eq!(a, company_roster(DEMO_SEED, 40));
        assert_eq!(a.len(), 40);
        let ids: std::collections::HashSet<_> = a.iter().map(|m| &m.person.id_number).collect();
        assert_eq!(ids.len(), 40);
        for m in &a {
            let id = IdNumber::parse(m.person.id_number.as_str()).unwrap();
            assert_eq!(
                (id.sex(), id.birth_date()),
                (m.person.sex, m.person.birth_date)
            );
        }
        let count = |f: &dyn Fn(&DemoMember) -> bool| a.iter().filter(|m| f(m)).count();
        assert!(count(&|m| m.person.sex == crate::Sex::Female) > 5);
        assert!(count(&|m| m.person.sex == crate::Sex::Male) > 5);
        assert!(count(&|m| m.marital == Marital::Unmarried) > 0);
        use chrono::Datelike;
        assert!(
            count(&|m| m.person.birth_date.year() < 1976) > 0,
            "some over 50"
        );
    }

    #[test]
    fn demo_is_deterministic_and_valid() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let (a, b) = (
            NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
            NaiveTime::from_hms_opt(11, 0, 0).unwrap(),
        );
        let d1 = generate(7, 300, day, a, b, "main");
        let d2 = generate(7, 300, day, a, b, "main");
        assert_eq!(d1.people, d2.people);
        assert_eq!(d1.people.len(), 300);
        assert!(d1.bookings.len() > 300);
        for p in &d1.people {
            IdNumber::parse(p.id_number.as_str()).unwrap();
            assert_eq!(p.mobile.len(), 11);
        }
        let codes: std::collections::HashSet<_> = d1.bookings.iter().map(|b| &b.exam_no).collect();
        assert_eq!(codes.len(), d1.bookings.len());
    }
}
