/**
 * The update's sources, each verified before anything of it is used, gathered into one staging directory of
 * `.rules` files (one per base name, as convert writes them). Where a file came from is kept for messages:
 * `https://host/path/emerging.rules.tar.gz!rules/emerging-exploit.rules`.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readTextFile } from '../config/read-text.js';
import path from 'node:path';
import { findRuleFiles } from '../config/ruleset.js';
import { globToRegExp } from '../transform/policy.js';
import type { Checksum, Source, UpdateConfig } from './config.js';
import { UpdateRefused } from './errors.js';
import { FetchError, type Fetched, fetchCached, showUrl } from './fetch.js';
import { DEFAULT_TAR_LIMITS, escapeName, readRuleTarball, TarballError, type TarRuleFile } from './tarball.js';

export interface StagedFile {
  /** The file in the staging directory. */
  absPath: string;
  /** Where it came from, for messages. */
  origin: string;
}

export interface Download {
  url: string;
  how: 200 | 304 | 'offline';
  bytes: number;
}

export interface Gathered {
  files: StagedFile[];
  downloads: Download[];
}

/** A rule file's text, read with the loaders' bounds (a binary file is refused as input). */
function readText(file: string): string {
  try {
    return readTextFile(file);
  } catch (e) {
    throw new UpdateRefused(`${escapeName(file)}: ${(e as Error).message}`, 1);
  }
}

function digest(file: string, algo: 'md5' | 'sha256'): string {
  return createHash(algo).update(readFileSync(file)).digest('hex');
}

/** The first word of a publisher's .md5 file, which must be 32 hex digits (ET writes just the digest). */
function md5FromFile(file: string, url: string): string {
  const text = readFileSync(file, 'utf8');
  const m = /^\s*([0-9a-fA-F]{32})(?:\s|$)/.exec(text);
  if (!m) throw new UpdateRefused(`${showUrl(url)}: not an md5 checksum file (expected 32 hex digits)`, 1);
  return m[1]!.toLowerCase();
}

function verify(file: string, want: { algo: 'md5' | 'sha256'; hex: string }, what: string): void {
  const got = digest(file, want.algo);
  if (got !== want.hex)
    throw new UpdateRefused(`${what}: ${want.algo} checksum mismatch (expected ${want.hex}, got ${got}): refused, nothing changed`, 1);
}

function expected(c: Checksum | undefined): { algo: 'md5' | 'sha256'; hex: string } | undefined {
  if (c === undefined || c.kind === 'md5-url') return undefined;
  return { algo: c.kind, hex: c.hex };
}

async function fetchVerified(src: Source, cfg: UpdateConfig, opts: { offline: boolean; ca?: string }, downloads: Download[]): Promise<string> {
  const base = { cacheDir: cfg.cacheDir, offline: opts.offline, ca: opts.ca, timeoutMs: 60_000 };
  const pending: Fetched[] = [];
  try {
    let want = expected(src.checksum);
    if (src.checksum?.kind === 'md5-url') {
      const sum = await fetchCached(`${src.location}.md5`, { ...base, maxBytes: 4096 });
      pending.push(sum);
      downloads.push({ url: showUrl(sum.url), how: sum.how, bytes: sum.bytes });
      want = { algo: 'md5', hex: md5FromFile(sum.file, sum.url) };
    }
    const body = await fetchCached(src.location, { ...base, maxBytes: cfg.maxDownloadBytes });
    pending.push(body);
    downloads.push({ url: showUrl(body.url), how: body.how, bytes: body.bytes });
    verify(body.file, want!, showUrl(src.location));
    // Verified: the new copies become the cache's (a mismatch above left the last good ones in place).
    let kept = body.file;
    for (const f of pending) {
      const p = f.commit();
      if (f === body) kept = p;
    }
    pending.length = 0;
    return kept;
  } catch (e) {
    for (const f of pending) f.discard();
    if (e instanceof FetchError) throw new UpdateRefused(`source ${showUrl(src.location)}: ${e.message}`, 2);
    throw e;
  }
}

async function tarEntries(file: string, label: string): Promise<TarRuleFile[]> {
  try {
    return await readRuleTarball(file, DEFAULT_TAR_LIMITS);
  } catch (e) {
    if (e instanceof TarballError) throw new UpdateRefused(`${label}: ${e.message}`, 1);
    throw e;
  }
}

/** Every source into `stageDir`; refuses (UpdateRefused) on the first source that fails. */
export async function gatherSources(cfg: UpdateConfig, stageDir: string, opts: { offline: boolean }): Promise<Gathered> {
  const files: StagedFile[] = [];
  const downloads: Download[] = [];
  const byName = new Map<string, string>();
  const ca = cfg.caFile ? readFileSync(cfg.caFile, 'utf8') : undefined;
  const ignored = cfg.ignore.map((g) => globToRegExp(g));
  const stage = (name: string, text: string, origin: string) => {
    const base = path.basename(name);
    if (ignored.some((re) => re.test(base))) return; // update.yaml's `ignore` (suricata-update: *deleted.rules)
    if (!/^[\w.+-]+\.rules$/.test(base)) throw new UpdateRefused(`${origin}: unusable rule file name`, 1);
    const other = byName.get(base);
    if (other) throw new UpdateRefused(`${origin} and ${other} have the same name ${base}: rename one (each is written as ${base})`, 1);
    byName.set(base, origin);
    const absPath = path.join(stageDir, base);
    writeFileSync(absPath, text);
    files.push({ absPath, origin });
  };
  for (const src of cfg.sources) {
    if (src.kind === 'url') {
      const file = await fetchVerified(src, cfg, { offline: opts.offline, ca }, downloads);
      // a URL of one .rules file (update.yaml's `source: url` lists such) is that file; anything else a tarball
      if (/\.rules$/i.test(new URL(src.location).pathname))
        stage(path.basename(new URL(src.location).pathname), readText(file), showUrl(src.location));
      else for (const e of await tarEntries(file, showUrl(src.location))) stage(e.path, e.text, `${showUrl(src.location)}!${escapeName(e.path)}`);
    } else if (src.kind === 'tarball') {
      try {
        statSync(src.location);
      } catch (e) {
        throw new UpdateRefused(`source ${escapeName(src.location)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 2);
      }
      const want = expected(src.checksum);
      if (want) verify(src.location, want, src.location);
      for (const e of await tarEntries(src.location, src.location)) stage(e.path, e.text, `${src.location}!${escapeName(e.path)}`);
    } else {
      let list: string[];
      try {
        if (src.kind === 'file') list = [src.location];
        else if (src.kind === 'glob') {
          const re = globToRegExp(path.basename(src.location));
          const dir = path.dirname(src.location);
          list = readdirSync(dir)
            .filter((n) => re.test(n) && n.endsWith('.rules'))
            .sort()
            .map((n) => path.join(dir, n));
        } else {
          if (!statSync(src.location).isDirectory()) throw new Error('not a directory');
          list = findRuleFiles(src.location);
        }
      } catch (e) {
        throw new UpdateRefused(`source ${escapeName(src.location)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 2);
      }
      for (const f of list) stage(f, readText(f), f);
    }
  }
  if (files.length === 0) throw new UpdateRefused('the sources hold no .rules files', 1);
  return { files, downloads };
}
