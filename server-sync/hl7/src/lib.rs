//! HL7 v2.x for the laboratory (LIS) and the imaging, ultrasound, ECG,
//! endoscopy and pathology systems, over MLLP.
//!
//! Layers, each usable alone:
//!
//! - [`Message`]: segments / fields / repetitions / components /
//!   subcomponents, unescaped values, delimiters from MSH-2;
//!   [`decode`] reads a peer's bytes (UTF-8 or GBK, MSH-18 honoured),
//!   [`Message::encode_bytes`] writes them. Bad input is a typed
//!   [`ParseError`], never a panic (fuzzed: `fuzz/fuzz_targets/hl7_message.rs`).
//! - [`mllp::frame`]: the pure, incremental, bounded MLLP frame decoder
//!   (fuzzed: `mllp_frame`); [`mllp::MllpClient`] and [`mllp::serve`] are
//!   the tokio edges.
//! - Typed messages: [`Order`] (`ORM^O01` / `OML^O21`, cancellations with
//!   ORC-1 CA), [`ResultQuery`] (`QRY^R02`, the staff's re-fetch of an
//!   order's results), [`ResultMessage`] (`ORU^R01` with typed [`Observation`]s,
//!   [`AbnormalFlag`]s, embedded PDFs and links), [`Ack`].
//! - [`DuplicateKey`]: control id, and barcode + item + status.
//! - [`sim`]: the deterministic pieces of the `lis-sim` simulator.
//!
//! # From the central service's outbound queue
//!
//! Build the order, store its bytes with the control id as the queue
//! row's idempotency key, and send (a retry sends the same bytes, so the
//! peer drops it as a duplicate if the first one got through):
//!
//! ```no_run
//! # async fn f(order: exam_hl7::Order) -> Result<(), Box<dyn std::error::Error>> {
//! use exam_hl7::{Delivery, mllp::{ClientConfig, MllpClient}};
//! let bytes = order.encode()?; // in the header's charset
//! let mut lis = MllpClient::new(ClientConfig::new("lis.hospital:2575"));
//! match lis.send_bytes(&bytes, &order.header.control_id).await {
//!     Ok(ack) => match ack.code.outcome() {
//!         Delivery::Accepted => { /* mark sent */ }
//!         Delivery::RetryLater => { /* AR: back off, retry */ }
//!         Delivery::Failed => { /* AE: dead letter, ack.error says why */ }
//!     },
//!     Err(e) => { let _ = e.delivery(); /* transport: back off, retry */ }
//! }
//! # Ok(()) }
//! ```
//!
//! Results come in through a listener; store them durably, then accept
//! (a duplicate is accepted too, and not applied again):
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! use exam_hl7::{mllp::{serve, ListenerConfig, Reply}, ResultMessage, ErrorCode};
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:2576").await?;
//! serve(listener, ListenerConfig::default(), |inbound: exam_hl7::mllp::Inbound| async move {
//!     match ResultMessage::from_message(&inbound.message, inbound.charset) {
//!         Ok(results) => { /* store; check DuplicateKey::for_result */ Reply::accept() }
//!         Err(e) => Reply::error(ErrorCode::DataType, e.to_string()),
//!     }
//! }).await
//! # }
//! ```

pub mod ack;
pub mod charset;
pub mod dedup;
pub mod error;
mod escape;
pub mod header;
pub mod message;
pub mod mllp;
pub mod order;
pub mod query;
pub mod result;
pub mod sim;

pub use ack::{Ack, AckCode, Delivery, ErrorCode};
pub use charset::Charset;
pub use dedup::{DuplicateKey, SeenKeys};
pub use error::{EncodeError, MessageError, ParseError};
pub use header::{Coded, Header, MessageKind, Patient, Processing, Sex};
pub use message::{Component, Delimiters, Field, Message, Repetition, Segment, decode};
pub use order::{Order, OrderControl, OrderLine, TargetSystem};
pub use query::ResultQuery;
pub use result::{
    AbnormalFlag, EmbeddedDocument, ItemResult, Observation, ObservationValue, ReferencePointer,
    ResultMessage, ResultStatus,
};
