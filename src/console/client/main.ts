/**
 * The console's page: one HTML page, its views chosen by the location's hash (#/flows?port=80, #/flow/12, ...), each
 * view a function that fetches from the API and builds its DOM with dom.ts (createElement and text nodes only).
 * Without a session, the login form.
 */
import { loadScope } from './scope.js';
import { ApiError, login, logout, resume, session } from './api.js';
import { append, clear, h, link } from './dom.js';
import { alerts } from './pages/alerts.js';
import { audit } from './pages/audit.js';
import { flow } from './pages/flow.js';
import { flows } from './pages/flows.js';
import { overview } from './pages/overview.js';
import { processPage } from './pages/process.js';
import { search } from './pages/search.js';
import { sebek } from './pages/sebek.js';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;

function loginView(message?: string): void {
  clear(nav);
  clear(main);
  const name = h('input', { id: 'login-name', name: 'name', type: 'text', autocomplete: 'username' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password' });
  const status = h('p', { class: 'error', id: 'login-error' }, message ?? '');
  const form = h(
    'form',
    { id: 'login-form', class: 'login' },
    h('h1', {}, 'honeywall console'),
    h('label', { for: 'login-name' }, 'account', name),
    h('label', { for: 'login-password' }, 'password', password),
    h('button', { type: 'submit' }, 'Log in'),
    status,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    login(name.value, password.value).then(
      () => route(),
      (e: unknown) => {
        status.textContent = e instanceof Error ? e.message : String(e);
      },
    );
  });
  append(main, form);
  name.focus();
}

function navigation(): void {
  clear(nav);
  const out = h('button', { type: 'button', id: 'logout' }, 'Log out');
  out.addEventListener('click', () => {
    logout().then(
      () => loginView('logged out'),
      () => loginView(),
    );
  });
  append(
    nav,
    link('#/', 'Overview'),
    link('#/flows', 'Connections'),
    link('#/alerts', 'Alerts'),
    link('#/sebek', 'Sebek'),
    link('#/search', 'Search'),
    link('#/audit', 'Audit'),
    h('span', { class: 'user', id: 'user' }, session.user ?? ''),
    out,
  );
}

async function view(path: string, params: URLSearchParams): Promise<void> {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0] ?? '') {
    case '':
      return overview(main, params);
    case 'flows':
      return flows(main, params);
    case 'flow':
      return flow(main, parts[1] ?? '', params.get('sensor'));
    case 'alerts':
      return alerts(main, params);
    case 'sebek':
      return sebek(main, params);
    case 'process':
      return processPage(main, parts[1] ?? '', parts[2] ?? '', params.get('sensor'));
    case 'search':
      return search(main, params);
    case 'audit':
      return audit(main, params);
    default:
      append(main, h('p', { class: 'error' }, `no such page: ${path}`));
  }
}

let generation = 0;

async function route(): Promise<void> {
  const mine = ++generation;
  if (session.user === undefined && !(await resume())) return loginView();
  await loadScope();
  navigation();
  clear(main);
  main.dataset.state = 'loading';
  const hash = location.hash.replace(/^#/, '') || '/';
  const q = hash.indexOf('?');
  const path = q === -1 ? hash : hash.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : hash.slice(q + 1));
  try {
    await view(path, params);
  } catch (e) {
    if (mine !== generation) return;
    if (e instanceof ApiError && e.status === 401) return loginView(e.message);
    append(main, h('p', { class: 'error', id: 'page-error' }, e instanceof Error ? e.message : String(e)));
  }
  // tests and screenshots wait for this
  if (mine === generation) main.dataset.state = 'ready';
}

window.addEventListener('hashchange', () => void route());
void route();
