/** The alert list: filters (time, sid, host, honeypot, blocked) and keyset pages. */
import { get } from '../api.js';
import { append, h } from '../dom.js';
import type { Alert, Paged } from '../types.js';
import { alertRows, filterForm, pager } from '../widgets.js';

const FILTERS = ['from', 'to', 'sid', 'host', 'honeypot', 'blocked', 'flow', 'after', 'order'];

export async function alerts(root: HTMLElement, params: URLSearchParams): Promise<void> {
  append(
    root,
    h('h1', {}, 'Alerts'),
    filterForm(
      'alerts',
      [
        { name: 'from', label: 'from', placeholder: 'time' },
        { name: 'to', label: 'to', placeholder: 'time' },
        { name: 'sid', label: 'sid' },
        { name: 'host', label: 'host', placeholder: 'address' },
        { name: 'honeypot', label: 'honeypot', placeholder: 'address' },
        { name: 'blocked', label: 'blocked', options: ['true', 'false'] },
      ],
      params,
    ),
  );
  const q: Record<string, string> = {};
  for (const k of FILTERS) {
    const v = params.get(k);
    if (v !== null) q[k] = v;
  }
  const r = await get<Paged<Alert>>('/api/alerts', q);
  append(root, h('p', { class: 'count' }, `${r.rows.length} alerts on this page`), alertRows(r.rows), pager('alerts', params, r.next));
}
