#!/usr/bin/env bash
# Each third-party header lives in one module (DESIGN.md section 4), and sibling
# modules (collector, inventory, ownership) never include one another.
set -u
cd "${APIROSTER_SRC:-$(dirname "$0")/../..}"
fail=0
check() { # header regex, allowed directory
  local hits
  hits=$(grep -rlE "#[[:space:]]*include[[:space:]]*[<\"]($1)" --include='*.c' --include='*.h' \
         core collector inventory ownership agent 2>/dev/null | grep -vE "^($2)/" || true)
  if [[ -n $hits ]]; then
    echo "FAIL: <$1> included outside $2/: $hits"
    fail=1
  fi
}
check 'pcap' collector
check 'ndpi' collector
check 'llhttp' collector
check 'sqlite3\.h' inventory
check 'curl/' agent
check 'libfyaml\.h' 'inventory|ownership'
for m in collector inventory ownership; do
  for o in collector inventory ownership agent; do
    [[ $m == "$o" ]] && continue
    hits=$(grep -rlE "#[[:space:]]*include[[:space:]]*\"(\.\./)?$o/" $m 2>/dev/null || true)
    if [[ -n $hits ]]; then echo "FAIL: $m includes $o: $hits"; fail=1; fi
  done
done
hits=$(grep -rlE "#[[:space:]]*include[[:space:]]*\"(\.\./)?(collector|inventory|ownership|agent)/" core 2>/dev/null || true)
[[ -z $hits ]] || { echo "FAIL: core includes a module: $hits"; fail=1; }
hits=$(grep -rnE "\b(exit|_exit|abort)\(" collector inventory ownership 2>/dev/null || true)
[[ -z $hits ]] || { echo "FAIL: only agent/ may exit the process: $hits"; fail=1; }
if ((fail)); then echo "0 passed, 1 failed"; exit 1; fi
echo "layering: 1 passed, 0 failed"
