/* honeywall_front.c: the native front as the replay uses it (decode, defragmentation, flows, reassembly, records). */
#ifndef HONEYWALL_FRONT_H
#define HONEYWALL_FRONT_H
#include <stddef.h>
#include <stdint.h>

#include "honeywall_decode.h"
#include "honeywall_defrag.h"
#include "honeywall_flow.h"

typedef struct hw_front hw_front;

/* A front over `table` (its own from then on, freed with it, also when this fails: NULL), its record and arena arrays
 * first made for `records` values and `bytes` bytes (they grow). */
hw_front *hw_front_new(hw_flow_table *table, const hw_defrag_config *dcfg, hw_decode_options dec, hw_decode_options defrag_dec, size_t records,
                       size_t bytes);
void hw_front_free(hw_front *f);
/* PacketPipeline.push, .advance and .finish: each call's records replace the last's; -1 when memory ran out */
int hw_front_push(hw_front *f, int linktype, const uint8_t *b, int32_t len, double ts_sec, double ts_usec, double index);
int hw_front_advance(hw_front *f, int kind, double ts_sec, double ts_usec);
int hw_front_finish(hw_front *f);
/* the records captureWalk found in buf (`walked`, n of them), as shard `shard` sees them (frontPushWalked) */
int hw_front_push_walked(hw_front *f, const uint8_t *buf, size_t len, const int32_t *walked, int32_t n, int32_t shard, int linktype, double first);

#ifndef HW_NO_NAPI
#include <node_api.h>
napi_value honeywall_front_open_js(napi_env env, napi_callback_info info);
napi_value honeywall_front_push_js(napi_env env, napi_callback_info info);
napi_value honeywall_front_advance_js(napi_env env, napi_callback_info info);
napi_value honeywall_front_push_walked_js(napi_env env, napi_callback_info info);
napi_value honeywall_front_finish_js(napi_env env, napi_callback_info info);
napi_value honeywall_front_views_js(napi_env env, napi_callback_info info);
napi_value honeywall_front_stats_js(napi_env env, napi_callback_info info);
#endif
#endif
