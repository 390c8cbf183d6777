/**
 * Snort 2.9.20's rate counters (sfutil/sfthd.c), shared by `threshold`, `event_filter` and `detection_filter`: one
 * node per (filter, tracked address) with a count and a window start, all in whole seconds (callers pass
 * `pkth->ts.tv_sec`: fpdetect.c fpLogEvent, detection_options.c for detection_filter). Each type keeps its own reset
 * rules (sfthd_test_non_suppress), and those are what decide which events of a burst are logged.
 */

export type RateType = 'limit' | 'threshold' | 'both' | 'detect';

export interface RateSpec {
  type: RateType;
  count: number;
  seconds: number;
}

/** THD_IP_NODE: count, prev (detect only), tstart, tlast. */
interface RateNode {
  count: number;
  prev: number;
  tstart: number;
  tlast: number;
}

export class RateCounters {
  private readonly nodes = new Map<string, RateNode>();

  /**
   * sfthd_test_local then sfthd_test_non_suppress for one event at `now` (whole seconds); true when it is logged.
   * `increment` false: the event is tested without being counted (detection_filter: only the first detection_filter
   * tested in one evaluation of a rule tree counts, eval_data->detection_filter_count).
   */
  test(key: string, spec: RateSpec, now: number, increment = true): boolean {
    let n = this.nodes.get(key);
    if (n === undefined) {
      // sfxhash_add of {count 0, prev 0, tstart = tlast = curtime}, then the same increment as a node found
      n = { count: 0, prev: 0, tstart: now, tlast: now };
      this.nodes.set(key, n);
    }
    if (increment) n.count++;
    // dt is unsigned in Snort: a time before the window start (not in a capture read in order) starts a new one
    const dt = now - n.tstart;
    const expired = dt < 0 || dt >= spec.seconds;
    switch (spec.type) {
      case 'detect':
        if (expired) {
          // the events just before the window ended still count against `count` when they were recent enough
          n.tstart = now;
          const sinceLast = now - n.tlast;
          n.prev = sinceLast < 0 || sinceLast > spec.seconds ? 0 : n.count - 1;
          n.count = 1;
        }
        n.tlast = now;
        return n.count > spec.count || n.prev > spec.count;
      case 'limit':
        if (expired) {
          n.tstart = now;
          n.count = 1;
        }
        return n.count <= spec.count;
      case 'threshold':
        if (expired) {
          n.tstart = now;
          n.count = 1;
        }
        if (n.count >= spec.count) {
          // logged: the next `count` events start a new window
          n.count = 0;
          n.tstart = now;
          return true;
        }
        return false;
      case 'both':
        if (expired) {
          // a new window never logs its first event, even with count 1
          n.tstart = now;
          n.count = 1;
          return false;
        }
        return n.count === spec.count;
    }
  }
}
