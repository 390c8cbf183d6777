/*
 * honeywall_shard.c: which shard of a sharded replay inspects a frame (src/match/replay-shard.ts). Every shard reads
 * the whole capture and asks the same plan about every frame in capture order, so every shard gets the same answers
 * without talking to the others; a frame whose shard is another's only moves the clock of its kind's flows.
 *
 * A flow, its replies and the fragments of its datagrams must stay on one shard: the plan assigns address pairs
 * (either order), not flows. Hashing the pair alone leaves the balance to luck, and a capture where a few host pairs
 * carry most of the bytes (an intruder and a honeypot) then loads one shard more than the other: the bench capture's
 * heaviest pair carries 44% of its payload and a hash put 55% of its instances on one shard, which kept the other
 * idle for the last 15% of the replay. So the plan gives a pair seen for the first time to the shard that has been
 * given the fewest frame bytes so far (the lowest numbered on a tie), and keeps the pair there. Bytes, not time:
 * the answer depends on the capture alone. The plan holds at most `max_pairs` pairs; past that a new pair is placed
 * by its hash (counted in the stats), so memory stays bounded whatever the capture.
 *
 * The shard's kind (tcp, udp, icmp, ip: which flows the frame's clock moves) and the pair are read from the headers
 * for Ethernet (two VLAN tags at most) and bare IP, as the decoder reads them; every other frame (tunnels, IPv6
 * extension headers, MPLS, PPPoE, other link types) is decoded (honeywall_decode.c) for its innermost IP layer.
 * test/flow-shard.test.ts holds the answers to the decoder's.
 *
 *   shardPlanOpen(shards, maxPairs) -> plan
 *   shardPlanFrame(plan, linktype, frame: Uint8Array) -> shard * 4 + kind, or -2 (no IP layer: shard 0's)
 *   shardPlanStats(plan) -> Float64Array [pairs held, frames placed by hash past max_pairs, bytes per shard...]
 */
#include <stdlib.h>
#include <string.h>

#include "honeywall_decode.h"
#include "honeywall_shard.h"

#define LINKTYPE_ETHERNET 1
#define LINKTYPE_RAW 101
#define LINKTYPE_RAW_BSD12 12
#define LINKTYPE_RAW_BSD14 14

#define KIND_TCP 0
#define KIND_UDP 1
#define KIND_ICMP 2
#define KIND_IP 3
/* the header walk cannot tell: decode the frame */
#define DECODE (-1)

typedef struct {
  /* the pair in canonical order (the lower address first), its length (4 or 16; 0: an empty slot) and its shard */
  uint8_t a[16], b[16];
  int32_t len, shard;
} pair_entry;

struct hw_shard_plan {
  int32_t shards;
  uint32_t max_pairs, count, cap;
  pair_entry *table;
  double bytes[HW_MAX_SHARDS];
  double overflow;
  /* the table could not grow: from then on every new pair is placed by its hash (as past max_pairs) */
  int full;
  hw_packet packet;
};

static uint32_t fnv(const uint8_t *b, int32_t n) {
  uint32_t h = 0x811c9dc5u;
  for (int32_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x01000193u;
  return h;
}

/* the pair's hash, the same either way round */
static uint32_t mix(uint32_t a, uint32_t b) {
  uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
  uint32_t h = (lo * 0x9e3779b1u) ^ hi;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

static int icmp4_long(uint8_t t) { return t == 0 || t == 8 || (t >= 13 && t <= 18) || (t >= 3 && t <= 5) || t == 11 || t == 12; }
static int icmp6_long(uint8_t t) { return t == 128 || t == 129 || (t >= 1 && t <= 4); }

/* the kind decode.ts gives a transport header that starts at off (what it holds decides whether it decodes) */
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

/* An IPv4 header at off: its kind and where its addresses are, HW_SHARD_NO_IP, or DECODE (a tunnel). */
static int ip4(const uint8_t *b, int off, int end, int *at) {
  int avail = end - off;
  if (avail < 20 || b[off] >> 4 != 4) return HW_SHARD_NO_IP;
  int hlen = (b[off] & 0x0f) << 2;
  int tot = (b[off + 2] << 8) | b[off + 3];
  if (hlen < 20 || tot < hlen || tot > avail) return HW_SHARD_NO_IP;
  int proto = b[off + 9];
  if (proto == 4 || proto == 41 || proto == 47) return DECODE;
  *at = off + 12;
  int frag = ((b[off + 6] << 8) | b[off + 7]) & 0x3fff;
  if (frag == 0) return transport(b, proto, off + hlen, off + tot);
  // a fragment is IP, but for the first fragment of a UDP datagram with room for the header (decode.c DecodeIP)
  return (frag & 0x1fff) == 0 && proto == 17 && tot - hlen >= 8 ? KIND_UDP : KIND_IP;
}

static int ip6(const uint8_t *b, int off, int end, int *at) {
  int avail = end - off;
  if (avail < 40 || b[off] >> 4 != 6) return HW_SHARD_NO_IP;
  int plen = (b[off + 4] << 8) | b[off + 5];
  if (40 + plen > avail) return HW_SHARD_NO_IP;
  int nh = b[off + 6];
  if (nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135 || nh == 4 || nh == 41 || nh == 47) return DECODE;
  *at = off + 8;
  return nh == 59 || nh == 50 ? KIND_IP : transport(b, nh, off + 40, off + 40 + plen);
}

/* The frame's kind and its innermost addresses (at: their offset, *n their length), or HW_SHARD_NO_IP, or DECODE. */
static int headers(int linktype, const uint8_t *b, int end, int *at, int *n) {
  switch (linktype) {
  case LINKTYPE_ETHERNET: {
    if (end < 14) return HW_SHARD_NO_IP;
    int off = 12;
    // at most two VLAN tags read here; more are left to the decoder
    for (int tags = 0;; tags++) {
      int t = (b[off] << 8) | b[off + 1];
      off += 2;
      if (t == 0x0800) return *n = 4, ip4(b, off, end, at);
      if (t == 0x86dd) return *n = 16, ip6(b, off, end, at);
      if (t != 0x8100 && t != 0x88a8 && t != 0x9100) return t == 0x8847 || t == 0x8848 || t == 0x8864 ? DECODE : HW_SHARD_NO_IP;
      if (tags == 2) return DECODE;
      if (end - off < 4) return HW_SHARD_NO_IP;
      off += 2;
    }
  }
  case -1:
  case LINKTYPE_RAW:
  case LINKTYPE_RAW_BSD12:
  case LINKTYPE_RAW_BSD14: {
    if (end < 1) return HW_SHARD_NO_IP;
    int v = b[0] >> 4;
    return v == 4 ? (*n = 4, ip4(b, 0, end, at)) : v == 6 ? (*n = 16, ip6(b, 0, end, at)) : HW_SHARD_NO_IP;
  }
  default:
    return DECODE;
  }
}

hw_shard_plan *hw_shard_plan_new(int32_t shards, uint32_t max_pairs) {
  hw_shard_plan *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->shards = shards < 1 ? 1 : shards > HW_MAX_SHARDS ? HW_MAX_SHARDS : shards;
  p->max_pairs = max_pairs;
  return p;
}

void hw_shard_plan_free(hw_shard_plan *p) {
  if (p == NULL) return;
  free(p->table);
  free(p);
}

static int grow(hw_shard_plan *p) {
  uint32_t cap = p->cap ? p->cap * 2 : 1024;
  pair_entry *t = calloc(cap, sizeof *t);
  if (t == NULL) return 0;
  for (uint32_t i = 0; i < p->cap; i++) {
    pair_entry *e = &p->table[i];
    if (e->len == 0) continue;
    uint32_t k = mix(fnv(e->a, e->len), fnv(e->b, e->len)) & (cap - 1);
    while (t[k].len != 0) k = (k + 1) & (cap - 1);
    t[k] = *e;
  }
  free(p->table);
  p->table = t;
  p->cap = cap;
  return 1;
}

/* The shard of the pair src/dst (n bytes each): the plan's, or a new one's. */
static int32_t shard_of_pair(hw_shard_plan *p, const uint8_t *src, const uint8_t *dst, int32_t n) {
  if (p->shards == 1) return 0;
  int c = memcmp(src, dst, (size_t)n);
  const uint8_t *a = c <= 0 ? src : dst, *b = c <= 0 ? dst : src;
  uint32_t h = mix(fnv(src, n), fnv(dst, n));
  if (p->cap > 0)
    for (uint32_t k = h & (p->cap - 1);; k = (k + 1) & (p->cap - 1)) {
      pair_entry *e = &p->table[k];
      if (e->len == 0) break;
      if (e->len == n && memcmp(e->a, a, (size_t)n) == 0 && memcmp(e->b, b, (size_t)n) == 0) return e->shard;
    }
  if (!p->full && p->count < p->max_pairs && p->count + 1 > p->cap / 2 && !grow(p)) p->full = 1;
  if (p->full || p->count >= p->max_pairs) {
    p->overflow++;
    return (int32_t)(h % (uint32_t)p->shards);
  }
  int32_t best = 0;
  for (int32_t s = 1; s < p->shards; s++)
    if (p->bytes[s] < p->bytes[best]) best = s;
  uint32_t k = h & (p->cap - 1);
  while (p->table[k].len != 0) k = (k + 1) & (p->cap - 1);
  pair_entry *e = &p->table[k];
  memcpy(e->a, a, (size_t)n);
  memcpy(e->b, b, (size_t)n);
  e->len = n;
  e->shard = best;
  p->count++;
  return best;
}

int32_t hw_shard_plan_frame(hw_shard_plan *p, int linktype, const uint8_t *b, int32_t len) {
  int at = 0, n = 0;
  int kind = headers(linktype, b, len, &at, &n);
  const uint8_t *src;
  if (kind == HW_SHARD_NO_IP) return HW_SHARD_NO_IP;
  if (kind == DECODE) {
    hw_decode_options o = {0, 8, 0};
    hw_packet *pk = &p->packet;
    hw_decode(pk, linktype, b, len, &o);
    if (pk->n_ip == 0) return HW_SHARD_NO_IP;
    const hw_ip *ip = &pk->ip[pk->n_ip - 1];
    n = ip->version == 4 ? 4 : 16;
    src = b + ip->offset + (ip->version == 4 ? 12 : 8);
    kind = pk->has_tcp ? KIND_TCP : pk->has_udp ? KIND_UDP : pk->has_icmp || pk->has_icmp6 ? KIND_ICMP : KIND_IP;
  } else
    src = b + at;
  int32_t shard = shard_of_pair(p, src, src + n, n);
  p->bytes[shard] += len;
  return shard * 4 + kind;
}

void hw_shard_plan_stats(const hw_shard_plan *p, double *out) {
  out[0] = p->count;
  out[1] = p->overflow;
  for (int32_t s = 0; s < p->shards; s++) out[2 + s] = p->bytes[s];
}

#ifndef HW_NO_NAPI
/* ------------------------------------------------------------------------------------------ N-API */

static void plan_finalize(napi_env env, void *data, void *hint) { hw_shard_plan_free(data); }

hw_shard_plan *hw_shard_plan_of(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a shard plan");
    return NULL;
  }
  return p;
}

napi_value honeywall_shard_plan_open_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t shards;
  uint32_t max_pairs;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &shards) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &max_pairs) != napi_ok || shards < 1 || shards > HW_MAX_SHARDS) {
    napi_throw_type_error(env, NULL, "shardPlanOpen(shards: 1..256, maxPairs)");
    return NULL;
  }
  hw_shard_plan *p = hw_shard_plan_new(shards, max_pairs);
  if (p == NULL) {
    napi_throw_error(env, NULL, "shardPlanOpen: out of memory");
    return NULL;
  }
  napi_value out;
  napi_create_external(env, p, plan_finalize, NULL, &out);
  return out;
}

napi_value honeywall_shard_plan_frame_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  hw_shard_plan *p;
  int32_t linktype;
  napi_typedarray_type ty;
  size_t len, off;
  uint8_t *b;
  napi_value ab;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || (p = hw_shard_plan_of(env, argv[0])) == NULL ||
      napi_get_value_int32(env, argv[1], &linktype) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &ty, &len, (void **)&b, &ab, &off) != napi_ok || ty != napi_uint8_array || len > INT32_MAX / 2) {
    napi_throw_type_error(env, NULL, "shardPlanFrame(plan, linktype, frame: Uint8Array)");
    return NULL;
  }
  napi_value out;
  napi_create_int32(env, hw_shard_plan_frame(p, linktype, b, (int32_t)len), &out);
  return out;
}

napi_value honeywall_shard_plan_stats_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  hw_shard_plan *p;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || (p = hw_shard_plan_of(env, argv[0])) == NULL) {
    napi_throw_type_error(env, NULL, "shardPlanStats(plan)");
    return NULL;
  }
  size_t n = 2 + (size_t)p->shards;
  napi_value ab, out;
  void *data;
  napi_create_arraybuffer(env, n * sizeof(double), &data, &ab);
  hw_shard_plan_stats(p, data);
  napi_create_typedarray(env, napi_float64_array, n, ab, 0, &out);
  return out;
}
#endif /* HW_NO_NAPI */
