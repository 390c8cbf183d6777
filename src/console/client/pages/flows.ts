/** The connection list: filters (time, host, port, protocol, direction, honeypot, sid, alerted) and keyset pages. */
import type { Flow } from '../types.js';
import { sensorFields } from '../scope.js';
import { flowRows, listPage, TIME_FIELDS } from '../widgets.js';

export function flows(root: HTMLElement, params: URLSearchParams): Promise<void> {
  return listPage<Flow>(root, params, {
    page: 'flows',
    title: 'Connections',
    fields: [
      ...sensorFields(),
      ...TIME_FIELDS,
      { name: 'host', label: 'host', placeholder: 'address' },
      { name: 'port', label: 'port' },
      { name: 'proto', label: 'protocol', options: ['tcp', 'udp', 'icmp', 'icmp6'] },
      { name: 'direction', label: 'direction', options: ['inbound', 'outbound', 'internal', 'external'] },
      { name: 'honeypot', label: 'honeypot', placeholder: 'address' },
      { name: 'sid', label: 'sid' },
      { name: 'alerted', label: 'alerted', options: ['true'] },
    ],
    extra: ['app_proto'],
    api: '/api/flows',
    noun: 'connections',
    rows: flowRows,
  });
}
