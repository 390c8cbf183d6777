/**
 * What the console reads, as one asynchronous interface with two implementations: the gateway's SQLite store (this
 * file: the synchronous functions of query.ts, answered at once) and the central PostgreSQL store of many sensors
 * (central/reader.ts). The routes (src/console/routes) call only this, so every page and API call works over both;
 * the central store adds a `sensor` filter to each (a flow or process is named by its sensor and its id there).
 *
 * The SQL of the filters is built once (query.ts: flowConditions, alertConditions, ...) for both stores.
 */
import type Database from 'better-sqlite3';
import {
  type AlertFilter,
  type AlertRow,
  type DetailLimit,
  type FirewallFilter,
  type FirewallRow,
  type FlowDetail,
  type FlowFilter,
  type FlowRow,
  getFlow,
  getProcess,
  type HostRow,
  hosts,
  listAlerts,
  listFirewall,
  listFlows,
  listProcesses,
  type Page,
  type Paged,
  type ProcessDetail,
  type ProcessFilter,
  type ProcessListRow,
  type TimelineQuery,
  type Bucket,
  timeline,
} from './query.js';

/** Rows of each group of a text search. */
export const SEARCH_ROWS = 50;

export interface TextSearch {
  alerts: { rows: unknown[]; more: boolean };
  keystrokes: { rows: unknown[]; more: boolean };
  opens: { rows: unknown[]; more: boolean };
  processes: { rows: unknown[]; more: boolean };
}

export type ProcessView = ProcessDetail & { parent: { pid: number; com: string } | null };

export interface StoreReader {
  /** The central store (rows carry `sensor`; details need it). */
  readonly central: boolean;
  /** What the store is, for messages (a file, or a URL without its password). */
  readonly label: string;
  listFlows(f: FlowFilter, page: Page): Promise<Paged<FlowRow>>;
  /** One flow (its sensor: required by the central store). */
  getFlow(id: number, sensor: string | undefined, limit: DetailLimit): Promise<FlowDetail | undefined>;
  listAlerts(f: AlertFilter, page: Page): Promise<Paged<AlertRow>>;
  listProcesses(f: ProcessFilter, page: Page): Promise<Paged<ProcessListRow>>;
  getProcess(client: string, pid: number, sensor: string | undefined, limit: DetailLimit): Promise<ProcessView | undefined>;
  hosts(range: { from?: number; to?: number; sensor?: string }): Promise<(HostRow & { sensor?: string })[]>;
  timeline(q: TimelineQuery & { sensor?: string }): Promise<{ bucket: number; buckets: Bucket[] }>;
  listFirewall(f: FirewallFilter, page: Page): Promise<Paged<FirewallRow>>;
  /** Alert messages, keystroke lines, files opened and command names containing `text` (case-insensitive). */
  searchText(text: string, sensor: string | undefined): Promise<TextSearch>;
  close(): Promise<void>;
}

/** `%text%` with LIKE's wildcards escaped (a `%` typed is a `%` looked for). */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The SQLite store (one gateway's, or an import's). */
export class SqliteReader implements StoreReader {
  readonly central = false;
  readonly label: string;

  constructor(
    readonly db: Database.Database,
    label = db.name,
  ) {
    this.label = label;
  }

  async listFlows(f: FlowFilter, page: Page) {
    return listFlows(this.db, f, page);
  }

  async getFlow(id: number, _sensor: string | undefined, limit: DetailLimit) {
    return getFlow(this.db, id, limit);
  }

  async listAlerts(f: AlertFilter, page: Page) {
    return listAlerts(this.db, f, page);
  }

  async listProcesses(f: ProcessFilter, page: Page) {
    return listProcesses(this.db, f, page);
  }

  async getProcess(client: string, pid: number, _sensor: string | undefined, limit: DetailLimit): Promise<ProcessView | undefined> {
    const d = getProcess(this.db, client, pid, limit);
    if (d === undefined) return undefined;
    const parent = (this.db.prepare('SELECT pid, com FROM processes WHERE client = ? AND pid = ?').get(client, d.process.ppid) ??
      null) as ProcessView['parent'];
    return { ...d, parent };
  }

  async hosts(range: { from?: number; to?: number }) {
    return hosts(this.db, range);
  }

  async timeline(q: TimelineQuery) {
    return timeline(this.db, q);
  }

  async listFirewall(f: FirewallFilter, page: Page) {
    return listFirewall(this.db, f, page);
  }

  async searchText(text: string): Promise<TextSearch> {
    const pattern = likePattern(text);
    const like = (sql: string) => {
      const rows = this.db.prepare(`${sql} LIMIT ?`).all(pattern, SEARCH_ROWS + 1);
      const more = rows.length > SEARCH_ROWS;
      if (more) rows.length = SEARCH_ROWS;
      return { rows, more };
    };
    return {
      alerts: like("SELECT * FROM alerts WHERE msg LIKE ? ESCAPE '\\' ORDER BY ts_us DESC, id DESC"),
      keystrokes: like(
        "SELECT client, pid, com, time_sec, time_usec, line FROM keystroke_lines WHERE line LIKE ? ESCAPE '\\' ORDER BY time_sec DESC, time_usec DESC, id DESC",
      ),
      opens: like(
        "SELECT client, pid, com, time_sec, time_usec, path FROM opens WHERE path LIKE ? ESCAPE '\\' ORDER BY time_sec DESC, time_usec DESC, id DESC",
      ),
      processes: like("SELECT * FROM processes WHERE coms LIKE ? ESCAPE '\\' ORDER BY first_sec DESC, pid DESC"),
    };
  }

  async close(): Promise<void> {
    // the console's caller owns the database
  }
}
