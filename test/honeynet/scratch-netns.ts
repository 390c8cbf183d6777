/** A throwaway, empty network namespace: a safe place for `iptables-restore --test` and similar. */
import { execFileSync } from 'node:child_process';

let n = 0;

export class ScratchNetns {
  private constructor(readonly name: string) {}

  /** Null when this machine cannot create one (not root, no iproute2). */
  static create(): ScratchNetns | null {
    const name = `hwt${process.pid.toString(36)}-scratch${n++}`;
    try {
      execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    } catch {
      return null;
    }
    const ns = new ScratchNetns(name);
    process.on('exit', () => ns.destroy());
    return ns;
  }

  destroy(): void {
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
}

/** Whether a command exists on PATH. */
export function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
