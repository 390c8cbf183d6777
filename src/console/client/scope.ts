/**
 * Which store the console serves: one gateway's (ids are the store's own) or the central store of many gateways
 * (`honeywall console --store postgres://...`), where every row carries its sensor, a flow or process is named by its
 * sensor and id (`#/flow/12?sensor=site-2`), the lists get a sensor filter and the overview one card per site and
 * honeypot; `gateways` are the sensors whose pcaps the central console fetches from their gateway. Asked once
 * (GET /api/sensors) after login.
 */
import { get } from './api.js';
import type { Field } from './widgets.js';

export const scope = { loaded: false, central: false, sensors: [] as string[], gateways: [] as string[] };

export async function loadScope(): Promise<void> {
  if (scope.loaded) return;
  const r = await get<{ central: boolean; sensors: string[]; gateways: string[] }>('/api/sensors');
  scope.central = r.central;
  scope.sensors = r.sensors;
  scope.gateways = r.gateways;
  scope.loaded = true;
}

/** A page's hash or an API path with the row's sensor, on the central store. */
export function withSensor(path: string, sensor: string | null | undefined): string {
  if (!scope.central || sensor === null || sensor === undefined) return path;
  return `${path}${path.includes('?') ? '&' : '?'}sensor=${encodeURIComponent(sensor)}`;
}

/** The lists' sensor filter (central store only). */
export function sensorFields(): Field[] {
  return scope.central ? [{ name: 'sensor', label: 'sensor', options: scope.sensors }] : [];
}
