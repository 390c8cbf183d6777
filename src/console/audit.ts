/**
 * The audit log: who logged in (or failed to), who looked at which flow or process and who downloaded which pcap
 * (an account, or `token:NAME` for a machine's API token; tokens made, revoked, and failed),
 * when and from where. One row per event in the store's `audit` table, written as it happens (a crash loses none:
 * each insert is its own transaction).
 */
import type Database from 'better-sqlite3';

export type AuditAction =
  | 'login'
  | 'logout'
  | 'login-failed'
  | 'login-limited'
  | 'session-expired'
  | 'flow-viewed'
  | 'process-viewed'
  | 'pcap-downloaded'
  | 'user-added'
  | 'password-changed'
  | 'token-added'
  | 'token-revoked'
  | 'token-failed'
  | 'token-limited';

export interface AuditEntry {
  user: string | null;
  address: string;
  action: AuditAction;
  object?: string;
  detail?: string;
}

export interface AuditRow {
  id: number;
  ts_us: number;
  user: string | null;
  address: string;
  action: AuditAction;
  object: string | null;
  detail: string | null;
}

/** Text a client chose (an account name typed at login) is kept to this many characters. */
const MAX_TEXT = 200;

export class AuditLog {
  private readonly insert: Database.Statement;
  private readonly recent: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT INTO audit (ts_us, user, address, action, object, detail) VALUES (?, ?, ?, ?, ?, ?)');
    this.recent = db.prepare('SELECT * FROM audit WHERE (ts_us, id) < (?, ?) ORDER BY ts_us DESC, id DESC LIMIT ?');
  }

  write(e: AuditEntry, nowUs = Date.now() * 1000): void {
    const cap = (s: string | null | undefined) => (s == null ? null : s.slice(0, MAX_TEXT));
    this.insert.run(nowUs, cap(e.user), cap(e.address), e.action, cap(e.object), cap(e.detail));
  }

  /** Newest first, `limit` rows before the cursor `[ts_us, id]` (none: from the newest). */
  page(limit: number, before: [number, number] = [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]): AuditRow[] {
    return this.recent.all(before[0], before[1], limit) as AuditRow[];
  }

  get database(): Database.Database {
    return this.db;
  }
}
