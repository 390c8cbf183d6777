/**
 * `honeywall compile`'s compile: the rule set's files compiled and packed for the artifact (packed-rules.ts) by this
 * thread and, for a large set, one worker thread (compile-worker.ts) side by side. Parsing and compiling ET Open's
 * 20,000 rules is most of a compile's time and the second core would otherwise wait for Hyperscan.
 *
 * The files are shared out one at a time, largest first, through a counter both threads take from (whichever is free
 * takes the next: the worker starts late and the threads run at different speeds, so no fixed split would keep both
 * busy). Each file is compiled and packed alone, with the strings its rules name numbered from a table fixed
 * beforehand (`ruleSetStrings`) and its header sets named by their text, so that a file's pack does not depend on
 * the thread nor on the files compiled before it: joined in file order, the packs and the reports make the artifact
 * and report of one thread (test/compile-parallel.test.ts compares them byte for byte).
 *
 * A worker that fails (an error, a crash, a message that cannot be read) is not waited for: this thread compiles the
 * files it did not deliver, and the result says why (`workerError`).
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { findRuleFiles, isConfigPath, type LoadedFile, type RuleFileRef, type RuleSet } from '../config/ruleset.js';
import {
  addFileReport,
  compileContext,
  compileFile,
  emptyReport,
  parsedFiles,
  setPolicy,
  type CompileContext,
  type CompileOptions,
  type FileCompile,
  type SetReport,
} from './compile.js';
import type { CompileWorkerData, CompileWorkerMessage } from './compile-worker.js';
import { joinPacked, RulePacker, type PackedRules, type SetKey } from './packed-rules.js';
import type { PackedPlan } from './artifact.js';
import { StringTable } from './stored-rule.js';

/** One file compiled and packed: its rules for the artifact, its part of the report. */
export interface FilePack {
  packed: PackedRules;
  report: Omit<FileCompile, 'rules'>;
}

/** The whole set compiled and packed, with the compile report. */
export interface PackedCompile extends PackedPlan {
  report: SetReport;
  /** Threads that compiled (1 or 2). */
  threads: number;
  /** Why the worker failed, when it did (its files were then compiled in this thread). */
  workerError: string | undefined;
}

export interface PackedCompileOptions extends CompileOptions {
  /** 1: this thread alone; 2: a worker too. Default: 2 for a set of MIN_PARALLEL_BYTES or more on two cores or more. */
  threads?: number;
  /** The worker's script (tests); default the one `useCompileWorker` set, else compile-worker-entry.js beside this module. */
  workerUrl?: URL;
  /** The worker's heap limits (tests make it run out of memory). */
  resourceLimits?: ResourceLimits;
  /** A worker started before the set was loaded (startCompileWorkerEarly): used with 2 threads, else stopped. */
  worker?: CompileWorkerLink;
}

/** The worker's script: compile-worker-entry.js beside this module, or what `useCompileWorker` set (the bundle's). */
let compileWorker = new URL('./compile-worker-entry.js', import.meta.url);

/** Sets the worker's script (the launcher of the compile bundle: bin/compile-worker.js, which loads the bundle). */
export function useCompileWorker(url: URL): void {
  compileWorker = url;
}

/**
 * Rule text below which one thread compiles alone. A worker costs about 0.1 s of CPU before it compiles anything
 * (starting an isolate, loading the compiler's modules and the addon) and its packs are joined afterwards; ET Open's
 * 17 MB compile at about 10 MB/s a thread, so below a few MB the worker would barely start before the files run out.
 * The bundled rule sets and the tests' sets are far below.
 */
export const MIN_PARALLEL_BYTES = 4 << 20;

/**
 * The strings rules name by number in the artifact (stored-rule.ts), fixed by the set alone: every rule file's name,
 * then every class description. Each thread numbers its rules' strings from this table.
 */
export function ruleSetStrings(set: RuleSet): string[] {
  const out = set.ruleFiles.map((f) => f.display);
  for (const c of set.classifications.values()) out.push(c.description);
  return out;
}

/** Header sets named by their text (the compiler hands out one set per text: compile.ts `distinct`). */
export function textKeys(cc: CompileContext): SetKey {
  return (set, side) => {
    const text = cc.textOf.get(set);
    if (text === undefined) throw new Error('a header set of no text');
    return (side === 'address' ? 'a ' : 'p ') + text;
  };
}

/** Compiles and packs one file. */
export function packFile(cc: CompileContext, strings: StringTable, keys: SetKey, ref: RuleFileRef, file: LoadedFile | undefined): FilePack {
  const packer = new RulePacker(strings, keys);
  // (each plan packed as it is made: compileFile's `rules` stays empty)
  const { total, failures, pcre, approximated } = compileFile(cc, ref, file, 0, (plan) => packer.add(plan));
  return { packed: packer.finish(), report: { total, failures, pcre, approximated } };
}

/**
 * `honeywall compile`'s worker, started before the set is loaded when the rule files the paths name come to
 * MIN_PARALLEL_BYTES or more (or with 2 threads asked for): compilePacked takes it, or stops it when the set turns
 * out to need one thread. A snort.conf's own includes are not known before the load and do not count here.
 */
export function startCompileWorkerEarly(paths: readonly string[], threads: number | undefined): CompileWorkerLink | undefined {
  if (threads === 1) return undefined;
  let bytes = 0;
  try {
    for (const p of paths) {
      if (isConfigPath(p)) continue;
      const st = statSync(p);
      if (st.isDirectory()) for (const f of findRuleFiles(p)) bytes += statSync(f).size;
      else bytes += st.size;
    }
  } catch {
    return undefined; // (the load says what is wrong with a path)
  }
  // (the decision compilePacked makes, on the bytes the paths name rather than those the load queued)
  return threadsFor({ threads }, bytes, compileWorker) === 2 ? new CompileWorkerLink() : undefined;
}

function threadsFor(opts: PackedCompileOptions, queuedBytes: number, workerUrl: URL): number {
  if (opts.threads !== undefined) return opts.threads >= 2 ? 2 : 1;
  // (no worker script when this module runs from its TypeScript source: the tests' in-process CLI)
  return queuedBytes >= MIN_PARALLEL_BYTES && availableParallelism() >= 2 && existsSync(fileURLToPath(workerUrl)) ? 2 : 1;
}

/** Every enabled rule of the set, compiled and packed; the ones that cannot be are listed in the report. */
export async function compilePacked(set: RuleSet, opts: PackedCompileOptions = {}): Promise<PackedCompile> {
  const strings = StringTable.fixed(ruleSetStrings(set));
  const parsed = parsedFiles(set);
  const files = set.ruleFiles;
  // The files the counter shares out: those not held parsed (rules written in a snort.conf stay here), largest first.
  const queue = files
    .map((ref, index) => ({ ref, index, size: ref.text?.length ?? 0 }))
    .filter((f) => !parsed.has(f.ref.path))
    .sort((a, b) => b.size - a.size || a.index - b.index);
  const workerUrl = opts.workerUrl ?? compileWorker;
  const threads = threadsFor(
    opts,
    queue.reduce((n, f) => n + f.size, 0),
    workerUrl,
  );
  const packs: (FilePack | undefined)[] = new Array(files.length);
  const counter = new Int32Array(new SharedArrayBuffer(4));
  let worker: Promise<string | undefined> | undefined;
  if (threads === 2) {
    const link = opts.worker ?? new CompileWorkerLink(workerUrl, opts.resourceLimits);
    worker = startWorker(link, workerData(set, queue, counter, strings), queue, packs);
  } else opts.worker?.stop();

  const cc = compileContext(set);
  const keys = textKeys(cc);
  for (const [index, ref] of files.entries()) {
    const file = parsed.get(ref.path);
    if (file !== undefined) packs[index] = packFile(cc, strings, keys, ref, file);
  }
  for (let k = Atomics.add(counter, 0, 1); k < queue.length; k = Atomics.add(counter, 0, 1)) {
    const { ref, index } = queue[k]!;
    packs[index] = packFile(cc, strings, keys, ref, undefined);
    // The worker's packs are read (deserialized) when this thread lets its event loop run: between files, while
    // the worker still compiles, rather than all at the end.
    if (worker !== undefined) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const workerError = worker === undefined ? undefined : await worker;
  // A failed worker's files: compiled here (from the texts the load read: they are let go only when delivered).
  for (const { ref, index } of queue) if (packs[index] === undefined) packs[index] = packFile(cc, strings, keys, ref, undefined);

  const report = emptyReport();
  const parts: PackedRules[] = [];
  for (const p of packs) {
    addFileReport(report, p!.report);
    parts.push(p!.packed);
  }
  const policy = setPolicy(set, report, opts);
  return { rules: joinPacked(parts), strings: strings.list, policy, report, threads, workerError };
}

/** The data the worker compiles from (the texts the load read: what this thread would have compiled). */
function workerData(set: RuleSet, queue: { ref: RuleFileRef }[], counter: Int32Array, strings: StringTable): CompileWorkerData {
  return {
    // (a file changed since the load is not read again)
    files: queue.map(({ ref }) => ({ path: ref.path, display: ref.display, text: ref.text, suricata: ref.suricata })),
    counter: counter.buffer as SharedArrayBuffer,
    vars: set.vars.entries(),
    classifications: [...set.classifications],
    strings: strings.list,
  };
}

/**
 * A compile worker thread, started before its rule set is known: `honeywall compile` starts it before it loads the
 * set, so that the thread's start (an isolate, the compiler's modules: 0.1-0.2 s) overlaps the load instead of
 * delaying the worker's first file. It waits for its set (`begin`); until then it keeps no process alive, and what
 * it says or how it fails is kept for `begin`.
 */
export class CompileWorkerLink {
  private readonly worker: Worker | undefined;
  private failure: string | undefined;
  private readonly early: CompileWorkerMessage[] = [];
  private onMessage: ((m: CompileWorkerMessage) => void) | undefined;
  private onFailure: ((why: string) => void) | undefined;

  constructor(url: URL = compileWorker, resourceLimits?: ResourceLimits) {
    let worker: Worker | undefined;
    try {
      worker = new Worker(url, { resourceLimits });
    } catch (e) {
      this.failure = `cannot start: ${(e as Error).message}`;
    }
    this.worker = worker;
    if (worker === undefined) return;
    worker.unref();
    worker.on('message', (m: CompileWorkerMessage) => {
      if (this.onMessage !== undefined) this.onMessage(m);
      else if (this.early.length < 16) this.early.push(m);
      else this.fail('it wrote before it was given its files');
    });
    worker.on('error', (e) => this.fail(e.message));
    worker.on('messageerror', (e) => this.fail(`a message could not be read: ${e.message}`));
    worker.on('exit', (code) => this.fail(`exited with code ${code} before it was done`));
  }

  private fail(why: string): void {
    if (this.failure !== undefined) return;
    this.failure = why;
    this.onFailure?.(why);
  }

  /** Gives the worker its set; `onMessage` gets what it sends, from what it sent before this call on. */
  begin(data: CompileWorkerData, onMessage: (m: CompileWorkerMessage) => void, onFailure: (why: string) => void): void {
    this.onMessage = onMessage;
    this.onFailure = onFailure;
    if (this.failure !== undefined) {
      onFailure(this.failure);
      return;
    }
    for (const m of this.early.splice(0)) onMessage(m);
    this.worker!.ref();
    this.worker!.postMessage(data);
  }

  /** Stops the thread (when its files are delivered or given up on, or when the compile needs no worker). */
  stop(): void {
    void this.worker?.terminate();
  }
}

/**
 * Starts the worker on the queue (or gives the queue to one started early); resolves when it has delivered its files
 * (undefined) or has failed (why). Its packs are put into `packs` as they come.
 */
function startWorker(
  link: CompileWorkerLink,
  data: CompileWorkerData,
  queue: { ref: RuleFileRef; index: number }[],
  packs: (FilePack | undefined)[],
): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error: string | undefined) => {
      if (settled) return;
      settled = true;
      link.stop();
      resolve(error);
    };
    link.begin(
      data,
      (m) => {
        if (settled) return;
        if (m.type === 'file') {
          const index = queue[m.claim]?.index;
          if (index === undefined) finish(`delivered file ${m.claim} of ${queue.length}`);
          else {
            packs[index] = { packed: m.packed, report: m.report };
            queue[m.claim]!.ref.text = undefined;
          }
        } else if (m.type === 'done') finish(undefined);
        else finish(m.message);
      },
      finish,
    );
  });
}
