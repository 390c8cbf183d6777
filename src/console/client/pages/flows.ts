/** The connection list: filters (time, host, port, protocol, direction, honeypot, sid, alerted) and keyset pages. */
import { get } from '../api.js';
import { append, h } from '../dom.js';
import type { Flow, Paged } from '../types.js';
import { filterForm, flowRows, pager } from '../widgets.js';

export const FLOW_FILTERS = ['from', 'to', 'host', 'port', 'proto', 'direction', 'honeypot', 'sid', 'alerted', 'app_proto', 'after', 'order'];

export async function flows(root: HTMLElement, params: URLSearchParams): Promise<void> {
  append(
    root,
    h('h1', {}, 'Connections'),
    filterForm(
      'flows',
      [
        { name: 'from', label: 'from', placeholder: '2024-01-02T03:00Z or Unix s' },
        { name: 'to', label: 'to', placeholder: 'time' },
        { name: 'host', label: 'host', placeholder: 'address' },
        { name: 'port', label: 'port' },
        { name: 'proto', label: 'protocol', options: ['tcp', 'udp', 'icmp', 'icmp6'] },
        { name: 'direction', label: 'direction', options: ['inbound', 'outbound', 'internal', 'external'] },
        { name: 'honeypot', label: 'honeypot', placeholder: 'address' },
        { name: 'sid', label: 'sid' },
        { name: 'alerted', label: 'alerted', options: ['true'] },
      ],
      params,
    ),
  );
  const q: Record<string, string> = {};
  for (const k of FLOW_FILTERS) {
    const v = params.get(k);
    if (v !== null) q[k] = v;
  }
  const r = await get<Paged<Flow>>('/api/flows', q);
  append(root, h('p', { class: 'count' }, `${r.rows.length} connections on this page`), flowRows(r.rows), pager('flows', params, r.next));
}
