/**
 * The overview, per honeypot: its totals (connections in and out, bytes, alerts, Sebek processes, firewall limits
 * hit), and charts over its active time (uPlot: connections in/out and alerts; bytes in/out), with the last limit
 * lines when the store has firewall events. Charts for the busiest honeypots (MAX_CHARTS), a table for all.
 */
import type UPlot from 'uplot';
import { get } from '../api.js';
import { append, h, link, table } from '../dom.js';
import { bytes, timeUs } from '../format.js';
import type { Bucket, Host as StoreHost, Paged } from '../types.js';
import { scope, withSensor } from '../scope.js';

/** A honeypot's totals; on the central store, one site's honeypot (the same address can be a honeypot at two sites). */
type Host = StoreHost & { sensor?: string };

declare const uPlot: typeof UPlot;

const MAX_CHARTS = 8;

function chart(title: string, xs: number[], series: { label: string; values: number[]; stroke: string }[], id: string): HTMLElement {
  const box = h('div', { class: 'chart', data: { chart: id } });
  const opts: UPlot.Options = {
    title,
    width: 520,
    height: 200,
    scales: { x: { time: true } },
    series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5 }))],
    axes: [{}, { size: 60 }],
  };
  // uPlot builds its own DOM (canvas, legend) with createElement and textContent
  new uPlot(opts, [xs, ...series.map((s) => s.values)] as UPlot.AlignedData, box);
  return box;
}

async function honeypotCard(hp: Host): Promise<HTMLElement> {
  const card = h('section', { class: 'card', data: { honeypot: hp.honeypot, ...(hp.sensor !== undefined ? { sensor: hp.sensor } : {}) } });
  const at = (path: string) => withSensor(path, hp.sensor);
  append(
    card,
    h('h2', {}, scope.central && hp.sensor !== undefined ? `${hp.honeypot} at ${hp.sensor}` : hp.honeypot),
    h(
      'p',
      { class: 'totals' },
      link(at(`#/flows?honeypot=${encodeURIComponent(hp.honeypot)}&direction=inbound`), `${hp.flows_in} inbound`),
      ' · ',
      link(at(`#/flows?honeypot=${encodeURIComponent(hp.honeypot)}&direction=outbound`), `${hp.flows_out} outbound`),
      ' connections · ',
      link(at(`#/alerts?honeypot=${encodeURIComponent(hp.honeypot)}`), `${hp.alerts} alerts`),
      ` · ${bytes(hp.bytes_in)} in, ${bytes(hp.bytes_out)} out · `,
      link(at(`#/sebek?client=${encodeURIComponent(hp.honeypot)}`), `${hp.processes} Sebek processes`),
      hp.firewall > 0 ? ` · ${hp.firewall} firewall lines, ${hp.limits} limits hit` : '',
    ),
  );
  if (hp.first_minute > 0) {
    // the honeypot's active time, a little wider so that one busy minute still draws as a line
    const from = (hp.first_minute - 3600) * 1e6;
    const to = (hp.last_minute + 3600 + 60) * 1e6;
    const tl = await get<{ bucket: number; buckets: Bucket[] }>('/api/timeline', {
      honeypot: hp.honeypot,
      from: from / 1e6,
      to: to / 1e6,
      sensor: scope.central ? hp.sensor : undefined,
    });
    // the API leaves out empty buckets: every bucket of the range is drawn, empty ones as zero
    const grain = tl.bucket % 3600 === 0 ? 3600 : 60;
    const start = Math.floor(from / 1e6 / grain) * grain;
    const byT = new Map(tl.buckets.map((b) => [b.t, b]));
    const xs: number[] = [];
    for (let t = start; t < to / 1e6 && xs.length < 5000; t += tl.bucket) xs.push(t);
    const col = (k: keyof Bucket) => xs.map((t) => byT.get(t)?.[k] ?? 0);
    if (xs.length > 0) {
      append(
        card,
        h(
          'div',
          { class: 'charts' },
          chart(
            `connections and alerts per ${tl.bucket / 60} min`,
            xs,
            [
              { label: 'inbound', values: col('flows_in'), stroke: '#1f77b4' },
              { label: 'outbound', values: col('flows_out'), stroke: '#d62728' },
              { label: 'alerts', values: col('alerts'), stroke: '#ff7f0e' },
            ],
            `${hp.sensor === undefined ? '' : `${hp.sensor}-`}${hp.honeypot}-flows`,
          ),
          chart(
            'bytes',
            xs,
            [
              { label: 'bytes in', values: col('bytes_in'), stroke: '#2ca02c' },
              { label: 'bytes out', values: col('bytes_out'), stroke: '#9467bd' },
            ],
            `${hp.sensor === undefined ? '' : `${hp.sensor}-`}${hp.honeypot}-bytes`,
          ),
        ),
      );
    }
  }
  if (hp.limits > 0) {
    const lim = await get<Paged<{ ts_us: number; prefix: string; line: string }>>('/api/firewall', {
      honeypot: hp.honeypot,
      kind: 'limit',
      limit: 5,
      sensor: scope.central ? hp.sensor : undefined,
    });
    append(
      card,
      h('h3', {}, 'limits hit'),
      table(
        ['time', 'firewall line'],
        lim.rows.map((r) => [timeUs(r.ts_us), h('code', {}, r.line)]),
      ),
    );
  }
  return card;
}

export async function overview(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const { rows, cut } = await get<{ rows: Host[]; cut: number }>('/api/hosts');
  const only = params.get('honeypot');
  const site = params.get('sensor');
  append(root, h('h1', {}, only ? `Honeypot ${only}${site ? ` at ${site}` : ''}` : 'Overview'));
  if (rows.length === 0) {
    append(root, h('p', {}, 'The store holds no honeypot activity yet (honeywall import CAPTURE --db FILE fills it).'));
    return;
  }
  const busiest = (only ? rows.filter((r) => r.honeypot === only && (site === null || r.sensor === site)) : [...rows])
    .sort((a, b) => b.flows_in + b.flows_out + b.alerts + b.processes - (a.flows_in + a.flows_out + a.alerts + a.processes))
    .slice(0, MAX_CHARTS);
  for (const hp of busiest) append(root, await honeypotCard(hp));
  if (!only) {
    append(
      root,
      h('h2', {}, `All honeypots (${rows.length}${cut > 0 ? `, ${cut} more not listed` : ''})`),
      table(
        [...(scope.central ? ['sensor'] : []), 'honeypot', 'inbound', 'outbound', 'alerts', 'bytes in', 'bytes out', 'limits', 'Sebek processes'],
        rows.map((r) => [
          ...(scope.central ? [r.sensor ?? ''] : []),
          link(withSensor(`#/?honeypot=${encodeURIComponent(r.honeypot)}`, r.sensor), r.honeypot),
          r.flows_in,
          r.flows_out,
          r.alerts,
          bytes(r.bytes_in),
          bytes(r.bytes_out),
          r.limits,
          r.processes,
        ]),
      ),
    );
  }
}
