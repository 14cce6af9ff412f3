#!/usr/bin/env bash
# test.sh - install what is missing, build (warnings are errors), run every test.
#   scripts/test.sh            normal build in build/
#   SANITIZE=1 scripts/test.sh ASan+UBSan build in build-san/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [[ ${SANITIZE:-0} == 1 ]]; then
  dir=build-san
  flags=(-DAPIROSTER_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
  dir=build
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
cmake -S . -B "$dir" -DAPIROSTER_WERROR=ON "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
cd "$dir" && ctest --output-on-failure --timeout 1800 -j 2
