/**
 * Stage 3: rule-level meaning. Attaches content modifiers to their content, fills the rule's identity (gid, sid,
 * rev, msg, classtype) and makes the cross-option checks Snort 2.9 makes when it loads a rule.
 */
import type { RuleOption } from '../ast.js';
import type { ContentArgs, FastPatternArgs, HttpBuffer } from '../keywords/content.js';
import type { NumOrVar } from '../keywords/values.js';
import type { RuleReporter } from './rule.js';
import { keywordId, keywordIdOf, keywordTable } from '../keywords/index.js';
import { THRESHOLD_WITH_DETECTION_FILTER } from '../keywords/post-detection.js';

export interface RuleIdentity {
  gid: number;
  sid: number | undefined;
  rev: number | undefined;
  msg: string | undefined;
  classtype: string | undefined;
}

/** Options that leave a cursor position a relative content can continue from. */
const CURSOR_SETTERS = new Set([
  'content',
  'uricontent',
  'pcre',
  'byte_jump',
  'byte_extract',
  'byte_test',
  'isdataat',
  'asn1',
  'base64_decode',
  'base64_data',
  'file_data',
  'pkt_data',
  'dns_query',
  'tls_sni',
  'dce_stub_data',
  'sip_header',
  'sip_body',
  'gtp_info',
  'dnp3_data',
  'modbus_data',
  'ssl_state',
  'ssl_version',
]);
/** The HTTP buffers Snort 2.9 refuses fast_pattern on (sp_pattern_match.c); the Suricata reader asks it too. */
export const FP_INELIGIBLE: ReadonlySet<HttpBuffer> = new Set<HttpBuffer>([
  'http_cookie',
  'http_raw_uri',
  'http_raw_header',
  'http_raw_cookie',
  'http_method',
  'http_stat_code',
  'http_stat_msg',
]);
const MAX_BYTE_EXTRACT_VARS = 2;

function len(o: RuleOption): number {
  return o.end - o.start;
}

export function bindRule(options: RuleOption[], reporter: RuleReporter, action?: string, proto?: string): RuleIdentity {
  return binder.bind(options, reporter, action, proto);
}

/**
 * One binder, reused for every rule (bindRule is not re-entrant): its state is reset per rule, and its methods
 * stand where per-rule closures were (about 20,000 rules and 100,000 content modifiers in a large rule set).
 */
class RuleBinder {
  private reporter!: RuleReporter;
  fastPatternSeen = false;
  /** Some payload option before the current point leaves a cursor. */
  cursorSeen = false;
  /** Something before the current content left a cursor (for its distance/within). */
  contentHasAnchor = false;

  err(o: RuleOption, code: string, message: string): void {
    this.reporter.report('error', code, message, o.start, len(o));
  }

  warn(o: RuleOption, code: string, message: string): void {
    this.reporter.report('warning', code, message, o.start, len(o));
  }

  bind(options: RuleOption[], reporter: RuleReporter, action?: string, proto?: string): RuleIdentity {
    this.reporter = reporter;
    this.fastPatternSeen = false;
    this.cursorSeen = false;
    this.contentHasAnchor = false;
    this.mathVariable = undefined;
    const id: RuleIdentity = { gid: 1, sid: undefined, rev: undefined, msg: undefined, classtype: undefined };
    let singletons = 0; // bit set of SINGLETON_BITS seen
    let plugins = 0; // bit set of PLUGIN_ONCE_BITS seen
    let lastContent: RuleOption | undefined;
    let extractVars: string[] | undefined;
    let sawSid = false;
    let protectedPending: RuleOption | undefined;
    let base64Decoded = false;

    for (let index = 0; index < options.length; index++) {
      const o = options[index]!;
      const kw = o.keyword;
      const kid = keywordIdOf(o);
      if (kid !== -1) {
        const once = PLUGIN_ONCE_BY_ID[kid]!;
        if (once !== 0) {
          if (plugins & once)
            this.err(
              o,
              'duplicate-option',
              once === RESPONSE
                ? `a rule takes one response option (resp or react): Snort refuses a second`
                : `'${kw}' appears more than once in the rule`,
            );
          plugins |= once;
        }
        if (proto !== undefined) this.checkProtocol(o, kid, proto);
      }
      const bit = kid === -1 ? 0 : SINGLETON_BY_ID[kid]!;
      if (bit !== 0) {
        if (singletons & bit) this.err(o, 'duplicate-option', `'${kw}' appears more than once in the rule`);
        singletons |= bit;
        if (kw === 'sid') sawSid = true;
        if (o.args !== undefined) {
          if (kw === 'sid') id.sid = o.args as number;
          else if (kw === 'gid') id.gid = o.args as number;
          else if (kw === 'rev') id.rev = o.args as number;
          else if (kw === 'msg') id.msg = o.args as string;
          else if (kw === 'classtype') id.classtype = o.args as string;
        }
        continue;
      }
      if (kw === 'content' || kw === 'uricontent') {
        lastContent = o;
        // The cursor question for this content's own relative modifiers is "was anything before it".
        this.contentHasAnchor = this.cursorSeen;
        this.cursorSeen = true;
        continue;
      }
      if (kid !== -1 && MODIFIER_BY_ID[kid] === 1) {
        if (!lastContent) {
          this.err(o, 'modifier-without-content', `'${kw}' modifies a content, but no content comes before it`);
          continue;
        }
        if (lastContent.args === undefined || o.args === undefined) continue;
        if (typeof o.args === 'object' && 'variable' in (o.args as object)) {
          const v = (o.args as { variable: string }).variable;
          if (!this.knownVariable(v, extractVars))
            this.err(o, 'unknown-variable', `'${v}' is not a byte_extract variable defined earlier in the rule`);
        }
        this.applyModifier(lastContent.args as ContentArgs, o, index);
        continue;
      }
      if (kid === BASE64_DECODE) base64Decoded = true;
      // sp_base64_data.c: "base64_decode needs to be specified before base64_data in a rule".
      else if (kid === BASE64_DATA && !base64Decoded) this.err(o, 'base64-data-without-decode', 'base64_data needs base64_decode before it');
      if (kid !== -1 && CURSOR_SETTER_BY_ID[kid] === 1) this.cursorSeen = true;
      if (kid !== -1 && VARIABLE_USER_BY_ID[kid] === 1 && o.args !== undefined) extractVars = this.bindVariables(o, kw, extractVars);
      if (kw === 'protected_content' && o.args !== undefined) protectedPending = o;
      if (kw === 'length' && protectedPending) protectedPending = undefined;
    }

    // Checks that need the complete content (all modifiers seen).
    for (let k = 0; k < options.length; k++) {
      const o = options[k]!;
      if ((o.keyword === 'content' || o.keyword === 'uricontent') && o.args) this.checkContent(o, o.args as ContentArgs);
    }
    // activate/dynamic rules (Snort 2.9): an activate rule names what it activates, a dynamic one what activates it.
    if (action === 'activate' && (singletons & ACTIVATES) === 0)
      reporter.report('error', 'activate-without-activates', "an activate rule needs an 'activates' option", options[0]?.start ?? 0, 1);
    if (action === 'dynamic' && (singletons & (ACTIVATED_BY | COUNT)) !== (ACTIVATED_BY | COUNT))
      reporter.report('error', 'dynamic-without-activated-by', "a dynamic rule needs 'activated_by' and 'count' options", options[0]?.start ?? 0, 1);
    if ((singletons & THRESHOLD_AND_DETECTION_FILTER) === THRESHOLD_AND_DETECTION_FILTER) {
      this.err(options.find((o) => o.keyword === 'detection_filter')!, 'threshold-with-detection-filter', THRESHOLD_WITH_DETECTION_FILTER);
    }
    if (protectedPending)
      this.err(protectedPending, 'protected-content-length', "protected_content needs a 'length' option (the length of the protected data)");
    if (!sawSid) {
      reporter.report('error', 'missing-sid', 'the rule has no sid (Snort requires one)', options[0]?.start ?? 0, options[0] ? len(options[0]) : 1);
    }
    return id;
  }

  /** The variable byte_math's `result` last named in this rule (sp_byte_math.c keeps one name: the latest). */
  mathVariable: string | undefined;

  /** A name later options may use: a byte_extract name of the rule so far, or the last byte_math result. */
  private knownVariable(v: string, extractVars: string[] | undefined): boolean {
    return extractVars?.includes(v) === true || v === this.mathVariable;
  }

  /**
   * The byte_extract variables an option uses and defines; returns the rule's byte_extract names so far. As
   * sp_byte_extract.c AddVarNameToList: a name given again is the same variable (its slot, written again), and a
   * rule has at most two names ("Rule has more than 2 byte_extract variables"). byte_math's result is a variable of
   * its own (sp_byte_math.c AddVarName_Bytemath: one name, the last one given). (A method of its own: these few
   * keywords' arguments have several shapes, and reading them in the binder's loop made V8 throw the compiled loop
   * away each time a new shape came.)
   */
  private bindVariables(o: RuleOption, kw: string, extractVars: string[] | undefined): string[] | undefined {
    const a = o.args as { name?: string; result?: string; variables?: string[] };
    if (Array.isArray(a.variables))
      for (const v of a.variables)
        if (!this.knownVariable(v, extractVars)) this.err(o, 'unknown-variable', `'${v}' is not a byte_extract variable defined earlier in the rule`);
    if (kw === 'byte_math' && typeof a.result === 'string') this.mathVariable = a.result;
    else if (kw === 'byte_extract' && typeof a.name === 'string' && !extractVars?.includes(a.name)) {
      extractVars ??= [];
      extractVars.push(a.name);
      if (extractVars.length > MAX_BYTE_EXTRACT_VARS)
        this.err(o, 'too-many-variables', `a rule has at most ${MAX_BYTE_EXTRACT_VARS} byte_extract variables (Snort: "Rule has more than 2")`);
    }
    return extractVars;
  }

  /**
   * Options Snort refuses in a rule of another protocol (each plugin's init checks the rule's protocol):
   * sp_tcp_{flag,seq,ack,win}_check.c "TCP Options on non-TCP rule", sp_icmp_{type,code,id,seq}_check.c "ICMP Options
   * on non-ICMP rule", sp_ip_proto.c (ip rules only), sp_react.c (tcp), sp_rpc_check.c (tcp or udp), and
   * sp_clientserver.c FlowInit: an icmp rule's flow must say only_frag or no_frag ("Cannot check flow connection for
   * ICMP traffic"). An ip rule is no tcp or icmp rule: the TCP and ICMP options are refused there too.
   */
  private checkProtocol(o: RuleOption, kid: number, proto: string): void {
    const need = PROTOCOL_BY_ID[kid]!;
    if (need === 0) return;
    const kw = o.keyword;
    if (need === TCP_OPTION && proto !== 'tcp')
      this.err(o, 'wrong-protocol', `'${kw}' is a TCP option: Snort refuses it in a ${proto} rule ("TCP Options on non-TCP rule")`);
    else if (need === ICMP_OPTION && proto !== 'icmp')
      this.err(o, 'wrong-protocol', `'${kw}' is an ICMP option: Snort refuses it in a ${proto} rule ("ICMP Options on non-ICMP rule")`);
    else if (need === IP_OPTION && proto !== 'ip')
      this.err(o, 'wrong-protocol', `'${kw}' can only be used in an ip rule (Snort refuses it in a ${proto} rule)`);
    else if (need === REACT_OPTION && proto !== 'tcp') this.err(o, 'wrong-protocol', `react works on TCP only: Snort refuses it in a ${proto} rule`);
    else if (need === RPC_OPTION && proto !== 'tcp' && proto !== 'udp')
      this.err(o, 'wrong-protocol', `rpc needs a tcp or udp rule (Snort refuses it in a ${proto} rule)`);
    else if (need === FLOW_OPTION && proto === 'icmp' && o.args !== undefined) {
      const frag = (o.args as { frag?: string }).frag;
      if (frag === undefined)
        this.err(o, 'wrong-protocol', "an icmp rule's flow must say only_frag or no_frag: Snort cannot check a connection for ICMP traffic");
    }
  }

  /** Whether `present` says the modifier was already given (then reported). */
  private duplicate(o: RuleOption, present: unknown): boolean {
    if (present !== undefined && present !== false) {
      this.err(o, 'duplicate-modifier', `'${o.keyword}' is given twice for the same content`);
      return true;
    }
    return false;
  }

  private applyModifier(c: ContentArgs, o: RuleOption, index: number): void {
    const m = c.mods;
    m.modifierIndexes.push(index);
    switch (o.keyword) {
      // sp_pattern_match.c sets nocase and rawbytes again without a check: given twice they load (a warning here).
      case 'nocase':
        if (m.nocase) this.warn(o, 'duplicate-modifier', `'nocase' is given twice for the same content (Snort accepts it)`);
        m.nocase = true;
        return;
      case 'rawbytes':
        if (m.rawbytes) {
          this.warn(o, 'duplicate-modifier', `'rawbytes' is given twice for the same content (Snort accepts it)`);
          return;
        }
        if (m.buffer) this.err(o, 'rawbytes-with-http', `rawbytes cannot be used with ${m.buffer}`);
        m.rawbytes = true;
        return;
      case 'depth':
      case 'offset':
        if (this.duplicate(o, m[o.keyword])) return;
        if (m.distance !== undefined || m.within !== undefined)
          this.err(o, 'mixed-relative-modifiers', `${o.keyword} cannot be combined with distance/within on the same content`);
        m[o.keyword] = o.args as NumOrVar;
        return;
      case 'distance':
      case 'within':
        if (this.duplicate(o, m[o.keyword])) return;
        if (m.depth !== undefined || m.offset !== undefined)
          this.err(o, 'mixed-relative-modifiers', `${o.keyword} cannot be combined with depth/offset on the same content`);
        if (!this.contentHasAnchor)
          this.warn(
            o,
            'relative-without-anchor',
            `${o.keyword} makes the content relative, but nothing before it sets a position (Snort measures it from the start of the buffer)`,
          );
        m[o.keyword] = o.args as NumOrVar;
        return;
      case 'fast_pattern':
        if (this.fastPatternSeen) {
          this.err(o, 'duplicate-fast-pattern', 'fast_pattern can be used only once in a rule');
          return;
        }
        this.fastPatternSeen = true;
        m.fastPattern = o.args as FastPatternArgs;
        return;
      case 'replace':
        if (this.duplicate(o, m.replace)) return;
        m.replace = o.args as Uint8Array;
        return;
      default: {
        const buffer = o.keyword as HttpBuffer;
        // sp_pattern_match.c PayloadSearchHttp*: "at most one http buffer can be specified per content option" is
        // a warning, and the last one given is the content's buffer.
        if (m.buffer && !(c.uricontent && buffer === 'http_uri'))
          this.warn(o, 'conflicting-buffers', `the content is already bound to ${m.buffer}; Snort warns and uses the last one, '${buffer}'`);
        if (m.rawbytes) this.err(o, 'rawbytes-with-http', `${buffer} cannot be used with rawbytes`);
        m.buffer = buffer;
      }
    }
  }

  private checkContent(o: RuleOption, c: ContentArgs): void {
    const m = c.mods;
    const size = c.bytes.length;
    const what = o.keyword;
    if (typeof m.depth === 'number' && m.depth < size)
      this.err(o, 'depth-shorter-than-content', `depth ${m.depth} is less than the ${what}'s ${size} bytes`);
    if (typeof m.within === 'number' && m.within < size)
      this.err(o, 'within-shorter-than-content', `within ${m.within} is less than the ${what}'s ${size} bytes`);
    const fp = m.fastPattern;
    if (fp) {
      if (m.buffer && FP_INELIGIBLE.has(m.buffer)) this.err(o, 'fast-pattern-buffer', `fast_pattern cannot be used with ${m.buffer}`);
      // Snort compares values, not presence: `offset:0` or `distance:0` equal the defaults and pass (ET relies on it).
      const positional = isSet(m.depth) || isSet(m.offset) || isSet(m.distance) || isSet(m.within);
      if (fp.only && c.negated) this.err(o, 'fast-pattern-only-negated', 'fast_pattern:only cannot be used on a negated content');
      if (fp.only && positional)
        this.err(o, 'fast-pattern-only-positional', 'fast_pattern:only cannot be used with offset, depth, distance or within');
      if (c.negated && positional && !fp.only)
        this.err(o, 'fast-pattern-negated-positional', 'fast_pattern on a negated content cannot be used with offset, depth, distance or within');
      if (fp.offset !== undefined && fp.length !== undefined && fp.offset + fp.length > size)
        this.err(o, 'fast-pattern-range', `fast_pattern:${fp.offset},${fp.length} reaches past the ${size}-byte content`);
    }
    if (m.replace) {
      if (m.replace.length !== size)
        this.err(o, 'replace-length', `replace is ${m.replace.length} bytes but its content is ${size}; they must be equal`);
      if (c.negated) this.err(o, 'replace-negated', 'replace cannot be used on a negated content');
      if (m.buffer) this.err(o, 'replace-http', `replace cannot be used on ${m.buffer} content`);
    }
  }
}

/** A modifier value other than the default (`offset:0` and `distance:0` are the defaults). */
function isSet(v: NumOrVar | undefined): boolean {
  return v !== undefined && v !== 0;
}

/**
 * Options Snort allows once per rule ("Only one 'tag' rule option per rule", sp_clientserver.c "Multiple flow options
 * in rule", ...). The second row: each plugin's "multiple declaration check" (otn->ds_list already set: FatalError) in
 * sp_dsize_check.c, sp_icmp_code_check.c, sp_icmp_id_check.c, sp_icmp_seq_check.c, sp_icmp_type_check.c,
 * sp_ip_fragbits.c, sp_ip_id_check.c, sp_ip_same_check.c, sp_ip_tos_check.c, sp_rpc_check.c and sp_session.c
 * (sp_ip_proto.c has the check commented out: ip_proto may repeat). Found by diff-snort's lint property.
 */
const SINGLETON_BITS: ReadonlyMap<string, number> = new Map(
  [
    'sid',
    'gid',
    'rev',
    'msg',
    'classtype',
    'priority',
    'tag',
    'detection_filter',
    'threshold',
    'ipopts',
    'activates',
    'activated_by',
    'count',
    'flow',
    'dsize',
    'icode',
    'icmp_id',
    'icmp_seq',
    'itype',
    'fragbits',
    'id',
    'sameip',
    'tos',
    'rpc',
    'session',
  ].map((k, i) => [k, 1 << i]),
);

/** The same facts as tables indexed by keyword number (no string hashing per option). */
const SINGLETON_BY_ID = keywordTable((k) => SINGLETON_BITS.get(k.name) ?? 0);

/**
 * More plugins' multiple-declaration checks (FatalError when otn->ds_list is already set): sp_ttl_check.c,
 * sp_tcp_flag_check.c, sp_tcp_seq_check.c, sp_tcp_ack_check.c, sp_tcp_win_check.c, sp_urilen_check.c,
 * sp_base64_decode.c, and sp_respond3.c / sp_react.c, which share one slot (PLUGIN_RESPONSE: one of resp or react).
 * ip_proto (the check is commented out) and fragoffset (none) may repeat. Each checked with `snort -T`.
 */
const RESPONSE = 1 << 7;
const PLUGIN_ONCE_BITS: ReadonlyMap<string, number> = new Map([
  ['ttl', 1 << 0],
  ['flags', 1 << 1],
  ['seq', 1 << 2],
  ['ack', 1 << 3],
  ['window', 1 << 4],
  ['urilen', 1 << 5],
  ['base64_decode', 1 << 6],
  ['resp', RESPONSE],
  ['react', RESPONSE],
]);
const PLUGIN_ONCE_BY_ID = keywordTable((k) => PLUGIN_ONCE_BITS.get(k.name) ?? 0);

const TCP_OPTION = 1;
const ICMP_OPTION = 2;
const IP_OPTION = 3;
const REACT_OPTION = 4;
const RPC_OPTION = 5;
const FLOW_OPTION = 6;
/** Options whose plugin checks the rule's protocol (see checkProtocol). */
const PROTOCOL_OPTIONS: ReadonlyMap<string, number> = new Map([
  ['flags', TCP_OPTION],
  ['seq', TCP_OPTION],
  ['ack', TCP_OPTION],
  ['window', TCP_OPTION],
  ['itype', ICMP_OPTION],
  ['icode', ICMP_OPTION],
  ['icmp_id', ICMP_OPTION],
  ['icmp_seq', ICMP_OPTION],
  ['ip_proto', IP_OPTION],
  ['react', REACT_OPTION],
  ['rpc', RPC_OPTION],
  ['flow', FLOW_OPTION],
]);
const PROTOCOL_BY_ID = keywordTable((k) => PROTOCOL_OPTIONS.get(k.name) ?? 0);
/** Content modifiers are declared by their keyword specs (`contentModifier`), in one place. */
const MODIFIER_BY_ID = keywordTable((k) => (k.contentModifier === true ? 1 : 0));
const CURSOR_SETTER_BY_ID = keywordTable((k) => (CURSOR_SETTERS.has(k.name) ? 1 : 0));
/** Keywords whose arguments list the byte_extract variables they use (`variables`) or define one (`name`, `result`). */
const VARIABLE_USERS = new Set(['byte_test', 'byte_jump', 'byte_extract', 'byte_math', 'isdataat']);
const VARIABLE_USER_BY_ID = keywordTable((k) => (VARIABLE_USERS.has(k.name) ? 1 : 0));
const ACTIVATES = SINGLETON_BITS.get('activates')!;
const ACTIVATED_BY = SINGLETON_BITS.get('activated_by')!;
const COUNT = SINGLETON_BITS.get('count')!;
const THRESHOLD_AND_DETECTION_FILTER = SINGLETON_BITS.get('threshold')! | SINGLETON_BITS.get('detection_filter')!;
const BASE64_DECODE = keywordId('base64_decode');
const BASE64_DATA = keywordId('base64_data');

const binder = new RuleBinder();
