#!/usr/bin/env python3
"""Checks apiroster against the benchmark truth (../shared/bench/make-bench-pcap.sh).

  bench_check.py exchanges TRUTH.tsv EXCHANGES.jsonl
      every request of the truth is one exchange, each with its status
  bench_check.py endpoints TRUTH.tsv ENDPOINTS.json
      the roster has exactly the truth's endpoints (method, host, template shape;
      parameter names ignored), no extra one
  bench_check.py same A.jsonl B.jsonl [--allow-missing N]
      two captures of the same traffic give the same exchanges (method, host, path,
      status), B missing at most N of A's
Prints 'N passed, M failed' and exits 1 on any failure."""
import collections
import json
import re
import sys

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def truth(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            count, method, host, tmpl, _q = line.rstrip("\n").split("\t")
            rows.append((int(count), method, host, tmpl))
    return rows


def shape(t):
    return re.sub(r"\{[^}]*\}", "{}", t)


def exchanges(path):
    with open(path, "rb") as f:
        return [json.loads(l) for l in f if l.strip()]


def key(x):
    return (x.get("method"), x.get("host"), x.get("path"), x.get("status"))


mode = sys.argv[1]
if mode == "exchanges":
    want = sum(r[0] for r in truth(sys.argv[2]))
    xs = exchanges(sys.argv[3])
    check(len(xs) == want, f"{len(xs)} exchanges, truth has {want} requests")
    nostatus = sum(1 for x in xs if x.get("status") is None)
    check(nostatus == 0, f"{nostatus} exchanges without a status")
    print(f"exchanges: {len(xs)} (truth {want}), without status: {nostatus}")
elif mode == "endpoints":
    want = {(m, h, shape(t)) for _c, m, h, t in truth(sys.argv[2])}
    got_list = [(e["method"], e["host"], shape(e["path"])) for e in json.load(open(sys.argv[3]))]
    got = set(got_list)
    check(len(got_list) == len(got), "duplicate endpoints in the roster")
    for m in sorted(want - got):
        check(False, f"missing endpoint {m}")
    for m in sorted(got - want):
        check(False, f"extra endpoint {m}")
    check(want == got, f"roster has {len(got)} endpoints, truth {len(want)}")
    print(f"endpoints: {len(got)} (truth {len(want)})")
elif mode == "same":
    allow = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--allow-missing" else 0
    a = collections.Counter(key(x) for x in exchanges(sys.argv[2]))
    b = collections.Counter(key(x) for x in exchanges(sys.argv[3]))
    missing = a - b
    extra = b - a
    n_missing = sum(missing.values())
    check(n_missing <= allow, f"{sys.argv[3]} misses {n_missing} exchanges of {sys.argv[2]}: "
          f"{list(missing.items())[:5]}")
    check(not extra, f"{sys.argv[3]} has {sum(extra.values())} exchanges {sys.argv[2]} has not: "
          f"{list(extra.items())[:5]}")
    print(f"same: {sum(a.values())} vs {sum(b.values())}, missing {n_missing}, extra {sum(extra.values())}")
else:
    sys.exit("usage: bench_check.py exchanges|endpoints|same ...")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
