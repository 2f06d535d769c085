"""The WeChat Pay v3 SDK from PyPI (wechatpayv3, written by others) against
pay-sim: the SDK signs its own requests, verifies our answers' signatures,
and verifies + decrypts our notifications with its own code. If the
simulator did not speak the real wire, these calls would fail.

Usage: python wechatpay_sdk.py SIM_URL KEYS_DIR
Prints one JSON line {"checks": [...]} and exits 0, or exits non-zero with
the failing check on stderr. Spawned by server-sync/payment/tests/peer_sdk.rs (cargo test -p exam-payment --test peer_sdk).
"""

import json
import os
import queue
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from wechatpayv3 import WeChatPay, WeChatPayType
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError as e:  # the test must fail, not skip
    print(f"FAIL: module missing in the peers venv ({e}); run scripts/test or "
          "pip install -r tests/peers/requirements.txt", file=sys.stderr)
    sys.exit(3)

SIM, KEYS = sys.argv[1], sys.argv[2]
checks = []


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL: {name}: {detail}", file=sys.stderr)
        sys.exit(1)
    checks.append(name)


def read(name):
    with open(os.path.join(KEYS, name), encoding="utf-8") as f:
        return f.read()


ident = json.loads(read("merchant.json"))
notices = queue.Queue()
wxpay = None


class Notify(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            result = wxpay.callback(headers, body)
        except Exception as e:  # noqa: BLE001 - report and refuse
            result = None
            print(f"callback raised: {e}", file=sys.stderr)
        notices.put((headers, body, result))
        self.send_response(204 if result else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Notify)
threading.Thread(target=server.serve_forever, daemon=True).start()
notify_url = f"http://127.0.0.1:{server.server_address[1]}/notify"


def make(private_key=None, public_key=None):
    w = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=ident["mchid"],
        private_key=private_key or read("merchant_private_key.pem"),
        cert_serial_no=ident["merchant_serial_no"],
        appid=ident["appid"],
        apiv3_key=read("apiv3_key.txt").strip(),
        notify_url=notify_url,
        public_key=public_key or read("platform_public_key.pem"),
        public_key_id=ident["platform_key_id"],
        timeout=(5, 10),
    )
    w._core._gate_way = SIM  # the SDK's only production URL, pointed at pay-sim
    return w


wxpay = make()


def payer(code_url, amount=None):
    req = {"code_url": code_url}
    if amount is not None:
        req["amount"] = amount
    r = urllib.request.Request(SIM + "/sim/pay", data=json.dumps(req).encode(),
                               headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=10) as resp:
        return resp.status


def next_notice(wanted_event):
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            headers, body, result = notices.get(timeout=deadline - time.time())
        except queue.Empty:
            break
        if result and result.get("event_type") == wanted_event:
            return headers, body, result
    check(f"notification {wanted_event} arrives and verifies", False, "none within 15 s")


no = "SDK" + time.strftime("%y%m%d%H%M%S") + str(os.getpid() % 10000).zfill(4)

code, msg = wxpay.pay(description="体检费 SDK", out_trade_no=no, amount={"total": 1})
check("sdk native order 200", code == 200, f"{code} {msg}")
code_url = json.loads(msg)["code_url"]
check("code_url is a weixin:// URL", code_url.startswith("weixin://wxpay/bizpayurl?pr="), code_url)

code, msg = wxpay.query(out_trade_no=no)
check("sdk query verifies, NOTPAY", code == 200 and json.loads(msg)["trade_state"] == "NOTPAY", f"{code} {msg}")

check("test payer pays", payer(code_url) == 200)
headers, body, result = next_notice("TRANSACTION.SUCCESS")
res = result["resource"]
check("sdk callback decrypts payment", res["out_trade_no"] == no and res["trade_state"] == "SUCCESS"
      and res["amount"]["total"] == 1, json.dumps(res))

# The SDK's verification is not vacuous: a changed body is refused.
tampered = body.replace(b'"TRANSACTION.SUCCESS"', b'"TRANSACTION.SUCCESX"')
check("sdk refuses a tampered notification", wxpay.callback(headers, tampered) is None)

code, msg = wxpay.query(out_trade_no=no)
check("sdk query SUCCESS", code == 200 and json.loads(msg)["trade_state"] == "SUCCESS", f"{code} {msg}")

code, msg = wxpay.refund(out_refund_no=no + "R1", amount={"refund": 1, "total": 1, "currency": "CNY"},
                         out_trade_no=no)
check("sdk refund accepted", code == 200 and json.loads(msg)["status"] in ("PROCESSING", "SUCCESS"), f"{code} {msg}")
_, _, result = next_notice("REFUND.SUCCESS")
check("sdk callback decrypts refund", result["resource"]["out_refund_no"] == no + "R1"
      and result["resource"]["refund_status"] == "SUCCESS", json.dumps(result["resource"]))
code, msg = wxpay.query_refund(out_refund_no=no + "R1")
check("sdk refund query SUCCESS", code == 200 and json.loads(msg)["status"] == "SUCCESS", f"{code} {msg}")

code, msg = wxpay.pay(description="关闭测试", out_trade_no=no + "C", amount={"total": 2})
check("second order", code == 200, f"{code} {msg}")
code, msg = wxpay.close(out_trade_no=no + "C")
check("sdk close 204 verifies", code == 204, f"{code} {msg}")

# A platform key the SDK does not trust: our answer must then fail its check.
other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
other_pub = other.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
try:
    make(public_key=other_pub).query(out_trade_no=no)
    check("sdk rejects an answer signed by another key", False, "accepted")
except Exception as e:  # noqa: BLE001
    check("sdk rejects an answer signed by another key", "verify" in str(e), str(e))

# And the simulator refuses a merchant signature made with another key.
other_priv = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
code, msg = make(private_key=other_priv).query(out_trade_no=no)
check("pay-sim refuses a request signed by another key", code == 401 and "SIGN_ERROR" in str(msg), f"{code} {msg}")

server.shutdown()
print(json.dumps({"checks": checks}))
