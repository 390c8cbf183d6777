# Baseline for bench/parse.js: a lenient regex rule reader in the style of suricata-update (Python), whole process.
import os, re, sys, time

t0 = time.perf_counter()
HEADER = re.compile(r"^(#)*[\s#]*((alert|log|pass|activate|dynamic|drop|reject|sdrop)\s*([^\s]*)\s*[^\s]*\s*[^\s]*\s*([-><]+)\s*[^\s]*\s*[^\s]*)\s*\((.*)\)\s*$")

def options(opts):
    out = []
    while opts:
        i = 0
        while True:
            j = opts.find(";", i)
            if j == -1:
                i = len(opts)
                break
            if j > 0 and opts[j - 1] == "\\":
                i = j + 1
                continue
            i = j
            break
        opt = opts[:i].strip()
        opts = opts[i + 1:].strip()
        name, _, val = opt.partition(":")
        out.append((name.strip(), val.strip() if _ else None))
    return out

n = 0
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if not f.endswith(".rules"):
        continue
    with open(os.path.join(d, f), encoding="utf-8") as fh:
        for line in fh:
            m = HEADER.match(line)
            if m:
                options(m.group(6))
                n += 1
ms = (time.perf_counter() - t0) * 1000
print(f"{ms:.0f} ms for {n} rules (interpreter start not included)")
