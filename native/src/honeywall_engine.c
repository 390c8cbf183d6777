/*
 * honeywall_engine: the detection engine's two libraries, N-API in C.
 *
 * PCRE2 (Debian libpcre2-dev) runs every rule `pcre` exactly as PCRE does, with Snort's step limits as match and
 * depth limits, so a pattern gives up after a fixed amount of work whatever the machine is doing (Snort 2.9
 * sp_pcre.c: pcre_match_limit / pcre_match_limit_recursion). Hyperscan (Debian libhyperscan-dev) is the
 * multi-literal prefilter: block mode offline, streaming mode inline.
 *
 *   pcreCompile(pattern: Buffer, options: number, matchLimit, depthLimit) -> handle   (throws {message, offset})
 *   pcreExec(handle, buf: Uint8Array, base, end, start, budget) -> n
 *       Searches buf[base, end) from `start` (relative to base), as Snort's pcre_exec(re, extra, base_ptr, length,
 *       search_offset). n >= 0: matched, n is the match end (relative to base); -1 no match; -2 match limit hit;
 *       -3 depth/heap/JIT stack limit hit; -5 the step budget ran out; -4 other error. lastMatch() then holds
 *       [match start, match end, steps used]. Steps are PCRE2 auto-callouts: one per pattern item the matcher
 *       reaches, over every start position, so `budget` bounds the work of the whole call (PCRE's own match limit
 *       is counted afresh at each start position, as Snort's is).
 *   pcreInfo(handle) -> { jit, captures, backrefMax, anchored, maxLookbehind }   (maxLookbehind counts \b and \B as 1)
 *   hsCompile(patterns: Buffer[], flags: Uint32Array, ids: Uint32Array, stream: boolean) -> Buffer (serialized)
 *       Literal patterns (hs_compile_lit_multi); flags are Hyperscan's (HS_FLAG_CASELESS = 1, SINGLEMATCH = 8).
 *       Throws {message, index} when a pattern is refused.
 *   hsCompileAsync(same) -> Promise<Buffer>   (on libuv's thread pool)
 *   hsLoad(serialized: Buffer) -> db handle   (throws {message, code}; code 'platform' or 'version' means the bytes
 *       were made by another machine or library version: recompile from the patterns)
 *   hsInfo(db) -> { bytes, streamBytes, info }
 *   hsPortFilter(db, src: Int32Array, dst: Int32Array, bidir: Uint8Array, maps: Uint8Array)
 *       Per pattern id: the port sets its rules can match (an index of a 65536-bit map in `maps`, -1 any port) and
 *       whether one of them is bidirectional. A scan given ports then leaves out the ids whose rules cannot match
 *       those ports (a one-byte pattern of a port 3389 rule is no candidate on port 80). Copied.
 *   hsShortPatterns(db, bytes: Uint8Array, starts: Int32Array, nocase: Uint8Array, ids: Int32Array)
 *       Block databases: the patterns of one and two bytes that the database was compiled without, found by hsScan
 *       itself (see scan_short). Copied.
 *   hsScan(db, buf, start, end, out: Int32Array[, sport, dport]) -> count   (block mode; ids written to out, at most
 *       out.length, in ascending order (see sort_ids); ports < 0 or absent: no port filter)
 *   hsStreamOpen(db) -> stream; hsStreamScan(stream, buf, start, end, out: Int32Array, streamOffset[, sport, dport])
 *       -> count (ids and the end offsets relative to `start`, as pairs; each id once per call, its first end);
 *   hsStreamClose(stream)   (also done by the garbage collector)
 *   lastMatch() -> Int32Array [start, end, steps] of the last pcreExec call (shared, per thread)
 *
 * Every handle belongs to the thread that made it (scratch space, match data and JIT stacks are per thread).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs.h>
#include <node_api.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "honeywall_capture.h"
#include "honeywall_decode.h"
#include "honeywall_defrag.h"
#include "honeywall_flow.h"
#include "honeywall_front.h"
#include "honeywall_map.h"
#include "honeywall_shard.h"
#include "honeywall_paf.h"
#include "honeywall_stream.h"

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) return NULL;                                                                                \
  } while (0)

/* Per thread (napi_env) state. */
typedef struct {
  uint32_t steps;
  uint32_t budget;
  hs_scratch_t *scratch;
  pcre2_match_data *md;
  pcre2_jit_stack *jit_stack;
  int32_t *last; /* [start, end, steps] of the last pcre call, shared with JS */
  napi_ref last_ref;
  /* scan_short: per byte pair, the scan (key_gen) that last reported it; one table per thread, whichever database
     scans (65536 x 4 bytes, where one per database would cost that much per port group) */
  uint32_t *key_stamp;
  uint32_t key_gen;
} engine_state;

typedef struct {
  pcre2_code *re;
  pcre2_match_context *mctx;
  int jit;
} pcre_handle;

/* hsPortFilter: per id the src and dst port map (-1: any) and the bidirectional flag; maps of 8192 bytes each. Shared
   by the databases of one group's patterns (hsPortFilterShare: a flow class's database), which number them alike;
   freed with the last (refs; all owners live in the thread that loaded them). */
typedef struct {
  int refs;
  uint32_t count; /* ids */
  int32_t *src;
  int32_t *dst;
  uint8_t *bidir;
  uint8_t *maps;
} port_filter;

static void port_filter_release(port_filter *f) {
  if (f == NULL || --f->refs > 0) return;
  free(f->src);
  free(f->dst);
  free(f->bidir);
  free(f->maps);
  free(f);
}

typedef struct {
  hs_database_t *db;
  uint32_t max_id;
  uint32_t *seen; /* stream scans: per id, the stamp of the last call that reported it */
  uint32_t stamp;
  port_filter *ports;
  /* hsShortPatterns: ids of the one-byte patterns per byte value (one_ids[one_start[v], one_start[v + 1])), and of
     the two-byte ones per byte pair: two_bits marks the pairs (65536 bits, in 1024 little-endian 64-bit words),
     two_rank[w] counts the marked pairs before word w, so the k-th marked pair (k = its rank) has the ids two_ids[
     two_start[k], two_start[k + 1]). A caseless pattern stands under each case of its bytes.
     short_seen/short_stamp: an id found once per scan. */
  int32_t *one_start;
  int32_t *one_ids;
  /* the byte values that have one-byte patterns, ascending (one_count of them) */
  uint8_t one_values[256];
  uint32_t one_count;
  uint8_t *two_bits;
  uint32_t *two_rank;
  int32_t *two_start;
  int32_t *two_ids;
  uint32_t two_count;
  uint32_t *short_seen;
  uint32_t short_stamp;
  /* Owners: its JS handle and each stream opened on it; freed when the last one lets go (finalizers run in any
     order when a thread ends, so a stream must not rely on the database's JS object). */
  int refs;
  /* A streaming-mode database given to hsScan (a broad-port database, src/match/broad-ports.ts, or a port group's,
     port-groups.ts): scanned as one block through the stream it keeps, reset after each scan. Hyperscan compiles a
     literal set of a few hundred patterns in block mode in 0.5 s (most of it the small-write engine it adds for short
     blocks) and in streaming mode in 10 ms, and the streaming database scans a 50-byte payload about as fast. */
  int streaming;
  hs_stream_t *block_stream;
} hs_handle;

typedef struct {
  hs_stream_t *stream;
  hs_handle *db;
} hs_stream_handle;

static void short_free(hs_handle *h) {
  free(h->one_start);
  free(h->one_ids);
  free(h->two_bits);
  free(h->two_rank);
  free(h->two_start);
  free(h->two_ids);
  free(h->short_seen);
  h->one_start = h->one_ids = h->two_start = h->two_ids = NULL;
  h->two_bits = NULL;
  h->two_rank = NULL;
  h->short_seen = NULL;
  h->two_count = 0;
  h->one_count = 0;
}

static void hs_release(hs_handle *h) {
  if (--h->refs > 0) return;
  /* (no scratch: nothing is reported, and the thread's scratch may already be gone at teardown) */
  if (h->block_stream) hs_close_stream(h->block_stream, NULL, NULL, NULL);
  if (h->db) hs_free_database(h->db);
  free(h->seen);
  port_filter_release(h->ports);
  short_free(h);
  free(h);
}

static engine_state *state_of(napi_env env) {
  engine_state *s = NULL;
  napi_get_instance_data(env, (void **)&s);
  return s;
}

static napi_value throw_with(napi_env env, const char *msg, const char *key, napi_value extra) {
  napi_value m, err;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &err);
  if (key != NULL && extra != NULL) napi_set_named_property(env, err, key, extra);
  napi_throw(env, err);
  return NULL;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) { return napi_get_value_uint32(env, v, out) == napi_ok; }

static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type t;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, v, &t, len, (void **)data, &ab, &off) != napi_ok) return 0;
    return t == napi_uint8_array || t == napi_int8_array || t == napi_uint8_clamped_array;
  }
  bool is_buf = false;
  napi_is_buffer(env, v, &is_buf);
  if (is_buf) return napi_get_buffer_info(env, v, (void **)data, len) == napi_ok;
  return 0;
}

/* ------------------------------------------------------------------------------------------------------- PCRE2 */

#define OPT_CASELESS 1
#define OPT_DOTALL 2
#define OPT_MULTILINE 4
#define OPT_EXTENDED 8
#define OPT_ANCHORED 16
#define OPT_DOLLAR_ENDONLY 32
#define OPT_UNGREEDY 64
#define OPT_NO_JIT 256 /* compile only (a load-time check): no JIT code, no match context */

static void pcre_finalize(napi_env env, void *data, void *hint) {
  pcre_handle *h = data;
  if (h->mctx) pcre2_match_context_free(h->mctx);
  if (h->re) pcre2_code_free(h->re);
  free(h);
}

/* Auto-callout: one call per pattern item reached, a deterministic count of the matcher's work across start
   positions (the match limit counts one start position at a time). */
static int count_step(pcre2_callout_block *cb, void *data) {
  engine_state *s = data;
  return ++s->steps > s->budget ? PCRE2_ERROR_CALLOUT : 0;
}

static napi_value pcre_compile_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *pat;
  size_t plen;
  uint32_t opts = 0, match_limit = 0, depth_limit = 0;
  if (argc < 4 || !get_bytes(env, argv[0], &pat, &plen) || !get_u32(env, argv[1], &opts) ||
      !get_u32(env, argv[2], &match_limit) || !get_u32(env, argv[3], &depth_limit)) {
    napi_throw_type_error(env, NULL, "pcreCompile(pattern: Buffer, options, matchLimit, depthLimit)");
    return NULL;
  }
  uint32_t o = 0;
  if (opts & OPT_CASELESS) o |= PCRE2_CASELESS;
  if (opts & OPT_DOTALL) o |= PCRE2_DOTALL;
  if (opts & OPT_MULTILINE) o |= PCRE2_MULTILINE;
  if (opts & OPT_EXTENDED) o |= PCRE2_EXTENDED;
  if (opts & OPT_ANCHORED) o |= PCRE2_ANCHORED;
  if (opts & OPT_DOLLAR_ENDONLY) o |= PCRE2_DOLLAR_ENDONLY;
  if (opts & OPT_UNGREEDY) o |= PCRE2_UNGREEDY;
  o |= PCRE2_AUTO_CALLOUT;
  int code;
  PCRE2_SIZE erroff;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, plen, o, &code, &erroff, NULL);
  if (re == NULL) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(code, msg, sizeof msg);
    napi_value off;
    napi_create_uint32(env, (uint32_t)erroff, &off);
    return throw_with(env, (const char *)msg, "offset", off);
  }
  pcre_handle *h = calloc(1, sizeof *h);
  h->re = re;
  /* JIT where the library can; a pattern it cannot JIT runs on the interpreter (same results, same limits). */
  h->jit = (opts & OPT_NO_JIT) ? 0 : pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
  h->mctx = pcre2_match_context_create(NULL);
  pcre2_set_match_limit(h->mctx, match_limit);
  pcre2_set_depth_limit(h->mctx, depth_limit);
  /* The interpreter keeps its backtracking frames on the heap: bound them too (KiB). */
  pcre2_set_heap_limit(h->mctx, 4096);
  engine_state *s = state_of(env);
  if (h->jit) pcre2_jit_stack_assign(h->mctx, NULL, s->jit_stack);
  pcre2_set_callout(h->mctx, count_step, s);
  napi_value ext;
  CHECK(napi_create_external(env, h, pcre_finalize, NULL, &ext));
  return ext;
}

static napi_value pcre_exec_js(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  pcre_handle *h;
  uint8_t *buf;
  size_t len;
  uint32_t base, end, start, budget;
  if (argc < 6 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !get_bytes(env, argv[1], &buf, &len) ||
      !get_u32(env, argv[2], &base) || !get_u32(env, argv[3], &end) || !get_u32(env, argv[4], &start) ||
      !get_u32(env, argv[5], &budget) || end > len || base > end) {
    napi_throw_type_error(env, NULL, "pcreExec(handle, buf, base, end, start, budget)");
    return NULL;
  }
  engine_state *s = state_of(env);
  s->steps = 0;
  s->budget = budget;
  int rc = pcre2_match(h->re, (PCRE2_SPTR)(buf + base), end - base, start, 0, s->md, h->mctx);
  int32_t result;
  s->last[2] = (int32_t)(s->steps > budget ? budget : s->steps);
  if (rc >= 0) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    s->last[0] = (int32_t)ov[0];
    s->last[1] = (int32_t)ov[1];
    result = (int32_t)ov[1];
  } else if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL) {
    result = -1;
  } else if (rc == PCRE2_ERROR_CALLOUT) {
    result = -5;
  } else if (rc == PCRE2_ERROR_MATCHLIMIT) {
    result = -2;
  } else if (rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT ||
             rc == PCRE2_ERROR_NOMEMORY) {
    result = -3;
  } else {
    result = -4;
  }
  napi_value out;
  napi_create_int32(env, result, &out);
  return out;
}

static napi_value pcre_info_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  pcre_handle *h;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok) {
    napi_throw_type_error(env, NULL, "pcreInfo(handle)");
    return NULL;
  }
  uint32_t captures = 0, backref = 0, all = 0, lookbehind = 0;
  pcre2_pattern_info(h->re, PCRE2_INFO_MAXLOOKBEHIND, &lookbehind);
  pcre2_pattern_info(h->re, PCRE2_INFO_CAPTURECOUNT, &captures);
  pcre2_pattern_info(h->re, PCRE2_INFO_BACKREFMAX, &backref);
  pcre2_pattern_info(h->re, PCRE2_INFO_ALLOPTIONS, &all);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_get_boolean(env, h->jit, &v);
  napi_set_named_property(env, o, "jit", v);
  napi_create_uint32(env, captures, &v);
  napi_set_named_property(env, o, "captures", v);
  napi_create_uint32(env, backref, &v);
  napi_set_named_property(env, o, "backrefMax", v);
  /* Anchored by its own structure (^, \A, /A): Snort's PcreCheckAnchored, no search at later offsets. */
  napi_get_boolean(env, (all & PCRE2_ANCHORED) != 0, &v);
  napi_set_named_property(env, o, "anchored", v);
  napi_create_uint32(env, lookbehind, &v);
  napi_set_named_property(env, o, "maxLookbehind", v);
  return o;
}

static napi_value last_match_js(napi_env env, napi_callback_info info) {
  engine_state *s = state_of(env);
  napi_value v;
  CHECK(napi_get_reference_value(env, s->last_ref, &v));
  return v;
}

/* --------------------------------------------------------------------------------------------------- Hyperscan */

static void hs_finalize(napi_env env, void *data, void *hint) { hs_release(data); }

/* The inputs of one literal database compile, copied out of JS memory so that it can run on another thread. */
typedef struct {
  uint32_t n;
  char *bytes;    /* every pattern, one after the other */
  char **exprs;   /* pointers into bytes */
  size_t *lens;
  unsigned *flags;
  unsigned *ids;
  int stream;
  /* results */
  char *out;
  size_t out_len;
  char message[512];
  int index;
  napi_deferred deferred;
  napi_async_work work;
} hs_job;

static void job_free(hs_job *j) {
  if (!j) return;
  free(j->bytes);
  free(j->exprs);
  free(j->lens);
  free(j->flags);
  free(j->ids);
  free(j->out);
  free(j);
}

/* Reads hsCompile's arguments into a job; NULL (with a JS exception pending) when they are wrong. */
static hs_job *job_from_args(napi_env env, napi_value *argv, size_t argc) {
  bool is_array = false;
  if (argc < 4 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "hsCompile(patterns: Buffer[], flags: Uint32Array, ids: Uint32Array, stream)");
    return NULL;
  }
  uint32_t n = 0;
  napi_get_array_length(env, argv[0], &n);
  uint32_t *flags, *ids;
  size_t flen, ilen;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, argv[1], &t, &flen, (void **)&flags, &ab, &off) != napi_ok || t != napi_uint32_array ||
      napi_get_typedarray_info(env, argv[2], &t, &ilen, (void **)&ids, &ab, &off) != napi_ok || t != napi_uint32_array ||
      flen < n || ilen < n) {
    napi_throw_type_error(env, NULL, "hsCompile: flags and ids must be Uint32Arrays as long as patterns");
    return NULL;
  }
  bool stream = false;
  napi_get_value_bool(env, argv[3], &stream);
  hs_job *j = calloc(1, sizeof *j);
  j->n = n;
  j->stream = stream;
  j->index = -1;
  size_t cap = n ? n : 1;
  j->exprs = calloc(cap, sizeof *j->exprs);
  j->lens = calloc(cap, sizeof *j->lens);
  j->flags = calloc(cap, sizeof *j->flags);
  j->ids = calloc(cap, sizeof *j->ids);
  size_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    uint8_t *d;
    size_t l;
    if (napi_get_element(env, argv[0], i, &el) != napi_ok || !get_bytes(env, el, &d, &l) || l == 0) {
      job_free(j);
      napi_value idx;
      napi_create_uint32(env, i, &idx);
      throw_with(env, "hsCompile: every pattern must be a non-empty Buffer", "index", idx);
      return NULL;
    }
    j->lens[i] = l;
    total += l;
  }
  j->bytes = malloc(total ? total : 1);
  size_t at = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    uint8_t *d;
    size_t l;
    napi_get_element(env, argv[0], i, &el);
    get_bytes(env, el, &d, &l);
    memcpy(j->bytes + at, d, l);
    j->exprs[i] = j->bytes + at;
    at += l;
    j->flags[i] = flags[i];
    j->ids[i] = ids[i];
  }
  return j;
}

/* Compiles and serializes; fills out/out_len or message/index. Touches no JS state (runs on any thread). */
static void job_run(hs_job *j) {
  hs_database_t *db = NULL;
  hs_compile_error_t *err = NULL;
  hs_error_t rc = hs_compile_lit_multi((const char *const *)j->exprs, j->flags, j->ids, j->lens, j->n,
                                       j->stream ? HS_MODE_STREAM : HS_MODE_BLOCK, NULL, &db, &err);
  if (rc != HS_SUCCESS) {
    snprintf(j->message, sizeof j->message, "hyperscan: %s", err ? err->message : "compile failed");
    j->index = err ? err->expression : -1;
    if (err) hs_free_compile_error(err);
    return;
  }
  char *bytes = NULL;
  size_t blen = 0;
  rc = hs_serialize_database(db, &bytes, &blen);
  hs_free_database(db);
  if (rc != HS_SUCCESS) {
    snprintf(j->message, sizeof j->message, "hyperscan: cannot serialize the database");
    return;
  }
  j->out = bytes;
  j->out_len = blen;
}

/* The job's result as a Buffer, or an Error value. */
static napi_value job_result(napi_env env, hs_job *j, int *failed) {
  napi_value v;
  if (j->out == NULL) {
    napi_value m, idx;
    napi_create_string_utf8(env, j->message, NAPI_AUTO_LENGTH, &m);
    napi_create_error(env, NULL, m, &v);
    napi_create_int32(env, j->index, &idx);
    napi_set_named_property(env, v, "index", idx);
    *failed = 1;
    return v;
  }
  void *dst;
  napi_create_buffer_copy(env, j->out_len, j->out, &dst, &v);
  *failed = 0;
  return v;
}

static napi_value hs_compile_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_job *j = job_from_args(env, argv, argc);
  if (j == NULL) return NULL;
  job_run(j);
  int failed;
  napi_value r = job_result(env, j, &failed);
  job_free(j);
  if (failed) {
    napi_throw(env, r);
    return NULL;
  }
  return r;
}

static void job_execute(napi_env env, void *data) { job_run(data); }

static void job_complete(napi_env env, napi_status status, void *data) {
  hs_job *j = data;
  int failed;
  napi_value r = job_result(env, j, &failed);
  if (failed) napi_reject_deferred(env, j->deferred, r);
  else napi_resolve_deferred(env, j->deferred, r);
  napi_delete_async_work(env, j->work);
  job_free(j);
}

/* The same compile on libuv's thread pool: the groups of a rule set compile side by side, on every core. */
static napi_value hs_compile_async_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_job *j = job_from_args(env, argv, argc);
  if (j == NULL) return NULL;
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "hsCompileAsync", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, job_execute, job_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

static napi_value hs_load_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *bytes;
  size_t len;
  uint32_t max_id = 0;
  if (argc < 2 || !get_bytes(env, argv[0], &bytes, &len) || !get_u32(env, argv[1], &max_id)) {
    napi_throw_type_error(env, NULL, "hsLoad(serialized: Buffer, maxId)");
    return NULL;
  }
  hs_database_t *db = NULL;
  hs_error_t rc = hs_deserialize_database((const char *)bytes, len, &db);
  if (rc != HS_SUCCESS) {
    const char *code = rc == HS_DB_PLATFORM_ERROR ? "platform" : rc == HS_DB_VERSION_ERROR ? "version" : "damaged";
    napi_value c;
    napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
    char msg[128];
    snprintf(msg, sizeof msg, "hyperscan: cannot load the database (%s, error %d)", code, rc);
    return throw_with(env, msg, "code", c);
  }
  engine_state *s = state_of(env);
  if (hs_alloc_scratch(db, &s->scratch) != HS_SUCCESS) {
    hs_free_database(db);
    return throw_with(env, "hyperscan: cannot allocate scratch space", NULL, NULL);
  }
  hs_handle *h = calloc(1, sizeof *h);
  h->db = db;
  h->refs = 1;
  h->max_id = max_id;
  h->seen = calloc((size_t)max_id + 1, sizeof *h->seen);
  size_t stream_size;
  h->streaming = hs_stream_size(db, &stream_size) == HS_SUCCESS;
  napi_value ext;
  CHECK(napi_create_external(env, h, hs_finalize, NULL, &ext));
  return ext;
}

static napi_value hs_info_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_handle *h;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok) {
    napi_throw_type_error(env, NULL, "hsInfo(db)");
    return NULL;
  }
  size_t size = 0, ssize = 0;
  hs_database_size(h->db, &size);
  if (hs_stream_size(h->db, &ssize) != HS_SUCCESS) ssize = 0;
  char *text = NULL;
  hs_database_info(h->db, &text);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_double(env, (double)size, &v);
  napi_set_named_property(env, o, "bytes", v);
  napi_create_double(env, (double)ssize, &v);
  napi_set_named_property(env, o, "streamBytes", v);
  napi_create_string_utf8(env, text ? text : "", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "info", v);
  free(text);
  return o;
}

typedef struct {
  int32_t *out;
  uint32_t n;
  uint32_t cap;
  uint32_t *seen;
  uint32_t stamp;
  uint32_t max_id;
  unsigned long long base; /* stream offset of the block's first byte */
  int pairs;
  const port_filter *filter; /* the port filter that applies, or NULL */
  uint32_t sport;
  uint32_t dport;
} scan_ctx;

#define PORT_MAP_BYTES 8192

static int port_in(const uint8_t *maps, int32_t map, uint32_t port) {
  return map < 0 || (maps[(size_t)map * PORT_MAP_BYTES + (port >> 3)] >> (port & 7)) & 1;
}

/* The ports of the scanned packet can match one of the pattern's rules (a superset test: the rules' header is checked
   exactly afterwards). */
static int ports_pass(const scan_ctx *c, unsigned int id) {
  const port_filter *f = c->filter;
  if (f == NULL || id >= f->count) return 1;
  int32_t src = f->src[id], dst = f->dst[id];
  if (port_in(f->maps, src, c->sport) && port_in(f->maps, dst, c->dport)) return 1;
  return f->bidir[id] && port_in(f->maps, src, c->dport) && port_in(f->maps, dst, c->sport);
}

/* Optional trailing (sport, dport) arguments: the filter applies when both are ports and the database has one. */
static const port_filter *filter_of(napi_env env, const hs_handle *h, napi_value *argv, size_t argc, size_t at, uint32_t *sport,
                                    uint32_t *dport) {
  if (h->ports == NULL || argc < at + 2) return NULL;
  int32_t sp, dp;
  if (napi_get_value_int32(env, argv[at], &sp) != napi_ok || napi_get_value_int32(env, argv[at + 1], &dp) != napi_ok) return NULL;
  if (sp < 0 || dp < 0 || sp > 65535 || dp > 65535) return NULL;
  *sport = (uint32_t)sp;
  *dport = (uint32_t)dp;
  return h->ports;
}

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  return napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) == napi_ok && t == want;
}

static napi_value hs_port_filter_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_handle *h;
  int32_t *src, *dst;
  uint8_t *bidir, *maps;
  size_t ns, nd, nb, nm;
  if (argc < 5 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !get_typed(env, argv[1], napi_int32_array, (void **)&src, &ns) ||
      !get_typed(env, argv[2], napi_int32_array, (void **)&dst, &nd) || !get_typed(env, argv[3], napi_uint8_array, (void **)&bidir, &nb) ||
      !get_typed(env, argv[4], napi_uint8_array, (void **)&maps, &nm) || ns != (size_t)h->max_id + 1 || nd != ns || nb != ns ||
      nm % PORT_MAP_BYTES != 0) {
    napi_throw_type_error(env, NULL, "hsPortFilter(db, src: Int32Array, dst: Int32Array, bidir: Uint8Array, maps: Uint8Array), one entry per id");
    return NULL;
  }
  size_t count = nm / PORT_MAP_BYTES;
  for (size_t i = 0; i < ns; i++) {
    if (src[i] >= (int64_t)count || dst[i] >= (int64_t)count) return throw_with(env, "hsPortFilter: a map index is out of range", NULL, NULL);
  }
  port_filter *f = calloc(1, sizeof *f);
  f->refs = 1;
  f->count = (uint32_t)ns;
  f->src = malloc(ns * sizeof *src);
  f->dst = malloc(ns * sizeof *dst);
  f->bidir = malloc(ns);
  f->maps = malloc(nm > 0 ? nm : 1);
  memcpy(f->src, src, ns * sizeof *src);
  memcpy(f->dst, dst, ns * sizeof *dst);
  memcpy(f->bidir, bidir, ns);
  if (nm > 0) memcpy(f->maps, maps, nm);
  port_filter_release(h->ports);
  h->ports = f;
  return NULL;
}

/* hsPortFilterShare(db, from): db gets from's port filter, not a copy (the maps of ET Open's TCP payload group are
   1.8 MB): the two must number the same patterns alike (a group's database and a flow class's). */
static napi_value hs_port_filter_share_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_handle *h, *from;
  if (argc < 2 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || napi_get_value_external(env, argv[1], (void **)&from) != napi_ok) {
    napi_throw_type_error(env, NULL, "hsPortFilterShare(db, from)");
    return NULL;
  }
  if (from->ports != NULL && from->ports->count != h->max_id + 1)
    return throw_with(env, "hsPortFilterShare: the databases number their patterns differently", NULL, NULL);
  if (from->ports != NULL) from->ports->refs++;
  port_filter_release(h->ports);
  h->ports = from->ports;
  return NULL;
}

/* ----------------------------------------------------------------------------- patterns of one and two bytes */

/* Why these are not in the Hyperscan database: a pattern of one or two bytes occurs in most packets, often many times
 * (ET Open's TCP payload group has `|00 00|`, `|03|` and `|05|` in nine packets of ten), and Hyperscan confirms each
 * occurrence although SINGLEMATCH reports only the first: on the bench capture's TCP payloads its scan took 40% less
 * time without the 120 such patterns. Here a scan finds them with one table look-up per byte. The result is the same
 * set of ids either way (test/prefilter-short.test.ts holds the two to it on generated patterns and payloads). */

typedef struct {
  uint16_t key;
  int32_t id;
} short_entry;

static int cmp_entry(const void *a, const void *b) {
  const short_entry *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

static uint8_t other_case(uint8_t c) { return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

static napi_value hs_short_patterns_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_handle *h;
  uint8_t *bytes, *nocase;
  int32_t *starts, *ids;
  size_t nb, ns, nn, ni;
  if (argc < 5 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !get_typed(env, argv[1], napi_uint8_array, (void **)&bytes, &nb) ||
      !get_typed(env, argv[2], napi_int32_array, (void **)&starts, &ns) || !get_typed(env, argv[3], napi_uint8_array, (void **)&nocase, &nn) ||
      !get_typed(env, argv[4], napi_int32_array, (void **)&ids, &ni) || ns != ni + 1 || nn != ni) {
    napi_throw_type_error(env, NULL, "hsShortPatterns(db, bytes: Uint8Array, starts: Int32Array, nocase: Uint8Array, ids: Int32Array)");
    return NULL;
  }
  for (size_t k = 0; k < ni; k++) {
    int32_t a = starts[k], b = starts[k + 1];
    if (a < 0 || b < a || (size_t)b > nb || b - a < 1 || b - a > 2) return throw_with(env, "hsShortPatterns: a pattern is not of one or two bytes", NULL, NULL);
    if (ids[k] < 0 || (uint32_t)ids[k] > h->max_id) return throw_with(env, "hsShortPatterns: an id is out of range", NULL, NULL);
  }
  short_free(h);
  short_entry *one = malloc((2 * ni + 1) * sizeof *one), *two = malloc((4 * ni + 1) * sizeof *two);
  size_t n1 = 0, n2 = 0;
  for (size_t k = 0; k < ni; k++) {
    const uint8_t *p = bytes + starts[k];
    uint8_t a[2] = {p[0], nocase[k] ? other_case(p[0]) : p[0]};
    int na = a[1] != a[0] ? 2 : 1;
    if (starts[k + 1] - starts[k] == 1) {
      for (int i = 0; i < na; i++) one[n1++] = (short_entry){a[i], ids[k]};
      continue;
    }
    uint8_t b[2] = {p[1], nocase[k] ? other_case(p[1]) : p[1]};
    int nbv = b[1] != b[0] ? 2 : 1;
    for (int i = 0; i < na; i++)
      for (int j = 0; j < nbv; j++) two[n2++] = (short_entry){(uint16_t)((a[i] << 8) | b[j]), ids[k]};
  }
  qsort(one, n1, sizeof *one, cmp_entry);
  qsort(two, n2, sizeof *two, cmp_entry);
  h->one_start = calloc(257, sizeof *h->one_start);
  h->one_ids = malloc((n1 + 1) * sizeof *h->one_ids);
  for (size_t e = 0; e < n1; e++) {
    h->one_start[one[e].key + 1]++;
    h->one_ids[e] = one[e].id;
  }
  for (int v = 0; v < 256; v++) h->one_start[v + 1] += h->one_start[v];
  h->one_count = 0;
  for (int v = 0; v < 256; v++)
    if (h->one_start[v] < h->one_start[v + 1]) h->one_values[h->one_count++] = (uint8_t)v;
  size_t keys = 0;
  for (size_t e = 0; e < n2; e++)
    if (e == 0 || two[e].key != two[e - 1].key) keys++;
  /* 8192 bytes read as 1024 words by scan_short: allocated as words, so aligned for them */
  h->two_bits = (uint8_t *)calloc(1024, sizeof(uint64_t));
  h->two_rank = malloc(1025 * sizeof *h->two_rank);
  h->two_start = malloc((keys + 1) * sizeof *h->two_start);
  h->two_ids = malloc((n2 + 1) * sizeof *h->two_ids);
  size_t k = 0;
  for (size_t e = 0; e < n2; e++) {
    if (e == 0 || two[e].key != two[e - 1].key) {
      h->two_start[k++] = (int32_t)e; /* keys come in ascending order: the k-th key is the one of rank k */
      h->two_bits[two[e].key >> 3] |= (uint8_t)(1 << (two[e].key & 7));
    }
    h->two_ids[e] = two[e].id;
  }
  h->two_start[keys] = (int32_t)n2;
  h->two_count = (uint32_t)keys;
  {
    uint32_t r = 0;
    for (int w = 0; w < 1024; w++) {
      uint64_t word;
      memcpy(&word, h->two_bits + 8 * w, 8);
      h->two_rank[w] = r;
      r += (uint32_t)__builtin_popcountll(word);
    }
    h->two_rank[1024] = r;
  }
  h->short_seen = calloc((size_t)h->max_id + 1, sizeof *h->short_seen);
  h->short_stamp = 0;
  free(one);
  free(two);
  return NULL;
}

/* Appends the ids not yet found in this scan that pass the port filter; 0 when out is full. */
static int report_short(scan_ctx *c, hs_handle *h, const int32_t *ids, int32_t from, int32_t to) {
  for (int32_t e = from; e < to; e++) {
    uint32_t id = (uint32_t)ids[e];
    if (h->short_seen[id] == h->short_stamp) continue;
    h->short_seen[id] = h->short_stamp;
    if (!ports_pass(c, id)) continue;
    if (c->n >= c->cap) return 0;
    c->out[c->n++] = (int32_t)id;
  }
  return 1;
}

/* The walk over the byte pairs, with or without gathering the byte values present (`seen`, for the one-byte
 * patterns): inlined twice with `ones` a constant, so the walk of a database without one-byte patterns does no more
 * than the bit test. `seen` is a byte per value, written unconditionally: no read-modify-write chain from one byte to
 * the next (a 256-bit set updated per byte costs a store-forwarding wait when neighbouring bytes share a word). */
static inline __attribute__((always_inline)) int walk_pairs(engine_state *s, hs_handle *h, const uint8_t *b, size_t n,
                                                              scan_ctx *c, uint8_t *seen, const int ones) {
  uint32_t gen = ++s->key_gen;
  if (gen == 0) {
    memset(s->key_stamp, 0, 65536 * sizeof *s->key_stamp);
    gen = s->key_gen = 1;
  }
  uint32_t *stamp = s->key_stamp;
  const uint8_t *bits = h->two_bits;
  uint32_t v = b[0];
  for (size_t i = 0; i + 1 < n; i++) {
    uint32_t w = b[i + 1];
    uint32_t key = (v << 8) | w;
    if (ones) seen[v] = 1;
    v = w;
    if (__builtin_expect(!((bits[key >> 3] >> (key & 7)) & 1), 1) || stamp[key] == gen) continue;
    stamp[key] = gen;
    uint64_t word;
    memcpy(&word, bits + 8 * (key >> 6), 8);
    uint32_t rank = h->two_rank[key >> 6] + (uint32_t)__builtin_popcountll(word & ((1ULL << (key & 63)) - 1));
    if (!report_short(c, h, h->two_ids, h->two_start[rank], h->two_start[rank + 1])) return 0;
  }
  if (ones) seen[v] = 1;
  return 1;
}

/* The short patterns in b[0, n): the byte values present are marked as the pairs are walked (a store per byte, no
 * branch) and their one-byte patterns reported after the walk; a byte pair marked in the table (a bit test per byte)
 * is reported the first time it occurs in this scan (the thread's key_stamp: a pair met again, as "\r\n" is in every
 * header line, costs the bit test and one look-up). A pair's ids are found by its rank among the marked pairs
 * (two_rank and a popcount), without a search. The ids found are sorted afterwards (sort_ids), so the order they are
 * found in does not matter. */
static void scan_short(engine_state *s, hs_handle *h, const uint8_t *b, size_t n, scan_ctx *c) {
  if (h->short_seen == NULL || n == 0) return;
  if (++h->short_stamp == 0) {
    memset(h->short_seen, 0, ((size_t)h->max_id + 1) * sizeof *h->short_seen);
    h->short_stamp = 1;
  }
  const int32_t *one = h->one_start;
  const int ones = one[256] > 0, twos = h->two_count > 0;
  uint8_t seen[256];
  if (ones) memset(seen, 0, sizeof seen);
  if (twos) {
    if (!(ones ? walk_pairs(s, h, b, n, c, seen, 1) : walk_pairs(s, h, b, n, c, seen, 0))) return;
  } else if (ones) {
    for (size_t i = 0; i < n; i++) seen[b[i]] = 1;
  }
  if (!ones) return;
  for (uint32_t k = 0; k < h->one_count; k++) {
    uint32_t v = h->one_values[k];
    if (seen[v] && !report_short(c, h, h->one_ids, one[v], one[v + 1])) return;
  }
}

/* Block scans (hsScan, of either mode's database): compiled with SINGLEMATCH, so each id comes once. */
static int on_block_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx) {
  scan_ctx *c = ctx;
  if (!ports_pass(c, id)) return 0;
  if (c->n >= c->cap) return 1; /* out is full: stop (the caller sees count == out.length) */
  c->out[c->n++] = (int32_t)id;
  return 0;
}

/* A block scan's ids in ascending order. Hyperscan's order of reports is its own ("not guaranteed to be ordered",
 * and at one end offset it depends on the database's internals), so two databases holding the same patterns (a
 * port group's and the whole group's with the port filter, src/match/port-groups.ts) may report the same ids in
 * different orders. The order reaches the rules: candidates are evaluated in it, which the per-item budget and
 * flowbits set by one rule and checked by another on the same packet can see. Sorted, a scan's result depends only
 * on the set of ids found: each id once (SINGLEMATCH), so equal sets give equal arrays whatever database found them. */
static int cmp_id(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

static void sort_ids(int32_t *ids, uint32_t n) {
  if (n > 24) {
    qsort(ids, n, sizeof *ids, cmp_id);
    return;
  }
  for (uint32_t i = 1; i < n; i++) {
    int32_t id = ids[i];
    uint32_t j = i;
    while (j > 0 && ids[j - 1] > id) {
      ids[j] = ids[j - 1];
      j--;
    }
    ids[j] = id;
  }
}

/* Streaming mode: every occurrence comes; keep the first of each id in this block, with its end. */
static int on_stream_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx) {
  scan_ctx *c = ctx;
  if (id > c->max_id || c->seen[id] == c->stamp || !ports_pass(c, id)) return 0;
  c->seen[id] = c->stamp;
  if (c->n + 2 > c->cap) return 1;
  c->out[c->n++] = (int32_t)id;
  c->out[c->n++] = (int32_t)(to - c->base);
  return 0;
}

static int get_out(napi_env env, napi_value v, int32_t **out, size_t *cap) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, cap, (void **)out, &ab, &off) != napi_ok) return 0;
  return t == napi_int32_array;
}

static napi_value hs_scan_js(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_handle *h;
  uint8_t *buf;
  size_t len, cap;
  uint32_t start, end;
  int32_t *out;
  if (argc < 5 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !get_bytes(env, argv[1], &buf, &len) ||
      !get_u32(env, argv[2], &start) || !get_u32(env, argv[3], &end) || end > len || start > end ||
      !get_out(env, argv[4], &out, &cap)) {
    napi_throw_type_error(env, NULL, "hsScan(db, buf, start, end, out: Int32Array)");
    return NULL;
  }
  napi_value r;
  if (end == start) { /* nothing to find (and an empty array's data may be NULL, which Hyperscan refuses) */
    napi_create_uint32(env, 0, &r);
    return r;
  }
  engine_state *s = state_of(env);
  scan_ctx c = {out, 0, (uint32_t)cap, NULL, 0, h->max_id, 0, 0, NULL, 0, 0};
  c.filter = filter_of(env, h, argv, argc, 5, &c.sport, &c.dport);
  hs_error_t rc;
  if (h->streaming) {
    /* one block through the handle's stream: compiled with SINGLEMATCH, each id comes once until the reset, which
       also reports what only the end of the data decides (nothing for literals, but it is Hyperscan's to say) */
    if (h->block_stream == NULL && hs_open_stream(h->db, 0, &h->block_stream) != HS_SUCCESS)
      return throw_with(env, "hyperscan: cannot open a stream", NULL, NULL);
    rc = hs_scan_stream(h->block_stream, (const char *)buf + start, end - start, 0, s->scratch, on_block_match, &c);
    /* (a scan cut short by a full `out` reports nothing more: Hyperscan takes no scratch without a callback) */
    hs_error_t reset = rc == HS_SUCCESS ? hs_reset_stream(h->block_stream, 0, s->scratch, on_block_match, &c)
                                        : hs_reset_stream(h->block_stream, 0, NULL, NULL, NULL);
    if (reset != HS_SUCCESS && reset != HS_SCAN_TERMINATED) {
      /* a stream that cannot be reset is not scanned again: the next scan opens a fresh one */
      hs_close_stream(h->block_stream, NULL, NULL, NULL);
      h->block_stream = NULL;
      if (rc == HS_SUCCESS) rc = reset;
    }
  } else
    rc = hs_scan(h->db, (const char *)buf + start, end - start, 0, s->scratch, on_block_match, &c);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) return throw_with(env, "hyperscan: scan failed", NULL, NULL);
  if (rc == HS_SUCCESS) scan_short(s, h, buf + start, end - start, &c);
  sort_ids(out, c.n);
  napi_create_uint32(env, c.n, &r);
  return r;
}

static void stream_finalize(napi_env env, void *data, void *hint) {
  hs_stream_handle *st = data;
  /* No scratch: nothing is reported on close, and the thread's scratch may already be gone at teardown. */
  if (st->stream) hs_close_stream(st->stream, NULL, NULL, NULL);
  st->stream = NULL;
  hs_release(st->db);
  free(st);
}

static napi_value hs_stream_open_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_handle *h;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok) {
    napi_throw_type_error(env, NULL, "hsStreamOpen(db)");
    return NULL;
  }
  hs_stream_t *stream = NULL;
  if (hs_open_stream(h->db, 0, &stream) != HS_SUCCESS) return throw_with(env, "hyperscan: cannot open a stream", NULL, NULL);
  hs_stream_handle *st = calloc(1, sizeof *st);
  st->stream = stream;
  st->db = h;
  h->refs++;
  napi_value ext;
  CHECK(napi_create_external(env, st, stream_finalize, NULL, &ext));
  return ext;
}

static napi_value hs_stream_scan_js(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_stream_handle *st;
  uint8_t *buf;
  size_t len, cap;
  uint32_t start, end;
  int32_t *out;
  double base = 0;
  if (argc < 6 || napi_get_value_external(env, argv[0], (void **)&st) != napi_ok || !get_bytes(env, argv[1], &buf, &len) ||
      !get_u32(env, argv[2], &start) || !get_u32(env, argv[3], &end) || end > len || start > end ||
      !get_out(env, argv[4], &out, &cap) || napi_get_value_double(env, argv[5], &base) != napi_ok) {
    napi_throw_type_error(env, NULL, "hsStreamScan(stream, buf, start, end, out: Int32Array, streamOffset)");
    return NULL;
  }
  if (st->stream == NULL) return throw_with(env, "hyperscan: the stream is closed", NULL, NULL);
  engine_state *s = state_of(env);
  hs_handle *h = st->db;
  if (++h->stamp == 0) {
    memset(h->seen, 0, ((size_t)h->max_id + 1) * sizeof *h->seen);
    h->stamp = 1;
  }
  scan_ctx c = {out, 0, (uint32_t)cap, h->seen, h->stamp, h->max_id, (unsigned long long)base, 1, NULL, 0, 0};
  c.filter = filter_of(env, h, argv, argc, 6, &c.sport, &c.dport);
  hs_error_t rc = hs_scan_stream(st->stream, (const char *)buf + start, end - start, 0, s->scratch, on_stream_match, &c);
  if (rc == HS_SCAN_TERMINATED) {
    /* A terminated stream cannot be scanned again: the caller reopens it (and counts the overflow). */
    hs_close_stream(st->stream, s->scratch, NULL, NULL);
    st->stream = NULL;
  } else if (rc != HS_SUCCESS) {
    return throw_with(env, "hyperscan: stream scan failed", NULL, NULL);
  }
  napi_value r;
  napi_create_uint32(env, c.n, &r);
  return r;
}

static napi_value hs_stream_close_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  hs_stream_handle *st;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&st) != napi_ok) {
    napi_throw_type_error(env, NULL, "hsStreamClose(stream)");
    return NULL;
  }
  if (st->stream) hs_close_stream(st->stream, NULL, NULL, NULL);
  st->stream = NULL;
  return NULL;
}

/* ------------------------------------------------------------------------------------------------------ module */

static void state_finalize(napi_env env, void *data, void *hint) {
  engine_state *s = data;
  if (s->scratch) hs_free_scratch(s->scratch);
  if (s->md) pcre2_match_data_free(s->md);
  if (s->jit_stack) pcre2_jit_stack_free(s->jit_stack);
  if (s->last_ref) napi_delete_reference(env, s->last_ref);
  free(s->key_stamp);
  free(s);
}

#define EXPORT(name, fn)                                                                                               \
  do {                                                                                                                 \
    napi_value f;                                                                                                      \
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);                                                   \
    napi_set_named_property(env, exports, name, f);                                                                    \
  } while (0)

NAPI_MODULE_INIT() {
  engine_state *s = calloc(1, sizeof *s);
  if (s == NULL || (s->key_stamp = calloc(65536, sizeof *s->key_stamp)) == NULL) {
    free(s);
    napi_throw_error(env, NULL, "honeywall engine: out of memory");
    return NULL;
  }
  /* Snort's ovector holds the whole match only; PCRE2 tracks captures for backreferences internally. */
  s->md = pcre2_match_data_create(1, NULL);
  /* A JIT stack large enough for ET's patterns; running out is a limit hit (-3), never a crash. */
  s->jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
  napi_value ab, last;
  void *data;
  napi_create_arraybuffer(env, 4 * sizeof(int32_t), &data, &ab);
  napi_create_typedarray(env, napi_int32_array, 4, ab, 0, &last);
  s->last = data;
  napi_create_reference(env, last, 1, &s->last_ref);
  napi_set_instance_data(env, s, state_finalize, NULL);
  EXPORT("pcreCompile", pcre_compile_js);
  EXPORT("pcreExec", pcre_exec_js);
  EXPORT("pcreInfo", pcre_info_js);
  EXPORT("lastMatch", last_match_js);
  EXPORT("hsCompile", hs_compile_js);
  EXPORT("hsCompileAsync", hs_compile_async_js);
  EXPORT("hsLoad", hs_load_js);
  EXPORT("hsInfo", hs_info_js);
  EXPORT("hsScan", hs_scan_js);
  EXPORT("hsPortFilter", hs_port_filter_js);
  EXPORT("hsPortFilterShare", hs_port_filter_share_js);
  EXPORT("hsShortPatterns", hs_short_patterns_js);
  EXPORT("hsStreamOpen", hs_stream_open_js);
  EXPORT("hsStreamScan", hs_stream_scan_js);
  EXPORT("hsStreamClose", hs_stream_close_js);
  EXPORT("captureWalk", honeywall_capture_walk_js);
  EXPORT("shardPlanOpen", honeywall_shard_plan_open_js);
  EXPORT("shardPlanFrame", honeywall_shard_plan_frame_js);
  EXPORT("shardPlanStats", honeywall_shard_plan_stats_js);
  EXPORT("decodeFrame", honeywall_decode_frame_js);
  EXPORT("flowTableOpen", honeywall_flow_table_open_js);
  EXPORT("flowTableProcess", honeywall_flow_table_process_js);
  EXPORT("flowTableFinish", honeywall_flow_table_finish_js);
  EXPORT("streamRun", honeywall_stream_run_js);
  EXPORT("pafRun", honeywall_paf_run_js);
  EXPORT("frontMeasure", honeywall_front_measure_js);
  EXPORT("defragRun", honeywall_defrag_run_js);
  EXPORT("frontOpen", honeywall_front_open_js);
  EXPORT("frontPush", honeywall_front_push_js);
  EXPORT("frontAdvance", honeywall_front_advance_js);
  EXPORT("frontPushWalked", honeywall_front_push_walked_js);
  EXPORT("frontFinish", honeywall_front_finish_js);
  EXPORT("frontViews", honeywall_front_views_js);
  EXPORT("frontStats", honeywall_front_stats_js);
  EXPORT("mapFile", honeywall_map_file_js);
  napi_value v;
  napi_create_string_utf8(env, hs_version(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, exports, "hyperscanVersion", v);
  uint32_t jit = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &jit);
  napi_get_boolean(env, jit != 0, &v);
  napi_set_named_property(env, exports, "pcreJit", v);
  char pv[64];
  pcre2_config(PCRE2_CONFIG_VERSION, pv);
  napi_create_string_utf8(env, pv, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, exports, "pcreVersion", v);
  return exports;
}
