/** How values are shown: times in UTC (the store's clock), sizes, protocols, endpoints. Returns text, never markup. */

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Microseconds since the epoch as `YYYY-MM-DD HH:MM:SS.ffffff` UTC. */
export function timeUs(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  const frac = pad(((us % 1_000_000) + 1_000_000) % 1_000_000, 6);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${frac}`;
}

export function timeSec(sec: number, usec = 0): string {
  return timeUs(sec * 1_000_000 + usec);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v.toFixed(1)} ${units[i]}`;
}

const PROTOS: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 47: 'GRE', 50: 'ESP' };
export function proto(n: number): string {
  return PROTOS[n] ?? String(n);
}

export function endpoint(ip: string, port: number | null): string {
  if (port === null) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

const TCP_FLAGS = 'FSRPAUEC';
export function tcpFlags(f: number): string {
  let out = '';
  for (let i = 0; i < 8; i++) if (f & (1 << i)) out += TCP_FLAGS[i];
  return out || '-';
}
