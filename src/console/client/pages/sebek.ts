/**
 * Sebek: the honeypots with processes, and for one of them its process tree (parent to children, from the processes'
 * ppid), each process a link to its page (keystrokes, files, sockets).
 */
import { get } from '../api.js';
import { append, h, link, table } from '../dom.js';
import { timeSec } from '../format.js';
import type { Host, Paged, Process } from '../types.js';
import { scope, withSensor } from '../scope.js';

/** A central row's sensor (a local store's processes have none). */
const sensorOf = (p: Process): string | undefined => (p as Process & { sensor?: string }).sensor;

/** Processes shown in one tree (the API's page cap); the rest are counted. */
const MAX_TREE = 1000;

function tree(procs: Process[]): HTMLElement {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const children = new Map<number, Process[]>();
  const roots: Process[] = [];
  for (const p of procs) {
    if (p.ppid !== p.pid && byPid.has(p.ppid)) {
      let list = children.get(p.ppid);
      if (list === undefined) children.set(p.ppid, (list = []));
      list.push(p);
    } else roots.push(p);
  }
  const byTime = (a: Process, b: Process) => a.first_sec - b.first_sec || a.pid - b.pid;
  // iterative, depth bounded by the number of processes (a ppid cycle cannot loop: each pid is placed once)
  const placed = new Set<number>();
  const node = (p: Process): HTMLLIElement => {
    placed.add(p.pid);
    const li = h(
      'li',
      { data: { pid: String(p.pid) } },
      link(withSensor(`#/process/${encodeURIComponent(p.client)}/${p.pid}`, sensorOf(p)), `${p.pid} ${p.com}`),
      h('span', { class: 'dim' }, ` uid ${p.uid}, ${timeSec(p.first_sec)}, ${p.records} records`),
    );
    const kids = (children.get(p.pid) ?? []).filter((c) => !placed.has(c.pid)).sort(byTime);
    if (kids.length > 0) {
      const ul = h('ul', {});
      for (const c of kids) ul.appendChild(node(c));
      li.appendChild(ul);
    }
    return li;
  };
  const ul = h('ul', { class: 'tree', id: 'process-tree' });
  for (const r of roots.sort(byTime)) ul.appendChild(node(r));
  return ul;
}

export async function sebek(root: HTMLElement, params: URLSearchParams): Promise<void> {
  append(root, h('h1', {}, 'Sebek'));
  const hosts = (await get<{ rows: (Host & { sensor?: string })[] }>('/api/hosts')).rows.filter((r) => r.processes > 0);
  const client = params.get('client') ?? hosts[0]?.honeypot;
  // on the central store a honeypot is one sensor's: its processes are asked with that sensor
  const sensor = params.get('sensor') ?? (scope.central ? hosts.find((r) => r.honeypot === client)?.sensor : undefined) ?? undefined;
  const where = (r: { honeypot: string; sensor?: string }) => (scope.central && r.sensor !== undefined ? `${r.honeypot} at ${r.sensor}` : r.honeypot);
  append(
    root,
    h(
      'p',
      {},
      'Honeypots: ',
      ...hosts.flatMap((r, i) => [
        i > 0 ? ', ' : '',
        link(withSensor(`#/sebek?client=${encodeURIComponent(r.honeypot)}`, r.sensor), `${where(r)} (${r.processes})`),
      ]),
    ),
  );
  if (client === undefined) {
    append(root, h('p', {}, 'No Sebek records in the store.'));
    return;
  }
  const r = await get<Paged<Process>>('/api/sebek/processes', { client, limit: MAX_TREE, order: 'asc', sensor });
  append(root, h('h2', {}, `Process tree of ${where({ honeypot: client, sensor })}`), tree(r.rows));
  if (r.next !== null) append(root, h('p', { class: 'note' }, `the first ${MAX_TREE} processes only`));
  append(
    root,
    h('h2', {}, 'Processes'),
    table(
      ['pid', 'ppid', 'uid', 'commands', 'first', 'last', 'records'],
      r.rows.map((p) => [
        link(withSensor(`#/process/${encodeURIComponent(p.client)}/${p.pid}`, sensorOf(p)), String(p.pid)),
        p.ppid,
        p.uid,
        (JSON.parse(p.coms) as string[]).join(', '),
        timeSec(p.first_sec),
        timeSec(p.last_sec),
        p.records,
      ]),
    ),
  );
}
