/*
 * honeywall_front.c: the native front as the replay uses it (docs/performance.md, "What closes the gap", step 4):
 * PacketPipeline's decode -> defrag -> flow tracking / reassembly / PAF, one frame a call, with its results written as
 * records the JavaScript side (src/flow/native-pipeline.ts) turns into InspectionItems for the matcher. The decoding,
 * defragmentation, flow table and reassembly are the C already held to their JavaScript counterparts
 * (honeywall_decode.c, honeywall_defrag.c, honeywall_flow.c); what is here is pipeline.ts's item logic (packet, track,
 * streamItem, udpFirstRebuilt), and the records.
 *
 *   frontOpen(flow: Float64Array(21), clientPorts?, serverPorts?, httpPorts?, smbPorts?, defrag: Float64Array(9),
 *             decode: Float64Array [verify, maxLayers, defrag verify, defrag maxLayers, first record values, first
 *             arena bytes]) -> front
 *       flow and the port maps as flowTableOpen (honeywall_flow.c); defrag as defragRun (honeywall_defrag.c).
 *   frontPush(front, linktype, frame: Uint8Array, tsSec, tsUsec, index) -> n * 2 + moved
 *   frontAdvance(front, kind, tsSec, tsUsec) -> n * 2 + moved       (PacketPipeline.advance)
 *   frontFinish(front) -> n * 2 + moved                              (PacketPipeline.finish)
 *   frontPushWalked(front, buf, walked: Int32Array, n, shard, linktype, firstIndex) -> n * 2 + moved
 *       The n records captureWalk found in buf (6 values each: start, length, seconds, microseconds, length on the
 *       wire, the shard plan's answer), frame firstIndex + k the k-th, as shard `shard` sees them: its own frames
 *       pushed, another's moving the clock of its kind's flows (as frontAdvance, when a flow can end), each frame's
 *       records after a FRAME record (none for a frame that made none). One call a walk batch instead of one or two
 *       a frame.
 *       n records' values are in the front's record array, the datagrams they name in its byte arena; `moved`: the
 *       arrays were reallocated and frontViews gives the new ones (the old ones stay readable until collected).
 *   frontViews(front) -> [Float64Array records | null, Uint8Array arena | null] (null: the array JavaScript has)
 *   frontStats(front) -> Float64Array [flow stats (HW_FLOW_STATS), defrag stats (7), trackers held, bytes held]
 *
 * Records, one after another, each starting with its tag (REC_*):
 *   FLOW_NEW  slot, kind, proto, vlan, hash, address length, client port, server port, midstream, state, start time,
 *             created index, client address (16), server address (16)
 *   FLOW_END  slot, reason
 *   PACKET    source (0 the frame given, 1 the arena), arena offset, length, linktype, origin (0 wire, 1 defrag),
 *             counted (decodeStats counts it), slot (-1 none), fromClient, established, streamInserted, noContent,
 *             detection (0 all, 1 decode-only, 2 relative-first), frag serial (0 none), sync (SYNC values when slot
 *             >= 0), record length, packet record (hw_packet_record)
 *   SEGMENT   arena offset, length, slot, fromClient, reason, pduHead, seq, ack, flags, ttl, window, data length,
 *             synced (1: SYNC values follow, 0: the flow ended in this call), sync, record length, packet record
 *   FRAG_DROP serial (the datagram's FragAlerts can go)
 *   COUNT     arena offset, length, record length, packet record: a datagram decodeStats counts that is not an
 *             item's (a UDP datagram a first fragment completed: its item is udpFirstRebuilt's)
 *   FRAME     k, mine: frontPushWalked's records that follow are the k-th walked frame's (mine: 1 when it went
 *             through the pipeline, 0 when only its clock moved this shard's flows)
 * SYNC: the flow's state, established, terminated, synced, midstream, last time, last index, then per side (client,
 * server) packets, bytes, isn, next seq: what the matcher reads of a flow, as the table left it after the frame.
 */
#include <stdlib.h>
#include <string.h>

#include "honeywall_front.h"
#include "honeywall_shard.h"

enum { REC_FLOW_NEW = 1, REC_FLOW_END = 2, REC_PACKET = 3, REC_SEGMENT = 4, REC_FRAG_DROP = 5, REC_COUNT = 6, REC_FRAME = 7 };
enum { DETECT_ALL = 0, DETECT_DECODE_ONLY = 1, DETECT_RELATIVE_FIRST = 2 };
#define SYNC 15
/* the most one record takes besides its packet record */
#define RECORD_HEAD 64

struct hw_front {
  hw_flow_table *table;
  hw_defrag *defrag;
  hw_decode_options dec, defrag_dec;
  hw_packet pkt, aux;
  int32_t scratch[HW_PACKET_RECORD_MAX];
  double *rec;
  size_t n, cap;
  uint8_t *arena;
  size_t na, cap_arena;
  /* whether JavaScript holds a view of the current arrays (then its ArrayBuffer frees them), and whether they moved
   * since it took them */
  int rec_exported, arena_exported, moved, oom;
};

static void put(hw_front *f, double v) { f->rec[f->n++] = v; }

/* Room for `values` more record values and `bytes` more arena bytes: new arrays when they do not fit (the old ones
 * stay with their ArrayBuffers when JavaScript has views of them). */
static int reserve(hw_front *f, size_t values, size_t bytes) {
  if (f->n + values > f->cap) {
    size_t cap = f->cap * 2 > f->n + values ? f->cap * 2 : f->n + values + 4096;
    double *r = malloc(cap * sizeof *r);
    if (r == NULL) return f->oom = 1, 0;
    if (f->n > 0) memcpy(r, f->rec, f->n * sizeof *r);
    if (!f->rec_exported) free(f->rec);
    f->rec = r, f->cap = cap, f->rec_exported = 0, f->moved = 1;
  }
  if (f->na + bytes > f->cap_arena) {
    size_t cap = f->cap_arena * 2 > f->na + bytes ? f->cap_arena * 2 : f->na + bytes + 65536;
    uint8_t *a = malloc(cap);
    if (a == NULL) return f->oom = 1, 0;
    if (f->na > 0) memcpy(a, f->arena, f->na);
    if (!f->arena_exported) free(f->arena);
    f->arena = a, f->cap_arena = cap, f->arena_exported = 0, f->moved = 1;
  }
  return 1;
}

static void put_record(hw_front *f, const hw_packet *p) {
  int32_t n = hw_packet_record(p, f->scratch);
  put(f, n);
  for (int32_t i = 0; i < n; i++) put(f, f->scratch[i]);
}

static void put_sync(hw_front *f, const hw_flow *fl) {
  put(f, fl->state), put(f, fl->established), put(f, fl->terminated), put(f, fl->synced), put(f, fl->midstream);
  put(f, fl->last_sec), put(f, fl->last_index);
  const hw_endpoint *sides[2] = {&fl->client, &fl->server};
  for (int w = 0; w < 2; w++) {
    const hw_endpoint *e = sides[w];
    put(f, e->packets), put(f, e->bytes), put(f, (double)e->isn), put(f, (double)e->next_seq);
  }
}

static void put_flow_new(hw_front *f, const hw_flow *fl) {
  put(f, REC_FLOW_NEW), put(f, fl->slot), put(f, fl->kind), put(f, fl->proto), put(f, fl->vlan), put(f, fl->hash);
  put(f, fl->client.ip_len), put(f, fl->client.port), put(f, fl->server.port), put(f, fl->midstream), put(f, fl->state);
  put(f, fl->start_sec), put(f, fl->created_index);
  for (int i = 0; i < 16; i++) put(f, i < fl->client.ip_len ? fl->client.ip[i] : 0);
  for (int i = 0; i < 16; i++) put(f, i < fl->server.ip_len ? fl->server.ip[i] : 0);
}

/* ------------------------------------------------------------------------------------------ checksums */

static uint32_t sum_words(const uint8_t *b, int64_t start, int64_t end, uint32_t acc) {
  uint64_t s = acc;
  int64_t i = start;
  for (; i + 1 < end; i += 2) s += (uint32_t)b[i] << 8 | b[i + 1];
  if (i < end) s += (uint32_t)b[i] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint32_t)s;
}

static uint16_t finish_sum(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)(~s & 0xffff);
}

static void write_u16(uint8_t *b, int64_t o, uint32_t v) {
  b[o] = (uint8_t)(v >> 8);
  b[o + 1] = (uint8_t)v;
}

static uint32_t pseudo_sum(const uint8_t *b, const hw_ip *ip, uint32_t proto, int64_t length) {
  int32_t n = ip->version == 4 ? 4 : 16, at = ip->offset + (ip->version == 4 ? 12 : 8);
  uint32_t s = sum_words(b, at, at + 2 * n, 0);
  return ip->version == 4 ? s + proto + (uint32_t)length : s + (uint32_t)(length >> 16) + (uint32_t)(length & 0xffff) + proto;
}

/* checksum.ts fixChecksums: the innermost transport's and every IPv4 header's, as the packet was decoded. */
static void fix_checksums(uint8_t *b, int32_t len, const hw_packet *p) {
  if (p->n_ip == 0) return;
  const hw_ip *ip = &p->ip[p->n_ip - 1];
  int64_t seg = ip->total_length - ip->header_length;
  if (!ip->is_fragment) {
    int32_t o = -1, at = 0;
    uint32_t proto = 0;
    if (p->has_tcp)
      o = p->tcp.offset, at = 16, proto = 6;
    else if (p->has_udp) {
      o = p->udp.offset, at = 6, proto = 17;
      if (!(ip->version == 6 || (b[o + 6] | b[o + 7]) != 0)) o = -1;
    } else if (p->has_icmp)
      o = p->icmp.offset, at = 2, proto = 0;
    else if (p->has_icmp6)
      o = p->icmp6.offset, at = 2, proto = 58;
    if (o >= 0 && o + at + 2 <= len) {
      int64_t end = o + seg < len ? o + seg : len;
      write_u16(b, o + at, 0);
      uint16_t c = finish_sum(sum_words(b, o, end, proto == 0 ? 0 : pseudo_sum(b, ip, proto, seg)));
      if (proto == 17 && c == 0) c = 0xffff;
      write_u16(b, o + at, c);
    }
  }
  for (int32_t k = 0; k < p->n_ip; k++) {
    const hw_ip *h = &p->ip[k];
    if (h->version != 4 || h->offset + h->header_length > len) continue;
    write_u16(b, h->offset + 10, 0);
    write_u16(b, h->offset + 10, finish_sum(sum_words(b, h->offset, h->offset + h->header_length, 0)));
  }
}

/* ------------------------------------------------------------------------------------------ pipeline.ts */

/* The synthetic datagram of a flushed segment (build.ts tcpDatagram with the header _flush_to_seq encodes), in the
 * arena at *off; its packet in f->aux. */
static int32_t segment_datagram(hw_front *f, const hw_segment *s, const hw_endpoint *from, const hw_endpoint *to, size_t *off) {
  int v6 = from->ip_len == 16;
  int32_t ip_len = v6 ? 40 : 20, len = ip_len + 20 + s->len;
  if (!reserve(f, 0, (size_t)len)) return -1;
  uint8_t *b = f->arena + f->na;
  memset(b, 0, (size_t)(ip_len + 20));
  if (v6) {
    b[0] = 0x60;
    write_u16(b, 4, (uint32_t)(20 + s->len));
    b[6] = 6;
    b[7] = (uint8_t)s->ttl;
    memcpy(b + 8, from->ip, 16);
    memcpy(b + 24, to->ip, 16);
  } else {
    b[0] = 0x45;
    write_u16(b, 2, len > 0xffff ? 0xffff : (uint32_t)len);
    b[8] = (uint8_t)s->ttl;
    b[9] = 6;
    memcpy(b + 12, from->ip, 4);
    memcpy(b + 16, to->ip, 4);
  }
  int32_t t = ip_len;
  write_u16(b, t, (uint32_t)from->port);
  write_u16(b, t + 2, (uint32_t)to->port);
  uint32_t seq = (uint32_t)s->seq, ack = (uint32_t)s->ack;
  b[t + 4] = (uint8_t)(seq >> 24), b[t + 5] = (uint8_t)(seq >> 16), b[t + 6] = (uint8_t)(seq >> 8), b[t + 7] = (uint8_t)seq;
  b[t + 8] = (uint8_t)(ack >> 24), b[t + 9] = (uint8_t)(ack >> 16), b[t + 10] = (uint8_t)(ack >> 8), b[t + 11] = (uint8_t)ack;
  b[t + 12] = 0x50;
  b[t + 13] = (uint8_t)s->flags;
  write_u16(b, t + 14, s->window);
  if (s->len > 0) memcpy(b + t + 20, s->data, (size_t)s->len);
  hw_decode_options o = {0, 8, 0};
  hw_decode(&f->aux, -1, b, len, &o);
  fix_checksums(b, len, &f->aux);
  /* (the checksums are in the record too) */
  hw_decode(&f->aux, -1, b, len, &o);
  *off = f->na;
  f->na += (size_t)len;
  return len;
}

static void put_segment(hw_front *f, const hw_segment *s) {
  /* (a flow removed during the call is kept until the next) */
  const hw_flow *fl = hw_flow_front_flow_of(f->table, s);
  if (fl == NULL) return f->oom = 1, (void)0;
  const hw_endpoint *from = s->from_client ? &fl->client : &fl->server, *to = s->from_client ? &fl->server : &fl->client;
  size_t off = 0;
  int32_t len = segment_datagram(f, s, from, to, &off);
  if (len < 0 || !reserve(f, RECORD_HEAD + HW_PACKET_RECORD_MAX, 0)) return;
  put(f, REC_SEGMENT), put(f, (double)off), put(f, len), put(f, s->flow_slot), put(f, s->from_client), put(f, s->reason);
  put(f, s->pdu_head), put(f, (double)(uint32_t)s->seq), put(f, (double)(uint32_t)s->ack), put(f, s->flags), put(f, s->ttl);
  put(f, s->window), put(f, s->len);
  put(f, 1);
  put_sync(f, fl);
  put_record(f, &f->aux);
}

/* The last table call's segments, the flows it ended and (`made`, at segment position `made_at`) the one it made, in
 * their order: a flow's segments come before its end, its start before its segments. 0 when memory ran out. */
static int put_flushed(hw_front *f, const hw_flow *made, int32_t made_at) {
  int32_t ns, nr;
  const hw_segment *segs = hw_flow_front_segments(f->table, &ns);
  const double *rm = hw_flow_front_removed(f->table, &nr);
  int32_t ri = 0;
  for (int32_t i = 0; i <= ns; i++) {
    for (; ri < nr && rm[ri * HW_REMOVED_STRIDE + 2] <= i; ri++) {
      if (!reserve(f, 3, 0)) return 0;
      put(f, REC_FLOW_END), put(f, rm[ri * HW_REMOVED_STRIDE + 3]), put(f, rm[ri * HW_REMOVED_STRIDE + 1]);
    }
    if (made != NULL && made_at == i) {
      if (!reserve(f, RECORD_HEAD, 0)) return 0;
      put_flow_new(f, made);
    }
    if (i < ns) put_segment(f, &segs[i]);
  }
  return 1;
}

/* One packet through the flow table (pipeline.ts track): the segments it flushed, the flows it ended and made in
 * their order, then its own item. `source`: 0 the frame, 1 the arena at `off`. */
static void track(hw_front *f, const hw_packet *p, const uint8_t *b, int32_t len, int source, size_t off, int linktype, int origin, int counted,
                  int64_t ts_sec, double now, double index, int no_content, int detection, double serial) {
  hw_update u;
  hw_flow_front_process(f->table, p, b, ts_sec, now, index, &u);
  if (!put_flushed(f, u.is_new ? u.flow : NULL, u.new_at)) return;
  if (!reserve(f, RECORD_HEAD + SYNC + HW_PACKET_RECORD_MAX, 0)) return;
  put(f, REC_PACKET), put(f, source), put(f, (double)off), put(f, len), put(f, linktype), put(f, origin), put(f, counted);
  put(f, u.flow != NULL ? u.flow->slot : -1), put(f, u.from_client), put(f, u.established), put(f, u.stream_inserted);
  put(f, no_content), put(f, detection), put(f, serial);
  if (u.flow != NULL) put_sync(f, u.flow);
  put_record(f, p);
}

/* udpFirstRebuilt: the datagram Snort inspects when the first fragment of a UDP datagram completes it (the fragment's
 * IP and UDP headers in front of the reassembled data; see pipeline.ts), into the arena at *off, its packet in aux. */
static int32_t udp_first_rebuilt(hw_front *f, const hw_packet *first, const uint8_t *fb, const uint8_t *whole, size_t *off) {
  const hw_ip *ip = &first->ip[first->n_ip - 1];
  const hw_ip *wip = &f->aux.ip[f->aux.n_ip - 1];
  int32_t hlen = ip->header_length;
  int32_t dstart = wip->offset + wip->header_length, dlen = wip->total_length - wip->header_length;
  if (dlen < 0) dlen = 0;
  int32_t len = hlen + 8 + dlen;
  if (!reserve(f, 0, (size_t)len)) return -1;
  uint8_t *b = f->arena + f->na;
  memcpy(b, fb + ip->offset, (size_t)hlen);
  memcpy(b + hlen, fb + first->udp.offset, 8);
  memcpy(b + hlen + 8, whole + dstart, (size_t)dlen);
  write_u16(b, 2, (uint32_t)len & 0xffff);
  write_u16(b, 6, 0);
  write_u16(b, hlen + 4, (uint32_t)(8 + dlen) & 0xffff);
  hw_decode_options o = {0, 8, 0}, verify = {1, 8, 0};
  hw_decode(&f->aux, -1, b, len, &o);
  fix_checksums(b, len, &f->aux);
  hw_decode(&f->aux, -1, b, len, &verify);
  *off = f->na;
  f->na += (size_t)len;
  return len;
}


/* PacketPipeline.push: one frame decoded, defragmented, tracked. */
static void push(hw_front *f, int linktype, const uint8_t *b, int32_t len, int64_t ts_sec, double now, double index) {
  hw_packet *p = &f->pkt;
  hw_decode(p, linktype, b, len, &f->dec);
  if (p->n_ip == 0 || !p->ip[p->n_ip - 1].is_fragment) {
    track(f, p, b, len, 0, 0, linktype, 0, 1, ts_sec, now, index, 0, DETECT_ALL, 0);
    return;
  }
  const hw_ip *ip = &p->ip[p->n_ip - 1];
  int32_t wlen = 0;
  uint8_t *whole = hw_defrag_add(f->defrag, p, b, now, &wlen);
  double serial = hw_defrag_last_serial(f->defrag);
  if (whole != NULL) {
    int udp_first = p->has_udp;
    size_t off = 0;
    int32_t n;
    int counted = 0;
    hw_decode(&f->aux, -1, whole, wlen, &f->defrag_dec);
    if (udp_first && ip->version == 4) {
      if (!reserve(f, 4 + HW_PACKET_RECORD_MAX, (size_t)wlen)) return free(whole);
      memcpy(f->arena + f->na, whole, (size_t)wlen);
      put(f, REC_COUNT), put(f, (double)f->na), put(f, wlen);
      put_record(f, &f->aux);
      f->na += (size_t)wlen;
      n = udp_first_rebuilt(f, p, b, whole, &off);
    }
    else {
      n = reserve(f, 0, (size_t)wlen) ? wlen : -1;
      if (n >= 0) {
        memcpy(f->arena + f->na, whole, (size_t)wlen);
        off = f->na;
        f->na += (size_t)wlen;
        counted = 1;
      }
    }
    free(whole);
    if (n < 0) return;
    /* (aux is the rebuilt datagram's packet until track's segments reuse it: a copy for the item) */
    hw_packet *rebuilt = malloc(sizeof *rebuilt);
    if (rebuilt == NULL) return f->oom = 1, (void)0;
    memcpy(rebuilt, &f->aux, sizeof *rebuilt);
    track(f, rebuilt, f->arena + off, n, 1, off, -1, 1, counted, ts_sec, now, index, 0, DETECT_ALL, serial);
    free(rebuilt);
    track(f, p, b, len, 0, 0, linktype, 0, 1, ts_sec, now, index, !udp_first, udp_first ? DETECT_RELATIVE_FIRST : DETECT_DECODE_ONLY, serial);
  } else
    track(f, p, b, len, 0, 0, linktype, 0, 1, ts_sec, now, index, ip->frag_offset != 0 || (ip->proto != 17 && ip->mf), DETECT_ALL, serial);
  int32_t nd;
  const double *dropped = hw_defrag_dropped(f->defrag, &nd);
  if (!reserve(f, 2 * (size_t)nd, 0)) return;
  for (int32_t i = 0; i < nd; i++) put(f, REC_FRAG_DROP), put(f, dropped[i]);
}

static void front_free(hw_front *f) {
  if (f == NULL) return;
  hw_flow_table_free(f->table);
  hw_defrag_free(f->defrag);
  if (!f->rec_exported) free(f->rec);
  if (!f->arena_exported) free(f->arena);
  free(f);
}

hw_front *hw_front_new(hw_flow_table *table, const hw_defrag_config *dcfg, hw_decode_options dec, hw_decode_options defrag_dec, size_t records,
                       size_t bytes) {
  hw_front *f = calloc(1, sizeof *f);
  if (f == NULL || (f->defrag = hw_defrag_new(dcfg)) == NULL) {
    hw_flow_table_free(table);
    free(f);
    return NULL;
  }
  f->table = table;
  f->dec = dec;
  f->defrag_dec = defrag_dec;
  if (!reserve(f, records, bytes)) {
    front_free(f);
    return NULL;
  }
  return f;
}

void hw_front_free(hw_front *f) { front_free(f); }

static void begin(hw_front *f) {
  f->n = 0;
  f->na = 0;
  f->moved = 0;
}

/* each call's end: whether memory ran out anywhere */
static int end(hw_front *f) {
  return f->oom || hw_flow_front_oom(f->table) || hw_defrag_oom(f->defrag) ? -1 : 0;
}

int hw_front_push(hw_front *f, int linktype, const uint8_t *b, int32_t len, double ts_sec, double ts_usec, double index) {
  begin(f);
  push(f, linktype, b, len, (int64_t)ts_sec, ts_sec + ts_usec / 1e6, index);
  return end(f);
}

/* PacketPipeline.advance: another shard's frame of `kind` at `now` (most end no flow: the expiry's own test first) */
static void advance(hw_front *f, int kind, double now) {
  if (kind < 0 || kind > 3 || !hw_flow_front_expires(f->table, kind, now)) return;
  hw_flow_front_expire(f->table, kind, now);
  put_flushed(f, NULL, 0);
}

int hw_front_advance(hw_front *f, int kind, double ts_sec, double ts_usec) {
  begin(f);
  advance(f, kind, ts_sec + ts_usec / 1e6);
  return end(f);
}

int hw_front_finish(hw_front *f) {
  begin(f);
  hw_flow_front_finish(f->table);
  put_flushed(f, NULL, 0);
  return end(f);
}

int hw_front_push_walked(hw_front *f, const uint8_t *buf, size_t len, const int32_t *walked, int32_t n, int32_t shard, int linktype, double first) {
  begin(f);
  for (int32_t k = 0; k < n; k++) {
    const int32_t *w = walked + 6 * k;
    size_t start = (size_t)(uint32_t)w[0], flen = (size_t)(uint32_t)w[1];
    if (start > len || flen > len - start) return -1;
    double sec = (double)(uint32_t)w[2], usec = w[3];
    int32_t owner = w[5];
    int mine = owner == HW_SHARD_NO_IP ? shard == 0 : owner >= 0 && owner >> 2 == shard;
    if (!reserve(f, 3, 0)) return -1;
    size_t mark = f->n;
    put(f, REC_FRAME), put(f, k), put(f, mine);
    if (mine)
      push(f, linktype, buf + start, (int32_t)flen, (int64_t)sec, sec + usec / 1e6, first + k);
    else if (owner >= 0)
      advance(f, owner & 3, sec + usec / 1e6);
    if (f->n == mark + 3) f->n = mark;
  }
  return end(f);
}

#ifndef HW_NO_NAPI
/* ------------------------------------------------------------------------------------------ N-API */

static void front_finalize(napi_env env, void *data, void *hint) { front_free(data); }

static void block_finalize(napi_env env, void *data, void *hint) { free(data); }

static hw_front *front_of(napi_env env, napi_value v) {
  void *h = NULL;
  if (napi_get_value_external(env, v, &h) != napi_ok || h == NULL) {
    napi_throw_type_error(env, NULL, "not a native front");
    return NULL;
  }
  return h;
}

/* the front of a call whose one argument it is (NULL with an exception naming `usage`) */
static hw_front *front_arg(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  void *h = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], &h) != napi_ok || h == NULL) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return h;
}

static int float64_arg(napi_env env, napi_value v, double **out, size_t min) {
  napi_typedarray_type ty;
  size_t len, off;
  napi_value ab;
  return napi_get_typedarray_info(env, v, &ty, &len, (void **)out, &ab, &off) == napi_ok && ty == napi_float64_array && len >= min;
}

napi_value honeywall_front_open_js(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  double *dc, *xc;
  size_t argc4 = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7 || !float64_arg(env, argv[5], &dc, 9) ||
      !float64_arg(env, argv[6], &xc, 4) || napi_get_typedarray_info(env, argv[6], NULL, &argc4, NULL, NULL, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "frontOpen(flow: Float64Array, clientPorts, serverPorts, httpPorts, smbPorts, defrag: Float64Array, decode: Float64Array)");
    return NULL;
  }
  hw_flow_table *table = hw_flow_table_from_js(env, argv[0], argv + 1);
  if (table == NULL) return NULL;
  hw_defrag_config dcfg = {dc[0], (int64_t)dc[1], (int64_t)dc[2], (int32_t)dc[3], (int32_t)dc[4], (int32_t)dc[5], (int32_t)dc[6], (int32_t)dc[7], (int32_t)dc[8]};
  int32_t layers = (int32_t)xc[1], dlayers = (int32_t)xc[3];
  if (layers < 1 || layers > HW_MAX_IP_LAYERS) layers = 8;
  if (dlayers < 1 || dlayers > HW_MAX_IP_LAYERS) dlayers = 8;
  /* the arrays' first sizes (tests make them small, so they move often) */
  size_t records = argc4 >= 5 && xc[4] >= 1 ? (size_t)xc[4] : 65536, bytes = argc4 >= 6 && xc[5] >= 1 ? (size_t)xc[5] : 1 << 20;
  hw_front *f = hw_front_new(table, &dcfg, (hw_decode_options){xc[0] != 0, layers, 0}, (hw_decode_options){xc[2] != 0, dlayers, 0}, records, bytes);
  if (f == NULL) {
    napi_throw_error(env, NULL, "frontOpen: out of memory");
    return NULL;
  }
  napi_value out;
  napi_create_external(env, f, front_finalize, NULL, &out);
  return out;
}

/* The call's answer (`status`: the call's): the records' length and whether the arrays moved; an exception when memory ran out. */
static napi_value answer(napi_env env, hw_front *f, int status) {
  if (status < 0) {
    napi_throw_error(env, NULL, "native front: out of memory");
    return NULL;
  }
  napi_value out;
  napi_create_double(env, (double)f->n * 2 + f->moved, &out);
  return out;
}

napi_value honeywall_front_push_js(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) {
    napi_throw_type_error(env, NULL, "frontPush(front, linktype, frame, tsSec, tsUsec, index)");
    return NULL;
  }
  hw_front *f = front_of(env, argv[0]);
  if (f == NULL) return NULL;
  hw_frame_args a;
  if (!hw_frame_args_of(env, argv + 1, &a)) {
    napi_throw_type_error(env, NULL, "frontPush(front, linktype, frame: Uint8Array, tsSec, tsUsec, index)");
    return NULL;
  }
  return answer(env, f, hw_front_push(f, a.linktype, a.frame, (int32_t)a.len, a.ts_sec, a.ts_usec, a.index));
}

napi_value honeywall_front_push_walked_js(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  hw_front *f;
  napi_typedarray_type ty;
  size_t len, wlen, off;
  uint8_t *buf;
  int32_t *walked;
  napi_value ab;
  int32_t n, shard, linktype;
  double first;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7 || (f = front_of(env, argv[0])) == NULL ||
      napi_get_typedarray_info(env, argv[1], &ty, &len, (void **)&buf, &ab, &off) != napi_ok || ty != napi_uint8_array ||
      napi_get_typedarray_info(env, argv[2], &ty, &wlen, (void **)&walked, &ab, &off) != napi_ok || ty != napi_int32_array ||
      napi_get_value_int32(env, argv[3], &n) != napi_ok || napi_get_value_int32(env, argv[4], &shard) != napi_ok ||
      napi_get_value_int32(env, argv[5], &linktype) != napi_ok || napi_get_value_double(env, argv[6], &first) != napi_ok || n < 0 ||
      (size_t)n > wlen / 6) {
    napi_throw_type_error(env, NULL, "frontPushWalked(front, buf: Uint8Array, walked: Int32Array, n, shard, linktype, firstIndex)");
    return NULL;
  }
  return answer(env, f, hw_front_push_walked(f, buf, len, walked, n, shard, linktype, first));
}

napi_value honeywall_front_advance_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  hw_front *f;
  int32_t kind;
  double ts_sec, ts_usec;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || (f = front_of(env, argv[0])) == NULL ||
      napi_get_value_int32(env, argv[1], &kind) != napi_ok || napi_get_value_double(env, argv[2], &ts_sec) != napi_ok ||
      napi_get_value_double(env, argv[3], &ts_usec) != napi_ok) {
    napi_throw_type_error(env, NULL, "frontAdvance(front, kind, tsSec, tsUsec)");
    return NULL;
  }
  return answer(env, f, hw_front_advance(f, kind, ts_sec, ts_usec));
}

napi_value honeywall_front_finish_js(napi_env env, napi_callback_info info) {
  hw_front *f = front_arg(env, info, "frontFinish(front)");
  if (f == NULL) return NULL;
  return answer(env, f, hw_front_finish(f));
}

napi_value honeywall_front_views_js(napi_env env, napi_callback_info info) {
  hw_front *f = front_arg(env, info, "frontViews(front)");
  if (f == NULL) return NULL;
  /* a block gets one view, ever: its ArrayBuffer frees it when collected, so a second one over the same block would
   * free it under the first (null for a block JavaScript already has) */
  napi_value out, rv, av;
  napi_get_null(env, &rv);
  napi_get_null(env, &av);
  if (!f->rec_exported) {
    napi_value ab;
    if (napi_create_external_arraybuffer(env, f->rec, f->cap * sizeof *f->rec, block_finalize, NULL, &ab) != napi_ok) {
      napi_throw_error(env, NULL, "frontViews: no external ArrayBuffer");
      return NULL;
    }
    f->rec_exported = 1;
    napi_create_typedarray(env, napi_float64_array, f->cap, ab, 0, &rv);
  }
  if (!f->arena_exported) {
    napi_value ab;
    if (napi_create_external_arraybuffer(env, f->arena, f->cap_arena, block_finalize, NULL, &ab) != napi_ok) {
      napi_throw_error(env, NULL, "frontViews: no external ArrayBuffer");
      return NULL;
    }
    f->arena_exported = 1;
    napi_create_typedarray(env, napi_uint8_array, f->cap_arena, ab, 0, &av);
  }
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, rv);
  napi_set_element(env, out, 1, av);
  return out;
}

napi_value honeywall_front_stats_js(napi_env env, napi_callback_info info) {
  hw_front *f = front_arg(env, info, "frontStats(front)");
  if (f == NULL) return NULL;
  double r[HW_FLOW_STATS + 7 + 2];
  hw_flow_front_stats(f->table, r);
  const hw_defrag_stats *d = hw_defrag_stats_of(f->defrag);
  double ds[7] = {d->fragments, d->reassembled, d->timeouts, d->evicted, d->datagram_memcap, d->overlaps, d->bad};
  memcpy(r + HW_FLOW_STATS, ds, sizeof ds);
  hw_defrag_held(f->defrag, r + HW_FLOW_STATS + 7, r + HW_FLOW_STATS + 8);
  napi_value ab, out;
  void *data;
  napi_create_arraybuffer(env, sizeof r, &data, &ab);
  memcpy(data, r, sizeof r);
  napi_create_typedarray(env, napi_float64_array, sizeof r / sizeof r[0], ab, 0, &out);
  return out;
}
#endif /* HW_NO_NAPI */
