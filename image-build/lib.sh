# Shared by test-boot and test-update: a central service on the host with
# kiosk K-QEMU-01 registered, a provisioned copy of the image, qemu.
die() { echo "$(basename "$0"): $*" >&2; exit 1; }
for t in qemu-system-x86_64 mcopy mkfs.vfat sfdisk python3 cargo curl; do
  command -v $t >/dev/null || die "$t is missing (apt-get install qemu-system-x86 ovmf mtools dosfstools fdisk curl)"
done
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f "$OVMF_CODE" ] || die "no OVMF firmware (apt-get install ovmf)"
tmp=$(mktemp -d); server_pid=""; qemu_pid=""; accel=""; person_pid=""
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "${person_pid:-}" ] && kill "$person_pid" 2>/dev/null
  wait 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# start_service: exam-server on HTTPS on a free loopback port (a
# development CA whose server certificate names 10.0.2.2, the host as the
# guest sees it), K-QEMU-01 registered.
start_service() {
  echo "==> central service on the host"
  # EXAM_SERVER_BIN: a service already built (runs in a row share one).
  local server=${EXAM_SERVER_BIN:-}
  if [ -z "$server" ]; then
    cargo build --locked -q -p exam-server --bin exam-server
    server=${CARGO_TARGET_DIR:-target}/debug/exam-server
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  db="sqlite://$tmp/exam.db"
  "$server" tls-dev-cert --out "$tmp/tls" --host 10.0.2.2 --host 127.0.0.1 >/dev/null
  server_ca=$tmp/tls/ca.pem
  # The store's data keys (personal data is sealed at rest), made for this run.
  "$server" gen-data-key --out "$tmp/data.key" >/dev/null
  secret=$("$server" --database-url "$db" --data-key-file "$tmp/data.key" add-kiosk --id K-QEMU-01 --campus main --zone lobby)
  # shellcheck disable=SC2086 # SERVE_ARGS: more options, word-split.
  "$server" --database-url "$db" --data-key-file "$tmp/data.key" --listen "127.0.0.1:$port" ${SERVE_ARGS:-} \
    --tls-cert "$tmp/tls/server.pem" --tls-key "$tmp/tls/server-key.pem" serve > "$tmp/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -fs --cacert "$server_ca" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  die "the central service did not start: $(tail -5 "$tmp/server.log")"
}

# provisioned_copy IMAGE MODE: $tmp/kiosk.img, provisioned for K-QEMU-01
# (the guest reaches the host as 10.0.2.2).
provisioned_copy() {
  echo "==> provisioning a copy of the image"
  cp --sparse=always "$1" "$tmp/kiosk.img"
  image-build/provision "$tmp/kiosk.img" --kiosk-id K-QEMU-01 --server "https://10.0.2.2:$port" \
    --server-ca "$server_ca" --enrol-secret "$secret" --mode "$2"
  cp "$OVMF_VARS" "$tmp/vars.fd"
}

# A touch screen for the guest: qemu ≥ 8.1 has a virtio multi-touch device
# (Debian bookworm: qemu-system-x86 from bookworm-backports); an older qemu
# gets a virtio tablet (an absolute pointer: a click where the finger would
# tap, which libinput and the kiosk take as a press too).
touch_dev=(-device virtio-tablet-pci) pointer=1
if qemu-system-x86_64 -device help 2>/dev/null | grep -q '"virtio-multitouch-pci"'; then
  touch_dev=(-device virtio-multitouch-pci) pointer=""
fi

# boot LOG [extra qemu args...]: qemu in the background, serial into LOG.
# offline=1 boots it cut off: the network card is there (the machine is
# the same, so is its firmware's boot order) but leads nowhere.
# The kiosk's disk boots first whatever else is plugged in (bootindex),
# as a kiosk's firmware is set up to.
# The chipset's watchdog (ICH9 TCO, iTCO_wdt in the guest) resets the
# machine when it runs out, as a kiosk board's does: qemu 7.2 (Debian 12) straps
# it "no reboot" unless told otherwise, and a hung reboot then hung for good.
boot() {
  local log=$1; shift
  local restrict=off person=()
  [ -n "${offline:-}" ] && restrict=on
  # The boot test's person in front of the camera (test-boot --vivid): the
  # guest's second serial port.
  [ -n "${person_sock:-}" ] && person=(-serial "unix:$person_sock,server,nowait")
  # TCG unless told (the update and boot figures are TCG's; test-boot
  # --vivid takes KIOSK_QEMU_ACCEL=kvm).
  qemu-system-x86_64 -machine q35 ${accel:--accel tcg} -cpu max -smp 2 -m 1536 \
    -global ICH9-LPC.noreboot=false -action watchdog=reset \
    -drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
    -drive if=pflash,format=raw,file="$tmp/vars.fd" \
    -drive file="$tmp/kiosk.img",format=raw,if=none,id=disk0 -device virtio-blk-pci,drive=disk0,bootindex=0 "$@" \
    -netdev user,id=n0,restrict=$restrict -device virtio-net-pci,netdev=n0 \
    -vga std -display none -serial file:"$log" "${person[@]}" \
    "${touch_dev[@]}" \
    -monitor unix:"$tmp/monitor.sock",server,nowait \
    -qmp unix:"$tmp/qmp.sock",server,nowait &
  qemu_pid=$!
}

# wait_line LOG PATTERN SECONDS: waits for PATTERN (grep -E) in LOG.
wait_line() {
  local i
  for i in $(seq "$3"); do
    grep -aEq "$2" "$1" 2>/dev/null && return 0
    kill -0 "$qemu_pid" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}

show_console() {
  echo "--- serial console (last ${2:-60} lines)"; tail -n "${2:-60}" "$1" | tr -d '\r'
  echo "--- central service"; tail -n 20 "$tmp/server.log"
}

stop_qemu() { [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid" 2>/dev/null || true; qemu_pid=""; }

# screenshot PNG: what the kiosk's screen shows now (qemu's screendump).
screenshot() {
  command -v socat >/dev/null || { echo "(socat missing: no screenshot)"; return 0; }
  echo "screendump $tmp/screen.ppm" | socat - UNIX-CONNECT:"$tmp/monitor.sock" >/dev/null
  for _ in $(seq 20); do [ -s "$tmp/screen.ppm" ] && break; sleep 0.5; done
  sleep 1
  python3 - "$tmp/screen.ppm" "$1" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
# Header: P6, width, height, maxval, each followed by one whitespace byte.
fields, at = [], 0
while len(fields) < 4:
    while data[at : at + 1].isspace():
        at += 1
    end = at
    while not data[end : end + 1].isspace():
        end += 1
    fields.append(data[at:end])
    at = end
at += 1
assert fields[0] == b"P6", "not a PPM"
w, h = int(fields[1]), int(fields[2])
px = data[at : at + w * h * 3]
assert len(px) == w * h * 3, "short PPM"
raw = b"".join(b"\0" + px[y * w * 3 : (y + 1) * w * 3] for y in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
open(sys.argv[2], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
PY
  echo "screen: $1"
}

# tap FX FY: a finger on the touch screen at that fraction of its width and
# height, and lifted: multi-touch events into qemu's virtio touch screen
# over QMP, which the guest kernel hands to libinput like a real panel's.
tap() {
  python3 - "$tmp/qmp.sock" "$1" "$2" "${pointer:-}" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
def call(cmd, **args):
    f.write(json.dumps({"execute": cmd, "arguments": args} if args else {"execute": cmd}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            assert "error" not in r, r
            return r
json.loads(f.readline())  # greeting
call("qmp_capabilities")
top = 0x7FFF
x, y = int(float(sys.argv[2]) * top), int(float(sys.argv[3]) * top)
mtt = lambda t, **d: {"type": "mtt", "data": dict(type=t, slot=0, **d)}
if sys.argv[4]:
    # A tablet: move there, press, release.
    abs_ = lambda axis, v: {"type": "abs", "data": {"axis": axis, "value": v}}
    btn = lambda down: {"type": "btn", "data": {"down": down, "button": "left"}}
    call("input-send-event", events=[abs_("x", x), abs_("y", y)])
    time.sleep(0.1)
    call("input-send-event", events=[btn(True)])
    time.sleep(0.15)
    call("input-send-event", events=[btn(False)])
    sys.exit(0)
call("input-send-event", events=[
    mtt("begin", **{"tracking-id": 1, "axis": "x", "value": 0}),
    mtt("data", **{"tracking-id": 1, "axis": "x", "value": x}),
    mtt("data", **{"tracking-id": 1, "axis": "y", "value": y}),
    {"type": "btn", "data": {"down": True, "button": "touch"}},
])
time.sleep(0.15)
call("input-send-event", events=[
    mtt("end", **{"tracking-id": -1, "axis": "x", "value": 0}),
    {"type": "btn", "data": {"down": False, "button": "touch"}},
])
PY
}
