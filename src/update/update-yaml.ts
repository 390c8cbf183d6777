/**
 * suricata-update's `update.yaml`, read unchanged (suricata/update/configs/update.yaml in OISF/suricata-update):
 *
 *     disable-conf: /etc/suricata/disable.conf     # also enable-conf, drop-conf, modify-conf
 *     ignore:
 *       - "*deleted.rules"
 *     sources:
 *       - source: etopen                           # Emerging Threats Open for Suricata
 *       - source: url
 *         url: https://sslbl.abuse.ch/blacklist/sslblacklist.rules
 *       - https://example.org/rules.tar.gz         # the 1.0 form: a URL alone
 *     local:
 *       - /etc/suricata/rules                      # a directory of *.rules
 *       - /etc/suricata/rules/local.rules          # a file
 *       - /etc/suricata/rules/*.rules              # a wildcard in the last component
 *
 * A remote source is verified as suricata-update does, by the publisher's `URL.md5` (honeywall fetches nothing
 * unverified); an entry may give `sha256: HEX` instead (honeywall's addition). Named sources other than `etopen`
 * need suricata-update's source index and are refused with a pointer to their URL. Keys honeywall does not use
 * (`reload-command`, `test-command`, ...) are reported as notes, never silently taken as done. A filter file that
 * does not exist is skipped, as suricata-update skips it. The YAML parser is `yaml` (eemeli/yaml) with its alias
 * bound; the text is read with the policy files' bounded read.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { PlainKind } from '../transform/policy-files.js';
import { type PolicyError, readPolicyText } from '../transform/policy.js';
import type { Checksum, Source } from './config.js';

/** ET Open for Suricata 7 (what suricata-update's index names etopen for a Suricata 7 build). */
export const ETOPEN_SURICATA_URL = 'https://rules.emergingthreats.net/open/suricata-7.0.3/emerging.rules.tar.gz';
/** Entries read from one list: bounded (a hostile file could hold millions). */
export const MAX_YAML_ENTRIES = 1000;

export interface PolicyRef {
  path: string;
  /** Read as this kind whatever the file's name (update.yaml says which file is which). */
  as?: PlainKind;
}

export interface UpdateYaml {
  sources: Source[];
  policies: PolicyRef[];
  /** File-name globs whose rule files are left out (suricata-update's `ignore`). */
  ignore: string[];
  notes: string[];
}

const FILTER_KEYS: readonly [string, PlainKind][] = [
  ['enable-conf', 'enable'],
  ['disable-conf', 'disable'],
  ['drop-conf', 'drop'],
  ['modify-conf', 'modify'],
];
const KNOWN = new Set(['sources', 'local', 'ignore', ...FILTER_KEYS.map(([k]) => k)]);

export function readUpdateYaml(file: string): UpdateYaml {
  let text: string;
  try {
    text = readPolicyText(file, file);
  } catch (e) {
    throw new UpdateYamlError([`${file}:1:1: error unreadable: ${(e as PolicyError).detail ?? (e as Error).message}`]);
  }
  return parseUpdateYaml(text, file);
}

export class UpdateYamlError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

export function parseUpdateYaml(text: string, file: string): UpdateYaml {
  const dir = path.dirname(path.resolve(file));
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: string[] = [];
  const where = (offset: number | undefined) => {
    const p = lc.linePos(offset ?? 0);
    return `${file}:${p.line}:${p.col}`;
  };
  const clean = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
  for (const e of doc.errors) errors.push(`${where(e.pos[0])}: error yaml: ${clean(e.message)}`);
  const out: UpdateYaml = { sources: [], policies: [], ignore: [], notes: [] };
  if (errors.length > 0) throw new UpdateYamlError(errors);
  const root = doc.contents;
  if (root === null || root === undefined) return out;
  if (!isMap(root)) throw new UpdateYamlError([`${where(root.range?.[0])}: error invalid-value: update.yaml must be a mapping`]);
  const err = (node: YamlNode | null | undefined, msg: string) => errors.push(`${where(node?.range?.[0])}: error invalid-value: ${msg}`);
  const str = (node: unknown): string | undefined => (isScalar(node) && typeof node.value === 'string' ? node.value : undefined);
  const list = (node: unknown, key: string): unknown[] => {
    if (node === null || node === undefined) return [];
    if (!isSeq(node)) {
      err(node as YamlNode, `${key} must be a list`);
      return [];
    }
    if (node.items.length > MAX_YAML_ENTRIES) err(node, `${key} holds ${node.items.length} entries (at most ${MAX_YAML_ENTRIES} are read)`);
    return node.items.slice(0, MAX_YAML_ENTRIES);
  };
  const lineOf = (node: YamlNode) => lc.linePos(node.range?.[0] ?? 0).line;

  for (const pair of root.items) {
    const key = str(pair.key) ?? '';
    const value = pair.value as YamlNode | null;
    if (!KNOWN.has(key)) {
      out.notes.push(
        `${where((pair.key as YamlNode | null)?.range?.[0])}: '${clean(key)}' is suricata-update's own setting: not used by honeywall update`,
      );
      continue;
    }
    const filter = FILTER_KEYS.find(([k]) => k === key);
    if (filter !== undefined) {
      const p = str(value);
      if (p === undefined) err(value, `${key} must be a file name`);
      else if (existsSync(path.resolve(dir, p))) out.policies.push({ path: path.resolve(dir, p), as: filter[1] });
      else out.notes.push(`${where(value?.range?.[0])}: ${key} ${clean(p)} does not exist: skipped, as suricata-update skips it`);
      continue;
    }
    if (key === 'ignore') {
      for (const item of list(value, key)) {
        const g = str(item);
        if (g === undefined) err(item as YamlNode, 'ignore entries are file name globs');
        else out.ignore.push(g);
      }
      continue;
    }
    if (key === 'local') {
      for (const item of list(value, key)) {
        const p = str(item);
        if (p === undefined) {
          err(item as YamlNode, 'local entries are paths');
          continue;
        }
        const abs = path.resolve(dir, p);
        const base = path.basename(abs);
        const kind = /[*?[]/.test(base) ? 'glob' : /\.(tar\.gz|tgz|tar)$/i.test(abs) ? 'tarball' : base.endsWith('.rules') ? 'file' : 'dir';
        if (/[*?[]/.test(path.dirname(abs))) {
          err(item as YamlNode, 'a wildcard is read in the last path component only');
          continue;
        }
        out.sources.push({ text: p, line: lineOf(item as YamlNode), kind, location: abs, checksum: undefined });
      }
      continue;
    }
    // sources
    for (const item of list(value, key)) {
      const node = item as YamlNode;
      let url: string | undefined;
      let checksum: Checksum = { kind: 'md5-url' };
      const plain = str(node);
      if (plain !== undefined) url = plain;
      else if (isMap(node)) {
        const name = str(node.get('source', true));
        if (name === 'etopen') url = ETOPEN_SURICATA_URL;
        else if (name === 'url') url = str(node.get('url', true));
        else {
          err(node, `named source '${clean(name ?? '')}' needs suricata-update's source index: give it as 'source: url' with its URL`);
          continue;
        }
        const shaNode = node.get('sha256', true);
        // (a digest of digits only reads as a YAML number: taken as its text)
        const sha = isScalar(shaNode) && shaNode.value !== null ? String(shaNode.value) : undefined;
        if (sha !== undefined) {
          if (!/^[0-9a-fA-F]{64}$/.test(sha)) {
            err(node, 'sha256 must be 64 hex digits');
            continue;
          }
          checksum = { kind: 'sha256', hex: sha.toLowerCase() };
        }
      }
      if (url === undefined) {
        err(node, "a source is a URL, or a mapping with 'source: etopen' or 'source: url' and 'url:'");
        continue;
      }
      if (!url.toLowerCase().startsWith('https://')) {
        err(node, 'only https:// URLs are fetched (a rule set is code the gateway runs)');
        continue;
      }
      out.sources.push({ text: url, line: lineOf(node), kind: 'url', location: url, checksum });
    }
  }
  if (errors.length > 0) throw new UpdateYamlError(errors);
  return out;
}
