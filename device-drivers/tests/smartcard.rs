//! Smart cards through a real pcscd with vsmartcard's virtual reader, the
//! card side played by the virtual card in `sim::vicc`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use device_drivers::sim::vicc::VPCD_PORT;
use device_drivers::sim::{CardModel, VirtualCard};
use device_drivers::smartcard::{SmartCardEvent, Transmit, read_social_security, spawn_watcher};

struct Direct(CardModel, Option<[u8; 2]>);
impl Transmit for Direct {
    fn transmit(
        &mut self,
        apdu: &[u8],
    ) -> Result<Vec<u8>, device_drivers::smartcard::SmartCardError> {
        Ok(self.0.respond(apdu, &mut self.1))
    }
}

#[test]
fn reads_the_social_security_application_without_a_reader() {
    let mut c = Direct(
        CardModel::social_security("A12345678", "11010519491231002X", "张三明"),
        None,
    );
    let ss = read_social_security(&mut c).unwrap().unwrap();
    assert_eq!(
        (
            ss.card_number.as_str(),
            ss.id_number.as_str(),
            ss.name.as_str()
        ),
        ("A12345678", "11010519491231002X", "张三明")
    );
    assert_eq!(
        read_social_security(&mut Direct(CardModel::other(), None)).unwrap(),
        None
    );
    let mut bad = CardModel::social_security("A1", "11010519491231002X", "李四");
    bad.garble_records = true;
    assert!(read_social_security(&mut Direct(bad, None)).is_err());
    let wrong_id = CardModel::social_security("A1", "110105194912310021", "李四");
    assert!(
        read_social_security(&mut Direct(wrong_id, None))
            .unwrap_err()
            .to_string()
            .contains("ID number")
    );
}

/// Checks pcscd with vpcd is up. `scripts/test` installs and starts them,
/// so their absence fails the test (never a silent skip).
fn vpcd_up() {
    // Look for the listening socket rather than connect: to vpcd, a
    // connection is a card being inserted.
    let listening = std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .any(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&format!(":{VPCD_PORT:04X}")))
                && l.split_whitespace().nth(3) == Some("0A")
        });
    assert!(
        listening,
        "pcscd with the virtual reader vpcd is not listening on port {VPCD_PORT}: \
         install pcscd and vsmartcard-vpcd and start pcscd (scripts/test does)"
    );
}

#[test]
fn cards_come_and_go_in_the_virtual_reader() {
    vpcd_up();
    let events = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let ev = events.clone();
    let watcher = spawn_watcher(stop.clone(), move |e| ev.lock().unwrap().push(e));
    let wait = |what: &str, pred: &dyn Fn(&SmartCardEvent) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let mut seen = events.lock().unwrap();
            if let Some(i) = seen.iter().position(pred) {
                return seen.drain(..=i).next_back().unwrap();
            }
            drop(seen);
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no {what}: {:?}", events.lock().unwrap());
    };
    wait(
        "reader list",
        &|e| matches!(e, SmartCardEvent::Readers(r) if r.iter().any(|r| r.contains("Virtual PCD"))),
    );

    let card = VirtualCard::insert(
        VPCD_PORT,
        CardModel::social_security("A12345678", "11010519491231002X", "王秀英"),
    )
    .unwrap();
    let SmartCardEvent::Inserted(info) =
        wait("insertion", &|e| matches!(e, SmartCardEvent::Inserted(_)))
    else {
        unreachable!()
    };
    assert!(info.reader.contains("Virtual PCD"), "{}", info.reader);
    assert_eq!(info.atr[0], 0x3B);
    let ss = info.social_security.expect("social security data");
    assert_eq!(
        (
            ss.card_number.as_str(),
            ss.id_number.as_str(),
            ss.name.as_str()
        ),
        ("A12345678", "11010519491231002X", "王秀英")
    );
    card.remove();
    wait("removal", &|e| matches!(e, SmartCardEvent::Removed { .. }));

    let other = VirtualCard::insert(VPCD_PORT, CardModel::other()).unwrap();
    let SmartCardEvent::Inserted(info) =
        wait("a bank card", &|e| matches!(e, SmartCardEvent::Inserted(_)))
    else {
        unreachable!()
    };
    assert_eq!(
        info.social_security, None,
        "a card without the application gives its ATR only"
    );
    drop(other);
    wait("removal", &|e| matches!(e, SmartCardEvent::Removed { .. }));

    let mut broken = CardModel::social_security("A1", "11010519491231002X", "李四");
    broken.garble_records = true;
    let b = VirtualCard::insert(VPCD_PORT, broken).unwrap();
    wait(
        "an unreadable card",
        &|e| matches!(e, SmartCardEvent::Unreadable { reason, .. } if reason.contains("length")),
    );
    drop(b);
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
}
