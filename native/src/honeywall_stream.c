/*
 * src/flow/reassembly.ts StreamBuffer in C (see honeywall_stream.h), method for method. Each piece owns a copy of its
 * bytes (the JavaScript pieces share their segment's buffer while it is at least half used; the bytes held are the
 * same, and a piece's memory here is its length).
 *
 *   streamRun(policy, maxBytes, maxSegs, ops: Int32Array, bytes: Uint8Array) -> Int32Array
 *       Runs a script on a fresh stream and returns what it answered, for test/native-stream.test.ts (which runs the
 *       same script on StreamBuffer). Ops: [1, seq, offset, length, meta] insert bytes[offset, offset + length) ->
 *       [held]; [2, limit] flush (limit -1: all) -> [length, seq, ...bytes] ([0] for none); [3, limit] peek ->
 *       [length, ...bytes]; [4, from, to] peekRange -> [...bytes]; [5, seq] init -> []; [6, off] state ->
 *       [contiguous, piecesBefore(off), firstMeta (or -1 and a 0 flag: [meta, 1] / [0, 0]), queuedBytes,
 *       queuedSegments, overlaps, refused, base (or -1 and a flag, as firstMeta)].
 */
#include <stdlib.h>
#include <string.h>

#include "honeywall_stream.h"

static int32_t seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

void hw_stream_init_buffer(hw_stream *s, int policy, int64_t max_bytes, int32_t max_segs) {
  memset(s, 0, sizeof *s);
  s->policy = policy;
  s->max_bytes = max_bytes;
  s->max_segs = max_segs;
  s->base = -1;
  s->reach = -1;
}

void hw_stream_release(hw_stream *s) {
  for (int32_t i = 0; i < s->n_segs; i++) free(s->segs[i].data);
  free(s->segs);
  s->segs = NULL;
  s->n_segs = s->cap_segs = 0;
  s->queued_bytes = 0;
  s->reach = -1;
  s->base = -1;
}

void hw_stream_init(hw_stream *s, uint32_t seq) {
  if (s->base < 0) s->base = seq;
}

static int32_t first_ending_after(const hw_stream *s, int64_t at) {
  int32_t lo = 0, hi = s->n_segs;
  while (lo < hi) {
    int32_t mid = (lo + hi) / 2;
    const hw_piece *p = &s->segs[mid];
    if (p->start + p->len <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static uint8_t *copy_of(const uint8_t *b, int32_t n) {
  uint8_t *c = malloc(n > 0 ? (size_t)n : 1);
  if (c != NULL && n > 0) memcpy(c, b, (size_t)n);
  return c;
}

/* a piece of `n` bytes copied from b, or 0 when out of memory */
static int piece(hw_piece *out, int64_t start, const uint8_t *b, int32_t n, int64_t origin, int32_t meta) {
  out->start = start;
  out->len = n;
  out->origin = origin;
  out->meta = meta;
  out->data = copy_of(b, n);
  return out->data != NULL;
}

static int reserve(hw_stream *s, int32_t need) {
  if (need <= s->cap_segs) return 1;
  int32_t c = s->cap_segs ? s->cap_segs : 8;
  while (c < need) c *= 2;
  hw_piece *n = realloc(s->segs, (size_t)c * sizeof *n);
  if (n == NULL) return 0;
  s->segs = n;
  s->cap_segs = c;
  return 1;
}

int hw_stream_insert(hw_stream *s, uint32_t seq, const uint8_t *data, int32_t len, int32_t meta) {
  if (len <= 0) return 0;
  if (s->base < 0) s->base = seq;
  int64_t start = seq_diff(seq, (uint32_t)s->base);
  const uint8_t *d = data;
  int32_t n = len;
  if (start < 0) {
    if (start + n <= 0) return 0;
    d += -start;
    n -= (int32_t)-start;
    start = 0;
  }
  if (start > 0x3fffffff) return 0;
  if (s->queued_bytes + n > s->max_bytes || s->n_segs >= s->max_segs) {
    s->refused++;
    return 0;
  }
  int64_t end = start + n;
  int32_t from = first_ending_after(s, start);
  if (from == s->n_segs) {
    if (!reserve(s, s->n_segs + 1) || !piece(&s->segs[s->n_segs], start, d, n, start, meta)) {
      s->oom = 1;
      return 0;
    }
    s->n_segs++;
    s->queued_bytes += n;
    s->reach = s->reach >= 0 && start == s->reach ? end : -1;
    return 1;
  }
  /* the pieces from `from` that the segment meets, replaced by what the policy keeps (at most 3 per piece met, plus
   * the gaps the segment fills) */
  int32_t to = from;
  while (to < s->n_segs && s->segs[to].start < end) to++;
  int32_t met = to - from;
  hw_piece *repl = malloc(sizeof *repl * (size_t)(3 * met + met + 2));
  if (repl == NULL) {
    s->oom = 1;
    return 0;
  }
  int32_t nr = 0, ok = 1;
  int64_t cur = start, added = 0;
  /* which replaced pieces are copies made here (the others are pieces kept as they were) */
  uint8_t *made = calloc((size_t)(3 * met + met + 2), 1);
  if (made == NULL) {
    free(repl);
    s->oom = 1;
    return 0;
  }
  for (int32_t i = from; i < to && ok; i++) {
    hw_piece *p = &s->segs[i];
    int64_t p_end = p->start + p->len;
    if (p->start > cur) {
      ok &= piece(&repl[nr], cur, d + (cur - start), (int32_t)(p->start - cur), start, meta);
      made[nr++] = 1;
      added += p->start - cur;
    }
    int64_t lo = p->start > start ? p->start : start;
    int64_t hi = p_end < end ? p_end : end;
    int new_wins = s->policy == HW_POLICY_LAST || (s->policy == HW_POLICY_BSD && start < p->origin);
    if (new_wins) {
      if (p->start < lo) {
        ok &= piece(&repl[nr], p->start, p->data, (int32_t)(lo - p->start), p->origin, p->meta);
        made[nr++] = 1;
      }
      ok &= piece(&repl[nr], lo, d + (lo - start), (int32_t)(hi - lo), start, meta);
      made[nr++] = 1;
      if (p_end > hi) {
        ok &= piece(&repl[nr], hi, p->data + (hi - p->start), (int32_t)(p_end - hi), p->origin, p->meta);
        made[nr++] = 1;
      }
    } else
      repl[nr++] = *p;
    if (p_end > cur) cur = p_end;
  }
  if (ok && cur < end) {
    ok &= piece(&repl[nr], cur, d + (cur - start), (int32_t)(end - cur), start, meta);
    made[nr++] = 1;
    added += end - cur;
  }
  int refuse = ok && s->n_segs - met + nr > s->max_segs;
  if (!ok || refuse || !reserve(s, s->n_segs - met + nr)) {
    for (int32_t i = 0; i < nr; i++)
      if (made[i]) free(repl[i].data);
    free(repl);
    free(made);
    if (refuse) {
      s->refused++;
      return 0;
    }
    s->oom = 1;
    return 0;
  }
  if (met > 0) s->overlaps++;
  /* the pieces met that were replaced (not kept as they were) are freed */
  for (int32_t i = from; i < to; i++) {
    int kept = 0;
    for (int32_t k = 0; k < nr && !kept; k++) kept = !made[k] && repl[k].data == s->segs[i].data;
    if (!kept) free(s->segs[i].data);
  }
  memmove(&s->segs[from + nr], &s->segs[to], sizeof *s->segs * (size_t)(s->n_segs - to));
  memcpy(&s->segs[from], repl, sizeof *repl * (size_t)nr);
  s->n_segs = s->n_segs - met + nr;
  s->queued_bytes += added;
  s->reach = -1;
  free(repl);
  free(made);
  return 1;
}

int32_t hw_stream_pieces_before(const hw_stream *s, int64_t off) {
  int32_t n = 0;
  for (int32_t i = 0; i < s->n_segs && s->segs[i].start < off; i++) n++;
  return n;
}

int64_t hw_stream_contiguous(hw_stream *s) {
  if (s->reach >= 0) return s->reach;
  int64_t reach = 0;
  for (int32_t i = 0; i < s->n_segs; i++) {
    if (s->segs[i].start > reach) break;
    reach = s->segs[i].start + s->segs[i].len;
  }
  s->reach = reach;
  return reach;
}

void hw_stream_assemble(const hw_stream *s, int64_t from, int64_t to, uint8_t *out) {
  if (to > from) memset(out, 0, (size_t)(to - from));
  for (int32_t i = first_ending_after(s, from); i < s->n_segs; i++) {
    const hw_piece *p = &s->segs[i];
    if (p->start >= to) break;
    int64_t a = from > p->start ? from : p->start;
    int64_t b = to < p->start + p->len ? to : p->start + p->len;
    if (b > a) memcpy(out + (a - from), p->data + (a - p->start), (size_t)(b - a));
  }
}

int32_t hw_stream_flush(hw_stream *s, int64_t limit, uint32_t *seq, uint8_t **out) {
  *out = NULL;
  if (s->base < 0) return 0;
  int64_t n = hw_stream_contiguous(s);
  if (limit >= 0 && limit < n) n = limit;
  if (n <= 0) return 0;
  uint8_t *bytes = malloc((size_t)n);
  if (bytes == NULL) {
    s->oom = 1;
    return 0;
  }
  hw_stream_assemble(s, 0, n, bytes);
  *seq = (uint32_t)s->base;
  s->base = (uint32_t)(s->base + n);
  int32_t k = first_ending_after(s, n);
  int64_t dropped = 0;
  for (int32_t i = 0; i < k; i++) {
    dropped += s->segs[i].len;
    free(s->segs[i].data);
  }
  memmove(s->segs, s->segs + k, sizeof *s->segs * (size_t)(s->n_segs - k));
  s->n_segs -= k;
  for (int32_t i = 0; i < s->n_segs; i++) {
    hw_piece *p = &s->segs[i];
    if (p->start < n) {
      int32_t cut = (int32_t)(n - p->start);
      dropped += cut;
      memmove(p->data, p->data + cut, (size_t)(p->len - cut));
      p->len -= cut;
      p->start = n;
    }
    p->start -= n;
    p->origin -= n;
  }
  s->queued_bytes -= dropped;
  s->reach = -1;
  *out = bytes;
  return (int32_t)n;
}

#ifndef HW_NO_NAPI
/* ------------------------------------------------------------------------------------------ N-API (tests) */

typedef struct {
  int32_t *r;
  size_t n, cap;
  int oom;
} answers;

static void put(answers *a, int32_t v) {
  if (a->n == a->cap) {
    size_t c = a->cap ? 2 * a->cap : 256;
    int32_t *x = realloc(a->r, c * sizeof *x);
    if (x == NULL) {
      a->oom = 1;
      return;
    }
    a->r = x;
    a->cap = c;
  }
  a->r[a->n++] = v;
}

static void put_bytes(answers *a, const uint8_t *b, int64_t n) {
  for (int64_t i = 0; i < n && !a->oom; i++) put(a, b[i]);
}

napi_value honeywall_stream_run_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t policy, max_segs;
  double max_bytes;
  napi_typedarray_type t1, t2;
  size_t n_ops, n_bytes, off;
  int32_t *ops;
  uint8_t *bytes;
  napi_value ab;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5 || napi_get_value_int32(env, argv[0], &policy) != napi_ok ||
      napi_get_value_double(env, argv[1], &max_bytes) != napi_ok || napi_get_value_int32(env, argv[2], &max_segs) != napi_ok ||
      napi_get_typedarray_info(env, argv[3], &t1, &n_ops, (void **)&ops, &ab, &off) != napi_ok || t1 != napi_int32_array ||
      napi_get_typedarray_info(env, argv[4], &t2, &n_bytes, (void **)&bytes, &ab, &off) != napi_ok || t2 != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "streamRun(policy, maxBytes, maxSegs, ops: Int32Array, bytes: Uint8Array)");
    return NULL;
  }
  hw_stream s;
  hw_stream_init_buffer(&s, policy, (int64_t)max_bytes, max_segs);
  answers a = {0};
  for (size_t i = 0; i < n_ops && !a.oom && !s.oom;) {
    int32_t op = ops[i];
    if (op == 1 && i + 4 < n_ops) {
      int32_t o = ops[i + 2], len = ops[i + 3];
      if (o < 0 || len < 0 || (size_t)o + (size_t)len > n_bytes) break;
      put(&a, hw_stream_insert(&s, (uint32_t)ops[i + 1], bytes + o, len, ops[i + 4]));
      i += 5;
    } else if (op == 2 && i + 1 < n_ops) {
      uint32_t seq = 0;
      uint8_t *out;
      int32_t n = hw_stream_flush(&s, ops[i + 1], &seq, &out);
      put(&a, n);
      if (n > 0) {
        put(&a, (int32_t)seq);
        put_bytes(&a, out, n);
      }
      free(out);
      i += 2;
    } else if (op == 3 && i + 1 < n_ops) {
      int64_t n = s.base < 0 ? 0 : hw_stream_contiguous(&s);
      if (ops[i + 1] >= 0 && ops[i + 1] < n) n = ops[i + 1];
      if (n < 0) n = 0;
      uint8_t *out = malloc((size_t)n + 1);
      if (out == NULL) break;
      hw_stream_assemble(&s, 0, n, out);
      put(&a, (int32_t)n);
      put_bytes(&a, out, n);
      free(out);
      i += 2;
    } else if (op == 4 && i + 2 < n_ops) {
      int64_t from = ops[i + 1], to = ops[i + 2];
      int64_t n = to > from ? to - from : 0;
      uint8_t *out = malloc((size_t)n + 1);
      if (out == NULL) break;
      hw_stream_assemble(&s, from, to, out);
      put_bytes(&a, out, n);
      free(out);
      i += 3;
    } else if (op == 5 && i + 1 < n_ops) {
      hw_stream_init(&s, (uint32_t)ops[i + 1]);
      i += 2;
    } else if (op == 6 && i + 1 < n_ops) {
      put(&a, (int32_t)hw_stream_contiguous(&s));
      put(&a, hw_stream_pieces_before(&s, ops[i + 1]));
      put(&a, s.n_segs > 0 ? s.segs[0].meta : 0);
      put(&a, s.n_segs > 0);
      put(&a, (int32_t)s.queued_bytes);
      put(&a, s.n_segs);
      put(&a, (int32_t)s.overlaps);
      put(&a, (int32_t)s.refused);
      put(&a, s.base >= 0 ? (int32_t)(uint32_t)s.base : 0);
      put(&a, s.base >= 0);
      i += 2;
    } else
      break;
  }
  int oom = a.oom || s.oom;
  hw_stream_release(&s);
  if (oom) {
    free(a.r);
    napi_throw_error(env, NULL, "streamRun: out of memory");
    return NULL;
  }
  napi_value out_ab, out;
  void *data;
  if (napi_create_arraybuffer(env, sizeof(int32_t) * a.n, &data, &out_ab) != napi_ok) {
    free(a.r);
    return NULL;
  }
  if (a.n > 0) memcpy(data, a.r, sizeof(int32_t) * a.n);
  free(a.r);
  napi_create_typedarray(env, napi_int32_array, a.n, out_ab, 0, &out);
  return out;
}
#endif /* HW_NO_NAPI */
