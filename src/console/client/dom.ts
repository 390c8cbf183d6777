/**
 * The only way the console's page makes DOM: elements by createElement, text by text nodes (textContent). Nothing
 * is ever parsed as HTML (no innerHTML, insertAdjacentHTML, document.write), so a value from the honeynet (a
 * keystroke line holding `<script>`, an alert message, a URI) is shown as the characters it is and runs nothing.
 * Attributes are a fixed list; links go only to the console's own pages (#/...) and API (/api/...).
 */

export type Child = Node | string | number | null | undefined | false;

export interface Attrs {
  class?: string;
  id?: string;
  href?: string;
  title?: string;
  type?: string;
  name?: string;
  value?: string;
  placeholder?: string;
  for?: string;
  download?: string;
  autocomplete?: string;
  /** data-* attributes the tests look for. */
  data?: Record<string, string>;
}

/** Links stay inside the console: its hash pages and its API. */
function safeHref(href: string): string {
  return /^(#\/|\/api\/)/.test(href) ? href : '#/';
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (k === 'data') for (const [dk, dv] of Object.entries(v as Record<string, string>)) el.dataset[dk] = dv;
    else if (k === 'class') el.className = v as string;
    else if (k === 'href') el.setAttribute('href', safeHref(v as string));
    else el.setAttribute(k, v as string);
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A table of rows: headers, and per row its cells (text or nodes). */
export function table(headers: string[], rows: Child[][], cls = 'list'): HTMLTableElement {
  return h(
    'table',
    { class: cls },
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
  );
}

export function link(href: string, text: Child, attrs: Attrs = {}): HTMLAnchorElement {
  return h('a', { ...attrs, href }, text);
}

/** A definition list of facts. */
export function facts(pairs: [string, Child][]): HTMLDListElement {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of pairs) append(dl, h('dt', {}, k), h('dd', {}, v));
  return dl;
}
