/**
 * The SQLite side of shipping (schema.ts migration 4), without PostgreSQL: a store of version 3 with rows gets change
 * numbers for them and a spool id; every insert and update of a flow, a Sebek process or a socket moves its change
 * number above every other (what the shipper's high-water mark relies on), other writes leave them alone.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/runtime/gateway-config.js';
import { migrate, openStore } from '../src/store/db.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { StoreWriter, type FlowMeta } from '../src/store/writer.js';
import { alertEvent, flowRecord } from './helpers/store.js';

const meta: FlowMeta = { honeypot: '10.0.0.5', direction: 'inbound', sensor: 's', captureId: null };

describe('the spool (SQLite migration 4)', () => {
  it('numbers the rows of a version 3 store, and every later insert and update, per table; gives the file a random spool id', () => {
    const db = openStore(':memory:', { migrations: MIGRATIONS.slice(0, 3) });
    const w = new StoreWriter(db);
    const rows = [1, 2, 3].map((i) => w.flowStarted(flowRecord({ id: i }), meta));
    w.flush();
    db.exec(`INSERT INTO processes (client, pid, ppid, uid, com, coms, first_sec, last_sec, records, forks)
      VALUES ('10.0.0.5', 10, 1, 0, 'sh', '[]', 5, 5, 1, 0), ('10.0.0.5', 11, 1, 0, 'sh', '[]', 6, 6, 1, 0)`);
    migrate(db);
    const seqs = () => db.prepare('SELECT id, seq FROM flows ORDER BY id').all() as { id: number; seq: number }[];
    expect(seqs()).toEqual(rows.map((id) => ({ id, seq: id })));
    expect(db.prepare('SELECT pid, seq FROM processes ORDER BY pid').all()).toEqual([
      { pid: 10, seq: 1 },
      { pid: 11, seq: 2 },
    ]);
    const spool = db.prepare("SELECT v FROM ship_meta WHERE k = 'spool'").pluck().get() as string;
    expect(spool).toMatch(/^[0-9a-f]{32}$/);
    // an update of flow 1 (its end, an alert counted) moves it past the others; flow 2 is left alone
    const w2 = new StoreWriter(db);
    w2.flowEnded(rows[0]!, flowRecord({ id: 1, pktsToServer: 50 }), meta);
    w2.flush();
    expect(seqs()).toEqual([
      { id: 1, seq: 4 },
      { id: 2, seq: 2 },
      { id: 3, seq: 3 },
    ]);
    w2.alert(alertEvent(), rows[1]!, meta);
    w2.flush();
    expect(seqs()[1]).toEqual({ id: 2, seq: 5 });
    const n = w2.flowStarted(flowRecord({ id: 9 }), meta);
    w2.flush();
    expect(seqs().find((r) => r.id === n)!.seq).toBe(6);
    // processes count on their own
    db.exec('UPDATE processes SET records = 2 WHERE pid = 10');
    expect(db.prepare('SELECT pid, seq FROM processes ORDER BY pid').all()).toEqual([
      { pid: 10, seq: 3 },
      { pid: 11, seq: 2 },
    ]);
    // another store file has another spool id
    const other = openStore(':memory:');
    expect(other.prepare("SELECT v FROM ship_meta WHERE k = 'spool'").pluck().get()).not.toBe(spool);
    other.close();
    db.close();
  });
});

describe('the gateway settings of the central store', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'hw-central-conf-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const conf = (name: string, text: string) => {
    const f = path.join(tmp, name);
    writeFileSync(f, `HwCAPTURE=no\nHwQUEUE=no\nHwHOSTNAME=gw-host\n${text}`);
    return loadGatewayConfig(f);
  };

  it('HwSTORE_URL with HwSTORE: shipped as HwSENSOR (default HwHOSTNAME) with the central retention', () => {
    const a = conf('a.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_URL=postgres://hw:secret@db.example:5432/honeywall?sslmode=verify-full\n');
    expect(a.errors).toEqual([]);
    expect(a.config?.store?.central).toEqual({
      url: 'postgres://hw:secret@db.example:5432/honeywall?sslmode=verify-full',
      sensor: 'gw-host',
      keepDays: 0,
    });
    const b = conf('b.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_URL=postgresql://db/h\nHwSENSOR=site-2\nHwSTORE_RETENTION_DAYS=60\n');
    expect(b.config?.store?.central).toEqual({ url: 'postgresql://db/h', sensor: 'site-2', keepDays: 60 });
    expect(conf('c.conf', 'HwSTORE=/tmp/x.sqlite\n').config?.store?.central).toBeUndefined();
  });

  it('refuses a URL that is not postgres (its password never printed), a URL without HwSTORE, a bad sensor name', () => {
    const a = conf('d.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_URL=mysql://u:hunter2@db/h\n');
    expect(a.errors).toEqual([
      expect.stringMatching(/:5:\d+: error invalid-value: HwSTORE_URL: mysql:\/\/u:\*\*\*@db\/h: 'mysql:' is not postgres:$/),
    ]);
    expect(a.errors.join('')).not.toContain('hunter2');
    expect(conf('e.conf', 'HwSTORE_URL=postgres://db/h\n').errors).toEqual([
      expect.stringMatching(/HwSTORE_URL: the central store is fed from the local store \(the spool\): set HwSTORE too$/),
    ]);
    expect(conf('f.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_URL=postgres://db/h\nHwSENSOR=two words\n').errors).toEqual([
      expect.stringMatching(/HwSENSOR: 'two words' is not 1 to 64 printable characters without spaces$/),
    ]);
  });
});
