// The engine issue's hostile cases, timed (after `npm run build`):   node bench/hostile.js [--rounds N]
//   1. `content:"a"; pcre:"/(a*)*\1b/R"` on UDP datagrams of 400, 1,600 and 65,000 bytes of "a" (before the native
//      engine: 32 s for 400 bytes, 4 minutes for 1,600);
//   2. ET Open 2019 sid 2016323 (emerging-dos.rules) on a 60 KB datagram repeating "\r\nST:" (before: 0.6 s).
// Engine time is Matcher.inspect of one packet, in process (no pipeline, no output): the first inspection (PCRE2
// compiles and JITs the pattern then) and the median of N more. The work the matcher counted (pcre calls and steps,
// bytes searched) and the limits it reached are printed too: they, not the clock, bound the work (budget.ts), and
// they are the same on every run.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const etDir = join(repo, '..', 'shared', 'corpus/rules/et-open-snort-2.9.0-2019-12-04');
const ROUNDS = (() => {
  const i = process.argv.indexOf('--rounds');
  return i > 0 ? Number(process.argv[i + 1]) : 9;
})();
const TARGET_MS = 50;

const { Matcher } = await import('../dist/match/engine.js');
const { compileRuleSet } = await import('../dist/match/compile.js');
const { parseRules } = await import('../dist/parser/parse.js');
const { VariableTable } = await import('../dist/config/variables.js');
const { defaultClassifications } = await import('../dist/config/classification.js');

/** The plan of some rule text, with variables set as `--var NAME=VALUE` sets them. */
function loadRuleSetFromText(text, vars) {
  const r = parseRules(text, { file: 'hostile.rules' });
  const table = VariableTable.withDefaults();
  for (const v of vars) {
    const [name, value] = v.split('=');
    table.set({ kind: table.get(name)?.kind ?? 'var', name, value, origin: '--var' });
  }
  const set = {
    files: [{ path: '/hostile.rules', display: 'hostile.rules', file: r.file, diagnostics: r.diagnostics }],
    ruleFiles: [{ path: '/hostile.rules', display: 'hostile.rules' }],
    configs: [],
    vars: table,
    classifications: defaultClassifications(),
    diagnostics: [],
  };
  const compiled = compileRuleSet(set);
  if (compiled.failures.length > 0) throw new Error(`hostile rules did not compile: ${JSON.stringify(compiled.failures)}`);
  return compiled.plan;
}
const { buildIp } = await import('../dist/packet/build.js');
const { decodeIpPacket } = await import('../dist/packet/decode.js');

const udp = (payload, dport) =>
  decodeIpPacket(buildIp({ ip: { src: '10.1.1.1', dst: '192.168.1.2' }, udp: { sport: 1234, dport }, payload: Buffer.from(payload, 'latin1') }));
const itemOf = (packet) => ({
  kind: 'packet',
  packet,
  flow: undefined,
  fromClient: true,
  established: false,
  streamInserted: false,
  segment: undefined,
  http: [],
  payload: undefined,
});
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function time(label, rules, vars, payload, dport) {
  const plan = loadRuleSetFromText(rules, vars);
  const m = new Matcher(plan, undefined, { checksumMode: 'none' });
  const packet = udp(payload, dport);
  const before = { ...m.stats };
  let t = performance.now();
  const events = m.inspect(itemOf(packet)).length;
  const first = performance.now() - t;
  const work = {
    pcreCalls: m.stats.pcreCalls - before.pcreCalls,
    pcreSteps: m.stats.pcreSteps - before.pcreSteps,
    searchBytes: m.stats.searchBytes - before.searchBytes,
  };
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    t = performance.now();
    m.inspect(itemOf(packet));
    times.push(performance.now() - t);
  }
  const limits =
    Object.entries(m.limits.total)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  const worst = Math.max(first, ...times);
  console.log(
    `${label}: first inspection ${first.toFixed(1)} ms, median of ${ROUNDS} more ${median(times).toFixed(2)} ms, slowest ${worst.toFixed(1)} ms ` +
      `(target < ${TARGET_MS} ms: ${worst < TARGET_MS ? 'met' : 'not met'}); ${events} events; work per inspection: pcre calls ${work.pcreCalls}, ` +
      `pcre steps ${work.pcreSteps}, bytes searched ${work.searchBytes}; limits reached (all inspections): ${limits}`,
  );
}

const h1 = 'alert udp any any -> any any (msg:"hostile 1"; content:"a"; pcre:"/(a*)*\\1b/R"; sid:1;)\n';
for (const n of [400, 1600, 65000]) time(`content:"a"; pcre:"/(a*)*\\1b/R" on ${n.toLocaleString('en')} bytes of "a"`, h1, [], 'a'.repeat(n), 5555);
if (existsSync(etDir)) {
  const rule = readFileSync(join(etDir, 'emerging-dos.rules'), 'utf8')
    .split('\n')
    .find((l) => l.includes('sid:2016323;'));
  time('ET sid 2016323 on a 60,000-byte datagram repeating "\\r\\nST:"', `${rule}\n`, ['HOME_NET=192.168.0.0/16'], '\r\nST:'.repeat(12_000), 1900);
} else console.log(`ET sid 2016323: SKIPPED (${etDir} is absent)`);
