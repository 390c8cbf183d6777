/*
 * honeywall_defrag.c: src/packet/defrag.ts (Snort 2.9.20's frag3) in C for the native front: fragment lists with the
 * seven overlap policies, frag3's completion test and rebuild, timeouts, tracker limit and memcaps.
 * test/native-defrag.test.ts holds it to Defragmenter.
 */
#ifndef HONEYWALL_DEFRAG_H
#define HONEYWALL_DEFRAG_H
#ifndef HW_NO_NAPI
#include <node_api.h>
#endif
#include <stdint.h>

#include "honeywall_decode.h"

enum hw_overlap_policy { HW_FIRST, HW_LAST, HW_BSD, HW_BSD_RIGHT, HW_LINUX, HW_WINDOWS, HW_SOLARIS };

typedef struct {
  double timeout;
  int64_t memcap, datagram_memcap;
  int32_t max_trackers, policy, overlap_limit, detect_anomalies, min_ttl, hole_fill;
} hw_defrag_config;

typedef struct {
  double fragments, reassembled, timeouts, evicted, datagram_memcap, overlaps, bad;
} hw_defrag_stats;

typedef struct hw_defrag hw_defrag;

hw_defrag *hw_defrag_new(const hw_defrag_config *cfg);
void hw_defrag_free(hw_defrag *d);
const hw_defrag_stats *hw_defrag_stats_of(const hw_defrag *d);
/* Defragmenter.add: the packet p (decoded from b) is a fragment; returns the rebuilt datagram (malloc'd, *len bytes)
 * when it completes one, else NULL. */
/* the serial of the tracker whose FragAlerts the last hw_defrag_add names (Defragmenter.lastAlerts; 0: none) */
double hw_defrag_last_serial(const hw_defrag *d);
/* the serials of the trackers the last hw_defrag_add dropped (completed, timed out, evicted, over a memcap) */
const double *hw_defrag_dropped(hw_defrag *d, int32_t *n);
int hw_defrag_oom(const hw_defrag *d);
/* Defragmenter.pending and .memory */
void hw_defrag_held(const hw_defrag *d, double *trackers, double *bytes);
uint8_t *hw_defrag_add(hw_defrag *d, const hw_packet *p, const uint8_t *b, double now, int32_t *len);

#ifndef HW_NO_NAPI
napi_value honeywall_defrag_run_js(napi_env env, napi_callback_info info);
#endif
#endif
