/**
 * update.conf: `key = value` lines, `#` comments; relative paths are from the file's directory.
 *
 *     source = https://rules.emergingthreats.net/open/snort-2.9.0/emerging.rules.tar.gz md5-url
 *     source = https://mirror.example/rules.tar.gz sha256:<64 hex digits>
 *     source = /srv/rules/local.tar.gz [sha256:...]     # a local tarball
 *     source = /etc/honeywall/local-rules               # a directory of *.rules
 *     policy = default                                  # the bundled Honeywall policy (also when no policy line)
 *     policy = /etc/honeywall/disable.conf              # repeatable, applied in order
 *     artifact = /var/lib/honeywall/rules.hwm           # what HwIPS_MATCHER names (required)
 *     status-file = /run/honeywall/status.json          # the gateway's HwSTATUS_FILE; empty: no reload
 *     update-yaml = /etc/suricata/update.yaml           # suricata-update's sources, local paths and filter files
 *     input-dialect = auto                              # rule files: auto (per file), snort or suricata
 *
 * An https source must say how it is verified: `md5-url` (the publisher's URL.md5 file holds the hex digest, as
 * Emerging Threats publishes) or `sha256:HEX`. Every problem is `file:line:column: error code: message`.
 */
import path from 'node:path';
import { type PolicyError, readPolicyText } from '../transform/policy.js';
import type { InputDialect } from '../suricata/index.js';
import { type PolicyRef, readUpdateYaml, UpdateYamlError } from './update-yaml.js';

export type Checksum = { kind: 'md5-url' } | { kind: 'sha256'; hex: string } | { kind: 'md5'; hex: string };

export interface Source {
  /** As written (for messages). */
  text: string;
  line: number;
  /** url, tarball, dir (every *.rules below), file (one .rules), glob (a wildcard in the last component). */
  kind: 'url' | 'tarball' | 'dir' | 'file' | 'glob';
  /** The URL, or an absolute path. */
  location: string;
  checksum: Checksum | undefined;
}

export interface UpdateConfig {
  file: string;
  sources: Source[];
  /** Absolute paths, or `default` (the bundled policy); empty: the bundled policy. update.yaml's filter files say their kind. */
  policies: (string | PolicyRef)[];
  /** File-name globs of rule files left out (update.yaml's `ignore`). */
  ignore: string[];
  /** What the rule files are read as (src/suricata): auto decides per file. */
  inputDialect: InputDialect;
  /** update.yaml settings honeywall does not use, said once per run. */
  notes: string[];
  artifact: string;
  cacheDir: string;
  stateFile: string;
  statusFile: string | undefined;
  reloadTimeoutMs: number;
  honeynet: boolean;
  resolveFlowbits: boolean;
  seed: number;
  vars: string[];
  caFile: string | undefined;
  maxDownloadBytes: number;
}

export class UpdateConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

const KEYS = new Set([
  'source',
  'policy',
  'artifact',
  'cache-dir',
  'state-file',
  'status-file',
  'reload-timeout',
  'honeynet',
  'resolve-flowbits',
  'seed',
  'var',
  'ca-file',
  'max-download-mb',
  'update-yaml',
  'input-dialect',
]);

function yesNo(v: string): boolean | undefined {
  if (/^(yes|true|on|1)$/i.test(v)) return true;
  if (/^(no|false|off|0)$/i.test(v)) return false;
  return undefined;
}

export function readUpdateConfig(file: string): UpdateConfig {
  let text: string;
  try {
    // The same bounded read as policy files (a regular file of at most 16 MiB).
    text = readPolicyText(file, file);
  } catch (e) {
    throw new UpdateConfigError([`${file}:1:1: error unreadable: ${(e as PolicyError).detail ?? (e as Error).message}`]);
  }
  return parseUpdateConfig(text, file);
}

export function parseUpdateConfig(text: string, file: string): UpdateConfig {
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(dir, p);
  const errors: string[] = [];
  const seen = new Map<string, { value: string; line: number; column: number }>();
  const sources: Source[] = [];
  const policies: (string | PolicyRef)[] = [];
  const ignore: string[] = [];
  const notes: string[] = [];
  const vars: string[] = [];
  text.split('\n').forEach((raw, idx) => {
    const lineNo = idx + 1;
    const line = raw.replace(/\r$/, '');
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const lead = line.length - line.trimStart().length;
    const err = (col: number, code: string, msg: string) => errors.push(`${file}:${lineNo}:${col}: error ${code}: ${msg}`);
    const eq = t.indexOf('=');
    if (eq <= 0) {
      err(lead + 1, 'syntax', "expected 'key = value'");
      return;
    }
    const key = t.slice(0, eq).trim().toLowerCase();
    const value = t
      .slice(eq + 1)
      .replace(/\s+#.*$/, '')
      .trim();
    const col = lead + eq + 2 + (t.slice(eq + 1).length - t.slice(eq + 1).trimStart().length);
    if (!KEYS.has(key)) {
      err(lead + 1, 'unknown-key', `unknown key '${key.replace(/[^\x20-\x7e]/g, '?')}' (known: ${[...KEYS].join(', ')})`);
      return;
    }
    if (key === 'source') {
      const words = value.split(/\s+/).filter(Boolean);
      if (words.length === 0 || words.length > 2) {
        err(col, 'invalid-value', 'source = URL-or-PATH [md5-url | sha256:HEX | md5:HEX]');
        return;
      }
      const loc = words[0]!;
      let checksum: Checksum | undefined;
      const c = words[1];
      if (c !== undefined) {
        const m = /^(sha256|md5):([0-9a-fA-F]+)$/.exec(c);
        if (c === 'md5-url') checksum = { kind: 'md5-url' };
        else if (m && m[2]!.length === (m[1] === 'sha256' ? 64 : 32)) checksum = { kind: m[1] as 'sha256' | 'md5', hex: m[2]!.toLowerCase() };
        else {
          err(col + value.indexOf(c), 'invalid-value', `checksum '${c.slice(0, 80)}' is not md5-url, sha256:<64 hex> or md5:<32 hex>`);
          return;
        }
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(loc)) {
        if (!loc.toLowerCase().startsWith('https://')) {
          err(col, 'invalid-value', 'only https:// URLs are fetched (a rule set is code the gateway runs)');
          return;
        }
        if (!checksum) {
          err(col, 'no-checksum', 'an https source needs md5-url (the publisher URL.md5) or sha256:HEX');
          return;
        }
        sources.push({ text: value, line: lineNo, kind: 'url', location: loc, checksum });
      } else {
        if (checksum?.kind === 'md5-url') {
          err(col, 'invalid-value', 'md5-url is for https sources');
          return;
        }
        const p = abs(loc);
        const kind = /\.(tar\.gz|tgz|tar)$/i.test(p) ? 'tarball' : 'dir';
        if (kind === 'dir' && checksum) {
          err(col, 'invalid-value', 'a directory source has no checksum');
          return;
        }
        sources.push({ text: value, line: lineNo, kind, location: p, checksum });
      }
      return;
    }
    if (key === 'policy') {
      // `default`: the bundled Honeywall policy, beside the operator's own files.
      policies.push(value === 'default' ? 'default' : abs(value));
      return;
    }
    if (key === 'var') {
      if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(value)) err(col, 'invalid-value', 'var = NAME=VALUE');
      else vars.push(value);
      return;
    }
    if (seen.has(key)) err(lead + 1, 'duplicate-key', `'${key}' is set twice (first at line ${seen.get(key)!.line})`);
    seen.set(key, { value, line: lineNo, column: col });
  });
  const get = (k: string) => seen.get(k)?.value;
  const bad = (k: string, msg: string) => {
    const s = seen.get(k)!;
    errors.push(`${file}:${s.line}:${s.column}: error invalid-value: ${k}: ${msg}`);
  };
  const bool = (k: string, dflt: boolean) => {
    const v = get(k);
    if (v === undefined) return dflt;
    const b = yesNo(v);
    if (b === undefined) bad(k, `'${v.slice(0, 40)}' is not yes or no`);
    return b ?? dflt;
  };
  const int = (k: string, dflt: number, lo: number, hi: number) => {
    const v = get(k);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) {
      bad(k, `'${v.slice(0, 40)}' is not a number in ${lo}..${hi}`);
      return dflt;
    }
    return Number(v);
  };
  const yamlFile = get('update-yaml');
  if (yamlFile !== undefined) {
    try {
      const y = readUpdateYaml(abs(yamlFile));
      sources.push(...y.sources);
      policies.push(...y.policies);
      ignore.push(...y.ignore);
      notes.push(...y.notes);
    } catch (e) {
      if (!(e instanceof UpdateYamlError)) throw e;
      errors.push(...e.lines);
    }
  }
  const dialect = get('input-dialect') ?? 'auto';
  if (dialect !== 'auto' && dialect !== 'snort' && dialect !== 'suricata')
    bad('input-dialect', `'${dialect.slice(0, 40)}' is not auto, snort or suricata`);
  if (sources.length === 0) errors.push(`${file}:1:1: error no-sources: no 'source =' line (nor sources in update-yaml)`);
  const artifact = get('artifact');
  if (!artifact) errors.push(`${file}:1:1: error no-artifact: no 'artifact =' line (the matcher file HwIPS_MATCHER names)`);
  const status = get('status-file');
  const cfg: UpdateConfig = {
    file,
    sources,
    policies,
    artifact: artifact ? abs(artifact) : '',
    cacheDir: abs(get('cache-dir') ?? '/var/cache/honeywall/update'),
    stateFile: get('state-file') ? abs(get('state-file')!) : `${artifact ? abs(artifact) : ''}.update-state.json`,
    statusFile: status === undefined || status === '' ? undefined : abs(status),
    reloadTimeoutMs: int('reload-timeout', 30, 1, 3600) * 1000,
    honeynet: bool('honeynet', true),
    resolveFlowbits: bool('resolve-flowbits', true),
    seed: int('seed', 0, 0, 0xffffffff),
    vars,
    caFile: get('ca-file') ? abs(get('ca-file')!) : undefined,
    maxDownloadBytes: int('max-download-mb', 256, 1, 4096) * 1024 * 1024,
    ignore,
    inputDialect: dialect === 'snort' || dialect === 'suricata' ? dialect : 'auto',
    notes,
  };
  if (errors.length > 0) throw new UpdateConfigError(errors);
  return cfg;
}
