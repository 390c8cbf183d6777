/**
 * The tables the gateway ships to the central store, one entry each: their columns as the SQLite store has them (the
 * same names in PostgreSQL, plus `sensor`), the natural key that makes a record sent twice one row, the time column
 * the central table is partitioned on by day, and how the shipper finds what is new:
 * - `append` tables are only inserted into: the SQLite row id is the high-water mark (ids only grow);
 * - `update` tables have rows that change after they are written (a flow's counts and state as it progresses, a Sebek
 *   process's records, a socket linked to its flow later): a per-table change number `seq`, which SQLite triggers
 *   (schema.ts, migration 4) set from a counter on every insert and update, is the high-water mark, and the central
 *   upsert keeps the row with the highest seq.
 * The schema (schema.ts), the shipper (ship.ts) and partition upkeep (partitions.ts) all read this list: a table is
 * described once.
 */

/** i: INTEGER (bigint), t: TEXT (text), b: BLOB (bytea). */
export type ColType = 'i' | 't' | 'b';

export interface Column {
  name: string;
  type: ColType;
}

export interface ShippedTable {
  name: string;
  columns: readonly Column[];
  /** The natural key within a sensor (the partition column is added to it: PostgreSQL requires it in every unique index). */
  key: readonly string[];
  /** Partitioned by day on this column, in microseconds or seconds since the epoch. */
  time: string;
  unit: 'us' | 's';
  mode: 'append' | 'update';
  /** The SQLite column that is the high-water mark: `id` (append) or `seq` (update). */
  mark: string;
  /** Secondary indexes of the central table (column lists), for the console's queries (query.ts). */
  indexes: readonly string[][];
  /** Columns read from another SQLite expression than their name (a process's stable `id` is its rowid). */
  from?: Readonly<Record<string, string>>;
}

/** `'id:i flow_id:i ...'` as columns. */
function cols(spec: string): Column[] {
  return spec
    .trim()
    .split(/\s+/)
    .map((c) => {
      const [name, type] = c.split(':') as [string, ColType];
      return { name, type };
    });
}

export const SHIPPED_TABLES: readonly ShippedTable[] = [
  {
    name: 'flows',
    columns: cols(`id:i flow_id:i community_id:t proto:i vlan:i client_ip:t client_port:i server_ip:t server_port:i icmp_type:i
      icmp_code:i first_us:i last_us:i pkts_toserver:i pkts_toclient:i bytes_toserver:i bytes_toclient:i payload_bytes:i tcp_flags_ts:i
      tcp_flags_tc:i tcp_state:t state:t reason:t app_proto:t midstream:i alerts:i honeypot:t direction:t capture_id:i
      first_capture_id:i first_offset:i seq:i`),
    key: ['id'],
    time: 'first_us',
    unit: 'us',
    mode: 'update',
    mark: 'seq',
    indexes: [
      ['first_us', 'id'],
      ['sensor', 'first_us', 'id'],
      ['sensor', 'honeypot', 'first_us'],
      ['client_ip', 'first_us'],
      ['server_ip', 'first_us'],
      ['server_port', 'first_us'],
      ['client_port', 'first_us'],
    ],
  },
  {
    name: 'alerts',
    columns: cols(`id:i flow_id:i ts_us:i gid:i sid:i rev:i msg:t classtype:t classification:t priority:i action:t blocked:i replaced:i
      proto:t src_ip:t src_port:i dst_ip:t dst_port:i icmp_type:i icmp_code:i community_id:t eve_flow_id:i pcap_cnt:i app_proto:t
      honeypot:t capture_id:i`),
    key: ['id'],
    time: 'ts_us',
    unit: 'us',
    mode: 'append',
    mark: 'id',
    indexes: [
      ['ts_us', 'id'],
      ['sensor', 'ts_us', 'id'],
      ['sid', 'ts_us'],
      ['sensor', 'flow_id'],
      ['sensor', 'honeypot', 'ts_us'],
      ['src_ip', 'ts_us'],
      ['dst_ip', 'ts_us'],
    ],
  },
  {
    name: 'firewall_events',
    columns: cols(`id:i ts_us:i kind:t prefix:t proto:t src_ip:t src_port:i dst_ip:t dst_port:i in_iface:t out_iface:t length:i
      honeypot:t line:t`),
    key: ['id'],
    time: 'ts_us',
    unit: 'us',
    mode: 'append',
    mark: 'id',
    indexes: [
      ['ts_us', 'id'],
      ['sensor', 'honeypot', 'ts_us'],
    ],
  },
  {
    // partitioned on the gateway's capture time: time_sec is the honeypot's clock, which the intruder sets
    name: 'records',
    columns: cols(`id:i client:t cap_sec:i cap_usec:i magic:i version:i type:i type_name:t counter:i time_sec:i time_usec:i
      usec_swapped:i ppid:i pid:i uid:i fd:i inode:i com:t length:i data:b com_raw:b capture_id:i`),
    key: ['id'],
    time: 'cap_sec',
    unit: 's',
    mode: 'append',
    mark: 'id',
    indexes: [['sensor', 'client', 'pid']],
  },
  {
    name: 'processes',
    // id: the SQLite rowid (kept by the upsert), the console's page cursor
    columns: cols('id:i client:t pid:i ppid:i uid:i com:t coms:t first_sec:i last_sec:i records:i forks:i seq:i'),
    key: ['client', 'pid'],
    time: 'first_sec',
    unit: 's',
    mode: 'update',
    mark: 'seq',
    indexes: [
      ['sensor', 'first_sec', 'id'],
      ['sensor', 'client', 'ppid'],
    ],
    from: { id: 'rowid' },
  },
  {
    name: 'keystroke_lines',
    columns: cols('id:i client:t pid:i fd:i uid:i com:t time_sec:i time_usec:i line:t terminated:i capture_id:i'),
    key: ['id'],
    time: 'time_sec',
    unit: 's',
    mode: 'append',
    mark: 'id',
    indexes: [['sensor', 'client', 'pid', 'time_sec']],
  },
  {
    name: 'opens',
    columns: cols('id:i client:t pid:i uid:i com:t fd:i inode:i path:t time_sec:i time_usec:i capture_id:i'),
    key: ['id'],
    time: 'time_sec',
    unit: 's',
    mode: 'append',
    mark: 'id',
    indexes: [['sensor', 'client', 'pid']],
  },
  {
    // updated after insertion: an import links a socket to its flow when the flow is stored (import.ts linkSockets)
    name: 'sockets',
    columns: cols(`id:i client:t pid:i uid:i com:t fd:i call:i call_name:t proto:i sip:t sport:i dip:t dport:i time_sec:i time_usec:i
      capture_id:i flow_id:i seq:i`),
    key: ['id'],
    time: 'time_sec',
    unit: 's',
    mode: 'update',
    mark: 'seq',
    indexes: [
      ['sensor', 'flow_id'],
      ['sensor', 'client', 'pid'],
    ],
  },
  {
    name: 'forks',
    columns: cols('id:i client:t pid:i ppid:i uid:i com:t time_sec:i time_usec:i capture_id:i'),
    key: ['id'],
    time: 'time_sec',
    unit: 's',
    mode: 'append',
    mark: 'id',
    indexes: [['sensor', 'client', 'pid']],
  },
];

export function shippedTable(name: string): ShippedTable {
  const t = SHIPPED_TABLES.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no shipped table ${name}`);
  return t;
}
