/** The API's rows as the page reads them (the store's columns, snake_case, times in microseconds or seconds). */

export interface Paged<T> {
  rows: T[];
  next: string | null;
}

export interface Flow {
  id: number;
  community_id: string;
  proto: number;
  client_ip: string;
  client_port: number | null;
  server_ip: string;
  server_port: number | null;
  first_us: number;
  last_us: number;
  pkts_toserver: number;
  pkts_toclient: number;
  bytes_toserver: number;
  bytes_toclient: number;
  tcp_flags_ts: number;
  tcp_flags_tc: number;
  state: string;
  reason: string | null;
  app_proto: string | null;
  alerts: number;
  honeypot: string | null;
  direction: string;
  sensor: string;
}

export interface Alert {
  id: number;
  flow_id: number | null;
  ts_us: number;
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classtype: string | null;
  priority: number;
  action: string;
  blocked: number;
  proto: string;
  src_ip: string;
  src_port: number | null;
  dst_ip: string;
  dst_port: number | null;
  honeypot: string | null;
}

export interface Process {
  client: string;
  pid: number;
  ppid: number;
  uid: number;
  com: string;
  coms: string;
  first_sec: number;
  last_sec: number;
  records: number;
}

export interface Socket {
  id: number;
  pid: number;
  com: string;
  fd: number;
  call_name: string;
  proto: number;
  sip: string;
  sport: number;
  dip: string;
  dport: number;
  time_sec: number;
  time_usec: number;
  flow_id: number | null;
}

export interface Keystroke {
  time_sec: number;
  time_usec: number;
  fd: number;
  uid: number;
  com: string;
  line: string;
  terminated: number;
}

export interface Host {
  honeypot: string;
  flows_in: number;
  flows_out: number;
  flows_other: number;
  bytes_in: number;
  bytes_out: number;
  alerts: number;
  firewall: number;
  limits: number;
  first_minute: number;
  last_minute: number;
  processes: number;
}

export interface Bucket {
  t: number;
  flows_in: number;
  flows_out: number;
  bytes_in: number;
  bytes_out: number;
  alerts: number;
  limits: number;
}
