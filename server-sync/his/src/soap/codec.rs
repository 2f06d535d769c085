//! Each operation's body, written and read field by field in the WSDL's
//! element order (`xs:sequence`).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::{
    DecodeError, NS, Operation, SoapFault, SoapRequest, SoapResponse, Writer, open_envelope,
};
use crate::model::{
    ChargeLine, ChargeLookup, ChargeReceipt, ChargeRequest, ChargeState, Demographics,
    IdempotencyKey, PatientRecord, PaymentMethod, PriceChange, PriceChangeKind, PriceItem,
    PriceList, RefundReceipt, RefundRequest, Registration, RegistrationRequest, Sex,
};
use crate::xml::Element;

fn datetime(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn encode_request(req: &SoapRequest) -> String {
    let mut w = Writer::envelope();
    let op = req.operation().name();
    w.open(op);
    match req {
        SoapRequest::CreatePatient(d) => {
            w.leaf("idNumber", &d.id_number)
                .leaf("name", &d.name)
                .leaf("sex", d.sex.code())
                .leaf("birthDate", &date(&d.birth_date))
                .opt("phone", d.phone.as_deref());
        }
        SoapRequest::RegisterVisit(r) => {
            w.leaf("idempotencyKey", r.idempotency_key.as_str())
                .leaf("patientId", &r.patient_id)
                .leaf("examNo", &r.exam_no)
                .leaf("department", &r.department)
                .leaf("visitDate", &date(&r.visit_date));
        }
        SoapRequest::PostCharge(c) => {
            w.leaf("idempotencyKey", c.idempotency_key.as_str())
                .leaf("patientId", &c.patient_id)
                .leaf("registrationId", &c.registration_id)
                .leaf("paymentMethod", c.payment_method.code())
                .opt("paymentRef", c.payment_ref.as_deref());
            write_lines(&mut w, &c.lines);
        }
        SoapRequest::QueryCharge(key) => {
            w.leaf("idempotencyKey", key.as_str());
        }
        SoapRequest::RefundCharge(r) => {
            w.leaf("idempotencyKey", r.idempotency_key.as_str())
                .leaf("chargeKey", r.charge_key.as_str());
            for code in &r.item_codes {
                w.leaf("itemCode", code);
            }
            w.leaf("reason", &r.reason);
        }
        SoapRequest::GetPriceList => {}
        SoapRequest::GetPriceChanges { since_version } => {
            w.leaf("sinceVersion", &since_version.to_string());
        }
    }
    w.close(op);
    w.finish()
}

fn write_lines(w: &mut Writer, lines: &[ChargeLine]) {
    for l in lines {
        w.open("line")
            .leaf("itemCode", &l.item_code)
            .leaf("quantity", &l.quantity.to_string())
            .leaf("unitPriceFen", &l.unit_price_fen.to_string());
        if l.discount_fen != 0 {
            w.leaf("discountFen", &l.discount_fen.to_string());
        }
        w.close("line");
    }
}

fn read_lines(e: &Element) -> Result<Vec<ChargeLine>, DecodeError> {
    e.children_named(NS, "line")
        .map(|l| {
            Ok(ChargeLine {
                item_code: owned(l, "itemCode")?,
                quantity: parsed(l, "quantity")?,
                unit_price_fen: parsed(l, "unitPriceFen")?,
                discount_fen: opt_parsed(l, "discountFen")?.unwrap_or(0),
            })
        })
        .collect()
}

fn write_receipt(w: &mut Writer, c: &ChargeReceipt) {
    w.open("charge")
        .leaf("chargeId", &c.charge_id)
        .leaf("idempotencyKey", c.idempotency_key.as_str())
        .leaf("state", c.state.code())
        .leaf("totalFen", &c.total_fen.to_string())
        .leaf("refundedFen", &c.refunded_fen.to_string())
        .leaf("priceListVersion", &c.price_list_version.to_string())
        .leaf("bookedAt", &datetime(&c.booked_at));
    write_lines(w, &c.lines);
    w.close("charge");
}

pub fn encode_response(resp: &SoapResponse) -> String {
    let mut w = Writer::envelope();
    let op = match resp {
        SoapResponse::CreatePatient(_) => Operation::CreatePatient,
        SoapResponse::RegisterVisit(_) => Operation::RegisterVisit,
        SoapResponse::PostCharge(_) => Operation::PostCharge,
        SoapResponse::QueryCharge(_) => Operation::QueryCharge,
        SoapResponse::RefundCharge(_) => Operation::RefundCharge,
        SoapResponse::GetPriceList(_) => Operation::GetPriceList,
        SoapResponse::GetPriceChanges(_) => Operation::GetPriceChanges,
    }
    .response_name();
    w.open(&op);
    match resp {
        SoapResponse::CreatePatient(p) => {
            w.leaf("patientId", &p.patient_id)
                .leaf("created", if p.created { "true" } else { "false" });
        }
        SoapResponse::RegisterVisit(r) => {
            w.leaf("registrationId", &r.registration_id)
                .leaf("patientId", &r.patient_id)
                .leaf("examNo", &r.exam_no)
                .leaf("registeredAt", &datetime(&r.registered_at));
        }
        SoapResponse::PostCharge(c) => write_receipt(&mut w, c),
        SoapResponse::QueryCharge(ChargeLookup::NotFound) => {
            w.leaf("found", "false");
        }
        SoapResponse::QueryCharge(ChargeLookup::Found(c)) => {
            w.leaf("found", "true");
            write_receipt(&mut w, c);
        }
        SoapResponse::RefundCharge(r) => {
            w.leaf("refundId", &r.refund_id)
                .leaf("chargeId", &r.charge_id)
                .leaf("amountFen", &r.amount_fen.to_string())
                .leaf("chargeState", r.charge_state.code())
                .leaf("refundedAt", &datetime(&r.refunded_at));
        }
        SoapResponse::GetPriceList(p) => {
            w.leaf("version", &p.version.to_string())
                .leaf("effectiveAt", &datetime(&p.effective_at));
            for i in &p.items {
                w.open("item")
                    .leaf("code", &i.code)
                    .leaf("name", &i.name)
                    .leaf("unitPriceFen", &i.unit_price_fen.to_string())
                    .close("item");
            }
        }
        SoapResponse::GetPriceChanges(changes) => {
            for c in changes {
                w.open("change")
                    .leaf("version", &c.version.to_string())
                    .leaf("effectiveAt", &datetime(&c.effective_at))
                    .leaf("itemCode", &c.item_code)
                    .leaf("kind", c.kind.code())
                    .opt(
                        "oldPriceFen",
                        c.old_price_fen.map(|p| p.to_string()).as_deref(),
                    )
                    .opt(
                        "newPriceFen",
                        c.new_price_fen.map(|p| p.to_string()).as_deref(),
                    )
                    .close("change");
            }
        }
    }
    w.close(&op);
    w.finish()
}

// ---- reading -------------------------------------------------------------

fn text<'a>(e: &'a Element, name: &'static str) -> Result<&'a str, DecodeError> {
    e.child_text(NS, name).ok_or(DecodeError::Missing(name))
}

fn child<'a>(e: &'a Element, name: &'static str) -> Result<&'a Element, DecodeError> {
    e.child(NS, name).ok_or(DecodeError::Missing(name))
}

fn parsed<T: std::str::FromStr>(e: &Element, name: &'static str) -> Result<T, DecodeError> {
    text(e, name)?
        .parse()
        .map_err(|_| DecodeError::BadValue(name))
}

fn opt_parsed<T: std::str::FromStr>(
    e: &Element,
    name: &'static str,
) -> Result<Option<T>, DecodeError> {
    e.child_text(NS, name)
        .map(|t| t.parse().map_err(|_| DecodeError::BadValue(name)))
        .transpose()
}

fn coded<T>(
    e: &Element,
    name: &'static str,
    from: impl Fn(&str) -> Option<T>,
) -> Result<T, DecodeError> {
    from(text(e, name)?).ok_or(DecodeError::BadValue(name))
}

fn key(e: &Element, name: &'static str) -> Result<IdempotencyKey, DecodeError> {
    IdempotencyKey::new(text(e, name)?).map_err(|_| DecodeError::BadValue(name))
}

fn boolean(e: &Element, name: &'static str) -> Result<bool, DecodeError> {
    match text(e, name)? {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(DecodeError::BadValue(name)),
    }
}

fn read_date(e: &Element, name: &'static str) -> Result<NaiveDate, DecodeError> {
    NaiveDate::parse_from_str(text(e, name)?, "%Y-%m-%d").map_err(|_| DecodeError::BadValue(name))
}

fn read_datetime(e: &Element, name: &'static str) -> Result<DateTime<Utc>, DecodeError> {
    DateTime::parse_from_rfc3339(text(e, name)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| DecodeError::BadValue(name))
}

fn owned(e: &Element, name: &'static str) -> Result<String, DecodeError> {
    text(e, name).map(str::to_owned)
}

fn payload(bytes: &[u8], expect: &str) -> Result<Result<Element, SoapFault>, DecodeError> {
    let payload = match open_envelope(bytes)? {
        Ok(p) => p,
        Err(fault) => return Ok(Err(fault)),
    };
    if payload.ns.as_deref() != Some(NS) || payload.name != expect {
        return Err(DecodeError::UnexpectedBody(expect.to_owned()));
    }
    Ok(Ok(payload))
}

/// The simulator's side: which operation, with what.
pub fn decode_request(bytes: &[u8]) -> Result<SoapRequest, DecodeError> {
    let p = match open_envelope(bytes)? {
        Ok(p) => p,
        Err(_) => return Err(DecodeError::UnexpectedBody("request".into())),
    };
    let op = match (p.ns.as_deref(), Operation::from_name(&p.name)) {
        (Some(NS), Some(op)) => op,
        _ => return Err(DecodeError::UnexpectedBody("operation".into())),
    };
    Ok(match op {
        Operation::CreatePatient => SoapRequest::CreatePatient(Demographics {
            id_number: owned(&p, "idNumber")?,
            name: owned(&p, "name")?,
            sex: coded(&p, "sex", Sex::from_code)?,
            birth_date: read_date(&p, "birthDate")?,
            phone: p.child_text(NS, "phone").map(str::to_owned),
        }),
        Operation::RegisterVisit => SoapRequest::RegisterVisit(RegistrationRequest {
            idempotency_key: key(&p, "idempotencyKey")?,
            patient_id: owned(&p, "patientId")?,
            exam_no: owned(&p, "examNo")?,
            department: owned(&p, "department")?,
            visit_date: read_date(&p, "visitDate")?,
        }),
        Operation::PostCharge => SoapRequest::PostCharge(ChargeRequest {
            idempotency_key: key(&p, "idempotencyKey")?,
            patient_id: owned(&p, "patientId")?,
            registration_id: owned(&p, "registrationId")?,
            payment_method: coded(&p, "paymentMethod", PaymentMethod::from_code)?,
            payment_ref: p.child_text(NS, "paymentRef").map(str::to_owned),
            lines: read_lines(&p)?,
        }),
        Operation::QueryCharge => SoapRequest::QueryCharge(key(&p, "idempotencyKey")?),
        Operation::RefundCharge => SoapRequest::RefundCharge(RefundRequest {
            idempotency_key: key(&p, "idempotencyKey")?,
            charge_key: key(&p, "chargeKey")?,
            item_codes: p
                .children_named(NS, "itemCode")
                .map(|c| c.text.trim().to_owned())
                .collect(),
            reason: owned(&p, "reason")?,
        }),
        Operation::GetPriceList => SoapRequest::GetPriceList,
        Operation::GetPriceChanges => SoapRequest::GetPriceChanges {
            since_version: parsed(&p, "sinceVersion")?,
        },
    })
}

fn read_receipt(c: &Element) -> Result<ChargeReceipt, DecodeError> {
    Ok(ChargeReceipt {
        charge_id: owned(c, "chargeId")?,
        idempotency_key: key(c, "idempotencyKey")?,
        state: coded(c, "state", ChargeState::from_code)?,
        total_fen: parsed(c, "totalFen")?,
        refunded_fen: parsed(c, "refundedFen")?,
        price_list_version: parsed(c, "priceListVersion")?,
        booked_at: read_datetime(c, "bookedAt")?,
        lines: read_lines(c)?,
    })
}

/// The client's side: the answer to `op`, or HIS's refusal. This reads
/// bytes from the network and is the fuzz target `his_soap_response`.
pub fn decode_response(
    op: Operation,
    bytes: &[u8],
) -> Result<Result<SoapResponse, SoapFault>, DecodeError> {
    let p = match payload(bytes, &op.response_name())? {
        Ok(p) => p,
        Err(fault) => return Ok(Err(fault)),
    };
    Ok(Ok(match op {
        Operation::CreatePatient => SoapResponse::CreatePatient(PatientRecord {
            patient_id: owned(&p, "patientId")?,
            created: boolean(&p, "created")?,
        }),
        Operation::RegisterVisit => SoapResponse::RegisterVisit(Registration {
            registration_id: owned(&p, "registrationId")?,
            patient_id: owned(&p, "patientId")?,
            exam_no: owned(&p, "examNo")?,
            registered_at: read_datetime(&p, "registeredAt")?,
        }),
        Operation::PostCharge => SoapResponse::PostCharge(read_receipt(child(&p, "charge")?)?),
        Operation::QueryCharge => SoapResponse::QueryCharge(if boolean(&p, "found")? {
            ChargeLookup::Found(read_receipt(child(&p, "charge")?)?)
        } else {
            ChargeLookup::NotFound
        }),
        Operation::RefundCharge => SoapResponse::RefundCharge(RefundReceipt {
            refund_id: owned(&p, "refundId")?,
            charge_id: owned(&p, "chargeId")?,
            amount_fen: parsed(&p, "amountFen")?,
            charge_state: coded(&p, "chargeState", ChargeState::from_code)?,
            refunded_at: read_datetime(&p, "refundedAt")?,
        }),
        Operation::GetPriceList => SoapResponse::GetPriceList(PriceList {
            version: parsed(&p, "version")?,
            effective_at: read_datetime(&p, "effectiveAt")?,
            items: p
                .children_named(NS, "item")
                .map(|i| {
                    Ok(PriceItem {
                        code: owned(i, "code")?,
                        name: owned(i, "name")?,
                        unit_price_fen: parsed(i, "unitPriceFen")?,
                    })
                })
                .collect::<Result<_, DecodeError>>()?,
        }),
        Operation::GetPriceChanges => SoapResponse::GetPriceChanges(
            p.children_named(NS, "change")
                .map(|c| {
                    Ok(PriceChange {
                        version: parsed(c, "version")?,
                        effective_at: read_datetime(c, "effectiveAt")?,
                        item_code: owned(c, "itemCode")?,
                        kind: coded(c, "kind", PriceChangeKind::from_code)?,
                        old_price_fen: opt_parsed(c, "oldPriceFen")?,
                        new_price_fen: opt_parsed(c, "newPriceFen")?,
                    })
                })
                .collect::<Result<_, DecodeError>>()?,
        ),
    }))
}
