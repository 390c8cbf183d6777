/**
 * A central store of two sites with the same ids: the console tests' store (console-store.ts) made once, copied, and
 * the two files shipped as site-a and site-b into a new database of `cluster` (every id then exists twice centrally).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';
import { Shipper } from '../../src/store/central/ship.js';
import { openStore } from '../../src/store/db.js';
import { makeConsoleStore } from './console-store.js';
import type { PgCluster } from './postgres.js';

export async function shipTwoSites(
  dir: string,
  cluster: PgCluster,
  storeOptions?: Parameters<typeof makeConsoleStore>[1],
): Promise<{ file: string; url: string }> {
  const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  let file: string;
  try {
    file = (await makeConsoleStore(dir, storeOptions)).db;
  } finally {
    quiet.mockRestore();
  }
  const url = cluster.createDatabase('central');
  const copy = join(dir, 'site-b.sqlite');
  copyFileSync(file, copy);
  for (const [f, sensor] of [
    [file, 'site-a'],
    [copy, 'site-b'],
  ] as const) {
    const s = openStore(f);
    const shipper = new Shipper(s, { url, sensor });
    await shipper.drain();
    await shipper.stop();
    s.close();
  }
  return { file, url };
}
