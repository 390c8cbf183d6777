/**
 * CSRF protection: a synchronizer token bound to the session (made at login, kept in the session's row, handed to
 * the page by the login answer and GET /api/session), required in the `X-CSRF-Token` header of every state-changing
 * request (any method but GET, HEAD and OPTIONS). A cross-site page can make the browser send the cookie (SameSite
 * Strict already stops that in current browsers) but cannot read the token, so it cannot forge the header.
 */
import { timingSafeEqual } from 'node:crypto';

export const CSRF_HEADER = 'x-csrf-token';

export function isStateChanging(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

/** Whether the header holds the session's token (compared in constant time). */
export function csrfMatches(header: string | string[] | undefined, token: string): boolean {
  if (typeof header !== 'string') return false;
  const a = Buffer.from(header);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
