/**
 * `honeywall compile` in two threads (src/match/compile-parallel.ts) writes the artifact and the report of one thread,
 * byte for byte (the artifact's meta.created aside), run after run: the built CLI on ET Open 2019 and on a snort.conf
 * set made to reach every part of the report (rules that fail, with file and line; pcre; approximated keywords;
 * variables defined in a rule file; rules written in the conf; event filters). A worker that fails is not waited for:
 * its files are compiled in the main thread, with the same result. Small sets are compiled in one thread.
 *
 * The worker thread runs compiled JavaScript (dist/), so the library is loaded from dist/ here (`npm test` builds
 * first); the corpus parts are skipped when ../shared is absent.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etDir, hasCorpus, repoRoot, ruleFilesIn } from './helpers/corpus.js';

const run = promisify(execFile);
const BIN = path.join(repoRoot, 'bin', 'honeywall.js');
const DIST = path.join(repoRoot, 'dist');
const VARS = ['--var', 'HOME_NET=[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]', '--var', 'EXTERNAL_NET=any'];

type ParallelModule = typeof import('../src/match/compile-parallel.js');
type RuleSetModule = typeof import('../src/config/ruleset.js');
type ArtifactModule = typeof import('../src/match/artifact.js');
type CompileModule = typeof import('../src/match/compile.js');
type StoredJsonModule = typeof import('../src/match/stored-json.js');

const load = async <T>(rel: string): Promise<T> => (await import(path.join(DIST, rel))) as T;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hw-compile-parallel-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The artifact without meta.created (the one thing that differs from run to run). */
function comparable(file: string): Buffer {
  const b = readFileSync(file);
  const jlen = b.readUInt32LE(12);
  const header = JSON.parse(b.toString('utf8', 16, 16 + jlen)) as { meta: { created?: string } };
  expect(header.meta.created).toMatch(/^\d{4}-/);
  delete header.meta.created;
  return Buffer.concat([b.subarray(0, 16), Buffer.from(JSON.stringify(header)), b.subarray(16 + jlen)]);
}

interface Compiled {
  art: Buffer;
  report: string;
  text: string;
  stderr: string;
  code: number;
}

/** The built CLI's compile with the threads set: the JSON report, and with `text` the text report of a second run. */
async function compile(args: string[], threads: '1' | '2', name: string, text = false): Promise<Compiled> {
  const out = path.join(dir, `${name}-${threads}.hwm`);
  const go = async (report: string) =>
    run(process.execPath, [BIN, 'compile', ...args, '--out', out, '--report', report], {
      env: { ...process.env, HONEYWALL_COMPILE_THREADS: threads },
      maxBuffer: 64 << 20,
    }).then(
      (r) => ({ ...r, code: 0 }),
      (e: { stdout: string; stderr: string; code: number }) => e,
    );
  const t = text ? await go('text') : { stdout: '', stderr: '' };
  const json = await go('json');
  return {
    art: comparable(out),
    report: json.stdout,
    // (the artifact's name and the time taken aside)
    text: t.stdout.replaceAll(out, 'OUT').replace(/ in [\d.]+ s\n$/, '\n'),
    stderr: json.stderr + t.stderr,
    code: json.code,
  };
}

function expectSame(a: Compiled, b: Compiled): void {
  expect(b.stderr).toBe('');
  expect(b.code).toBe(a.code);
  expect(b.report).toBe(a.report);
  expect(b.text).toBe(a.text);
  expect(b.art.length).toBe(a.art.length);
  expect(b.art.equals(a.art)).toBe(true);
}

describe.skipIf(!hasCorpus)('honeywall compile in two threads (ET Open 2019)', () => {
  let one: Compiled;

  beforeAll(async () => {
    one = await compile([etDir, ...VARS], '1', 'et');
  }, 180_000);

  it('the artifact and the report of one thread, run after run', async () => {
    expect(JSON.parse(one.report).rules.compiled).toBeGreaterThan(20_000);
    expectSame(one, await compile([etDir, ...VARS], '2', 'et'));
    expectSame(one, await compile([etDir, ...VARS], '2', 'et-again'));
  }, 240_000);

  it('the rules read back are those compiled in process, in order', async () => {
    const { loadRuleSet } = await load<RuleSetModule>('config/ruleset.js');
    const { compileRuleSet } = await load<CompileModule>('match/compile.js');
    const { readArtifact } = await load<ArtifactModule>('match/artifact.js');
    const { storedJson } = await load<StoredJsonModule>('match/stored-json.js');
    const plan = compileRuleSet(loadRuleSet({ paths: [etDir], vars: VARS.filter((v) => v !== '--var'), deferRuleFiles: true })).plan;
    const a = readArtifact(path.join(dir, 'et-2.hwm'));
    expect(a.table.count).toBe(plan.rules.length);
    for (let i = 0; i < plan.rules.length; i++) {
      const back = a.table.get(i);
      if (storedJson(back) !== storedJson(plan.rules[i])) expect(back).toEqual(plan.rules[i]);
    }
  }, 120_000);
});

describe.skipIf(!hasCorpus)('honeywall compile in two threads (a snort.conf set)', () => {
  it('the same artifact and report, failures with file and line in order', async () => {
    const rules = ruleFilesIn(etDir).filter((f) => /emerging-(web_client|exploit|trojan|dns|scan|info|sql|policy)\.rules$/.test(f));
    const extra = path.join(dir, 'local.rules');
    writeFileSync(
      extra,
      [
        'ipvar LOCAL_NET [192.0.2.0/24,!192.0.2.7]',
        'alert tcp $LOCAL_NET any -> $HOME_NET 23 (msg:"local a"; content:"root"; nocase; sid:9000001;)',
        'alert tcp any any -> any any (msg:"no sid"; content:"x";)',
        'alert tcp $NOPE any -> any any (msg:"unknown variable"; sid:9000002;)',
        'alert tcp any any -> any any (msg:"bad pcre"; pcre:"/(?<x/"; sid:9000003;)',
        'alert tcp any any -> any any (msg:"rpc"; rpc:100000,*,*; sid:9000004;)',
        'alert tcp any any -> any any (msg:"asn1"; asn1:bitstring_overflow; sid:9000005;)',
        '',
      ].join('\n'),
    );
    const conf = path.join(dir, 'snort.conf');
    writeFileSync(
      conf,
      [
        'ipvar HOME_NET [10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]',
        'ipvar EXTERNAL_NET !$HOME_NET',
        `include ${path.join(etDir, 'classification.config')}`,
        ...rules.map((f) => `include ${f}`),
        `include ${extra}`,
        'alert udp $HOME_NET any -> any 53 (msg:"in the conf"; content:"|01 00|"; offset:2; depth:2; sid:9000010;)',
        'event_filter gen_id 1, sig_id 9000010, type limit, track by_src, count 1, seconds 60',
        'suppress gen_id 1, sig_id 9000001, track by_dst, ip 10.1.1.1',
        'event_filter gen_id 1, sig_id 9000011, type nonsense',
        '',
      ].join('\n'),
    );
    const one = await compile(['--conf', conf], '1', 'conf', true);
    const report = JSON.parse(one.report) as { failures: { file: string; line: number }[]; approximated: Record<string, number> };
    expect(one.code).toBe(1);
    expect(report.failures.map((f) => `${path.basename(f.file)}:${f.line}`)).toEqual(
      expect.arrayContaining(['local.rules:3', 'local.rules:4', 'local.rules:5', 'local.rules:6', `snort.conf:${rules.length + 8}`]),
    );
    expect(report.approximated.asn1).toBeGreaterThan(0);
    expectSame(one, await compile(['--conf', conf], '2', 'conf', true));
  }, 180_000);
});

describe.skipIf(!hasCorpus)('honeywall compile in two threads (rule files of both dialects, UTF-8)', () => {
  // The worker gets each file's text as the load read it (a Suricata file's translation, a UTF-8 file decoded). The
  // files are shared out largest first: this thread takes emerging-trojan (4 MB, about half a second), and the worker,
  // started meanwhile, the next largest: the Suricata and the UTF-8 file (1 MB each). The artifact and report of one
  // thread either way.
  it('the same artifact and report', async () => {
    const set = path.join(dir, 'dialects');
    mkdirSync(set);
    for (const f of ruleFilesIn(etDir).filter((f) => /emerging-(trojan|dns|scan|sql)\.rules$/.test(f)))
      writeFileSync(path.join(set, path.basename(f)), readFileSync(f));
    const lines = (n: number, rule: (i: number) => string) => Array.from({ length: n }, (_, i) => rule(i)).join('\n') + '\n';
    writeFileSync(
      path.join(set, 'suricata.rules'),
      lines(
        4000,
        (i) =>
          `alert http any any -> any any (msg:"suricata uri ${i}"; flow:established,to_server; http.uri; content:"/evil-${i}.php"; classtype:trojan-activity; sid:${9_100_000 + i}; rev:1;)`,
      ),
    );
    writeFileSync(
      path.join(set, 'utf8.rules'),
      lines(
        6000,
        (i) =>
          `alert tcp any any -> any any (msg:"café ${i}, naïve: ünïcödé"; content:"caf|c3 a9| ${i}"; classtype:misc-activity; sid:${9_200_000 + i};)`,
      ),
    );
    const args = [set, ...VARS, '--input-dialect', 'auto'];
    const one = await compile(args, '1', 'dialects', true);
    expect(JSON.parse(one.report).rules.compiled).toBeGreaterThan(15_000);
    expectSame(one, await compile(args, '2', 'dialects', true));
  }, 180_000);
});

describe('the compile worker', () => {
  it('small sets are compiled in this thread', async () => {
    const { loadRuleSet } = await load<RuleSetModule>('config/ruleset.js');
    const { compilePacked } = await load<ParallelModule>('match/compile-parallel.js');
    const c = await compilePacked(loadRuleSet({ paths: [path.join(repoRoot, 'rulesets')], deferRuleFiles: true }));
    expect(c.threads).toBe(1);
    expect(c.rules.count).toBeGreaterThan(0);
  });

  it('one started before the load: stopped when the set needs one thread, or when the load fails', async () => {
    const { loadRuleSet } = await load<RuleSetModule>('config/ruleset.js');
    const { compilePacked, CompileWorkerLink } = await load<ParallelModule>('match/compile-parallel.js');
    const link = new CompileWorkerLink(new URL(`file://${path.join(DIST, 'match', 'compile-worker-entry.js')}`));
    const stopped = new Promise<void>((resolve) => {
      link.begin = () => resolve(); // (a link given its set would not be "stopped")
      const stop = link.stop.bind(link);
      link.stop = () => {
        stop();
        resolve();
      };
    });
    const c = await compilePacked(loadRuleSet({ paths: [path.join(repoRoot, 'rulesets')], deferRuleFiles: true }), { worker: link });
    expect(c.threads).toBe(1);
    await stopped;

    // the CLI starts one before loading when asked for two threads: a load that fails ends the command all the same
    const bad = path.join(dir, 'binary.rules');
    writeFileSync(bad, Buffer.from('alert tcp any any -> any any (sid:1;)\n\0\0\0'));
    const r = await run(process.execPath, [BIN, 'compile', bad, '--out', path.join(dir, 'never.hwm')], {
      env: { ...process.env, HONEYWALL_COMPILE_THREADS: '2' },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: '', killed: false }),
      (e: { code: number; stderr: string; killed: boolean }) => e,
    );
    expect(r.killed).toBe(false);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/binary\.rules: byte \d+: binary data/);
  }, 120_000);

  describe.skipIf(!hasCorpus)('a worker that fails', () => {
    const files = () => ruleFilesIn(etDir).filter((f) => /emerging-(web_client|exploit|dns|scan|info|sql|policy|activex)\.rules$/.test(f));
    let expected: string;

    /** The artifact of a compile (its JSON and tables) in one comparable string. */
    async function artifactOf(c: Awaited<ReturnType<ParallelModule['compilePacked']>>, name: string): Promise<Buffer> {
      const { writePackedArtifact } = await load<ArtifactModule>('match/artifact.js');
      const { buildPrefilterAsync } = await load<typeof import('../src/match/prefilter.js')>('match/prefilter.js');
      const { packedPrefilterRules } = await load<typeof import('../src/match/packed-rules.js')>('match/packed-rules.js');
      const out = path.join(dir, `${name}.hwm`);
      await writePackedArtifact(out, c, { created: '2000-01-01T00:00:00Z' }, buildPrefilterAsync(packedPrefilterRules(c.rules)));
      return readFileSync(out);
    }

    async function compileWith(opts: Parameters<ParallelModule['compilePacked']>[1]) {
      const { loadRuleSet } = await load<RuleSetModule>('config/ruleset.js');
      const { compilePacked } = await load<ParallelModule>('match/compile-parallel.js');
      return compilePacked(loadRuleSet({ paths: files(), vars: VARS.filter((v) => v !== '--var'), deferRuleFiles: true }), opts);
    }

    beforeAll(async () => {
      const c = await compileWith({ threads: 1 });
      expected = JSON.stringify(c.report) + (await artifactOf(c, 'one')).toString('base64');
    }, 120_000);

    it('out of memory: its files are compiled here, the same result', async () => {
      const c = await compileWith({ threads: 2, resourceLimits: { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 } });
      expect(c.threads).toBe(2);
      expect(c.workerError).toMatch(/memory|exited/i);
      expect(JSON.stringify(c.report) + (await artifactOf(c, 'oom')).toString('base64')).toBe(expected);
    }, 120_000);

    it('a script that throws, one that exits, one that is missing: an error, not a wait', async () => {
      const scripts: Record<string, string> = {
        throws: 'throw new Error("broken worker");',
        exits: 'process.exit(3);',
        garbage: 'require("node:worker_threads").parentPort.postMessage({ type: "file", claim: 10_000 });',
      };
      for (const [name, code] of Object.entries(scripts)) {
        const file = path.join(dir, `${name}.cjs`);
        writeFileSync(file, code);
        const c = await compileWith({ threads: 2, workerUrl: new URL(`file://${file}`) });
        expect(c.workerError, name).toBeDefined();
        expect(JSON.stringify(c.report) + (await artifactOf(c, name)).toString('base64'), name).toBe(expected);
      }
      const c = await compileWith({ threads: 2, workerUrl: new URL(`file://${path.join(dir, 'missing.js')}`) });
      expect(c.workerError).toBeDefined();
      expect(JSON.stringify(c.report) + (await artifactOf(c, 'missing')).toString('base64')).toBe(expected);
    }, 240_000);
  });
});
