"""zeep (a SOAP client no one here wrote) as a client of our HIS WSDL.

Usage: his_zeep.py WSDL_URL < PARAMS_JSON

Reads the WSDL from the simulator, calls every operation through zeep's
generated proxy (strict schema handling), and prints what it got as JSON for
the Rust test (server-sync/his/tests/zeep_peer.rs) to compare with our own
client's answers.
"""

import json
import sys

try:
    import zeep
    from zeep.exceptions import Fault
except ImportError as e:  # the test must fail, not skip
    sys.exit(f"zeep is not installed in this interpreter ({e}); "
             "install tests/peers/requirements.txt")


def iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def receipt(charge):
    return {
        "charge_id": charge.chargeId,
        "idempotency_key": charge.idempotencyKey,
        "state": charge.state,
        "total_fen": charge.totalFen,
        "refunded_fen": charge.refundedFen,
        "price_list_version": charge.priceListVersion,
        "booked_at": iso(charge.bookedAt),
    }


def fault_code(fault):
    detail = fault.detail
    if detail is None:
        return None
    for el in detail.iter():
        if el.tag == "{urn:exam-kiosk:his:v1}code":
            return el.text
    return None


def main():
    wsdl = sys.argv[1]
    p = json.load(sys.stdin)
    client = zeep.Client(wsdl, settings=zeep.Settings(strict=True))
    svc = client.service
    out = {"operations": sorted(client.wsdl.services["HisService"].ports["HisSoapPort"]
                                .binding._operations.keys())}

    who = p["person"]
    created = svc.CreatePatient(idNumber=who["id_number"], name=who["name"], sex=who["sex"],
                                birthDate=who["birth_date"], phone=who.get("phone"))
    out["patient"] = {"patient_id": created.patientId, "created": created.created}

    reg = svc.RegisterVisit(idempotencyKey=p["registration_key"], patientId=created.patientId,
                            examNo=p["exam_no"], department="体检中心", visitDate=p["visit_date"])
    out["registration"] = {"registration_id": reg.registrationId, "patient_id": reg.patientId,
                           "exam_no": reg.examNo, "registered_at": iso(reg.registeredAt)}

    prices = svc.GetPriceList()
    out["price_list"] = {"version": prices.version, "effective_at": iso(prices.effectiveAt),
                         "items": [{"code": i.code, "name": i.name,
                                    "unit_price_fen": i.unitPriceFen} for i in prices.item]}

    lines = [{"itemCode": i.code, "quantity": 1, "unitPriceFen": i.unitPriceFen}
             for i in prices.item[:2]]
    charge = svc.PostCharge(idempotencyKey=p["charge_key"], patientId=created.patientId,
                            registrationId=reg.registrationId, paymentMethod="ALIPAY",
                            paymentRef="2026120522001", line=lines)
    out["charge"] = receipt(charge)
    out["charge_lines"] = [{"item_code": l["itemCode"], "quantity": 1,
                            "unit_price_fen": l["unitPriceFen"]} for l in lines]
    out["charge_replayed"] = receipt(svc.PostCharge(
        idempotencyKey=p["charge_key"], patientId=created.patientId,
        registrationId=reg.registrationId, paymentMethod="ALIPAY",
        paymentRef="2026120522001", line=lines))

    refund = svc.RefundCharge(idempotencyKey=p["refund_key"], chargeKey=p["charge_key"],
                              itemCode=[lines[0]["itemCode"]], reason="弃检")
    out["refund"] = {"refund_id": refund.refundId, "charge_id": refund.chargeId,
                     "amount_fen": refund.amountFen, "charge_state": refund.chargeState,
                     "refunded_at": iso(refund.refundedAt)}

    theirs = svc.QueryCharge(idempotencyKey=p["our_charge_key"])
    out["our_charge"] = receipt(theirs.charge) if theirs.found else None
    missing = svc.QueryCharge(idempotencyKey="never-sent")
    out["missing_found"] = missing.found

    out["changes"] = [{"version": c.version, "effective_at": iso(c.effectiveAt),
                       "item_code": c.itemCode, "kind": c.kind,
                       "old_price_fen": c.oldPriceFen, "new_price_fen": c.newPriceFen}
                      for c in svc.GetPriceChanges(sinceVersion=0)]

    try:
        svc.CreatePatient(idNumber=who["id_number"], name=who["name"] + "乙", sex=who["sex"],
                          birthDate=who["birth_date"])
        out["mismatch"] = None
    except Fault as fault:
        out["mismatch"] = {"faultcode": str(fault.code), "code": fault_code(fault),
                           "message": fault.message}

    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
