/**
 * The page's calls to the console's API: same origin, the session cookie sent by the browser (HttpOnly: this code
 * never sees it), the CSRF token (from the login answer or GET /api/session) in the X-CSRF-Token header of every
 * state-changing call. A 401 means the session is gone: the page shows the login form.
 */

let csrf: string | undefined;
let user: string | undefined;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const session = {
  get user() {
    return user;
  },
  set(u: string | undefined, token: string | undefined) {
    user = u;
    csrf = token;
  },
};

async function answer<T>(r: Response): Promise<T> {
  const body = (await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }))) as T & { error?: string };
  if (!r.ok) {
    if (r.status === 401) session.set(undefined, undefined);
    throw new ApiError(r.status, body.error ?? `${r.status} ${r.statusText}`);
  }
  return body;
}

/** GET path?params (undefined and empty values left out). */
export async function get<T>(path: string, params: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return answer<T>(await fetch(qs ? `${path}?${qs}` : path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (csrf !== undefined) headers['X-CSRF-Token'] = csrf;
  return answer<T>(await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) }));
}

/** The session the cookie holds, if any (and its CSRF token). */
export async function resume(): Promise<boolean> {
  try {
    const s = await get<{ user: string; csrf: string }>('/api/session');
    session.set(s.user, s.csrf);
    return true;
  } catch {
    return false;
  }
}

export async function login(name: string, password: string): Promise<void> {
  const s = await post<{ user: string; csrf: string }>('/api/login', { name, password });
  session.set(s.user, s.csrf);
}

export async function logout(): Promise<void> {
  await post('/api/logout');
  session.set(undefined, undefined);
}
