#!/usr/bin/env bash
# Specs (#4): importing the corpus specs (every document that declares openapi or
# swagger is a spec; partial documents are skipped in a folder and refused alone;
# an unparseable file is exit 2 with file:line:column), the httpbin spec paired
# with the zeek captures that called httpbin, the truth capture judged against
# tests/fixtures/truth/api-example.yaml (exact states, scanner noise as noise),
# and the OpenAPI export linted by Redocly. Parts that need ../shared, the truth
# capture or npx are skipped (exit 77 when nothing ran).
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
SHARED=${APIROSTER_SHARED:-$SRC/../shared}
CHECK="python3 $SRC/tests/e2e/specs_check.py"
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }

# an unparseable file: exit 2, file:line:column, nothing stored
printf 'openapi: 3.0.0\ninfo: {title: x, version: "1"}\npaths:\n  /a: {get: {}\n' > "$t/bad.yaml"
printf 'openapi: 3.0.0\ninfo: {title: ok, version: "1"}\npaths:\n  /ok: {get: {}}\n' > "$t/ok.yaml"
out=$("$BIN" import --db "$t/bad.db" "$t/ok.yaml" "$t/bad.yaml" 2>&1); rc=$?
[[ $rc == 2 && $out == *"$t/bad.yaml:5:1: "* && $out == *"nothing imported"* ]] && ok || ko "unparseable: rc=$rc $out"
n=$("$BIN" sources --db "$t/bad.db" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[[ $n == 0 ]] && ok || ko "a failed import stored $n sources"
# re-importing a changed file replaces it; remove
"$BIN" import --db "$t/re.db" "$t/ok.yaml" >/dev/null && ok || ko "import ok.yaml"
printf 'openapi: 3.0.0\ninfo: {title: ok2, version: "2"}\npaths:\n  /ok: {get: {}, post: {}}\n' > "$t/ok.yaml"
"$BIN" import --db "$t/re.db" "$t/ok.yaml" >/dev/null
got=$("$BIN" sources --db "$t/re.db" --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s), s[0]["title"], s[0]["version"], s[0]["operations"])')
[[ $got == "1 ok2 2 2" ]] && ok || ko "re-import: $got"
"$BIN" sources --db "$t/re.db" remove "$t/ok.yaml" >/dev/null && ok || ko "sources remove"
[[ $("$BIN" sources --db "$t/re.db" --json) == "[]" ]] && ok || ko "source still listed after remove"

# a $ref or a catalog $text to a file that is not JSON or YAML is never read into
# the database; a $ref to a FIFO neither blocks nor is read
printf 'openapi: 3.0.0\ninfo: {title: l, version: "1"}\npaths:\n  /b: {$ref: "/etc/passwd"}\n  /f: {$ref: "fifo.yaml"}\n' > "$t/leak.yaml"
mkfifo "$t/fifo.yaml"
printf 'apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: y}\nspec:\n  type: openapi\n  owner: team-y\n  definition:\n    $text: /etc/passwd\n' > "$t/cat.yaml"
timeout 20 "$BIN" import --db "$t/leak.db" "$t/leak.yaml" "$t/cat.yaml" >/dev/null; rc=$?
[[ $rc == 0 ]] && ok || ko "import with refs to /etc/passwd and a FIFO: rc=$rc"
got=$(sqlite3 "$t/leak.db" "select path from source_file order by path" | tr '\n' ' ')
[[ $got == "$t/cat.yaml $t/leak.yaml " ]] && ok || ko "files stored: $got"
cat "$t"/leak.db* | grep -aq 'root:' && ko "/etc/passwd copied into the database" || ok
w=$("$BIN" sources --db "$t/leak.db" --json | python3 -c 'import json,sys; print(sum(len(s["warnings"]) for s in json.load(sys.stdin)))')
[[ $w == 4 ]] && ok || ko "warnings: $w"   # passwd, fifo, no operations; the catalog's definition

ran_shared=0
if [[ -d $SHARED/corpus/specs ]]; then
  ran_shared=1
  C=$(realpath "$SHARED/corpus/specs")
  out=$(/usr/bin/time -f '%e s %M KiB' "$BIN" import --db "$t/c.db" "$C" 2>"$t/time"); rc=$?
  [[ $rc == 0 ]] && ok || ko "import of the corpus specs: rc=$rc $(tail -3 "$t/time")"
  echo "import of $C: $(tail -1 "$t/time")"
  nskip=$(grep -c '^skipped ' <<<"$out")
  [[ $nskip == 8 && $out == *"skipped  $C/oai-examples/v2.0/yaml/petstore-separate/spec/Pet.yaml"* ]] \
    && ok || ko "partial documents skipped: $nskip"
  "$BIN" sources --db "$t/c.db" --json > "$t/sources.json" && $CHECK sources "$C" "$t/sources.json" && ok || ko "sources"
  out=$("$BIN" import --db "$t/p.db" "$C/oai-examples/v2.0/yaml/petstore-separate/spec/Pet.yaml" 2>&1); rc=$?
  [[ $rc == 2 && $out == *"Pet.yaml: neither an OpenAPI/Swagger spec"* ]] && ok || ko "partial alone: rc=$rc $out"
  /usr/bin/time -f '%e s %M KiB' "$BIN" import --db "$t/box.db" "$C/large/box-platform-openapi.json" >/dev/null 2>"$t/time" \
    && ok || ko "Box import"
  echo "import of the Box spec (296 operations): $(tail -1 "$t/time")"

  # httpbin: the zeek captures that called httpbin come out documented
  "$BIN" import --db "$t/h.db" "$C/paired/httpbin-openapi-3.0.json" >/dev/null
  Z=$SHARED/corpus/pcap/zeek
  "$BIN" capture --db "$t/h.db" -r "$Z/vxlan-encapsulated-http.pcap" -r "$Z/http-filename.pcap" >/dev/null 2>&1
  got=$("$BIN" endpoints --db "$t/h.db" --json | python3 -c '
import json,sys
for e in json.load(sys.stdin): print(e["host"], e["method"], e["path"], e["state"], e["spec"]["pointer"])')
  want=$'eu.httpbin.org GET /image/svg documented /paths/~1image~1svg/get\nhttpbin.org GET /response-headers documented /paths/~1response-headers/get'
  [[ $got == "$want" ]] && ok || ko "httpbin: $got"
fi

if [[ -x $SHARED/bench/make-bench-pcap.sh ]] && [[ $(id -u) == 0 || -f ${APIROSTER_BUILD:-$SRC/build}/bench/api-200m.pcap ]]; then
  ran_shared=1
  . "$SRC/tests/e2e/bench_captures.sh"
  "$BIN" import --db "$t/tr.db" "$SRC/tests/fixtures/truth/api-example.yaml" >/dev/null && ok || ko "import api-example.yaml"
  "$BIN" capture --db "$t/tr.db" -r "$P.pcap" >/dev/null 2>&1 && ok || ko "capture of the truth"
  "$BIN" endpoints --db "$t/tr.db" --json > "$t/tr.json" && $CHECK states "$t/tr.json" && ok || ko "truth states"
  "$BIN" diff --db "$t/tr.db" --json > "$t/diff.json" && $CHECK diff "$t/diff.json" && ok || ko "truth diff"
  # the same states when the spec is imported after the capture (judge_all)
  "$BIN" capture --db "$t/tr2.db" -r "$P.pcap" >/dev/null 2>&1
  "$BIN" import --db "$t/tr2.db" "$SRC/tests/fixtures/truth/api-example.yaml" >/dev/null
  "$BIN" endpoints --db "$t/tr2.db" --json --host api.example.test --state zombie > "$t/z.json"
  got=$(python3 -c 'import json,sys; print([(e["method"], e["path"]) for e in json.load(open(sys.argv[1]))])' "$t/z.json")
  [[ $got == "[('DELETE', '/api/v1/users/{userId}')]" ]] && ok || ko "zombie after a later import: $got"
  # the export of the truth roster passes Redocly's lint
  "$BIN" export openapi --db "$t/tr.db" -o "$t/export.json" && ok || ko "export"
  if command -v npx >/dev/null; then
    (cd "$t" && timeout 600 npx -y @redocly/cli@2.77.0 lint --format stylish export.json >"$t/lint.log" 2>&1) \
      && ok || { ko "redocly lint"; grep -v warning "$t/lint.log" | tail -20; }
    grep -E 'error|warning' "$t/lint.log" | tail -2
    python3 - "$t/export.json" <<'PY' && ok || ko "export content"
import json, sys
d = json.load(open(sys.argv[1]))
op = d['paths']['/api/v1/users/{id}']['delete']
assert op['x-apiroster-state'] == 'zombie', op
assert d['paths']['/api/v1/users/{id}']['parameters'][0]['name'] == 'id'
assert '/.env' not in d['paths'], 'noise exported'
assert d['paths']['/api/v1/users/{id}']['get']['responses']['404']['description'].startswith('observed')
print('export:', len(d['paths']), 'paths,', sum(len([k for k in v if k in ('get','put','post','delete','patch','head','options')]) for v in d['paths'].values()), 'operations')
PY
  else
    echo "specs: npx not found: the Redocly lint of the export was NOT run"
  fi
fi
echo "specs: $pass passed, $fail failed"
((fail == 0))
