/* honeywall_shard.c: which shard of a sharded replay inspects a frame (a plan of address pairs, balanced by bytes). */
#ifndef HONEYWALL_SHARD_H
#define HONEYWALL_SHARD_H
#include <stdint.h>

#define HW_MAX_SHARDS 256
/* a frame without an IP layer (shard 0 inspects it) */
#define HW_SHARD_NO_IP (-2)

typedef struct hw_shard_plan hw_shard_plan;

hw_shard_plan *hw_shard_plan_new(int32_t shards, uint32_t max_pairs);
void hw_shard_plan_free(hw_shard_plan *p);
/* the frame's shard * 4 + its flow kind (0 tcp, 1 udp, 2 icmp, 3 ip), or HW_SHARD_NO_IP; frames in capture order */
int32_t hw_shard_plan_frame(hw_shard_plan *p, int linktype, const uint8_t *b, int32_t len);
/* [pairs held, frames placed by hash past max_pairs, bytes per shard...] */
void hw_shard_plan_stats(const hw_shard_plan *p, double *out);
#ifndef HW_NO_NAPI
#include <node_api.h>
/* the plan a JavaScript value holds (NULL with an exception) */
hw_shard_plan *hw_shard_plan_of(napi_env env, napi_value v);
napi_value honeywall_shard_plan_open_js(napi_env env, napi_callback_info info);
napi_value honeywall_shard_plan_frame_js(napi_env env, napi_callback_info info);
napi_value honeywall_shard_plan_stats_js(napi_env env, napi_callback_info info);
#endif
#endif
