/**
 * The policy files operators already have, read unchanged by their names:
 *
 * - suricata-update: `enable.conf`, `disable.conf`, `drop.conf` (one matcher per line: `1:2019401`, `2019401`,
 *   `1:3321408:2` (gid:sid:rev), `re:REGEX` (case-insensitive, searched in the rule text), `group:emerging-icmp.rules`
 *   or `group:emerging*` (the rule file's name), `filename:GLOB`, `metadata: key value` (case-insensitive), a bare
 *   `name.rules`, and comma-separated sid lists) and `modify.conf` (`MATCHER "from" "to"`, shell-quoted as
 *   suricata-update reads it with shlex, `\1` / `\g<1>` back-references; oinkmaster's `modifysid SIDS "from" | "to"`).
 * - pulledpork: `enablesid.conf`, `disablesid.conf`, `dropsid.conf` (comma-separated `gid:sid`, ranges
 *   `1:220-1:3264`, `pcre:REGEX` (case-insensitive), trailing `# comments`) and `modifysid.conf`
 *   (`1:10,1:11 "from" "to"`, `* "from" "to"`, `${1}` back-references).
 *
 * A name ending in one of those (`local-disable.conf`) is read the same way. Each problem is a PolicyError at
 * file:line:column with the offending text. pulledpork's reference matchers (`cve:2009-0233`, `bugtraq:1234`, `url:...`)
 * select the rules with that `reference:`; its bulletin names (`MS09-008`, `MS00-\d+`) are case-insensitive regular
 * expressions on the rule text, and its category names (`web-iis`, `emerging-scan`) regular expressions on the rule
 * file's name without `.rules`, as pulledpork.pl's modify_state reads them (its categories are the file names; the
 * `VRT-`/`ET-` source prefixes of its old README.CATEGORIES are not in the names it compares).
 */
import {
  emptyPolicy,
  globToRegExp,
  type Matcher,
  type ModifyLine,
  type Policy,
  PolicyError,
  type PolicyLine,
  parseMatcher,
  stripTrailingComment,
} from './policy.js';

export type PlainKind = 'enable' | 'disable' | 'drop' | 'modify';

/** Longest names first: `disablesid.conf` ends in `sid.conf`, not in `disable.conf`. */
const NAMES: readonly [string, PlainKind][] = [
  ['enablesid.conf', 'enable'],
  ['disablesid.conf', 'disable'],
  ['modifysid.conf', 'modify'],
  ['dropsid.conf', 'drop'],
  ['enable.conf', 'enable'],
  ['disable.conf', 'disable'],
  ['modify.conf', 'modify'],
  ['drop.conf', 'drop'],
];

/** What a section-less policy file of this base name holds, or undefined (then it must be honeywall's INI form). */
export function plainKindOf(basename: string): PlainKind | undefined {
  const b = basename.toLowerCase();
  for (const [name, kind] of NAMES) if (b === name || b.endsWith(`-${name}`) || b.endsWith(`_${name}`)) return kind;
  return undefined;
}

type Fail = (detail: string, offending: string, column: number) => never;

const GID_SID = /^(\d+):(\d+)$/;
const SID_ONLY = /^\d+$/;
const GID_SID_REV = /^(\d+):(\d+):(\d+)$/;
const RANGE = /^(?:(\d+):)?(\d+)\s*-\s*(?:(\d+):)?(\d+)$/;

/** Matchers whose value runs to the end of the line (a regex or a metadata pair may hold commas). */
const WHOLE_LINE = /^(re|pcre|metadata|group|filename|classtype):/i;

function num(s: string, fail: Fail, at: number): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n > 0xffffffff) fail('number out of range', s, at);
  return n;
}

/** One item of an enable/disable/drop line (or the matcher of a modify line), at 1-based column `at`. */
function parseItem(item: string, fail: Fail, at: number): Matcher {
  let m = GID_SID_REV.exec(item);
  if (m) return { kind: 'sid', gid: num(m[1]!, fail, at), sid: num(m[2]!, fail, at), rev: num(m[3]!, fail, at) };
  m = GID_SID.exec(item);
  if (m) return { kind: 'sid', gid: num(m[1]!, fail, at), sid: num(m[2]!, fail, at) };
  if (SID_ONLY.test(item)) return { kind: 'sid', gid: undefined, sid: num(item, fail, at) };
  m = RANGE.exec(item);
  if (m) {
    const g1 = m[1] === undefined ? 1 : num(m[1], fail, at);
    const g2 = m[3] === undefined ? g1 : num(m[3], fail, at);
    if (g1 !== g2) fail('a sid range must stay within one gid', item, at);
    const from = num(m[2]!, fail, at);
    const to = num(m[4]!, fail, at);
    if (from > to) fail('a sid range must go from low to high', item, at);
    return { kind: 'sid-range', gid: g1, from, to };
  }
  if (item === '*') return { kind: 'all' };
  const lower = item.toLowerCase();
  if (lower.startsWith('re:') || lower.startsWith('pcre:')) {
    // Both tools compile these case-insensitively (suricata-update: re.I; pulledpork: "treated as case insensitive").
    const src = item.slice(item.indexOf(':') + 1).trim();
    if (src === '') fail(`'${item.slice(0, item.indexOf(':') + 1)}' needs a regular expression`, item, at);
    try {
      return { kind: 're', re: new RegExp(pythonRegex(src), 'i') };
    } catch (e) {
      return fail(`bad regular expression (${(e as Error).message})`, src, at);
    }
  }
  if (lower.startsWith('metadata:')) {
    const arg = item.slice('metadata:'.length).trim();
    const sp = arg.search(/\s/);
    if (sp === -1) fail("metadata matcher is 'metadata: key value'", item, at);
    return { kind: 'metadata', key: arg.slice(0, sp), value: arg.slice(sp).trim(), ci: true };
  }
  if (/\.rules$/.test(item) && !item.includes(':')) return { kind: 'group', glob: globToRegExp(item), pattern: item };
  if (/^(group|filename|classtype):/i.test(item)) return parseMatcher(item, (d, o) => fail(d, o, at));
  m = /^(cve|bugtraq|url|nessus|arachnids|mcafee|osvdb|msb):(.+)$/i.exec(item);
  if (m) {
    // pulledpork's reference matcher: the rules with `reference:TYPE,VALUE;` (case-insensitive, blanks as Snort allows)
    const esc = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    return { kind: 're', re: new RegExp(`[(;]\\s*reference\\s*:\\s*${esc(m[1]!)}\\s*,\\s*${esc(m[2]!.trim())}\\s*;`, 'i') };
  }
  if (/^MS\d+-.+/i.test(item)) {
    // pulledpork's MS bulletin matcher (`MS09-008`, `MS00-\d+`): a case-insensitive regular expression on the rule text
    try {
      return { kind: 're', re: new RegExp(item, 'i') };
    } catch (e) {
      return fail(`bad regular expression (${(e as Error).message})`, item, at);
    }
  }
  const category = /[a-xA-X]+(-|\w)*/.exec(item);
  if (category !== null && /^[\w-]+$/.test(item)) {
    // pulledpork's category: the first run of its category pattern, searched in the rule file's name (its category)
    try {
      return { kind: 'category', re: new RegExp(category[0]), pattern: category[0] };
    } catch (e) {
      return fail(`bad category (${(e as Error).message})`, item, at);
    }
  }
  return fail(
    'unknown matcher (expected gid:sid, sid, gid:sid:rev, gid:sid-gid:sid, re:, pcre:, group:, filename:, metadata: or NAME.rules)',
    item,
    at,
  );
}

/** Python's named groups (`(?P<name>`, `(?P=name)`) in JavaScript's spelling; the rest is shared syntax. */
function pythonRegex(src: string): string {
  return src.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
}

/**
 * shlex.split in POSIX mode, as suricata-update reads modify.conf: blanks separate words; in double quotes a
 * backslash escapes only `"` and `\` (`"drop\\2"` is `drop\2`); in single quotes nothing is escaped; outside quotes
 * a backslash escapes the next character. Returns the words with the column each starts at (0-based).
 */
export function shlexSplit(s: string): { words: { text: string; at: number }[]; error?: { detail: string; at: number } } {
  const words: { text: string; at: number }[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    const start = i;
    let w = '';
    while (i < s.length && !/\s/.test(s[i]!)) {
      const c = s[i]!;
      if (c === '"') {
        const open = i;
        i++;
        for (;;) {
          if (i >= s.length) return { words, error: { detail: 'unterminated quoted string', at: open } };
          const d = s[i]!;
          if (d === '"') break;
          if (d === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) {
            w += s[i + 1];
            i += 2;
            continue;
          }
          w += d;
          i++;
        }
        i++;
      } else if (c === "'") {
        const close = s.indexOf("'", i + 1);
        if (close === -1) return { words, error: { detail: 'unterminated quoted string', at: i } };
        w += s.slice(i + 1, close);
        i = close + 1;
      } else if (c === '\\' && i + 1 < s.length) {
        w += s[i + 1];
        i += 2;
      } else {
        w += c;
        i++;
      }
    }
    words.push({ text: w, at: start });
  }
  return { words };
}

/** A Python / Perl replacement (`\1`, `\g<1>`, `${1}`, `$1`) as a JavaScript replacement string. */
export function pythonReplacement(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const rest = s.slice(i + 1);
      const g = /^g<(\d+)>/.exec(rest) ?? /^(\d{1,2})/.exec(rest);
      if (g) {
        out += `$${g[1]}`;
        i += g[0].length;
        continue;
      }
      if (rest[0] === '\\') {
        out += '\\';
        i++;
        continue;
      }
      out += c;
    } else if (c === '$') {
      const g = /^\$\{(\d+)\}/.exec(s.slice(i)) ?? /^\$(\d{1,2})/.exec(s.slice(i));
      if (g) {
        out += `$${g[1]}`;
        i += g[0].length - 1;
        continue;
      }
      out += '$$';
    } else out += c;
  }
  return out;
}

function parseModify(t: string, lead: number, file: string, lineNo: number, fail: Fail): ModifyLine {
  const sp = shlexSplit(t);
  if (sp.error) fail(sp.error.detail, t.slice(sp.error.at), lead + sp.error.at + 1);
  let words = sp.words;
  let firstOnly = false;
  if (words[0]?.text === 'modifysid') {
    // oinkmaster's form, which suricata-update also reads: modifysid SIDS "from" | "to"; first match only.
    firstOnly = true;
    const bar = words.findIndex((w) => w.text === '|');
    if (bar === -1 || bar + 2 !== words.length || bar < 3) fail('expected modifysid SIDS "from" | "to"', t, lead + 1);
    words = [
      {
        text: words
          .slice(1, bar - 1)
          .map((w) => w.text)
          .join(''),
        at: words[1]!.at,
      },
      words[bar - 1]!,
      words[bar + 1]!,
    ];
  }
  if (words.length !== 3) fail(`expected MATCHER "from" "to" (${words.length} words)`, t, lead + 1);
  const [head, from, to] = words as [(typeof words)[0], (typeof words)[0], (typeof words)[0]];
  const at = lead + head.at + 1;
  let matchers: Matcher[] | undefined;
  if (head.text === '*') matchers = undefined;
  else if (WHOLE_LINE.test(head.text)) matchers = [parseItem(head.text, fail, at)];
  else matchers = head.text.split(',').map((x) => parseItem(x.trim(), fail, at));
  let re: RegExp;
  try {
    re = new RegExp(pythonRegex(from.text), firstOnly ? '' : 'g');
  } catch (e) {
    return fail(`bad regular expression (${(e as Error).message})`, from.text, lead + from.at + 1);
  }
  return { file, line: lineNo, text: t, matchers, from: re, to: pythonReplacement(to.text) };
}

/** A section-less policy file of the given kind (see the module comment). */
export function parsePlainPolicy(text: string, file: string, kind: PlainKind): Policy {
  const policy = emptyPolicy(file);
  text.split('\n').forEach((rawLine, idx) => {
    const lineNo = idx + 1;
    const line = rawLine.replace(/\r$/, '');
    const lead = line.length - line.trimStart().length;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const fail: Fail = (detail, offending, column) => {
      throw new PolicyError(file, lineNo, column, detail, offending);
    };
    if (kind === 'modify') {
      policy.modify.push(parseModify(t, lead, file, lineNo, fail));
      return;
    }
    // A trailing `# comment` (pulledpork documents them); a regex keeps everything (its `#` may be meant).
    const body = WHOLE_LINE.test(t) ? t : stripTrailingComment(t).trimEnd();
    const items: { text: string; at: number }[] = [];
    if (WHOLE_LINE.test(body)) items.push({ text: body, at: lead + 1 });
    else {
      let offset = 0;
      for (const part of body.split(',')) {
        const item = part.trim();
        const at = lead + offset + (part.length - part.trimStart().length) + 1;
        offset += part.length + 1;
        if (item === '') fail('empty item in the list', body, at);
        items.push({ text: item, at });
      }
    }
    for (const it of items) {
      const matcher = parseItem(it.text, fail, it.at);
      if (kind === 'drop') {
        const base: PolicyLine = { file, line: lineNo, section: 'plain', type: 'drop', text: t };
        policy.rules.push({ ...base, matcher });
      } else policy.state.push({ file, line: lineNo, type: kind, text: t, matcher });
    }
  });
  return policy;
}
