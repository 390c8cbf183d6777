/**
 * Rebuilds what the intruder did from a stream of Sebek records:
 * - keystroke lines per (client, pid, fd), from 1-byte reads (keystroke mode, and how a shell
 *   reads a terminal) and from longer reads of fd 0 (a paste, or `curl ...|sh` arriving as one read;
 *   longer reads of other fds are files and sockets, left to the records): backspace (0x7f, 0x08)
 *   erases, \r or \n ends a line (\r\n counts once), other control bytes are kept in caret notation
 *   (^C, ^[), bytes >= 0x80 as \xNN, so a line never carries a terminal control;
 * - processes per (client, pid): ppid, uid, command names seen;
 * - opens (type 3: the path), socket calls (type 2), forks (zero-length reads);
 * - loss per client: gaps in the per-client counter (modulo 2^32, so a wrap is not loss); a counter
 *   going backwards is counted as a restart/reorder, not as loss.
 *
 * Incremental: `add(record)` returns the events it completes; `finish()` flushes unterminated lines.
 *
 * Bounded: the records come from the honeynet, and an intruder can make up any number of pids, fds and (with forged
 * source addresses) clients. Processes, line buffers and clients are each held up to a limit, least recently used
 * first out, each eviction counted (`stats`); an evicted line buffer is handed out as an unterminated line and an
 * evicted process to `onEvict`, so nothing decoded is lost. A line is cut at `maxLineChars`, a process keeps at most
 * `maxComs` command names.
 */
import type { CapturedSebekRecord } from './extract.js';
import type { SebekSocket } from './format.js';
import { LruMap } from './lru-map.js';
import { cString, escapeBytes } from './text.js';

export interface SebekProcess {
  client: string;
  pid: number;
  ppid: number;
  uid: number;
  /** Latest command name. */
  com: string;
  /** Every command name seen, in order (a fork then exec shows as a change). */
  coms: string[];
  firstSec: number;
  lastSec: number;
  records: number;
  /** Zero-length reads seen for this pid. */
  forks: number;
}

export interface KeystrokeLine {
  client: string;
  pid: number;
  fd: number;
  uid: number;
  com: string;
  /** Time of the first keystroke of the line. */
  timeSec: number;
  timeUsec: number;
  line: string;
  /** False when the stream ended before \r or \n. */
  terminated: boolean;
}

export interface SebekOpen {
  client: string;
  pid: number;
  uid: number;
  com: string;
  fd: number;
  inode: number;
  path: string;
  timeSec: number;
  timeUsec: number;
}

export interface SebekSocketCall extends SebekSocket {
  client: string;
  pid: number;
  uid: number;
  com: string;
  fd: number;
  timeSec: number;
  timeUsec: number;
}

export interface SebekFork {
  client: string;
  pid: number;
  ppid: number;
  uid: number;
  com: string;
  timeSec: number;
  timeUsec: number;
}

export interface ClientLoss {
  client: string;
  received: number;
  /** Records missing according to counter gaps. */
  lost: number;
  /** Number of gaps. */
  gaps: number;
  /** Counter went backwards (client restart, duplicates, reordering). */
  backwards: number;
  firstCounter: number;
  lastCounter: number;
}

export type SebekEvent =
  | { kind: 'line'; line: KeystrokeLine }
  | { kind: 'open'; open: SebekOpen }
  | { kind: 'socket'; socket: SebekSocketCall }
  | { kind: 'fork'; fork: SebekFork }
  | { kind: 'gap'; client: string; expected: number; got: number; lost: number };

interface LineBuffer {
  chars: string[];
  timeSec: number;
  timeUsec: number;
  uid: number;
  com: string;
  /** Last byte was \r (so a following \n does not end an empty line). */
  afterCr: boolean;
}

const TWO32 = 0x1_0000_0000;

export interface SebekSessionLimits {
  /** Processes (client, pid) held (default 16,384). */
  maxProcesses?: number;
  /** Keystroke line buffers (client, pid, fd) held (default 16,384). */
  maxLines?: number;
  /** Clients whose counters are followed (default 65,536). */
  maxClients?: number;
  /** Characters in one keystroke line before it is handed out cut (default 4,096). */
  maxLineChars?: number;
  /** Command names kept per process (default 32). */
  maxComs?: number;
}

export class SebekSessionStats {
  evictedProcesses = 0;
  evictedLines = 0;
  evictedClients = 0;
  /** Lines handed out at maxLineChars, unterminated. */
  cutLines = 0;
  /** Command names not kept past maxComs. */
  droppedComs = 0;
}

/** How a keystroke byte is shown in a line. */
export function showByte(b: number): string {
  if (b === 0x09) return '^I';
  if (b < 0x20) return `^${String.fromCharCode(b + 0x40)}`;
  if (b < 0x7f) return String.fromCharCode(b);
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

export class SebekSession {
  readonly processes = new LruMap<SebekProcess>();
  readonly loss = new LruMap<ClientLoss>();
  readonly stats = new SebekSessionStats();
  private readonly lines = new LruMap<LineBuffer>();
  private readonly maxProcesses: number;
  private readonly maxLines: number;
  private readonly maxClients: number;
  private readonly maxLineChars: number;
  private readonly maxComs: number;

  /** `onEvict`: a process let go at the limit (its figures are final as far as this session is concerned). */
  constructor(
    limits: SebekSessionLimits = {},
    private readonly onEvict?: (p: SebekProcess) => void,
  ) {
    this.maxProcesses = Math.max(1, limits.maxProcesses ?? 16_384);
    this.maxLines = Math.max(1, limits.maxLines ?? 16_384);
    this.maxClients = Math.max(1, limits.maxClients ?? 65_536);
    this.maxLineChars = Math.max(1, limits.maxLineChars ?? 4096);
    this.maxComs = Math.max(1, limits.maxComs ?? 32);
  }

  add(r: CapturedSebekRecord): SebekEvent[] {
    const events: SebekEvent[] = [];
    this.count(r, events);
    this.process(r);
    switch (r.type) {
      case 0:
        if (r.data.length === 0) {
          const pr = this.processes.get(`${r.client}/${r.pid}`);
          if (pr !== undefined) pr.forks++;
          events.push({
            kind: 'fork',
            fork: { client: r.client, pid: r.pid, ppid: r.ppid, uid: r.uid, com: r.com, timeSec: r.timeSec, timeUsec: r.timeUsec },
          });
        } else if (r.data.length === 1 || r.fd === 0) {
          const key = `${r.client}/${r.pid}/${r.fd}`;
          const buf = this.lineBuffer(key, r, events);
          for (let i = 0; i < r.data.length; i++) this.keystroke(key, buf, r, r.data[i]!, events);
        }
        break;
      case 2:
        if (r.socket !== undefined) {
          events.push({
            kind: 'socket',
            socket: { ...r.socket, client: r.client, pid: r.pid, uid: r.uid, com: r.com, fd: r.fd, timeSec: r.timeSec, timeUsec: r.timeUsec },
          });
        }
        break;
      case 3:
        events.push({
          kind: 'open',
          open: {
            client: r.client,
            pid: r.pid,
            uid: r.uid,
            com: r.com,
            fd: r.fd,
            inode: r.inode,
            path: pathText(r.data),
            timeSec: r.timeSec,
            timeUsec: r.timeUsec,
          },
        });
        break;
      default:
        break;
    }
    return events;
  }

  /** Lines still open when the stream ends. */
  finish(): SebekEvent[] {
    const out: SebekEvent[] = [];
    for (const [key, buf] of this.lines) {
      if (buf.chars.length > 0) out.push({ kind: 'line', line: this.makeLine(key, buf, false) });
    }
    this.lines.clear();
    return out;
  }

  private count(r: CapturedSebekRecord, events: SebekEvent[]): void {
    const l = this.loss.use(r.client);
    if (l === undefined) {
      if (this.loss.size >= this.maxClients) {
        this.loss.shift();
        this.stats.evictedClients++;
      }
      this.loss.set(r.client, { client: r.client, received: 1, lost: 0, gaps: 0, backwards: 0, firstCounter: r.counter, lastCounter: r.counter });
      return;
    }
    l.received++;
    const expected = (l.lastCounter + 1) % TWO32;
    const ahead = (r.counter - expected + TWO32) % TWO32;
    if (ahead === 0) {
      l.lastCounter = r.counter;
    } else if (ahead < TWO32 / 2) {
      l.lost += ahead;
      l.gaps++;
      l.lastCounter = r.counter;
      events.push({ kind: 'gap', client: r.client, expected, got: r.counter, lost: ahead });
    } else {
      // Behind the last counter: a duplicate, a late packet, or the client restarted.
      l.backwards++;
      l.lastCounter = r.counter;
    }
  }

  private process(r: CapturedSebekRecord): void {
    const key = `${r.client}/${r.pid}`;
    let p = this.processes.use(key);
    if (p === undefined) {
      if (this.processes.size >= this.maxProcesses) {
        const [, old] = this.processes.shift()!;
        this.stats.evictedProcesses++;
        this.onEvict?.(old);
      }
      p = {
        client: r.client,
        pid: r.pid,
        ppid: r.ppid,
        uid: r.uid,
        com: r.com,
        coms: [r.com],
        firstSec: r.timeSec,
        lastSec: r.timeSec,
        records: 0,
        forks: 0,
      };
      this.processes.set(key, p);
    }
    p.records++;
    p.lastSec = Math.max(p.lastSec, r.timeSec);
    if (r.ppid !== 0) p.ppid = r.ppid;
    p.uid = r.uid;
    if (r.com !== p.com) {
      p.com = r.com;
      if (!p.coms.includes(r.com)) {
        if (p.coms.length < this.maxComs) p.coms.push(r.com);
        else this.stats.droppedComs++;
      }
    }
  }

  /** The line buffer of (client, pid, fd), made (at the limit, the least recently used one goes) or moved young. */
  private lineBuffer(key: string, r: CapturedSebekRecord, events: SebekEvent[]): LineBuffer {
    let buf = this.lines.use(key);
    if (buf === undefined) {
      if (this.lines.size >= this.maxLines) {
        const [oldKey, old] = this.lines.shift()!;
        this.stats.evictedLines++;
        if (old.chars.length > 0) events.push({ kind: 'line', line: this.makeLine(oldKey, old, false) });
      }
      buf = { chars: [], timeSec: r.timeSec, timeUsec: r.timeUsec, uid: r.uid, com: r.com, afterCr: false };
      this.lines.set(key, buf);
    }
    return buf;
  }

  private keystroke(key: string, buf: LineBuffer, r: CapturedSebekRecord, b: number, events: SebekEvent[]): void {
    if (b === 0x0d || b === 0x0a) {
      const skip = b === 0x0a && buf.afterCr && buf.chars.length === 0;
      buf.afterCr = b === 0x0d;
      if (!skip) events.push({ kind: 'line', line: this.makeLine(key, buf, true) });
      buf.chars = [];
      return;
    }
    buf.afterCr = false;
    if (buf.chars.length === 0) {
      buf.timeSec = r.timeSec;
      buf.timeUsec = r.timeUsec;
    }
    buf.uid = r.uid;
    buf.com = r.com;
    if (b === 0x7f || b === 0x08) {
      buf.chars.pop();
      return;
    }
    if (buf.chars.length >= this.maxLineChars) {
      events.push({ kind: 'line', line: this.makeLine(key, buf, false) });
      this.stats.cutLines++;
      buf.chars = [];
      buf.timeSec = r.timeSec;
      buf.timeUsec = r.timeUsec;
    }
    buf.chars.push(showByte(b));
  }

  private makeLine(key: string, buf: LineBuffer, terminated: boolean): KeystrokeLine {
    const [client, pid, fd] = splitKey(key);
    return { client, pid, fd, uid: buf.uid, com: buf.com, timeSec: buf.timeSec, timeUsec: buf.timeUsec, line: buf.chars.join(''), terminated };
  }
}

function splitKey(key: string): [string, number, number] {
  const i = key.lastIndexOf('/');
  const j = key.lastIndexOf('/', i - 1);
  return [key.slice(0, j), Number(key.slice(j + 1, i)), Number(key.slice(i + 1))];
}

/** An open record's path: bytes up to the first NUL, escaped (text.ts). */
export function pathText(d: Uint8Array): string {
  return escapeBytes(cString(d));
}
