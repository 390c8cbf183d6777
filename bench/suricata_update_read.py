# Baseline for bench/parse.js: suricata-update's own rule reader (suricata.update.rule.parse_file, the lenient
# regex parser the issue names), over every .rules file of a directory, as a whole process.
# Needs the Debian package suricata-update (apt-get install suricata-update), run with the system /usr/bin/python3.
import os, sys, time

t0 = time.perf_counter()
from suricata.update import rule

n = 0
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if f.endswith(".rules"):
        n += len(rule.parse_file(os.path.join(d, f)))
ms = (time.perf_counter() - t0) * 1000
print(f"{ms:.0f} ms for {n} rules (interpreter start not included)")
