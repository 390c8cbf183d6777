/**
 * The store's schema as an ordered list of migrations. `schema_version` holds one row per migration applied; a
 * database is at the highest version there (0 when the table is absent). Opening a store applies, in order and each
 * in its own transaction with its row, every migration above that version; a file of a higher version than this
 * program knows is refused, never written.
 *
 * Migration 1 is the Sebek database as `honeywall sebek --db` and the gateway's Sebek tap made it before the store
 * existed (tables created only if absent, `com_raw` added to a file older still), so an old sebek.sqlite opens as a
 * store and keeps its rows. Never edit a migration that has shipped: add one.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

function columns(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
}

const SEBEK_V1 = `
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY,
  client TEXT NOT NULL, cap_sec INTEGER NOT NULL, cap_usec INTEGER NOT NULL,
  magic INTEGER NOT NULL, version INTEGER NOT NULL, type INTEGER NOT NULL, type_name TEXT NOT NULL,
  counter INTEGER NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL, usec_swapped INTEGER NOT NULL,
  ppid INTEGER NOT NULL, pid INTEGER NOT NULL, uid INTEGER NOT NULL, fd INTEGER NOT NULL, inode INTEGER NOT NULL,
  com TEXT NOT NULL, length INTEGER NOT NULL, data BLOB NOT NULL, com_raw BLOB
);
CREATE INDEX IF NOT EXISTS records_proc ON records (client, pid);
CREATE TABLE IF NOT EXISTS processes (
  client TEXT NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL, uid INTEGER NOT NULL,
  com TEXT NOT NULL, coms TEXT NOT NULL, first_sec INTEGER NOT NULL, last_sec INTEGER NOT NULL,
  records INTEGER NOT NULL, forks INTEGER NOT NULL,
  PRIMARY KEY (client, pid)
);
CREATE TABLE IF NOT EXISTS keystroke_lines (
  id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, fd INTEGER NOT NULL, uid INTEGER NOT NULL,
  com TEXT NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL, line TEXT NOT NULL, terminated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS opens (
  id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, uid INTEGER NOT NULL, com TEXT NOT NULL,
  fd INTEGER NOT NULL, inode INTEGER NOT NULL, path TEXT NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sockets (
  id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, uid INTEGER NOT NULL, com TEXT NOT NULL,
  fd INTEGER NOT NULL, call INTEGER NOT NULL, call_name TEXT NOT NULL, proto INTEGER NOT NULL,
  sip TEXT NOT NULL, sport INTEGER NOT NULL, dip TEXT NOT NULL, dport INTEGER NOT NULL,
  time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS forks (
  id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL, uid INTEGER NOT NULL,
  com TEXT NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS loss (
  client TEXT PRIMARY KEY, received INTEGER NOT NULL, lost INTEGER NOT NULL, gaps INTEGER NOT NULL,
  backwards INTEGER NOT NULL, first_counter INTEGER NOT NULL, last_counter INTEGER NOT NULL
);
`;

/**
 * The analysis store. Times are integer microseconds since the epoch (`*_us`: exact, ordered, and within 2^53
 * until the year 2255); addresses are text as the alerts print them (`formatIp`); ports are NULL where the protocol
 * has none. Intruder-controlled text stays as the readers escaped it (Sebek's TEXT columns carry no control
 * character); the console escapes on display.
 */
const STORE_V2 = `
CREATE TABLE captures (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  format TEXT,
  -- JSON [[offset, CaptureState], ...]: what a reader needs to read a record in the middle of the file
  states TEXT NOT NULL DEFAULT '[]',
  states_complete INTEGER NOT NULL DEFAULT 1,
  -- importing (an import began and did not finish: rolled back by the next one) or done
  status TEXT NOT NULL,
  packets INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  first_us INTEGER,
  last_us INTEGER,
  sensor TEXT NOT NULL,
  -- why reading stopped early (a damaged capture is imported up to the damage)
  error TEXT,
  imported_at INTEGER NOT NULL
);

CREATE TABLE flows (
  id INTEGER PRIMARY KEY,
  flow_id INTEGER NOT NULL,
  community_id TEXT NOT NULL,
  proto INTEGER NOT NULL,
  vlan INTEGER NOT NULL,
  client_ip TEXT NOT NULL,
  client_port INTEGER,
  server_ip TEXT NOT NULL,
  server_port INTEGER,
  icmp_type INTEGER,
  icmp_code INTEGER,
  first_us INTEGER NOT NULL,
  last_us INTEGER NOT NULL,
  pkts_toserver INTEGER NOT NULL,
  pkts_toclient INTEGER NOT NULL,
  bytes_toserver INTEGER NOT NULL,
  bytes_toclient INTEGER NOT NULL,
  payload_bytes INTEGER NOT NULL,
  tcp_flags_ts INTEGER NOT NULL,
  tcp_flags_tc INTEGER NOT NULL,
  tcp_state TEXT,
  state TEXT NOT NULL,
  -- NULL while the flow is open
  reason TEXT,
  app_proto TEXT,
  midstream INTEGER NOT NULL,
  alerts INTEGER NOT NULL DEFAULT 0,
  -- the honeypot's address (the client's when both sides are honeypots), NULL when neither is
  honeypot TEXT,
  direction TEXT NOT NULL,
  sensor TEXT NOT NULL,
  -- the import that made the row (NULL: the gateway)
  capture_id INTEGER,
  -- where the first packet is
  first_capture_id INTEGER,
  first_offset INTEGER
);
CREATE INDEX flows_time ON flows (first_us, id);
CREATE INDEX flows_honeypot ON flows (honeypot, first_us);
CREATE INDEX flows_client ON flows (client_ip, first_us);
CREATE INDEX flows_server ON flows (server_ip, first_us);
CREATE INDEX flows_server_port ON flows (server_port, first_us);
CREATE INDEX flows_client_port ON flows (client_port, first_us);
CREATE INDEX flows_proto ON flows (proto, first_us);
CREATE INDEX flows_eve ON flows (flow_id);
CREATE INDEX flows_capture ON flows (capture_id);

-- a flow's frames in each capture file: first and last offset, and (short flows) every offset as delta varints
CREATE TABLE flow_files (
  flow_id INTEGER NOT NULL,
  capture_id INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  last_offset INTEGER NOT NULL,
  packets INTEGER NOT NULL,
  offsets BLOB,
  PRIMARY KEY (flow_id, capture_id)
) WITHOUT ROWID;
CREATE INDEX flow_files_capture ON flow_files (capture_id);

CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  flow_id INTEGER,
  ts_us INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  sid INTEGER NOT NULL,
  rev INTEGER NOT NULL,
  msg TEXT NOT NULL,
  classtype TEXT,
  classification TEXT,
  priority INTEGER NOT NULL,
  action TEXT NOT NULL,
  blocked INTEGER NOT NULL,
  replaced INTEGER NOT NULL,
  proto TEXT NOT NULL,
  src_ip TEXT NOT NULL,
  src_port INTEGER,
  dst_ip TEXT NOT NULL,
  dst_port INTEGER,
  icmp_type INTEGER,
  icmp_code INTEGER,
  community_id TEXT,
  eve_flow_id INTEGER,
  pcap_cnt INTEGER,
  app_proto TEXT,
  honeypot TEXT,
  sensor TEXT NOT NULL,
  capture_id INTEGER
);
CREATE INDEX alerts_time ON alerts (ts_us, id);
CREATE INDEX alerts_sid ON alerts (sid, ts_us);
CREATE INDEX alerts_flow ON alerts (flow_id);
CREATE INDEX alerts_honeypot ON alerts (honeypot, ts_us);
CREATE INDEX alerts_src ON alerts (src_ip, ts_us);
CREATE INDEX alerts_dst ON alerts (dst_ip, ts_us);
CREATE INDEX alerts_capture ON alerts (capture_id);

-- the firewall's log lines (firewall.log), parsed
CREATE TABLE firewall_events (
  id INTEGER PRIMARY KEY,
  ts_us INTEGER NOT NULL,
  -- inbound | outbound | limit | fence | sebek | dhcp | dns | other
  kind TEXT NOT NULL,
  prefix TEXT NOT NULL,
  proto TEXT,
  src_ip TEXT,
  src_port INTEGER,
  dst_ip TEXT,
  dst_port INTEGER,
  in_iface TEXT,
  out_iface TEXT,
  length INTEGER,
  honeypot TEXT,
  sensor TEXT NOT NULL,
  line TEXT NOT NULL
);
CREATE INDEX firewall_time ON firewall_events (ts_us, id);
CREATE INDEX firewall_honeypot ON firewall_events (honeypot, ts_us);

-- per honeypot ('' for flows with none) and minute, and per hour: what the overview and timeline charts add up, kept
-- as flows end and alerts arrive, so a chart over a month of a million flows reads thousands of rows (hours), and a
-- chart of an hour reads minutes
CREATE TABLE minutes (
  honeypot TEXT NOT NULL,
  minute INTEGER NOT NULL,
  flows_in INTEGER NOT NULL DEFAULT 0,
  flows_out INTEGER NOT NULL DEFAULT 0,
  flows_other INTEGER NOT NULL DEFAULT 0,
  bytes_in INTEGER NOT NULL DEFAULT 0,
  bytes_out INTEGER NOT NULL DEFAULT 0,
  alerts INTEGER NOT NULL DEFAULT 0,
  firewall INTEGER NOT NULL DEFAULT 0,
  limits INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (honeypot, minute)
) WITHOUT ROWID;
CREATE INDEX minutes_time ON minutes (minute);
CREATE TABLE hours (
  honeypot TEXT NOT NULL,
  hour INTEGER NOT NULL,
  flows_in INTEGER NOT NULL DEFAULT 0,
  flows_out INTEGER NOT NULL DEFAULT 0,
  flows_other INTEGER NOT NULL DEFAULT 0,
  bytes_in INTEGER NOT NULL DEFAULT 0,
  bytes_out INTEGER NOT NULL DEFAULT 0,
  alerts INTEGER NOT NULL DEFAULT 0,
  firewall INTEGER NOT NULL DEFAULT 0,
  limits INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (honeypot, hour)
) WITHOUT ROWID;
CREATE INDEX hours_time ON hours (hour);
`;

/**
 * The console's access tables. A password is kept as its scrypt hash with the salt and the parameters it was made
 * with (so that stronger parameters later still verify old hashes); a session by the SHA-256 of its id (a copy of the
 * file does not hand out live sessions) with its CSRF token and the times its idle and absolute expiry are counted
 * from; the audit log holds who did what, when and from where (logins, failed logins, views and downloads).
 */
const CONSOLE_V3 = `
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  -- scrypt: hex of the derived key, hex of the salt, JSON {N, r, p, keylen}
  hash TEXT NOT NULL,
  salt TEXT NOT NULL,
  params TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
  -- hex SHA-256 of the 256-bit session id the cookie carries
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL,
  csrf TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  last_us INTEGER NOT NULL,
  address TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  ts_us INTEGER NOT NULL,
  -- the account name (as typed, for a failed login), NULL when there is none
  user TEXT,
  address TEXT NOT NULL,
  -- login | logout | login-failed | login-limited | flow-viewed | process-viewed | pcap-downloaded | user-added
  action TEXT NOT NULL,
  object TEXT,
  detail TEXT
);
CREATE INDEX audit_time ON audit (ts_us, id);
CREATE INDEX audit_user ON audit (user, ts_us);
`;

/**
 * The spool for the central store (src/store/central/): rows that change after they are written (flows as they
 * progress, Sebek processes, sockets linked to their flows later) get a change number `seq`, set from a per-table
 * counter by triggers on every insert and update (one place for every writer: the gateway, an import, the Sebek
 * tap), so the shipper finds what changed since its high-water mark by an index range, and the central upsert keeps
 * the newest. `ship_state` holds each table's high-water mark (what the central store has), `ship_meta` the spool's
 * identity (a random id: the central store refuses a sensor name fed by another spool, so a new or copied file never
 * overwrites another's rows).
 */
function shipSpool(db: Database.Database): void {
  db.exec(`CREATE TABLE ship_seq (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE ship_state (tbl TEXT PRIMARY KEY, hwm INTEGER NOT NULL, shipped INTEGER NOT NULL DEFAULT 0,
      missing INTEGER NOT NULL DEFAULT 0, shipped_at INTEGER) WITHOUT ROWID;
    CREATE TABLE ship_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
    INSERT INTO ship_meta VALUES ('spool', lower(hex(randomblob(16))));`);
  for (const [t, key] of [
    ['flows', 'id'],
    ['processes', 'rowid'],
    ['sockets', 'id'],
  ] as const) {
    db.exec(`ALTER TABLE ${t} ADD COLUMN seq INTEGER;
      UPDATE ${t} SET seq = ${key};
      CREATE INDEX ${t}_seq ON ${t} (seq);
      INSERT INTO ship_seq VALUES ('${t}', (SELECT IFNULL(MAX(seq), 0) FROM ${t}));
      CREATE TRIGGER ${t}_seq_insert AFTER INSERT ON ${t} BEGIN
        UPDATE ship_seq SET n = n + 1 WHERE tbl = '${t}';
        UPDATE ${t} SET seq = (SELECT n FROM ship_seq WHERE tbl = '${t}') WHERE ${key} = NEW.${key};
      END;
      CREATE TRIGGER ${t}_seq_update AFTER UPDATE ON ${t} WHEN NEW.seq IS OLD.seq BEGIN
        UPDATE ship_seq SET n = n + 1 WHERE tbl = '${t}';
        UPDATE ${t} SET seq = (SELECT n FROM ship_seq WHERE tbl = '${t}') WHERE ${key} = NEW.${key};
      END;`);
  }
}

/**
 * API tokens for machines (the central console fetching a flow's pcap from this gateway's console): like a session,
 * only the SHA-256 of the 256-bit token is kept, so a copy of the file hands out no working token. `scope` says which
 * read-only routes it opens (src/console/tokens.ts); revoking deletes the row.
 */
const TOKENS_V5 = `
CREATE TABLE api_tokens (
  name TEXT PRIMARY KEY,
  -- hex SHA-256 of the token
  hash TEXT NOT NULL UNIQUE,
  scope TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  last_us INTEGER
) WITHOUT ROWID;
`;

/** The Sebek tables an import fills get the capture they came from; sockets get the flow they made. */
const SEBEK_CAPTURE_TABLES = ['records', 'keystroke_lines', 'opens', 'sockets', 'forks'];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sebek tables (the sebek.sqlite layout before the store)',
    up(db) {
      db.exec(SEBEK_V1);
      if (!columns(db, 'records').has('com_raw')) db.exec('ALTER TABLE records ADD COLUMN com_raw BLOB');
    },
  },
  {
    version: 2,
    name: 'flows, alerts, captures, firewall events, per-minute counts; Sebek rows linked to captures and flows',
    up(db) {
      db.exec(STORE_V2);
      for (const t of SEBEK_CAPTURE_TABLES) db.exec(`ALTER TABLE ${t} ADD COLUMN capture_id INTEGER`);
      db.exec('ALTER TABLE sockets ADD COLUMN flow_id INTEGER');
      db.exec('CREATE INDEX sockets_flow ON sockets (flow_id)');
      db.exec('CREATE INDEX sockets_proc ON sockets (client, pid)');
      db.exec('CREATE INDEX keystroke_lines_proc ON keystroke_lines (client, pid, time_sec)');
      for (const t of SEBEK_CAPTURE_TABLES) db.exec(`CREATE INDEX ${t}_capture ON ${t} (capture_id)`);
    },
  },
  {
    version: 3,
    name: 'console accounts, sessions and audit log',
    up(db) {
      db.exec(CONSOLE_V3);
    },
  },
  {
    version: 4,
    name: 'the spool for the central store: change numbers, high-water marks, spool id',
    up: shipSpool,
  },
  {
    version: 5,
    name: "console API tokens (a machine's read-only access: the central console fetching pcaps)",
    up(db) {
      db.exec(TOKENS_V5);
    },
  },
];

/** The version this program writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
