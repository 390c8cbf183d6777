/** General rule options: msg, sid, gid, rev, classtype, priority, reference, metadata. */
import { defineKeyword } from './spec.js';
import { parseInteger, unquote } from './values.js';

export const msg = defineKeyword<string>({
  name: 'msg',
  category: 'general',
  value: 'required',
  summary: 'the text logged with the alert',
  parse(value, report) {
    const t = (value ?? '').trim();
    if (t.startsWith('"') && (!t.endsWith('"') || t.length < 2)) {
      report.error('unterminated-string', 'msg has no closing quote', 0, (value ?? '').length);
      return undefined;
    }
    return unquote(t);
  },
});

export const sid = defineKeyword<number>({
  name: 'sid',
  category: 'general',
  value: 'required',
  summary: 'the rule identifier',
  parse: (value, report) => parseInteger(value ?? '', report, 'sid', 1, 0xffffffff),
});

export const gid = defineKeyword<number>({
  name: 'gid',
  repeats: true,
  category: 'general',
  value: 'required',
  summary: 'the generator identifier (1 for text rules)',
  parse: (value, report) => parseInteger(value ?? '', report, 'gid', 0, 0xffffffff),
});

export const rev = defineKeyword<number>({
  name: 'rev',
  repeats: true,
  category: 'general',
  value: 'required',
  summary: 'the rule revision',
  parse: (value, report) => parseInteger(value ?? '', report, 'rev', 0, 0xffffffff),
});

export const classtype = defineKeyword<string>({
  name: 'classtype',
  repeats: true,
  category: 'general',
  value: 'required',
  summary: 'the attack class (from classification.config)',
  parse(value, report) {
    const t = (value ?? '').trim();
    if (!/^[A-Za-z0-9_-]+$/.test(t)) {
      report.error('bad-classtype', `'${t}' is not a classtype name`, 0, (value ?? '').length);
      return undefined;
    }
    return t;
  },
});

export const priority = defineKeyword<number>({
  name: 'priority',
  repeats: true,
  category: 'general',
  value: 'required',
  summary: 'the alert priority (overrides the classtype default)',
  parse: (value, report) => parseInteger(value ?? '', report, 'priority', 0, 0x7fffffff),
  plan(n, into) {
    into.rule.priority = n;
  },
});

export interface ReferenceArgs {
  system: string;
  id: string;
}

export const reference = defineKeyword<ReferenceArgs>({
  name: 'reference',
  category: 'general',
  value: 'required',
  summary: 'an external reference (system,id)',
  parse(value, report) {
    const v = value ?? '';
    const comma = v.indexOf(',');
    if (comma === -1) {
      report.error('bad-argument', "reference must be '<system>,<id>'", 0, v.length);
      return undefined;
    }
    const system = v.slice(0, comma).trim();
    const id = v.slice(comma + 1).trim();
    if (system === '' || id === '') {
      report.error('bad-argument', "reference must be '<system>,<id>'", 0, v.length);
      return undefined;
    }
    return { system, id };
  },
});

export interface MetadataPair {
  key: string;
  value: string;
}
export type MetadataArgs = MetadataPair[];

/**
 * `metadata: key value, key value`, kept as ordered pairs (keys repeat: `tag a, tag b`). Snort checks nothing in it,
 * and a rule set carries about 200,000 pairs, so they are split when first asked for.
 */
export class Metadata {
  private cached: MetadataPair[] | undefined;
  constructor(readonly text: string) {}

  get pairs(): MetadataPair[] {
    if (this.cached) return this.cached;
    const pairs: MetadataPair[] = [];
    const v = this.text;
    let start = 0;
    while (start <= v.length) {
      let comma = v.indexOf(',', start);
      if (comma === -1) comma = v.length;
      const part = v.slice(start, comma).trim();
      if (part !== '') {
        const sp = part.search(/\s/);
        if (sp === -1) pairs.push({ key: part, value: '' });
        else pairs.push({ key: part.slice(0, sp), value: part.slice(sp + 1).trim() });
      }
      start = comma + 1;
    }
    return (this.cached = pairs);
  }

  get(key: string): string[] {
    return this.pairs.filter((p) => p.key === key).map((p) => p.value);
  }
}

export const metadata = defineKeyword<Metadata>({
  name: 'metadata',
  category: 'general',
  value: 'required',
  summary: 'key/value pairs about the rule (policy, service, created_at, ...)',
  parse: (value) => new Metadata(value ?? ''),
});
