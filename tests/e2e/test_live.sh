#!/usr/bin/env bash
# Live capture end to end, on the loopback of a private network namespace (so
# that nothing else on this machine's lo gets into the roster):
#   - the project's own API server (scripts/sample/api_server.py) on :8080 and a
#     Standard Webhooks receiver (tests/e2e/webhook_receiver.py) on :8081 as the
#     push target (its traffic must be filtered out by default);
#   - a published spec ([sources] spec) that documents three operations;
#   - `apiroster capture -i lo` as root with [capture] user = nobody, its systemd
#     notifications read from an abstract NOTIFY_SOCKET;
#   - curl traffic (scripts/sample/clients.sh), the roster, `apiroster owner` and
#     the pushed deltas (each new endpoint once, signed) read WHILE it runs;
#   - /proc/PID/status: non-root uid, CapEff 0, NoNewPrivs 1;
#   - SIGHUP: still running, a keep-alive connection that spans the reload is
#     still parsed (flows kept), a non-reloadable change is logged, a changed
#     spec changes the states (documented, zombie) and the change is pushed;
#   - SIGTERM: exit 0 and the exact, complete roster;
#   - a writer that cannot write (the database locked for 8 s): the capture goes
#     on, flushes are put off and retried, max_endpoints bounds the memory, and
#     every exchange is either in the roster or counted as dropped;
#   - a quiet interface: watchdog pings keep coming, SIGTERM exits promptly.
# Skips (77) when not root or without unshare/ip/curl/python3.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
[[ $(id -u) == 0 ]] || { echo "skip: needs root"; exit 77; }
for t in unshare ip curl python3 runuser; do
  command -v $t >/dev/null || { echo "skip: $t missing"; exit 77; }
done
if [[ -z ${AR_LIVE_NETNS:-} ]]; then
  AR_LIVE_NETNS=1 exec unshare -n bash "$0" "$@"
fi
ip link set lo up || { echo "skip: cannot bring lo up"; exit 77; }
getent passwd nobody >/dev/null || { echo "skip: no user nobody"; exit 77; }

t=$(mktemp -d); chmod 755 "$t"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; if [[ -n ${AR_LIVE_KEEP:-} ]]; then echo "kept $t"; else rm -rf "$t"; fi; }
trap cleanup EXIT
mkdir "$t/db"; chown nobody "$t/db"
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }
# wait_for SECONDS COMMAND...: poll every 0.1 s
wait_for() { local n=$(($1 * 10)); shift; while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done; return 1; }

python3 "$SRC/scripts/sample/api_server.py" 8080 >/dev/null 2>&1 & pids+=($!)
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' > "$t/secret"; chmod 644 "$t/secret"
python3 "$SRC/tests/e2e/webhook_receiver.py" --port 8081 --secret-file "$t/secret" --log "$t/push.jsonl" 2>/dev/null & pids+=($!)
wait_for 10 curl -sf -o /dev/null http://127.0.0.1:8080/healthz || { echo "FAIL: server"; exit 1; }
wait_for 10 curl -s -o /dev/null -X POST http://127.0.0.1:8081/ready || { echo "FAIL: receiver"; exit 1; }
rm -f "$t/push.jsonl"

# the published spec: two operations of the sample API, owned by users-team
spec() { # DEPRECATED-FLAG EXTRA-PATH
  cat > "$t/spec.yaml" <<EOF
openapi: 3.0.3
info: {title: Sample, version: "1", x-owner: users-team}
servers: [{url: "http://api.sample.test"}]
paths:
  /api/v1/users/me:
    get: {responses: {"200": {description: ok}}}
  /api/v1/users/{userId}:
    get: {responses: {"200": {description: ok}}}
  /api/v1/orders/{orderId}:
    get: {deprecated: $1, responses: {"200": {description: ok}}}
$2
EOF
  chmod 644 "$t/spec.yaml"
}
spec false ""

# systemd's side of the notify protocol: one line per datagram
listen() { # NAME FILE
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", "|") + "\n")
' "$1" "$2" & pids+=($!)
}
notify=apiroster-test-$$
listen "$notify" "$t/notify"
wait_for 10 test -e "$t/notify" || ko "notify listener"   # the file is made after bind()

cat > "$t/c.conf" <<EOF
[inventory]
flush_interval = 1s
[capture]
user = nobody
log_level = info
[sources]
spec = $t/spec.yaml
[push]
url = http://127.0.0.1:8081/hooks/apiroster
secret_file = $t/secret
interval = 1s
EOF
chmod 644 "$t/c.conf"
NOTIFY_SOCKET=@$notify WATCHDOG_USEC=2000000 \
  "$BIN" capture -i lo --db "$t/db/r.db" --config "$t/c.conf" 2>"$t/err" & pid=$!
wait_for 10 grep -qs '^READY=1$' "$t/notify" && ok || ko "no READY=1: $(cat "$t/err")"

st=$(cat /proc/$pid/status)
uid=$(awk '/^Uid:/{print $2, $3, $4, $5}' <<<"$st")
[[ $uid == "65534 65534 65534 65534" ]] && ok || ko "Uid: $uid"
[[ $(awk '/^CapEff:/{print $2}' <<<"$st") == 0000000000000000 ]] && ok || ko "CapEff: $(grep CapEff <<<"$st")"
[[ $(awk '/^CapPrm:/{print $2}' <<<"$st") == 0000000000000000 ]] && ok || ko "CapPrm: $(grep CapPrm <<<"$st")"
[[ $(awk '/^NoNewPrivs:/{print $2}' <<<"$st") == 1 ]] && ok || ko "NoNewPrivs: $(grep NoNewPrivs <<<"$st")"

# round 1: the sample clients, and the push target's own traffic
bash "$SRC/scripts/sample/clients.sh" >/dev/null
curl -s -o /dev/null -H "Host: push.sample.test" http://127.0.0.1:8081/api/v1/users/1
# the roster while it runs (readers work while the writer writes)
count() { "$BIN" endpoints --db "$t/db/r.db" --json 2>/dev/null |
          python3 -c 'import json,sys; print(sum(e["hits"] for e in json.load(sys.stdin)))'; }
wait_for 15 bash -c "[[ \$($(declare -f count); t=$t BIN=$BIN count) == 22 ]]" && ok || ko "22 hits while running: $(count)"
"$BIN" endpoints --db "$t/db/r.db" --json > "$t/e1.json" || ko "endpoints while running"
kill -0 $pid && ok || ko "capture died"
# who owns it, asked while it runs
out=$("$BIN" owner GET http://api.sample.test/api/v1/users/42 --db "$t/db/r.db" 2>&1)
[[ $out == *"/api/v1/users/{userId}"* && $out == *"state:    documented"* && $out == *"owner:    users-team"* ]] && ok || ko "owner while running: $out"
# the push thread delivers every new endpoint while it runs (signed, exactly once)
pushed() { # EVENT: "host method template" of every delivered delta of that event
  python3 - "$t/push.jsonl" "$1" <<'PY' 2>/dev/null
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert r["valid"] and 200 <= r["status"] < 300
    for d in json.loads(r["body"])["deltas"]:
        e = d["endpoint"]
        if d["event"] == sys.argv[2]:
            print(e["host"], e["method"], e["template"], e.get("state"), (e.get("previous") or {}).get("state"))
PY
}
wait_for 10 bash -c "[[ \$($(declare -f pushed); t=$t pushed endpoint.new | wc -l) == 16 ]]" && ok || ko "pushed while running: $(pushed endpoint.new | wc -l) endpoint.new deltas, want 16"
[[ $(pushed endpoint.new | sort -u | wc -l) == 16 ]] && ok || ko "a delta was delivered twice"

# a keep-alive connection that spans the SIGHUP: its second request must count
python3 - "$t/go" > "$t/ka.out" 2>&1 <<'PY' & ka=$!
import http.client, os, sys, time
c = http.client.HTTPConnection("127.0.0.1", 8080)
c.request("GET", "/api/v1/users/5150", headers={"Host": "api.sample.test"}); c.getresponse().read()
print("first", flush=True)
while not os.path.exists(sys.argv[1]): time.sleep(0.05)
c.request("GET", "/api/v1/users/5151", headers={"Host": "api.sample.test"}); print(c.getresponse().status)
PY
wait_for 10 grep -q first "$t/ka.out" || ko "keep-alive client"

# SIGHUP with a changed config: log_level is reloadable, snaplen needs a restart;
# and a changed spec: GET /api/v1/orders/{orderId} deprecated, /healthz documented
sed -i 's/^log_level = info/log_level = debug\nsnaplen = 4096/' "$t/c.conf"
spec true "  /healthz:
    get: {responses: {\"200\": {description: ok}}}"
kill -HUP $pid
wait_for 10 grep -q 'reload: done' "$t/err" && ok || ko "reload not done: $(cat "$t/err")"
grep -q '^RELOADING=1$' "$t/notify" && ok || ko "no RELOADING=1"
[[ $(grep -c '^READY=1$' "$t/notify") -ge 2 ]] && ok || ko "no READY=1 after the reload"
grep -q 'reload: capture.snaplen changed; it takes effect at the next restart' "$t/err" && ok || ko "snaplen change not reported"
kill -0 $pid && ok || ko "capture died on SIGHUP"
state() { "$BIN" endpoints --db "$t/db/r.db" --json | python3 -c '
import json, sys
print(" ".join(e["state"] for e in json.load(sys.stdin) if e["method"] == "GET" and e["path"] in sys.argv[1:]))' "$@"; }
[[ $(python3 -c 'import json,sys; print(" ".join(sorted(e["state"] for e in json.load(open(sys.argv[1])) if e["path"] in ("/healthz", "/api/v1/orders/{orderId}") and e["method"] == "GET")))' "$t/e1.json") == "documented shadow" ]] && ok || ko "states before the reload"
[[ $(state /healthz) == documented && $(state "/api/v1/orders/{orderId}") == zombie ]] && ok || ko "states after the reload: /healthz $(state /healthz), orders $(state "/api/v1/orders/{orderId}")"
wait_for 10 bash -c "$(declare -f pushed); t=$t pushed endpoint.state | grep -qx 'api.sample.test GET /healthz documented shadow'" && ok || ko "state change not pushed: $(pushed endpoint.state)"
touch "$t/go"; wait $ka
[[ $(tail -1 "$t/ka.out") == 200 ]] && ok || ko "keep-alive second request: $(cat "$t/ka.out")"

# round 2 after the reload
bash "$SRC/scripts/sample/clients.sh" >/dev/null
sleep 0.5
t0=$(date +%s.%N)
kill -TERM $pid; wait $pid; rc=$?
t1=$(date +%s.%N)
[[ $rc == 0 ]] && ok || ko "exit code $rc: $(tail -5 "$t/err")"
grep -q '^STOPPING=1$' "$t/notify" && ok || ko "no STOPPING=1"
[[ $(grep -c '^WATCHDOG=1$' "$t/notify") -ge 2 ]] && ok || ko "watchdog pings: $(grep -c WATCHDOG "$t/notify")"
grep -q '^STATUS=capturing on lo: ' "$t/notify" && ok || ko "no STATUS"
awk -v a="$t0" -v b="$t1" 'BEGIN{exit !(b - a < 5)}' && ok || ko "slow stop"

"$BIN" endpoints --db "$t/db/r.db" --json > "$t/e2.json"
"$BIN" stats --db "$t/db/r.db" --json > "$t/stats.json"
python3 - "$t" <<'PY' || fail=$((fail+1))
import json, sys
t = sys.argv[1]
A, S = "api.sample.test", "shop.sample.test"
expected1 = {
    (A, "GET", "/api/v1/users/me"): 1, (A, "GET", "/api/v1/users/{userId}"): 3,
    (A, "GET", "/api/v1/users/{userId}/orders"): 2, (A, "GET", "/api/v1/orders/{orderId}"): 2,
    (A, "GET", "/api/v1/orders/{orderId}/items"): 1, (A, "GET", "/api/v1/products/{productId}"): 2,
    (A, "GET", "/api/v1/reports/daily/{date}"): 2, (A, "GET", "/api/v1/search"): 1,
    (A, "POST", "/api/v1/orders"): 1, (A, "DELETE", "/api/v1/orders/{orderId}"): 1,
    (A, "GET", "/internal/debug/vars"): 1, (A, "GET", "/healthz"): 1,
    (S, "GET", "/.env"): 1, (S, "GET", "/wp-login.php"): 1, (S, "GET", "/.git/config"): 1,
    (S, "GET", "/phpmyadmin/index.php"): 1,
}
def roster(f):
    return {(e["host"], e["method"], e["path"]): e["hits"] for e in json.load(open(f))}
bad = 0
e1 = roster(f"{t}/e1.json")
if e1 != expected1:
    bad += 1; print("FAIL: roster while running:", sorted(set(e1.items()) ^ set(expected1.items())))
expected2 = {k: 2 * v for k, v in expected1.items()}
expected2[(A, "GET", "/api/v1/users/{userId}")] += 2      # the keep-alive pair
e2 = roster(f"{t}/e2.json")
if e2 != expected2:
    bad += 1; print("FAIL: final roster:", sorted(set(e2.items()) ^ set(expected2.items())))
c = json.load(open(f"{t}/stats.json"))["counters"]
want = {"exchanges": 46, "kernel_drops": 0, "iface_drops": 0, "flush_deferred": 0,
        "flush_failed": 0, "requests_no_response": 0, "http_parse_errors": 0}
for k, v in want.items():
    if c.get(k) != v:
        bad += 1; print(f"FAIL: counter {k} = {c.get(k)}, want {v}")
if not c.get("kernel_received", 0) >= c.get("packets", 0) > 0:
    bad += 1; print("FAIL: kernel_received", c.get("kernel_received"), "packets", c.get("packets"))
sys.exit(1 if bad else 0)
PY
((fail == 0)) && ok
for secret in sample-not-a-real-token sample-key not-a-real-session secret+words; do
  ! grep -rqaF "$secret" "$t/err" "$t/db" "$t/notify" && ok || ko "'$secret' was written"
done
grep -q 'capture filter: .not (host 127.0.0.1 and tcp port 8081).' "$t/err" && ok || ko "push target not filtered: $(grep filter "$t/err")"

# a writer that cannot write: another connection holds the write lock for 8 s
# (longer than the store's busy timeout). The packet thread must go on, put its
# flushes off (flush_deferred), keep at most max_endpoints endpoints and count
# what it drops; the writer retries; nothing is lost that was not counted.
printf '[inventory]\nflush_interval = 1s\n[capture]\nuser = nobody\n[limits]\nmax_endpoints = 5\n' > "$t/s.conf"
chmod 644 "$t/s.conf"
"$BIN" capture -i lo --db "$t/db/s.db" --config "$t/s.conf" 2>"$t/err-s" & spid=$!
wait_for 10 grep -qs 'capturing on lo' "$t/err-s" || ko "slow writer: no start"
sleep 2.2   # two flushes: the WAL exists, owned by nobody
runuser -u nobody -- python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE"); open(sys.argv[2], "w").close(); time.sleep(8); c.execute("COMMIT")
' "$t/db/s.db" "$t/db/locked" & lk=$!
wait_for 10 test -e "$t/db/locked" || ko "slow writer: no lock"
bash "$SRC/scripts/sample/clients.sh" >/dev/null
kill -0 $spid && ok || ko "slow writer: capture died"
wait $lk
sleep 2.5
kill -TERM $spid; wait $spid; rc=$?
[[ $rc == 0 ]] && ok || ko "slow writer: exit code $rc: $(tail -3 "$t/err-s")"
"$BIN" stats --db "$t/db/s.db" --json > "$t/stats-s.json"
"$BIN" endpoints --db "$t/db/s.db" --json > "$t/e-s.json"
python3 - "$t" <<'PY' && ok || ko "slow writer: see above"
import json, sys
t = sys.argv[1]
c = json.load(open(f"{t}/stats-s.json"))["counters"]
hits = sum(e["hits"] for e in json.load(open(f"{t}/e-s.json")))
bad = 0
for k in ("flush_failed", "flush_deferred", "limit_max_endpoints", "db_dropped"):
    if not c.get(k, 0) >= 1:
        bad += 1; print(f"FAIL: slow writer: {k} = {c.get(k)}, want >= 1")
if c["exchanges"] != 22 or hits != c["exchanges"] - c["db_dropped"]:
    bad += 1; print(f"FAIL: slow writer: {hits} hits stored, {c['exchanges']} exchanges, {c['db_dropped']} dropped")
sys.exit(1 if bad else 0)
PY
grep -q 'flush deferred: the writer is still busy' "$t/err-s" && ok || ko "slow writer: deferral not logged"

# a quiet interface: nothing matches the filter; the loop still wakes up
listen "$notify-q" "$t/notify-q"
wait_for 10 test -e "$t/notify-q" || ko "notify listener (quiet)"
NOTIFY_SOCKET=@$notify-q WATCHDOG_USEC=1000000 \
  "$BIN" capture -i lo --db "$t/db/q.db" --config "$t/c.conf" --filter 'tcp port 9' \
  2>"$t/err-q" & qpid=$!
wait_for 10 grep -qs '^READY=1$' "$t/notify-q" && ok || ko "quiet: no READY=1: $(cat "$t/err-q")"
sleep 2.5
[[ $(grep -c '^WATCHDOG=1$' "$t/notify-q") -ge 4 ]] && ok || ko "quiet: $(grep -c WATCHDOG "$t/notify-q") watchdog pings in 2.5 s"
t0=$(date +%s.%N)
kill -TERM $qpid; wait $qpid; rc=$?
t1=$(date +%s.%N)
[[ $rc == 0 ]] && ok || ko "quiet: exit code $rc"
awk -v a="$t0" -v b="$t1" 'BEGIN{exit !(b - a < 2)}' && ok || ko "quiet: SIGTERM took $(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') s"
[[ $("$BIN" endpoints --db "$t/db/q.db" --json) == "[]" ]] && ok || ko "quiet: roster not empty"

echo "live: $pass passed, $fail failed"
((fail == 0))
