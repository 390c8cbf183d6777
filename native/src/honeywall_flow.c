/*
 * src/flow/table.ts and the parts of flow.ts and key.ts it uses, in C (see honeywall_flow.h). Function for function a
 * transcription: table.ts's comments say which stream5 behaviour each piece follows.
 *
 *   flowTableOpen(config: Float64Array, clientPorts?, serverPorts?, httpPorts?, smbPorts?: Uint8Array) -> table
 *       [trackTcp, trackUdp, trackIcmp, trackIp, maxTcp, maxUdp, maxIcmp, maxIp, timeoutTcp, timeoutUdp, timeoutIcmp,
 *       timeoutIp, requireHandshake, handshakeGrace, policy (0 bsd, 1 first, 2 last), maxQueuedBytes, maxQueuedSegs,
 *       flushSize, every client port reassembled, every server port reassembled, PAF on] (FlowConfig), the 65536-byte
 *       maps of the reassembled ports (FlowConfig.reassembleClientPorts / reassembleServerPorts) and of the HTTP and
 *       SMB ports whose data PAF flushes (the pipeline's pafActive, pafAuto, pduLength, pduHeadEnd).
 *   flowTableProcess(table, linktype, frame: Uint8Array, tsSec, tsUsec, index) -> Int32Array
 *       The frame decoded (honeywall_decode.c, checksums not verified) and tracked as FlowTable.process(p, now,
 *       index) tracks it: [flow (its createdIndex, -1 none), fromClient, isNew, established, streamInserted, nSegments,
 *       nRemoved], then per segment [flow, fromClient, reason, flags, ttl, seq, ack, window, pduHead, length, ...bytes],
 *       then per flow removed [flow, reason] (FlowTable.onRemove's calls, in order).
 *   flowTableFinish(table) -> Int32Array
 *       FlowTable.flushAll() then its stats: [created tcp, udp, icmp, ip, timedOut, evicted, noSession,
 *       flushedSegments, flushedBytes, nSegments], then the segments as above.
 */
#include <stdlib.h>
#include <string.h>

#include "honeywall_flow.h"
#include "honeywall_paf.h"

/* table.ts's constants: the footprint flush point, what PAF is shown, paf_max, the most one PAF check flushes, what
 * the head search reads again, the bytes a PDU length needs to be final */
#define FOOTPRINT_FLUSH_POINT 192
#define PAF_PEEK 16384
#define PAF_MAX 16000
#define MAXIMUM_PAF_MAX (65535 - 1500 - 255)
#define PAF_HEAD_OVERLAP 7
#define PAF_FINAL_BYTES 8
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

struct hw_flow_table {
  hw_flow_config cfg;
  hw_flow **buckets;
  uint32_t n_buckets, count;
  hw_flow *lru_head[4], *lru_tail[4];
  int32_t lru_size[4];
  hw_flow *order_head, *order_tail;
  int64_t first_sec;
  int32_t *free_slots, n_free, cap_free, next_slot;
  /* the flow in each slot (NULL: free) */
  hw_flow **by_slot;
  int32_t cap_by_slot;
  /* what one call produced */
  hw_segment *segs;
  int32_t n_segs, cap_segs;
  double *removed;
  int32_t n_removed, cap_removed;
  /* the flows removed during the call, kept (linked by chain) until the next so their segments can be read */
  hw_flow *dead;
  int32_t oom;
  /* PAF's view of the queued data */
  uint8_t peek[PAF_PEEK];
  double created[4], timed_out, evicted, no_session, flushed_segments, flushed_bytes;
  /* TCP segments a full reassembly queue did not take (even after flushing what was in order), and their bytes */
  double refused_segments, refused_bytes;
};


/* ------------------------------------------------------------------------------------------ key.ts */

static uint32_t endpoint_hash(const uint8_t *ip, int32_t n, uint32_t port) {
  uint32_t h = 0x811c9dc5u;
  for (int32_t i = 0; i < n; i++) h = (h ^ ip[i]) * 0x01000193u;
  return ((h ^ port) * 0x01000193u) ^ (port >> 8);
}

static uint32_t tuple_hash(uint32_t proto, uint32_t vlan, const uint8_t *src, uint32_t sp, const uint8_t *dst, uint32_t dp, int32_t n) {
  uint32_t a = endpoint_hash(src, n, sp), b = endpoint_hash(dst, n, dp);
  uint32_t h = ((a < b ? a : b) * 0x01000193u) ^ (a < b ? b : a);
  h = ((h ^ proto) * 0x01000193u) ^ vlan;
  return h & 0x3fffffffu;
}

static int compare_endpoints(const uint8_t *a, int32_t an, int32_t ap, const uint8_t *b, int32_t bn, int32_t bp) {
  int32_t n = an < bn ? an : bn;
  for (int32_t i = 0; i < n; i++)
    if (a[i] != b[i]) return (int)a[i] - (int)b[i];
  if (an != bn) return an - bn;
  return ap - bp;
}

static int same_side(const hw_endpoint *e, const uint8_t *ip, int32_t n, int32_t port) {
  return e->port == port && e->ip_len == n && memcmp(e->ip, ip, (size_t)n) == 0;
}

static int matches(const hw_flow *f, int32_t proto, int32_t vlan, const uint8_t *src, int32_t sp, const uint8_t *dst, int32_t dp, int32_t n) {
  if (f->proto != proto || f->vlan != vlan) return 0;
  if (same_side(&f->client, src, n, sp) && same_side(&f->server, dst, n, dp)) return 1;
  return same_side(&f->client, dst, n, dp) && same_side(&f->server, src, n, sp);
}

static int32_t seq_diff(int64_t a, int64_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* ------------------------------------------------------------------------------------------ bookkeeping */

static void lru_unlink(hw_flow_table *t, hw_flow *f) {
  int k = f->kind;
  if (f->lru_prev) f->lru_prev->lru_next = f->lru_next;
  else t->lru_head[k] = f->lru_next;
  if (f->lru_next) f->lru_next->lru_prev = f->lru_prev;
  else t->lru_tail[k] = f->lru_prev;
  f->lru_prev = f->lru_next = NULL;
  t->lru_size[k]--;
}

static void lru_push_head(hw_flow_table *t, hw_flow *f) {
  int k = f->kind;
  f->lru_prev = NULL;
  f->lru_next = t->lru_head[k];
  if (t->lru_head[k]) t->lru_head[k]->lru_prev = f;
  else t->lru_tail[k] = f;
  t->lru_head[k] = f;
  t->lru_size[k]++;
}

static int grow(void **p, int32_t *cap, int32_t need, size_t size) {
  if (need <= *cap) return 1;
  int32_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  void *n = realloc(*p, (size_t)c * size);
  if (n == NULL) return 0;
  *p = n;
  *cap = c;
  return 1;
}

static void index_add(hw_flow_table *t, hw_flow *f) {
  if (t->count + 1 > t->n_buckets / 2) {
    uint32_t nb = t->n_buckets ? t->n_buckets * 2 : 1024;
    hw_flow **b = calloc(nb, sizeof *b);
    if (b != NULL) {
      for (uint32_t i = 0; i < t->n_buckets; i++)
        for (hw_flow *x = t->buckets[i], *next; x != NULL; x = next) {
          next = x->chain;
          x->chain = b[x->hash & (nb - 1)];
          b[x->hash & (nb - 1)] = x;
        }
      free(t->buckets);
      t->buckets = b;
      t->n_buckets = nb;
    } else if (t->n_buckets == 0) {
      t->oom = 1;
      return;
    }
  }
  hw_flow **at = &t->buckets[f->hash & (t->n_buckets - 1)];
  f->chain = *at;
  *at = f;
  t->count++;
  /* insertion order (FlowIndex.values) */
  f->order_prev = t->order_tail;
  f->order_next = NULL;
  if (t->order_tail) t->order_tail->order_next = f;
  else t->order_head = f;
  t->order_tail = f;
}

static void index_delete(hw_flow_table *t, hw_flow *f) {
  for (hw_flow **at = &t->buckets[f->hash & (t->n_buckets - 1)]; *at != NULL; at = &(*at)->chain)
    if (*at == f) {
      *at = f->chain;
      break;
    }
  t->count--;
  if (f->order_prev) f->order_prev->order_next = f->order_next;
  else t->order_head = f->order_next;
  if (f->order_next) f->order_next->order_prev = f->order_prev;
  else t->order_tail = f->order_prev;
}

static hw_flow *index_find(hw_flow_table *t, uint32_t hash, int32_t proto, int32_t vlan, const uint8_t *src, int32_t sp, const uint8_t *dst,
                           int32_t dp, int32_t n) {
  if (t->n_buckets == 0) return NULL;
  for (hw_flow *f = t->buckets[hash & (t->n_buckets - 1)]; f != NULL; f = f->chain)
    if (f->hash == hash && matches(f, proto, vlan, src, sp, dst, dp, n)) return f;
  return NULL;
}

static void push_segment(hw_flow_table *t, const hw_segment *s) {
  if (!grow((void **)&t->segs, &t->cap_segs, t->n_segs + 1, sizeof *t->segs)) {
    free(s->data);
    t->oom = 1;
    return;
  }
  t->segs[t->n_segs++] = *s;
}

/* The segments of the call before are let go at the start of the next. */
static void clear_segments(hw_flow_table *t) {
  for (int32_t i = 0; i < t->n_segs; i++) free(t->segs[i].data);
  t->n_segs = 0;
  for (hw_flow *f = t->dead, *next; f != NULL; f = next) {
    next = f->chain;
    free(f);
  }
  t->dead = NULL;
}

/* ------------------------------------------------------------------------------------------ reassembly */

/* the pipeline's pafActive, pafAuto, pduLength and pduHeadEnd */
static int paf_active(const hw_flow_table *t, const hw_flow *f) {
  return t->cfg.paf && (t->cfg.http_ports[f->server.port] || t->cfg.smb_ports[f->server.port]);
}

static int paf_auto(const hw_flow_table *t, const hw_flow *f) { return t->cfg.paf && t->cfg.smb_ports[f->server.port]; }

static double pdu_length(const hw_flow_table *t, const hw_flow *f, int from_client, const uint8_t *b, int64_t n) {
  if (t->cfg.smb_ports[f->server.port]) return f->dce2.no_inspect ? -1 : hw_smb_paf_length(b, n);
  return hw_http_paf_length(b, n, from_client, !from_client && f->http_head);
}

/* pafDeclined: dcerpc2 gave the session up */
static int paf_declined(const hw_flow_table *t, const hw_flow *f) { return t->cfg.smb_ports[f->server.port] && f->dce2.no_inspect; }

static int pdu_head_end(const hw_flow_table *t, const hw_flow *f, const uint8_t *b, int64_t n, int64_t offset) {
  if (t->cfg.smb_ports[f->server.port]) return hw_smb_pdu_head_in(b, n, offset == 0);
  return hw_http_has_header_end(b, n);
}

static int reassembles(const hw_flow_table *t, const hw_flow *f, int from_client) {
  if (from_client ? t->cfg.all_client_ports || t->cfg.client_ports[f->server.port] : t->cfg.all_server_ports || t->cfg.server_ports[f->server.port])
    return 1;
  return paf_auto(t, f);
}

/* streamOf / Endpoint.enableReassembly: the side's stream, made with its flush policy (footprint here). */
static hw_stream *stream_of(hw_flow_table *t, const hw_flow *f, hw_endpoint *ep) {
  if (ep->stream == NULL) {
    ep->paf = paf_active(t, f);
    hw_stream *s = malloc(sizeof *s);
    if (s == NULL) {
      t->oom = 1;
      return NULL;
    }
    hw_stream_init_buffer(s, t->cfg.policy, t->cfg.max_queued_bytes, t->cfg.max_queued_segs);
    ep->flush_pt = FOOTPRINT_FLUSH_POINT;
    if (ep->syn_next >= 0) hw_stream_init(s, (uint32_t)ep->syn_next);
    ep->stream = s;
  }
  return ep->stream;
}

static void saw_syn(hw_endpoint *ep, uint32_t next) {
  if (ep->stream != NULL) hw_stream_init(ep->stream, next);
  else if (ep->syn_next < 0) ep->syn_next = next;
}

static int64_t acked_bytes(hw_endpoint *ep) {
  hw_stream *s = ep->stream;
  if (s == NULL || s->base < 0 || ep->acked_to < 0) return 0;
  int64_t n = seq_diff(ep->acked_to, s->base);
  if (n <= 0) return 0;
  int64_t c = hw_stream_contiguous(s);
  return n < c ? n : c;
}

/* flushStream: up to `limit` (-1: all) in-order bytes in chunks of at most flush_size. */
static void flush_stream(hw_flow_table *t, hw_flow *f, hw_endpoint *ep, int from_client, int64_t limit, int reason, int32_t meta, int whole_chunks_only) {
  hw_stream *s = ep->stream;
  if (s == NULL) return;
  hw_endpoint *peer = from_client ? &f->server : &f->client;
  int64_t left = limit;
  /* only the first chunk of a flush from a PDU boundary starts the PDU */
  int head = ep->paf && ep->paf_left == 0;
  while (left < 0 || left > 0) {
    if (whole_chunks_only && hw_stream_contiguous(s) < t->cfg.flush_size) return;
    int64_t want = left < 0 || left > t->cfg.flush_size ? t->cfg.flush_size : left;
    uint32_t seq = 0;
    uint8_t *data = NULL;
    int32_t n = hw_stream_flush(s, want, &seq, &data);
    if (n <= 0) return;
    if (left > 0) left -= n;
    int pdu_head = head;
    head = 0;
    ep->paf_left = ep->paf ? (ep->paf_left - n > 0 ? ep->paf_left - n : 0) : 0;
    t->flushed_segments++;
    t->flushed_bytes += n;
    hw_segment g = {f->slot, f->created_index, from_client, reason, meta & 0xff, (int32_t)((uint32_t)meta >> 8), seq,
                    peer->l_unackd >= 0 ? peer->l_unackd : 0, peer->window, pdu_head, n, data};
    push_segment(t, &g);
  }
}

/* flushAcked: the side's acked data; unless `force`, only with two segments of it (footprint's DataToFlush). */
static void flush_acked(hw_flow_table *t, hw_flow *f, hw_endpoint *ep, int from_client, int32_t meta, int force, int reason) {
  hw_stream *s = ep->stream;
  if (s == NULL) return;
  int64_t acked = acked_bytes(ep);
  if (acked <= 0) return;
  if (!force && hw_stream_pieces_before(s, acked) < (ep->paf ? 1 : 2)) return;
  flush_stream(t, f, ep, from_client, acked, reason, meta, 0);
}

/* flushOnAck: the peer's ACK flushes the side's data. PAF: each acked complete message; when PAF gives up, footprint
 * with paf_max added to the flush point. Footprint: once the acked bytes reach the flush point, with at least two
 * segments acked, all of them. */
static void flush_on_ack(hw_flow_table *t, hw_flow *f, hw_endpoint *ep, int from_client, int32_t meta) {
  hw_stream *s = ep->stream;
  if (s == NULL) return;
  if (ep->paf) {
    int split = paf_auto(t, f);
    for (;;) {
      int64_t acked = acked_bytes(ep);
      if (acked <= 0) return;
      double n = ep->paf_left;
      int declined = paf_declined(t, f);
      if (n == 0 && !declined && ep->paf_pdu > 0 && ep->paf_pdu_base == s->base)
        n = ep->paf_pdu;
      else if (n == 0) {
        int64_t limit = acked < PAF_PEEK ? acked : PAF_PEEK;
        int64_t known = !declined && ep->paf_base == s->base ? ep->paf_scanned : 0;
        int look = 1;
        if (known > 0) {
          int64_t from = known - PAF_HEAD_OVERLAP > 0 ? known - PAF_HEAD_OVERLAP : 0;
          if (limit <= known)
            look = 0;
          else {
            hw_stream_assemble(s, from, limit, t->peek);
            if (!pdu_head_end(t, f, t->peek, limit - from, from)) {
              ep->paf_scanned = limit;
              look = 0;
            }
          }
        }
        if (look) {
          hw_stream_assemble(s, 0, limit, t->peek);
          n = pdu_length(t, f, from_client, t->peek, limit);
          if (n == 0 && !pdu_head_end(t, f, t->peek, limit, 0)) {
            ep->paf_base = s->base;
            ep->paf_scanned = limit;
          }
          if (n < 0) {
            ep->paf = 0;
            ep->flush_pt += PAF_MAX;
            break;
          }
          if (n > (double)acked && limit >= PAF_FINAL_BYTES) {
            ep->paf_pdu = n;
            ep->paf_pdu_base = s->base;
          }
        }
      }
      if (n == 0 || n > (double)acked) {
        if (!split || acked < PAF_MAX) return;
        int64_t part = acked < MAXIMUM_PAF_MAX ? acked : MAXIMUM_PAF_MAX;
        flush_stream(t, f, ep, from_client, part, HW_SIZE, meta, 0);
        ep->paf_left = n == 0 ? 0 : n - (double)part;
        continue;
      }
      flush_stream(t, f, ep, from_client, (int64_t)n, HW_PDU, meta, 0);
    }
  }
  int64_t acked = acked_bytes(ep);
  if (acked >= ep->flush_pt && hw_stream_pieces_before(s, acked) > 1) flush_stream(t, f, ep, from_client, acked, HW_ACK, meta, 0);
}

static void endpoint_release(hw_endpoint *e) {
  if (e->stream != NULL) {
    hw_stream_release(e->stream);
    free(e->stream);
    e->stream = NULL;
  }
}

/* ------------------------------------------------------------------------------------------ table.ts */

/* cleanupFlush: per side, the server's first, a record of the first queued packet (decoded again), then the acked
 * data still queued. */
static void cleanup_flush(hw_flow_table *t, hw_flow *f, int reason) {
  for (int w = 0; w < 2; w++) {
    int from_client = w == 1;
    hw_endpoint *ep = from_client ? &f->client : &f->server;
    hw_endpoint *peer = from_client ? &f->server : &f->client;
    hw_stream *st = ep->stream;
    int has_meta = st != NULL && st->n_segs > 0;
    if (!has_meta) {
      if (ep->unflushed_first < 0) continue;
      hw_segment s = {f->slot, f->created_index, from_client, HW_REDECODE, ep->unflushed_meta & 0xff, (int32_t)((uint32_t)ep->unflushed_meta >> 8),
                      ep->unflushed_first, peer->l_unackd >= 0 ? peer->l_unackd : 0, peer->window, 0, 0, NULL};
      push_segment(t, &s);
      continue;
    }
    int32_t meta = st->segs[0].meta;
    hw_segment s = {f->slot, f->created_index, from_client, HW_REDECODE, meta & 0xff, (int32_t)((uint32_t)meta >> 8), st->base >= 0 ? st->base : 0,
                    peer->l_unackd >= 0 ? peer->l_unackd : 0, peer->window, 0, 0, NULL};
    push_segment(t, &s);
    flush_acked(t, f, ep, from_client, meta, 1, reason);
  }
}

static void remove_flow(hw_flow_table *t, hw_flow *f, int reason) {
  if (!f->terminated) cleanup_flush(t, f, reason);
  lru_unlink(t, f);
  index_delete(t, f);
  if (grow((void **)&t->removed, &t->cap_removed, t->n_removed + HW_REMOVED_STRIDE, sizeof *t->removed)) {
    t->removed[t->n_removed++] = f->created_index;
    t->removed[t->n_removed++] = reason;
    t->removed[t->n_removed++] = t->n_segs;
    t->removed[t->n_removed++] = f->slot;
  } else
    t->oom = 1;
  if (grow((void **)&t->free_slots, &t->cap_free, t->n_free + 1, sizeof *t->free_slots)) t->free_slots[t->n_free++] = f->slot;
  t->by_slot[f->slot] = NULL;
  endpoint_release(&f->client);
  endpoint_release(&f->server);
  f->chain = t->dead;
  t->dead = f;
}

static void expire_kind(hw_flow_table *t, int k, double now) {
  while (t->lru_tail[k] != NULL && now - t->lru_tail[k]->last_sec > t->cfg.timeout[k]) {
    t->timed_out++;
    remove_flow(t, t->lru_tail[k], HW_TIMEOUT);
  }
}

static void endpoint_init(hw_endpoint *e, const uint8_t *ip, int32_t n, int32_t port) {
  memset(e, 0, sizeof *e);
  memcpy(e->ip, ip, (size_t)n);
  e->ip_len = n;
  e->port = port;
  e->isn = e->next_seq = e->fin_end = e->l_unackd = e->acked_to = e->unflushed_first = e->syn_next = -1;
  e->paf_base = e->paf_pdu_base = -1;
}

static hw_flow *create_flow(hw_flow_table *t, int kind, int32_t vlan, uint32_t hash, const hw_packet *p, const uint8_t *b, int32_t sp,
                            int32_t dp, double now, int64_t ts_sec) {
  const hw_ip *ip = &p->ip[p->n_ip - 1];
  int32_t n = ip->version == 4 ? 4 : 16;
  const uint8_t *src = b + ip->offset + (ip->version == 4 ? 12 : 8), *dst = src + n;
  int client_is_src = 1, state = HW_STATE_NONE, midstream = 1;
  if (p->has_tcp) {
    int syn = (p->tcp.flags & TCP_SYN) != 0, ack = (p->tcp.flags & TCP_ACK) != 0;
    if (p->tcp.flags & TCP_RST) return NULL;
    if (t->cfg.require_handshake && !(syn && !ack) && (double)(ts_sec - t->first_sec) >= t->cfg.handshake_grace) return NULL;
    if (syn && !ack) {
      state = HW_SYN_SENT;
      midstream = 0;
    } else if (syn && ack) {
      client_is_src = 0;
      state = HW_SYN_RECEIVED;
      midstream = 0;
    } else {
      if (p->payload_length == 0) return NULL;
      client_is_src = sp >= dp;
      state = HW_ESTABLISHED;
    }
  }
  hw_flow *f = calloc(1, sizeof *f);
  if (f == NULL) {
    t->oom = 1;
    return NULL;
  }
  f->kind = kind;
  f->proto = ip->proto;
  f->vlan = vlan;
  f->hash = hash;
  endpoint_init(&f->client, client_is_src ? src : dst, n, client_is_src ? sp : dp);
  endpoint_init(&f->server, client_is_src ? dst : src, n, client_is_src ? dp : sp);
  f->state = state;
  f->midstream = midstream;
  f->start_sec = f->last_sec = now;
  while (t->lru_size[kind] >= t->cfg.max[kind] && t->lru_tail[kind] != NULL) {
    t->evicted++;
    remove_flow(t, t->lru_tail[kind], HW_EVICTED);
  }
  f->slot = t->n_free > 0 ? t->free_slots[--t->n_free] : t->next_slot++;
  if (!grow((void **)&t->by_slot, &t->cap_by_slot, f->slot + 1, sizeof *t->by_slot)) {
    t->oom = 1;
    free(f);
    return NULL;
  }
  t->by_slot[f->slot] = f;
  index_add(t, f);
  lru_push_head(t, f);
  t->created[kind]++;
  return f;
}

/* tcpUpdate: the TCP state, the sender's data queued (or its first unflushed packet noted), the flushes this
 * packet causes. Returns whether its payload was queued. */
static int tcp_update(hw_flow_table *t, hw_flow *f, const hw_packet *p, const uint8_t *b, int from_client, hw_endpoint *sender, hw_endpoint *receiver) {
  const hw_tcp *tcp = &p->tcp;
  int fl = tcp->flags;
  int syn = (fl & TCP_SYN) != 0, ack = (fl & TCP_ACK) != 0, fin = (fl & TCP_FIN) != 0, rst = (fl & TCP_RST) != 0;
  int32_t len = p->payload_length;
  int32_t meta = fl | (p->ip[p->n_ip - 1].ttl << 8);
  if (syn || sender->isn < 0) sender->isn = tcp->seq;
  int64_t end_seq = (uint32_t)(tcp->seq + (uint32_t)len + (uint32_t)syn + (uint32_t)fin);
  if (sender->next_seq < 0 || seq_diff(end_seq, sender->next_seq) > 0) sender->next_seq = end_seq;
  if (rst) {
    sender->rst_seen = 1;
    if (sender->fin_seen || receiver->fin_seen) {
      flush_acked(t, f, receiver, !from_client, meta, 1, HW_RST);
      flush_acked(t, f, sender, from_client, meta, 1, HW_RST);
    }
    f->state = HW_CLOSED;
    return 0;
  }
  if (syn && ack && !from_client && (f->state == HW_SYN_SENT || f->state == HW_SYN_RECEIVED))
    f->state = HW_SYN_RECEIVED;
  else if (ack && !syn && from_client && f->state == HW_SYN_RECEIVED && receiver->isn >= 0 && tcp->ack == (uint32_t)(receiver->isn + 1)) {
    f->state = HW_ESTABLISHED;
    f->established = 1;
    f->synced = 1;
  }
  if (syn) {
    sender->l_unackd = (uint32_t)(tcp->seq + 1);
    sender->window = (uint32_t)tcp->window;
  }
  if (ack && !syn && (f->synced || f->midstream)) {
    sender->l_unackd = tcp->seq;
    sender->window = (uint32_t)tcp->window;
    if (receiver->l_unackd < 0 || seq_diff(tcp->ack, receiver->l_unackd) > 0) receiver->l_unackd = tcp->ack;
    if (receiver->acked_to < 0 || seq_diff(tcp->ack, receiver->acked_to) > 0) receiver->acked_to = tcp->ack;
  }
  int seen_both = f->client.packets > 0 && f->server.packets > 0;
  if (f->midstream && seen_both) f->established = 1;
  int inserted = 0;
  if (reassembles(t, f, from_client)) {
    if (syn) saw_syn(sender, (uint32_t)(tcp->seq + 1));
    if (len > 0 && !syn && !(sender->fin_seen && sender->fin_end >= 0 && seq_diff(tcp->seq, sender->fin_end) >= 0)) {
      hw_stream *s = stream_of(t, f, sender);
      if (s != NULL) {
        const uint8_t *payload = b + p->payload_offset;
        const double refused = s->refused;
        inserted = hw_stream_insert(s, tcp->seq, payload, len, meta);
        if (!inserted && s->queued_bytes + len > t->cfg.max_queued_bytes) {
          flush_stream(t, f, sender, from_client, -1, HW_SIZE, meta, 0);
          inserted = hw_stream_insert(s, tcp->seq, payload, len, meta);
        }
        if (!inserted && s->refused > refused) {
          t->refused_segments++;
          t->refused_bytes += len;
        }
      }
    }
  } else if (f->midstream && len > 0 && !syn && !sender->unflushed_ended && sender->unflushed_first < 0) {
    sender->unflushed_first = tcp->seq;
    sender->unflushed_meta = meta;
  }
  if (ack && receiver->unflushed_first >= 0 && seq_diff(tcp->ack, receiver->unflushed_first) > 0) {
    receiver->unflushed_first = -1;
    receiver->unflushed_ended = 1;
  }
  if (fin && !sender->fin_seen) {
    sender->fin_seen = 1;
    sender->fin_end = end_seq;
  }
  if (fin) f->state = receiver->fin_seen ? HW_CLOSED : HW_CLOSING;
  int terminated = ack && sender->fin_seen && receiver->fin_seen && seq_diff(tcp->ack, receiver->fin_end) >= 0 && sender->acked_to >= 0 &&
                   seq_diff(sender->acked_to, sender->fin_end) >= 0;
  if (ack) flush_on_ack(t, f, receiver, !from_client, meta);
  if (terminated) {
    flush_acked(t, f, &f->client, 1, meta, 0, HW_FIN);
    flush_acked(t, f, &f->server, 0, meta, 0, HW_FIN);
    cleanup_flush(t, f, HW_FIN);
    f->terminated = 1;
  }
  hw_stream *ss = sender->stream;
  if (ss != NULL && hw_stream_contiguous(ss) >= t->cfg.flush_size) flush_stream(t, f, sender, from_client, -1, HW_SIZE, meta, 1);
  return inserted;
}


/* FlowTable.process, the packet decoded into p from the frame b. */
static void process_table(hw_flow_table *t, const hw_packet *p, const uint8_t *b, int64_t ts_sec, double now, double index, hw_update *u) {
  clear_segments(t);
  t->n_removed = 0;
  u->flow = NULL;
  u->from_client = 1;
  u->is_new = u->established = u->stream_inserted = 0;
  u->new_at = 0;
  if (p->n_ip == 0) return;
  const hw_ip *ip = &p->ip[p->n_ip - 1];
  if (t->first_sec < 0) t->first_sec = ts_sec;
  int kind = p->has_tcp ? HW_TCP : p->has_udp ? HW_UDP : p->has_icmp || p->has_icmp6 ? HW_ICMP : HW_IP;
  expire_kind(t, kind, now);
  if (!t->cfg.track[kind]) return;
  if (ip->is_fragment) return;
  int32_t sp = 0, dp = 0;
  if (p->has_tcp) sp = p->tcp.src_port, dp = p->tcp.dst_port;
  else if (p->has_udp) sp = p->udp.src_port, dp = p->udp.dst_port;
  else {
    const hw_icmp *ic = p->has_icmp ? &p->icmp : p->has_icmp6 ? &p->icmp6 : NULL;
    if (ic != NULL && ic->id >= 0) sp = dp = ic->id;
  }
  int32_t vlan = p->n_vlans > 0 ? p->vlan_tci[p->n_vlans - 1] & 0x0fff : 0;
  int32_t n = ip->version == 4 ? 4 : 16;
  const uint8_t *src = b + ip->offset + (ip->version == 4 ? 12 : 8), *dst = src + n;
  uint32_t hash = tuple_hash((uint32_t)ip->proto, (uint32_t)vlan, src, (uint32_t)sp, dst, (uint32_t)dp, n);
  hw_flow *f = index_find(t, hash, ip->proto, vlan, src, sp, dst, dp, n);
  int is_new = 0;
  if (f != NULL && p->has_tcp && (f->terminated || (f->state == HW_CLOSED && (p->tcp.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN))) {
    remove_flow(t, f, HW_END);
    f = NULL;
  }
  if (f == NULL) {
    f = create_flow(t, kind, vlan, hash, p, b, sp, dp, now, ts_sec);
    u->new_at = t->n_segs;
    if (f == NULL) {
      t->no_session++;
      return;
    }
    f->created_index = index;
    is_new = 1;
  } else {
    lru_unlink(t, f);
    lru_push_head(t, f);
    f->last_sec = now;
  }
  f->last_index = index;
  int from_client = compare_endpoints(src, n, sp, f->client.ip, f->client.ip_len, f->client.port) == 0;
  hw_endpoint *sender = from_client ? &f->client : &f->server, *receiver = from_client ? &f->server : &f->client;
  sender->packets++;
  sender->bytes += p->payload_length;
  int inserted = 0;
  if (p->has_tcp) inserted = tcp_update(t, f, p, b, from_client, sender, receiver);
  else if (f->client.packets > 0 && f->server.packets > 0)
    f->established = 1;
  u->flow = f;
  u->from_client = from_client;
  u->is_new = is_new;
  u->established = f->established && !f->terminated;
  u->stream_inserted = inserted;
}

/* The flow a segment names, if it is still in the table (its slot may hold a newer flow). */
static hw_flow *flow_of(const hw_flow_table *t, const hw_segment *s) {
  if (s->flow_slot < 0 || s->flow_slot >= t->next_slot) return NULL;
  hw_flow *f = t->by_slot[s->flow_slot];
  return f != NULL && f->created_index == s->flow_created ? f : NULL;
}

/*
 * What the pipeline gives the application parsers after the table's answer (pipeline.ts track: each flushed
 * segment's data, then the packet's own payload when it was not queued), as far as PAF asks of their state: the HTTP
 * session's requests (a client's data on an HTTP port) and dcerpc2's rebuilt packets (on an SMB port).
 */
static void parsers_after(hw_flow_table *t, const hw_packet *p, const uint8_t *b, const hw_update *u) {
  if (!t->cfg.paf) return;
  for (int32_t i = 0; i < t->n_segs; i++) {
    const hw_segment *s = &t->segs[i];
    if (s->reason == HW_REDECODE) continue;
    hw_flow *f = flow_of(t, s);
    if (f == NULL) continue;
    int head;
    if (t->cfg.http_ports[f->server.port] && s->from_client && hw_http_request_scan(s->data, s->len, &head)) f->http_head = head;
    if (t->cfg.smb_ports[f->server.port]) hw_dce2_rebuilt(&f->dce2, s->from_client, (uint32_t)s->seq, (uint32_t)s->ack, s->len);
  }
  hw_flow *f = u->flow;
  int head;
  if (f != NULL && p->has_tcp && p->payload_length > 0 && !u->stream_inserted && u->from_client && t->cfg.http_ports[f->server.port] &&
      hw_http_request_scan(b + p->payload_offset, p->payload_length, &head))
    f->http_head = head;
}

static void process(hw_flow_table *t, const hw_packet *p, const uint8_t *b, int64_t ts_sec, double now, double index, hw_update *u) {
  process_table(t, p, b, ts_sec, now, index, u);
  parsers_after(t, p, b, u);
}

hw_flow_table *hw_flow_table_new(const hw_flow_config *cfg) {
  hw_flow_table *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->cfg = *cfg;
  t->first_sec = -1;
  return t;
}

void hw_flow_table_free(hw_flow_table *t) {
  if (t == NULL) return;
  for (hw_flow *f = t->order_head, *next; f != NULL; f = next) {
    next = f->order_next;
    endpoint_release(&f->client);
    endpoint_release(&f->server);
    free(f);
  }
  clear_segments(t);
  free(t->buckets);
  free(t->free_slots);
  free(t->by_slot);
  free(t->segs);
  free(t->removed);
  free(t);
}

/* ------------------------------------------------------------------------------------------ the front's use */

void hw_flow_front_process(hw_flow_table *t, const hw_packet *p, const uint8_t *b, int64_t ts_sec, double now, double index, hw_update *u) {
  process(t, p, b, ts_sec, now, index, u);
}

void hw_flow_front_expire(hw_flow_table *t, int kind, double now) {
  clear_segments(t);
  t->n_removed = 0;
  if (kind >= 0 && kind < 4) expire_kind(t, kind, now);
}

void hw_flow_front_finish(hw_flow_table *t) {
  clear_segments(t);
  t->n_removed = 0;
  for (hw_flow *f = t->order_head; f != NULL; f = f->order_next)
    if (!f->terminated) cleanup_flush(t, f, HW_END);
}

const hw_segment *hw_flow_front_segments(const hw_flow_table *t, int32_t *n) {
  *n = t->n_segs;
  return t->segs;
}

const double *hw_flow_front_removed(const hw_flow_table *t, int32_t *n) {
  *n = t->n_removed / HW_REMOVED_STRIDE;
  return t->removed;
}

const hw_flow *hw_flow_front_flow_of(const hw_flow_table *t, const hw_segment *s) {
  const hw_flow *f = flow_of(t, s);
  for (const hw_flow *d = t->dead; f == NULL && d != NULL; d = d->chain)
    if (d->slot == s->flow_slot && d->created_index == s->flow_created) f = d;
  return f;
}

int hw_flow_front_oom(const hw_flow_table *t) { return t->oom; }

int hw_flow_front_expires(const hw_flow_table *t, int kind, double now) {
  return t->lru_tail[kind] != NULL && now - t->lru_tail[kind]->last_sec > t->cfg.timeout[kind];
}


void hw_flow_front_stats(const hw_flow_table *t, double out[HW_FLOW_STATS]) {
  for (int k = 0; k < 4; k++) out[k] = t->created[k];
  out[4] = t->timed_out;
  out[5] = t->evicted;
  out[6] = t->no_session;
  out[7] = t->flushed_segments;
  out[8] = t->flushed_bytes;
  out[9] = t->count;
  out[10] = t->refused_segments;
  out[11] = t->refused_bytes;
}

#ifndef HW_NO_NAPI
/* ------------------------------------------------------------------------------------------ N-API (tests) */

typedef struct {
  hw_flow_table *table;
  hw_packet packet;
} table_handle;

static void table_finalize(napi_env env, void *data, void *hint) {
  table_handle *h = data;
  hw_flow_table_free(h->table);
  free(h);
}

/* A table from flowTableOpen's arguments (config, then the four port maps at maps[0..3]); NULL with an exception. */
hw_flow_table *hw_flow_table_from_js(napi_env env, napi_value config, napi_value *maps_js) {
  napi_typedarray_type ty;
  size_t len, off;
  double *c;
  napi_value ab;
  if (napi_get_typedarray_info(env, config, &ty, &len, (void **)&c, &ab, &off) != napi_ok || ty != napi_float64_array || len < 21) {
    napi_throw_type_error(env, NULL, "a flow table's configuration is a Float64Array of 21");
    return NULL;
  }
  hw_flow_config *cfg = calloc(1, sizeof *cfg);
  if (cfg == NULL) {
    napi_throw_error(env, NULL, "flow table: out of memory");
    return NULL;
  }
  for (int k = 0; k < 4; k++) {
    cfg->track[k] = c[k] != 0;
    cfg->max[k] = (int32_t)c[4 + k];
    cfg->timeout[k] = c[8 + k];
  }
  cfg->require_handshake = c[12] != 0;
  cfg->handshake_grace = c[13];
  cfg->policy = (int32_t)c[14];
  cfg->max_queued_bytes = (int64_t)c[15];
  cfg->max_queued_segs = (int32_t)c[16];
  cfg->flush_size = (int32_t)c[17];
  cfg->all_client_ports = c[18] != 0;
  cfg->all_server_ports = c[19] != 0;
  cfg->paf = c[20] != 0;
  uint8_t *maps[4] = {cfg->client_ports, cfg->server_ports, cfg->http_ports, cfg->smb_ports};
  for (int w = 0; w < 4; w++) {
    uint8_t *map;
    size_t n;
    napi_valuetype vt;
    napi_typeof(env, maps_js[w], &vt);
    if (vt == napi_undefined || vt == napi_null) continue;
    if (napi_get_typedarray_info(env, maps_js[w], &ty, &n, (void **)&map, &ab, &off) != napi_ok || ty != napi_uint8_array || n != 65536) {
      free(cfg);
      napi_throw_type_error(env, NULL, "a flow table's port map is a Uint8Array of 65536");
      return NULL;
    }
    memcpy(maps[w], map, 65536);
  }
  hw_flow_table *t = hw_flow_table_new(cfg);
  free(cfg);
  if (t == NULL) napi_throw_error(env, NULL, "flow table: out of memory");
  return t;
}

napi_value honeywall_flow_table_open_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, "flowTableOpen(config: Float64Array of 21, clientPorts, serverPorts, httpPorts, smbPorts)");
    return NULL;
  }
  hw_flow_table *t = hw_flow_table_from_js(env, argv[0], argv + 1);
  if (t == NULL) return NULL;
  table_handle *h = calloc(1, sizeof *h);
  if (h == NULL) {
    hw_flow_table_free(t);
    napi_throw_error(env, NULL, "flowTableOpen: out of memory");
    return NULL;
  }
  h->table = t;
  napi_value out;
  napi_create_external(env, h, table_finalize, NULL, &out);
  return out;
}

static napi_value int32_out(napi_env env, const int32_t *r, size_t n) {
  napi_value ab, out;
  void *data;
  if (napi_create_arraybuffer(env, sizeof(int32_t) * n, &data, &ab) != napi_ok) return NULL;
  memcpy(data, r, sizeof(int32_t) * n);
  napi_create_typedarray(env, napi_int32_array, n, ab, 0, &out);
  return out;
}

static size_t segments_size(const hw_flow_table *t) {
  size_t n = 0;
  for (int32_t i = 0; i < t->n_segs; i++) n += 10 + (size_t)t->segs[i].len;
  return n;
}

static size_t put_segments(hw_flow_table *t, int32_t *r, size_t n) {
  for (int32_t i = 0; i < t->n_segs; i++) {
    const hw_segment *s = &t->segs[i];
    int32_t head[10] = {(int32_t)s->flow_created, s->from_client, s->reason, s->flags, s->ttl, (int32_t)(uint32_t)s->seq, (int32_t)(uint32_t)s->ack,
                        (int32_t)s->window, s->pdu_head, s->len};
    memcpy(r + n, head, sizeof head);
    n += 10;
    for (int32_t k = 0; k < s->len; k++) r[n++] = s->data[k];
  }
  return n;
}

static table_handle *handle_of(napi_env env, napi_value v) {
  void *h = NULL;
  if (napi_get_value_external(env, v, &h) != napi_ok || h == NULL) {
    napi_throw_type_error(env, NULL, "not a flow table");
    return NULL;
  }
  return h;
}

int hw_frame_args_of(napi_env env, const napi_value *argv, hw_frame_args *a) {
  napi_typedarray_type ty;
  size_t off;
  napi_value ab;
  return napi_get_value_int32(env, argv[0], &a->linktype) == napi_ok &&
         napi_get_typedarray_info(env, argv[1], &ty, &a->len, (void **)&a->frame, &ab, &off) == napi_ok && ty == napi_uint8_array &&
         napi_get_value_double(env, argv[2], &a->ts_sec) == napi_ok && napi_get_value_double(env, argv[3], &a->ts_usec) == napi_ok &&
         napi_get_value_double(env, argv[4], &a->index) == napi_ok && a->len <= INT32_MAX / 2;
}

napi_value honeywall_flow_table_process_js(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) {
    napi_throw_type_error(env, NULL, "flowTableProcess(table, linktype, frame, tsSec, tsUsec, index)");
    return NULL;
  }
  table_handle *h = handle_of(env, argv[0]);
  if (h == NULL) return NULL;
  hw_frame_args a;
  if (!hw_frame_args_of(env, argv + 1, &a)) {
    napi_throw_type_error(env, NULL, "flowTableProcess(table, linktype, frame: Uint8Array, tsSec, tsUsec, index)");
    return NULL;
  }
  int32_t linktype = a.linktype;
  double ts_sec = a.ts_sec, ts_usec = a.ts_usec, index = a.index;
  uint8_t *b = a.frame;
  size_t len = a.len;
  hw_decode_options o = {0, 8, 0};
  hw_decode(&h->packet, linktype, b, (int32_t)len, &o);
  hw_update u;
  hw_flow_table *t = h->table;
  process(t, &h->packet, b, (int64_t)ts_sec, ts_sec + ts_usec / 1e6, index, &u);
  if (t->oom) {
    napi_throw_error(env, NULL, "flowTableProcess: out of memory");
    return NULL;
  }
  size_t cap = 7 + segments_size(t) + (size_t)t->n_removed / 2;
  int32_t *r = malloc(sizeof(int32_t) * cap);
  if (r == NULL) {
    napi_throw_error(env, NULL, "flowTableProcess: out of memory");
    return NULL;
  }
  int32_t head[7] = {u.flow ? (int32_t)u.flow->created_index : -1, u.from_client, u.is_new, u.established, u.stream_inserted, t->n_segs,
                     t->n_removed / HW_REMOVED_STRIDE};
  memcpy(r, head, sizeof head);
  size_t n = put_segments(t, r, 7);
  for (int32_t i = 0; i < t->n_removed; i += HW_REMOVED_STRIDE) {
    r[n++] = (int32_t)t->removed[i];
    r[n++] = (int32_t)t->removed[i + 1];
  }
  napi_value out = int32_out(env, r, n);
  free(r);
  return out;
}

napi_value honeywall_flow_table_finish_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "flowTableFinish(table)");
    return NULL;
  }
  table_handle *h = handle_of(env, argv[0]);
  if (h == NULL) return NULL;
  hw_flow_table *t = h->table;
  clear_segments(t);
  t->n_removed = 0;
  for (hw_flow *f = t->order_head; f != NULL; f = f->order_next)
    if (!f->terminated) cleanup_flush(t, f, HW_END);
  size_t cap = 10 + segments_size(t);
  int32_t *r = malloc(sizeof(int32_t) * cap);
  if (r == NULL || t->oom) {
    free(r);
    napi_throw_error(env, NULL, "flowTableFinish: out of memory");
    return NULL;
  }
  int32_t head[10] = {(int32_t)t->created[0], (int32_t)t->created[1], (int32_t)t->created[2], (int32_t)t->created[3], (int32_t)t->timed_out,
                      (int32_t)t->evicted, (int32_t)t->no_session, (int32_t)t->flushed_segments, (int32_t)t->flushed_bytes, t->n_segs};
  memcpy(r, head, sizeof head);
  size_t n = put_segments(t, r, 10);
  napi_value out = int32_out(env, r, n);
  free(r);
  return out;
}

/* frontMeasure(capture: Uint8Array, table) -> Float64Array [frames, decoded IP packets, flows made, segments, segment
 * bytes]: a classic pcap in memory walked, each frame decoded and tracked, for bench/native-front.mjs (how long the
 * native front takes over a capture; no defragmentation, no application parsing). */
napi_value honeywall_front_measure_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_typedarray_type ty;
  size_t len, off;
  uint8_t *b;
  napi_value ab;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_typedarray_info(env, argv[0], &ty, &len, (void **)&b, &ab, &off) != napi_ok || ty != napi_uint8_array || len < 24) {
    napi_throw_type_error(env, NULL, "frontMeasure(capture: Uint8Array, table)");
    return NULL;
  }
  table_handle *h = handle_of(env, argv[1]);
  if (h == NULL) return NULL;
  uint32_t magic = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  int little = magic == 0xa1b2c3d4u || magic == 0xa1b23c4du;
  int nano = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
#define RD32(p) (little ? ((uint32_t)(p)[0] | (uint32_t)(p)[1] << 8 | (uint32_t)(p)[2] << 16 | (uint32_t)(p)[3] << 24) \
                        : ((uint32_t)(p)[3] | (uint32_t)(p)[2] << 8 | (uint32_t)(p)[1] << 16 | (uint32_t)(p)[0] << 24))
  int linktype = (int)(RD32(b + 20) & 0xffff);
  double frames = 0, ip = 0, flows = 0, segs = 0, seg_bytes = 0;
  hw_decode_options o = {0, 8, 0};
  hw_update u;
  for (size_t p = 24; p + 16 <= len;) {
    uint32_t sec = RD32(b + p), frac = RD32(b + p + 4), incl = RD32(b + p + 8);
    if (incl > len - p - 16) break;
    const uint8_t *frame = b + p + 16;
    hw_decode(&h->packet, linktype, frame, (int32_t)incl, &o);
    process(h->table, &h->packet, frame, sec, sec + (nano ? frac / 1000 : frac) / 1e6, frames, &u);
    frames++;
    if (h->packet.n_ip > 0) ip++;
    if (u.is_new) flows++;
    segs += h->table->n_segs;
    for (int32_t i = 0; i < h->table->n_segs; i++) seg_bytes += h->table->segs[i].len;
    p += 16 + incl;
  }
#undef RD32
  double r[5] = {frames, ip, flows, segs, seg_bytes};
  napi_value out_ab, out;
  void *data;
  napi_create_arraybuffer(env, sizeof r, &data, &out_ab);
  memcpy(data, r, sizeof r);
  napi_create_typedarray(env, napi_float64_array, 5, out_ab, 0, &out);
  return out;
}
#endif /* HW_NO_NAPI */
