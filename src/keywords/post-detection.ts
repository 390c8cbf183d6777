/**
 * Post-detection options and rate filters of Snort 2.9: threshold, detection_filter, tag, logto, session, resp,
 * react, activates, activated_by, count. Checks as Snort's parser makes them (parser.c ParseOtnThreshold,
 * ParseOtnDetectionFilter, ParseOtnTag: tracks other than by_src/by_dst, such as Suricata's by_rule and by_flow, are
 * refused; detection_filter takes exactly three arguments). threshold and detection_filter compile to the matcher's
 * rate specs (evaluated by decide.ts); the matcher does not tag.
 */
import { OptionError } from '../match/plan-context.js';
import { defineKeyword, type AnyKeywordSpec, type ValueReporter } from './spec.js';
import { parseInteger, unquote } from './values.js';
import { keyValue, oneOf, tokens, type Piece } from './snort-args.js';

export type Track = 'by_src' | 'by_dst';

export interface ThresholdArgs {
  type: 'limit' | 'threshold' | 'both';
  track: Track;
  count: number;
  seconds: number;
}

export interface DetectionFilterArgs {
  track: Track;
  count: number;
  seconds: number;
}

type FilterKey = 'type' | 'track' | 'count' | 'seconds';

/** Reads `key value` pairs; each key at most once; values checked. */
function filterPairs(value: string, report: ValueReporter, what: string, keys: readonly FilterKey[]): Partial<ThresholdArgs> | undefined {
  const out: Partial<ThresholdArgs> = {};
  const parts = tokens(value);
  if (what === 'detection_filter' && parts.length !== 3) {
    report.error(
      'bad-argument-count',
      `detection_filter has ${parts.length} arguments; it takes exactly 3 (track, count, seconds)`,
      0,
      Math.max(1, value.length),
    );
    return undefined;
  }
  for (const p of parts) {
    const kv = keyValue(p);
    // parser.c compares keys and their words with strcasecmp: `Type Limit, Track BY_SRC` is accepted.
    const key = kv.key.toLowerCase() as FilterKey;
    if (!keys.includes(key)) {
      report.error('bad-argument', `${what}: unknown argument '${kv.key}' (${keys.join(', ')})`, p.at, Math.max(1, p.text.length));
      return undefined;
    }
    if (out[key] !== undefined) {
      report.error('duplicate-argument', `${what}: '${key}' is given twice`, p.at, p.text.length);
      return undefined;
    }
    const val: Piece = { text: (kv.value ?? '').trim(), at: kv.valueAt };
    if (key === 'type') {
      const t = oneOf({ text: val.text.toLowerCase(), at: val.at }, ['limit', 'threshold', 'both'] as const, report, `${what} type`);
      if (!t) return undefined;
      out.type = t;
    } else if (key === 'track') {
      const track = val.text.toLowerCase();
      if (track !== 'by_src' && track !== 'by_dst') {
        report.error(
          'unknown-track',
          `${what} has unknown track '${val.text}' (Snort 2.9 tracks by_src or by_dst)`,
          val.at,
          Math.max(1, val.text.length),
        );
        return undefined;
      }
      out.track = track;
    } else {
      // parser.c reads count and seconds with xatoup: "must be > 0" (threshold's count too).
      const n = parseInteger(val.text, report, `${what} ${key}`, 1, 0x7fffffff, val.at);
      if (n === undefined) return undefined;
      out[key] = n;
    }
  }
  const missing = keys.filter((k) => out[k] === undefined);
  if (missing.length) {
    report.error('missing-argument', `${what} is missing ${missing.join(', ')} (it needs ${keys.join(', ')})`, 0, Math.max(1, value.length));
    return undefined;
  }
  return out;
}

/** parser.c (after a rule's options are read): the two cannot be combined. The binder reports it to lint too. */
export const THRESHOLD_WITH_DETECTION_FILTER = 'threshold and detection_filter cannot be used in the same rule';

export const threshold = defineKeyword<ThresholdArgs>({
  name: 'threshold',
  repeats: true,
  category: 'post-detection',
  value: 'required',
  summary: 'limit or threshold the alerts of this rule (type, track, count, seconds)',
  parse: (value, report) => filterPairs(value ?? '', report, 'threshold', ['type', 'track', 'count', 'seconds']) as ThresholdArgs | undefined,
  plan(a, into) {
    if (into.rule.threshold !== undefined) throw new OptionError('only one threshold per rule');
    if (into.rule.detectionFilter !== undefined) throw new OptionError(THRESHOLD_WITH_DETECTION_FILTER);
    into.rule.threshold = { type: a.type, track: a.track, count: a.count, seconds: a.seconds };
  },
});

export const detection_filter = defineKeyword<DetectionFilterArgs>({
  name: 'detection_filter',
  repeats: true,
  category: 'post-detection',
  value: 'required',
  summary: 'only alert after the rule matched count times in seconds (per source or destination)',
  parse: (value, report) => filterPairs(value ?? '', report, 'detection_filter', ['track', 'count', 'seconds']) as DetectionFilterArgs | undefined,
  plan(a, into) {
    if (into.rule.detectionFilter !== undefined) throw new OptionError('only one detection_filter per rule');
    if (into.rule.threshold !== undefined) throw new OptionError(THRESHOLD_WITH_DETECTION_FILTER);
    into.rule.detectionFilter = { track: a.track, count: a.count, seconds: a.seconds };
  },
});

export type TagMetric = 'packets' | 'seconds' | 'bytes';

export interface TagArgs {
  type: 'session' | 'host';
  /** Limits by metric (a tag may give several: `0,packets,600,seconds`). */
  limits: { count: number; metric: TagMetric }[];
  /** host tags: which address of the triggering packet to follow. */
  direction?: 'src' | 'dst';
  /** session tags: only the first matching session. */
  exclusive: boolean;
}

const TAG_METRICS = ['packets', 'seconds', 'bytes'] as const;

function lower(p: Piece): Piece {
  return { text: p.text.toLowerCase(), at: p.at };
}

export const tag = defineKeyword<TagArgs>({
  name: 'tag',
  category: 'post-detection',
  value: 'required',
  summary: 'log more packets of the session or host after the alert',
  parse(value, report) {
    const v = value ?? '';
    const parts = tokens(v);
    const typeP = parts[0];
    if (!typeP) {
      report.error('missing-value', 'tag needs a type', 0, 1);
      return undefined;
    }
    // parser.c ParseOtnTag compares every word with strcasecmp.
    const type = oneOf(lower(typeP), ['session', 'host'] as const, report, 'tag type');
    if (!type) return undefined;
    const args: TagArgs = { type, limits: [], exclusive: false };
    for (let k = 1; k < parts.length; k++) {
      const p = lower(parts[k]!);
      if (/^\d+$/.test(p.text)) {
        const count = parseInteger(p.text, report, 'tag count', 0, 0x7fffffff, p.at);
        const mp = parts[k + 1];
        if (count === undefined) return undefined;
        if (!mp) {
          report.error('missing-argument', `tag count ${count} needs a metric (packets, seconds or bytes)`, p.at, p.text.length);
          return undefined;
        }
        const metric = oneOf(lower(mp), TAG_METRICS, report, 'tag metric');
        if (!metric) return undefined;
        if (args.limits.some((l) => l.metric === metric)) {
          report.error('duplicate-argument', `tag gives '${metric}' twice`, mp.at, mp.text.length);
          return undefined;
        }
        args.limits.push({ count, metric });
        k++;
      } else if (p.text === 'src' || p.text === 'dst') {
        if (type !== 'host') {
          report.error('bad-argument', `tag:session takes no direction ('${p.text}' is for tag:host)`, p.at, p.text.length);
          return undefined;
        }
        args.direction = p.text;
      } else if (p.text === 'exclusive') {
        if (type !== 'session') {
          report.error('bad-argument', "'exclusive' is for tag:session only", p.at, p.text.length);
          return undefined;
        }
        args.exclusive = true;
      } else {
        report.error('bad-argument', `invalid tag argument '${p.text}'`, p.at, Math.max(1, p.text.length));
        return undefined;
      }
    }
    if (type === 'host' && (!args.limits.length || !args.direction)) {
      report.error('missing-argument', 'tag:host needs a count, a metric and a direction (src or dst)', 0, v.length);
      return undefined;
    }
    if (type === 'session' && !args.limits.length && !args.exclusive) {
      report.error('missing-argument', "invalid tag option 'session': give a count and metric, or 'exclusive'", 0, v.length);
      return undefined;
    }
    return args;
  },
});

export const logto = defineKeyword<string>({
  name: 'logto',
  category: 'post-detection',
  value: 'required',
  summary: 'log matching packets to this file instead of the default log',
  parse(value, report) {
    const f = unquote(value ?? '');
    if (f === '') {
      report.error('missing-value', 'logto needs a file name', 0, 1);
      return undefined;
    }
    return f;
  },
});

export const session = defineKeyword<'printable' | 'binary' | 'all'>({
  name: 'session',
  category: 'post-detection',
  value: 'required',
  summary: 'log the application data of the TCP session',
  parse(value, report) {
    const t = (value ?? '').trim();
    return oneOf({ text: t, at: 0 }, ['printable', 'binary', 'all'] as const, report, 'session');
  },
});

export const RESP_TYPES = [
  'rst_snd',
  'rst_rcv',
  'rst_all',
  'reset_source',
  'reset_dest',
  'reset_both',
  'icmp_net',
  'icmp_host',
  'icmp_port',
  'icmp_all',
] as const;
export type RespType = (typeof RESP_TYPES)[number];

export const resp = defineKeyword<RespType[]>({
  name: 'resp',
  category: 'post-detection',
  value: 'required',
  summary: 'active response: reset the session or send ICMP unreachables',
  parse(value, report) {
    const out: RespType[] = [];
    for (const p of tokens(value)) {
      const t = oneOf(p, RESP_TYPES, report, 'resp');
      if (!t) return undefined;
      out.push(t);
    }
    if (!out.length) {
      report.error('missing-value', 'resp needs a response type', 0, 1);
      return undefined;
    }
    return out;
  },
});

export interface ReactArgs {
  msg: boolean;
  /** Deprecated options Snort still reads and ignores. */
  deprecated: string[];
  proxy?: number;
}

export const react = defineKeyword<ReactArgs>({
  name: 'react',
  category: 'post-detection',
  value: 'optional',
  summary: 'active response: send a web page to the client and close the session',
  parse(value, report) {
    const args: ReactArgs = { msg: false, deprecated: [] };
    for (const p of tokens(value)) {
      const kv = keyValue(p);
      if (p.text === 'msg') args.msg = true;
      else if (p.text === 'block' || p.text === 'warn') {
        args.deprecated.push(p.text);
        report.warning('deprecated-argument', `react '${p.text}' is deprecated and ignored`, p.at, p.text.length);
      } else if (kv.key === 'proxy') {
        const n = parseInteger(kv.value ?? '', report, 'react proxy port', 1, 65535, kv.valueAt);
        if (n === undefined) return undefined;
        args.proxy = n;
        args.deprecated.push('proxy');
        report.warning('deprecated-argument', 'react proxy is deprecated and ignored', p.at, p.text.length);
      } else {
        report.error('bad-argument', `unknown react option '${p.text}' (msg, block, warn, proxy <port>)`, p.at, Math.max(1, p.text.length));
        return undefined;
      }
    }
    return args;
  },
});

function ruleNumber(name: string, summary: string, min: number) {
  return defineKeyword<number>({
    name,
    category: 'post-detection',
    value: 'required',
    summary,
    parse: (value, report) => parseInteger(value ?? '', report, name, min, 0x7fffffff),
  });
}

export const activates = ruleNumber('activates', 'the id of the dynamic rules this activate rule turns on', 1);
export const activated_by = ruleNumber('activated_by', 'the id of the activate rule that turns this dynamic rule on', 1);
export const count = ruleNumber('count', 'how many packets a dynamic rule stays on after activation', 1);

export const postDetectionKeywords: AnyKeywordSpec[] = [
  threshold,
  detection_filter,
  tag,
  logto,
  session,
  resp,
  react,
  activates,
  activated_by,
  count,
];
