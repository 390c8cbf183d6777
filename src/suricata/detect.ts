/**
 * Which dialect a rule file is written in, decided per file from the lines that can only be one or the other:
 *
 * - Suricata: a header protocol Snort 2.9 does not have (`alert http ...`, `tcp-pkt`), a Suricata-only action
 *   (`rejectsrc`, `config`), a keyword only Suricata has (a sticky buffer such as `http.uri` or `file.data`, any
 *   dotted keyword, `startswith`, `endswith`, `bsize`, `dataset`, `noalert`, ...; not `xbits`, `dns_query` or `tls_sni`,
 *   which are honeywall's keywords too, with Suricata's meaning);
 * - Snort 2.9: a Snort-only action (`log`, `sdrop`, `activate`, `dynamic`) or a keyword Snort has and Suricata does
 *   not (`resp`, `react`, `logto`, `session`, `http_encode`, `sd_pattern`, ...).
 *
 * Everything else (content, pcre, flow, flowbits, the `rev`-last or `rev`-first layouts, `http_uri;` modifiers) is
 * read the same by both and decides nothing. A file with no deciding line is Snort's (what honeywall always read);
 * a file with both is refused, naming the first line of each.
 */
import { EntryReader } from '../parser/lines.js';
import { scanRegularOptions } from '../parser/rule.js';
import { KEYWORDS } from '../keywords/index.js';
import { SNORT_ONLY_ACTIONS, SURICATA_ACTIONS, SURICATA_KEYWORDS } from './keywords.js';
import { headerFields } from './translate.js';
import { LineMap } from '../diagnostics/diagnostic.js';

export type InputDialect = 'snort' | 'suricata' | 'auto';

export interface Evidence {
  line: number;
  column: number;
  /** What decides, e.g. "sticky buffer 'http.uri'". */
  what: string;
}

export type Detection =
  | { dialect: 'snort'; evidence?: Evidence }
  | { dialect: 'suricata'; evidence: Evidence }
  | { dialect: 'mixed'; suricata: Evidence; snort: Evidence };

const SNORT_PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'ip']);
/** Cheap test over the whole text: can any line be Suricata's? (No: the file is Snort's without reading its rules.) */
const SURICATA_HINT =
  /^[ \t]*#*[ \t]*(?:(?:alert|drop|pass|reject)[ \t]+(?!(?:tcp|udp|icmp|ip)[ \t])[a-z]|rejectsrc|rejectdst|rejectboth)|[(;][ \t]*(?:[a-z0-9_]+\.[a-z0-9_.]+|startswith|endswith|bsize|xbits|dataset|datarep|lua|noalert|flowint|target|requires|app-layer-[a-z]+)[ \t]*[;:]/m;

/** Suricata-only or Snort-only keywords: known to exactly one of the two keyword tables. */
function keywordSide(kw: string): 'suricata' | 'snort' | undefined {
  const sur = SURICATA_KEYWORDS.has(kw);
  const sn = KEYWORDS.has(kw);
  if (kw === 'rawbytes') return undefined; // Snort's, and accepted (ignored) by Suricata
  if (sur && !sn) return 'suricata';
  if (!sur && kw.includes('.')) return 'suricata';
  if (sn && !sur) return 'snort';
  return undefined;
}

export function detectDialect(text: string): Detection {
  if (!SURICATA_HINT.test(text)) return { dialect: 'snort' };
  let suricata: Evidence | undefined;
  let snort: Evidence | undefined;
  let lines: LineMap | undefined;
  const at = (offset: number, what: string): Evidence => {
    lines ??= new LineMap(text);
    return { ...lines.position(offset), what };
  };
  const reader = new EntryReader(text);
  for (let e = reader.next(); e !== undefined && (suricata === undefined || snort === undefined); e = reader.next()) {
    if (e.kind !== 'code' || e.tooLong !== undefined || e.pieces.length !== 1) continue;
    const t = e.text;
    const h = headerFields(t, 0);
    if (h === undefined) continue;
    const base = e.pieces[0]!.physical;
    const [action, proto] = h.fields;
    if (SNORT_ONLY_ACTIONS.has(action!.text)) snort ??= at(base + action!.at, `Snort 2.9 action '${action!.text}'`);
    else if (SURICATA_ACTIONS.has(action!.text) && !['alert', 'drop', 'pass', 'reject'].includes(action!.text))
      suricata ??= at(base + action!.at, `Suricata action '${action!.text}'`);
    if (!SNORT_PROTOCOLS.has(proto!.text.toLowerCase())) suricata ??= at(base + proto!.at, `Suricata protocol '${proto!.text}'`);
    const close = t.lastIndexOf(')');
    if (close <= h.paren) continue;
    const options = scanRegularOptions(t, h.paren + 1, close, { report() {} }, false);
    for (const o of options ?? []) {
      const side = keywordSide(o.keyword);
      if (side === 'suricata') suricata ??= at(base + o.start, `Suricata keyword '${o.keyword}'`);
      else if (side === 'snort') snort ??= at(base + o.start, `Snort 2.9 keyword '${o.keyword}'`);
    }
  }
  if (suricata !== undefined && snort !== undefined) return { dialect: 'mixed', suricata, snort };
  if (suricata !== undefined) return { dialect: 'suricata', evidence: suricata };
  return snort !== undefined ? { dialect: 'snort', evidence: snort } : { dialect: 'snort' };
}
