/** Pieces the pages share: filter forms that become the page's hash query, paging links, rows of flows and alerts. */
import { get } from './api.js';
import { endpoint, proto, timeUs } from './format.js';
import { append, h, link, table, type Child } from './dom.js';
import type { Alert, Flow, Paged } from './types.js';
import { scope, withSensor } from './scope.js';

export interface Field {
  name: string;
  label: string;
  placeholder?: string;
  options?: string[];
}

/** A form whose submit goes to `#/page?field=value...` (empty fields left out). */
export function filterForm(page: string, fields: Field[], params: URLSearchParams): HTMLFormElement {
  const form = h('form', { class: 'filters', id: `${page}-filters` });
  for (const f of fields) {
    const id = `f-${page}-${f.name}`;
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.options) {
      input = h('select', { id, name: f.name }, h('option', { value: '' }, 'any'), ...f.options.map((o) => h('option', { value: o }, o)));
      input.value = params.get(f.name) ?? '';
    } else {
      input = h('input', { id, name: f.name, type: 'text', placeholder: f.placeholder ?? '' });
      input.value = params.get(f.name) ?? '';
    }
    form.appendChild(h('label', { for: id }, f.label, input));
  }
  form.appendChild(h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const f of fields) {
      const el = form.elements.namedItem(f.name) as HTMLInputElement | HTMLSelectElement;
      if (el.value.trim() !== '') q.set(f.name, el.value.trim());
    }
    location.hash = `#/${page}${q.toString() ? `?${q}` : ''}`;
  });
  return form;
}

/** The time range every list is filtered by. */
export const TIME_FIELDS: readonly Field[] = [
  { name: 'from', label: 'from', placeholder: '2024-01-02T03:00Z or Unix s' },
  { name: 'to', label: 'to', placeholder: 'time' },
];

export interface ListSpec<T> {
  /** The page's name in the hash (`#/flows`). */
  page: string;
  title: string;
  fields: Field[];
  /** Filters the API takes that have no field (links set them: an alert's `flow`). */
  extra?: string[];
  api: string;
  /** What a row is, plural ("connections"). */
  noun: string;
  rows: (rows: T[]) => HTMLTableElement;
}

/** A list page: its title, its filter form, one page of rows from the API (its filters, `after` and `order` passed on), the pager. */
export async function listPage<T>(root: HTMLElement, params: URLSearchParams, spec: ListSpec<T>): Promise<void> {
  append(root, h('h1', {}, spec.title), filterForm(spec.page, spec.fields, params));
  const q: Record<string, string> = {};
  for (const k of [...spec.fields.map((f) => f.name), ...(spec.extra ?? []), 'after', 'order']) {
    const v = params.get(k);
    if (v !== null) q[k] = v;
  }
  const r = await get<Paged<T>>(spec.api, q);
  append(root, h('p', { class: 'count' }, `${r.rows.length} ${spec.noun} on this page`), spec.rows(r.rows), pager(spec.page, params, r.next));
}

/** "Next page" with the cursor, keeping the filters. */
export function pager(page: string, params: URLSearchParams, next: string | null): Child {
  if (next === null) return h('p', { class: 'pager' }, 'end of list');
  const q = new URLSearchParams(params);
  q.set('after', next);
  return h('p', { class: 'pager' }, link(`#/${page}?${q}`, 'next page ›', { id: 'next-page' }));
}

export function flowRows(rows: Flow[]): HTMLTableElement {
  return table(
    [...(scope.central ? ['sensor'] : []), 'flow', 'first seen', 'proto', 'client', 'server', 'dir', 'app', 'packets', 'bytes', 'alerts', 'honeypot'],
    rows.map((f) => [
      ...(scope.central ? [f.sensor] : []),
      link(withSensor(`#/flow/${f.id}`, f.sensor), String(f.id), { data: { flow: String(f.id) } }),
      timeUs(f.first_us),
      proto(f.proto),
      endpoint(f.client_ip, f.client_port),
      endpoint(f.server_ip, f.server_port),
      f.direction,
      f.app_proto ?? '',
      `${f.pkts_toserver} / ${f.pkts_toclient}`,
      `${f.bytes_toserver} / ${f.bytes_toclient}`,
      f.alerts > 0 ? h('span', { class: 'alerted' }, String(f.alerts)) : '0',
      f.honeypot ?? '',
    ]),
  );
}

export function alertRows(rows: Alert[]): HTMLTableElement {
  return table(
    [...(scope.central ? ['sensor'] : []), 'time', 'sid', 'message', 'action', 'source', 'destination', 'flow'],
    rows.map((a) => [
      ...(scope.central ? [a.sensor] : []),
      timeUs(a.ts_us),
      link(`#/alerts?sid=${a.sid}`, `${a.gid}:${a.sid}:${a.rev}`),
      h('span', { class: 'msg' }, a.msg),
      // what the gateway did to the packet: dropped, or sent on rewritten (a replace rule)
      a.blocked ? h('span', { class: 'blocked' }, a.action) : a.replaced ? h('span', { class: 'replaced' }, `${a.action}, replaced`) : a.action,
      endpoint(a.src_ip, a.src_port),
      endpoint(a.dst_ip, a.dst_port),
      a.flow_id === null ? '' : link(withSensor(`#/flow/${a.flow_id}`, a.sensor), String(a.flow_id)),
    ]),
  );
}

export function cutNote(cut: Record<string, number> | undefined): Child {
  if (cut === undefined || Object.keys(cut).length === 0) return null;
  return h(
    'p',
    { class: 'note' },
    `Not shown (lists bounded): ${Object.entries(cut)
      .map(([k, n]) => `${n} more ${k}`)
      .join(', ')}`,
  );
}
