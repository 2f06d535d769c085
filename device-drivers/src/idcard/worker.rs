//! The reader's device thread: opens the port, polls at most every 300 ms,
//! reports cards and its own state, and reopens the port after an unplug.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{CardRead, IdCardError, IdCardReader, Poll};

/// The minimum time between polls (a faster poll starves the SAM).
pub const MIN_POLL: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceState {
    Ok,
    Unplugged(String),
    Faulty(String),
}

impl DeviceState {
    /// The short form the heartbeat and staff fleet view show.
    pub fn label(&self) -> &'static str {
        match self {
            DeviceState::Ok => "ok",
            DeviceState::Unplugged(_) => "unplugged",
            DeviceState::Faulty(_) => "faulty",
        }
    }
}

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
        let mut state = None;
        let mut set = |s: DeviceState, emit: &mut dyn FnMut(IdCardEvent)| {
            if state.as_ref() != Some(&s) {
                tracing::info!(device = "idcard", state = ?s, "device state");
                state = Some(s.clone());
                emit(IdCardEvent::State(s));
            }
        };
        while !stop.load(Ordering::Relaxed) {
            let port = match crate::serial::open(&path, baud) {
                Ok(p) => p,
                Err(e) => {
                    set(DeviceState::Unplugged(e.to_string()), &mut emit);
                    sleep_unless_stopped(Duration::from_secs(2), &stop);
                    continue;
                }
            };
            let mut reader = IdCardReader::new(port, Duration::from_secs(1));
            let mut timeouts = 0;
            while !stop.load(Ordering::Relaxed) {
                match reader.poll() {
                    Ok(Poll::Card(c)) => {
                        timeouts = 0;
                        set(DeviceState::Ok, &mut emit);
                        emit(IdCardEvent::Card(c));
                    }
                    Ok(Poll::NoCard | Poll::SameCard) => {
                        timeouts = 0;
                        set(DeviceState::Ok, &mut emit);
                    }
                    Err(e) if e.is_disconnect() => {
                        set(DeviceState::Unplugged(e.to_string()), &mut emit);
                        break;
                    }
                    Err(IdCardError::Timeout(_)) => {
                        timeouts += 1;
                        if timeouts >= 3 {
                            set(
                                DeviceState::Faulty("the reader does not answer".into()),
                                &mut emit,
                            );
                        }
                    }
                    Err(
                        e @ (IdCardError::Unreadable { .. }
                        | IdCardError::Text(_)
                        | IdCardError::BadRead(_)),
                    ) => {
                        emit(IdCardEvent::Unreadable(e.to_string()));
                    }
                    // A garbled frame: the next poll asks again.
                    Err(e) => tracing::debug!(error = %e, "id card reader"),
                }
                sleep_unless_stopped(poll_every, &stop);
            }
        }
    })
}

fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(20);
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}
