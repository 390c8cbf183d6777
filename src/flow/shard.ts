/**
 * Which shard of a sharded replay inspects a frame: the addon's shard plan (native/src/honeywall_shard.c). A flow,
 * its replies and its fragments share an address pair, so the plan places pairs: a pair seen for the first time goes
 * to the shard given the fewest frame bytes so far, and stays there (every shard reads the whole capture and asks its
 * own plan about every frame in capture order, so all get the same answers). test/flow-shard.test.ts holds it to the
 * decoder and to these laws.
 */
import { loadEngine, type NativeHandle } from '../native/engine.js';
import type { FlowKind } from './flow.js';

/** The flow kinds in the order of the plan's answers (shard * 4 + kind) and of the native flow table's. */
export const SHARD_KINDS: readonly FlowKind[] = ['tcp', 'udp', 'icmp', 'ip'];
/** The plan's answer for a frame without an IP layer: shard 0 inspects it. */
export const SHARD_NO_IP = -2;
/**
 * The address pairs a plan keeps (about 10 MiB with its table at its largest): a pair first seen past them is placed
 * by its hash, counted (ShardPlan.stats) and told to the user; the answers stay the same in every shard either way.
 */
export const SHARD_PLAN_PAIRS = 131_072;

/** One shard's plan, for one capture. */
export class ShardPlan {
  readonly handle: NativeHandle;
  private readonly engine = loadEngine();

  constructor(shards: number, maxPairs = SHARD_PLAN_PAIRS) {
    this.handle = this.engine.shardPlanOpen(shards, maxPairs);
  }

  /** The next frame's answer: shard * 4 + its kind (SHARD_KINDS), or SHARD_NO_IP. */
  frame(linktype: number, bytes: Uint8Array): number {
    return this.engine.shardPlanFrame(this.handle, linktype, bytes);
  }

  /** Pairs held, frames placed by hash past the plan's pairs, and the frame bytes given to each shard. */
  get stats(): { pairs: number; hashed: number; bytes: number[] } {
    const s = this.engine.shardPlanStats(this.handle);
    return { pairs: s[0]!, hashed: s[1]!, bytes: Array.from(s.subarray(2)) };
  }
}
