/**
 * Sebek on the gateway: a supervised tcpdump on the honeypot-side interface hands every UDP datagram
 * to the Sebek port (filter `udp dst port P`) to the Sebek extractor (site magic and port from the
 * config); records and what they complete (keystroke lines, opens, sockets, forks, loss per
 * client) go into the SQLite store. The firewall keeps these packets from leaving (HwSEBEK_FATE);
 * reading them off the wire here does not depend on that rule. Garbage on the port is counted by
 * the extractor and never stops the tap.
 */
import type Database from 'better-sqlite3';
import { CaptureNotes, CaptureParser } from '../packet/pcap.js';
import { SebekExtractor } from '../sebek/extract.js';
import { SebekStore } from '../sebek/store.js';
import type { KeystrokeLine } from '../sebek/session.js';
import { Supervisor, type CrashReport } from './supervisor.js';

export interface SebekTapOptions {
  iface: string;
  port: number;
  magic?: number;
  db: string;
  tcpdump?: string;
  onLines?: (lines: KeystrokeLine[]) => void;
  /** Every exit of the tap's tcpdump not asked for (the gateway reports it on stderr). */
  onCrash?: (report: CrashReport) => void;
}

export interface SebekTapStats {
  running: boolean;
  starts: number;
  crashes: number;
  crashLoop: boolean;
  records: number;
  sebekPackets: number;
  garbage: number;
  undecodable: number;
  /** Records lost per the clients' counters (sum over clients). */
  lost: number;
  clients: number;
  /** What the session let go at its limits (SebekSession: processes, line buffers, clients, cut lines). */
  evicted: { processes: number; lines: number; clients: number; cutLines: number };
  /** Packets whose capture time was clamped, records cut to the largest frame (CaptureNotes). */
  clampedTimestamps: number;
  cutRecords: number;
  captureErrors: number;
  storeErrors: number;
  lastError: string | undefined;
}

export class SebekTap {
  readonly store: SebekStore;
  readonly extractor: SebekExtractor;
  readonly supervisor: Supervisor;
  private parser: CaptureParser;
  /** What the reader changed (timestamps clamped, records cut), over every tcpdump run. */
  private readonly notes = new CaptureNotes();
  private lastLineId = 0;
  private readonly newLines: Database.Statement;
  captureErrors = 0;
  storeErrors = 0;
  lastError: string | undefined;

  constructor(private readonly opts: SebekTapOptions) {
    this.store = new SebekStore(opts.db);
    this.extractor = new SebekExtractor({ magic: opts.magic, port: opts.port });
    this.parser = new CaptureParser('tcpdump', this.notes);
    this.newLines = this.store.db.prepare(
      'SELECT id, client, pid, fd, uid, com, time_sec AS timeSec, time_usec AS timeUsec, line, terminated FROM keystroke_lines WHERE id > ? ORDER BY id',
    );
    const row = this.store.db.prepare('SELECT max(id) AS m FROM keystroke_lines').get() as { m: number | null };
    this.lastLineId = row.m ?? 0;
    const args = ['-i', opts.iface, '-n', '-s', '0', '-U', '-Z', 'root', '-w', '-', 'udp', 'dst', 'port', String(opts.port)];
    this.supervisor = new Supervisor('sebek tap', opts.tcpdump ?? 'tcpdump', args, {
      onStart: () => {
        this.parser = new CaptureParser('tcpdump', this.notes);
      },
      onStdout: (chunk) => this.feed(chunk),
      onCrash: opts.onCrash,
    });
  }

  start(): void {
    this.supervisor.start();
  }

  /** Bytes of a pcap stream (tcpdump -w -). */
  feed(chunk: Uint8Array): void {
    try {
      this.parser.push(chunk);
      const records = [];
      for (let r = this.parser.next(); r !== undefined; r = this.parser.next()) {
        records.push(...this.extractor.fromFrame(r.linktype, r.data, r.tsSec, r.tsUsec));
      }
      if (records.length > 0) this.ingest(records);
    } catch (err) {
      this.captureErrors++;
      this.lastError = (err as Error).message;
      this.parser = new CaptureParser('tcpdump', this.notes);
    }
  }

  private ingest(records: Parameters<SebekStore['ingest']>[0]): void {
    try {
      this.store.ingest(records);
    } catch (err) {
      this.storeErrors++;
      this.lastError = (err as Error).message;
      return;
    }
    if (this.opts.onLines) {
      const lines = this.newLines.all(this.lastLineId) as (Omit<KeystrokeLine, 'terminated'> & { id: number; terminated: number })[];
      if (lines.length > 0) {
        this.lastLineId = lines[lines.length - 1]!.id;
        this.opts.onLines(lines.map(({ id: _id, ...l }) => ({ ...l, terminated: l.terminated === 1 })));
      }
    }
  }

  stats(): SebekTapStats {
    const s = this.extractor.stats;
    const ss = this.store.session.stats;
    let lost = 0;
    for (const l of this.store.session.loss.values()) lost += l.lost;
    return {
      running: this.supervisor.running,
      starts: this.supervisor.starts,
      crashes: this.supervisor.crashes,
      crashLoop: this.supervisor.status().crashLoop,
      records: s.records,
      sebekPackets: s.sebekPackets,
      garbage: s.garbage,
      undecodable: s.undecodable,
      lost,
      clients: this.store.session.loss.size,
      evicted: { processes: ss.evictedProcesses, lines: ss.evictedLines, clients: ss.evictedClients, cutLines: ss.cutLines },
      clampedTimestamps: this.notes.clampedTimestamps,
      cutRecords: this.notes.cutRecords,
      captureErrors: this.captureErrors,
      storeErrors: this.storeErrors,
      lastError: this.lastError,
    };
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
    try {
      this.store.finish();
    } catch {
      /* nothing left to flush */
    }
    this.store.close();
  }
}
