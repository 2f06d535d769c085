"""The PyPI Tencent Cloud SDK (tencentcloud-sdk-python-common / -sms,
written by others) as a peer of our sms-sim and of our TC3 signer.

    peer_sdk.py send <url> <secret_id> <secret_key> <app_id>
        SendSms through the SDK, a wrong key refused, then the report pulled.
    peer_sdk.py sign <host> <secret_id> <secret_key> <timestamp> <our_body_file>
        The SDK's Authorization for its own SendSms body, and for ours.
Prints one JSON object.
"""
import json
import sys
import time
from unittest import mock

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client


def client(endpoint, scheme, sid, key):
    hp = HttpProfile(protocol=scheme, endpoint=endpoint, reqTimeout=10)
    cp = ClientProfile(httpProfile=hp)
    cp.disable_region_breaker = True
    return sms_client.SmsClient(credential.Credential(sid, key), "ap-guangzhou", cp)


def send_request(app_id):
    req = models.SendSmsRequest()
    req.SmsSdkAppId = app_id
    req.SignName = "体检中心"
    req.TemplateId = "2001"
    req.TemplateParamSet = ["王女士", "T20261205007"]
    req.PhoneNumberSet = ["+8613700001111"]
    req.SessionContext = "peer-sdk"
    return req


def send(url, sid, key, app_id):
    scheme, endpoint = url.split("://", 1)
    out = {}
    resp = client(endpoint, scheme, sid, key).SendSms(send_request(app_id))
    st = resp.SendStatusSet[0]
    out["code"], out["serial_no"], out["fee"] = st.Code, st.SerialNo, st.Fee
    out["request_id"] = resp.RequestId
    try:
        client(endpoint, scheme, sid, key + "x").SendSms(send_request(app_id))
        out["wrong_key"] = "accepted"
    except TencentCloudSDKException as e:
        out["wrong_key"] = e.get_code()
    pulled = []
    for _ in range(50):
        req = models.PullSmsSendStatusRequest()
        req.SmsSdkAppId = app_id
        req.Limit = 10
        r = client(endpoint, scheme, sid, key).PullSmsSendStatus(req)
        pulled += [{"serial_no": p.SerialNo, "status": p.ReportStatus, "phone": p.PhoneNumber}
                   for p in r.PullSmsSendStatusSet]
        if pulled:
            break
        time.sleep(0.1)
    out["pulled"] = pulled
    print(json.dumps(out))


def sign(host, sid, key, timestamp, body_file):
    c = client(host, "https", sid, key)
    params = json.loads(send_request("1400000001").to_json_string())
    req = RequestInternal(host, "POST", "/", header={})
    with mock.patch("time.time", return_value=float(timestamp)):
        c._build_req_with_tc3_signature("SendSms", params, req)
    theirs = {"authorization": req.header["Authorization"], "body": req.data,
              "content_type": req.header["Content-Type"], "host": req.header["Host"]}
    # Ours: the SDK's signature over the bytes our client sends.
    ours_body = open(body_file, "rb").read().decode("utf-8")
    req2 = RequestInternal(host, "POST", "/", header={
        "Content-Type": "application/json", "Host": host, "X-TC-Timestamp": str(timestamp)})
    req2.data = ours_body
    date = time.strftime("%Y-%m-%d", time.gmtime(int(timestamp)))
    sig = c._get_tc3_signature(params, req2, date, "sms", key)
    print(json.dumps({"sdk": theirs, "ours_signature": sig}))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(*sys.argv[2:6])
    else:
        sign(*sys.argv[2:7])
