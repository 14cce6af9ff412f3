#!/usr/bin/env bash
# Output files never destroy an input: `capture --exchanges/--tls` and `export
# openapi -o` naming the database (or its -wal/-shm, by any spelling, symlink
# included), a capture file being read, the config or each other are refused with
# one line and exit 2 before anything is opened for writing, and every input stays
# byte for byte as it was.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
S=$SRC/samples/sample.pcap
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }
sum() { md5sum "$1" | cut -d' ' -f1; }

"$BIN" capture -r "$S" --db r.db 2>/dev/null || ko "first capture"
printf '[capture]\nlog_level = info\n' > c.conf
db0=$(sum r.db); pcap0=$(sum "$S"); conf0=$(sum c.conf)
cp "$S" v.pcap

# refused: rc 2, one line on stderr naming the flag, the file and what it is
refused() { # WHAT EXPECTED-MESSAGE-PART COMMAND...
  local what=$1 want=$2; shift 2
  "$@" >out 2>err; local rc=$?
  if [[ $rc == 2 && $(wc -l <err) == 1 && $(cat err) == *"$want"* && ! -s out ]]; then ok
  else ko "$what: rc=$rc err=$(cat err)"; fi
}
refused "--exchanges = db" "--exchanges r.db: that is the database r.db; refusing to overwrite it" \
  "$BIN" capture -r "$S" --db r.db --exchanges r.db
refused "--exchanges = ./db" "--exchanges ./r.db: that is the database r.db" \
  "$BIN" capture -r "$S" --db r.db --exchanges ./r.db
mkdir -p sub && ln -s ../r.db sub/link.db
refused "--tls = symlink to db" "--tls sub/link.db: that is the database r.db" \
  "$BIN" capture -r "$S" --db r.db --tls sub/link.db
refused "--tls = db-wal (absent)" "--tls r.db-wal: that is the database's write-ahead log $t/r.db-wal" \
  "$BIN" capture -r "$S" --db "$t/r.db" --tls r.db-wal
[[ ! -e r.db-wal ]] && ok || ko "r.db-wal created"
refused "--exchanges = input" "--exchanges v.pcap: that is the capture file read by -r v.pcap" \
  "$BIN" capture -r "$S" -r v.pcap --db r2.db --exchanges v.pcap
[[ ! -e r2.db ]] && ok || ko "r2.db created although the capture was refused"
refused "--exchanges = config" "--exchanges c.conf: that is the configuration c.conf" \
  "$BIN" capture -r "$S" --db r.db --config c.conf --exchanges c.conf
refused "--tls = --exchanges" "--tls ./x.jsonl: that is the file of --exchanges x.jsonl" \
  "$BIN" capture -r "$S" --db r.db --exchanges x.jsonl --tls ./x.jsonl
[[ ! -e x.jsonl ]] && ok || ko "x.jsonl created"
refused "new db = --exchanges" "--exchanges new.db: that is the database new.db" \
  "$BIN" capture -r "$S" --db new.db --exchanges new.db
[[ ! -e new.db ]] && ok || ko "new.db created"
refused "export -o db" "-o r.db: that is the database r.db; refusing to overwrite it" \
  "$BIN" export openapi --db r.db -o r.db
refused "export -o db-shm" "-o r.db-shm: that is the database's shared-memory file r.db-shm" \
  "$BIN" export openapi --db r.db -o r.db-shm
refused "export -o config" "-o c.conf: that is the configuration c.conf" \
  "$BIN" export openapi --db r.db --config c.conf -o c.conf
[[ $(sum r.db) == "$db0" && $(sum "$S") == "$pcap0" && $(sum v.pcap) == "$pcap0" &&
   $(sum c.conf) == "$conf0" ]] && ok || ko "an input changed"
n=$("$BIN" endpoints --db r.db --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[[ $n == 16 ]] && ok || ko "roster after the refusals: $n endpoints"

# a database that cannot be used is found before any output is opened: the
# --exchanges file keeps its bytes, --tls is not created, also with two workers
echo '{"kept":1}' > keep.jsonl; keep0=$(sum keep.jsonl); echo garbage > bad.db
printf '[capture]\nworkers = 2\n' > w2.conf
for cfg in c.conf w2.conf; do
  for db in bad.db nodir/x.db; do
    "$BIN" capture -r "$S" --db "$db" --config "$cfg" --exchanges keep.jsonl --tls keep.tls \
      >/dev/null 2>err; rc=$?
    [[ $rc == 2 && $(sum keep.jsonl) == "$keep0" && ! -e keep.tls ]] && ok ||
      ko "bad database $db ($cfg): rc=$rc, --exchanges $(wc -c <keep.jsonl) bytes, $(cat err)"
  done
done

# allowed: other files, devices written twice, stdout
"$BIN" capture -r "$S" --db r.db --exchanges x.jsonl --tls t.jsonl 2>/dev/null && ok || ko "capture --exchanges x.jsonl"
[[ $(wc -l <x.jsonl) == 22 ]] && ok || ko "x.jsonl: $(wc -l <x.jsonl) lines"
"$BIN" capture -r "$S" --db r.db --exchanges /dev/null --tls /dev/null 2>/dev/null && ok || ko "/dev/null twice"
"$BIN" export openapi --db r.db -o o.json && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' o.json \
  && ok || ko "export -o o.json"
echo "clobber: $pass passed, $fail failed"
((fail == 0))
