//! The kiosk's pure core, a crate of its own so the compiler keeps it pure:
//! the patient's path as a state machine ([`flow`]: events in, effects
//! out, `now` passed in) and what each screen says ([`screens`]: from the
//! flow's state to the `kiosk_ui::View`, in Chinese or English). It knows
//! no device, clock, network or journal; kiosk-app is the edge that
//! performs the effects.

pub mod flow;
pub mod screens;
