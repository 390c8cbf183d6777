/**
 * `event_filter`, `threshold` (the standalone form), `suppress` and `rate_filter` lines of snort.conf / threshold.conf,
 * read into plan filters (compile time). rate_filter changes actions in inline mode only and is not applied.
 */
import type { RuleSet } from '../config/ruleset.js';
import { parseAddress } from '../parser/address.js';
import { resolveAddress } from '../config/variables.js';
import type { EventFilterPlan } from './plan.js';

export interface FilterProblem {
  file: string;
  line: number;
  reason: string;
}

function fields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of text.split(',')) {
    const t = part.trim();
    if (!t) continue;
    const sp = t.search(/\s/);
    if (sp < 0) m.set(t.toLowerCase(), '');
    else m.set(t.slice(0, sp).toLowerCase(), t.slice(sp).trim());
  }
  return m;
}

/** `config event_queue` and `config detection: max_queue_events` (Snort 2.9.20 parser.c ConfigEventQueue, ConfigDetection). */
export interface EventQueueConfig {
  /** fpAddMatch: matches kept per action kind, in evaluation order (fast_pattern_config max_queue_events, default 5). */
  maxQueueEvents: number;
  /** max_queue: events queued per packet (default 8). */
  maxEvents: number;
  /** log: events logged per packet (default 3). */
  log: number;
  /** order_events: content_length (default) or priority. */
  order: 'content_length' | 'priority';
  /** process_all_events: every action kind is logged, not only the first that has events. */
  processAll: boolean;
}

export function readEventQueueConfig(set: RuleSet): { config: EventQueueConfig; problems: FilterProblem[] } {
  // event_queue.c EventQueueConfigNew, fpcreate.c FastPatternConfigNew
  const config: EventQueueConfig = { maxQueueEvents: 5, maxEvents: 8, log: 3, order: 'content_length', processAll: false };
  const problems: FilterProblem[] = [];
  for (const f of set.configs) {
    const text = f.file.text;
    for (const node of f.file.nodes) {
      if (node.kind !== 'directive' || node.directive !== 'config' || node.disabled) continue;
      const m = /^\s*config\s+(event_queue|detection)\s*:?(.*)$/s.exec(node.raw.replace(/\\\r?\n/g, ' '));
      if (!m) continue;
      const line = text.slice(0, node.span.start).split('\n').length;
      // mSplit(args, ", "): tokens separated by spaces or commas
      const toks = m[2]!.split(/[ ,\t\r\n]+/).filter((t) => t !== '');
      const num = (i: number, what: string): number | undefined => {
        const v = toks[i] !== undefined && /^\d+$/.test(toks[i]!) ? Number(toks[i]) : Number.NaN;
        if (v > 0) return v;
        problems.push({ file: f.display, line, reason: `config ${m[1]}: ${what} needs a positive integer` });
        return undefined;
      };
      for (let i = 0; i < toks.length; i++) {
        const t = toks[i]!.toLowerCase();
        if (m[1] === 'detection') {
          if (t === 'max_queue_events') config.maxQueueEvents = num(++i, t) ?? config.maxQueueEvents;
          continue;
        }
        if (t === 'max_queue') config.maxEvents = num(++i, t) ?? config.maxEvents;
        else if (t === 'log') config.log = num(++i, t) ?? config.log;
        else if (t === 'order_events') {
          const o = toks[++i]?.toLowerCase();
          if (o === 'priority' || o === 'content_length') config.order = o;
          else problems.push({ file: f.display, line, reason: 'config event_queue: order_events needs priority or content_length' });
        } else if (t === 'process_all_events') config.processAll = true;
      }
    }
  }
  return { config, problems };
}

export function readEventFilters(set: RuleSet): { filters: EventFilterPlan[]; problems: FilterProblem[] } {
  const filters: EventFilterPlan[] = [];
  const problems: FilterProblem[] = [];
  for (const f of set.configs) {
    const text = f.file.text;
    for (const node of f.file.nodes) {
      if (node.kind !== 'directive' || node.directive !== 'other' || node.disabled) continue;
      const kw = node.keyword.value;
      if (kw !== 'event_filter' && kw !== 'threshold' && kw !== 'suppress') continue;
      const line = text.slice(0, node.span.start).split('\n').length;
      const body = node.raw
        .trim()
        .slice(kw.length)
        .replace(/\\\r?\n/g, ' ');
      const m = fields(body);
      const gid = Number(m.get('gen_id'));
      const sid = Number(m.get('sig_id'));
      if (!Number.isInteger(gid) || !Number.isInteger(sid)) {
        problems.push({ file: f.display, line, reason: `${kw} needs gen_id and sig_id` });
        continue;
      }
      if (kw === 'suppress') {
        const plan: EventFilterPlan = { kind: 'suppress', gid, sid };
        const track = m.get('track');
        if (track !== undefined) {
          if (track !== 'by_src' && track !== 'by_dst') {
            problems.push({ file: f.display, line, reason: `suppress: unknown track '${track}'` });
            continue;
          }
          plan.track = track;
          const ipText = m.get('ip');
          if (ipText === undefined) {
            problems.push({ file: f.display, line, reason: 'suppress with track needs ip' });
            continue;
          }
          const parsed = parseAddress(ipText);
          if (!parsed.ok) {
            problems.push({ file: f.display, line, reason: `suppress: bad ip '${ipText}': ${parsed.error}` });
            continue;
          }
          plan.ip = resolveAddress(parsed.value, set.vars);
        }
        filters.push(plan);
        continue;
      }
      const type = m.get('type');
      const track = m.get('track');
      const count = Number(m.get('count'));
      const seconds = Number(m.get('seconds'));
      if (
        (type !== 'limit' && type !== 'threshold' && type !== 'both') ||
        (track !== 'by_src' && track !== 'by_dst') ||
        !(count >= 0) ||
        !(seconds >= 0)
      ) {
        problems.push({ file: f.display, line, reason: `${kw} needs type limit|threshold|both, track by_src|by_dst, count and seconds` });
        continue;
      }
      filters.push({ kind: 'event_filter', gid, sid, type, track, count, seconds });
    }
  }
  return { filters, problems };
}
