/** Interface names by index, read from sysfs (per network namespace under `ip netns exec`), cached. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export class InterfaceNames {
  private byIndex = new Map<number, string>();

  constructor(private readonly sysNet = '/sys/class/net') {}

  name(index: number): string {
    if (index === 0) return '';
    let n = this.byIndex.get(index);
    if (n === undefined) {
      this.refresh();
      n = this.byIndex.get(index) ?? `if${index}`;
      this.byIndex.set(index, n);
    }
    return n;
  }

  refresh(): void {
    try {
      for (const name of readdirSync(this.sysNet)) {
        try {
          this.byIndex.set(Number(readFileSync(path.join(this.sysNet, name, 'ifindex'), 'utf8').trim()), name);
        } catch {
          /* vanished meanwhile */
        }
      }
    } catch {
      /* no sysfs */
    }
  }
}
