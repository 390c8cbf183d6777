/*
 * src/packet/decode.ts in C (see honeywall_decode.h): the same layers, the same fields, the same first error and its
 * offset, the same checksum verdicts. Function for function a transcription of decode.ts, whose comments say which
 * Snort 2.9.20 behaviour each piece follows; what is said there is not repeated here.
 *
 *   decodeFrame(linktype, bytes: Uint8Array, flags, maxLayers) -> Int32Array
 *       flags: 1 verify checksums, 2 length from data (decodeIpPacket's lengthFromData; linktype -1 only). The
 *       packet as a record (test/native-decode.test.ts reads it): [error, errorOffset, badChecksum, payloadOffset,
 *       payloadLength, ethOffset, ethType, nVlans, nMpls, nIp, hasGre, hasTcp, hasUdp, hasIcmp, hasIcmp6, 0], then
 *       per VLAN tag [offset, tpid, tci], the MPLS labels, per IP layer (outermost first) [version, offset,
 *       headerLength, totalLength, ttl, tos, proto, id, rb, df, mf, fragOffset, isFragment, checksum, checksumOk,
 *       flowLabel, nextHeader, fragHeaderOffset, nExt, nOptions] then nExt [type, offset, length] and nOptions (when
 *       not -1) [type, length, offset], then GRE [offset, headerLength, flags, version, protocol], TCP [offset,
 *       headerLength, srcPort, dstPort, seq, ack, flags, reserved, window, checksum, urgentPointer, checksumOk], UDP
 *       [offset, srcPort, dstPort, length, checksum, checksumOk], ICMP and ICMPv6 [offset, type, code, checksum,
 *       checksumOk, id, seq, embeddedOffset] for those present. (For the test: the front hands JavaScript its own
 *       record.)
 */
#include <stdlib.h>
#include <string.h>

#include "honeywall_decode.h"

#define LT_NULL 0
#define LT_ETHERNET 1
#define LT_PPP 9
#define LT_RAW_BSD12 12
#define LT_RAW_BSD14 14
#define LT_RAW 101
#define LT_LOOP 108
#define LT_LINUX_SLL 113
#define LT_IPV4 228
#define LT_IPV6 229
#define LT_LINUX_SLL2 276

typedef struct {
  int verify, max_layers, layers, length_from_data;
} ctx;

static inline uint32_t u16(const uint8_t *b, int32_t o) { return (uint32_t)b[o] << 8 | b[o + 1]; }
static inline uint32_t u32(const uint8_t *b, int32_t o) {
  return (uint32_t)b[o] << 24 | (uint32_t)b[o + 1] << 16 | (uint32_t)b[o + 2] << 8 | b[o + 3];
}

static void fail(hw_packet *p, int kind, int32_t offset) {
  if (p->error == HW_ERR_NONE) {
    p->error = kind;
    p->error_offset = offset;
  }
}

/* ------------------------------------------------------------------------------------------ checksum.ts */

static uint64_t sum_words(const uint8_t *b, int32_t start, int32_t end, uint64_t acc) {
  int32_t i = start;
  int32_t even = end - ((end - start) & 1);
  for (; i < even; i += 2) acc += (uint32_t)b[i] << 8 | b[i + 1];
  if (even < end) acc += (uint32_t)b[even] << 8;
  return acc;
}

static uint32_t fold(uint64_t s) {
  while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
  return (uint32_t)s;
}

static uint64_t pseudo_header_sum(const uint8_t *b, const hw_ip *ip, int proto, int32_t length) {
  if (ip->version == 4) return sum_words(b, ip->offset + 12, ip->offset + 20, 0) + (uint64_t)proto + (uint64_t)length;
  return sum_words(b, ip->offset + 8, ip->offset + 40, 0) + ((uint32_t)length >> 16) + ((uint32_t)length & 0xffff) + (uint64_t)proto;
}

static int transport_checksum_ok(const uint8_t *b, const hw_ip *ip, int proto, int32_t offset, int32_t length) {
  uint64_t base = proto == 1 ? 0 : pseudo_header_sum(b, ip, proto, length);
  return fold(sum_words(b, offset, offset + length, base)) == 0xffff;
}

/* ------------------------------------------------------------------------------------------ layers */

static void decode_ip4(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c);
static void decode_ip6(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c);
static void decode_ethernet(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c);
static void decode_ppp(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c);

static void set_payload(hw_packet *p, int32_t start, int32_t end) {
  p->payload_offset = start;
  p->payload_length = end > start ? end - start : 0;
}

/* setIp: a new (inner) layer; the transport of the outer one is dropped. */
static hw_ip *push_ip(hw_packet *p) {
  if (p->n_ip > 0) p->has_tcp = p->has_udp = p->has_icmp = p->has_icmp6 = 0;
  hw_ip *ip = &p->ip[p->n_ip++];
  memset(ip, 0, sizeof *ip);
  ip->checksum_ok = -1;
  ip->frag_header_offset = -1;
  return ip;
}

/* parseIp4Options: -1 when malformed. */
static int32_t ip4_options(hw_ip *ip, const uint8_t *b, int32_t start, int32_t end) {
  int32_t n = 0, i = start;
  while (i < end) {
    int32_t type = b[i];
    if (type == 0 || type == 1) {
      /* (a 40-byte option area holds at most 40 options) */
      ip->options[n++] = (hw_opt){.type = type, .offset = i, .length = 1};
      if (type == 0) break;
      i++;
      continue;
    }
    if (i + 1 >= end) return -1;
    int32_t len = b[i + 1];
    if (len < 2 || i + len > end) return -1;
    ip->options[n++] = (hw_opt){.type = type, .offset = i, .length = len};
    i += len;
  }
  return n;
}

static int tcp_options_valid(const uint8_t *b, int32_t start, int32_t end) {
  int32_t i = start;
  while (i < end) {
    int kind = b[i];
    if (kind == 0) return 1;
    if (kind == 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) return 0;
    int32_t len = b[i + 1];
    if (len < 2 || i + len > end) return 0;
    i += len;
  }
  return 1;
}

static void decode_udp_fragment(hw_packet *p, const uint8_t *b, int32_t off, int32_t end) {
  if (end - off < 8) return;
  p->has_udp = 1;
  p->udp = (hw_udp){off, (int32_t)u16(b, off), (int32_t)u16(b, off + 2), end - off, (int32_t)u16(b, off + 6), -1};
  set_payload(p, off + 8, end);
}

static void decode_tcp(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, const hw_ip *ip, ctx *c) {
  int32_t avail = end - off;
  if (avail < 20) return fail(p, HW_ERR_TCP_TRUNCATED, off);
  int32_t hlen = (b[off + 12] >> 4) << 2;
  if (hlen < 20 || hlen > avail) return fail(p, HW_ERR_TCP_BAD_OFFSET, off);
  hw_tcp *t = &p->tcp;
  t->offset = off;
  t->header_length = hlen;
  t->src_port = (int32_t)u16(b, off);
  t->dst_port = (int32_t)u16(b, off + 2);
  t->seq = u32(b, off + 4);
  t->ack = u32(b, off + 8);
  t->reserved = b[off + 12] & 0x0f;
  t->flags = b[off + 13];
  t->window = (int32_t)u16(b, off + 14);
  t->checksum = (int32_t)u16(b, off + 16);
  t->urgent_pointer = (int32_t)u16(b, off + 18);
  t->checksum_ok = -1;
  if (hlen > 20 && !tcp_options_valid(b, off + 20, off + hlen)) fail(p, HW_ERR_TCP_BAD_OPTIONS, off + 20);
  if (c->verify) {
    t->checksum_ok = transport_checksum_ok(b, ip, 6, off, avail);
    if (!t->checksum_ok) p->bad_checksum = 1;
  }
  p->has_tcp = 1;
  set_payload(p, off + hlen, end);
}

static void decode_udp(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, const hw_ip *ip, ctx *c) {
  int32_t avail = end - off;
  if (avail < 8) return fail(p, HW_ERR_UDP_TRUNCATED, off);
  int32_t ulen = (int32_t)u16(b, off + 4);
  if (ulen < 8 || ulen > avail) return fail(p, HW_ERR_UDP_BAD_LENGTH, off);
  int32_t cs = (int32_t)u16(b, off + 6);
  p->udp = (hw_udp){off, (int32_t)u16(b, off), (int32_t)u16(b, off + 2), ulen, cs, -1};
  if (c->verify) {
    p->udp.checksum_ok = cs == 0 && ip->version == 4 ? 1 : cs != 0 && transport_checksum_ok(b, ip, 17, off, ulen);
    if (!p->udp.checksum_ok) p->bad_checksum = 1;
  }
  p->has_udp = 1;
  set_payload(p, off + 8, off + ulen);
}

static void icmp_header(hw_icmp *h, const uint8_t *b, int32_t off) {
  *h = (hw_icmp){off, b[off], b[off + 1], (int32_t)u16(b, off + 2), -1, -1, -1, -1};
}

/* ICMP and ICMPv6 (decode.ts decodeIcmp and decodeIcmp6): the types with an id and sequence, those carrying the
 * datagram in error, the checksum (ICMPv6's over IPv6 only), what is left the payload. */
static int icmp4_echo_like(int t) { return t == 0 || t == 8 || (t >= 13 && t <= 18); }
static int icmp4_error(int t) { return (t >= 3 && t <= 5) || t == 11 || t == 12; }
static int icmp6_echo_like(int t) { return t == 128 || t == 129; }
static int icmp6_error(int t) { return t >= 1 && t <= 4; }

static void decode_icmp_any(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, const hw_ip *ip, ctx *c, int v6) {
  int32_t avail = end - off;
  int truncated = v6 ? HW_ERR_ICMP6_TRUNCATED : HW_ERR_ICMP_TRUNCATED;
  if (avail < 4) return fail(p, truncated, off);
  hw_icmp h;
  icmp_header(&h, b, off);
  int32_t data = off + 4;
  if (v6 ? icmp6_echo_like(h.type) : icmp4_echo_like(h.type)) {
    if (avail < 8) return fail(p, truncated, off);
    h.id = (int32_t)u16(b, off + 4);
    h.seq = (int32_t)u16(b, off + 6);
    data = off + 8;
  } else if (v6 ? icmp6_error(h.type) : icmp4_error(h.type)) {
    if (avail < 8) return fail(p, truncated, off);
    h.embedded_offset = off + 8;
    data = off + 8;
  }
  if (c->verify) {
    h.checksum_ok = v6 ? ip->version == 6 && transport_checksum_ok(b, ip, 58, off, avail) : transport_checksum_ok(b, ip, 1, off, avail);
    if (!h.checksum_ok) p->bad_checksum = 1;
  }
  if (v6) {
    p->icmp6 = h;
    p->has_icmp6 = 1;
  } else {
    p->icmp = h;
    p->has_icmp = 1;
  }
  set_payload(p, data, end);
}

static void decode_gre(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c) {
  int32_t avail = end - off;
  if (avail < 4) return fail(p, HW_ERR_GRE_TRUNCATED, off);
  int32_t flags = (int32_t)u16(b, off);
  int32_t version = flags & 7;
  int32_t proto = (int32_t)u16(b, off + 2);
  int64_t hl = 4;
  if (version == 0) {
    if (flags & 0x07f8) return fail(p, HW_ERR_GRE_BAD_VERSION, off);
    if (flags & 0xc000) hl += 4;
    if (flags & 0x2000) hl += 4;
    if (flags & 0x1000) hl += 4;
    if (flags & 0x4000) {
      for (;;) {
        hl += 4;
        if (hl > avail) break;
        int32_t sre = off + (int32_t)hl - 4;
        uint32_t family = u16(b, sre);
        int32_t length = b[sre + 3];
        if (family == 0 && length == 0) break;
        hl += length;
      }
    }
  } else if (version == 1) {
    if ((flags & 0xcf78) || proto != 0x880b || (flags & 0x2000) == 0) return fail(p, HW_ERR_GRE_BAD_VERSION, off);
    hl += 4;
    if (flags & 0x1000) hl += 4;
    if (flags & 0x0080) hl += 4;
  } else
    return fail(p, HW_ERR_GRE_BAD_VERSION, off);
  if (hl > avail) return fail(p, HW_ERR_GRE_TRUNCATED, off);
  p->has_gre = 1;
  p->gre = (hw_gre){off, (int32_t)hl, flags, version, proto};
  int32_t inner = off + (int32_t)hl;
  set_payload(p, inner, end);
  switch (proto) {
  case 0x0800:
    return decode_ip4(p, b, inner, end, c);
  case 0x86dd:
    return decode_ip6(p, b, inner, end, c);
  case 0x6558:
    return decode_ethernet(p, b, inner, end, c);
  case 0x880b:
    return decode_ppp(p, b, inner, end, c);
  case 0x88be:
    return decode_ethernet(p, b, (flags & 0x1000) ? inner + 8 : inner, end, c);
  case 0x22eb: {
    if (inner + 12 > end) return fail(p, HW_ERR_GRE_TRUNCATED, inner);
    int32_t o = (b[inner + 11] & 1) != 0 ? 8 : 0;
    return decode_ethernet(p, b, inner + 12 + o, end, c);
  }
  default:
    return;
  }
}

static void decode_transport(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, const hw_ip *ip, ctx *c) {
  switch (ip->proto) {
  case 6:
    return decode_tcp(p, b, off, end, ip, c);
  case 17:
    return decode_udp(p, b, off, end, ip, c);
  case 1:
    return decode_icmp_any(p, b, off, end, ip, c, 0);
  case 58:
    return decode_icmp_any(p, b, off, end, ip, c, 1);
  case 4:
    return decode_ip4(p, b, off, end, c);
  case 41:
    return decode_ip6(p, b, off, end, c);
  case 47:
    return decode_gre(p, b, off, end, c);
  default:
    return;
  }
}

static void decode_ip4(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c) {
  int32_t avail = end - off;
  if (avail < 20) return fail(p, HW_ERR_IP_TRUNCATED, off);
  if (b[off] >> 4 != 4) return fail(p, HW_ERR_IP_BAD_VERSION, off);
  int32_t hlen = (b[off] & 0x0f) << 2;
  if (hlen < 20) return fail(p, HW_ERR_IP4_BAD_HEADER_LENGTH, off);
  int32_t tot = (int32_t)u16(b, off + 2);
  if (c->length_from_data && c->layers == 0 && (tot == 0 || tot > avail)) tot = avail;
  if (tot < hlen) return fail(p, HW_ERR_IP4_BAD_TOTAL_LENGTH, off);
  if (tot > avail) return fail(p, HW_ERR_IP_TRUNCATED, off);
  if (++c->layers > c->max_layers) return fail(p, HW_ERR_TUNNEL_TOO_DEEP, off);
  hw_ip *ip = push_ip(p);
  ip->version = 4;
  ip->offset = off;
  ip->header_length = hlen;
  ip->total_length = tot;
  ip->tos = b[off + 1];
  ip->id = u16(b, off + 4);
  uint32_t fo = u16(b, off + 6);
  ip->rb = (fo & 0x8000) != 0;
  ip->df = (fo & 0x4000) != 0;
  ip->mf = (fo & 0x2000) != 0;
  ip->frag_offset = (int32_t)(fo & 0x1fff);
  ip->is_fragment = ip->mf || ip->frag_offset != 0;
  ip->ttl = b[off + 8];
  ip->proto = b[off + 9];
  ip->checksum = (int32_t)u16(b, off + 10);
  if (c->verify) {
    ip->checksum_ok = fold(sum_words(b, off, off + hlen, 0)) == 0xffff;
    if (!ip->checksum_ok) p->bad_checksum = 1;
  }
  if (hlen > 20) {
    ip->n_options = ip4_options(ip, b, off + 20, off + hlen);
    if (ip->n_options < 0) fail(p, HW_ERR_IP4_BAD_OPTIONS, off + 20);
  }
  int32_t d_end = off + tot;
  set_payload(p, off + hlen, d_end);
  if (ip->is_fragment) {
    if (ip->frag_offset == 0 && ip->proto == 17) decode_udp_fragment(p, b, off + hlen, d_end);
    return;
  }
  decode_transport(p, b, off + hlen, d_end, ip, c);
}

static int is_ext(int nh) { return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135; }

static void decode_ip6(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c) {
  int32_t avail = end - off;
  if (avail < 40) return fail(p, HW_ERR_IP_TRUNCATED, off);
  if (b[off] >> 4 != 6) return fail(p, HW_ERR_IP_BAD_VERSION, off);
  int32_t plen = (int32_t)u16(b, off + 4);
  if (c->length_from_data && c->layers == 0 && (plen == 0 || 40 + plen > avail)) plen = avail - 40;
  if (40 + plen > avail) return fail(p, HW_ERR_IP6_BAD_PAYLOAD_LENGTH, off);
  if (++c->layers > c->max_layers) return fail(p, HW_ERR_TUNNEL_TOO_DEEP, off);
  int32_t d_end = off + 40 + plen;
  hw_ip *ip = push_ip(p);
  ip->version = 6;
  ip->offset = off;
  ip->header_length = 40;
  ip->total_length = 40 + plen;
  ip->tos = ((b[off] & 0x0f) << 4) | (b[off + 1] >> 4);
  ip->flow_label = (int32_t)(((uint32_t)(b[off + 1] & 0x0f) << 16) | u16(b, off + 2));
  ip->next_header = b[off + 6];
  ip->proto = ip->next_header;
  ip->ttl = b[off + 7];
  ip->n_options = 0;
  int nh = ip->next_header;
  int32_t cur = off + 40;
  int n = 0, has_frag = 0;
  while (is_ext(nh)) {
    int fault = -1;
    int32_t len = 0;
    if (cur + 8 > d_end)
      fault = HW_ERR_IP6_EXT_TRUNCATED;
    else {
      len = nh == 44 ? 8 : nh == 51 ? (b[cur + 1] + 2) << 2 : (b[cur + 1] + 1) << 3;
      if (cur + len > d_end)
        fault = HW_ERR_IP6_EXT_TRUNCATED;
      else if (++n > HW_MAX_EXT)
        fault = HW_ERR_IP6_TOO_MANY_EXT;
    }
    if (fault >= 0) {
      ip->proto = nh;
      ip->header_length = cur - off;
      set_payload(p, cur, d_end);
      return fail(p, fault, cur);
    }
    ip->ext[ip->n_ext++] = (hw_opt){.type = nh, .offset = cur, .length = len};
    if (nh == 44 && !has_frag) {
      has_frag = 1;
      uint32_t fo = u16(b, cur + 2);
      ip->frag_offset = (int32_t)(fo >> 3);
      ip->mf = (fo & 1) != 0;
      ip->rb = (fo & 6) != 0;
      ip->id = u32(b, cur + 4);
      ip->frag_header_offset = cur;
      ip->is_fragment = ip->mf || ip->frag_offset != 0;
      if (ip->is_fragment && (ip->frag_offset != 0 || b[cur] != 17)) {
        ip->proto = b[cur];
        ip->header_length = cur + len - off;
        set_payload(p, cur + len, d_end);
        return;
      }
    }
    nh = b[cur];
    cur += len;
  }
  ip->proto = nh;
  ip->header_length = cur - off;
  set_payload(p, cur, d_end);
  if (ip->is_fragment) {
    if (nh == 17 && ip->frag_offset == 0) decode_udp_fragment(p, b, cur, d_end);
    return;
  }
  if (nh == 59 || nh == 50) return;
  decode_transport(p, b, cur, d_end, ip, c);
}

static void decode_ether_type(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, int32_t type, ctx *c) {
  int32_t t = type, o = off;
  for (;;) {
    switch (t) {
    case 0x0800:
      return decode_ip4(p, b, o, end, c);
    case 0x86dd:
      return decode_ip6(p, b, o, end, c);
    case 0x8100:
    case 0x88a8:
    case 0x9100: {
      if (end - o < 4) return fail(p, HW_ERR_VLAN_TRUNCATED, o);
      int k = p->n_vlans++;
      p->vlan_offset[k] = o;
      p->vlan_tpid[k] = t;
      p->vlan_tci[k] = (int32_t)u16(b, o);
      t = (int32_t)u16(b, o + 2);
      o += 4;
      if (p->n_vlans > 8) return fail(p, HW_ERR_VLAN_TRUNCATED, o);
      continue;
    }
    case 0x8847:
    case 0x8848: {
      for (;;) {
        if (end - o < 4) return fail(p, HW_ERR_MPLS_TRUNCATED, o);
        uint32_t word = u32(b, o);
        /* (decode.ts counts every label of the packet against 16; the array holds what one stack per IP layer can) */
        if (p->n_mpls < HW_MAX_MPLS) p->mpls[p->n_mpls] = (int32_t)(word >> 12);
        p->n_mpls++;
        o += 4;
        if (word & 0x100) break;
        if (p->n_mpls > 16) return fail(p, HW_ERR_MPLS_TRUNCATED, o);
      }
      if (o >= end) return fail(p, HW_ERR_MPLS_TRUNCATED, o);
      int v = b[o] >> 4;
      if (v == 4) return decode_ip4(p, b, o, end, c);
      if (v == 6) return decode_ip6(p, b, o, end, c);
      if (v == 0) return decode_ethernet(p, b, o + 4, end, c);
      return;
    }
    case 0x8864:
      if (end - o < 8) return fail(p, HW_ERR_PPPOE_TRUNCATED, o);
      return decode_ppp(p, b, o + 6, end, c);
    default:
      return;
    }
  }
}

static void decode_ethernet(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c) {
  if (end - off < 14) return fail(p, HW_ERR_LINK_TRUNCATED, off);
  int32_t type = (int32_t)u16(b, off + 12);
  if (p->eth_offset < 0) {
    p->eth_offset = off;
    p->eth_type = type;
  }
  decode_ether_type(p, b, off + 14, end, type, c);
}

static void decode_ppp(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c) {
  int32_t o = off;
  if (end - o >= 2 && b[o] == 0xff && b[o + 1] == 0x03) o += 2;
  if (end - o < 1) return fail(p, HW_ERR_LINK_TRUNCATED, o);
  int32_t proto;
  if (b[o] & 1) {
    proto = b[o];
    o += 1;
  } else {
    if (end - o < 2) return fail(p, HW_ERR_LINK_TRUNCATED, o);
    proto = (int32_t)u16(b, o);
    o += 2;
  }
  if (proto == 0x21) return decode_ip4(p, b, o, end, c);
  if (proto == 0x57) return decode_ip6(p, b, o, end, c);
}

static void decode_ip_by_version(hw_packet *p, const uint8_t *b, int32_t off, int32_t end, ctx *c) {
  if (end - off < 1) return fail(p, HW_ERR_IP_TRUNCATED, off);
  int v = b[off] >> 4;
  if (v == 4) return decode_ip4(p, b, off, end, c);
  if (v == 6) return decode_ip6(p, b, off, end, c);
  return fail(p, HW_ERR_IP_BAD_VERSION, off);
}

static void decode_link(hw_packet *p, const uint8_t *b, int32_t end, int lt, ctx *c) {
  switch (lt) {
  case LT_ETHERNET:
    return decode_ethernet(p, b, 0, end, c);
  case LT_LINUX_SLL:
    if (end < 16) return fail(p, HW_ERR_LINK_TRUNCATED, 0);
    return decode_ether_type(p, b, 16, end, (int32_t)u16(b, 14), c);
  case LT_LINUX_SLL2:
    if (end < 20) return fail(p, HW_ERR_LINK_TRUNCATED, 0);
    return decode_ether_type(p, b, 20, end, (int32_t)u16(b, 0), c);
  case LT_RAW:
  case LT_RAW_BSD12:
  case LT_RAW_BSD14:
    return decode_ip_by_version(p, b, 0, end, c);
  case LT_IPV4:
    return decode_ip4(p, b, 0, end, c);
  case LT_IPV6:
    return decode_ip6(p, b, 0, end, c);
  case LT_NULL:
  case LT_LOOP: {
    if (end < 4) return fail(p, HW_ERR_LINK_TRUNCATED, 0);
    uint32_t fam = lt == LT_LOOP || (b[0] == 0 && b[1] == 0) ? u32(b, 0) : (uint32_t)(b[0] | (b[1] << 8));
    if (fam == 2) return decode_ip4(p, b, 4, end, c);
    if (fam == 24 || fam == 28 || fam == 30 || fam == 10) return decode_ip6(p, b, 4, end, c);
    return;
  }
  case LT_PPP:
    return decode_ppp(p, b, 0, end, c);
  default:
    return fail(p, HW_ERR_LINK_UNSUPPORTED, 0);
  }
}

void hw_decode(hw_packet *p, int linktype, const uint8_t *b, int32_t len, const hw_decode_options *o) {
  p->error = HW_ERR_NONE;
  p->error_offset = -1;
  p->bad_checksum = 0;
  p->payload_offset = 0;
  p->payload_length = 0;
  p->eth_offset = -1;
  p->eth_type = 0;
  p->n_vlans = p->n_mpls = p->n_ip = 0;
  p->has_gre = p->has_tcp = p->has_udp = p->has_icmp = p->has_icmp6 = 0;
  ctx c = {o->verify, o->max_layers, 0, linktype < 0 ? o->length_from_data : 0};
  if (linktype < 0)
    decode_ip_by_version(p, b, 0, len, &c);
  else
    decode_link(p, b, len, linktype, &c);
}

int32_t hw_packet_record(const hw_packet *p, int32_t *r) {
  int32_t n = 0;
  int32_t head[16] = {p->error, p->error_offset, p->bad_checksum, p->payload_offset, p->payload_length, p->eth_offset, p->eth_type,
                      p->n_vlans, p->n_mpls < HW_MAX_MPLS ? p->n_mpls : HW_MAX_MPLS, p->n_ip, p->has_gre, p->has_tcp, p->has_udp,
                      p->has_icmp, p->has_icmp6, 0};
  memcpy(r, head, sizeof head);
  n = 16;
  for (int k = 0; k < p->n_vlans; k++) {
    r[n++] = p->vlan_offset[k];
    r[n++] = p->vlan_tpid[k];
    r[n++] = p->vlan_tci[k];
  }
  for (int k = 0; k < p->n_mpls && k < HW_MAX_MPLS; k++) r[n++] = p->mpls[k];
  for (int k = 0; k < p->n_ip; k++) {
    const hw_ip *ip = &p->ip[k];
    int32_t fields[20] = {ip->version, ip->offset, ip->header_length, ip->total_length, ip->ttl, ip->tos, ip->proto, (int32_t)ip->id,
                          ip->rb, ip->df, ip->mf, ip->frag_offset, ip->is_fragment, ip->checksum, ip->checksum_ok, ip->flow_label,
                          ip->next_header, ip->frag_header_offset, ip->n_ext, ip->n_options < 0 ? 0 : ip->n_options};
    memcpy(r + n, fields, sizeof fields);
    n += 20;
    for (int e = 0; e < ip->n_ext; e++) {
      r[n++] = ip->ext[e].type;
      r[n++] = ip->ext[e].offset;
      r[n++] = ip->ext[e].length;
    }
    for (int e = 0; e < ip->n_options; e++) {
      r[n++] = ip->options[e].type;
      r[n++] = ip->options[e].length;
      r[n++] = ip->options[e].offset;
    }
  }
  if (p->has_gre) {
    int32_t g[5] = {p->gre.offset, p->gre.header_length, p->gre.flags, p->gre.version, p->gre.protocol};
    memcpy(r + n, g, sizeof g);
    n += 5;
  }
  if (p->has_tcp) {
    const hw_tcp *x = &p->tcp;
    int32_t f[12] = {x->offset, x->header_length, x->src_port, x->dst_port, (int32_t)x->seq, (int32_t)x->ack, x->flags, x->reserved,
                     x->window, x->checksum, x->urgent_pointer, x->checksum_ok};
    memcpy(r + n, f, sizeof f);
    n += 12;
  }
  if (p->has_udp) {
    const hw_udp *x = &p->udp;
    int32_t f[6] = {x->offset, x->src_port, x->dst_port, x->length, x->checksum, x->checksum_ok};
    memcpy(r + n, f, sizeof f);
    n += 6;
  }
  for (int w = 0; w < 2; w++) {
    if (w == 0 ? !p->has_icmp : !p->has_icmp6) continue;
    const hw_icmp *x = w == 0 ? &p->icmp : &p->icmp6;
    int32_t f[8] = {x->offset, x->type, x->code, x->checksum, x->checksum_ok, x->id, x->seq, x->embedded_offset};
    memcpy(r + n, f, sizeof f);
    n += 8;
  }
  return n;
}

#ifndef HW_NO_NAPI
/* ------------------------------------------------------------------------------------------ N-API */

napi_value honeywall_decode_frame_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, NULL, "decodeFrame(linktype, bytes, flags, maxLayers)");
    return NULL;
  }
  int32_t linktype, flags, max_layers;
  napi_typedarray_type t;
  size_t len, off;
  uint8_t *buf;
  napi_value ab;
  if (napi_get_value_int32(env, argv[0], &linktype) != napi_ok || napi_get_value_int32(env, argv[2], &flags) != napi_ok ||
      napi_get_value_int32(env, argv[3], &max_layers) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &t, &len, (void **)&buf, &ab, &off) != napi_ok || t != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "decodeFrame(linktype: number, bytes: Uint8Array, flags: number, maxLayers: number)");
    return NULL;
  }
  if (max_layers < 0 || max_layers > HW_MAX_IP_LAYERS || len > INT32_MAX / 2) {
    napi_throw_range_error(env, NULL, "decodeFrame: maxLayers must be 0..16 and the frame under 1 GiB");
    return NULL;
  }
  hw_packet *p = malloc(sizeof *p);
  int32_t *r = malloc(sizeof(int32_t) * 8192);
  if (p == NULL || r == NULL) {
    free(p);
    free(r);
    napi_throw_error(env, NULL, "decodeFrame: out of memory");
    return NULL;
  }
  hw_decode_options o = {flags & 1, max_layers, (flags & 2) != 0};
  hw_decode(p, linktype, buf, (int32_t)len, &o);
  int32_t n = hw_packet_record(p, r);
  free(p);
  napi_value out_ab, out;
  void *data;
  if (napi_create_arraybuffer(env, sizeof(int32_t) * (size_t)n, &data, &out_ab) != napi_ok) {
    free(r);
    return NULL;
  }
  memcpy(data, r, sizeof(int32_t) * (size_t)n);
  free(r);
  napi_create_typedarray(env, napi_int32_array, (size_t)n, out_ab, 0, &out);
  return out;
}
#endif /* HW_NO_NAPI */
