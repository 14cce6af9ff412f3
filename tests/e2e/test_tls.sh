#!/usr/bin/env bash
# TLS-only hosts in the roster (#7), on real TLS captures of the corpus:
#   zeek/tls13-ech.pcap            2 connections, SNI cloudflare-ech.com (zeek ssl.log)
#   arkime/curl-enabled-tls13.pcap 1 connection, SNI enabled.tls13.com (arkime)
#   suricata-verify/ips-state-1    1 TLS connection, SNI evebox.org, and plaintext
#                                  HTTP GET / on evebox.org and testmyids.evebox.org
# Each TLS-only host is one endpoint (HOST * *, rule tls, state encrypted, hits =
# connections) in `endpoints --state encrypted`, counted by diff and owners, left out
# of the OpenAPI export and of the plaintext figures of stats; a host rule of the
# config owns it (source host); evebox.org has plaintext so it is not TLS-only. Then
# ips-state-1 split by port: its TLS connection alone makes evebox.org encrypted
# (with its endpoint.new in the outbox, owner included); its plaintext half removes
# that row again, with no outbox event for the removal. Skipped (exit 77) without
# ../shared.
set -u
SRC=${APIROSTER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${APIROSTER_BIN:-$SRC/build/apiroster}
SHARED=${APIROSTER_SHARED:-$SRC/../shared}
C=$SHARED/corpus/pcap
[[ -f $C/zeek/tls13-ech.pcap && -f $C/arkime/curl-enabled-tls13.pcap &&
   -f $C/suricata-verify/ips-state-1.pcap ]] || { echo "tls: $C not found, skipped"; exit 77; }
command -v python3 >/dev/null || { echo "tls: no python3, skipped"; exit 77; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }

cat > "$t/o.conf" <<'EOF'
# owners of TLS-only hosts: a host rule, as for any endpoint of the host
[owners]
host = *.tls13.com @tls-team
host = evebox.org @evebox-team
EOF
CF="--config $t/o.conf"

"$BIN" capture $CF --db "$t/a.db" --tls "$t/tls.jsonl" -r "$C/zeek/tls13-ech.pcap" \
  -r "$C/arkime/curl-enabled-tls13.pcap" -r "$C/suricata-verify/ips-state-1.pcap" 2>"$t/err" \
  && ok || ko "capture: $(cat "$t/err")"
# the connections with SNI, as `capture --tls` lists them: what the rows must count
got=$(python3 -c '
import json, sys, collections
c = collections.Counter(json.loads(l)["server_name"] for l in open(sys.argv[1]))
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))' "$t/tls.jsonl")
[[ $got == "cloudflare-ech.com=2 enabled.tls13.com=1 evebox.org=1" ]] && ok || ko "SNI connections: $got"

"$BIN" endpoints $CF --db "$t/a.db" --state encrypted --json > "$t/enc.json" && ok || ko "endpoints --state encrypted"
python3 - "$t/enc.json" "$t/o.conf" <<'PY' && ok || ko "encrypted endpoints: $(cat "$t/enc.json")"
import json, sys
eps = json.load(open(sys.argv[1]))
got = [(e['host'], e['method'], e['path'], e['hits'], e['rule'], e['state'], e['reason'], e['spec'],
        e['owner'], e['owner_source'], e['owner_evidence'], e['first_seen'], e['last_seen'])
       for e in eps]
R = 'TLS only: SNI seen, HTTP not visible here'
want = [
    ('cloudflare-ech.com', '*', '*', 2, 'tls', 'encrypted', R, None, None, 'none', None,
     '2023-10-16T12:18:18.602Z', '2023-10-16T12:18:20.909Z'),
    ('enabled.tls13.com', '*', '*', 1, 'tls', 'encrypted', R, None, 'tls-team', 'host',
     sys.argv[2] + ':3', '2019-08-07T21:08:34.677Z', '2019-08-07T21:08:34.677Z'),
]
assert got == want, got
assert all(e['statuses'] == {} and e['servers'] == [] and e['clients'] == 0 for e in eps), eps
PY
# evebox.org has plaintext HTTP: no encrypted row; the whole roster is exact
got=$("$BIN" endpoints --db "$t/a.db" --json | python3 -c '
import json, sys
print(" ".join("%s|%s|%s|%s|%d" % (e["host"], e["method"], e["path"], e["state"], e["hits"]) for e in json.load(sys.stdin)))')
[[ $got == "cloudflare-ech.com|*|*|encrypted|2 enabled.tls13.com|*|*|encrypted|1 evebox.org|GET|/|shadow|1 testmyids.evebox.org|GET|/|shadow|1" ]] \
  && ok || ko "roster: $got"
# the text listing shows the state column
"$BIN" endpoints --db "$t/a.db" --state encrypted | grep -Eq '^enabled\.tls13\.com +\* +\* +1 +encrypted +tls-team ' \
  && ok || ko "endpoints text: $("$BIN" endpoints --db "$t/a.db" --state encrypted)"

"$BIN" diff $CF --db "$t/a.db" --json > "$t/diff.json" && ok || ko "diff --json"
python3 - "$t/diff.json" <<'PY' && ok || ko "diff counts: $(cat "$t/diff.json")"
import json, sys
d = json.load(open(sys.argv[1]))
K = ('documented', 'shadow', 'zombie', 'unused', 'noise', 'encrypted')
got = {h['host']: tuple(h[k] for k in K) for h in d['hosts']}
assert got == {'cloudflare-ech.com': (0, 0, 0, 0, 0, 1), 'enabled.tls13.com': (0, 0, 0, 0, 0, 1),
               'evebox.org': (0, 1, 0, 0, 0, 0), 'testmyids.evebox.org': (0, 1, 0, 0, 0, 0)}, got
assert tuple(d['totals'][k] for k in K) == (0, 2, 0, 0, 0, 2), d['totals']
e = [x for h in d['hosts'] if h['host'] == 'enabled.tls13.com' for x in h['endpoints']]
assert [(x['method'], x['template'], x['state'], x['owner']) for x in e] == [('*', '*', 'encrypted', 'tls-team')], e
PY
"$BIN" diff $CF --db "$t/a.db" | grep -Eq '^total +0 +2 +0 +0 +0 +2$' && ok || ko "diff text: $("$BIN" diff $CF --db "$t/a.db")"

"$BIN" owners $CF --db "$t/a.db" --json > "$t/owners.json" && ok || ko "owners --json"
python3 - "$t/owners.json" <<'PY' && ok || ko "owners: $(cat "$t/owners.json")"
import json, sys
o = {x['owner']: (x['endpoints'], x['shadow'], x['encrypted']) for x in json.load(open(sys.argv[1]))}
assert o == {'tls-team': (1, 0, 1), 'evebox-team': (1, 1, 0), None: (2, 1, 1)}, o
PY

# the export has no "*" path and no server of a TLS-only host
"$BIN" export openapi $CF --db "$t/a.db" -o "$t/api.json" && python3 - "$t/api.json" <<'PY' && ok || ko "export openapi"
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d['paths']) == ['/'], sorted(d['paths'])
assert [s['url'] for s in d['servers']] == ['http://evebox.org', 'http://testmyids.evebox.org'], d['servers']
PY

# stats: TLS-only hosts and the per-host share count TLS connections, and the
# encrypted rows are not plaintext endpoints or exchanges
"$BIN" stats --db "$t/a.db" --json > "$t/stats.json" && python3 - "$t/stats.json" <<'PY' && ok || ko "stats: $(cat "$t/stats.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert [(h['server_name'], h['connections']) for h in s['tls_only_hosts']] == \
    [('cloudflare-ech.com', 2), ('enabled.tls13.com', 1)], s['tls_only_hosts']
got = {h['host']: (h['tls_connections'], h['http_exchanges']) for h in s['hosts']}
assert got == {'cloudflare-ech.com': (2, 0), 'enabled.tls13.com': (1, 0), 'evebox.org': (1, 1),
               'testmyids.evebox.org': (0, 1)}, got
PY

# ips-state-1 in two halves: TLS first (evebox.org is TLS-only), then plaintext
I=$C/suricata-verify/ips-state-1.pcap
"$BIN" capture $CF --db "$t/b.db" -r "$I" --filter "tcp port 443" 2>"$t/err" && ok || ko "capture :443: $(cat "$t/err")"
got=$("$BIN" endpoints $CF --db "$t/b.db" --json | python3 -c '
import json, sys
print(" ".join("%s|%s|%s|%s|%d|%s|%s" % (e["host"], e["method"], e["path"], e["state"], e["hits"], e["owner"], e["owner_source"]) for e in json.load(sys.stdin)))')
[[ $got == "evebox.org|*|*|encrypted|1|evebox-team|host" ]] && ok || ko "TLS half: $got"
"$BIN" capture $CF --db "$t/b.db" -r "$I" --filter "tcp port 80" 2>"$t/err" && ok || ko "capture :80: $(cat "$t/err")"
got=$("$BIN" endpoints $CF --db "$t/b.db" --json | python3 -c '
import json, sys
print(" ".join("%s|%s|%s|%s|%d" % (e["host"], e["method"], e["path"], e["state"], e["hits"]) for e in json.load(sys.stdin)))')
[[ $got == "evebox.org|GET|/|shadow|1 testmyids.evebox.org|GET|/|shadow|1" ]] && ok || ko "plaintext half: $got"
n=$("$BIN" endpoints --db "$t/b.db" --state encrypted --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[[ $n == 0 ]] && ok || ko "encrypted after plaintext: $n"
# the outbox heard of the encrypted host (with its owner), then of the two
# plaintext endpoints; the removal itself is not an event
python3 - "$t/b.db" <<'PY' && ok || ko "outbox"
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute('SELECT event, team, payload FROM outbox ORDER BY id').fetchall()
got = [(e, t, json.loads(p)['host'], json.loads(p)['template'], json.loads(p)['state'], json.loads(p)['owner'])
       for e, t, p in rows]
assert got == [('endpoint.new', 'evebox-team', 'evebox.org', '*', 'encrypted', 'evebox-team'),
               ('endpoint.new', None, 'testmyids.evebox.org', '/', 'shadow', None),
               ('endpoint.new', 'evebox-team', 'evebox.org', '/', 'shadow', 'evebox-team')], got
PY
got=$("$BIN" stats --db "$t/b.db" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(len(s["tls_only_hosts"]), " ".join("%s=%d/%d" % (h["host"], h["tls_connections"], h["http_exchanges"]) for h in s["hosts"]))')
[[ $got == "0 evebox.org=1/1 testmyids.evebox.org=0/1" ]] && ok || ko "stats after plaintext: $got"

echo "tls: $pass passed, $fail failed"
((fail == 0))
