import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { captureInputProblem } from '../../packet/input-kind.js';
import { analyzeCapture } from '../../sebek/analyze.js';
import type { CapturedSebekRecord } from '../../sebek/extract.js';
import { SEBEK_DEFAULT_PORT } from '../../sebek/format.js';
import { isoTime, jsonLine, lossJson, recordJson } from '../../sebek/json.js';
import { terminalSafe } from '../../sebek/text.js';
import type { SebekEvent, SebekProcess, SebekSession } from '../../sebek/session.js';
import { SebekStore, SebekStoreError } from '../../sebek/store.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CommandContext } from '../program.js';

const FORMATS = ['text', 'json'] as const;

/** A u32 given in decimal or 0x hex. */
export function parseMagic(text: string): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]{1,8}$/i.test(t) ? parseInt(t.slice(2), 16) : /^[0-9]{1,10}$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--magic: "${text}" is not a 32-bit number (decimal or 0x hex)`);
  return n;
}

export function parsePort(text: string, flag = '--port'): number {
  const n = /^[0-9]{1,5}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new UsageError(`${flag}: "${text}" is not a port number (1-65535)`);
  return n;
}

function when(e: { timeSec: number; timeUsec: number }): string {
  return isoTime(e.timeSec, e.timeUsec).replace('T', ' ').slice(0, 23);
}

/** Lines of one process held by the text view before they are printed (then "(continued)"). */
const PROCESS_LINES = 4096;

const PROTO: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp' };

/** One text line for an event of a process. */
function eventText(e: SebekEvent): string | undefined {
  switch (e.kind) {
    case 'line':
      return `${when(e.line)}  fd ${e.line.fd} $ ${e.line.line}${e.line.terminated ? '' : '   (no line end)'}`;
    case 'open':
      return `${when(e.open)}  open ${e.open.path} (fd ${e.open.fd}, inode ${e.open.inode})`;
    case 'socket': {
      const s = e.socket;
      return `${when(s)}  ${s.callName} ${PROTO[s.proto] ?? `proto ${s.proto}`} ${s.sip}:${s.sport} -> ${s.dip}:${s.dport} (fd ${s.fd})`;
    }
    case 'fork':
      return `${when(e.fork)}  fork: new process of ${e.fork.ppid}`;
    case 'gap':
      return undefined;
  }
}

function eventPid(e: SebekEvent): string | undefined {
  switch (e.kind) {
    case 'line':
      return `${e.line.client}/${e.line.pid}`;
    case 'open':
      return `${e.open.client}/${e.open.pid}`;
    case 'socket':
      return `${e.socket.client}/${e.socket.pid}`;
    case 'fork':
      return `${e.fork.client}/${e.fork.pid}`;
    case 'gap':
      return undefined;
  }
}

export function registerSebek(program: Command, ctx: CommandContext): void {
  program
    .command('sebek')
    .description(
      'decode Sebek v2/v3 records from a pcap/pcapng capture: keystroke lines, opens, socket calls, forks, loss per client (exit 0 ok, 1 capture cut short, 2 could not run)',
    )
    .argument('<pcap>', 'capture file (pcap or pcapng)')
    .option('--magic <n>', 'site magic (decimal or 0x hex); default: any magic')
    .option('--port <p>', `Sebek UDP destination port`, String(SEBEK_DEFAULT_PORT))
    .option('--format <format>', `output format: ${FORMATS.join('|')}`, 'text')
    .option('--db <file>', 'also store records, processes, keystroke lines and loss in this SQLite database')
    .action(async (pcap: string, opts: { magic?: string; port: string; format: string; db?: string }) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
      const magic = opts.magic === undefined ? undefined : parseMagic(opts.magic);
      const port = parsePort(opts.port);
      if (!existsSync(pcap)) throw new UsageError(`${pcap}: no such file`);
      const problem = captureInputProblem(pcap);
      if (problem !== undefined) throw new UsageError(problem);
      let store: SebekStore | undefined;
      if (opts.db !== undefined) {
        try {
          store = new SebekStore(opts.db);
        } catch (e) {
          if (e instanceof SebekStoreError) throw new UsageError(e.message);
          throw e;
        }
      }
      const out = process.stdout;
      // every text line passes terminalSafe: the fields are escaped when decoded, this is the last guard
      const say = (line: string) => out.write(`${terminalSafe(line)}\n`);
      const json = opts.format === 'json';
      // the text view groups events by process: a process's lines are printed when it ends (the session let it go at
      // its limit, or the capture ended) or when it has PROCESS_LINES of them, so what is held stays bounded
      const byProcess = new Map<string, string[]>();
      const printed = new Set<string>();
      const printProcess = (p: SebekProcess) => {
        const key = `${p.client}/${p.pid}`;
        say(
          `${p.client} pid ${p.pid} (ppid ${p.ppid}, uid ${p.uid}) ${p.coms.join(' -> ')}: ${p.records} records${printed.has(key) ? ' (continued)' : ''}`,
        );
        for (const line of byProcess.get(key) ?? []) say(`    ${line}`);
        byProcess.delete(key);
      };
      const onRecord = json ? (r: CapturedSebekRecord) => out.write(`${jsonLine(recordJson(r))}\n`) : undefined;
      let sessionRef: SebekSession | undefined;
      const onEvent = json
        ? undefined
        : (e: SebekEvent) => {
            const key = eventPid(e);
            const text = eventText(e);
            if (key === undefined || text === undefined) return;
            if (sessionRef !== undefined && !sessionRef.processes.has(key)) {
              // a line of a process already let go (its keystroke buffer went after it): printed now, not held
              say(`${key.replace('/', ' pid ')} (let go): ${text}`);
              return;
            }
            let list = byProcess.get(key);
            if (list === undefined) byProcess.set(key, (list = []));
            list.push(text);
            const p = list.length >= PROCESS_LINES ? sessionRef?.processes.get(key) : undefined;
            if (p !== undefined) {
              printProcess(p);
              printed.add(key);
            }
          };
      const onEvict = json
        ? undefined
        : (p: SebekProcess) => {
            printProcess(p);
            printed.delete(`${p.client}/${p.pid}`);
          };
      let result;
      try {
        result = await analyzeCapture(pcap, { magic, port, onRecord, onEvent, store, onEvict, onSession: (s) => (sessionRef = s) });
      } finally {
        store?.close();
      }
      const { session, stats, packets, captureError, notes } = result;
      const warnings = notes.lines(pcap);
      const ss = session.stats;
      const losses = [...session.loss.values()].sort((a, b) => a.client.localeCompare(b.client));
      if (json) {
        for (const l of losses) out.write(`${jsonLine(lossJson(l))}\n`);
        out.write(
          `${jsonLine({
            event_type: 'sebek_summary',
            file: pcap,
            packets,
            sebek_packets: stats.sebekPackets,
            records: stats.records,
            garbage: stats.garbage,
            garbage_samples: stats.garbageSamples.map((g) => ({ captured: isoTime(g.capSec, g.capUsec), client: g.client, reason: g.reason })),
            capture_error: captureError?.message ?? null,
            capture_warnings: warnings,
            evicted: {
              processes: ss.evictedProcesses,
              lines: ss.evictedLines,
              clients: ss.evictedClients,
              cut_lines: ss.cutLines,
              dropped_coms: ss.droppedComs,
            },
          })}\n`,
        );
      } else {
        const procs = [...session.processes.values()].sort(
          (a: SebekProcess, b: SebekProcess) => a.client.localeCompare(b.client) || a.firstSec - b.firstSec || a.pid - b.pid,
        );
        for (const p of procs) printProcess(p);
        for (const l of losses) {
          say(
            `client ${l.client}: ${l.received} records, ${l.lost} lost in ${l.gaps} gap${l.gaps === 1 ? '' : 's'}${l.backwards > 0 ? `, counter went back ${l.backwards} times` : ''}`,
          );
        }
        say(`${packets} packets, ${stats.sebekPackets} Sebek packets, ${stats.records} records, ${stats.garbage} garbage datagrams to port ${port}`);
        if (ss.evictedProcesses + ss.evictedLines + ss.evictedClients + ss.cutLines + ss.droppedComs > 0) {
          say(
            `limits: ${ss.evictedProcesses} processes printed early and let go, ${ss.evictedLines} keystroke buffers let go, ` +
              `${ss.evictedClients} clients' counters let go, ${ss.cutLines} lines cut at their length limit, ${ss.droppedComs} command names not kept`,
          );
        }
        for (const g of stats.garbageSamples) say(`  garbage from ${g.client} at ${isoTime(g.capSec, g.capUsec)}: ${g.reason}`);
      }
      for (const w of warnings) process.stderr.write(`honeywall: ${terminalSafe(w)}\n`);
      if (captureError !== undefined || warnings.length > 0) ctx.exitCode = EXIT_FINDINGS;
      if (captureError !== undefined) {
        process.stderr.write(`honeywall: ${terminalSafe(captureError.message)} (records before it were decoded)\n`);
      } else if (warnings.length === 0) {
        ctx.exitCode = EXIT_OK;
      }
    });
}
