/**
 * One Sebek process: its parent and children, its keystroke lines with their times and the pause before each (how
 * an intruder types tells a script from a person), the files it opened, its socket calls and the flows they made.
 * Every value is the intruder's text, shown as text.
 */
import { get } from '../api.js';
import { append, facts, h, link, table } from '../dom.js';
import { endpoint, proto, timeSec } from '../format.js';
import type { ProcessDetail } from '../types.js';
import { cutNote } from '../widgets.js';
import { withSensor } from '../scope.js';

export async function processPage(root: HTMLElement, client: string, pid: string, sensor: string | null): Promise<void> {
  const d = await get<ProcessDetail>(`/api/sebek/processes/${encodeURIComponent(client)}/${encodeURIComponent(pid)}`, {
    sensor: sensor ?? undefined,
  });
  const p = d.process;
  const procLink = (n: number, text: string) => link(withSensor(`#/process/${encodeURIComponent(p.client)}/${n}`, sensor), text);
  append(
    root,
    h('h1', {}, `Process ${p.pid} on ${p.client}: ${p.com}`),
    facts([
      ['parent', d.parent ? procLink(d.parent.pid, `${d.parent.pid} ${d.parent.com}`) : String(p.ppid)],
      ['uid', String(p.uid)],
      ['commands', (JSON.parse(p.coms) as string[]).join(', ')],
      ['first seen', timeSec(p.first_sec)],
      ['last seen', timeSec(p.last_sec)],
      ['records', String(p.records)],
      [
        'children',
        d.children.length > 0 ? h('span', {}, ...d.children.flatMap((c, i) => [i > 0 ? ', ' : '', procLink(c.pid, `${c.pid} ${c.com}`)])) : 'none',
      ],
    ]),
    h('h2', {}, `Keystrokes (${d.keystrokes.length} lines)`),
  );
  let prev: number | undefined;
  append(
    root,
    d.keystrokes.length > 0
      ? table(
          ['time', 'pause', 'fd', 'command', 'line'],
          d.keystrokes.map((k) => {
            const t = k.time_sec * 1e6 + k.time_usec;
            const pause = prev === undefined ? '' : `+${((t - prev) / 1e6).toFixed(3)} s`;
            prev = t;
            return [timeSec(k.time_sec, k.time_usec), pause, k.fd, k.com, h('code', { class: 'keys' }, k.line, k.terminated ? '' : ' …')];
          }),
          'list keystrokes',
        )
      : h('p', {}, 'none'),
    h('h2', {}, `Files opened (${d.opens.length})`),
    d.opens.length > 0
      ? table(
          ['time', 'fd', 'inode', 'path'],
          d.opens.map((o) => [timeSec(o.time_sec, o.time_usec), o.fd, o.inode, h('code', {}, o.path)]),
        )
      : h('p', {}, 'none'),
    h('h2', {}, `Sockets (${d.sockets.length})`),
    d.sockets.length > 0
      ? table(
          ['time', 'fd', 'call', 'protocol', 'from', 'to', 'flow'],
          d.sockets.map((s) => [
            timeSec(s.time_sec, s.time_usec),
            s.fd,
            s.call_name,
            proto(s.proto),
            endpoint(s.sip, s.sport),
            endpoint(s.dip, s.dport),
            s.flow_id === null ? 'not seen' : link(withSensor(`#/flow/${s.flow_id}`, sensor), `flow ${s.flow_id}`),
          ]),
        )
      : h('p', {}, 'none'),
    cutNote(d.cut),
  );
}
