/** The audit log: logins, failed logins, views and downloads, newest first. */
import { get } from '../api.js';
import { append, h, table } from '../dom.js';
import { timeUs } from '../format.js';
import type { Paged } from '../types.js';
import { pager } from '../widgets.js';

interface AuditRow {
  ts_us: number;
  user: string | null;
  address: string;
  action: string;
  object: string | null;
  detail: string | null;
}

export async function audit(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const r = await get<Paged<AuditRow>>('/api/audit', { after: params.get('after') ?? undefined });
  append(
    root,
    h('h1', {}, 'Audit log'),
    table(
      ['time', 'account', 'address', 'action', 'what', 'detail'],
      r.rows.map((a) => [timeUs(a.ts_us), a.user ?? '', a.address, a.action, a.object ?? '', a.detail ?? '']),
    ),
    pager('audit', params, r.next),
  );
}
