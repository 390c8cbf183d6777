#!/usr/bin/env bash
# The main job on the bundled defaults (npm start; scripts/quickstart.sh installs first): convert the bundled rules for
# a honeynet with the Honeywall's default policy (test rules on), lint the result, emit the bridge firewall for the
# bundled honeywall.conf, compile the inline rule set into a matcher and replay a capture through it. Everything lands
# in ./out.
set -euo pipefail
cd "$(dirname "$0")/.."
hw() { node bin/honeywall.js "$@"; }
rm -rf out && mkdir -p out

echo "== 1. convert: rulesets/sample-inbound.rules -> out/rules (policy rulesets/honeywall-policy.conf, --honeynet, --test-rules)"
hw convert rulesets/sample-inbound.rules --policy rulesets/honeywall-policy.conf --honeynet --test-rules --out out/rules --report text

echo
echo "== 2. lint the converted rules"
hw lint out/rules

echo
echo "== 3. firewall: rulesets/honeywall.conf -> out/firewall"
hw firewall --config rulesets/honeywall.conf --out out/firewall
ls -l out/firewall

echo
echo "== 4. compile the inline rules into a matcher (Hyperscan and PCRE2, the native engine)"
hw compile out/rules --out out/honeywall.matcher
echo
echo "== 5. replay what a honeypot sends out (fixtures/quickstart/honeypot-outbound.pcap) through it"
hw replay fixtures/quickstart/honeypot-outbound.pcap --matcher out/honeywall.matcher --format fast --checksum-mode none
echo
echo "done: see out/"
