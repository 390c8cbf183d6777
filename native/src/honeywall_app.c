/*
 * See honeywall_app.h. HttpSession.request's loop (parseRequest: the method token, the request line, parseHeaders'
 * blank line and the Transfer-Encoding and Content-Length it reads, the Dechunker's consumption, a POST or PUT body
 * running to the end) transcribed for where each request ends and what its method is; nothing else of the request
 * is kept. JavaScript's trim, toLowerCase and Number as honeywall_paf.c reads them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "honeywall_app.h"

#define CR 0x0d
#define LF 0x0a
#define SP 0x20
#define TAB 0x09

static int js_space(uint8_t c) { return c == 0x09 || c == 0x0a || c == 0x0b || c == 0x0c || c == 0x0d || c == 0x20 || c == 0xa0; }
static int token_char(uint8_t c) { return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f; }
static int lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int64_t index_of_lf(const uint8_t *b, int64_t n, int64_t from) {
  for (int64_t i = from; i < n; i++)
    if (b[i] == LF) return i;
  return -1;
}

/* lineEnd: where the line from i ends (its CR before the LF, or the LF), -1 without one */
static int64_t line_end(const uint8_t *b, int64_t n, int64_t i) {
  int64_t e = index_of_lf(b, n, i);
  if (e < 0) return -1;
  return e > i && b[e - 1] == CR ? e - 1 : e;
}

static int64_t after_eol(const uint8_t *b, int64_t e) { return b[e] == CR ? e + 2 : e + 1; }

/* [s, e) trimmed of JavaScript's white space */
static void trim(const uint8_t *b, int64_t *s, int64_t *e) {
  while (*s < *e && js_space(b[*s])) (*s)++;
  while (*e > *s && js_space(b[*e - 1])) (*e)--;
}

static int equals_ci(const uint8_t *b, int64_t s, int64_t e, const char *name) {
  int64_t n = (int64_t)strlen(name);
  if (e - s != n) return 0;
  for (int64_t i = 0; i < n; i++)
    if (lower(b[s + i]) != (uint8_t)name[i]) return 0;
  return 1;
}

static int contains_ci(const uint8_t *b, int64_t s, int64_t e, const char *word) {
  int64_t n = (int64_t)strlen(word);
  for (int64_t i = s; i + n <= e; i++)
    if (equals_ci(b, i, i + n, word)) return 1;
  return 0;
}

typedef struct {
  int64_t body_start, te_s, te_e, cl_s, cl_e;
  int has_te, has_cl;
} header_block;

/* parseHeaders from i, for the blank line and the first Transfer-Encoding and Content-Length */
static void parse_headers(const uint8_t *b, int64_t n, int64_t i, header_block *h) {
  memset(h, 0, sizeof *h);
  h->body_start = -1;
  int64_t pos = i;
  for (;;) {
    if (pos >= n) break;
    int64_t e = line_end(b, n, pos);
    if (e < 0) break;
    if (e == pos) {
      h->body_start = after_eol(b, e);
      break;
    }
    int64_t next = after_eol(b, e);
    int64_t colon = -1;
    for (int64_t k = pos; k < e; k++)
      if (b[k] == ':') {
        colon = k;
        break;
      }
    if (colon > pos) {
      int64_t ns = pos, ne = colon;
      trim(b, &ns, &ne);
      int64_t vs = colon + 1;
      while (vs < e && (b[vs] == SP || b[vs] == TAB)) vs++;
      int64_t ve = e;
      trim(b, &vs, &ve);
      if (!h->has_te && equals_ci(b, ns, ne, "transfer-encoding")) {
        h->has_te = 1;
        h->te_s = vs;
        h->te_e = ve;
      } else if (!h->has_cl && equals_ci(b, ns, ne, "content-length")) {
        h->has_cl = 1;
        h->cl_s = vs;
        h->cl_e = ve;
      }
    }
    pos = next;
  }
}

/* Dechunker.push(b[at, n)).consumed, from a fresh dechunker */
static int64_t dechunk_consumed(const uint8_t *b, int64_t n, int64_t at) {
  enum { SIZE, EXT, DATA, DATA_END, TRAILER, DONE } state = SIZE;
  double size = 0, left = 0;
  int saw_digit = 0, trailer_empty = 1;
  int64_t i = at;
  while (i < n && state != DONE) {
    uint8_t c = b[i];
    switch (state) {
    case SIZE: {
      int hv = c >= 0x30 && c <= 0x39 ? c - 0x30 : ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) ? (c | 0x20) - 0x61 + 10 : -1;
      if (hv >= 0) {
        size = size * 16 + hv;
        saw_digit = 1;
        i++;
      } else if (c == LF) {
        i++;
        if (size == 0 && saw_digit) {
          state = TRAILER;
          trailer_empty = 1;
        } else if (saw_digit) {
          left = size;
          state = DATA;
        }
      } else if (c == CR || c == SP || c == TAB)
        i++;
      else {
        state = EXT;
        i++;
      }
      break;
    }
    case EXT:
      if (c == LF) {
        state = SIZE;
        continue;
      }
      i++;
      break;
    case DATA: {
      double k = left < (double)(n - i) ? left : (double)(n - i);
      i += (int64_t)k;
      left -= k;
      if (left == 0) state = DATA_END;
      break;
    }
    case DATA_END:
      i++;
      if (c == LF) {
        state = SIZE;
        size = 0;
        saw_digit = 0;
      }
      break;
    case TRAILER:
      i++;
      if (c == LF) {
        if (trailer_empty) state = DONE;
        trailer_empty = 1;
      } else if (c != CR)
        trailer_empty = 0;
      break;
    default:
      break;
    }
  }
  return i - at;
}

static double decimal(const uint8_t *b, int64_t s, int64_t e) {
  char small[64];
  int64_t k = e - s;
  char *text = k < (int64_t)sizeof small ? small : malloc((size_t)k + 1);
  if (text == NULL) return HUGE_VAL;
  memcpy(text, b + s, (size_t)k);
  text[k] = 0;
  double v = strtod(text, NULL);
  if (text != small) free(text);
  return v;
}

/* parseRequest from start: -1 when there is no request there, else where the next may start; *head, *post_put */
static int64_t parse_request(const uint8_t *b, int64_t n, int64_t start, int *head) {
  int64_t i = start;
  while (i < n && token_char(b[i]) && i - start < 256) i++;
  if (i == start || i >= n || (b[i] != SP && b[i] != TAB)) return -1;
  int64_t ms = start, me = i;
  *head = equals_ci(b, ms, me, "head");
  int post_put = equals_ci(b, ms, me, "post") || equals_ci(b, ms, me, "put");
  while (i < n && (b[i] == SP || b[i] == TAB)) i++;
  int64_t eol = line_end(b, n, i);
  if (eol < 0) return n;
  header_block h;
  parse_headers(b, n, after_eol(b, eol), &h);
  if (h.body_start < 0) return n;
  int64_t next = h.body_start;
  int digits = h.has_cl && h.cl_e > h.cl_s;
  for (int64_t k = h.cl_s; digits && k < h.cl_e; k++) digits = b[k] >= '0' && b[k] <= '9';
  if (h.has_te && contains_ci(b, h.te_s, h.te_e, "chunked"))
    next = h.body_start + dechunk_consumed(b, n, h.body_start);
  else if (digits) {
    double cl = decimal(b, h.cl_s, h.cl_e);
    double rest = (double)(n - h.body_start);
    next = h.body_start + (int64_t)(cl < rest ? cl : rest);
  } else if (post_put)
    next = n;
  return next;
}

int hw_http_request_scan(const uint8_t *b, int64_t n, int *head) {
  int any = 0;
  int64_t i = 0;
  while (i < n) {
    int h = 0;
    int64_t next = parse_request(b, n, i, &h);
    if (next < 0) break;
    any = 1;
    *head = h;
    if (next <= i || next >= n) break;
    i = next;
  }
  return any;
}

static int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

/* DCE2_SetSsnState (Dce2SmbSession.sequence): false ends the session's inspection */
static int sequence(hw_dce2 *d, int from_client, uint32_t seq, uint32_t ack, int32_t len) {
  if (from_client && !d->seen_client) {
    if (d->seen_server && seq_lt(d->cli_seq, seq)) return 0;
    d->seen_client = 1;
    d->cli_seq = seq;
    d->cli_nseq = seq + (uint32_t)len;
    if (!d->seen_server) d->srv_seq = d->srv_nseq = ack;
    return 1;
  }
  if (!from_client && !d->seen_server) {
    if (!d->seen_client || seq_lt(d->srv_seq, seq)) return 0;
    d->seen_server = 1;
    d->srv_seq = seq;
    d->srv_nseq = seq + (uint32_t)len;
    return 1;
  }
  uint32_t nseq = from_client ? d->cli_nseq : d->srv_nseq;
  if (nseq != seq) return 0;
  if (from_client) {
    d->cli_seq = seq;
    d->cli_nseq = seq + (uint32_t)len;
  } else {
    d->srv_seq = seq;
    d->srv_nseq = seq + (uint32_t)len;
  }
  return 1;
}

void hw_dce2_rebuilt(hw_dce2 *d, int from_client, uint32_t seq, uint32_t ack, int32_t len) {
  if (d->no_inspect || len == 0) return;
  if (!sequence(d, from_client, seq, ack, len)) d->no_inspect = 1;
}
