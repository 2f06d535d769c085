//! The reader's device thread: opens the port, polls at most every 300 ms,
//! reports cards and its own state, and reopens the port after an unplug.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{CardRead, IdCardError, IdCardReader, Poll};
use crate::DeviceState;
use crate::serial::{Reporter, sleep_unless_stopped, supervise};

/// The minimum time between polls (a faster poll starves the SAM).
pub const MIN_POLL: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdCardEvent {
    Card(Box<CardRead>),
    /// A card is on the reader but could not be read: ask to place it again.
    Unreadable(String),
    State(DeviceState),
}

/// Runs the reader on its own thread until `stop` is set. `emit` gets every
/// card once per placement, unreadable cards, and state changes.
pub fn spawn_reader(
    path: String,
    baud: u32,
    poll_every: Duration,
    stop: Arc<AtomicBool>,
    mut emit: impl FnMut(IdCardEvent) + Send + 'static,
) -> JoinHandle<()> {
    let poll_every = poll_every.max(MIN_POLL);
    std::thread::spawn(move || {
        let mut report = Reporter::new("idcard", &mut emit, IdCardEvent::State);
        supervise(
            &path,
            baud,
            &stop,
            Duration::from_secs(2),
            &mut report,
            |port, report| {
                let mut reader = IdCardReader::new(port, Duration::from_secs(1));
                let mut timeouts = 0;
                while !stop.load(Ordering::Relaxed) {
                    match reader.poll() {
                        Ok(Poll::Card(c)) => {
                            timeouts = 0;
                            report.state(DeviceState::Ok);
                            report.event(IdCardEvent::Card(c));
                        }
                        Ok(Poll::NoCard | Poll::SameCard) => {
                            timeouts = 0;
                            report.state(DeviceState::Ok);
                        }
                        Err(IdCardError::Io(e)) => return Err(e),
                        Err(IdCardError::Timeout(_)) => {
                            timeouts += 1;
                            if timeouts >= 3 {
                                report.state(DeviceState::Faulty(
                                    "the reader does not answer".into(),
                                ));
                            }
                        }
                        Err(
                            e @ (IdCardError::Unreadable { .. }
                            | IdCardError::Text(_)
                            | IdCardError::BadRead(_)),
                        ) => {
                            report.event(IdCardEvent::Unreadable(e.to_string()));
                        }
                        // A garbled frame: the next poll asks again.
                        Err(e @ IdCardError::Frame(_)) => {
                            tracing::debug!(error = %e, "id card reader")
                        }
                    }
                    sleep_unless_stopped(poll_every, &stop);
                }
                Ok(())
            },
        );
    })
}
