/*
 * src/http/paf.ts and src/dce2/smb-paf.ts in C (see honeywall_paf.h). The JavaScript reads the header block as latin1
 * text with regular expressions; here the same patterns are matched by hand, with JavaScript's meaning of \s (tab,
 * line feed, vertical tab, form feed, carriage return, space and no-break space 0xA0 among latin1 bytes) and of
 * String.prototype.trim, so the two give the same lengths on any bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "honeywall_paf.h"

#define CR 0x0d
#define LF 0x0a

static int js_space(uint8_t c) { return c == 0x09 || c == 0x0a || c == 0x0b || c == 0x0c || c == 0x0d || c == 0x20 || c == 0xa0; }
static int digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int hex(uint8_t c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int64_t header_end(const uint8_t *b, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    if (b[i] != LF) continue;
    if (i + 1 < n && b[i + 1] == LF) return i + 2;
    if (i + 2 < n && b[i + 1] == CR && b[i + 2] == LF) return i + 3;
  }
  return -1;
}

int hw_http_has_header_end(const uint8_t *b, int64_t n) { return header_end(b, n) >= 0; }

/* fieldValue: the first `\n<name>[ \t]*:[ \t]*([^\r\n]*)` (name case-insensitive) in head[0, n), trimmed; start and
 * end of the value in *vs, *ve; 0 when there is none. */
static int field_value(const uint8_t *h, int64_t n, const char *name, int64_t *vs, int64_t *ve) {
  int64_t len = (int64_t)strlen(name);
  for (int64_t i = 0; i < n; i++) {
    if (h[i] != LF || i + 1 + len > n) continue;
    int64_t k = 0;
    while (k < len && lower(h[i + 1 + k]) == (uint8_t)name[k]) k++;
    if (k < len) continue;
    int64_t j = i + 1 + len;
    while (j < n && (h[j] == ' ' || h[j] == '\t')) j++;
    if (j >= n || h[j] != ':') continue;
    j++;
    while (j < n && (h[j] == ' ' || h[j] == '\t')) j++;
    int64_t e = j;
    while (e < n && h[e] != CR && h[e] != LF) e++;
    /* trim: JavaScript's white space (and line terminators, which [^\r\n] already left out) */
    while (j < e && js_space(h[j])) j++;
    while (e > j && js_space(h[e - 1])) e--;
    *vs = j;
    *ve = e;
    return 1;
  }
  return 0;
}

static int starts_with_ci(const uint8_t *b, int64_t n, const char *s) {
  int64_t len = (int64_t)strlen(s);
  if (n < len) return 0;
  for (int64_t i = 0; i < len; i++)
    if (lower(b[i]) != (uint8_t)s[i]) return 0;
  return 1;
}

/* parseInt(text, 10) of the digits at the start (the caller checked there is one): correctly rounded, as V8's is
 * (strtod), so a Content-Length past 2^53 gives the same number */
static double parse_decimal(const uint8_t *b, int64_t n) {
  int64_t k = 0;
  while (k < n && digit(b[k])) k++;
  char small[64];
  char *text = k < (int64_t)sizeof small ? small : malloc((size_t)k + 1);
  if (text == NULL) return HUGE_VAL;
  memcpy(text, b, (size_t)k);
  text[k] = 0;
  double v = strtod(text, NULL);
  if (text != small) free(text);
  return v;
}

/* parseInt(text, 16) of the hex digits at the start. Not correctly rounded past 2^53: a chunk that large runs past
 * any buffer PAF is shown, which is all the caller asks of it. */
static double parse_int(const uint8_t *b, int64_t n, int radix) {
  double v = 0;
  for (int64_t i = 0; i < n; i++) {
    int d = digit(b[i]) ? b[i] - '0' : (radix == 16 && hex(b[i])) ? lower(b[i]) - 'a' + 10 : -1;
    if (d < 0) break;
    v = v * radix + d;
  }
  return v;
}

static int64_t index_of_lf(const uint8_t *b, int64_t n, double from) {
  if (from >= (double)n) return -1;
  for (int64_t i = from < 0 ? 0 : (int64_t)from; i < n; i++)
    if (b[i] == LF) return i;
  return -1;
}

/* chunkedEnd */
static double chunked_end(const uint8_t *b, int64_t n, int64_t at) {
  double i = (double)at;
  for (;;) {
    int64_t eol = index_of_lf(b, n, i);
    if (eol < 0) return 0;
    int64_t j = (int64_t)i;
    while (j < eol && js_space(b[j])) j++;
    if (j >= eol || !hex(b[j])) return 0;
    double size = parse_int(b + j, eol - j, 16);
    i = (double)(eol + 1);
    if (size == 0) {
      for (;;) {
        int64_t e = index_of_lf(b, n, i);
        if (e < 0) return 0;
        int blank = (double)e == i || ((double)e == i + 1 && b[(int64_t)i] == CR);
        i = (double)(e + 1);
        if (blank) return i;
      }
    }
    i += size;
    int64_t e = index_of_lf(b, n, i);
    if (e < 0) return 0;
    i = (double)(e + 1);
  }
}

static int token_byte(uint8_t c) { return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL; }

/* `^\S+[ \t]+\S+[ \t]+HTTP\/1\.[01]` on the first line. No backtracking changes the match: each \S+ ends where a
 * white-space byte starts, and only a run of spaces and tabs may follow it. */
static int request_line_11(const uint8_t *l, int64_t n) {
  int64_t i = 0;
  for (int part = 0; part < 2; part++) {
    int64_t s = i;
    while (i < n && !js_space(l[i])) i++;
    if (i == s) return 0;
    s = i;
    while (i < n && (l[i] == ' ' || l[i] == '\t')) i++;
    if (i == s) return 0;
  }
  return n - i >= 8 && memcmp(l + i, "HTTP/1.", 7) == 0 && (l[i + 7] == '0' || l[i + 7] == '1');
}

double hw_http_paf_length(const uint8_t *b, int64_t n, int from_client, int head) {
  if (n == 0) return 0;
  if (from_client) {
    if (!token_byte(b[0])) return -1;
  } else {
    const char *want = "HTTP/1.";
    for (int64_t i = 0; i < 7 && i < n; i++)
      if (b[i] != (uint8_t)want[i]) return -1;
  }
  int64_t end = header_end(b, n);
  if (end < 0) return 0;
  int64_t first = 0;
  while (b[first] != LF) first++;
  int64_t vs, ve;
  int chunked = field_value(b, end, "transfer-encoding", &vs, &ve) && starts_with_ci(b + vs, ve - vs, "chunked");
  int has_cl = field_value(b, end, "content-length", &vs, &ve) && ve > vs && digit(b[vs]);
  double len = has_cl ? parse_decimal(b + vs, ve - vs) : 0;
  if (from_client) {
    if (!request_line_11(b, first)) return (double)end;
    if (chunked) return chunked_end(b, n, end);
    if (has_cl) return (double)end + len;
    return (double)end;
  }
  /* ^HTTP\/1\.(\d)[ \t]+(\d{3}) */
  if (first < 8 || memcmp(b, "HTTP/1.", 7) != 0 || !digit(b[7])) return -1;
  int64_t i = 8;
  while (i < first && (b[i] == ' ' || b[i] == '\t')) i++;
  if (i == 8 || i + 3 > first || !digit(b[i]) || !digit(b[i + 1]) || !digit(b[i + 2])) return -1;
  int code = (b[i] - '0') * 100 + (b[i + 1] - '0') * 10 + (b[i + 2] - '0');
  if (head || code == 204 || code == 304 || (code >= 100 && code < 200)) return (double)end;
  if (chunked) return chunked_end(b, n, end);
  if (has_cl) return (double)end + len;
  if (b[7] == '1') return (double)end;
  if (field_value(b, end, "content-encoding", &vs, &ve)) return (double)end;
  return -1;
}

/* ------------------------------------------------------------------------------------------ SMB */

#define SMB1_ID 0xff534d42u
#define SMB2_ID 0xfe534d42u

static uint32_t u32(const uint8_t *b, int64_t at) {
  return (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3];
}

static int nbss_type(uint8_t t) { return t == 0x00 || (t >= 0x81 && t <= 0x85); }

static double netbios_length(const uint8_t *b, int64_t n, int64_t at, int junk) {
  uint8_t type = b[at], bit = b[at + 1];
  if (junk ? type != 0x00 : !nbss_type(type)) return -1;
  uint32_t id = at + 8 <= n ? u32(b, at + 4) : 0;
  if (id == SMB1_ID && bit != 0x00 && bit != 0x01) return -1;
  uint32_t len = (uint32_t)b[at + 2] << 8 | b[at + 3];
  return id == SMB2_ID ? (double)bit * 0x10000 + len : (double)(bit & 0x01) * 0x10000 + len;
}

double hw_smb_paf_length(const uint8_t *b, int64_t n) {
  if (n < 4) return 0;
  double l = netbios_length(b, n, 0, 0);
  if (l >= 0) return 4 + l;
  for (int64_t at = 0; at + 8 <= n; at++) {
    uint32_t id = u32(b, at + 4);
    if (id != SMB1_ID && id != SMB2_ID) continue;
    double len = netbios_length(b, n, at, 1);
    if (len >= 0) return (double)at + 4 + len;
  }
  return 0;
}

int hw_smb_pdu_head_in(const uint8_t *b, int64_t n, int at_start) {
  if (at_start && n >= 4 && netbios_length(b, n, 0, 0) >= 0) return 1;
  for (int64_t at = 0; at + 8 <= n; at++) {
    uint32_t id = u32(b, at + 4);
    if ((id == SMB1_ID || id == SMB2_ID) && netbios_length(b, n, at, 1) >= 0) return 1;
  }
  return 0;
}

#ifndef HW_NO_NAPI
/* ------------------------------------------------------------------------------------------ N-API (tests) */

/* pafRun(which, bytes, fromClient, head) -> number: 0 httpPafLength, 1 hasHeaderEnd, 2 smbPafLength, 3 smbPduHeadIn
 * (`head` as atStart), for test/native-paf.test.ts. */
napi_value honeywall_paf_run_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t which, from_client, head;
  napi_typedarray_type t;
  size_t len, off;
  uint8_t *b;
  napi_value ab, out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || napi_get_value_int32(env, argv[0], &which) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &t, &len, (void **)&b, &ab, &off) != napi_ok || t != napi_uint8_array ||
      napi_get_value_int32(env, argv[2], &from_client) != napi_ok || napi_get_value_int32(env, argv[3], &head) != napi_ok) {
    napi_throw_type_error(env, NULL, "pafRun(which, bytes: Uint8Array, fromClient, head)");
    return NULL;
  }
  double r = which == 0   ? hw_http_paf_length(b, (int64_t)len, from_client, head)
             : which == 1 ? hw_http_has_header_end(b, (int64_t)len)
             : which == 2 ? hw_smb_paf_length(b, (int64_t)len)
                          : hw_smb_pdu_head_in(b, (int64_t)len, head);
  napi_create_double(env, r, &out);
  return out;
}
#endif /* HW_NO_NAPI */
