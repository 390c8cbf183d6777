/**
 * The fuzz targets: each reader of untrusted input, driven by generated inputs (fast-check) and mutated seeds.
 * A target's `run` returns when the reader accepted the input or refused it the documented way (a diagnostic, a
 * counted malformed packet, a CaptureFormatError, a LoadError); anything else it throws is a bug, and so is a
 * diagnostic that is not `file:line:column: severity code: message`-shaped. The runner (scripts/fuzz.js) and the
 * test (test/fuzz.test.ts) time each call and watch memory.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { LineMap, type Diagnostic } from '../diagnostics/diagnostic.js';
import { VariableTable } from '../config/variables.js';
import { LoadError } from '../config/ruleset.js';
import { parseHoneywallConf } from '../config/honeywall-conf.js';
import { lintRuleSet } from '../lint/lint.js';
import { RuleChecker } from '../lint/checks.js';
import { parseRules } from '../parser/parse.js';
import { printRules } from '../parser/print.js';
import { convertRuleText } from '../transform/convert.js';
import { parsePolicy } from '../transform/policy.js';
import { defaultClassifications } from '../config/classification.js';
import { readCaptureAll } from '../packet/pcap.js';
import { encodePcap, encodePcapng } from '../packet/pcap-encode.js';
import { decode, decodeIpPacket } from '../packet/decode.js';
import { DecodeStats } from '../packet/packet.js';
import { LinkType } from '../packet/types.js';
import { buildIp, ethernet, linuxSll, tcpDatagram } from '../packet/build.js';
import { parseIp } from '../packet/bytes.js';
import { Defragmenter } from '../packet/defrag.js';
import { StreamBuffer } from '../flow/reassembly.js';
import { PacketPipeline } from '../flow/pipeline.js';
import { HttpSession } from '../http/session.js';
import { Dce2SmbSession, newDce2Stats, smbPafLength } from '../dce2/index.js';
import { decodeSebekPayload, encodeSebekRecord } from '../sebek/format.js';
import { SebekExtractor } from '../sebek/extract.js';
import { SebekSession } from '../sebek/session.js';
import { recordJson } from '../sebek/json.js';
import { scriptedSession, sebekDatagram } from '../sebek/simulate.js';

export interface FuzzTarget {
  name: string;
  /** Seeds for mutation (small, valid or nearly so). */
  seeds(): Uint8Array[];
  /** Byte strings worth inserting for this reader. */
  tokens: readonly Uint8Array[];
  /** Generated inputs. */
  arbitrary(): fc.Arbitrary<Uint8Array>;
  /** Runs the reader on one input: returns, or throws for a bug. */
  run(input: Uint8Array): void;
}

/** A reader's output broke its contract (thrown by `run`: a bug). */
export class FuzzContractError extends Error {}

const repo = fileURLToPath(new URL('../../', import.meta.url));
const enc = new TextEncoder();
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const readSeed = (rel: string): Uint8Array => {
  try {
    return new Uint8Array(readFileSync(join(repo, rel)));
  } catch {
    return new Uint8Array(0);
  }
};
const CODE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Every diagnostic says where (line and column from 1) and what (a code and a message, no stack, no "internal"). */
export function checkDiagnostics(diags: readonly Diagnostic[]): void {
  for (const d of diags) {
    if (!(d.line >= 1 && d.column >= 1 && Number.isInteger(d.line) && Number.isInteger(d.column)))
      throw new FuzzContractError(`diagnostic without a place: ${JSON.stringify(d)}`);
    if (!CODE.test(d.code)) throw new FuzzContractError(`bad diagnostic code: ${JSON.stringify(d.code)}`);
    if (d.severity !== 'error' && d.severity !== 'warning' && d.severity !== 'info') throw new FuzzContractError(`bad severity ${d.severity}`);
    if (d.message === '' || /internal error|\n\s+at /.test(d.message))
      throw new FuzzContractError(`bad diagnostic message: ${JSON.stringify(d.message.slice(0, 200))}`);
  }
}

/** Text made of a reader's own words (fast-check), as bytes. */
function wordsArbitrary(words: readonly string[], maxLength = 200): fc.Arbitrary<Uint8Array> {
  return fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...words) },
        { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
        { weight: 1, arbitrary: fc.nat(70000).map(String) },
      ),
      { maxLength },
    )
    .map((parts) => bytes(parts.join('')));
}

// ---------------------------------------------------------------- rules

const RULE_WORDS = [
  'alert ',
  'drop ',
  'pass ',
  '# alert ',
  'tcp ',
  'udp ',
  'icmp ',
  'ip ',
  'any ',
  '$HOME_NET ',
  '$EXTERNAL_NET ',
  '$HTTP_PORTS ',
  '!',
  '[',
  ']',
  ',',
  ' -> ',
  ' <> ',
  '10.0.0.0/8',
  '1.2.3.4',
  '::1',
  '2001:db8::/32',
  '80',
  '1024:',
  ':',
  '(',
  ')',
  ';',
  ' ',
  '\n',
  '\\\n',
  '"',
  '|',
  '\\',
  'msg:"x"; ',
  'sid:1; ',
  'rev:2; ',
  'gid:3; ',
  'content:"abc"; ',
  'content:!"|00 01|"; ',
  'nocase; ',
  'rawbytes; ',
  'depth:4; ',
  'offset:1; ',
  'distance:0; ',
  'within:10; ',
  'fast_pattern; ',
  'fast_pattern:only; ',
  'http_uri; ',
  'http_header; ',
  'pcre:"/a(b|c)*d/Ri"; ',
  'pcre:"/(?<n>a)\\k<n>/"; ',
  'byte_test:4,>,1,0,relative; ',
  'byte_jump:2,0,relative; ',
  'byte_extract:1,0,v; ',
  'isdataat:1,relative; ',
  'flow:to_server,established; ',
  'flowbits:set,a; ',
  'flowbits:isset,a; ',
  'threshold:type limit,track by_src,count 1,seconds 60; ',
  'itype:8; ',
  'icode:>300; ',
  'dsize:>10; ',
  'flags:SA; ',
  'classtype:trojan-activity; ',
  'metadata:policy security-ips drop; ',
  'reference:url,x; ',
  'replace:"abc"; ',
  'ipvar X [1.1.1.1,$X]\n',
  'var A $B\n',
  'include x.rules\n',
  'base64_decode:bytes 4; ',
  'base64_data; ',
  'file_data; ',
  'ttl:<3; ',
  'ip_proto:!6; ',
  'stream_size:client,<,5; ',
];

const POLICY = parsePolicy('[classifications]\nreplace_or_drop: attempted-admin, trojan-activity\n[sids]\ndrop: 1\nreplace: 2\n', '<fuzz policy>');

const rulesTarget: FuzzTarget = {
  name: 'rules',
  seeds: () =>
    [readSeed('rulesets/sample-inbound.rules'), readSeed('rulesets/honeynet-test.rules'), readSeed('fixtures/lint/bad.rules')].filter(
      (s) => s.length > 0,
    ),
  tokens: RULE_WORDS.map(bytes),
  arbitrary: () => wordsArbitrary(RULE_WORDS),
  run(input) {
    const text = latin1(input);
    const r = parseRules(text, { file: 'fuzz.rules' });
    checkDiagnostics(r.diagnostics);
    if (printRules(r.file) !== text) throw new FuzzContractError('printRules(parseRules(text)) is not the text');
    const vars = VariableTable.withDefaults();
    const checker = new RuleChecker(new LineMap(text), 'fuzz.rules', { vars, classifications: new Set(defaultClassifications().keys()) });
    for (const n of r.file.nodes) if (n.kind === 'rule' && !n.disabled) checker.check(n);
    checkDiagnostics(checker.diagnostics as Diagnostic[]);
    convertRuleText(
      text,
      'fuzz.rules',
      { path: 'fuzz.rules', basename: 'fuzz.rules' },
      { policy: POLICY, honeynet: true, literalAddresses: 'swap', dialect: 'snort', seed: 1, onBadRule: 'keep' },
    );
  },
};

// ---------------------------------------------------------------- snort.conf

const CONF_WORDS = [
  'ipvar ',
  'portvar ',
  'var ',
  'include local.rules\n',
  'include $RULE_PATH/local.rules\n',
  'include classification.config\n',
  'config ',
  'preprocessor frag3_global\n',
  'event_filter gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 60\n',
  'suppress gen_id 1, sig_id 2, track by_src, ip $A\n',
  'A ',
  'B ',
  'C ',
  'HOME_NET ',
  'HTTP_PORTS ',
  'RULE_PATH .\n',
  '$A',
  '$B',
  '$C',
  '!$A',
  '[',
  ']',
  ',',
  '!',
  ' ',
  '\n',
  '\\\n',
  'any',
  '10.0.0.0/8',
  '80',
  '1:1024',
  '!80',
  'alert tcp $A any -> $B $C (msg:"x"; content:"a"; sid:1;)\n',
  'alert udp [$A,!$B] any -> any [$C,53] (msg:"y"; sid:2;)\n',
  '\x00',
];

let confDir: string | undefined;

/** Input: snort.conf text, then after a NUL byte the text of the `local.rules` it may include. */
const snortConfTarget: FuzzTarget = {
  name: 'snort-conf',
  seeds: () => [
    bytes(
      'ipvar A [10.0.0.0/8,!10.1.0.0/16]\nipvar B [$A,192.168.0.1]\nportvar C [80,$HTTP_PORTS]\ninclude local.rules\n\x00alert tcp $A any -> $B $C (msg:"x"; content:"a"; sid:1;)\nipvar D $A\n',
    ),
    bytes(
      'var RULE_PATH .\ninclude $RULE_PATH/local.rules\nsuppress gen_id 1, sig_id 1, track by_src, ip $HOME_NET\n\x00portvar P [1:2,!1]\nalert tcp any $P -> any any (msg:"p"; sid:3;)\n',
    ),
  ],
  tokens: CONF_WORDS.map(bytes),
  arbitrary: () => wordsArbitrary(CONF_WORDS, 120),
  run(input) {
    confDir ??= mkdtempSync(join(tmpdir(), 'hw-fuzz-conf-'));
    const nul = input.indexOf(0);
    const conf = nul === -1 ? input : input.subarray(0, nul);
    const rules = nul === -1 ? new Uint8Array(0) : input.subarray(nul + 1);
    writeFileSync(join(confDir, 'snort.conf'), conf);
    writeFileSync(join(confDir, 'local.rules'), rules);
    try {
      const r = lintRuleSet({ paths: [], conf: join(confDir, 'snort.conf'), cwd: confDir });
      checkDiagnostics(r.diagnostics);
    } catch (e) {
      if (e instanceof LoadError) return; // refused as a whole (exit 2): a missing or unreadable include, includes nested too deep
      throw e;
    }
  },
};

/** Removes the snort.conf target's directory (the runner and the test call it when done). */
export function cleanupTargets(): void {
  if (confDir !== undefined) rmSync(confDir, { recursive: true, force: true });
  confDir = undefined;
}

// ---------------------------------------------------------------- honeywall.conf

const HW_WORDS = [
  'HwINET_IFACE=',
  'HwLAN_IFACE=',
  'HwHPOT_PUBLIC_IP=',
  'HwSCALE=',
  'HwTCPRATE=',
  'HwQUEUE=',
  'HwFWBLACK=',
  'HwFWWHITE=',
  'HwBWLIST_ENABLE=',
  'HwMANAGER6=',
  'HwLOG_PREFIX=',
  'HwQUEUE_NUM=',
  'HwIPV6=',
  'HwDNS_SVRS=',
  'HwALLOWED_TCP_IN=',
  'eth0',
  'eth+',
  '-x',
  'br0',
  '10.0.0.1',
  '10.0.0.0/24',
  'fe80::1%25x',
  'yes',
  'no',
  'hour',
  '"',
  "'",
  ' ',
  '\n',
  '#',
  '=',
  '/list',
  '999999999999',
  '-1',
  '0',
  '\x00',
];

/** Input: honeywall.conf text, then after a NUL byte what every list file (HwFWBLACK, ...) holds. */
const honeywallConfTarget: FuzzTarget = {
  name: 'honeywall-conf',
  seeds: () => [
    readSeed('rulesets/honeywall.conf'),
    bytes('HwFWBLACK=/black\nHwBWLIST_ENABLE=yes\nHwINET_IFACE=eth0\n\x0010.0.0.1\n# c\n1.2.3.0/24\nbad\n'),
  ],
  tokens: HW_WORDS.map(bytes),
  arbitrary: () => wordsArbitrary(HW_WORDS, 120),
  run(input) {
    const nul = input.indexOf(0);
    const text = latin1(nul === -1 ? input : input.subarray(0, nul));
    const list = nul === -1 ? '' : latin1(input.subarray(nul + 1));
    const r = parseHoneywallConf(text, '/fuzz/honeywall.conf', () => ({ text: list }));
    checkDiagnostics(r.diagnostics);
  },
};

// ---------------------------------------------------------------- packets

const SRC = '10.0.0.5';
const DST = '192.0.2.9';

function samplePackets(): Uint8Array[] {
  const out: Uint8Array[] = [];
  out.push(
    ethernet(
      buildIp({
        ip: { src: SRC, dst: DST },
        tcp: { sport: 1025, dport: 80, flags: 'PA', seq: 1, ack: 1 },
        payload: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      }),
    ),
  );
  out.push(
    ethernet(buildIp({ ip: { src: SRC, dst: DST, options: Uint8Array.of(7, 7, 4, 0, 0, 0, 0) }, udp: { sport: 53, dport: 53 }, payload: 'abc' })),
  );
  out.push(ethernet(buildIp({ ip: { src: SRC, dst: DST, mf: true, id: 7 }, icmp: { type: 8, id: 1, seq: 1 }, payload: 'ping' })));
  out.push(
    ethernet(
      buildIp({
        ip: { src: '2001:db8::1', dst: '2001:db8::2', ext: [{ type: 0, body: new Uint8Array(6) }] },
        tcp: { sport: 1, dport: 2, flags: 'S' },
      }),
    ),
  );
  out.push(
    ethernet(
      buildIp({ ip: { src: '2001:db8::1', dst: '2001:db8::2', fragment: true, mf: true, id: 9 }, udp: { sport: 1, dport: 2 }, payload: 'frag' }),
      { vlans: [5, 6] },
    ),
  );
  out.push(
    linuxSll(
      buildIp({
        ip: { src: SRC, dst: DST },
        proto: 47,
        payload: Uint8Array.of(0, 0, 8, 0, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8),
      }),
    ),
  );
  return out;
}

const LINKTYPES = [
  LinkType.ETHERNET,
  LinkType.LINUX_SLL,
  LinkType.LINUX_SLL2,
  LinkType.RAW,
  LinkType.IPV4,
  LinkType.IPV6,
  LinkType.NULL,
  LinkType.LOOP,
  LinkType.PPP,
  12,
  14,
  999,
];

/** Input: a byte choosing the link type, then the frame. */
const decoderTarget: FuzzTarget = {
  name: 'decoder',
  seeds: () => samplePackets().map((f) => Uint8Array.of(0, ...f)),
  tokens: [
    Uint8Array.of(0x08, 0x00),
    Uint8Array.of(0x86, 0xdd),
    Uint8Array.of(0x81, 0x00),
    Uint8Array.of(0x45),
    Uint8Array.of(0x60),
    Uint8Array.of(0x2c),
    Uint8Array.of(47),
    new Uint8Array(20),
  ],
  arbitrary: () => fc.uint8Array({ maxLength: 2000 }),
  run(input) {
    if (input.length === 0) return;
    const lt = LINKTYPES[input[0]! % LINKTYPES.length]!;
    const stats = new DecodeStats();
    decode(lt, input.subarray(1), stats);
    decode(lt, input.subarray(1), stats, { verifyChecksums: false });
    decodeIpPacket(input.subarray(1), stats);
  },
};

function sampleCaptures(): Uint8Array[] {
  const frames = samplePackets();
  const packets = frames.map((data, i) => ({ tsSec: 1_700_000_000 + i, tsUsec: i, data }));
  return [
    encodePcap(packets, { linktype: LinkType.ETHERNET }),
    encodePcapng(packets, { interfaces: [{ linktype: LinkType.ETHERNET, tsresol: 9 }], unknownBlocks: [{ type: 0x1234, body: new Uint8Array(8) }] }),
    readSeed('fixtures/quickstart/honeypot-outbound.pcap'),
    readSeed('fixtures/sebek/session.pcap').subarray(0, 4096),
  ].filter((b) => b.length > 0);
}

const pcapTarget: FuzzTarget = {
  name: 'pcap',
  seeds: sampleCaptures,
  tokens: [
    Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1),
    Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a),
    Uint8Array.of(0x4d, 0x3c, 0xb2, 0xa1),
    Uint8Array.of(0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(6, 0, 0, 0),
    Uint8Array.of(1, 0, 0, 0),
  ],
  arbitrary: () => fc.uint8Array({ maxLength: 4000 }),
  run(input) {
    const r = readCaptureAll(input, 'fuzz.pcap');
    if (r.error && !(r.error.offset >= 0 && r.error.offset <= input.length))
      throw new FuzzContractError(`capture error offset ${r.error.offset} outside the file`);
    const stats = new DecodeStats();
    for (const rec of r.records) decode(rec.linktype, rec.data, stats);
  },
};

// ---------------------------------------------------------------- defragmentation

/** At most this many fragments per input: each input stays a unit of work a run can time. */
const MAX_FRAGMENTS = 4096;

/**
 * Input: a program of 5-byte fragments [flags, offset hi, offset lo, length, id]: flags bit 0 = more fragments,
 * bit 1 = IPv6, bit 2 = a clock step of 30 s, bits 3-7 pick the payload byte.
 */
const defragTarget: FuzzTarget = {
  name: 'defrag',
  seeds: () => [
    Uint8Array.of(1, 0, 0, 8, 1, 0, 0, 1, 8, 1, 1, 0, 2, 8, 1),
    Uint8Array.of(3, 0, 0, 16, 2, 2, 0, 2, 16, 2),
    Uint8Array.of(1, 0, 0, 200, 3, 0, 0, 50, 8, 3, 1, 0, 2, 8, 3, 1, 0, 3, 8, 3),
  ],
  tokens: [Uint8Array.of(1, 0, 0, 8, 1), Uint8Array.of(0, 0, 255, 8, 1), Uint8Array.of(1, 0x1f, 0xff, 255, 1), Uint8Array.of(4, 0, 0, 0, 0)],
  arbitrary: () => fc.uint8Array({ maxLength: 5 * 400 }),
  run(input) {
    const d = new Defragmenter({ memcap: 1 << 20, maxTrackers: 64 });
    const stats = new DecodeStats();
    let now = 1_000;
    for (let i = 0; i + 5 <= input.length && i / 5 < MAX_FRAGMENTS; i += 5) {
      const flags = input[i]!;
      const offset = ((input[i + 1]! << 8) | input[i + 2]!) & 0x1fff;
      const len = input[i + 3]! & 0xf8 || 8;
      if (flags & 4) now += 30;
      const v6 = (flags & 2) !== 0;
      const datagram = buildIp({
        ip: {
          src: v6 ? '2001:db8::1' : SRC,
          dst: v6 ? '2001:db8::2' : DST,
          id: input[i + 4]!,
          mf: (flags & 1) !== 0,
          fragOffset: offset,
          fragment: v6,
        },
        proto: 17,
        payload: new Uint8Array(len).fill(flags >> 3),
      });
      const p = decodeIpPacket(datagram, stats);
      d.add(p, stats, now);
    }
  },
};

// ---------------------------------------------------------------- TCP reassembly and HTTP through the pipeline

const HTTP_PIECES = [
  'GET /a?b=%41%u0041 HTTP/1.1\r\nHost: x\r\nCookie: c=1\r\n\r\n',
  'POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
  'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
  'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n',
  'ffffffff\r\n',
  '\r\n',
  'x',
  'GET ',
  ' HTTP/1.0\r\n\r\n',
];

let piecesMade: Uint8Array[][] | undefined;

/**
 * The reassembly target's payloads: per piece (HTTP_PIECES, then a gzip body), its text repeated to 255 bytes, as is
 * and with every byte xor 0x20. Made once: making them per segment was up to a sixth of the time of the slowest inputs,
 * a cost of the harness, not of the reader.
 */
function reassemblyPieces(): Uint8Array[][] {
  if (piecesMade !== undefined) return piecesMade;
  const texts = [...HTTP_PIECES.map((p) => enc.encode(p)), gzipSync(Buffer.from('z'.repeat(300)))];
  piecesMade = texts.map((piece) => {
    const plain = new Uint8Array(255);
    for (let k = 0; k < plain.length; k++) plain[k] = piece[k % piece.length]!;
    return [plain, plain.map((c) => c ^ 0x20)];
  });
  return piecesMade;
}

/**
 * Input: a program of 4-byte segments [flags, seq step, length, piece]: flags bit 0 = from the server, bit 1 = FIN,
 * bit 2 = RST, bit 3 = a seq step backwards (overlap), bit 4 = a retransmission of the previous bytes with other
 * values; the payload is the piece's text cut or repeated to the length.
 */
const reassemblyTarget: FuzzTarget = {
  name: 'reassembly',
  seeds: () => [Uint8Array.of(0, 0, 40, 0, 1, 0, 40, 3, 0, 0, 20, 2, 1, 0, 60, 4), Uint8Array.of(0, 0, 10, 8, 8, 5, 10, 9, 16, 0, 10, 8, 2, 0, 0, 0)],
  tokens: [Uint8Array.of(0, 0, 255, 0), Uint8Array.of(8, 255, 255, 1), Uint8Array.of(16, 0, 8, 7), Uint8Array.of(1, 0, 200, 4)],
  arbitrary: () => fc.uint8Array({ maxLength: 4 * 300 }),
  run(input) {
    const pipe = new PacketPipeline({ decode: { verifyChecksums: false } });
    const c = parseIp(SRC)!;
    const s = parseIp(DST)!;
    let seqC = 1000;
    let seqS = 5000;
    let t = 1_700_000_000;
    const send = (fromServer: boolean, seq: number, ack: number, flags: number, payload: Uint8Array) => {
      const dg = fromServer ? tcpDatagram(s, c, 80, 40000, seq, ack, flags, payload) : tcpDatagram(c, s, 40000, 80, seq, ack, flags, payload);
      pipe.push(LinkType.RAW, dg, t, 0);
    };
    send(false, seqC - 1, 0, 0x02, new Uint8Array(0));
    send(true, seqS - 1, seqC, 0x12, new Uint8Array(0));
    send(false, seqC, seqS, 0x10, new Uint8Array(0));
    const pieces = reassemblyPieces();
    for (let i = 0; i + 4 <= input.length; i += 4) {
      const flags = input[i]!;
      const step = input[i + 1]!;
      const len = input[i + 2]!;
      const payload = pieces[input[i + 3]! % pieces.length]![flags & 16 ? 1 : 0]!.subarray(0, len);
      const fromServer = (flags & 1) !== 0;
      let seq = fromServer ? seqS : seqC;
      seq = (flags & 8 ? seq - step : seq + step) >>> 0;
      const tcpFlags = 0x18 | (flags & 2 ? 0x01 : 0) | (flags & 4 ? 0x04 : 0);
      send(fromServer, seq, fromServer ? seqC : seqS, tcpFlags, payload);
      if (!(flags & 16)) {
        if (fromServer) seqS = (seq + len) >>> 0;
        else seqC = (seq + len) >>> 0;
      }
      t += flags & 0x40 ? 400 : 0;
    }
    pipe.finish();
    // The stream buffer alone, with the same program as inserts.
    const sb = new StreamBuffer();
    sb.init(0xfffffff0);
    for (let i = 0; i + 4 <= input.length; i += 4) {
      sb.insert((0xfffffff0 + ((input[i]! << 8) | input[i + 1]!)) >>> 0, new Uint8Array(input[i + 2]!).fill(input[i + 3]!));
      if (input[i]! & 0x80) sb.flush(input[i + 3]!);
    }
  },
};

/** Input: a split byte, then HTTP bytes given to a session as a request stream and a response stream in pieces. */
const httpTarget: FuzzTarget = {
  name: 'http',
  seeds: () => [
    ...HTTP_PIECES.map((p) => bytes('\x07' + p)),
    Uint8Array.from([
      3,
      ...enc.encode('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 40\r\n\r\n'),
      ...gzipSync(Buffer.from('q'.repeat(500))),
    ]),
  ],
  tokens: [
    ...HTTP_PIECES.map(bytes),
    bytes('Content-Length: 99999999999\r\n'),
    bytes('Transfer-Encoding: chunked\r\n'),
    bytes('Content-Encoding: deflate\r\n'),
    bytes('%'),
    bytes('%u'),
    bytes('/../'),
  ],
  arbitrary: () =>
    fc.oneof(
      wordsArbitrary(HTTP_PIECES.concat(['\r\n', ' ', '%2e', '/./', '%00', 'Content-Length: 2\r\n', 'Content-Encoding: gzip\r\n']), 40),
      fc.uint8Array({ maxLength: 1000 }),
    ),
  run(input) {
    if (input.length === 0) return;
    const step = 1 + input[0]! * 7;
    const body = input.subarray(1);
    const req = new HttpSession();
    const res = new HttpSession();
    for (let o = 0; o < body.length; o += step) {
      const piece = body.subarray(o, o + step);
      req.request(piece);
      res.response(piece);
    }
    req.close();
    res.close();
    new HttpSession({ postDepth: 0, decompressDepth: 100 }).request(body);
    const small = new HttpSession({ postDepth: -1, maxCompressed: 64, decompressDepth: 100 });
    small.response(body);
    small.close();
  },
};

// ---------------------------------------------------------------- SMB2 (dcerpc2)

/** An SMB2 header (64 bytes, tree id 1) of `command`, with `flags`, after a NetBIOS header; then a structure size. */
function smb2Seed(command: number, flags: number, structure: number, extra: number[]): Uint8Array {
  const h = new Uint8Array(64);
  h.set([0xfe, 0x53, 0x4d, 0x42, 64, 0], 0);
  h[12] = command;
  h[16] = flags;
  h[36] = 1;
  const body = [structure & 0xff, structure >> 8, ...extra];
  const len = 64 + body.length;
  return Uint8Array.from([0, 0, len >> 8, len & 0xff, ...h, ...body]);
}

/**
 * Input: a split byte, then the bytes of rebuilt packets of an SMB session on port 445, cut at the split, both ways
 * in turn: dcerpc2's session (its PAF and its SMB2 state) and the pipeline on port 445. Contract: the file data handed
 * to detection lies within its packet and is at most 65535 bytes.
 */
const smb2Target: FuzzTarget = {
  name: 'smb2',
  seeds: () => [
    Uint8Array.from([200, ...smb2Seed(3, 1, 16, [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), ...smb2Seed(9, 0, 49, new Array<number>(60).fill(5))]),
    Uint8Array.from([90, ...smb2Seed(8, 0, 49, new Array<number>(50).fill(0)), ...smb2Seed(8, 1, 17, new Array<number>(30).fill(7))]),
  ],
  tokens: [
    Uint8Array.of(0xfe, 0x53, 0x4d, 0x42),
    Uint8Array.of(0xff, 0x53, 0x4d, 0x42),
    Uint8Array.of(0, 0, 0, 8),
    Uint8Array.of(49, 0),
    Uint8Array.of(17, 0),
  ],
  arbitrary: () => fc.uint8Array({ maxLength: 3000 }),
  run(input) {
    if (input.length === 0) return;
    const step = 1 + input[0]! * 4;
    const body = input.subarray(1);
    smbPafLength(body);
    const d = new Dce2SmbSession(newDce2Stats());
    const next = [1000, 5000];
    let k = 0;
    for (let o = 0; o < body.length; o += step, k++) {
      const data = body.subarray(o, o + step);
      const fromClient = k % 2 === 0;
      const side = fromClient ? 0 : 1;
      const fd = d.rebuilt({ fromClient, seq: next[side]!, ack: next[1 - side]!, data, pduHead: (data[0]! & 1) === 0 });
      next[side] = (next[side]! + data.length) >>> 0;
      for (const f of fd ?? []) {
        if (
          f.buffer !== data.buffer ||
          f.byteOffset < data.byteOffset ||
          f.byteOffset + f.length > data.byteOffset + data.length ||
          f.length > 0xffff
        )
          throw new FuzzContractError(`file data outside its packet or too long (${f.length} bytes)`);
      }
    }
    const pipe = new PacketPipeline({ decode: { verifyChecksums: false } });
    const c = parseIp(SRC)!;
    const s = parseIp(DST)!;
    let seqC = 1000;
    let seqS = 5000;
    pipe.push(LinkType.RAW, tcpDatagram(c, s, 40000, 445, seqC - 1, 0, 0x02, new Uint8Array(0)), 1_700_000_000, 0);
    pipe.push(LinkType.RAW, tcpDatagram(s, c, 445, 40000, seqS - 1, seqC, 0x12, new Uint8Array(0)), 1_700_000_000, 0);
    for (let o = 0, i = 0; o < body.length; o += step, i++) {
      const data = body.subarray(o, o + step);
      if (i % 2 === 0) {
        pipe.push(LinkType.RAW, tcpDatagram(c, s, 40000, 445, seqC, seqS, 0x18, data), 1_700_000_000, 0);
        seqC = (seqC + data.length) >>> 0;
      } else {
        pipe.push(LinkType.RAW, tcpDatagram(s, c, 445, 40000, seqS, seqC, 0x18, data), 1_700_000_000, 0);
        seqS = (seqS + data.length) >>> 0;
      }
    }
    pipe.finish();
  },
};

// ---------------------------------------------------------------- Sebek

function sebekSeeds(): Uint8Array[] {
  return scriptedSession()
    .slice(0, 12)
    .map((r) => encodeSebekRecord(r, 0x2a2a2a2a));
}

/** Input: a UDP payload sent to the Sebek port; the records decoded, shown as the session and JSON views show them. */
const sebekTarget: FuzzTarget = {
  name: 'sebek',
  seeds: sebekSeeds,
  tokens: [
    Uint8Array.of(0x2a, 0x2a, 0x2a, 0x2a),
    Uint8Array.of(0, 3),
    Uint8Array.of(0, 2),
    Uint8Array.of(0x1b, 0x5b),
    Uint8Array.of(0x9b),
    Uint8Array.of(0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0x7f),
  ],
  arbitrary: () => fc.uint8Array({ maxLength: 1500 }),
  run(input) {
    decodeSebekPayload(input);
    decodeSebekPayload(input, 0x2a2a2a2a);
    const ex = new SebekExtractor();
    const session = new SebekSession();
    const dg = sebekDatagram(input.subarray(0, 65000), { src: SRC, dst: DST });
    for (const r of ex.fromIpDatagram(dg, 1_700_000_000, 0)) {
      session.add(r);
      JSON.stringify(recordJson(r));
    }
    session.finish();
  },
};

export const TARGETS: readonly FuzzTarget[] = [
  rulesTarget,
  snortConfTarget,
  honeywallConfTarget,
  pcapTarget,
  decoderTarget,
  defragTarget,
  reassemblyTarget,
  httpTarget,
  smb2Target,
  sebekTarget,
];

/** Where inputs that broke a target are kept and replayed by the tests: test/fixtures/fuzz/<target>/. */
export const FIXTURE_DIR = process.env.HW_FUZZ_FIXTURES ?? join(repo, 'test', 'fixtures', 'fuzz');

export function saveFixture(target: string, kind: string, input: Uint8Array): string {
  const dir = join(FIXTURE_DIR, target);
  mkdirSync(dir, { recursive: true });
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) h = Math.imul(h ^ input[i]!, 0x01000193);
  const file = join(dir, `${kind}-${(h >>> 0).toString(16).padStart(8, '0')}-${input.length}.bin`);
  writeFileSync(file, input);
  return file;
}
