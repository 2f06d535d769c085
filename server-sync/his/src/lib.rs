//! HIS (the hospital information system) as the exam centre's counterpart
//! (requirement I1, I7): the patient master record (建档) with HIS's patient
//! id, registration of the exam visit (挂号 / 登记), every paid item charged
//! in real time and refunds, the item price list with versions and a change
//! log, and a charge's state to resolve a timeout by asking.
//!
//! Hospitals run HIS in two styles, so there are two transports behind one
//! trait (`HisApi`): a SOAP 1.1 web service, document/literal, described by
//! `wsdl/his.wsdl` (`soap`), and REST / JSON (`rest`). Errors are typed and
//! say whether a retry can help (`HisError::retry`) and whether HIS may
//! have applied a request it did not answer (`HisError::may_have_applied`);
//! every request that changes HIS carries an idempotency key, so a retried
//! charge is booked once.
//!
//! `sim` is the HIS simulator behind the `his-sim` binary: both styles over
//! real HTTP with state and seeded fault injection.

pub mod api;
pub mod error;
pub mod model;
pub mod rest;
pub mod sim;
pub mod soap;
pub mod xml;

mod transport;

pub use api::{HisApi, HisClient, HisConfig, HisStyle, post_charge_resolving};
pub use error::{FaultCode, HisError, Retry};
pub use model::*;
