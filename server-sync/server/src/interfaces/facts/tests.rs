use super::*;

fn item(code: &str, status: ItemStatus, paid: bool) -> ItemNow {
    ItemNow {
        code: code.into(),
        status,
        paid,
    }
}

fn routes() -> BTreeMap<String, Option<Counterpart>> {
    [
        ("L-CBC", Some(Counterpart::Lis)),
        ("RAD-DR-CHEST", Some(Counterpart::Pacs)),
        ("INT-EXAM", None),
    ]
    .into_iter()
    .map(|(c, r)| (c.to_string(), r))
    .collect()
}

fn sent_after(steps: &[Step], mut sent: BTreeMap<String, ItemSent>) -> BTreeMap<String, ItemSent> {
    for s in steps {
        match s {
            Step::Order {
                code,
                counterpart,
                generation,
            } => {
                let e = sent.entry(code.clone()).or_default();
                e.counterpart = Some(*counterpart);
                e.generation = *generation;
                e.ordered = true;
            }
            Step::Cancel { code, .. } => sent.entry(code.clone()).or_default().ordered = false,
            Step::Charge { codes } => {
                for c in codes {
                    sent.entry(c.clone()).or_default().charged = true;
                }
            }
            Step::Refund { codes } => {
                for c in codes {
                    sent.entry(c.clone()).or_default().refunded = true;
                }
            }
            _ => {}
        }
    }
    sent
}

#[test]
fn nothing_before_registration_and_payment() {
    let v = VisitNow {
        registered: false,
        pay_later: false,
        items: vec![item("L-CBC", ItemStatus::Active, false)],
    };
    assert!(plan(&v, &routes(), &BTreeMap::new()).is_empty());
}

/// Paid before registration (the kiosk's pay screen comes before its
/// check-in): HIS gets the patient's record before the charge, or it has
/// no one to book it to; nothing is ordered until registration.
#[test]
fn paid_before_registration_sends_the_record_before_the_charge() {
    let v = VisitNow {
        registered: false,
        pay_later: false,
        items: vec![item("L-CBC", ItemStatus::Active, true)],
    };
    assert_eq!(
        plan(&v, &routes(), &BTreeMap::new()),
        [
            Step::PatientRecord,
            Step::Charge {
                codes: vec!["L-CBC".into()]
            }
        ]
    );
}

#[test]
fn registered_then_paid_orders_each_routed_item_once() {
    let mut v = VisitNow {
        registered: true,
        pay_later: false,
        items: vec![
            item("L-CBC", ItemStatus::Active, false),
            item("RAD-DR-CHEST", ItemStatus::Active, false),
            item("INT-EXAM", ItemStatus::Active, false),
        ],
    };
    let steps = plan(&v, &routes(), &BTreeMap::new());
    assert_eq!(steps, [Step::PatientRecord, Step::Registration]);
    for i in &mut v.items {
        i.paid = true;
    }
    let steps = plan(&v, &routes(), &BTreeMap::new());
    assert_eq!(
        steps[2..],
        [
            Step::Charge {
                codes: vec!["L-CBC".into(), "RAD-DR-CHEST".into(), "INT-EXAM".into()]
            },
            Step::Order {
                code: "L-CBC".into(),
                counterpart: Counterpart::Lis,
                generation: 1
            },
            Step::Order {
                code: "RAD-DR-CHEST".into(),
                counterpart: Counterpart::Pacs,
                generation: 1
            },
        ]
    );
    // Synced: the same visit again gives only the (idempotent) HIS steps.
    let sent = sent_after(&steps, BTreeMap::new());
    assert_eq!(
        plan(&v, &routes(), &sent),
        [Step::PatientRecord, Step::Registration]
    );
}

#[test]
fn refund_cancels_the_order_and_refunds_his_and_a_new_order_is_a_new_generation() {
    let mut v = VisitNow {
        registered: true,
        pay_later: false,
        items: vec![item("L-CBC", ItemStatus::Active, true)],
    };
    let sent = sent_after(&plan(&v, &routes(), &BTreeMap::new()), BTreeMap::new());
    v.items[0].status = ItemStatus::Refunded;
    let steps = plan(&v, &routes(), &sent);
    assert_eq!(
        steps[2..],
        [
            Step::Refund {
                codes: vec!["L-CBC".into()]
            },
            Step::Cancel {
                code: "L-CBC".into(),
                counterpart: Counterpart::Lis,
                generation: 1
            },
        ]
    );
    let sent = sent_after(&steps, sent);
    assert_eq!(plan(&v, &routes(), &sent).len(), 2);
    // A make-up item that is due again later (a group visit re-adding it):
    let v2 = VisitNow {
        registered: true,
        pay_later: true,
        items: vec![item("L-CBC", ItemStatus::Active, false)],
    };
    assert!(plan(&v2, &routes(), &sent).contains(&Step::Order {
        code: "L-CBC".into(),
        counterpart: Counterpart::Lis,
        generation: 2
    }));
}

#[test]
fn group_visits_order_at_registration_and_charge_nothing() {
    let v = VisitNow {
        registered: true,
        pay_later: true,
        items: vec![
            item("L-CBC", ItemStatus::Active, false),
            item("RAD-DR-CHEST", ItemStatus::Waived, false),
        ],
    };
    let steps = plan(&v, &routes(), &BTreeMap::new());
    assert_eq!(
        steps,
        [
            Step::PatientRecord,
            Step::Registration,
            Step::Order {
                code: "L-CBC".into(),
                counterpart: Counterpart::Lis,
                generation: 1
            }
        ]
    );
    // The item removed from the visit later: its order is cancelled.
    let sent = sent_after(&steps, BTreeMap::new());
    let v = VisitNow { items: vec![], ..v };
    assert_eq!(
        plan(&v, &routes(), &sent)[2..],
        [Step::Cancel {
            code: "L-CBC".into(),
            counterpart: Counterpart::Lis,
            generation: 1
        }]
    );
}

#[test]
fn make_up_and_deferred_items_keep_their_orders() {
    let mut v = VisitNow {
        registered: true,
        pay_later: false,
        items: vec![item("L-CBC", ItemStatus::Active, true)],
    };
    let sent = sent_after(&plan(&v, &routes(), &BTreeMap::new()), BTreeMap::new());
    for s in [ItemStatus::MakeUp, ItemStatus::Deferred] {
        v.items[0].status = s;
        assert_eq!(plan(&v, &routes(), &sent).len(), 2, "{s:?}");
    }
}
