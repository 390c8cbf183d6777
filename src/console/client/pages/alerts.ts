/** The alert list: filters (time, sid, host, honeypot, blocked) and keyset pages. */
import type { Alert } from '../types.js';
import { sensorFields } from '../scope.js';
import { alertRows, listPage, TIME_FIELDS } from '../widgets.js';

export function alerts(root: HTMLElement, params: URLSearchParams): Promise<void> {
  return listPage<Alert>(root, params, {
    page: 'alerts',
    title: 'Alerts',
    fields: [
      ...sensorFields(),
      ...TIME_FIELDS,
      { name: 'sid', label: 'sid' },
      { name: 'host', label: 'host', placeholder: 'address' },
      { name: 'honeypot', label: 'honeypot', placeholder: 'address' },
      { name: 'blocked', label: 'blocked', options: ['true', 'false'] },
    ],
    extra: ['flow'],
    api: '/api/alerts',
    noun: 'alerts',
    rows: alertRows,
  });
}
