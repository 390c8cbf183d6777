#!/bin/bash
# Records the alert multisets Snort 2.9.20 gives for one rule file and capture under seeds 1..N of its random number
# generator (srand/srandom pinned by tools/diff-snort/seed-shim.c, LD_PRELOAD). Snort seeds it from the clock
# (sfutil/sfhashfcn.c sfhashfcn_new, Stream6 StreamTcpInitFlushPoints), and the order of a port group's rules, so of
# its detection option trees' children, is sfghash order (fpcreate.c fpCreatePortObject2PortGroup walks
# po->rule_hash): where that order decides an outcome, Snort's alerts differ from run to run.
# Usage: seeded-outcomes.sh TEST RULES PCAP [N]  -> TEST<TAB>multiset<TAB>runs, one line per distinct outcome
set -euo pipefail
test=$1 rules=$2 pcap=$3 n=${4:-40}
prefix=${SNORT_PREFIX:-/opt/snort-2.9.20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -shared -fPIC -o "$work/seed.so" "$(dirname "$0")/seed-shim.c" -ldl
{ cat "$prefix/etc/base.conf"; echo "include $rules"; } > "$work/snort.conf"
for s in $(seq 1 "$n"); do
  : > "$work/alert"
  SEED=$s LD_PRELOAD="$work/seed.so" "$prefix/bin/snort" -q -k none -c "$work/snort.conf" -N --treat-drop-as-alert \
    -r "$pcap" -A fast -l "$work" >/dev/null 2>&1
  sed -E 's/.*\[\*\*\] \[([0-9]+):([0-9]+):[0-9]+\].*/\1:\2/' "$work/alert" | sort -t: -k1,1n -k2,2n | uniq -c |
    awk '{printf "%s%s=%s", (NR>1?" ":""), $2, $1} END {print ""}'
done | sort | uniq -c | awk -v t="$test" '{c=$1; $1=""; sub(/^ /,""); print t "\t" $0 "\t" c}'
