/**
 * One flow: its facts, its alerts, its packets summarized (the first ones), the Sebek processes whose socket calls
 * made it, the capture files that hold it, and "download pcap" (the flow's packets cut from the full capture).
 */
import { get } from '../api.js';
import { append, facts, h, link, table } from '../dom.js';
import { bytes, endpoint, proto, tcpFlags, timeSec, timeUs } from '../format.js';
import type { FlowDetail } from '../types.js';
import { alertRows, cutNote } from '../widgets.js';
import { scope, withSensor } from '../scope.js';

export async function flow(root: HTMLElement, id: string, sensor: string | null): Promise<void> {
  const d = await get<FlowDetail>(`/api/flows/${encodeURIComponent(id)}`, { sensor: sensor ?? undefined });
  const f = d.flow;
  append(
    root,
    h('h1', {}, `Flow ${f.id}: ${proto(f.proto)} ${endpoint(f.client_ip, f.client_port)} → ${endpoint(f.server_ip, f.server_port)}`),
    // the central store keeps the index: the packets are in the gateway's full capture; the central console fetches
    // them from that gateway when one is configured for the sensor, else its console serves the pcap
    scope.central && !scope.gateways.includes(f.sensor)
      ? h(
          'p',
          { class: 'note', id: 'pcap-elsewhere' },
          `The packets are in the full capture of gateway ${f.sensor}: download the pcap from its console.`,
        )
      : h(
          'p',
          {},
          link(withSensor(`/api/flows/${f.id}/pcap`, f.sensor), scope.central ? `download pcap (from gateway ${f.sensor})` : 'download pcap', {
            id: 'download-pcap',
            download: scope.central ? `honeywall-${f.sensor}-flow-${f.id}.pcap` : `honeywall-flow-${f.id}.pcap`,
            class: 'button',
          }),
        ),
    facts([
      ['first seen', timeUs(f.first_us)],
      ['last seen', timeUs(f.last_us)],
      ['direction', `${f.direction}${f.honeypot ? ` (honeypot ${f.honeypot})` : ''}`],
      ['application', f.app_proto ?? 'unknown'],
      ['packets', `${f.pkts_toserver} to server, ${f.pkts_toclient} to client`],
      ['bytes', `${bytes(f.bytes_toserver)} to server, ${bytes(f.bytes_toclient)} to client`],
      ['TCP flags', f.proto === 6 ? `client ${tcpFlags(f.tcp_flags_ts)}, server ${tcpFlags(f.tcp_flags_tc)}` : '-'],
      ['state', `${f.state}${f.reason ? ` (${f.reason})` : ''}`],
      ['Community ID', f.community_id],
      ['sensor', f.sensor],
    ]),
    h('h2', {}, `Alerts (${d.alerts.length})`),
    d.alerts.length > 0 ? alertRows(d.alerts) : h('p', {}, 'none'),
    h('h2', {}, 'Packets'),
  );
  if ('error' in d.packets) append(root, h('p', { class: 'error' }, `packets not readable: ${d.packets.error}`));
  else {
    const first = d.packets.packets[0]?.t_us ?? 0;
    append(
      root,
      table(
        ['#', 'time', '+s', 'dir', 'length', 'payload', 'flags'],
        d.packets.packets.map((p, i) => [
          i + 1,
          timeUs(p.t_us),
          ((p.t_us - first) / 1e6).toFixed(6),
          p.dir === '>' ? 'client → server' : p.dir === '<' ? 'server → client' : '?',
          p.len,
          p.payload,
          p.flags ?? '',
        ]),
        'list packets',
      ),
      d.packets.more ? h('p', { class: 'note' }, 'first packets only: the pcap has them all') : null,
    );
  }
  append(root, h('h2', {}, `Sebek processes that used it (${d.processes.length})`));
  append(
    root,
    d.processes.length > 0
      ? table(
          ['honeypot', 'pid', 'command', 'first seen'],
          d.processes.map((p) => [
            p.client,
            link(withSensor(`#/process/${encodeURIComponent(p.client)}/${p.pid}`, f.sensor), String(p.pid)),
            p.com,
            timeSec(p.first_sec),
          ]),
        )
      : h('p', {}, 'none linked'),
  );
  if (d.sockets.length > 0)
    append(
      root,
      h('h3', {}, 'socket calls'),
      table(
        ['time', 'pid', 'command', 'call', 'from', 'to'],
        d.sockets.map((s) => [timeSec(s.time_sec, s.time_usec), s.pid, s.com, s.call_name, endpoint(s.sip, s.sport), endpoint(s.dip, s.dport)]),
      ),
    );
  append(
    root,
    h('h2', {}, 'Capture files'),
    table(
      ['capture', 'file', 'packets'],
      d.files.map((c) => [c.capture_id, c.path, c.packets]),
    ),
    cutNote(d.cut),
  );
}
