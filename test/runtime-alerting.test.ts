import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../src/output/alert.js';
import { AlertRuleError, parseAlertRule, parseDuration, splitWords, Alerter } from '../src/runtime/alerting.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hw-alerting-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('alert rules', () => {
  it('parses watches, filters, actions and throttles', () => {
    expect(splitWords(`ids sid=1,2 subject='two words' pattern=/a b/i`)).toEqual(['ids', 'sid=1,2', 'subject=two words', 'pattern=/a b/i']);
    expect(parseAlertRule('x', 'ids sid=9000001 action=drop mail= throttle=10h', ['ops@x'])).toMatchObject({
      watch: 'ids',
      sids: [9000001],
      actions: ['drop'],
      mail: ['ops@x'],
      throttleMs: 36_000_000,
    });
    expect(parseDuration('0:10:00')).toBe(600_000);
    expect(() => parseAlertRule('x', 'outbound')).toThrow(AlertRuleError);
    expect(() => parseAlertRule('x', 'bogus mail=a@b')).toThrow(/not a watch/);
    expect(() => parseAlertRule('x', 'keystrokes mail=a@b')).toThrow(/pattern/);
    expect(() => parseAlertRule('x', 'ids sid=abc mail=a@b')).toThrow(/sid/);
  });

  it("an IDS notice's subject holds the rule's msg without its control characters (a command may print it)", async () => {
    const out = path.join(tmp, 'subject.txt');
    const a = new Alerter([parseAlertRule('i', `ids exec='printf %s "$HW_ALERT_SUBJECT" > ${out}'`)], {
      smtpHost: '127.0.0.1',
      smtpPort: 1,
      from: 'x@y',
    });
    const e = { gid: 1, sid: 7, msg: 'x\x1b[2J\u202ey\r\nz', classtype: 'misc', action: 'alert', blocked: false } as AlertEvent;
    a.ids(e, 'line');
    await a.flush();
    expect(readFileSync(out, 'utf8')).toBe('Honeywall IDS: x\u241b[2J\ufffdy\u240d\u240az');
  });

  it('throttles per rule and key, and runs commands', async () => {
    let now = 0;
    const out = path.join(tmp, 'exec.txt');
    const a = new Alerter([parseAlertRule('o', `outbound exec='cat >> ${out}' throttle=1h`)], {
      smtpHost: '127.0.0.1',
      smtpPort: 1,
      from: 'x@y',
      clock: { now: () => now },
    });
    a.firewall('OUTBOUND TCP: ', 'line1', '10.0.0.20');
    a.firewall('OUTBOUND TCP: ', 'line2', '10.0.0.20');
    a.firewall('OUTBOUND TCP: ', 'line3', '10.0.0.21');
    a.firewall('INBOUND TCP: ', 'line4', '10.0.0.1');
    now += 3_600_001;
    a.firewall('OUTBOUND TCP: ', 'line5', '10.0.0.20');
    await a.flush();
    a.close();
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('line1');
    expect(text).not.toContain('line2');
    expect(text).toContain('line3');
    expect(text).not.toContain('line4');
    expect(text).toContain('line5\n(1 more like this were throttled');
    expect(a.counters).toMatchObject({ matched: 4, throttled: 1, execs: 3 });
  });

  it('mails through SMTP (local sink)', async () => {
    const { SMTPServer } = await import('smtp-server');
    const got: string[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _s, cb) {
        let d = '';
        stream.on('data', (c: Buffer) => (d += c.toString()));
        stream.on('end', () => {
          got.push(d);
          cb();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.server.address() as { port: number }).port;
    const a = new Alerter([parseAlertRule('ids', 'ids classtype=attempted-admin mail=ops@example.test')], {
      smtpHost: '127.0.0.1',
      smtpPort: port,
      from: 'hw@example.test',
    });
    const e = { gid: 1, sid: 5, msg: 'Bad thing', classtype: 'attempted-admin', action: 'drop', blocked: true } as AlertEvent;
    a.ids(e, 'the fast line');
    a.ids({ ...e, classtype: 'misc' }, 'not mailed');
    await a.flush();
    a.close();
    await new Promise<void>((r) => server.close(() => r()));
    expect(a.counters.mailsSent).toBe(1);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/Subject: Honeywall IDS: \[Drop\] Bad thing/);
    expect(got[0]).toContain('the fast line');
  });
});
