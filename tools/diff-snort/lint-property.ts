/**
 * The lint property: on generated rules, `honeywall lint` reports an error exactly on the lines Snort 2.9.20 refuses.
 * Rules are written many to a file; Snort stops at the first rule it refuses, so each refused line is commented out
 * (line numbers stay) and Snort runs again, until it loads the rest: one run per refused rule, plus one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { parseRules } from '../../src/parser/parse.js';
import { detectionFilterOpt, flowbitsOpt, flowOpt, icmpOpt, ipOnlyOpt, payloadOpt, tcpHeaderOpt, thresholdOpt } from './gen/options.js';
import { runSnort, writeConf } from './snort.js';

/** Options Snort may or may not accept: misuse, out-of-range values, repeats (the oracle says which). */
const DOUBTFUL = [
  'content:"abc"; depth:2;',
  'content:"a"; depth:0;',
  'content:"abc"; within:2;',
  'nocase;',
  'content:"a"; nocase; nocase;',
  'itype:300;',
  'tos:1; tos:2;',
  'fragbits:M; fragbits:D;',
  'content:"|4|";',
  'content:"";',
  'pcre:"/a/Q";',
  'byte_test:5,>,1,0;',
  'byte_jump:11,0,string;',
  'flow:to_server,to_client;',
  'threshold:type limit, track by_src, count 0, seconds 1;',
  'depth:5;',
  'ttl:300;',
  'isdataat:70000;',
  'distance:1;',
  'content:"a"; fast_pattern; fast_pattern;',
  'content:"a"; fast_pattern:only; distance:1;',
  'content:"a"; offset:-1;',
  'dsize:300<>100;',
  'flags:Z;',
  'ip_proto:300;',
  'icode:>300;',
  'byte_test:2,<,1,0,relative,little,big;',
  'flowbits:isset;',
  'flowbits:set,a b;',
  'detection_filter:track by_src, count 1;',
  'content:"a"; http_uri; rawbytes;',
  'pcre:"/a/U"; content:"b"; http_uri; within:1;',
  'uricontent:"a"; nocase; http_header;',
  'content:"a"; distance:1; offset:1;',
  'content:"ab"; depth:1; offset:1;',
  'byte_extract:1,0,v; byte_extract:1,0,v;',
  'content:"a"; within:65536;',
  'sameip; sameip;',
  'window:70000;',
  'stream_size:server,<,-1;',
  'id:70000;',
  'seq:abc;',
  'content:!"a"; fast_pattern;',
  'pcre:"/(?<n>a)\\k<m>/";',
  'pcre:"/a{2,1}/";',
  'pcre:"/[b-a]/";',
  'flow:established,not_established;',
  'flow:only_stream,no_stream;',
  'ttl:1; ttl:2;',
  'flags:S; flags:A;',
  'ip_proto:6;',
  'ip_proto:1; ip_proto:2;',
  'react:block;',
  'resp:rst_all; react:block;',
  'flow:only_frag;',
  'flow:no_frag,to_server;',
  'fragoffset:!>0;',
  'fragoffset:65535;',
  'fragoffset:1; fragoffset:2;',
  'byte_extract:1,0,v,big,little;',
  'byte_test:2,<,1,0,little,big;',
  'byte_extract:1,0,a; byte_extract:1,1,b; byte_extract:1,2,c;',
  'stream_size:client,<,0x10;',
  'dsize:5<>1;',
];

const option: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: payloadOpt() },
  { weight: 1, arbitrary: flowbitsOpt },
  { weight: 1, arbitrary: fc.oneof(thresholdOpt, detectionFilterOpt) },
  { weight: 1, arbitrary: flowOpt },
  { weight: 1, arbitrary: fc.oneof(ipOnlyOpt, tcpHeaderOpt, icmpOpt) },
  { weight: 3, arbitrary: fc.constantFrom(...DOUBTFUL) },
);

const ruleArb = fc.record({ proto: fc.constantFrom('tcp', 'udp', 'icmp', 'ip'), opts: fc.array(option, { minLength: 1, maxLength: 4 }) });

export interface LintFinding {
  line: number;
  rule: string;
  snort: string;
  honeywall: string;
}

export interface LintReport {
  rules: number;
  snortRefused: number;
  snortRuns: number;
  /** Lines where the two disagree: Snort refused and honeywall gave no error, or the reverse. */
  findings: LintFinding[];
}

/** At most this many Snort runs in one property run (one per refused rule). */
const MAX_RUNS = 400;

export function lintRules(seed: number, count: number): string[] {
  const mrng = new fc.Random(xoroshiro128plus(seed));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = ruleArb.generate(mrng, undefined).value;
    out.push(`alert ${r.proto} any any -> any any (msg:"lint ${i}"; ${r.opts.join(' ')} sid:${2_000_000 + i}; rev:1;)`);
  }
  return out;
}

export async function lintProperty(rules: readonly string[], dir: string): Promise<LintReport> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'lint.rules');
  const text = rules.join('\n') + '\n';
  const errors = new Map<number, string>();
  for (const d of parseRules(text, { file }).diagnostics)
    if (d.severity === 'error' && !errors.has(d.line)) errors.set(d.line, `${d.code}: ${d.message}`);
  const lines = [...rules];
  const refused = new Map<number, string>();
  const conf = writeConf(dir, [file]);
  let runs = 0;
  for (; runs < MAX_RUNS; runs++) {
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await runSnort(join(dir, 'snort'), conf, []);
    if (r.failed) {
      // some parsers stop Snort without naming the line ("ERROR: threshold: count: must be > 0"): the first line
      // whose prefix of the file makes Snort fail is it (bisection, a run per step)
      const at = await firstFailing(lines, file, dir, conf);
      if (at === undefined) throw new Error(`Snort failed:\n${r.failed}`);
      runs += at.runs;
      refused.set(at.line + 1, /ERROR: (.*)/.exec(r.failed)?.[1]?.trim() ?? 'refused');
      lines[at.line] = `# refused by Snort: ${lines[at.line]}`;
      continue;
    }
    if (!r.refused) break;
    const i = r.refused.line - 1;
    if (i < 0 || i >= lines.length || refused.has(i + 1)) throw new Error(`Snort refused line ${r.refused.line} again: ${r.refused.message}`);
    refused.set(i + 1, r.refused.message);
    lines[i] = `# refused by Snort: ${lines[i]}`;
  }
  if (runs >= MAX_RUNS) throw new Error(`more than ${MAX_RUNS} Snort runs`);
  const findings: LintFinding[] = [];
  rules.forEach((rule, i) => {
    const s = refused.get(i + 1);
    const h = errors.get(i + 1);
    if ((s === undefined) !== (h === undefined)) findings.push({ line: i + 1, rule, snort: s ?? 'loads', honeywall: h ?? 'no error' });
  });
  return { rules: rules.length, snortRefused: refused.size, snortRuns: runs + 1, findings };
}

/** The index of the first line whose prefix (lines 0..it) Snort fails to load, and the runs it took to find. */
async function firstFailing(lines: readonly string[], file: string, dir: string, conf: string): Promise<{ line: number; runs: number } | undefined> {
  const fails = async (n: number): Promise<boolean> => {
    writeFileSync(file, lines.slice(0, n).join('\n') + '\n');
    const r = await runSnort(join(dir, 'snort'), conf, []);
    return r.failed !== undefined || r.refused !== undefined;
  };
  let lo = 0; // the first lo lines load
  let hi = lines.length; // the first hi lines fail
  let runs = 0;
  if (!(await fails(hi))) return undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    runs++;
    if (await fails(mid)) hi = mid;
    else lo = mid;
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return { line: hi - 1, runs: runs + 1 };
}
