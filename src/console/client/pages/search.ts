/** Search: an address, a sid, a Community ID or any text (alert messages, keystrokes, files, commands). */
import { scope, withSensor } from '../scope.js';
import { get } from '../api.js';
import { append, h, link, table } from '../dom.js';
import { timeSec } from '../format.js';
import type { Alert, Flow, Keystroke, Process } from '../types.js';
import { alertRows, flowRows } from '../widgets.js';

interface Group<T> {
  rows: T[];
  more: boolean;
}

interface SearchAnswer {
  kind: string;
  flows?: Group<Flow>;
  alerts?: Group<Alert>;
  keystrokes?: Group<Keystroke & { client: string; pid: number; sensor?: string }>;
  opens?: Group<{ client: string; pid: number; com: string; time_sec: number; time_usec: number; path: string; sensor?: string }>;
  processes?: Group<Process>;
}

function group<T>(title: string, g: Group<T> | undefined, render: (rows: T[]) => HTMLElement): HTMLElement[] {
  if (g === undefined) return [];
  return [h('h2', {}, `${title} (${g.rows.length}${g.more ? '+' : ''})`), g.rows.length > 0 ? render(g.rows) : h('p', {}, 'none')];
}

export async function search(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const q = params.get('q') ?? '';
  const input = h('input', { id: 'search-q', name: 'q', type: 'search', placeholder: 'address, sid:N, Community ID or text' });
  input.value = q;
  const form = h('form', { class: 'filters', id: 'search-form' }, input, h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/search?q=${encodeURIComponent(input.value.trim())}`;
  });
  append(root, h('h1', {}, 'Search'), form);
  if (q.trim() === '') return;
  const r = await get<SearchAnswer>('/api/search', { q });
  const procLink = (client: string, pid: number, sensor?: string) =>
    link(withSensor(`#/process/${encodeURIComponent(client)}/${pid}`, sensor), `${scope.central && sensor ? `${sensor} ` : ''}${client} ${pid}`);
  append(
    root,
    ...group('Connections', r.flows, flowRows),
    ...group('Alerts', r.alerts, alertRows),
    ...group('Keystrokes', r.keystrokes, (rows) =>
      table(
        ['time', 'process', 'line'],
        rows.map((k) => [timeSec(k.time_sec, k.time_usec), procLink(k.client, k.pid, k.sensor), h('code', { class: 'keys' }, k.line)]),
      ),
    ),
    ...group('Files opened', r.opens, (rows) =>
      table(
        ['time', 'process', 'path'],
        rows.map((o) => [timeSec(o.time_sec, o.time_usec), procLink(o.client, o.pid, o.sensor), h('code', {}, o.path)]),
      ),
    ),
    ...group('Processes', r.processes, (rows) =>
      table(
        ['process', 'commands', 'first seen'],
        rows.map((p) => [
          procLink(p.client, p.pid, (p as { sensor?: string }).sensor),
          (JSON.parse(p.coms) as string[]).join(', '),
          timeSec(p.first_sec),
        ]),
      ),
    ),
  );
}
