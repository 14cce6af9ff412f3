#!/usr/bin/env bash
# The OpenAPI export drops no hit (F8). Under /files of files.test, 20 e-mail
# addresses, 20 numeric ids and 20 words are three roster endpoints
# (/files/{email}, /files/{fileId}, /files/{file}); the same ids on files2.test
# a fourth; PROPFIND on both hosts two more. They are one OpenAPI path item with
# one GET whose hits and statuses are the sum of the four (each listed in
# x-apiroster-merged), PROPFIND listed once; over the whole document, the
# operations' hits add up to the roster's, and no path repeats a parameter name.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
command -v python3 >/dev/null || { echo "export: python3 not found, skipped"; exit 77; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
python3 - "$SRC/scripts/make-hostile-pcaps.py" "$t/files.pcap" <<'PY' || { echo "FAIL: pcap"; exit 1; }
import importlib.util, sys
spec = importlib.util.spec_from_file_location("gen", sys.argv[1])
g = importlib.util.module_from_spec(spec)
spec.loader.exec_module(g)
words = ["apple", "banana", "cherry", "damson", "elder", "fig", "grape", "guava", "kiwi", "lemon",
         "lime", "mango", "melon", "olive", "peach", "pear", "plum", "quince", "raisin", "tomato"]
pc = g.Pcap(sys.argv[2])
c = g.Conn(pc, 1700000000.0, g.LEGIT_C, 40001)
for i in range(20):
    for path, status in ((f"/files/user{i}@example.com", 200),
                         (f"/files/{1000 + i}", 404 if i % 4 == 0 else 200),
                         (f"/files/{words[i]}", 500 if i >= 18 else 200)):
        c.send(True, g.request("GET", path, "files.test"))
        c.send(False, g.response(status))
c.send(True, g.request("PROPFIND", "/files/1", "files.test"))
c.send(False, g.response(207))
t = c.close()
c = g.Conn(pc, t + 0.1, g.LEGIT_C, 40002)
for i in range(10):
    c.send(True, g.request("GET", f"/files/{2000 + i}", "files2.test"))
    c.send(False, g.response(200))
c.send(True, g.request("PROPFIND", "/files/2", "files2.test"))
c.send(False, g.response(207))
c.close()
pc.close()
PY
"$BIN" capture -r "$t/files.pcap" --db "$t/f.db" >/dev/null 2>"$t/err" || { echo "FAIL: capture"; cat "$t/err"; exit 1; }
"$BIN" endpoints --db "$t/f.db" --json > "$t/eps.json" || { echo "FAIL: endpoints"; exit 1; }
"$BIN" export openapi --db "$t/f.db" -o "$t/api.json" || { echo "FAIL: export"; exit 1; }
python3 - "$t/eps.json" "$t/api.json" <<'PY'
import json, re, sys
eps = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
passed = failed = 0

def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)

roster = {(e["host"], e["method"], e["path"]): e["hits"] for e in eps}
want = {("files.test", "GET", "/files/{email}"): 20, ("files.test", "GET", "/files/{fileId}"): 20,
        ("files.test", "GET", "/files/{file}"): 20, ("files2.test", "GET", "/files/{fileId}"): 10,
        ("files.test", "PROPFIND", "/files/{fileId}"): 1, ("files2.test", "PROPFIND", "/files/{fileId}"): 1}
check(roster == want, f"roster: {roster}")

items = {p: v for p, v in d["paths"].items() if p.startswith("/files/")}
check(len(items) == 1, f"one path item for /files/{{}}: {list(items)}")
item = next(iter(items.values()), {})
get = item.get("get", {})
check(get.get("x-apiroster-hits") == 70, f"GET hits {get.get('x-apiroster-hits')}, want 70")
check(get.get("summary") == "shadow (observed 70 times)", f"summary {get.get('summary')}")
st = {c: r["description"] for c, r in get.get("responses", {}).items()}
check(st == {"200": "observed 63 times", "404": "observed 5 times", "500": "observed 2 times"},
      f"statuses {st}")
merged = {(m["host"], m["path"]): m["hits"] for m in get.get("x-apiroster-merged", [])}
check(merged == {("files.test", "/files/{email}"): 20, ("files.test", "/files/{fileId}"): 20,
                 ("files.test", "/files/{file}"): 20, ("files2.test", "/files/{fileId}"): 10},
      f"x-apiroster-merged {merged}")
check(item.get("x-apiroster-other-methods") == ["PROPFIND"],
      f"other methods {item.get('x-apiroster-other-methods')}")

# the whole document: operations hold every exported hit; names unique per path
ops = [op for v in d["paths"].values() for m, op in v.items()
       if m in ("get", "put", "post", "delete", "options", "head", "patch", "trace")]
exported = sum(h for (host, m, p), h in roster.items() if m != "PROPFIND")
check(sum(op["x-apiroster-hits"] for op in ops) == exported,
      f"operations hold {sum(op['x-apiroster-hits'] for op in ops)} hits, the roster {exported}")
for p, v in d["paths"].items():
    names = re.findall(r"\{([^}]*)\}", p)
    check(len(names) == len(set(names)) and sorted(names) == sorted(x["name"] for x in v.get("parameters", [])),
          f"path parameters of {p}")
print(f"export: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
