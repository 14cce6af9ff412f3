#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages apiroster needs to build and test.
# Idempotent: installs only what is missing. llhttp's C sources come from the Debian
# package node-llhttp; to avoid dragging in Node.js we unpack just that package into
# .deps/node-llhttp (apt-get download + dpkg-deb -x) unless it is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config
      libpcap-dev libndpi-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev libssl-dev
      check libfyaml-dev wamerican python3 tcpdump
      curl iproute2 systemd tcpreplay)   # live capture tests, systemd-analyze, bench-live

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -f /usr/share/llhttp/llhttp.c && ! -f .deps/node-llhttp/usr/share/llhttp/llhttp.c ]]; then
  echo "install-deps: unpacking node-llhttp into .deps/" >&2
  mkdir -p .deps
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download node-llhttp >/dev/null 2>&1) || { $SUDO apt-get update -qq; (cd "$tmp" && apt-get download node-llhttp >/dev/null); }
  dpkg-deb -x "$tmp"/node-llhttp_*.deb .deps/node-llhttp
  rm -rf "$tmp"
fi
echo "install-deps: ok" >&2
