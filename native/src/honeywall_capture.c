/*
 * The capture reader's fast path for classic pcap records, and the shard of each frame (src/packet/pcap.ts
 * CaptureParser.walkPcap, honeywall_shard.c). A sharded replay has every shard read the whole capture and skip the
 * frames of the others; walking the records and asking the shard plan about them one call per chunk, instead of per
 * record in JavaScript, is what this file is for (speed only: the JavaScript reader stays the one that reads
 * every format and reports every problem; this walk stops at the first record it would have to report on, and
 * test/capture-walk.test.ts holds both to the same records and shards).
 *
 *   captureWalk(buf: Uint8Array, pos, flags, maxRecord, linktype, plan, out: Int32Array) -> count
 *       Walks classic pcap records from buf[pos]: flags bit 0 little-endian, bit 1 nanosecond timestamps. For each
 *       record whose header and bytes are whole in buf, whose captured length is at most maxRecord and whose
 *       fraction of a second is under one second, writes 6 numbers to out: the frame's start in buf, its length,
 *       the seconds (an unsigned 32-bit value in an int32), the microseconds, the length on the wire (unsigned, as
 *       the seconds) and the plan's answer for the frame (shardPlanFrame). Stops at the first other record, at the end of buf or
 *       when out is full; returns the number of records written.
 */
#include <node_api.h>
#include <stdint.h>

#include "honeywall_capture.h"
#include "honeywall_shard.h"

static uint32_t rd32(const uint8_t *p, int little) {
  return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
                : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

#define CHECK_OR_THROW(call, msg)                                                                                      \
  do {                                                                                                                 \
    if ((call) != napi_ok) {                                                                                           \
      napi_throw_type_error(env, NULL, msg);                                                                           \
      return NULL;                                                                                                     \
    }                                                                                                                  \
  } while (0)

napi_value honeywall_capture_walk_js(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    napi_throw_type_error(env, NULL, "captureWalk(buf, pos, flags, maxRecord, linktype, plan, out)");
    return NULL;
  }
  napi_typedarray_type t;
  size_t len, out_len, off;
  uint8_t *buf;
  int32_t *out;
  napi_value ab;
  CHECK_OR_THROW(napi_get_typedarray_info(env, argv[0], &t, &len, (void **)&buf, &ab, &off), "captureWalk: buf must be a Uint8Array");
  if (t != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "captureWalk: buf must be a Uint8Array");
    return NULL;
  }
  CHECK_OR_THROW(napi_get_typedarray_info(env, argv[6], &t, &out_len, (void **)&out, &ab, &off), "captureWalk: out must be an Int32Array");
  if (t != napi_int32_array) {
    napi_throw_type_error(env, NULL, "captureWalk: out must be an Int32Array");
    return NULL;
  }
  uint32_t pos, flags, max_record;
  int32_t linktype;
  CHECK_OR_THROW(napi_get_value_uint32(env, argv[1], &pos), "captureWalk: pos");
  CHECK_OR_THROW(napi_get_value_uint32(env, argv[2], &flags), "captureWalk: flags");
  CHECK_OR_THROW(napi_get_value_uint32(env, argv[3], &max_record), "captureWalk: maxRecord");
  CHECK_OR_THROW(napi_get_value_int32(env, argv[4], &linktype), "captureWalk: linktype");
  hw_shard_plan *plan = hw_shard_plan_of(env, argv[5]);
  if (plan == NULL) return NULL;
  int little = flags & 1, nano = (flags >> 1) & 1;
  size_t cap = out_len / 6, n = 0, p = pos;
  /* (frame offsets go out as int32: a buffer past 2 GiB is walked by the JavaScript reader alone) */
  if (len > INT32_MAX || max_record > INT32_MAX) cap = 0;
  while (n < cap && p <= len && len - p >= 16) {
    const uint8_t *h = buf + p;
    uint32_t sec = rd32(h, little), frac = rd32(h + 4, little), incl = rd32(h + 8, little), orig = rd32(h + 12, little);
    uint32_t usec = nano ? frac / 1000 : frac;
    if (incl > max_record || usec >= 1000000 || len - p - 16 < incl) break;
    int32_t *o = out + 6 * n++;
    o[0] = (int32_t)(p + 16);
    o[1] = (int32_t)incl;
    o[2] = (int32_t)sec;
    o[3] = (int32_t)usec;
    o[4] = (int32_t)orig;
    o[5] = hw_shard_plan_frame(plan, linktype, h + 16, (int32_t)incl);
    p += 16 + incl;
  }
  napi_value r;
  napi_create_uint32(env, (uint32_t)n, &r);
  return r;
}
