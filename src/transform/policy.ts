/**
 * The convert policy: snortconfig's INI file read unchanged, plus the matchers users of suricata-update and
 * oinkmaster expect.
 *
 * snortconfig's format (HONEYWALL.md section 1):
 *
 *     [classifications]            # rule classtype
 *     replace_or_drop: attempted-admin, bad-unknown
 *     [files]                      # rule file basename (`exploit` or `exploit.rules`)
 *     drop: attack-responses
 *     [sids]                       # sid (any gid), or gid:sid
 *     alert: 1289, 1441
 *
 * Extensions (new sections, so a snortconfig file means what it meant):
 *
 *     [rules]                      # one matcher per line, applied after [sids], in file order
 *     drop: 1:2001219              # gid:sid (or a plain sid)
 *     drop: re:ET TROJAN .*IRC     # regular expression searched in the rule text
 *     drop: group:emerging-trojan* # glob on the rule file's basename
 *     drop: filename:rules/exploit*.rules  # glob on the rule file's path as given
 *     drop: metadata: policy security-ips  # a metadata key/value pair of the rule
 *     drop: classtype:trojan-activity
 *     [modify]                     # rule text edits, before the decision
 *     2019401 "seconds \d+" "seconds 3600"          # suricata-update modify.conf: MATCHER "from" "to" (all matches)
 *     re:heartbleed "alert" "drop"
 *     modifysid 1234, 5678 "from" | "to"            # oinkmaster: sid list (or *), first match only
 *
 * Types: alert log pass disable drop sdrop reject replace replace_or_drop. `#` starts a comment line (and a
 * trailing comment after blanks). Every problem is a PolicyError with file:line:column and the offending text.
 *
 * A file without sections is read by its name (policy-files.ts): suricata-update's enable.conf, disable.conf,
 * drop.conf, modify.conf and pulledpork's enablesid.conf, disablesid.conf, dropsid.conf, modifysid.conf, unchanged.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { parsePlainPolicy, plainKindOf } from './policy-files.js';

export const POLICY_TYPES = ['alert', 'log', 'pass', 'disable', 'drop', 'sdrop', 'reject', 'replace', 'replace_or_drop'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

/** `plain`: a line of a section-less file (drop.conf, dropsid.conf), read by its file name. */
export type SectionName = 'classifications' | 'files' | 'sids' | 'rules' | 'plain';

/** Where a decision came from: one line of the policy file. */
export interface PolicyLine {
  file: string;
  line: number;
  section: SectionName;
  type: PolicyType;
  /** The line as written (trimmed). */
  text: string;
}

export type Matcher =
  /** `rev`: suricata-update's `gid:sid:rev` form matches that revision only. */
  | { kind: 'sid'; gid: number | undefined; sid: number; rev?: number }
  /** pulledpork's `gid:sid-gid:sid` range (both ends included). */
  | { kind: 'sid-range'; gid: number; from: number; to: number }
  | { kind: 're'; re: RegExp }
  | { kind: 'group'; glob: RegExp; pattern: string }
  | { kind: 'filename'; glob: RegExp; pattern: string }
  /** `ci`: compared case-insensitively (suricata-update's metadata matcher). */
  | { kind: 'metadata'; key: string; value: string; ci?: boolean }
  | { kind: 'classtype'; name: string }
  /**
   * pulledpork's category (`web-iis`, `emerging-scan`): a regular expression searched, case-sensitive, in the rule
   * file's name without `.rules` (pulledpork.pl modify_state, whose categories are the file names).
   */
  | { kind: 'category'; re: RegExp; pattern: string }
  /** `*`: every rule (modifysid *). */
  | { kind: 'all' };

export interface RuleMatcherLine extends PolicyLine {
  matcher: Matcher;
}

export interface ModifyLine {
  file: string;
  line: number;
  text: string;
  /** undefined = every rule (`modifysid *`). */
  matchers: Matcher[] | undefined;
  from: RegExp;
  /** JavaScript replacement string (`\1` and `${1}` already turned into `$1`). */
  to: string;
}

/** enable.conf / disable.conf (and pulledpork's *sid.conf): a rule's state, decided before its action. */
export interface StateLine {
  file: string;
  line: number;
  type: 'enable' | 'disable';
  text: string;
  matcher: Matcher;
}

export interface Policy {
  file: string;
  /** enable/disable lines of section-less files; any enable match wins over any disable match (suricata-update). */
  state: StateLine[];
  /** Maps in the order snortconfig applies them; within a map the later line wins. */
  classifications: Map<string, PolicyLine>;
  files: Map<string, PolicyLine>;
  /** Keyed by `sid` (any gid) or `gid:sid`. */
  sids: Map<string, PolicyLine>;
  rules: RuleMatcherLine[];
  modify: ModifyLine[];
}

export class PolicyError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
    readonly offending: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}${offending ? `: '${offending}'` : ''}`);
  }
}

const TYPE_SET = new Set<string>(POLICY_TYPES);

export function isPolicyType(s: string): s is PolicyType {
  return TYPE_SET.has(s);
}

export function emptyPolicy(file = '<none>'): Policy {
  return { file, state: [], classifications: new Map(), files: new Map(), sids: new Map(), rules: [], modify: [] };
}

/** At most this much policy text is read (a policy is a few KiB; a larger file is a mistake, not a policy). */
export const MAX_POLICY_BYTES = 16 * 1024 * 1024;

export function readPolicyText(path: string, display = path): string {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new PolicyError(display, 0, 0, 'not a regular file', '');
    if (st.size > MAX_POLICY_BYTES) throw new PolicyError(display, 0, 0, `larger than ${MAX_POLICY_BYTES} bytes`, '');
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof PolicyError) throw e;
    throw new PolicyError(display, 0, 0, `cannot read the policy file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, '');
  }
}

/**
 * One policy file: honeywall's INI form, or (a file whose first line is not a section header and whose name says
 * what it is: disable.conf, dropsid.conf, ...) a suricata-update or pulledpork file read by that name.
 */
export function readPolicyFile(path: string, display = path, as?: string): Policy {
  // (`as`: the kind a file holds when its name does not say it: update.yaml's disable-conf names any file)
  return parsePolicy(readPolicyText(path, display), display, as !== undefined ? `${as}.conf` : basename(path));
}

/** Several policy files as one: INI maps merged (a later file wins), lists concatenated in file order. */
export function readPolicyFiles(files: readonly { path: string; display?: string; as?: string }[]): Policy {
  const out = emptyPolicy(files.map((f) => f.display ?? f.path).join(', ') || '<none>');
  for (const f of files) mergePolicy(out, readPolicyFile(f.path, f.display ?? f.path, f.as));
  return out;
}

export function mergePolicy(into: Policy, p: Policy): Policy {
  into.state.push(...p.state);
  for (const [k, v] of p.classifications) into.classifications.set(k, v);
  for (const [k, v] of p.files) into.files.set(k, v);
  for (const [k, v] of p.sids) into.sids.set(k, v);
  into.rules.push(...p.rules);
  into.modify.push(...p.modify);
  return into;
}

/** Turns a shell-style glob (`*`, `?`, `[..]`) into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close === -1) re += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export const SID_RE = /^(?:(\d+):)?(\d+)$/;

/** `name`: the file's base name, which says how a file without sections is read (see policy-files.ts). */
export function parsePolicy(text: string, file = '<policy>', name = basename(file)): Policy {
  const kind = plainKindOf(name);
  if (kind !== undefined && !startsWithSection(text)) return parsePlainPolicy(text, file, kind);
  const policy = emptyPolicy(file);
  let section: SectionName | 'modify' | undefined;
  const lines = text.split('\n');
  lines.forEach((rawLine, idx) => {
    const lineNo = idx + 1;
    const line = rawLine.replace(/\r$/, '');
    const lead = line.length - line.trimStart().length;
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) return;
    const fail = (detail: string, offending: string, at = lead): never => {
      throw new PolicyError(file, lineNo, at + 1, detail, offending);
    };
    const sec = /^\[\s*([A-Za-z_]+)\s*\]$/.exec(t);
    if (sec) {
      const name = sec[1]!.toLowerCase();
      if (name === 'classifications' || name === 'files' || name === 'sids' || name === 'rules' || name === 'modify') section = name;
      else fail('unknown section (expected [classifications], [files], [sids], [rules] or [modify])', t);
      return;
    }
    if (t.startsWith('[')) fail('malformed section header', t);
    if (section === undefined)
      fail(
        'line outside any section (start with [classifications], [files], [sids], [rules] or [modify]; or name the file as what it is: enable.conf, disable.conf, drop.conf, modify.conf, enablesid.conf, disablesid.conf, dropsid.conf, modifysid.conf)',
        t,
      );
    if (section === 'modify') {
      policy.modify.push(parseModifyLine(t, file, lineNo, lead, fail));
      return;
    }
    const colon = t.indexOf(':');
    if (colon <= 0) fail(`expected 'type: value, value' (types: ${POLICY_TYPES.join(', ')})`, t);
    const type = t.slice(0, colon).trim();
    if (!isPolicyType(type)) fail(`unknown type (expected one of ${POLICY_TYPES.join(', ')})`, type);
    const valueStart = lead + colon + 1;
    const rest = stripTrailingComment(t.slice(colon + 1));
    const base: PolicyLine = { file, line: lineNo, section: section!, type: type as PolicyType, text: t };
    if (section === 'rules') {
      const m = rest.trim();
      if (m === '') fail('missing matcher after the type', t);
      const at = valueStart + (rest.length - rest.trimStart().length);
      policy.rules.push({ ...base, matcher: parseMatcher(m, (d, o) => fail(d, o, at)) });
      return;
    }
    let offset = valueStart;
    for (const part of rest.split(',')) {
      const item = part.trim();
      const at = offset + (part.length - part.trimStart().length);
      offset += part.length + 1;
      if (item === '') {
        if (rest.trim() === '') fail('missing value after the type', t);
        continue;
      }
      if (section === 'classifications') {
        if (!/^[A-Za-z0-9_-]+$/.test(item)) fail('not a classtype name', item, at);
        policy.classifications.set(item, base);
      } else if (section === 'files') {
        if (/\s/.test(item)) fail('not a rule file name', item, at);
        policy.files.set(item.replace(/\.rules$/, ''), base);
      } else {
        const m = SID_RE.exec(item);
        if (!m) fail("not a sid (expected 'sid' or 'gid:sid')", item, at);
        policy.sids.set(m![1] === undefined ? String(Number(m![2])) : `${Number(m![1])}:${Number(m![2])}`, base);
      }
    }
  });
  return policy;
}

/** Whether the first line that is not blank or a comment is a `[section]` header. */
function startsWithSection(text: string): boolean {
  for (const raw of text.split('\n')) {
    const t = raw.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) continue;
    return t.startsWith('[');
  }
  return true;
}

export function stripTrailingComment(s: string): string {
  const m = /\s#/.exec(s);
  return m ? s.slice(0, m.index) : s;
}

export function parseMatcher(m: string, fail: (detail: string, offending: string) => never): Matcher {
  const sid = SID_RE.exec(m);
  if (sid) return { kind: 'sid', gid: sid[1] === undefined ? undefined : Number(sid[1]), sid: Number(sid[2]) };
  const colon = m.indexOf(':');
  const key = colon === -1 ? '' : m.slice(0, colon).trim().toLowerCase();
  const arg = colon === -1 ? '' : m.slice(colon + 1).trim();
  if (colon !== -1 && arg === '') fail(`'${key}:' needs a value`, m);
  switch (key) {
    case 're':
      try {
        return { kind: 're', re: new RegExp(arg) };
      } catch (e) {
        return fail(`bad regular expression (${(e as Error).message})`, arg);
      }
    case 'group':
      return { kind: 'group', glob: globToRegExp(arg), pattern: arg };
    case 'filename':
      return { kind: 'filename', glob: globToRegExp(arg), pattern: arg };
    case 'metadata': {
      const sp = arg.search(/\s/);
      if (sp === -1) return fail("metadata matcher is 'metadata: key value'", m);
      return { kind: 'metadata', key: arg.slice(0, sp), value: arg.slice(sp).trim() };
    }
    case 'classtype':
      if (!/^[A-Za-z0-9_-]+$/.test(arg)) fail('not a classtype name', arg);
      return { kind: 'classtype', name: arg };
    default:
      return fail('unknown matcher (expected sid, gid:sid, re:, group:, filename:, metadata: or classtype:)', m);
  }
}

/** Reads a double-quoted string at `i` (backslash escapes `\"` and `\\` kept for the regex); returns its end. */
function readQuoted(s: string, i: number): { value: string; end: number } | undefined {
  if (s[i] !== '"') return undefined;
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j]!;
    if (c === '\\' && j + 1 < s.length) {
      const n = s[j + 1]!;
      out += n === '"' ? '"' : c + n;
      j++;
      continue;
    }
    if (c === '"') return { value: out, end: j + 1 };
    out += c;
  }
  return undefined;
}

function toJsReplacement(s: string): string {
  return s
    .replace(/\$/g, '$$$$')
    .replace(/\\(\d)/g, '$$$1')
    .replace(/\$\$\{(\d+)\}/g, '$$$1');
}

function parseModifyLine(t: string, file: string, lineNo: number, lead: number, fail: (d: string, o: string, at?: number) => never): ModifyLine {
  const oink = /^modifysid\s+/.exec(t);
  const firstQuote = t.indexOf('"');
  if (firstQuote === -1) fail('expected MATCHER "from" "to" or modifysid SIDS "from" | "to"', t);
  const head = t.slice(oink ? oink[0].length : 0, firstQuote).trim();
  const a = readQuoted(t, firstQuote);
  if (!a) fail('unterminated quoted string', t.slice(firstQuote), lead + firstQuote);
  let i = a!.end;
  while (t[i] === ' ' || t[i] === '\t') i++;
  if (oink) {
    if (t[i] !== '|') fail('modifysid needs \'|\' between "from" and "to"', t.slice(i), lead + i);
    i++;
    while (t[i] === ' ' || t[i] === '\t') i++;
  }
  const b = readQuoted(t, i);
  if (!b) fail('expected a quoted replacement', t.slice(i), lead + i);
  const tail = stripTrailingComment(t.slice(b!.end)).trim();
  if (tail !== '' && !(oink && tail === ';')) fail('unexpected text after the replacement', tail, lead + b!.end);
  let from: RegExp;
  try {
    from = new RegExp(a!.value, oink ? '' : 'g');
  } catch (e) {
    return fail(`bad regular expression (${(e as Error).message})`, a!.value, lead + firstQuote);
  }
  if (head === '') fail('missing matcher before the quoted strings', t);
  let matchers: Matcher[] | undefined;
  if (oink) {
    if (head !== '*') {
      matchers = head.split(',').map((s) => {
        const m = SID_RE.exec(s.trim());
        if (!m) return fail('not a sid', s.trim(), lead);
        return { kind: 'sid', gid: m[1] === undefined ? undefined : Number(m[1]), sid: Number(m[2]) } as Matcher;
      });
    }
  } else {
    matchers =
      head.split(/\s*,\s*(?=\d)/).length > 1 && /^[\d:,\s]+$/.test(head)
        ? head.split(',').map((s) => parseMatcher(s.trim(), (d, o) => fail(d, o, lead)))
        : [parseMatcher(head, (d, o) => fail(d, o, lead))];
  }
  return { file, line: lineNo, text: t, matchers, from, to: toJsReplacement(b!.value) };
}
