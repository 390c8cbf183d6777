// The native front so far against the JavaScript it replaces, over the bench capture, in one thread (after
// `npm run build`): each frame decoded and tracked by the flow table with reassembly and the pipeline's protocol aware
// flushing (HTTP and SMB), no defragmentation, no application parsing, no detection. JavaScript: readCapture, decode
// and FlowTable.process; C: frontMeasure (honeywall_decode.c, honeywall_flow.c). The capture is read into memory
// first (not timed). Prints both times per round, best and median, and what each found (frames, flows, rebuilt
// segments and their bytes: the same work when they agree).
//   node bench/native-front.mjs [capture] [--rounds N]
import { readFileSync } from 'node:fs';
import { smbPafLength, smbPduHeadIn } from '../dist/dce2/smb-paf.js';
import { DCE2_SMB_PORTS } from '../dist/dce2/session.js';
import { SNORT_HTTP_PORTS } from '../dist/flow/pipeline.js';
import { portMap } from '../dist/flow/port-map.js';
import { FlowTable, STREAM5_DEFAULT_CLIENT_PORTS } from '../dist/flow/table.js';
import { hasHeaderEnd, httpPafLength } from '../dist/http/paf.js';
import { loadEngine } from '../dist/native/engine.js';
import { decode } from '../dist/packet/decode.js';
import { readCapture } from '../dist/packet/pcap.js';

const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const rounds = at >= 0 ? Number(args[at + 1]) : 3;
const path = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--rounds') ?? '/tmp/honeywall-bench/big.pcap';
const capture = readFileSync(path);
const engine = loadEngine();
const http = portMap(SNORT_HTTP_PORTS);
const smb = portMap(DCE2_SMB_PORTS);

function javascript() {
  const t = new FlowTable({
    pafActive: (flow) => http[flow.server.port] === 1 || smb[flow.server.port] === 1,
    pafAuto: (flow) => smb[flow.server.port] === 1,
    pduLength: (flow, fromClient, data) => (smb[flow.server.port] === 1 ? smbPafLength(data) : httpPafLength(data, fromClient, false)),
    pduHeadEnd: (flow, data, offset) => (smb[flow.server.port] === 1 ? smbPduHeadIn(data, offset === 0) : hasHeaderEnd(data)),
  });
  let frames = 0;
  let flows = 0;
  let segments = 0;
  let bytes = 0;
  for (const r of readCapture(capture, path)) {
    const p = decode(r.linktype, r.data, undefined, { verifyChecksums: false });
    p.tsSec = r.tsSec;
    p.tsUsec = r.tsUsec;
    const u = t.process(p, r.tsSec + r.tsUsec / 1e6, frames++);
    if (u.isNew) flows++;
    for (const s of u.flushed) {
      segments++;
      bytes += s.data.length;
    }
  }
  return [frames, flows, segments, bytes];
}

function native() {
  const config = [1, 1, 0, 0, 262144, 131072, 65536, 16384, 30, 30, 30, 30, 0, 0, 0, 1048576, 2621, 65495, 0, 0, 1];
  const table = engine.flowTableOpen(Float64Array.from(config), portMap(STREAM5_DEFAULT_CLIENT_PORTS), portMap([]), http, smb);
  const [frames, , flows, segments, bytes] = engine.frontMeasure(capture, table);
  return [frames, flows, segments, bytes];
}

const times = { javascript: [], native: [] };
let found;
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of [
    ['javascript', javascript],
    ['native', native],
  ]) {
    const t0 = process.hrtime.bigint();
    const out = run();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    times[name].push(s);
    (found ??= {})[name] = out;
    console.log(`round ${r + 1} ${name}: ${s.toFixed(3)} s (frames, flows, segments, bytes: ${out.join(', ')})`);
  }
}
const stat = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return `${s[0].toFixed(3)} s best, ${s[s.length >> 1].toFixed(3)} s median`;
};
console.log(`${(capture.length / 1e6).toFixed(1)} MB: JavaScript ${stat(times.javascript)}; native ${stat(times.native)}`);
console.log(`the same work: ${found.javascript.join() === found.native.join() ? 'yes' : `NO (${found.javascript} / ${found.native})`}`);
