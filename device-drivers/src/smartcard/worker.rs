//! The smart-card thread: follows pcscd's readers (added, removed) and
//! their cards (inserted, removed), reading each inserted card once.

use std::collections::HashMap;
use std::ffi::CString;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};

use super::{CardInfo, read_social_security};
use crate::DeviceState;
use crate::serial::sleep_unless_stopped;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmartCardEvent {
    Inserted(CardInfo),
    /// A card was inserted but could not be read.
    Unreadable {
        reader: String,
        reason: String,
    },
    Removed {
        reader: String,
    },
    Readers(Vec<String>),
    State(DeviceState),
}

pub fn spawn_watcher(
    stop: Arc<AtomicBool>,
    mut emit: impl FnMut(SmartCardEvent) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut state: Option<DeviceState> = None;
        let mut set = |s: DeviceState, emit: &mut dyn FnMut(SmartCardEvent)| {
            if state.as_ref() != Some(&s) {
                state = Some(s.clone());
                emit(SmartCardEvent::State(s));
            }
        };
        while !stop.load(Ordering::Relaxed) {
            let ctx = match Context::establish(Scope::User) {
                Ok(c) => c,
                Err(e) => {
                    set(DeviceState::Unplugged(format!("pcscd: {e}")), &mut emit);
                    sleep_unless_stopped(Duration::from_secs(2), &stop);
                    continue;
                }
            };
            set(DeviceState::Ok, &mut emit);
            if let Err(e) = watch(&ctx, &stop, &mut emit) {
                set(DeviceState::Unplugged(format!("pcscd: {e}")), &mut emit);
                sleep_unless_stopped(Duration::from_secs(1), &stop);
            }
        }
    })
}

fn watch(
    ctx: &Context,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(SmartCardEvent),
) -> Result<(), pcsc::Error> {
    let mut states = vec![ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE)];
    let mut present: HashMap<CString, bool> = HashMap::new();
    let mut known: Vec<CString> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let readers = match ctx.list_readers_owned() {
            Ok(r) => r,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(e),
        };
        if readers != known {
            states.retain(|s| {
                s.name() == pcsc::PNP_NOTIFICATION()
                    || readers.iter().any(|r| r.as_c_str() == s.name())
            });
            for r in &readers {
                if !states.iter().any(|s| s.name() == r.as_c_str()) {
                    states.push(ReaderState::new(r.clone(), State::UNAWARE));
                }
            }
            present.retain(|r, _| readers.contains(r));
            known = readers;
            emit(SmartCardEvent::Readers(
                known
                    .iter()
                    .map(|r| r.to_string_lossy().into_owned())
                    .collect(),
            ));
        }
        match ctx.get_status_change(Duration::from_millis(500), &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(e),
        }
        for s in states
            .iter_mut()
            .filter(|s| s.name() != pcsc::PNP_NOTIFICATION())
        {
            let name = s.name().to_owned();
            let now =
                s.event_state().contains(State::PRESENT) && !s.event_state().contains(State::MUTE);
            let was = present.get(&name).copied().unwrap_or(false);
            let reader = name.to_string_lossy().into_owned();
            if now && !was {
                emit(match read(ctx, &name, s.atr().to_vec()) {
                    Ok(info) => SmartCardEvent::Inserted(info),
                    Err(e) => SmartCardEvent::Unreadable {
                        reader: reader.clone(),
                        reason: e.to_string(),
                    },
                });
            } else if !now && was {
                emit(SmartCardEvent::Removed { reader });
            }
            present.insert(name, now);
            s.sync_current_state();
        }
    }
    Ok(())
}

fn read(ctx: &Context, reader: &CString, atr: Vec<u8>) -> Result<CardInfo, super::SmartCardError> {
    let mut card = ctx.connect(reader, ShareMode::Shared, Protocols::ANY)?;
    let social_security = read_social_security(&mut card)?;
    Ok(CardInfo {
        reader: reader.to_string_lossy().into_owned(),
        atr,
        social_security,
    })
}
