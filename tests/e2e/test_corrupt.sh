#!/usr/bin/env bash
# The database is derived data (DESIGN.md section 6): a roster of ours that is
# corrupt is refused by the reading commands (exit 2, one line naming the file,
# saying it is corrupt and that the next capture rebuilds it, nothing moved), and
# `capture` moves it aside to PATH.corrupt-YYYYMMDDTHHMMSSZ byte for byte (with a
# -wal that holds frames, and its -shm), warns in one line naming both paths, and
# builds exactly the roster a fresh database gets; the config's [sources] come back
# by themselves. Corruptions made here: pages in the middle overwritten with
# garbage by dd (header kept), only the endpoint table's pages, a file cut short,
# a WAL left by a writer that died. A SQLite file of another application and a
# text file are still refused by capture and left byte-identical.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
S=$SRC/samples/sample.pcap
command -v python3 >/dev/null || { echo "corrupt: no python3, skipped"; exit 77; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }
sum() { sha256sum "$1" | cut -d' ' -f1; }
NEXT="the next capture moves it aside and rebuilds it"
cat > "$t/a.conf" <<EOF
[sources]
spec = $SRC/tests/fixtures/truth/api-example.yaml
EOF
CF="--config $t/a.conf"

# the reference: the sample's roster in a fresh database
"$BIN" capture $CF -r "$S" --db "$t/ref.db" 2>/dev/null && ok || ko "reference capture"
"$BIN" endpoints --db "$t/ref.db" --json > "$t/ref.json"
n=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(len(e), sum(x["hits"] for x in e))' "$t/ref.json")
[[ $n == "16 22" ]] && ok || ko "reference roster: $n (want 16 endpoints, 22 exchanges)"
npages=$(( $(stat -c %s "$t/ref.db") / 4096 ))

# every reading command: exit 2, one line on stderr, nothing moved or changed
readers() {     # DB WHAT
  local db=$1 what=$2 before; before=$(sum "$db")
  local cmds=("endpoints --json" "endpoints" "diff --json" "owners" "stats --json"
              "export openapi" "sources" "owner GET http://api.sample.test/api/v1/users/1")
  for c in "${cmds[@]}"; do
    "$BIN" $c --db "$db" >/dev/null 2>"$t/err"; rc=$?
    if [[ $rc == 2 && $(wc -l < "$t/err") == 1 ]] && grep -qF "apiroster: $db: database is corrupt (" "$t/err" &&
       grep -qF "$NEXT" "$t/err"; then ok; else ko "$what: $c: rc=$rc $(cat "$t/err")"; fi
  done
  [[ $(sum "$db") == "$before" ]] && ok || ko "$what: readers changed the file"
  ls "$db".corrupt-* >/dev/null 2>&1 && ko "$what: a reader moved it" || ok
}
# the capture: exit 0, one warning naming both paths, the same bytes aside, the
# sample's roster exactly, the spec of [sources] imported again
rebuilt() {     # DB WHAT BEFORE [WAL_BEFORE]
  local db=$1 what=$2 before=$3 walbefore=${4:-}
  "$BIN" capture $CF -r "$S" --db "$db" 2>"$t/err"; rc=$?
  [[ $rc == 0 ]] && ok || ko "$what: capture rc=$rc $(cat "$t/err")"
  local moved=("$db".corrupt-*[0-9]Z)
  [[ ${#moved[@]} == 1 && -f ${moved[0]} && ${moved[0]} =~ \.corrupt-[0-9]{8}T[0-9]{6}Z$ ]] \
    && ok || ko "$what: moved aside as: ${moved[*]}"
  [[ $(sum "${moved[0]}") == "$before" ]] && ok || ko "$what: the corrupt file's bytes changed"
  local w; w=$(grep -c 'warning: ' "$t/err")
  grep -F "apiroster: warning: $db: database is corrupt (" "$t/err" | grep -F "moved aside to ${moved[0]} " |
    grep -F 'sources imported with `apiroster import` must be imported again' |
    grep -qF "(the 1 [sources] entry of $t/a.conf is imported now)" && [[ $w == 1 ]] \
    && ok || ko "$what: warning: $(cat "$t/err")"
  if [[ -n $walbefore ]]; then
    [[ -f ${moved[0]}-wal && $(sum "${moved[0]}-wal") == "$walbefore" && -f ${moved[0]}-shm ]] \
      && ok || ko "$what: the WAL did not go with it: $(ls "$t")"
  fi
  "$BIN" endpoints --db "$db" --json > "$t/new.json"
  cmp -s "$t/new.json" "$t/ref.json" && ok || ko "$what: rebuilt roster differs from the sample's"
  local src; src=$("$BIN" sources --db "$db" --json | python3 -c 'import json,sys; print(" ".join(s["path"].rsplit("/",1)[1] for s in json.load(sys.stdin)))')
  [[ $src == api-example.yaml ]] && ok || ko "$what: sources after the rebuild: $src"
}

# 1. pages in the middle overwritten with garbage (dd), the header page kept
cp "$t/ref.db" "$t/m.db"
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7919 + 13) & 0xff for i in range(1 << 20)))' > "$t/junk"
dd if="$t/junk" of="$t/m.db" bs=4096 seek=$((npages / 4)) count=$((npages / 2)) conv=notrunc status=none
before=$(sum "$t/m.db")
readers "$t/m.db" "middle pages"
rebuilt "$t/m.db" "middle pages" "$before"

# 2. only the pages of the endpoint table (quick_check names the first bad page)
cp "$t/ref.db" "$t/e.db"
for p in $(python3 -c '
import sqlite3, sys
print(" ".join(str(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(
    "SELECT pageno FROM dbstat WHERE name IN (\"endpoint\", \"sqlite_autoindex_endpoint_1\") ORDER BY pageno")))' "$t/e.db"); do
  dd if="$t/junk" of="$t/e.db" bs=4096 seek=$((p - 1)) count=1 conv=notrunc status=none
done
before=$(sum "$t/e.db")
"$BIN" endpoints --db "$t/e.db" --json >/dev/null 2>"$t/err"; rc=$?
[[ $rc == 2 ]] && grep -qE "^apiroster: $t/e.db: database is corrupt \(quick_check: \*\*\* in database main \*\*\* Page [0-9]+: .*\); $NEXT\$" "$t/err" \
  && ok || ko "endpoint pages: endpoints rc=$rc $(cat "$t/err")"
rebuilt "$t/e.db" "endpoint pages" "$before"

# 3. cut short: our header, a third of the pages
cp "$t/ref.db" "$t/c.db"
truncate -s $(( npages / 3 * 4096 )) "$t/c.db"
before=$(sum "$t/c.db")
readers "$t/c.db" "truncated"
grep -qF "database is corrupt (truncated: the file has $(( npages / 3 * 4096 )) bytes, its header says $(( npages * 4096 )))" "$t/err" \
  && ok || ko "truncated: $(cat "$t/err")"
rebuilt "$t/c.db" "truncated" "$before"

# 4. a writer died with frames in the WAL, and the main file is damaged
cp "$t/ref.db" "$t/w.db"
python3 - "$t/w.db" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('PRAGMA wal_autocheckpoint=0')
c.execute("UPDATE run SET started = started + 1")
os._exit(0)     # no close: the WAL keeps its frames
PY
dd if="$t/junk" of="$t/w.db" bs=4096 seek=$((npages / 4)) count=$((npages / 2)) conv=notrunc status=none
[[ -s $t/w.db-wal ]] && ok || ko "no WAL left by the dead writer"
before=$(sum "$t/w.db"); walbefore=$(sum "$t/w.db-wal")
rebuilt "$t/w.db" "WAL" "$before" "$walbefore"

# 5. not ours: refused by capture as before, never moved, byte-identical
python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t(x)"); c.execute("INSERT INTO t VALUES (42)"); c.commit()' "$t/other.db"
printf 'hello\nthis is not a database\n' > "$t/text.db"
for f in other.db text.db; do
  before=$(sum "$t/$f")
  "$BIN" capture -r "$S" --db "$t/$f" 2>"$t/err"; rc=$?
  [[ $rc == 2 && $(wc -l < "$t/err") == 1 ]] && grep -qF "apiroster: $t/$f: not an apiroster database (" "$t/err" \
    && ok || ko "$f: rc=$rc $(cat "$t/err")"
  [[ $(sum "$t/$f") == "$before" ]] && ok || ko "$f: changed"
  ls "$t/$f".corrupt-* >/dev/null 2>&1 && ko "$f: moved aside" || ok
done

echo "corrupt: $pass passed, $fail failed"
((fail == 0))
