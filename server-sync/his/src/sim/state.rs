//! The simulated HIS's books, pure: every operation takes `now` and returns
//! HIS's answer or its refusal. Requests that change the books are keyed by
//! their idempotency key: the same key with the same request returns the
//! first answer and books nothing; the same key with another request is
//! refused (`KeyReused`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::FaultCode;
use crate::model::{
    ChargeLine, ChargeLookup, ChargeReceipt, ChargeRequest, ChargeState, Demographics,
    IdempotencyKey, PatientRecord, PriceChange, PriceItem, PriceList, RefundReceipt, RefundRequest,
    Registration, RegistrationRequest, price_diff,
};
use crate::soap::{SoapRequest, SoapResponse};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: FaultCode,
    pub message: String,
}

fn refuse<T>(code: FaultCode, message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        code,
        message: message.into(),
    })
}

/// One booking HIS made, in order: what the tests count to prove nothing
/// was booked twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Booking {
    Patient {
        patient_id: String,
    },
    Registration {
        key: String,
        registration_id: String,
    },
    Charge {
        key: String,
        charge_id: String,
        total_fen: i64,
    },
    Refund {
        key: String,
        refund_id: String,
        amount_fen: i64,
    },
}

#[derive(Debug)]
struct Charge {
    request: ChargeRequest,
    receipt: ChargeReceipt,
    refunded: BTreeSet<String>,
}

#[derive(Debug)]
pub struct HisState {
    patients: HashMap<String, (String, Demographics)>,
    patient_ids: BTreeSet<String>,
    registrations: HashMap<IdempotencyKey, (RegistrationRequest, Registration)>,
    registration_patient: HashMap<String, String>,
    charges: BTreeMap<IdempotencyKey, Charge>,
    refunds: HashMap<IdempotencyKey, (RefundRequest, RefundReceipt)>,
    prices: PriceList,
    change_log: Vec<PriceChange>,
    bookings: Vec<Booking>,
    serial: u64,
}

impl HisState {
    /// HIS with price list version 1 of `items`.
    pub fn new(items: Vec<PriceItem>, now: DateTime<Utc>) -> Self {
        Self {
            patients: HashMap::new(),
            patient_ids: BTreeSet::new(),
            registrations: HashMap::new(),
            registration_patient: HashMap::new(),
            charges: BTreeMap::new(),
            refunds: HashMap::new(),
            prices: PriceList {
                version: 1,
                effective_at: now,
                items,
            },
            change_log: Vec::new(),
            bookings: Vec::new(),
            serial: 0,
        }
    }

    /// The seeded catalogue's items at their prices: the simulator's v1.
    pub fn seeded(now: DateTime<Utc>) -> Self {
        let items = exam_domain::catalogue::seed::catalogue()
            .items
            .into_iter()
            .map(|i| PriceItem {
                code: i.code,
                name: i.name,
                unit_price_fen: i.price_fen,
            })
            .collect();
        Self::new(items, now)
    }

    fn next(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!("{prefix}{:08}", self.serial)
    }

    pub fn bookings(&self) -> &[Booking] {
        &self.bookings
    }

    /// Applies one operation: the simulator's single entry for both styles.
    pub fn apply(
        &mut self,
        req: &SoapRequest,
        now: DateTime<Utc>,
    ) -> Result<SoapResponse, Refusal> {
        Ok(match req {
            SoapRequest::CreatePatient(d) => SoapResponse::CreatePatient(self.create_patient(d)?),
            SoapRequest::RegisterVisit(r) => SoapResponse::RegisterVisit(self.register(r, now)?),
            SoapRequest::PostCharge(c) => SoapResponse::PostCharge(self.charge(c, now)?),
            SoapRequest::QueryCharge(k) => SoapResponse::QueryCharge(self.query_charge(k)),
            SoapRequest::RefundCharge(r) => SoapResponse::RefundCharge(self.refund(r, now)?),
            SoapRequest::GetPriceList => SoapResponse::GetPriceList(self.prices.clone()),
            SoapRequest::GetPriceChanges { since_version } => {
                SoapResponse::GetPriceChanges(self.price_changes(*since_version))
            }
        })
    }

    pub fn create_patient(&mut self, d: &Demographics) -> Result<PatientRecord, Refusal> {
        let id = exam_domain::id_number::IdNumber::parse(&d.id_number).map_err(|_| Refusal {
            code: FaultCode::InvalidRequest,
            message: "not a valid resident ID number".into(),
        })?;
        if d.name.trim().is_empty() {
            return refuse(FaultCode::InvalidRequest, "name is empty");
        }
        if let Some((patient_id, on_file)) = self.patients.get(id.as_str()) {
            // HIS's identity check: the same person, or a mistake one side
            // must correct by hand (never silently merged).
            if on_file.name != d.name || on_file.sex != d.sex || on_file.birth_date != d.birth_date
            {
                return refuse(
                    FaultCode::DemographicsMismatch,
                    "the ID number is on file with other name, sex or birth date",
                );
            }
            return Ok(PatientRecord {
                patient_id: patient_id.clone(),
                created: false,
            });
        }
        let patient_id = self.next("P");
        self.patients
            .insert(id.as_str().to_owned(), (patient_id.clone(), d.clone()));
        self.patient_ids.insert(patient_id.clone());
        self.bookings.push(Booking::Patient {
            patient_id: patient_id.clone(),
        });
        Ok(PatientRecord {
            patient_id,
            created: true,
        })
    }

    /// Fault injection: HIS holds this ID number under a misspelt name (as
    /// when a clerk once typed it by hand), so the identity check fails.
    pub fn plant_wrong_demographics(&mut self, d: &Demographics) {
        let Ok(id) = exam_domain::id_number::IdNumber::parse(&d.id_number) else {
            return;
        };
        if self.patients.contains_key(id.as_str()) {
            return;
        }
        let mut wrong = d.clone();
        wrong.name.push('某');
        let patient_id = self.next("P");
        self.patient_ids.insert(patient_id.clone());
        self.patients
            .insert(id.as_str().to_owned(), (patient_id, wrong));
    }

    pub fn register(
        &mut self,
        r: &RegistrationRequest,
        now: DateTime<Utc>,
    ) -> Result<Registration, Refusal> {
        if let Some((first, answer)) = self.registrations.get(&r.idempotency_key) {
            return if first == r {
                Ok(answer.clone())
            } else {
                refuse(
                    FaultCode::KeyReused,
                    "the key was used for another registration",
                )
            };
        }
        if !self.patient_ids.contains(&r.patient_id) {
            return refuse(FaultCode::UnknownPatient, "no such patient id");
        }
        let registration_id = self.next("R");
        let answer = Registration {
            registration_id: registration_id.clone(),
            patient_id: r.patient_id.clone(),
            exam_no: r.exam_no.clone(),
            registered_at: now,
        };
        self.registration_patient
            .insert(registration_id.clone(), r.patient_id.clone());
        self.registrations
            .insert(r.idempotency_key.clone(), (r.clone(), answer.clone()));
        self.bookings.push(Booking::Registration {
            key: r.idempotency_key.to_string(),
            registration_id,
        });
        Ok(answer)
    }

    fn price_of(&self, code: &str) -> Option<i64> {
        self.prices
            .items
            .iter()
            .find(|i| i.code == code)
            .map(|i| i.unit_price_fen)
    }

    pub fn charge(
        &mut self,
        c: &ChargeRequest,
        now: DateTime<Utc>,
    ) -> Result<ChargeReceipt, Refusal> {
        if let Some(first) = self.charges.get(&c.idempotency_key) {
            return if &first.request == c {
                Ok(first.receipt.clone())
            } else {
                refuse(FaultCode::KeyReused, "the key was used for another charge")
            };
        }
        match self.registration_patient.get(&c.registration_id) {
            None => return refuse(FaultCode::UnknownRegistration, "no such registration"),
            Some(p) if p != &c.patient_id => {
                return refuse(
                    FaultCode::UnknownRegistration,
                    "registration of another patient",
                );
            }
            Some(_) => {}
        }
        if c.lines.is_empty() || c.lines.iter().any(|l| l.quantity == 0) {
            return refuse(
                FaultCode::InvalidRequest,
                "a charge needs lines of quantity 1 or more",
            );
        }
        if let Some(l) = c.lines.iter().find(|l| {
            l.discount_fen < 0
                || l.discount_fen > l.unit_price_fen.saturating_mul(i64::from(l.quantity))
        }) {
            return refuse(
                FaultCode::InvalidRequest,
                format!(
                    "{}: a discount of {} fen is not within the line's price",
                    l.item_code, l.discount_fen
                ),
            );
        }
        for ChargeLine {
            item_code,
            unit_price_fen,
            ..
        } in &c.lines
        {
            match self.price_of(item_code) {
                None => return refuse(FaultCode::UnknownItem, format!("no item {item_code}")),
                Some(p) if p != *unit_price_fen => {
                    return refuse(
                        FaultCode::PriceMismatch,
                        format!(
                            "{item_code}: HIS price {p} fen (version {}), charged {unit_price_fen}",
                            self.prices.version
                        ),
                    );
                }
                Some(_) => {}
            }
        }
        let charge_id = self.next("C");
        let receipt = ChargeReceipt {
            charge_id: charge_id.clone(),
            idempotency_key: c.idempotency_key.clone(),
            state: ChargeState::Booked,
            total_fen: c.total_fen(),
            refunded_fen: 0,
            price_list_version: self.prices.version,
            booked_at: now,
            lines: c.lines.clone(),
        };
        self.bookings.push(Booking::Charge {
            key: c.idempotency_key.to_string(),
            charge_id,
            total_fen: receipt.total_fen,
        });
        self.charges.insert(
            c.idempotency_key.clone(),
            Charge {
                request: c.clone(),
                receipt: receipt.clone(),
                refunded: BTreeSet::new(),
            },
        );
        Ok(receipt)
    }

    pub fn query_charge(&self, key: &IdempotencyKey) -> ChargeLookup {
        match self.charges.get(key) {
            Some(c) => ChargeLookup::Found(c.receipt.clone()),
            None => ChargeLookup::NotFound,
        }
    }

    pub fn refund(
        &mut self,
        r: &RefundRequest,
        now: DateTime<Utc>,
    ) -> Result<RefundReceipt, Refusal> {
        if let Some((first, answer)) = self.refunds.get(&r.idempotency_key) {
            return if first == r {
                Ok(answer.clone())
            } else {
                refuse(FaultCode::KeyReused, "the key was used for another refund")
            };
        }
        let Some(charge) = self.charges.get(&r.charge_key) else {
            return refuse(FaultCode::UnknownCharge, "no charge under that key");
        };
        let codes: BTreeSet<&str> = r.item_codes.iter().map(String::as_str).collect();
        if codes.is_empty() {
            return refuse(
                FaultCode::InvalidRequest,
                "a refund names at least one item",
            );
        }
        for code in &codes {
            if !charge.request.lines.iter().any(|l| l.item_code == *code) {
                return refuse(
                    FaultCode::UnknownItem,
                    format!("{code} is not in the charge"),
                );
            }
            if charge.refunded.contains(*code) {
                return refuse(
                    FaultCode::AlreadyRefunded,
                    format!("{code} was refunded before"),
                );
            }
        }
        let amount_fen: i64 = charge
            .request
            .lines
            .iter()
            .filter(|l| codes.contains(l.item_code.as_str()))
            .map(ChargeLine::amount_fen)
            .sum();
        let refund_id = self.next("F");
        let Some(charge) = self.charges.get_mut(&r.charge_key) else {
            return refuse(FaultCode::UnknownCharge, "no charge under that key");
        };
        charge
            .refunded
            .extend(codes.iter().map(|c| (*c).to_owned()));
        charge.receipt.refunded_fen += amount_fen;
        let all = charge
            .request
            .lines
            .iter()
            .all(|l| charge.refunded.contains(&l.item_code));
        charge.receipt.state = if all {
            ChargeState::Refunded
        } else {
            ChargeState::PartlyRefunded
        };
        let answer = RefundReceipt {
            refund_id: refund_id.clone(),
            charge_id: charge.receipt.charge_id.clone(),
            amount_fen,
            charge_state: charge.receipt.state,
            refunded_at: now,
        };
        self.refunds
            .insert(r.idempotency_key.clone(), (r.clone(), answer.clone()));
        self.bookings.push(Booking::Refund {
            key: r.idempotency_key.to_string(),
            refund_id,
            amount_fen,
        });
        Ok(answer)
    }

    pub fn price_list(&self) -> &PriceList {
        &self.prices
    }

    pub fn price_changes(&self, since_version: u64) -> Vec<PriceChange> {
        self.change_log
            .iter()
            .filter(|c| c.version > since_version)
            .cloned()
            .collect()
    }

    /// Publishes a new price list version; its differences join the log.
    pub fn publish_prices(&mut self, items: Vec<PriceItem>, now: DateTime<Utc>) {
        let next = PriceList {
            version: self.prices.version + 1,
            effective_at: now,
            items,
        };
        self.change_log.extend(price_diff(&self.prices, &next));
        self.prices = next;
    }

    /// The simulator's scheduled price change: three prices up by a tenth
    /// (to whole jiao) and one new item.
    pub fn scheduled_change(&mut self, now: DateTime<Utc>) {
        let mut items = self.prices.items.clone();
        for item in items.iter_mut().take(3) {
            item.unit_price_fen = (item.unit_price_fen * 11 / 10 + 9) / 10 * 10;
        }
        items.push(PriceItem {
            code: "HIS9001".into(),
            name: "幽门螺杆菌抗体检测".into(),
            unit_price_fen: 6_000,
        });
        self.publish_prices(items, now);
    }
}
