//! The kiosk's touch screens in Slint: a theme `global` (elderly mode is the
//! theme with larger type and targets), one component per screen, and
//! [`View`], the plain data a screen shows. The check-in flow lives in
//! kiosk-app; it fills a `View` and turns the window's callbacks into flow
//! events. [`headless`] draws any `View` into a PNG without a display.

mod view;

pub use slint;

pub mod headless;

/// The code the Slint compiler generates from `ui/`; not ours to lint.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::todo,
    clippy::unwrap_used,
    unsafe_code,
    missing_docs
)]
mod generated {
    slint::include_modules!();
}
pub use generated::*;

pub use view::{Action, Booking, Keypad, ProblemView, Screen, ScreenWords, View, qr_image};
