/*
 * The capture reader's fast path for classic pcap records, and the shard of each frame (src/packet/pcap.ts
 * CaptureParser.walkPcap, src/flow/shard.ts frameShard). A sharded replay has every shard read the whole capture and
 * skip the frames of the others; walking the records and hashing their address pairs one call per chunk, instead
 * of per record in JavaScript, is what this file is for (speed only: the JavaScript reader stays the one that reads
 * every format and reports every problem; this walk stops at the first record it would have to report on, and
 * test/capture-walk.test.ts holds both to the same records and shards).
 *
 *   captureWalk(buf: Uint8Array, pos, flags, maxRecord, linktype, shards, out: Int32Array) -> count
 *       Walks classic pcap records from buf[pos]: flags bit 0 little-endian, bit 1 nanosecond timestamps. For each
 *       record whose header and bytes are whole in buf, whose captured length is at most maxRecord and whose
 *       fraction of a second is under one second, writes 6 numbers to out: the frame's start in buf, its length,
 *       the seconds (an unsigned 32-bit value in an int32), the microseconds, the length on the wire (unsigned, as
 *       the seconds) and frameShard(linktype, frame, shards). Stops at the first other record, at the end of buf or
 *       when out is full; returns the number of records written.
 */
#include <node_api.h>
#include <stdint.h>

#include "honeywall_capture.h"

#define LINKTYPE_ETHERNET 1
#define LINKTYPE_RAW 101
#define LINKTYPE_RAW_BSD12 12
#define LINKTYPE_RAW_BSD14 14

#define SHARD_UNKNOWN (-1)
#define SHARD_NO_IP (-2)
#define KIND_TCP 0
#define KIND_UDP 1
#define KIND_ICMP 2
#define KIND_IP 3

static uint32_t fnv(const uint8_t *b, int start, int end) {
  uint32_t h = 0x811c9dc5u;
  for (int i = start; i < end; i++) h = (h ^ b[i]) * 0x01000193u;
  return h;
}

static int mix(uint32_t a, uint32_t b, int shards) {
  uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
  uint32_t h = (lo * 0x9e3779b1u) ^ hi;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return (int)(h % (uint32_t)shards);
}

static int icmp4_long(uint8_t t) { return t == 0 || t == 8 || (t >= 13 && t <= 18) || (t >= 3 && t <= 5) || t == 11 || t == 12; }
static int icmp6_long(uint8_t t) { return t == 128 || t == 129 || (t >= 1 && t <= 4); }

static int transport(const uint8_t *b, int proto, int off, int end) {
  int avail = end - off;
  switch (proto) {
  case 6: {
    if (avail < 20) return KIND_IP;
    int hlen = (b[off + 12] >> 4) << 2;
    return hlen < 20 || hlen > avail ? KIND_IP : KIND_TCP;
  }
  case 17: {
    if (avail < 8) return KIND_IP;
    int ulen = (b[off + 4] << 8) | b[off + 5];
    return ulen < 8 || ulen > avail ? KIND_IP : KIND_UDP;
  }
  case 1:
    if (avail < 4) return KIND_IP;
    return avail < 8 && icmp4_long(b[off]) ? KIND_IP : KIND_ICMP;
  case 58:
    if (avail < 4) return KIND_IP;
    return avail < 8 && icmp6_long(b[off]) ? KIND_IP : KIND_ICMP;
  default:
    return KIND_IP;
  }
}

static int ip4(const uint8_t *b, int off, int end, int shards) {
  int avail = end - off;
  if (avail < 20 || b[off] >> 4 != 4) return SHARD_NO_IP;
  int hlen = (b[off] & 0x0f) << 2;
  int tot = (b[off + 2] << 8) | b[off + 3];
  if (hlen < 20 || tot < hlen || tot > avail) return SHARD_NO_IP;
  int proto = b[off + 9];
  if (proto == 4 || proto == 41 || proto == 47) return SHARD_UNKNOWN;
  int shard = shards <= 1 ? 0 : mix(fnv(b, off + 12, off + 16), fnv(b, off + 16, off + 20), shards);
  int frag = ((b[off + 6] << 8) | b[off + 7]) & 0x3fff;
  if (frag == 0) return shard * 4 + transport(b, proto, off + hlen, off + tot);
  return shard * 4 + ((frag & 0x1fff) == 0 && proto == 17 && tot - hlen >= 8 ? KIND_UDP : KIND_IP);
}

static int ip6(const uint8_t *b, int off, int end, int shards) {
  int avail = end - off;
  if (avail < 40 || b[off] >> 4 != 6) return SHARD_NO_IP;
  int plen = (b[off + 4] << 8) | b[off + 5];
  if (40 + plen > avail) return SHARD_NO_IP;
  int nh = b[off + 6];
  if (nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135 || nh == 4 || nh == 41 || nh == 47) return SHARD_UNKNOWN;
  int shard = shards <= 1 ? 0 : mix(fnv(b, off + 8, off + 24), fnv(b, off + 24, off + 40), shards);
  return shard * 4 + (nh == 59 || nh == 50 ? KIND_IP : transport(b, nh, off + 40, off + 40 + plen));
}

int honeywall_frame_shard(int linktype, const uint8_t *b, int end, int shards) {
  switch (linktype) {
  case LINKTYPE_ETHERNET: {
    if (end < 14) return SHARD_NO_IP;
    int off = 12;
    for (int tags = 0;; tags++) {
      int t = (b[off] << 8) | b[off + 1];
      off += 2;
      if (t == 0x0800) return ip4(b, off, end, shards);
      if (t == 0x86dd) return ip6(b, off, end, shards);
      if (t != 0x8100 && t != 0x88a8 && t != 0x9100) return t == 0x8847 || t == 0x8848 || t == 0x8864 ? SHARD_UNKNOWN : SHARD_NO_IP;
      if (tags == 2) return SHARD_UNKNOWN;
      if (end - off < 4) return SHARD_NO_IP;
      off += 2;
    }
  }
  case -1:
  case LINKTYPE_RAW:
  case LINKTYPE_RAW_BSD12:
  case LINKTYPE_RAW_BSD14: {
    if (end < 1) return SHARD_NO_IP;
    int v = b[0] >> 4;
    return v == 4 ? ip4(b, 0, end, shards) : v == 6 ? ip6(b, 0, end, shards) : SHARD_NO_IP;
  }
  default:
    return SHARD_UNKNOWN;
  }
}

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
    napi_throw_type_error(env, NULL, "captureWalk(buf, pos, flags, maxRecord, linktype, shards, out)");
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
  uint32_t pos, flags, max_record, shards;
  int32_t linktype;
  CHECK_OR_THROW(napi_get_value_uint32(env, argv[1], &pos), "captureWalk: pos");
  CHECK_OR_THROW(napi_get_value_uint32(env, argv[2], &flags), "captureWalk: flags");
  CHECK_OR_THROW(napi_get_value_uint32(env, argv[3], &max_record), "captureWalk: maxRecord");
  CHECK_OR_THROW(napi_get_value_int32(env, argv[4], &linktype), "captureWalk: linktype");
  CHECK_OR_THROW(napi_get_value_uint32(env, argv[5], &shards), "captureWalk: shards");
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
    o[5] = honeywall_frame_shard(linktype, h + 16, (int)incl, shards == 0 ? 1 : (int)shards);
    p += 16 + incl;
  }
  napi_value r;
  napi_create_uint32(env, (uint32_t)n, &r);
  return r;
}
