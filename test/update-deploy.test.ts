/** deploy/: the update's service and timer are valid units, and the service runs the command this package has. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/corpus.js';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('deploy: honeywall-update.service and .timer', () => {
  const service = readFileSync(path.join(repoRoot, 'deploy/honeywall-update.service'), 'utf8');
  const timer = readFileSync(path.join(repoRoot, 'deploy/honeywall-update.timer'), 'utf8');

  it('the service runs honeywall update once with the deployed config; the timer is daily, persistent, spread', () => {
    expect(service).toMatch(/^Type=oneshot$/m);
    expect(service).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/honeywall\/bin\/honeywall\.js update --config \/etc\/honeywall\/update\.conf$/m);
    expect(service).toMatch(/^ReadWritePaths=\/var\/lib\/honeywall \/var\/cache\/honeywall$/m);
    expect(timer).toMatch(/^OnCalendar=\*-\*-\* 03:00:00$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(timer).toMatch(/^RandomizedDelaySec=/m);
    expect(timer).toMatch(/^WantedBy=timers\.target$/m);
  });

  it.skipIf(!have('systemd-analyze'))('systemd-analyze verify accepts both', () => {
    execFileSync(
      'systemd-analyze',
      ['verify', path.join(repoRoot, 'deploy/honeywall-update.service'), path.join(repoRoot, 'deploy/honeywall-update.timer')],
      {
        stdio: 'pipe',
      },
    );
  });
});
