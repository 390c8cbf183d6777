// Matcher benchmark (after `npm run build`): node bench/match.js [--rounds N]
// 1. compile the enabled ET Open 2019 set (../shared/corpus/rules/...): time, peak RSS, artifact size;
// 2. load the artifact (time, memory);
// 3. replay a large capture built under /tmp from the suricata-verify pcaps (Ethernet ones, looped with rewritten
//    addresses so each loop is new flows) through decode -> flows -> HTTP -> matcher, in MB/s and packets/s,
//    against two baselines measured in the same run: decode only, and the pipeline without the matcher.
import v8 from 'node:v8';
// linear-time regexps must be switched on before any regexp exists (as bin/honeywall.js does)
v8.setFlagsFromString('--enable-experimental-regexp-engine');
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
v8.setFlagsFromString('--regexp-backtracks-before-fallback=10000');

const { existsSync, mkdirSync, readFileSync, readdirSync, statSync, openSync, writeSync, closeSync } = await import('node:fs');
const { dirname, join, resolve } = await import('node:path');
const { fileURLToPath } = await import('node:url');
const { loadRuleSet } = await import('../dist/config/ruleset.js');
const { compileRuleSet } = await import('../dist/match/compile.js');
const { buildPrefilter, Matcher } = await import('../dist/match/engine.js');
const { writeArtifact, readArtifact } = await import('../dist/match/artifact.js');
const { readCaptureAll } = await import('../dist/packet/pcap.js');
const { decode } = await import('../dist/packet/decode.js');
const { pipelineFor } = await import('../dist/match/replay.js');

const here = dirname(fileURLToPath(import.meta.url));
const shared = resolve(here, '..', '..', 'shared');
const etDir = join(shared, 'corpus/rules/et-open-snort-2.9.0-2019-12-04');
const svTests = join(shared, 'corpus/suricata-verify/tests');
if (!existsSync(etDir) || !existsSync(svTests)) {
  console.log(`match bench SKIPPED: ${shared}/corpus is absent`);
  process.exit(0);
}
const argRounds = process.argv.indexOf('--rounds');
const LOOPS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 150;
const tmp = '/tmp/honeywall-bench';
mkdirSync(tmp, { recursive: true });
const mb = (n) => (n / 1048576).toFixed(1);
const rss = () => process.memoryUsage().rss;

// ---------------------------------------------------------------- 1. compile
const vars = ['HOME_NET=[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]', 'EXTERNAL_NET=any'];
let t0 = performance.now();
const set = loadRuleSet({ paths: [etDir], vars });
const tParse = performance.now() - t0;
const compiled = compileRuleSet(set);
const prefilter = buildPrefilter(compiled.plan);
const artifactPath = join(tmp, 'et2019.hwm');
const size = writeArtifact(artifactPath, compiled.plan, prefilter, {});
const tCompile = performance.now() - t0;
const rssCompile = rss();
console.log(`compile: ${compiled.total} enabled ET Open 2019 rules, ${compiled.plan.rules.length} compiled, ${compiled.failures.length} failed; ` +
  `${(tCompile / 1000).toFixed(2)} s (parse ${(tParse / 1000).toFixed(2)} s), RSS ${mb(rssCompile)} MiB; artifact ${mb(size)} MiB`);

// ---------------------------------------------------------------- 2. load, in a fresh process (as the runtime does)
{
  const { spawnSync } = await import('node:child_process');
  const probe = `import v8 from 'node:v8'; v8.setFlagsFromString('--enable-experimental-regexp-engine');
    const t0 = performance.now(); const base = process.memoryUsage().rss;
    const { loadMatcher } = await import(${JSON.stringify(join(here, '..', 'dist/match/artifact.js'))});
    const m = loadMatcher(${JSON.stringify(artifactPath)});
    console.log(JSON.stringify({ ms: performance.now() - t0, rss: process.memoryUsage().rss, base, rules: m.plan.rules.length }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  const j = JSON.parse(r.stdout.trim().split('\n').pop());
  console.log(`load (fresh process): ${(j.ms / 1000).toFixed(2)} s for ${j.rules} rules (artifact read, tables mapped, regexps compiled), RSS ${mb(j.rss)} MiB (node alone ${mb(j.base)} MiB)`);
}
const art = readArtifact(artifactPath);
const matcher = new Matcher(art.plan, art.prefilter, { checksumMode: 'none' });

// ---------------------------------------------------------------- 3. the capture
function pcapsUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...pcapsUnder(p));
    else if (name.endsWith('.pcap')) out.push(p);
  }
  return out;
}
const frames = [];
for (const f of pcapsUnder(svTests)) {
  const { records } = readCaptureAll(readFileSync(f), f);
  for (const r of records) if (r.linktype === 1) frames.push(r);
}
const big = join(tmp, 'big.pcap');
const fd = openSync(big, 'w');
const gh = Buffer.alloc(24);
gh.writeUInt32LE(0xa1b2c3d4, 0); gh.writeUInt16LE(2, 4); gh.writeUInt16LE(4, 6); gh.writeUInt32LE(262144, 16); gh.writeUInt32LE(1, 20);
writeSync(fd, gh);
let total = 0;
let count = 0;
for (let k = 0; k < LOOPS; k++) {
  const recs = [];
  for (const r of frames) {
    const d = Buffer.from(r.data);
    // rewrite the low address bytes (keeps HOME_NET membership): IPv4 (with or without one VLAN tag) and IPv6
    let o = 12;
    let et = d.readUInt16BE(o);
    if (et === 0x8100 && d.length > 18) { o += 4; et = d.readUInt16BE(o); }
    const ip = o + 2;
    if (et === 0x0800 && d.length >= ip + 20) {
      d[ip + 14] ^= k & 0xff; d[ip + 15] ^= (k >> 8) & 0xff; d[ip + 18] ^= k & 0xff; d[ip + 19] ^= (k >> 8) & 0xff;
    } else if (et === 0x86dd && d.length >= ip + 40) {
      d[ip + 22] ^= k & 0xff; d[ip + 23] ^= (k >> 8) & 0xff; d[ip + 38] ^= k & 0xff; d[ip + 39] ^= (k >> 8) & 0xff;
    }
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1_600_000_000 + k * 100, 0); h.writeUInt32LE(count % 1_000_000, 4); h.writeUInt32LE(d.length, 8); h.writeUInt32LE(d.length, 12);
    recs.push(h, d);
    total += d.length;
    count++;
  }
  writeSync(fd, Buffer.concat(recs));
}
closeSync(fd);
console.log(`capture: ${big}: ${count} packets, ${mb(total)} MiB of frames (${frames.length} Ethernet frames of the suricata-verify pcaps x ${LOOPS}, addresses rewritten per loop)`);
const records = readCaptureAll(readFileSync(big), big).records;

function timed(label, fn) {
  const t = performance.now();
  const extra = fn();
  const s = (performance.now() - t) / 1000;
  const line = `${label}: ${(total / 1e6 / s).toFixed(1)} MB/s, ${(count / s / 1000).toFixed(1)} kpackets/s (${s.toFixed(2)} s)`;
  console.log(extra ? `${line}; ${extra}` : line);
  return s;
}

const sDecode = timed('baseline decode only          ', () => {
  for (const r of records) decode(r.linktype, r.data, undefined, { verifyChecksums: false });
});
const sPipe = timed('baseline pipeline, no matcher ', () => {
  const pipe = pipelineFor({ checksumMode: 'none' });
  let items = 0;
  for (const r of records) items += pipe.push(r.linktype, r.data, r.tsSec, r.tsUsec).length;
  items += pipe.finish().length;
  return `${items} inspection items`;
});
const sMatch = timed('replay with ET 2019 matcher   ', () => {
  const pipe = pipelineFor({ checksumMode: 'none' });
  let events = 0;
  for (const r of records) for (const it of pipe.push(r.linktype, r.data, r.tsSec, r.tsUsec)) events += matcher.inspect(it).length;
  for (const it of pipe.finish()) events += matcher.inspect(it).length;
  const st = matcher.stats;
  return `${events} alerts, ${(st.candidates / Math.max(1, st.inspected)).toFixed(1)} candidate rules per inspected item, ` +
    `${matcher.guard.calls} time-bounded pcre calls (${matcher.guard.timeouts} out of time)`;
});
console.log(`matcher cost: ${((sMatch - sPipe) / sMatch * 100).toFixed(0)}% of replay time; replay is ${(sMatch / sDecode).toFixed(1)}x decode-only time`);
console.log('reference (Snort 2.9.20, 2-core machine, same rule set): load 3.8 s / 410 MB, ~21 MB/s, ~54 kpackets/s');
