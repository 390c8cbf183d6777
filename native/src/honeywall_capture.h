/* honeywall_capture.c: the capture reader's fast path for classic pcap records, and frames' shards. */
#ifndef HONEYWALL_CAPTURE_H
#define HONEYWALL_CAPTURE_H
#include <node_api.h>
#include <stdint.h>

/* src/flow/shard.ts frameShard, over the `end` bytes at b. */
int honeywall_frame_shard(int linktype, const uint8_t *b, int end, int shards);
napi_value honeywall_capture_walk_js(napi_env env, napi_callback_info info);
#endif
