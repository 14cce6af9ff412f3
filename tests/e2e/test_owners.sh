#!/usr/bin/env bash
# Owners (#5): the Backstage petstore example answers `apiroster owner`; every
# CODEOWNERS file of the corpus is read (the GitLab one with its section) or
# refused line-precisely; on the truth capture with the project's ownership
# fixtures (tests/fixtures/truth: a catalog, a rules file, a spec with x-owner,
# a config pin and host rule) every endpoint is owned or explicitly unowned and
# each precedence level gives its source and evidence, a disagreement kept.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
SHARED=${APIROSTER_SHARED:-$SRC/../shared}
F=$SRC/tests/fixtures/truth
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }

# bad input: exit 2; a rules file with a bad line: file:line
out=$("$BIN" owner --db "$t/x.db" GET notaurl 2>&1); [[ $? == 2 ]] && ok || ko "bad URL: $out"
printf 'api.test/** @a\n!api.test/x @b\n' > "$t/BAD_CODEOWNERS"
out=$("$BIN" import --db "$t/x.db" --as rules "$t/BAD_CODEOWNERS" 2>&1); rc=$?
[[ $rc == 2 && $out == *"BAD_CODEOWNERS:2: "* ]] && ok || ko "bad rules: rc=$rc $out"

# --as catalog on a file without entities (a spec): refused, nothing imported
out=$("$BIN" import --db "$t/nc.db" --as catalog "$SRC/tests/fixtures/truth/api-example.yaml" 2>&1); rc=$?
[[ $rc == 2 && $out == *"api-example.yaml: not a Backstage catalog"* ]] && ok || ko "--as catalog of a spec: rc=$rc $out"

if [[ -d $SHARED/corpus/ownership ]]; then
  B=$SHARED/corpus/ownership/backstage/backstage-examples
  "$BIN" import --db "$t/p.db" "$B/petstore-api.yaml" >/dev/null && ok || ko "import petstore-api.yaml"
  "$BIN" owner --db "$t/p.db" GET http://petstore.swagger.io/v1/pets/12 --json > "$t/o.json"; rc=$?
  python3 - "$t/o.json" <<'PY' && [[ $rc == 0 ]] && ok || ko "petstore owner (rc=$rc): $(cat "$t/o.json")"
import json, sys
o = json.load(open(sys.argv[1]))
assert (o['owner'], o['source'], o['template'], o['state'], o['seen']) == \
    ('team-c', 'catalog', '/pets/{petId}', 'documented', False), o
assert o['evidence'].endswith('petstore-api.yaml:1'), o['evidence']
PY
  "$BIN" owner --db "$t/p.db" GET http://petstore.swagger.io/v1/nothing/here >/dev/null
  [[ $? == 1 ]] && ok || ko "unowned URL: exit 1"
  # the URL as a client sends it: host case, trailing dot, default port, dot segments
  got=$("$BIN" owner --db "$t/p.db" --json GET 'http://PetStore.Swagger.IO.:80/v1/x/../pets/./12' |
        python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["host"], o["template"], o["owner"])')
  [[ $got == "petstore.swagger.io /pets/{petId} team-c" ]] && ok || ko "normalized URL: $got"
  out=$("$BIN" owner --db "$t/p.db" GET 'http://[::1/x' 2>&1); rc=$?
  [[ $rc == 2 && $out == *"is not an http(s)://HOST"* ]] && ok || ko "bad host: rc=$rc $out"
  for f in "$SHARED"/corpus/ownership/codeowners/*; do
    "$BIN" import --db "$t/co.db" --as rules "$f" >/dev/null 2>"$t/err" && ok || ko "$f: $(cat "$t/err")"
  done
  got=$("$BIN" sources --db "$t/co.db" --json | python3 -c '
import json,sys
print(" ".join("%s=%d" % (s["path"].rsplit("/",1)[1].split(".")[0], s["rules"]) for s in json.load(sys.stdin)))')
  [[ $got == "cilium-ebpf=11 curl=0 grafana-beyla=6 kicad=24 mizu-docs=1 nodejs-node=151 oai-openapi-specification=6 oisf-suricata=16 opentelemetry-go=2 optic=2 postman-insights-agent=1" ]] \
    && ok || ko "rule counts: $got"
fi

if [[ -x $SHARED/bench/make-bench-pcap.sh ]] && [[ $(id -u) == 0 || -f ${APIROSTER_BUILD:-$SRC/build}/bench/api-200m.pcap ]]; then
  . "$SRC/tests/e2e/bench_captures.sh"
  C="--config $F/owners/apiroster.conf"
  "$BIN" import --db "$t/tr.db" $C "$F/api-example.yaml" "$F/owners/catalog-info.yaml" >/dev/null && ok || ko "import spec + catalog"
  "$BIN" import --db "$t/tr.db" $C --as rules "$F/owners/OWNERS" >/dev/null && ok || ko "import rules"
  "$BIN" capture --db "$t/tr.db" $C -r "$P.pcap" >/dev/null 2>&1 && ok || ko "capture"
  "$BIN" endpoints --db "$t/tr.db" --json > "$t/eps.json"
  python3 - "$t/eps.json" "$F" <<'PY' && ok || ko "owners of the truth roster"
import json, sys
eps = {(e['host'], e['method'], e['path']): e for e in json.load(open(sys.argv[1]))}
F = sys.argv[2]
rules = open(F + '/owners/OWNERS').read().splitlines()
def line(pattern):
    return F + '/owners/OWNERS:%d' % next(i + 1 for i, l in enumerate(rules) if l.split()[:1] == [pattern])
bad = 0
for k, e in eps.items():
    if not e['owner'] and e['owner_source'] != 'rules':
        print('neither owned nor explicitly unowned:', k, e['owner_source']); bad += 1
A = 'api.example.test'
want = {
    (A, 'GET', '/api/v1/admin/metrics'): ('security', 'pin', F + '/owners/apiroster.conf:3'),
    (A, 'GET', '/api/v1/search'): ('search-team', 'spec', F + '/api-example.yaml#/paths/~1v1~1search/get/x-owner'),
    (A, 'GET', '/api/v1/users/{id}'): ('users-team', 'catalog', F + '/owners/catalog-info.yaml:18'),
    ('orders.internal:3000', 'GET', '/api/v1/orders/{orderId}'): ('shop/orders', 'rules', line('orders.internal/**')),
    ('shop.example.test', 'GET', '/.env'): (None, 'rules', line('shop.example.test/.env')),
    ('api-internal.example.test', 'GET', '/api/v1/users/{userId}'): ('platform/internal', 'host', F + '/owners/apiroster.conf:4'),
    (A, 'GET', '/api/v1/users/by-email/{email}'): ('users-team', 'inferred', F + '/owners/catalog-info.yaml:18'),
    (A, 'POST', '/api/v1/events'): ('platform/api', 'rules', line('api.example.test/api/v1/events')),
}
for k, w in want.items():
    e = eps.get(k)
    got = e and (e['owner'], e['owner_source'], e['owner_evidence'])
    if got != w:
        print('owner of', k, ':', got, 'want', w); bad += 1
alts = [(a['owner'], a['source']) for a in eps[(A, 'POST', '/api/v1/auth/login')]['alternatives']]
if (eps[(A, 'POST', '/api/v1/auth/login')]['owner'], alts) != ('users-team', [('platform/api', 'rules')]):
    print('catalog vs rules drift on login:', alts); bad += 1
alts = [(a['owner'], a['source']) for a in eps[(A, 'GET', '/api/v1/search')]['alternatives']]
if alts != [('users-team', 'catalog')]:
    print('alternatives of search:', alts); bad += 1
print(f'owners: {len(eps)} endpoints, {bad} problems')
sys.exit(1 if bad else 0)
PY
  "$BIN" owners --db "$t/tr.db" $C --json > "$t/owners.json"
  python3 -c '
import json,sys
o = {t["owner"]: t for t in json.load(open(sys.argv[1]))}
assert o["users-team"]["zombie"] == 1 and o["users-team"]["unused"] == 1, o["users-team"]
assert o["security"]["endpoints"] == 1, o["security"]
print("owners:", ", ".join("%s %d" % (k, v["endpoints"]) for k, v in sorted(o.items(), key=lambda x: str(x[0]))))
' "$t/owners.json" && ok || ko "owners summary"
  n=$("$BIN" endpoints --db "$t/tr.db" --owner search-team --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  [[ $n == 1 ]] && ok || ko "endpoints --owner search-team: $n"
  "$BIN" export openapi --db "$t/tr.db" --owner users-team -o "$t/users.json" && python3 -c '
import json,sys
d = json.load(open(sys.argv[1]))
owners = {op.get("x-owner") for p in d["paths"].values() for m, op in p.items() if isinstance(op, dict) and "x-owner" in op}
assert owners == {"users-team"}, owners
' "$t/users.json" && ok || ko "export --owner"
fi
echo "owners: $pass passed, $fail failed"
((fail == 0))
