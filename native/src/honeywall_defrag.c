/*
 * src/packet/defrag.ts in C (see honeywall_defrag.h), method for method: defrag.ts's comments say which frag3
 * behaviour (quirks included) each piece follows. The trackers are kept in a list in order of their last fragment
 * (the JavaScript Map's order) and found by a hash of their key.
 *
 *   defragRun(config: Float64Array, frames: Uint8Array[], times: Float64Array) -> (Uint8Array | null)[] and stats
 *       For test/native-defrag.test.ts: each bare IP datagram decoded and, when it is a fragment, added at its time;
 *       returns what each add gave (the rebuilt datagram or null), then the stats as a Float64Array [fragments,
 *       reassembled, timeouts, evicted, datagramMemcap, overlaps, bad, pending, memory] as the last element.
 *       config: [timeoutSec, memcap, datagramMemcap, maxTrackers, policy (hw_overlap_policy), overlapLimit,
 *       detectAnomalies, minTtl, holeFill].
 */
#include <stdlib.h>
#include <string.h>

#include "honeywall_defrag.h"

#define PIECE_COST 64
#define GOT_FIRST 1
#define GOT_LAST 2
#define BAD 8
#define IP_MAXPACKET 65535
#define INSERT_OK 0
#define INSERT_REFUSED 1
#define FIRSTLAST_OK 0
#define LAST_OFFSET_ADJUST 2

typedef struct {
  uint8_t *buf;
  int32_t buf_len, start, size, offset, last;
} hw_frag;

typedef struct hw_tracker {
  /* the key: version, addresses, id, and for IPv4 the protocol */
  int32_t version, key_proto;
  uint8_t src[16], dst[16];
  uint32_t id;
  /* the tracker's number, never reused: the native front names a datagram's record of alerts (FragAlerts) by it */
  double serial;
  double last_seen;
  hw_frag *frags;
  int32_t n, cap, sorted, flags, calculated_size, overlap_count, protocol;
  int64_t frag_bytes, bytes;
  uint8_t *ip_options;
  int32_t ip_options_len;
  struct hw_tracker *older, *newer, *chain;
} hw_tracker;

struct hw_defrag {
  hw_defrag_config cfg;
  hw_defrag_stats stats;
  hw_tracker *oldest, *newest;
  hw_tracker **buckets;
  uint32_t n_buckets, count;
  int64_t held_bytes;
  int oom;
  /* Defragmenter.lastAlerts as a tracker serial (0: none), the serials given so far, and those of the trackers
   * dropped during the last hw_defrag_add (the front tells JavaScript to forget their FragAlerts) */
  double last_serial, serials;
  double *dropped;
  int32_t n_dropped, cap_dropped;
};

static uint32_t key_hash(int32_t version, const uint8_t *src, const uint8_t *dst, uint32_t id, int32_t proto) {
  int32_t n = version == 4 ? 4 : 16;
  uint32_t h = 0x811c9dc5u ^ (uint32_t)version;
  for (int32_t i = 0; i < n; i++) h = (h ^ src[i]) * 0x01000193u;
  for (int32_t i = 0; i < n; i++) h = (h ^ dst[i]) * 0x01000193u;
  h = (h ^ id) * 0x01000193u;
  return (h ^ (uint32_t)proto) * 0x01000193u;
}

hw_defrag *hw_defrag_new(const hw_defrag_config *cfg) {
  hw_defrag *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->cfg = *cfg;
  if (d->cfg.max_trackers < 1) d->cfg.max_trackers = 1;
  d->n_buckets = 1024;
  d->buckets = calloc(d->n_buckets, sizeof *d->buckets);
  if (d->buckets == NULL) {
    free(d);
    return NULL;
  }
  return d;
}

static void tracker_free(hw_tracker *t) {
  for (int32_t i = 0; i < t->n; i++) free(t->frags[i].buf);
  free(t->frags);
  free(t->ip_options);
  free(t);
}

void hw_defrag_free(hw_defrag *d) {
  if (d == NULL) return;
  for (hw_tracker *t = d->oldest, *n; t != NULL; t = n) {
    n = t->newer;
    tracker_free(t);
  }
  free(d->buckets);
  free(d->dropped);
  free(d);
}

const hw_defrag_stats *hw_defrag_stats_of(const hw_defrag *d) { return &d->stats; }

double hw_defrag_last_serial(const hw_defrag *d) { return d->last_serial; }

const double *hw_defrag_dropped(hw_defrag *d, int32_t *n) {
  *n = d->n_dropped;
  return d->dropped;
}


int hw_defrag_oom(const hw_defrag *d) { return d->oom; }

void hw_defrag_held(const hw_defrag *d, double *trackers, double *bytes) {
  *trackers = d->count;
  *bytes = (double)d->held_bytes;
}

/* ------------------------------------------------------------------------------------------ trackers */

static void unlink_order(hw_defrag *d, hw_tracker *t) {
  if (t->older) t->older->newer = t->newer;
  else d->oldest = t->newer;
  if (t->newer) t->newer->older = t->older;
  else d->newest = t->older;
  t->older = t->newer = NULL;
}

static void push_newest(hw_defrag *d, hw_tracker *t) {
  t->older = d->newest;
  t->newer = NULL;
  if (d->newest) d->newest->newer = t;
  else d->oldest = t;
  d->newest = t;
}

static hw_tracker **bucket_of(hw_defrag *d, const hw_tracker *t) {
  return &d->buckets[key_hash(t->version, t->src, t->dst, t->id, t->key_proto) & (d->n_buckets - 1)];
}

static void grow_buckets(hw_defrag *d) {
  uint32_t nb = d->n_buckets * 2;
  hw_tracker **b = calloc(nb, sizeof *b);
  if (b == NULL) return;
  for (hw_tracker *t = d->oldest; t != NULL; t = t->newer) {
    uint32_t h = key_hash(t->version, t->src, t->dst, t->id, t->key_proto) & (nb - 1);
    t->chain = b[h];
    b[h] = t;
  }
  free(d->buckets);
  d->buckets = b;
  d->n_buckets = nb;
}

/* drop: out of the table, its bytes off the held count */
static void drop(hw_defrag *d, hw_tracker *t) {
  if (d->n_dropped == d->cap_dropped) {
    int32_t cap = d->cap_dropped ? d->cap_dropped * 2 : 16;
    double *n = realloc(d->dropped, sizeof *n * (size_t)cap);
    if (n == NULL)
      d->oom = 1;
    else
      d->dropped = n, d->cap_dropped = cap;
  }
  if (d->n_dropped < d->cap_dropped) d->dropped[d->n_dropped++] = t->serial;
  for (hw_tracker **at = bucket_of(d, t); *at != NULL; at = &(*at)->chain)
    if (*at == t) {
      *at = t->chain;
      break;
    }
  unlink_order(d, t);
  d->count--;
  d->held_bytes -= t->bytes;
  tracker_free(t);
}

static hw_tracker *find(hw_defrag *d, int32_t version, const uint8_t *src, const uint8_t *dst, uint32_t id, int32_t proto) {
  int32_t n = version == 4 ? 4 : 16;
  for (hw_tracker *t = d->buckets[key_hash(version, src, dst, id, proto) & (d->n_buckets - 1)]; t != NULL; t = t->chain)
    if (t->version == version && t->id == id && t->key_proto == proto && memcmp(t->src, src, (size_t)n) == 0 && memcmp(t->dst, dst, (size_t)n) == 0)
      return t;
  return NULL;
}

static void evict_oldest(hw_defrag *d) {
  if (d->oldest == NULL) return;
  drop(d, d->oldest);
  d->stats.evicted++;
}

/* overMemcap: true when t itself was dropped */
static int over_memcap(hw_defrag *d, hw_tracker *t) {
  if (t->bytes > d->cfg.datagram_memcap) {
    drop(d, t);
    d->stats.datagram_memcap++;
    return 1;
  }
  while (d->held_bytes > d->cfg.memcap) {
    hw_tracker *old = d->oldest == t ? t->newer : d->oldest;
    d->stats.evicted++;
    if (old == NULL) {
      drop(d, t);
      return 1;
    }
    drop(d, old);
  }
  return 0;
}

static void expire(hw_defrag *d, double now) {
  while (d->oldest != NULL && !(now - d->oldest->last_seen < d->cfg.timeout)) {
    drop(d, d->oldest);
    d->stats.timeouts++;
  }
}

static int check_first_last(hw_defrag *d, hw_tracker *t, const hw_ip *ip) {
  int ret = FIRSTLAST_OK;
  if (ip->mf && ip->frag_offset == 0)
    t->flags |= GOT_FIRST;
  else if (!ip->mf && ip->frag_offset > 0) {
    int32_t body = ip->total_length - ip->header_length;
    int32_t end = (ip->frag_offset << 3) + (body > 0 ? body : 0);
    if ((t->flags & GOT_LAST) && d->cfg.policy == HW_SOLARIS && !(t->calculated_size > end)) ret = LAST_OFFSET_ADJUST;
    t->flags |= GOT_LAST;
    if (t->calculated_size < end && ret != LAST_OFFSET_ADJUST) t->calculated_size = end;
  }
  return ret;
}

static void handle_headers(hw_tracker *t, const hw_ip *ip, const uint8_t *b) {
  if (ip->frag_offset != 0) return;
  if (ip->version == 6)
    t->protocol = b[ip->frag_header_offset];
  else if (ip->header_length > 20 && t->ip_options == NULL) {
    int32_t n = ip->header_length - 20;
    t->ip_options = malloc((size_t)n);
    if (t->ip_options == NULL) return;
    memcpy(t->ip_options, b + ip->offset + 20, (size_t)n);
    t->ip_options_len = n;
    t->bytes += n;
  }
}

/* ------------------------------------------------------------------------------------------ Frag3Insert */

static int32_t first_at_or_past(const hw_tracker *t, int32_t offset) {
  if (t->sorted) {
    int32_t lo = 0, hi = t->n;
    while (lo < hi) {
      int32_t mid = (lo + hi) / 2;
      if (t->frags[mid].offset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < t->n ? lo : -1;
  }
  for (int32_t i = 0; i < t->n; i++)
    if (t->frags[i].offset >= offset) return i;
  return -1;
}

static void placed(hw_tracker *t, int32_t i) {
  if (!t->sorted) return;
  int32_t o = t->frags[i].offset;
  if ((i > 0 && t->frags[i - 1].offset > o) || (i + 1 < t->n && t->frags[i + 1].offset < o)) t->sorted = 0;
}

/* addAfter: f (its buf owned by the list from here) after index `left`; -1 when out of memory */
static int32_t add_after(hw_defrag *d, hw_tracker *t, int32_t left, hw_frag f) {
  if (t->n == t->cap) {
    int32_t c = t->cap ? t->cap * 2 : 8;
    hw_frag *n = realloc(t->frags, (size_t)c * sizeof *n);
    if (n == NULL) {
      d->oom = 1;
      free(f.buf);
      return -1;
    }
    t->frags = n;
    t->cap = c;
  }
  int32_t at = left + 1;
  memmove(&t->frags[at + 1], &t->frags[at], sizeof *t->frags * (size_t)(t->n - at));
  t->frags[at] = f;
  t->n++;
  placed(t, at);
  t->bytes += f.buf_len + PIECE_COST;
  return at;
}

static void delete_at(hw_tracker *t, int32_t i) {
  hw_frag f = t->frags[i];
  memmove(&t->frags[i], &t->frags[i + 1], sizeof *t->frags * (size_t)(t->n - i - 1));
  t->n--;
  t->bytes -= f.buf_len + PIECE_COST;
  free(f.buf);
}

static uint8_t *copy(const uint8_t *b, int32_t n) {
  uint8_t *c = malloc(n > 0 ? (size_t)n : 1);
  if (c != NULL && n > 0) memcpy(c, b, (size_t)n);
  return c;
}

/* addFragNode */
static int32_t add_frag_node(hw_defrag *d, hw_tracker *t, const uint8_t *data, int32_t data_len, int last, int32_t len, int32_t slide,
                             int32_t trunc, int32_t offset, int32_t left) {
  int32_t size = len - slide - trunc;
  if (size <= 0) return -1;
  hw_frag f = {copy(data, data_len), data_len, slide, size, offset, last};
  if (f.buf == NULL) {
    d->oom = 1;
    return -1;
  }
  int32_t at = add_after(d, t, left, f);
  if (at >= 0) t->frag_bytes += size;
  return at;
}

static void count_overlap(hw_defrag *d, hw_tracker *t) {
  t->overlap_count++;
  d->stats.overlaps++;
}

static int insert(hw_defrag *d, hw_tracker *t, const hw_ip *ip, const uint8_t *b, const uint8_t *data, int32_t data_len) {
  int policy = d->cfg.policy;
  int first_last = check_first_last(d, t, ip);
  int32_t frag_length = data_len;
  int32_t len = frag_length;
  int32_t orig_offset = ip->frag_offset << 3;
  int32_t frag_offset = orig_offset;
  if (first_last == LAST_OFFSET_ADJUST) frag_offset = t->calculated_size;
  int32_t frag_end = frag_offset + frag_length;
  int32_t size_before = t->calculated_size;
  int lastfrag = 0;
  if (!ip->mf) {
    if (frag_end > t->calculated_size && first_last == LAST_OFFSET_ADJUST) t->calculated_size = frag_end;
    lastfrag = 1;
  } else {
    int32_t old_end = frag_end;
    frag_end &= ~7;
    len -= old_end - frag_end;
    if (frag_end > t->calculated_size) {
      if (t->flags & GOT_LAST) return INSERT_REFUSED;
      t->calculated_size = frag_end;
    }
  }
  if (frag_end == frag_offset) return INSERT_REFUSED;
  if (frag_end > IP_MAXPACKET) {
    t->flags |= BAD;
    t->calculated_size = size_before;
    return INSERT_REFUSED;
  }
  handle_headers(t, ip, b);

  int32_t slide = 0, trunc = 0;
  int done = 0, addthis = 1, alerted_overlap = 0;
  int32_t right = first_at_or_past(t, frag_offset);
  int32_t left = right < 0 ? t->n - 1 : right - 1;

  if (left >= 0) {
    hw_frag *lf = &t->frags[left];
    int32_t overlap = lf->offset + lf->size - frag_offset;
    if (overlap > 0) {
      count_overlap(d, t);
      if ((frag_end < t->calculated_size || ((t->flags & GOT_LAST) && frag_end != t->calculated_size)) && !ip->mf) {
        t->flags |= BAD;
        return INSERT_REFUSED;
      }
      int left_last = 0;
      if (policy == HW_BSD_RIGHT && lf->offset + lf->size >= frag_offset + len) {
        frag_offset += overlap;
        slide = overlap;
        left_last = 1;
      } else if (policy == HW_BSD_RIGHT || policy == HW_LAST) {
        if (lf->offset < frag_offset && lf->offset + lf->size > frag_offset + len) {
          hw_frag dup = {copy(lf->buf, lf->buf_len), lf->buf_len, lf->start, lf->size, lf->offset, lf->last};
          if (dup.buf == NULL) {
            d->oom = 1;
            return INSERT_REFUSED;
          }
          right = add_after(d, t, left, dup);
          if (right < 0) return INSERT_REFUSED;
          lf = &t->frags[left];
          hw_frag *dp = &t->frags[right];
          t->frag_bytes += dp->size;
          lf->size -= overlap;
          t->frag_bytes -= overlap;
          int32_t cut = frag_offset + len - lf->offset;
          dp->offset = frag_offset + len;
          dp->size -= cut;
          dp->start += cut;
          t->frag_bytes -= cut;
          placed(t, right);
        } else {
          lf->size -= overlap;
          t->frag_bytes -= overlap;
        }
        left_last = 1;
      } else {
        frag_offset += overlap;
        slide = overlap;
        if (frag_end <= frag_offset) return INSERT_REFUSED;
      }
      if (left_last && t->frags[left].size <= 0) {
        delete_at(t, left);
        if (right > left) right--;
        left--;
      }
      if (frag_end < frag_offset) return INSERT_REFUSED;
    }
  }

  int64_t turns = 4 * (int64_t)t->n + 16;
  while (right >= 0 && right < t->n && t->frags[right].offset < frag_end && !done) {
    if (--turns < 0) {
      t->flags |= BAD;
      return INSERT_REFUSED;
    }
    hw_frag *rf = &t->frags[right];
    trunc = 0;
    int32_t overlap = frag_end - rf->offset;
    if (overlap && (frag_end < t->calculated_size || ((t->flags & GOT_LAST) && frag_end != t->calculated_size)) && !ip->mf) {
      t->flags |= BAD;
      return INSERT_REFUSED;
    }
    if (overlap < rf->size) {
      count_overlap(d, t);
      switch (policy) {
      case HW_LAST:
      case HW_LINUX:
      case HW_BSD:
        if (policy == HW_BSD && rf->offset == frag_offset) {
          slide = rf->offset + rf->size - frag_offset;
          frag_offset += slide;
        } else {
          rf->offset += overlap;
          rf->start += overlap;
          rf->size -= overlap;
          t->frag_bytes -= overlap;
          placed(t, right);
        }
        if (t->frags[right].size <= 0) {
          delete_at(t, right);
          if (right >= t->n) right = -1;
        }
        break;
      default:
        trunc = overlap;
        break;
      }
      done = 1;
      continue;
    }
    if (!alerted_overlap && d->cfg.detect_anomalies) {
      alerted_overlap = 1;
      count_overlap(d, t);
    }
    int dump_right = policy == HW_BSD_RIGHT || policy == HW_LAST || policy == HW_LINUX;
    if (policy == HW_WINDOWS || policy == HW_SOLARIS || policy == HW_BSD) {
      if (frag_end > rf->offset + rf->size && frag_offset < rf->offset) {
        t->frag_bytes -= rf->size;
        delete_at(t, right);
        if (right >= t->n) right = -1;
        continue;
      }
      if ((policy == HW_SOLARIS || policy == HW_BSD) && frag_end == rf->offset + rf->size && frag_offset < rf->offset) dump_right = 1;
    }
    if (dump_right) {
      t->frag_bytes -= rf->size;
      delete_at(t, right);
      if (right >= t->n) right = -1;
      continue;
    }
    if (rf->offset == frag_offset) {
      slide = rf->offset + rf->size - frag_offset;
      frag_offset += slide;
      left = right;
      right = right + 1 < t->n ? right + 1 : -1;
    } else
      trunc = overlap;
    if (frag_end - trunc <= frag_offset) return INSERT_REFUSED;
    int32_t at = add_frag_node(d, t, data, data_len, 0, len, slide, trunc, frag_offset, left);
    if (at < 0) return INSERT_REFUSED;
    if (right >= at) right++;
    hw_frag *nf = &t->frags[at];
    int32_t curr_end = nf->offset + nf->size;
    while (right >= 0 && curr_end == t->frags[right].offset && t->frags[right].offset < frag_end) {
      curr_end = t->frags[right].offset + t->frags[right].size;
      left = right;
      right = right + 1 < t->n ? right + 1 : -1;
    }
    if (right >= 0 && t->frags[right].offset < frag_end) {
      frag_offset = left >= 0 ? t->frags[left].offset + t->frags[left].size : orig_offset;
      slide = frag_offset - orig_offset;
      trunc = 0;
      continue;
    }
    if (curr_end < frag_end) {
      slide = t->frags[left].offset + t->frags[left].size - frag_offset;
      frag_offset = curr_end;
      trunc = 0;
    } else
      addthis = 0;
    break;
  }

  if (d->cfg.overlap_limit > 0 && t->overlap_count >= d->cfg.overlap_limit) return INSERT_REFUSED;
  if (addthis && add_frag_node(d, t, data, data_len, lastfrag, len, slide, trunc, frag_offset, left) < 0) return INSERT_REFUSED;
  return INSERT_OK;
}

/* ------------------------------------------------------------------------------------------ Frag3Rebuild */

static void write_u16(uint8_t *b, int32_t o, uint32_t v) {
  b[o] = (uint8_t)(v >> 8);
  b[o + 1] = (uint8_t)v;
}

static uint8_t *rebuild(const hw_defrag *d, const hw_tracker *t, const hw_ip *ip, const uint8_t *b, int32_t *out_len) {
  int32_t size = t->calculated_size;
  int32_t hlen = ip->version == 4 ? 20 + t->ip_options_len : ip->frag_header_offset - ip->offset;
  int32_t total = hlen + size;
  uint8_t *out = malloc(total > 0 ? (size_t)total : 1);
  if (out == NULL) return NULL;
  memset(out + hlen, d->cfg.hole_fill, (size_t)size);
  if (ip->version == 4) {
    memcpy(out, b + ip->offset, 20);
    if (t->ip_options_len > 0) memcpy(out + 20, t->ip_options, (size_t)t->ip_options_len);
    out[0] = (uint8_t)(0x40 | (hlen >> 2));
  } else
    memcpy(out, b + ip->offset, (size_t)hlen);
  for (int32_t i = 0; i < t->n; i++) {
    const hw_frag *f = &t->frags[i];
    if (f->offset + f->size > (size & 0xffff)) continue;
    if (f->size > 0) memcpy(out + hlen + f->offset, f->buf + f->start, (size_t)f->size);
  }
  if (ip->version == 4) {
    write_u16(out, 2, (uint32_t)total);
    write_u16(out, 6, 0);
    write_u16(out, 10, 0);
    uint64_t s = 0;
    for (int32_t i = 0; i + 1 < hlen; i += 2) s += (uint32_t)out[i] << 8 | out[i + 1];
    if (hlen & 1) s += (uint32_t)out[hlen - 1] << 8;
    while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
    write_u16(out, 10, ~(uint32_t)s & 0xffff);
  } else {
    int32_t nh = 6;
    for (int32_t e = 0; e < ip->n_ext; e++) {
      if (ip->ext[e].offset >= ip->frag_header_offset) break;
      nh = ip->ext[e].offset - ip->offset;
    }
    out[nh] = (uint8_t)t->protocol;
    write_u16(out, 4, (uint32_t)(total - 40));
  }
  *out_len = total;
  return out;
}

/* ------------------------------------------------------------------------------------------ add */

uint8_t *hw_defrag_add(hw_defrag *d, const hw_packet *p, const uint8_t *b, double now, int32_t *len) {
  *len = 0;
  d->last_serial = 0;
  d->n_dropped = 0;
  if (p->n_ip == 0) return NULL;
  const hw_ip *ip = &p->ip[p->n_ip - 1];
  if (!ip->is_fragment) return NULL;
  d->stats.fragments++;
  expire(d, now);
  if (ip->ttl < d->cfg.min_ttl) {
    d->stats.bad++;
    return NULL;
  }
  int32_t data_start = ip->offset + ip->header_length;
  int32_t data_end = ip->offset + ip->total_length;
  if (data_end < data_start) data_end = data_start;
  const uint8_t *data = b + data_start;
  int32_t data_len = data_end - data_start;
  int32_t n = ip->version == 4 ? 4 : 16;
  const uint8_t *src = b + ip->offset + (ip->version == 4 ? 12 : 8), *dst = src + n;
  int32_t key_proto = ip->version == 4 ? ip->proto : -1;
  hw_tracker *t = find(d, ip->version, src, dst, ip->id, key_proto);
  if (t == NULL) {
    while ((int64_t)d->count >= d->cfg.max_trackers) evict_oldest(d);
    t = calloc(1, sizeof *t);
    if (t == NULL) {
      d->oom = 1;
      return NULL;
    }
    t->version = ip->version;
    t->key_proto = key_proto;
    memcpy(t->src, src, (size_t)n);
    memcpy(t->dst, dst, (size_t)n);
    t->id = ip->id;
    t->serial = ++d->serials;
    d->last_serial = t->serial;
    t->last_seen = now;
    t->sorted = 1;
    t->protocol = ip->version == 4 ? ip->proto : -1;
    t->bytes = PIECE_COST + data_len;
    if (d->count + 1 > d->n_buckets / 2) grow_buckets(d);
    hw_tracker **at = bucket_of(d, t);
    t->chain = *at;
    *at = t;
    d->count++;
    push_newest(d, t);
    int32_t offset = ip->frag_offset << 3;
    hw_frag f = {copy(data, data_len), data_len, 0, data_len, offset, !ip->mf};
    if (f.buf == NULL) {
      d->oom = 1;
      return NULL;
    }
    if (ip->mf) f.size = ((offset + data_len) & ~7) - offset;
    t->frags = malloc(8 * sizeof *t->frags);
    if (t->frags == NULL) {
      free(f.buf);
      d->oom = 1;
      return NULL;
    }
    t->cap = 8;
    t->frags[t->n++] = f;
    check_first_last(d, t, ip);
    t->frag_bytes += data_len;
    handle_headers(t, ip, b);
    d->held_bytes += t->bytes;
    over_memcap(d, t);
    return NULL;
  }
  t->last_seen = now;
  unlink_order(d, t);
  push_newest(d, t);
  int64_t before = t->bytes;
  int r = insert(d, t, ip, b, data, data_len);
  d->held_bytes += t->bytes - before;
  if (over_memcap(d, t)) return NULL;
  if (r != INSERT_OK) {
    d->stats.bad++;
    return NULL;
  }
  d->last_serial = t->serial;
  if ((t->flags & (GOT_FIRST | GOT_LAST)) != (GOT_FIRST | GOT_LAST) || t->frag_bytes < t->calculated_size) return NULL;
  int bad = (t->flags & BAD) != 0;
  uint8_t *out = bad ? NULL : rebuild(d, t, ip, b, len);
  drop(d, t);
  if (bad) return NULL;
  d->stats.reassembled++;
  return out;
}

#ifndef HW_NO_NAPI
/* ------------------------------------------------------------------------------------------ N-API (tests) */

napi_value honeywall_defrag_run_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_typedarray_type ty;
  size_t len, off;
  double *c, *times;
  napi_value ab;
  uint32_t nframes = 0;
  size_t ntimes;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_typedarray_info(env, argv[0], &ty, &len, (void **)&c, &ab, &off) != napi_ok || ty != napi_float64_array || len < 9 ||
      napi_get_array_length(env, argv[1], &nframes) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &ty, &ntimes, (void **)&times, &ab, &off) != napi_ok || ty != napi_float64_array ||
      ntimes < nframes) {
    napi_throw_type_error(env, NULL, "defragRun(config: Float64Array, frames: Uint8Array[], times: Float64Array)");
    return NULL;
  }
  hw_defrag_config cfg = {c[0], (int64_t)c[1], (int64_t)c[2], (int32_t)c[3], (int32_t)c[4], (int32_t)c[5], (int32_t)c[6], (int32_t)c[7], (int32_t)c[8]};
  hw_defrag *d = hw_defrag_new(&cfg);
  hw_packet *p = malloc(sizeof *p);
  if (d == NULL || p == NULL) {
    hw_defrag_free(d);
    free(p);
    napi_throw_error(env, NULL, "defragRun: out of memory");
    return NULL;
  }
  napi_value out;
  napi_create_array_with_length(env, nframes + 1, &out);
  hw_decode_options o = {0, 8, 0};
  for (uint32_t i = 0; i < nframes; i++) {
    napi_value v, r;
    uint8_t *b;
    size_t n;
    napi_get_element(env, argv[1], i, &v);
    if (napi_get_typedarray_info(env, v, &ty, &n, (void **)&b, &ab, &off) != napi_ok || ty != napi_uint8_array) {
      napi_get_null(env, &r);
      napi_set_element(env, out, i, r);
      continue;
    }
    hw_decode(p, -1, b, (int32_t)n, &o);
    int32_t rlen = 0;
    uint8_t *rebuilt = hw_defrag_add(d, p, b, times[i], &rlen);
    if (rebuilt == NULL)
      napi_get_null(env, &r);
    else {
      void *data;
      napi_value rab;
      napi_create_arraybuffer(env, (size_t)rlen, &data, &rab);
      memcpy(data, rebuilt, (size_t)rlen);
      napi_create_typedarray(env, napi_uint8_array, (size_t)rlen, rab, 0, &r);
      free(rebuilt);
    }
    napi_set_element(env, out, i, r);
  }
  const hw_defrag_stats *s = &d->stats;
  double st[9] = {s->fragments, s->reassembled, s->timeouts, s->evicted, s->datagram_memcap, s->overlaps, s->bad, (double)d->count, (double)d->held_bytes};
  void *data;
  napi_value sab, stats;
  napi_create_arraybuffer(env, sizeof st, &data, &sab);
  memcpy(data, st, sizeof st);
  napi_create_typedarray(env, napi_float64_array, 9, sab, 0, &stats);
  napi_set_element(env, out, nframes, stats);
  int oom = d->oom;
  hw_defrag_free(d);
  free(p);
  if (oom) {
    napi_throw_error(env, NULL, "defragRun: out of memory");
    return NULL;
  }
  return out;
}
#endif /* HW_NO_NAPI */
