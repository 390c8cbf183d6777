/* honeywall_capture.c: the capture reader's fast path for classic pcap records, and frames' shards. */
#ifndef HONEYWALL_CAPTURE_H
#define HONEYWALL_CAPTURE_H
#include <node_api.h>
#include <stdint.h>

napi_value honeywall_capture_walk_js(napi_env env, napi_callback_info info);
#endif
