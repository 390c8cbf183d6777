/*
 * honeywall_stream.c: src/flow/reassembly.ts StreamBuffer in C, one direction of a TCP stream for the native front's
 * flow table: segments held as disjoint pieces sorted by offset, overlaps resolved at arrival by policy, in-order
 * bytes flushed. test/native-stream.test.ts holds it to StreamBuffer.
 */
#ifndef HONEYWALL_STREAM_H
#define HONEYWALL_STREAM_H
#ifndef HW_NO_NAPI
#include <node_api.h>
#endif
#include <stdint.h>

enum hw_stream_policy { HW_POLICY_BSD = 0, HW_POLICY_FIRST = 1, HW_POLICY_LAST = 2 };

typedef struct {
  /* offsets relative to base (sequence numbers are mod 2^32, offsets are not) */
  int64_t start, origin;
  int32_t len, meta;
  uint8_t *data;
} hw_piece;

typedef struct {
  int32_t policy, max_segs;
  int64_t max_bytes;
  /* sequence number of the first byte not flushed yet, -1 before the first data or SYN */
  int64_t base;
  hw_piece *segs;
  int32_t n_segs, cap_segs;
  /* contiguous() cached, -1 when stale */
  int64_t reach;
  int64_t queued_bytes;
  double overlaps, refused;
  int32_t oom;
} hw_stream;

void hw_stream_init_buffer(hw_stream *s, int policy, int64_t max_bytes, int32_t max_segs);
void hw_stream_release(hw_stream *s);
void hw_stream_init(hw_stream *s, uint32_t seq);
/* 1: held, 0: refused or nothing new */
int hw_stream_insert(hw_stream *s, uint32_t seq, const uint8_t *data, int32_t len, int32_t meta);
int64_t hw_stream_contiguous(hw_stream *s);
int32_t hw_stream_pieces_before(const hw_stream *s, int64_t off);
/* up to `limit` (-1: no limit) in-order bytes into a malloc'd *out (caller frees); returns their count, 0 for none */
int32_t hw_stream_flush(hw_stream *s, int64_t limit, uint32_t *seq, uint8_t **out);
/* the first n (<= contiguous) in-order bytes, copied into out */
void hw_stream_assemble(const hw_stream *s, int64_t from, int64_t to, uint8_t *out);

#ifndef HW_NO_NAPI
napi_value honeywall_stream_run_js(napi_env env, napi_callback_info info);
#endif
#endif
