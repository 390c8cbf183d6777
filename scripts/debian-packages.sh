#!/usr/bin/env bash
# Installs the Debian packages honeywall uses that are not installed yet (as root, or through sudo):
#   the native addons' headers and build tools (node-gyp): libhyperscan-dev and libpcre2-dev for the detection
#   engine, libnetfilter-queue-dev, libnetfilter-log-dev (and their libmnl/libnfnetlink) for the gateway;
#   iptables/iproute2 for the bridge firewall and the namespace honeynet, tcpdump for full capture and Sebek,
#   socat/iputils-ping/conntrack for the honeynet tests, gdb for the differential tests against Snort (a Snort 2.9.20
#   stuck in a loop is asked which rule it loops in: tools/diff-snort/snort-culprit.py); curl, wget, openssh-client,
#   openssl, nmap, bind9-dnsutils (dig) and ethtool for the real-traffic comparison against Snort (npm run
#   diff-snort-real, test/diff-snort-real.test.ts: real clients in the namespace honeynet, offloads turned off so
#   captures hold wire-sized frames); chromium for the console's browser tests (test/console-browser.test.ts drives
#   Debian's build with playwright-core: no browser is downloaded); postgresql (15) for the central store's tests
#   (test/central-store.test.ts: each run makes its own throwaway cluster with initdb in a temp dir, as the postgres
#   user, and removes it after) and bench/central.js; time (GNU time: the benches' peak RSS) and strace (bench/match.js
#   times Snort's rule load and packet loop by the calls it makes).
# Used by the quick start (scripts/quickstart.sh) and by CI (.ci/run).
set -euo pipefail
PKGS="libhyperscan-dev libpcre2-dev libnetfilter-queue-dev libnetfilter-log-dev libmnl-dev libnfnetlink-dev pkg-config python3 make g++
  iptables iproute2 tcpdump socat iputils-ping conntrack procps kmod gdb curl wget openssh-client openssl nmap bind9-dnsutils ethtool chromium postgresql time strace"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
as_root=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "honeywall setup: run as root, or install sudo, to install:$missing" >&2; exit 1; }
  as_root=(sudo)
fi
echo "honeywall setup: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
