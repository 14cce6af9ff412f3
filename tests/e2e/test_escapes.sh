#!/usr/bin/env bash
# Bytes from the traffic (paths, Host headers, TLS ALPN), the config and file names
# never reach the terminal raw: the human tables of endpoints, diff, owner, owners,
# stats, sources and import, and error lines, print control bytes (C0, DEL), bytes
# that are not UTF-8, C1 controls and bidi overrides as \xNN; valid UTF-8 stays as
# it is. The --json outputs keep the exact strings (JSON-escaped), unchanged.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
command -v python3 >/dev/null || { echo "escapes: no python3, skipped"; exit 77; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }

# one capture: HTTP exchanges with hostile bytes, and a TLS ClientHello whose ALPN
# carries an escape sequence (written with scripts/make-hostile-pcaps.py's writer);
# a Host with control bytes becomes the roster host (invalid) (docs/decisions.md)
python3 - "$SRC/scripts/make-hostile-pcaps.py" "$t/esc.pcap" <<'PY'
import importlib.util, struct, sys
spec = importlib.util.spec_from_file_location("hostile", sys.argv[1])
h = importlib.util.module_from_spec(spec); spec.loader.exec_module(h)
pc = h.Pcap(sys.argv[2])
t = 1700000000.0
def exchange(cport, target, host):
    global t
    c = h.Conn(pc, t, h.LEGIT_C, cport)
    c.send(True, b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    c.send(False, h.response())
    t = c.close() + 0.01
exchange(41001, b"/esc/\x1b[31mRED\x07\x1b[0m", b"api.esc.test")
exchange(41002, b"/ok", b"\x1b[2Jevil.test")
exchange(41003, b"/bytes/\xff\xc2\x9b31m/\x7f\xe2\x80\xaefdp.exe", b"api.esc.test")
exchange(41004, b"/caf\xc3\xa9/\xe2\x82\xac", b"api.esc.test")
exchange(41006, b"/owned", b"api.esc.test")
# values that must never be kept: userinfo, a path parameter, bare query tokens
exchange(41007, b"http://user:PLANTEDPW7@api.esc.test/v;jsessionid=PLANTEDJS7?PLANTEDBARE7&dG9rUExBTlRFRDc9=", b"api.esc.test")
def client_hello(sni, alpn):
    sni_ext = struct.pack("!HBH", len(sni) + 3, 0, len(sni)) + sni
    ext = struct.pack("!HH", 0, len(sni_ext)) + sni_ext
    alpn_list = struct.pack("!B", len(alpn)) + alpn
    ext += struct.pack("!HHH", 16, len(alpn_list) + 2, len(alpn_list)) + alpn_list
    body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + struct.pack("!H", 2) + b"\x13\x01" + b"\x01\x00"
    body += struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
c = h.Conn(pc, t, h.LEGIT_C, 41005, sport=443)
c.send(True, client_hello(b"tls.esc.test", b"\x1b[31mh2"))
c.send(False, b"\x16\x03\x03\x00\x04\x02\x00\x00\x00")
c.close()
pc.close()
PY
# a spec whose owner carries an escape (a YAML "\e"), imported from a file whose name
# has one; a rules file with a control byte (refused: its name in the error line)
printf 'openapi: 3.0.3\ninfo: {title: t, version: "1", x-owner: "esc\\e[5mteam"}\nservers: [{url: "http://api.esc.test"}]\npaths:\n  /owned:\n    get:\n      responses: {"200": {description: ok}}\n' \
  > "$t/sp"$'\033'"ec.yaml"
printf 'api.esc.test/** @team\033[5m\n' > "$t/ru"$'\033'"les"
"$BIN" capture -r "$t/esc.pcap" --db "$t/r.db" 2>"$t/err" || ko "capture: $(cat "$t/err")"
"$BIN" import --db "$t/r.db" "$t/sp"$'\033'"ec.yaml" > "$t/import.txt" 2>&1 || ko "import: $(cat "$t/import.txt")"
"$BIN" import --db "$t/r.db" --as rules "$t/ru"$'\033'"les" > "$t/import-bad.txt" 2>&1
rc=$?
[[ $rc == 2 && $(wc -l < "$t/import-bad.txt") == 1 ]] && ok || ko "bad rules: rc=$rc $(cat -v "$t/import-bad.txt")"

# raw C0 controls and DEL, C1 controls (UTF-8 \xc2\x80-\x9f) and bidi embeddings,
# overrides and isolates (U+202A-202E, U+2066-2069)
raw() { LC_ALL=C grep -cP '[\x01-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]' "$1"; }
for cmd in endpoints diff owners stats sources; do
  "$BIN" $cmd --db "$t/r.db" > "$t/$cmd.txt" 2>&1 || ko "$cmd: rc=$?"
  [[ $(raw "$t/$cmd.txt") == 0 ]] && ok || ko "$cmd prints raw control bytes: $(cat -v "$t/$cmd.txt")"
done
"$BIN" owner --db "$t/r.db" GET $'http://api.esc.test/owned/\033[31mRED' > "$t/owner.txt" 2>&1
[[ $(raw "$t/owner.txt") == 0 ]] && ok || ko "owner prints raw control bytes: $(cat -v "$t/owner.txt")"
for f in import import-bad; do
  [[ $(raw "$t/$f.txt") == 0 ]] && ok || ko "$f prints raw control bytes: $(cat -v "$t/$f.txt")"
done

has() { # FILE LITERAL-TEXT WHAT
  grep -qF -- "$2" "$1" && ok || ko "$3: '$2' not in $(cat -v "$1")"
}
has "$t/endpoints.txt" 'api.esc.test                 GET     /esc/\x1b[31mRED\x07\x1b[0m ' "endpoints path"
# a Host with control bytes is no host: the roster keeps it as (invalid)
has "$t/endpoints.txt" '(invalid)                    GET     /ok ' "endpoints host"
has "$t/endpoints.txt" '/bytes/\xff\xc2\x9b31m/\x7f\xe2\x80\xaefdp.exe ' "invalid UTF-8, C1 CSI, DEL, RLO"
has "$t/endpoints.txt" '/café/€ ' "valid UTF-8 as is"
has "$t/endpoints.txt" 'esc\x1b[5mteam' "endpoints owner"
has "$t/diff.txt" 'shadow     GET api.esc.test /esc/\x1b[31mRED\x07\x1b[0m  unknown path' "diff list"
has "$t/owners.txt" 'esc\x1b[5mteam ' "owners team"
has "$t/stats.txt" 'tls.esc.test                             \x1b[31mh2 ' "stats ALPN"
has "$t/sources.txt" "$t/sp\\x1bec.yaml" "sources path"
has "$t/import.txt" "$t/sp\\x1bec.yaml" "import path"
has "$t/import-bad.txt" "$t/ru\\x1bles:1: control character in line" "import error line"
has "$t/owner.txt" 'owner:    esc\x1b[5mteam' "owner team"
has "$t/owner.txt" 'GET api.esc.test/owned/\x1b[31mRED' "owner URL"

# JSON keeps the exact bytes
"$BIN" endpoints --db "$t/r.db" --json | python3 -c '
import json, sys
p = {e["path"] for e in json.load(sys.stdin)}
assert "/esc/\x1b[31mRED\x07\x1b[0m" in p and "/caf\u00e9/\u20ac" in p, p' && ok || ko "endpoints --json"
"$BIN" stats --db "$t/r.db" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert [(x["server_name"], x["alpn"]) for x in s["tls_only_hosts"]] == [("tls.esc.test", "\x1b[31mh2")], s' \
  && ok || ko "stats --json"
# none of the planted values anywhere: database files, tables, JSON, export, logs
"$BIN" endpoints --db "$t/r.db" --json > "$t/endpoints.json"
"$BIN" export openapi --db "$t/r.db" -o "$t/export.json" 2>>"$t/err"
"$BIN" stats --db "$t/r.db" --json > "$t/stats.json"
n=$(LC_ALL=C grep -alE 'PLANTEDPW7|PLANTEDJS7|PLANTEDBARE7|dG9rUExBTlRFRDc9' "$t"/r.db* "$t"/*.txt "$t"/*.json "$t/err" | wc -l)
[[ $n == 0 ]] && ok || ko "planted values in $(LC_ALL=C grep -alE 'PLANTED(PW|JS)7|PLANTEDBARE7|dG9rUExBTlRFRDc9' "$t"/r.db* "$t"/*.txt "$t"/*.json "$t/err")"
grep -q '"path":"/v"' "$t/endpoints.json" && ok || ko "the request with planted values is in the roster as /v"
echo "escapes: $pass passed, $fail failed"
((fail == 0))
