"""An HL7 v2 peer written with libraries no one here wrote, for exam-hl7's tests.

  ack-server [--encoding E]     python-hl7's MLLP server (hl7.mllp.start_hl7_server):
                                prints "listening PORT", then one JSON line per message
                                received, and answers each with python-hl7's own ACK (AA).
  send --port P --file F [--encoding E] [--times N]
                                python-hl7's MLLP client (hl7.mllp.open_hl7_connection):
                                sends each message of F (messages separated by a blank
                                line, segments by newlines) N times and prints each ACK as
                                a JSON line.
  validate --file F             hl7apy parses F with strict validation (message structure,
                                groups, required fields, data types) and prints "valid".

Run by server-sync/hl7/tests/*.rs with $EXAM_PEERS_PYTHON (tests/peers/requirements.txt).
"""

import argparse
import asyncio
import json
import sys

import hl7
import hl7.mllp


def summary(msg):
    """What the tests check, read with python-hl7 (fields split by its parser)."""

    def field(seg, n):
        return str(seg(n)) if len(seg) > n else ""

    def first(seg_id, n, comp=0):
        for seg in msg:
            if str(seg[0]) == seg_id:
                parts = field(seg, n).split(msg.separators[3])
                return msg.unescape(parts[comp]) if comp < len(parts) else ""
        return ""

    return {
        "type": first("MSH", 9, 0) + "^" + first("MSH", 9, 1),
        "control_id": first("MSH", 10),
        "charset": first("MSH", 18),
        "patient_id": first("PID", 3),
        "patient_name": first("PID", 5),
        "controls": [field(seg, 1) for seg in msg if str(seg[0]) == "ORC"],
        # A QRY^R02 (re-fetch): query id, who (patient), what department
        # data (placer order number), where (the application asked).
        "query": [first("QRD", 4), first("QRD", 8), first("QRD", 10), first("QRF", 1)],
        "items": [
            [field(seg, 2)] + field(seg, 4).split(msg.separators[3])[:2]
            for seg in msg
            if str(seg[0]) == "OBR"
        ],
    }


async def ack_server(encoding):
    async def on_client(reader, writer):
        try:
            while not writer.is_closing():
                msg = await reader.readmessage()
                print(json.dumps(summary(msg), ensure_ascii=False), flush=True)
                writer.writemessage(msg.create_ack())
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await hl7.mllp.start_hl7_server(
        on_client, host="127.0.0.1", port=0, encoding=encoding
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    async with server:
        await server.serve_forever()


async def send(port, path, encoding, times):
    with open(path, encoding="utf-8") as f:
        blocks = [b.strip() for b in f.read().split("\n\n") if b.strip()]
    reader, writer = await hl7.mllp.open_hl7_connection(
        "127.0.0.1", port, encoding=encoding
    )
    for block in blocks:
        msg = hl7.parse("\r".join(block.splitlines()))
        for _ in range(times):
            writer.writemessage(msg)
            await writer.drain()
            ack = await asyncio.wait_for(reader.readmessage(), 10)
            msa = ack.segment("MSA")
            print(
                json.dumps(
                    {
                        "sent": str(msg.segment("MSH")(10)),
                        "code": str(msa(1)),
                        "acked": str(msa(2)),
                        "ack": str(ack).replace("\r", "\n"),
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
    writer.close()


def validate(path):
    """hl7apy's strict validation. One known hl7apy limitation is worked
    around, narrowly: its validator checks a *choice* group (ORM^O01's
    OBR|RQD|RQ1|RXO|ODS|ODT) as if every alternative were required. For
    those groups alone, "missing" alternatives are not errors when exactly
    one alternative is present; every other error stands."""
    import os
    import re
    import tempfile

    from hl7apy import load_reference
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message
    from hl7apy.validation import Validator

    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    msg = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)

    def is_choice(name):
        try:
            return load_reference(name, "Group", msg.version)[0] == "choice"
        except Exception:
            return False

    errors = []

    def walk(el):
        for c in getattr(el, "children", []):
            if c.classname == "Group":
                if is_choice(c.name) and len(c.children) != 1:
                    errors.append(f"choice group {c.name} has {len(c.children)} alternatives")
                walk(c)

    walk(msg)
    fd, report = tempfile.mkstemp()
    os.close(fd)
    try:
        Validator.validate(msg, reference=msg.reference, report_file=report)
    except Exception:
        pass
    with open(report) as f:
        for line in f:
            if not line.startswith("Error: "):
                continue
            m = re.match(r"Error: Missing required child (\w+)\.(\w+)", line)
            if m and is_choice(m.group(1)):
                continue
            errors.append(line.strip())
    os.unlink(report)
    if errors:
        sys.exit("hl7apy: " + "; ".join(errors))
    print("valid", msg.name, flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ack-server")
    a.add_argument("--encoding", default="utf-8")
    s = sub.add_parser("send")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--file", required=True)
    s.add_argument("--encoding", default="utf-8")
    s.add_argument("--times", type=int, default=1)
    v = sub.add_parser("validate")
    v.add_argument("--file", required=True)
    args = p.parse_args()
    if args.cmd == "ack-server":
        asyncio.run(ack_server(args.encoding))
    elif args.cmd == "send":
        asyncio.run(send(args.port, args.file, args.encoding, args.times))
    else:
        validate(args.file)


if __name__ == "__main__":
    sys.exit(main())
