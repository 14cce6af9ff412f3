#!/usr/bin/env bash
# Hostile captures (scripts/make-hostile-pcaps.py): a SYN flood over a million
# tuples, slowloris, 10,000 pipelined requests, request smuggling, overlapping
# segments with other bytes, a gzip bomb, a 1 MiB request line and 1000 paths of
# 4000 segments, each between two legitimate exchanges. For each: exit 0, exactly the two legitimate
# exchanges (GET legit.test /legit/before and /legit/after, 200), the limit or
# counter the attack must hit (exact counts), no header value written anywhere,
# and peak RSS under a bound computed from the configured limits:
#
#   bound = base + 4 MiB + W * 8 MiB (nDPI's module, built by each of the W
#                                   workers at its first flow that does not
#                                   open with a plain HTTP/1 line)
#         + min(flows, max_flows) * 520 B        (flow entry, app state, bucket head)
#         + http_conns * (4 KiB + max_header_bytes + pending * (max_target + 512 B))
#         + min(ooo_total_bytes, ooo_conns * ooo_bytes)
#
# where base is the peak RSS of the same run on baseline.pcap (the two legitimate
# exchanges alone: nDPI, SQLite, the binary), and flows, http_conns, pending (the
# requests a connection can hold) and ooo_conns are what the capture makes.
# Every run uses W = 2 workers ([capture] workers): each holds its share of the
# flows, so table-wide counters that count events of a table (flow_emergency)
# count once per worker. The captures are made into $APIROSTER_BUILD/hostile
# (about 15 s, 190 MB).
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
OUT=${APIROSTER_BUILD:-$SRC/build}/hostile
command -v python3 >/dev/null || { echo "hostile: python3 not found, skipped"; exit 77; }
[[ -x /usr/bin/time ]] || { echo "hostile: GNU time (/usr/bin/time) not found, skipped"; exit 77; }
if [[ ! -f $OUT/longline.pcap || $SRC/scripts/make-hostile-pcaps.py -nt $OUT/longline.pcap ]]; then
  python3 "$SRC/scripts/make-hostile-pcaps.py" "$OUT" >/dev/null || { echo "FAIL: make-hostile-pcaps.py"; exit 1; }
fi
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
printf '[capture]\nworkers = 2\n' > "$t/w.conf"
"$BIN" config show --config "$t/w.conf" > "$t/limits.txt" || { echo "FAIL: config show"; exit 1; }
# an ASan build has its own shadow memory: RSS is reported, not bounded
asan=0; ldd "$BIN" 2>/dev/null | grep -q libasan && asan=1
python3 - "$BIN" "$OUT" "$t" "$asan" <<'PY'
import json, os, subprocess, sys
BIN, OUT, T = sys.argv[1:4]
ASAN = sys.argv[4] == "1"
lim = {}
for line in open(f"{T}/limits.txt"):
    k, _, v = line.partition(" = ")
    if k.startswith("limits."):
        lim[k[7:]] = int(v)
    if k == "capture.workers":
        W = int(v)
passed = failed = 0

def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)

def run(name):
    """apiroster capture on NAME.pcap; returns (rc, summary, exchanges, peak RSS KiB)."""
    db = f"{T}/{name}.db"
    x = f"{T}/{name}.jsonl"
    with open(f"{T}/{name}.json", "wb") as so, open(f"{T}/{name}.err", "wb") as se:
        # GNU time, not wait4() here: a child forked from this Python process
        # starts with its pages, and ru_maxrss keeps them across exec
        rc = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", f"{T}/{name}.rss", BIN, "capture",
                              "-r", f"{OUT}/{name}.pcap", "--db", db, "--config", f"{T}/w.conf", "--exchanges", x, "--json"],
                             stdout=so, stderr=se)
    rss = int(open(f"{T}/{name}.rss").read().split()[-1])
    try:
        summary = json.load(open(f"{T}/{name}.json"))
    except ValueError:
        summary = {}
    xs = [json.loads(l) for l in open(x, "rb") if l.strip()] if os.path.exists(x) else []
    # privacy: the User-Agent and slowloris header values are in every capture;
    # none may reach the summary, the log, the exchanges or the database
    for f in (f"{T}/{name}.json", f"{T}/{name}.err", x, db):
        if os.path.exists(f):
            data = open(f, "rb").read()
            check(b"hostile-gen" not in data and b"s" * 64 not in data,
                  f"{name}: a header value in {os.path.basename(f)}")
    return rc, summary, xs, rss

def find(xs, method, path, host=None):
    return [x for x in xs if x["method"] == method and x["path"] == path
            and (host is None or x["host"] == host)]

def legit(name, xs):
    for p in ("/legit/before", "/legit/after"):
        got = find(xs, "GET", p, "legit.test")
        check(len(got) == 1 and got[0]["status"] == 200 and got[0]["client"].startswith("10.1.0.1:"),
              f"{name}: GET legit.test {p}: {got}")
    check(sum(1 for x in xs if x["host"] == "legit.test") == 2, f"{name}: legit.test exchanges")

# name: (flows, http_conns, pending per conn, ooo_conns)
shape = {
    "synflood":  (1_000_002, 2, 1, 0),
    "slowloris": (202, 202, 1, 0),
    "pipeline":  (3, 3, lim["max_pending"], 0),
    "smuggling": (5, 5, 2, 0),
    "overlap":   (52, 52, 1, 50),
    "gzipbomb":  (3, 3, 1, 0),
    "longline":  (3, 3, 1, 0),
}
rc, s, xs, base = run("baseline")
check(rc == 0 and len(xs) == 2, f"baseline: rc {rc}, {len(xs)} exchanges")
legit("baseline", xs)
print(f"hostile: baseline peak RSS {base / 1024:.1f} MiB")

def bound(name):
    flows, conns, pending, ooo = shape[name]
    b = base * 1024 + 4 * 2**20 + W * 8 * 2**20
    b += min(flows, lim["max_flows"]) * 520
    b += conns * (4096 + lim["max_header_bytes"] + pending * (lim["max_target"] + 512))
    b += min(lim["ooo_total_bytes"], ooo * lim["ooo_bytes"])
    return b // 1024

for name in shape:
    rc, s, xs, rss = run(name)
    b = bound(name)
    print(f"hostile: {name:10s} peak RSS {rss / 1024:6.1f} MiB  bound {b / 1024:6.1f} MiB  "
          f"{s.get('packets', 0)} packets, {len(xs)} exchanges")
    check(rc == 0, f"{name}: exit {rc}: {open(f'{T}/{name}.err').read()[-500:]}")
    if not ASAN:
        check(rss <= b, f"{name}: peak RSS {rss} KiB over the bound {b} KiB")
    legit(name, xs)
    c = lambda k: s.get(k, -1)
    if name == "synflood":
        # 1,000,000 SYNs + 2 legitimate connections; the table holds 262,144:
        # every new flow past that evicts the oldest (the closed legitimate one
        # expires on the 1 s emergency timeout instead)
        mf = lim["max_flows"]
        check(c("flows") == 1_000_002, f"synflood: flows {c('flows')}")
        check(c("flow_emergency") == W, f"synflood: flow_emergency {c('flow_emergency')}")
        check(c("limit_max_flows") == 1_000_002 - mf, f"synflood: limit_max_flows {c('limit_max_flows')}")
        check(c("flow_evicted") == 1_000_002 - mf - 1, f"synflood: flow_evicted {c('flow_evicted')}")
        check(c("limit_flow_timeout_emergency_closed") == 1, "synflood: emergency closed timeout")
        check(c("exchanges") == 2, f"synflood: exchanges {c('exchanges')}")
    elif name == "slowloris":
        check(c("limit_max_header_bytes") == 100, f"slowloris: max_header_bytes {c('limit_max_header_bytes')}")
        check(c("limit_max_headers") == 100, f"slowloris: max_headers {c('limit_max_headers')}")
        slow = find(xs, "GET", "/slow", "evil.test")
        check(len(slow) == 200 and all(x["status"] is None for x in slow), f"slowloris: {len(slow)} GET /slow")
        check(c("requests_no_response") == 200, f"slowloris: requests_no_response {c('requests_no_response')}")
    elif name == "pipeline":
        check(c("limit_max_pending") == 10000 - lim["max_pending"], f"pipeline: max_pending {c('limit_max_pending')}")
        pipe = {x["path"] for x in xs if x["path"] and x["path"].startswith("/pipe/") and x["status"] is None}
        check(pipe == {f"/pipe/{i}" for i in range(10000)}, f"pipeline: {len(pipe)} distinct /pipe/N without response")
        check(c("requests_no_response") == 10000, f"pipeline: requests_no_response {c('requests_no_response')}")
    elif name == "smuggling":
        # read as Zeek reads them (docs/decisions.md): chunked wins over
        # Content-Length; a duplicate Content-Length is a parse error after which
        # the smuggled request is found
        for m, p, st in (("POST", "/smuggle/clte", 200), ("POST", "/smuggle/tecl", 200),
                         ("POST", "/smuggle/dupcl", 400), ("GET", "/smuggled/dupcl", None)):
            got = find(xs, m, p, "evil.test")
            check(len(got) == 1 and got[0]["status"] == st, f"smuggling: {m} {p}: {got}")
        check(c("http_parse_errors") >= 1, f"smuggling: http_parse_errors {c('http_parse_errors')}")
    elif name == "overlap":
        check(c("tcp_overlap_diff") == 50, f"overlap: tcp_overlap_diff {c('tcp_overlap_diff')}")
        check(c("tcp_retransmitted") == 50, f"overlap: tcp_retransmitted {c('tcp_retransmitted')}")
        ok = [x for x in xs if x["path"] and x["path"].startswith("/overlap/") and x["status"] == 200]
        check(len(ok) == 50, f"overlap: {len(ok)} GET /overlap/N (the first bytes seen win)")
        check(not [x for x in xs if x["path"] and "evilpth" in x["path"]], "overlap: the later bytes won")
    elif name == "gzipbomb":
        got = find(xs, "GET", "/bomb", "evil.test")
        check(len(got) == 1 and got[0]["status"] == 200 and
              got[0]["resp_content_type"] == "application/octet-stream", f"gzipbomb: {got}")
        check(c("exchanges") == 3, f"gzipbomb: exchanges {c('exchanges')}")
    elif name == "longline":
        check(c("limit_max_target") == 1, f"longline: max_target {c('limit_max_target')}")
        got = [x for x in xs if x["host"] == "evil.test"]
        check(len(got) == 1 and got[0]["status"] == 414 and len(got[0]["path"]) <= lim["max_target"],
              f"longline: {[(x['status'], len(x['path'] or '')) for x in got]}")
# deep paths: templating is linear in the path (F3: 20 s for the first 500 when
# each segment hashed its whole prefix again; F9: 14 s for the 500 of integers
# when each new {idN} searched the output); their memory is the catalog's
rc, s, xs, rss = run("deeppaths")
c = lambda k: s.get(k, -1)
print(f"hostile: deeppaths  {c('seconds')} s, {s.get('packets', 0)} packets, {len(xs)} exchanges, "
      f"limit_max_collapse_depth {c('limit_max_collapse_depth')}")
check(rc == 0, f"deeppaths: exit {rc}: {open(f'{T}/deeppaths.err').read()[-500:]}")
legit("deeppaths", xs)
deep = [x for x in xs if x["host"] == "evil.test"]
check(len(deep) == 1000 and all(x["status"] == 200 and x["path"].count("/") == 4001 for x in deep),
      f"deeppaths: {len(deep)} exchanges")
check(c("limit_max_collapse_depth") >= 500, f"deeppaths: limit_max_collapse_depth {c('limit_max_collapse_depth')}")
check(c("limit_max_tracked_children") == 0, f"deeppaths: limit_max_tracked_children {c('limit_max_tracked_children')}")
# the time is printed above, not asserted (timed tests flake; scripts/bench.sh
# measures): limit_max_tracked_children == 0 is the sign of the linear path
if ASAN:
    print("hostile: ASan build: peak RSS reported, not checked against the bounds")
print(f"hostile: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
