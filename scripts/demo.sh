#!/usr/bin/env bash
# demo.sh - install what is missing, build, run the main job on the sample
# capture that ships in samples/, and print the roster.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target apiroster >/dev/null
db=${APIROSTER_DB:-build/sample.db}
rm -f "$db" "$db-wal" "$db-shm"
./build/apiroster capture -r samples/sample.pcap --db "$db"
./build/apiroster endpoints --db "$db"
