//! SOAP 1.1, document/literal, as described by `wsdl/his.wsdl`: the envelope,
//! faults, and each operation's body (in `codec`). The same code writes and
//! reads both sides, so the client and the simulator cannot drift apart from
//! each other; the `zeep` test keeps both honest against the WSDL.

pub mod client;
mod codec;

use crate::error::FaultCode;
use crate::model::{
    ChargeLookup, ChargeReceipt, ChargeRequest, Demographics, IdempotencyKey, PatientRecord,
    PriceChange, PriceList, RefundReceipt, RefundRequest, Registration, RegistrationRequest,
};
use crate::xml::{self, Element, XmlError};

pub use codec::{decode_request, decode_response, encode_request, encode_response};

pub const SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The WSDL's target namespace (elementFormDefault="qualified").
pub const NS: &str = "urn:exam-kiosk:his:v1";
/// The WSDL, served by the simulator at `?wsdl` with its address filled in.
pub const WSDL: &str = include_str!("../../wsdl/his.wsdl");
/// The placeholder in `WSDL`'s `soap:address`.
pub const WSDL_ADDRESS_PLACEHOLDER: &str = "http://localhost:8090/his/soap";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    CreatePatient,
    RegisterVisit,
    PostCharge,
    QueryCharge,
    RefundCharge,
    GetPriceList,
    GetPriceChanges,
}

impl Operation {
    pub const ALL: [Operation; 7] = [
        Operation::CreatePatient,
        Operation::RegisterVisit,
        Operation::PostCharge,
        Operation::QueryCharge,
        Operation::RefundCharge,
        Operation::GetPriceList,
        Operation::GetPriceChanges,
    ];

    /// The request element's name (wrapped style: the operation's name).
    pub fn name(self) -> &'static str {
        match self {
            Operation::CreatePatient => "CreatePatient",
            Operation::RegisterVisit => "RegisterVisit",
            Operation::PostCharge => "PostCharge",
            Operation::QueryCharge => "QueryCharge",
            Operation::RefundCharge => "RefundCharge",
            Operation::GetPriceList => "GetPriceList",
            Operation::GetPriceChanges => "GetPriceChanges",
        }
    }

    pub fn response_name(self) -> String {
        format!("{}Response", self.name())
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == s)
    }

    /// The `SOAPAction` header, as the WSDL's binding gives it.
    pub fn soap_action(self) -> String {
        format!("{NS}#{}", self.name())
    }

    /// Operations that change HIS (carry an idempotency key).
    pub fn changes_state(self) -> bool {
        matches!(
            self,
            Operation::CreatePatient
                | Operation::RegisterVisit
                | Operation::PostCharge
                | Operation::RefundCharge
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapRequest {
    CreatePatient(Demographics),
    RegisterVisit(RegistrationRequest),
    PostCharge(ChargeRequest),
    QueryCharge(IdempotencyKey),
    RefundCharge(RefundRequest),
    GetPriceList,
    GetPriceChanges { since_version: u64 },
}

impl SoapRequest {
    pub fn operation(&self) -> Operation {
        match self {
            SoapRequest::CreatePatient(_) => Operation::CreatePatient,
            SoapRequest::RegisterVisit(_) => Operation::RegisterVisit,
            SoapRequest::PostCharge(_) => Operation::PostCharge,
            SoapRequest::QueryCharge(_) => Operation::QueryCharge,
            SoapRequest::RefundCharge(_) => Operation::RefundCharge,
            SoapRequest::GetPriceList => Operation::GetPriceList,
            SoapRequest::GetPriceChanges { .. } => Operation::GetPriceChanges,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapResponse {
    CreatePatient(PatientRecord),
    RegisterVisit(Registration),
    PostCharge(ChargeReceipt),
    QueryCharge(ChargeLookup),
    RefundCharge(RefundReceipt),
    GetPriceList(PriceList),
    GetPriceChanges(Vec<PriceChange>),
}

/// A HIS refusal as a SOAP fault: `faultcode` `soap:Client` or `soap:Server`
/// by the code's retryability, `faultstring` the message, and `detail`
/// holding `HisFault` (code, retryable, message) for machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    pub code: FaultCode,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not a SOAP 1.1 envelope")]
    NotEnvelope,
    #[error("the body holds no {0}")]
    UnexpectedBody(String),
    #[error("element {0} missing")]
    Missing(&'static str),
    #[error("element {0} has a bad value")]
    BadValue(&'static str),
    #[error("a fault without a HIS fault code: {0}")]
    ForeignFault(String),
}

/// Small writer of qualified elements; every value goes through `xml::escape`.
pub(crate) struct Writer(String);

impl Writer {
    fn envelope() -> Self {
        Writer(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <soap:Envelope xmlns:soap=\"{SOAP_ENV}\" xmlns:h=\"{NS}\"><soap:Body>"
        ))
    }

    fn finish(mut self) -> String {
        self.0.push_str("</soap:Body></soap:Envelope>");
        self.0
    }

    fn open(&mut self, name: &str) -> &mut Self {
        self.0.push_str("<h:");
        self.0.push_str(name);
        self.0.push('>');
        self
    }

    fn close(&mut self, name: &str) -> &mut Self {
        self.0.push_str("</h:");
        self.0.push_str(name);
        self.0.push('>');
        self
    }

    fn leaf(&mut self, name: &str, value: &str) -> &mut Self {
        self.open(name);
        self.0.push_str(&xml::escape(value));
        self.close(name)
    }

    fn opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.leaf(name, v);
        }
        self
    }
}

pub fn encode_fault(fault: &SoapFault) -> String {
    let side = if fault.code.is_client_fault() {
        "soap:Client"
    } else {
        "soap:Server"
    };
    let message = xml::escape(&fault.message);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soap:Envelope xmlns:soap=\"{SOAP_ENV}\" xmlns:h=\"{NS}\"><soap:Body><soap:Fault>\
         <faultcode>{side}</faultcode><faultstring>{message}</faultstring><detail>\
         <h:HisFault><h:code>{}</h:code><h:retryable>{}</h:retryable><h:message>{message}</h:message></h:HisFault>\
         </detail></soap:Fault></soap:Body></soap:Envelope>",
        fault.code.code(),
        !fault.code.is_client_fault(),
    )
}

/// The body's one payload element, or the fault it carries.
pub(crate) fn open_envelope(bytes: &[u8]) -> Result<Result<Element, SoapFault>, DecodeError> {
    let root = xml::parse(bytes)?;
    if !root.is(SOAP_ENV, "Envelope") {
        return Err(DecodeError::NotEnvelope);
    }
    let body = root
        .child(SOAP_ENV, "Body")
        .ok_or(DecodeError::NotEnvelope)?;
    let payload = body
        .children
        .first()
        .ok_or_else(|| DecodeError::UnexpectedBody("element".into()))?;
    if payload.is(SOAP_ENV, "Fault") {
        return Ok(Err(read_fault(payload)?));
    }
    Ok(Ok(payload.clone()))
}

fn read_fault(fault: &Element) -> Result<SoapFault, DecodeError> {
    // faultcode / faultstring / detail are unqualified in SOAP 1.1.
    let unqualified = |name: &str| {
        fault
            .children
            .iter()
            .find(|c| c.ns.is_none() && c.name == name)
    };
    let faultstring = unqualified("faultstring")
        .map(|e| e.text.trim().to_owned())
        .unwrap_or_default();
    let his = unqualified("detail").and_then(|d| d.child(NS, "HisFault"));
    let his_code = his
        .and_then(|h| h.child_text(NS, "code"))
        .and_then(FaultCode::from_code);
    // A fault from something in front of HIS (a gateway, a framework's
    // stack trace) has no HisFault: SOAP 1.1's own faultcode says whose fault.
    let code = match his_code {
        Some(code) => code,
        None => {
            let side = unqualified("faultcode")
                .map(|e| e.text.trim())
                .unwrap_or_default();
            match side.rsplit(':').next() {
                Some(s) if s.starts_with("Client") => FaultCode::InvalidRequest,
                Some(s) if s.starts_with("Server") => FaultCode::Internal,
                _ => return Err(DecodeError::ForeignFault(faultstring)),
            }
        }
    };
    Ok(SoapFault {
        code,
        message: faultstring,
    })
}

#[cfg(test)]
mod tests;
