/*
 * honeywall_nf: the gateway's kernel bindings, N-API in C.
 *
 *   openQueue(num, opts, cb)   bind NFQUEUE `num` (libnetfilter_queue); cb(count, meta, data) is called on
 *                              the event loop of the calling thread (main or worker) with every packet read
 *                              in one wake-up (up to opts.maxBatch, and as many as fit in opts.batchBytes):
 *                              `meta` (Uint32Array, META_STRIDE words a packet, see QMETA_*) and `data` (the
 *                              bytes the packets were read into) are the same two arrays at every call,
 *                              overwritten by the next batch: what must outlive the call is copied out.
 *                              opts.gso asks the kernel for whole GSO/GRO super-packets (NFQA_CFG_F_GSO):
 *                              up to 64 KB, with the transport checksum possibly not filled in yet
 *                              (QMETA_INFO bit NFQA_SKB_CSUMNOTREADY).
 *   setVerdict(q, id, verdict[, bytes])   NF_DROP = 0, NF_ACCEPT = 1; bytes replace the packet (same length).
 *                              Verdicts without bytes given during a batch's callback are sent together, in
 *                              one message to the kernel, when the callback returns; elsewhere at once.
 *   setVerdicts(q, pairs: Uint32Array, count)   `count` verdicts without bytes, (id, verdict) pairs in order: the
 *                              same as that many setVerdict calls, in one call (a batch's verdicts, given at the
 *                              end of its callback, cost one crossing into C instead of one a packet).
 *   setVerdictBatch(q, id, verdict)       verdict for every queued packet with an id <= id.
 *   openLog(group, opts, cb)   bind NFLOG group `group` (libnetfilter_log); cb(entries[]).
 *   close(h)                   unbind and close (queue or log); safe to call twice and from the callback.
 *   stats(h)                   counters kept here (received, enobufs, verdicts, ...).
 *   sendFrame(ifindex, frame)  send a whole Ethernet frame out of an interface (AF_PACKET), for reject.
 *   ifIndex(name)              if_nametoindex.
 *
 * Sockets are polled with a uv_poll_t on the loop of the thread that opened them, so every worker
 * thread can own its own queue. Nothing blocks: reads are MSG_DONTWAIT.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define KIND_QUEUE 0
#define KIND_LOG 1

/* The words of one packet in a batch's `meta` (the TypeScript side, nf-binding.ts, reads the same layout). */
enum {
  QMETA_ID, QMETA_HWPROTO, QMETA_HOOK, QMETA_MARK, QMETA_INDEV, QMETA_OUTDEV, QMETA_PHYSINDEV, QMETA_PHYSOUTDEV,
  QMETA_HWLEN, QMETA_HW0, QMETA_HW1, QMETA_TSSEC, QMETA_TSUSEC, QMETA_OFFSET, QMETA_LENGTH,
  /* NFQA_SKB_INFO bits (CSUMNOTREADY 1, GSO 2, CSUM_NOTVERIFIED 4) */
  QMETA_INFO,
  /* the packet's whole length when the kernel copied less of it (NFQA_CAP_LEN), else 0 */
  QMETA_CAPLEN,
  META_STRIDE
};
/* One netlink message of a queued packet at most: the payload (the kernel copies at most 65531 bytes) and its
 * attributes. A batch stops reading when less room than this is left in its data buffer. */
#define QMSG_MAX (0x10000 + 4096)
/* Bytes of verdict messages collected before they are sent (each is 32 bytes). */
#define VBUF_SIZE 8192

/* libnetfilter_queue keeps its parsed attributes in this (private, long-stable) struct; 1.0.5 has no getter for
 * NFQA_CAP_LEN, the kernel's documented sign of a truncated copy. */
struct nfq_data_attrs {
  struct nfattr **data;
};

typedef struct nf_handle {
  napi_env env;
  int kind;
  int fd;
  uint32_t number;
  uv_poll_t poll;
  int polling;
  struct nfq_handle *qlib;
  struct nfq_q_handle *qh;
  struct nflog_handle *llib;
  struct nflog_g_handle *gh;
  napi_ref callback;
  napi_ref self;
  napi_async_context actx;
  napi_value batch;
  uint32_t batch_len;
  char *buf;
  size_t bufsize;
  uint32_t max_batch;
  int closed;
  int uv_closed;
  int finalized;
  /* queue batches: the packets' words and bytes, in two JS array buffers made once (referenced here) */
  napi_ref meta_ref, data_ref;
  uint32_t *meta;
  char *data;
  size_t data_cap, data_off;
  /* verdicts collected during a callback, sent in one go when it returns */
  int dispatching;
  char *vbuf;
  size_t vlen;
  uint32_t vcount;
  int gso;
  /* counters */
  double received, enobufs, recv_errors, verdicts, verdict_errors, wakeups, dispatches, cb_errors;
  double overflow_dropped, verdict_sends, gso_packets, gso_bytes, csum_not_ready, truncated, max_packet;
} nf_handle;

static char errbuf[256];

static napi_value throw_errno(napi_env env, const char *what, int err) {
  snprintf(errbuf, sizeof errbuf, "%s: %s", what, strerror(err));
  napi_throw_error(env, err == EPERM ? "EPERM" : NULL, errbuf);
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static void set_u32(napi_env env, napi_value obj, const char *name, uint32_t v) {
  napi_value n;
  napi_create_uint32(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static void set_buf(napi_env env, napi_value obj, const char *name, const void *data, size_t len) {
  napi_value b;
  void *out;
  napi_create_buffer_copy(env, len, data, &out, &b);
  napi_set_named_property(env, obj, name, b);
}

static int get_opt_u32(napi_env env, napi_value opts, const char *name, uint32_t def, uint32_t *out) {
  *out = def;
  if (opts == NULL) return 1;
  bool has = false;
  if (napi_has_named_property(env, opts, name, &has) != napi_ok || !has) return 1;
  napi_value v;
  napi_get_named_property(env, opts, name, &v);
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return 1;
  if (t == napi_boolean) {
    bool b;
    napi_get_value_bool(env, v, &b);
    *out = b ? 1 : 0;
    return 1;
  }
  if (t != napi_number) {
    snprintf(errbuf, sizeof errbuf, "option %s: expected a number", name);
    napi_throw_type_error(env, NULL, errbuf);
    return 0;
  }
  napi_get_value_uint32(env, v, out);
  return 1;
}

static void free_if_done(nf_handle *h) {
  if (h->uv_closed && h->finalized) {
    free(h->buf);
    free(h->vbuf);
    free(h);
  }
}

static void on_uv_closed(uv_handle_t *p) {
  nf_handle *h = (nf_handle *)p->data;
  h->uv_closed = 1;
  free_if_done(h);
}

/* Sends the collected verdict messages in one datagram (nfnetlink handles every message of it in turn). */
static void vflush(nf_handle *h) {
  if (h->vlen == 0) return;
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  ssize_t n;
  do {
    n = sendto(h->fd, h->vbuf, h->vlen, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (n < 0 && errno == EINTR);
  if (n < 0) h->verdict_errors += h->vcount;
  else h->verdicts += h->vcount;
  h->verdict_sends++;
  h->vlen = 0;
  h->vcount = 0;
}

/* One NFQNL_MSG_VERDICT message (no payload) added to the verdicts to send. */
static void vadd(nf_handle *h, uint32_t id, uint32_t verdict) {
  const size_t len = NLMSG_ALIGN(sizeof(struct nlmsghdr)) + NLMSG_ALIGN(sizeof(struct nfgenmsg)) +
                     NFA_ALIGN(NFA_LENGTH(sizeof(struct nfqnl_msg_verdict_hdr)));
  if (h->vlen + len > VBUF_SIZE) vflush(h);
  char *m = h->vbuf + h->vlen;
  memset(m, 0, len);
  struct nlmsghdr *nlh = (struct nlmsghdr *)m;
  nlh->nlmsg_len = (uint32_t)len;
  nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  struct nfgenmsg *g = (struct nfgenmsg *)(m + NLMSG_ALIGN(sizeof(struct nlmsghdr)));
  g->nfgen_family = AF_UNSPEC;
  g->version = NFNETLINK_V0;
  g->res_id = htons((uint16_t)h->number);
  struct nfattr *a = (struct nfattr *)((char *)g + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
  a->nfa_type = NFQA_VERDICT_HDR;
  a->nfa_len = NFA_LENGTH(sizeof(struct nfqnl_msg_verdict_hdr));
  struct nfqnl_msg_verdict_hdr *v = (struct nfqnl_msg_verdict_hdr *)NFA_DATA(a);
  v->verdict = htonl(verdict);
  v->id = htonl(id);
  h->vlen += len;
  h->vcount++;
}

/* Unbind and close the netlink socket; release the JS references. */
static void do_close(nf_handle *h, int in_teardown) {
  if (h->closed) return;
  /* verdicts already given still go out (the queue's packets would otherwise be dropped with it) */
  if (h->kind == KIND_QUEUE && h->vbuf) vflush(h);
  h->closed = 1;
  if (h->polling) uv_poll_stop(&h->poll);
  if (h->kind == KIND_QUEUE) {
    if (h->qh) nfq_destroy_queue(h->qh);
    if (h->qlib) nfq_close(h->qlib);
    h->qh = NULL;
    h->qlib = NULL;
  } else {
    if (h->gh) nflog_unbind_group(h->gh);
    if (h->llib) nflog_close(h->llib);
    h->gh = NULL;
    h->llib = NULL;
  }
  if (!in_teardown) {
    if (h->callback) napi_delete_reference(h->env, h->callback);
    if (h->self) napi_delete_reference(h->env, h->self);
    if (h->meta_ref) napi_delete_reference(h->env, h->meta_ref);
    if (h->data_ref) napi_delete_reference(h->env, h->data_ref);
    if (h->actx) napi_async_destroy(h->env, h->actx);
  }
  h->callback = NULL;
  h->self = NULL;
  h->meta_ref = NULL;
  h->data_ref = NULL;
  h->meta = NULL;
  h->data = NULL;
  h->actx = NULL;
  if (h->polling) {
    h->polling = 0;
    uv_close((uv_handle_t *)&h->poll, on_uv_closed);
  } else {
    h->uv_closed = 1;
  }
}

static void env_cleanup(void *arg) {
  nf_handle *h = (nf_handle *)arg;
  do_close(h, 1);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  nf_handle *h = (nf_handle *)data;
  if (!h->closed) {
    napi_remove_env_cleanup_hook(env, env_cleanup, h);
    do_close(h, 0);
  }
  h->finalized = 1;
  free_if_done(h);
}

/* Calls the JS callback with `argc` arguments; an exception it throws goes to the process (uncaught). */
static void dispatch(nf_handle *h, size_t argc, napi_value *argv) {
  napi_env env = h->env;
  napi_value cb, global, result;
  napi_get_reference_value(env, h->callback, &cb);
  napi_get_global(env, &global);
  h->dispatches++;
  napi_status st = napi_make_callback(env, h->actx, global, cb, argc, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value e;
      h->cb_errors++;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
}

/* Reads what the socket holds (without blocking); returns 0 to go on, -1 when there is nothing more to read. */
static int read_once(nf_handle *h, char *into, size_t room) {
  ssize_t n = recv(h->fd, into, room, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
    if (errno == EINTR) return 0;
    if (errno == ENOBUFS) {
      /* The socket buffer overflowed: the kernel dropped messages (counted, not fatal). */
      h->enobufs++;
      return 0;
    }
    h->recv_errors++;
    return -1;
  }
  if (h->kind == KIND_QUEUE) nfq_handle_packet(h->qlib, into, (int)n);
  else nflog_handle_packet(h->llib, into, (int)n);
  return (int)n;
}

static void on_readable(uv_poll_t *p, int status, int events) {
  nf_handle *h = (nf_handle *)p->data;
  if (h->closed) return;
  if (status < 0) {
    /* libuv stops a poll handle for good when epoll reports POLLERR, which a netlink socket does when
     * it overflowed (sk_err = ENOBUFS: the kernel dropped messages while we were busy). The recv()
     * below reads the error away; poll again, or this queue would never be read again and every later
     * packet would be dropped by the kernel (fail closed, but silently dead). */
    uv_poll_start(&h->poll, UV_READABLE, on_readable);
  }
  napi_env env = h->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  h->wakeups++;
  if (h->kind == KIND_QUEUE) {
    /* Packets are read straight into the batch's data buffer (queue_cb notes where each payload lies), so a
     * batch costs one JS call and no JS object per packet; it ends when the buffer could not hold one more. */
    h->batch_len = 0;
    h->data_off = 0;
    for (uint32_t i = 0; i < h->max_batch && h->batch_len < h->max_batch && !h->closed && h->data_cap - h->data_off >= QMSG_MAX; i++) {
      int n = read_once(h, h->data + h->data_off, h->data_cap - h->data_off);
      if (n < 0) break;
      h->data_off = (h->data_off + (size_t)n + 7) & ~(size_t)7;
    }
    if (h->batch_len > 0 && h->callback) {
      napi_value argv[3];
      napi_create_uint32(env, h->batch_len, &argv[0]);
      napi_get_reference_value(env, h->meta_ref, &argv[1]);
      napi_get_reference_value(env, h->data_ref, &argv[2]);
      h->dispatching = 1;
      dispatch(h, 3, argv);
      h->dispatching = 0;
    }
    if (!h->closed) vflush(h);
  } else {
    napi_value arr;
    napi_create_array(env, &arr);
    h->batch = arr;
    h->batch_len = 0;
    for (uint32_t i = 0; i < h->max_batch && !h->closed; i++)
      if (read_once(h, h->buf, h->bufsize) < 0) break;
    h->batch = NULL;
    if (h->batch_len > 0 && h->callback) dispatch(h, 1, &arr);
  }
  napi_close_handle_scope(env, scope);
}

static int queue_cb(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  nf_handle *h = (nf_handle *)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (h->meta == NULL || h->batch_len >= h->max_batch) {
    /* More packets in one read than the batch holds (the kernel sends one a message, so this is not expected):
     * with no room to hand it over, the packet is dropped now rather than left in the queue without a verdict. */
    if (ph) vadd(h, ntohl(ph->packet_id), NF_DROP);
    h->overflow_dropped++;
    return 0;
  }
  unsigned char *payload = NULL;
  int len = nfq_get_payload(nfa, &payload);
  if (len < 0 || payload == NULL) len = 0;
  uint32_t *m = h->meta + (size_t)h->batch_len * META_STRIDE;
  memset(m, 0, META_STRIDE * sizeof(uint32_t));
  m[QMETA_ID] = ph ? ntohl(ph->packet_id) : 0;
  m[QMETA_HWPROTO] = ph ? ntohs(ph->hw_protocol) : 0;
  m[QMETA_HOOK] = ph ? ph->hook : 0;
  m[QMETA_MARK] = nfq_get_nfmark(nfa);
  m[QMETA_INDEV] = nfq_get_indev(nfa);
  m[QMETA_OUTDEV] = nfq_get_outdev(nfa);
  m[QMETA_PHYSINDEV] = nfq_get_physindev(nfa);
  m[QMETA_PHYSOUTDEV] = nfq_get_physoutdev(nfa);
  struct nfqnl_msg_packet_hw *hw = nfq_get_packet_hw(nfa);
  if (hw) {
    uint16_t alen = ntohs(hw->hw_addrlen);
    if (alen > 8) alen = 8;
    m[QMETA_HWLEN] = alen;
    memcpy(&m[QMETA_HW0], hw->hw_addr, alen);
  }
  struct timeval tv;
  if (nfq_get_timestamp(nfa, &tv) != 0) gettimeofday(&tv, NULL);
  m[QMETA_TSSEC] = (uint32_t)tv.tv_sec;
  m[QMETA_TSUSEC] = (uint32_t)tv.tv_usec;
  /* the payload lies in the data buffer the message was read into */
  m[QMETA_OFFSET] = len > 0 ? (uint32_t)((char *)payload - h->data) : 0;
  m[QMETA_LENGTH] = (uint32_t)len;
  uint32_t info = nfq_get_skbinfo(nfa);
  m[QMETA_INFO] = info;
  uint32_t *cap = nfnl_get_pointer_to_data(((struct nfq_data_attrs *)nfa)->data, NFQA_CAP_LEN, uint32_t);
  if (cap != NULL && ntohl(*cap) > (uint32_t)len) {
    m[QMETA_CAPLEN] = ntohl(*cap);
    h->truncated++;
  }
  if (info & NFQA_SKB_GSO) {
    h->gso_packets++;
    h->gso_bytes += len;
  }
  if (info & NFQA_SKB_CSUMNOTREADY) h->csum_not_ready++;
  if (len > h->max_packet) h->max_packet = len;
  h->batch_len++;
  h->received++;
  return 0;
}

static int log_cb(struct nflog_g_handle *gh, struct nfgenmsg *msg, struct nflog_data *nfa, void *data) {
  nf_handle *h = (nf_handle *)data;
  napi_env env = h->env;
  if (h->batch == NULL) return 0;
  napi_value obj;
  napi_create_object(env, &obj);
  const char *prefix = nflog_get_prefix(nfa);
  napi_value s;
  napi_create_string_latin1(env, prefix ? prefix : "", NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, obj, "prefix", s);
  char *payload = NULL;
  int len = nflog_get_payload(nfa, &payload);
  set_buf(env, obj, "data", payload, len > 0 ? (size_t)len : 0);
  struct nfulnl_msg_packet_hdr *ph = nflog_get_msg_packet_hdr(nfa);
  set_u32(env, obj, "hwProtocol", ph ? ntohs(ph->hw_protocol) : 0);
  set_u32(env, obj, "hook", ph ? ph->hook : 0);
  set_u32(env, obj, "mark", nflog_get_nfmark(nfa));
  set_u32(env, obj, "indev", nflog_get_indev(nfa));
  set_u32(env, obj, "outdev", nflog_get_outdev(nfa));
  set_u32(env, obj, "physindev", nflog_get_physindev(nfa));
  set_u32(env, obj, "physoutdev", nflog_get_physoutdev(nfa));
  struct nfulnl_msg_packet_hw *hw = nflog_get_packet_hw(nfa);
  if (hw) {
    uint16_t alen = ntohs(hw->hw_addrlen);
    set_buf(env, obj, "hwaddr", hw->hw_addr, alen > 8 ? 8 : alen);
  }
  uint16_t hwhdrlen = nflog_get_msg_packet_hwhdrlen(nfa);
  char *hwhdr = nflog_get_msg_packet_hwhdr(nfa);
  if (hwhdr && hwhdrlen > 0) set_buf(env, obj, "hwheader", hwhdr, hwhdrlen);
  struct timeval tv;
  if (nflog_get_timestamp(nfa, &tv) != 0) gettimeofday(&tv, NULL);
  set_num(env, obj, "tsSec", (double)tv.tv_sec);
  set_num(env, obj, "tsUsec", (double)tv.tv_usec);
  napi_set_element(env, h->batch, h->batch_len++, obj);
  h->received++;
  return 0;
}

/* Common tail of openQueue/openLog: poll the fd, wrap the handle in a JS object. */
static napi_value start_handle(napi_env env, nf_handle *h, napi_value cb, const char *name) {
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL) {
    napi_throw_error(env, NULL, "no event loop");
    return NULL;
  }
  h->poll.data = h;
  int rc = uv_poll_init(loop, &h->poll, h->fd);
  if (rc != 0) {
    snprintf(errbuf, sizeof errbuf, "uv_poll_init: %s", uv_strerror(rc));
    napi_throw_error(env, NULL, errbuf);
    return NULL;
  }
  h->polling = 1;
  uv_poll_start(&h->poll, UV_READABLE, on_readable);
  napi_value obj, resname;
  napi_create_object(env, &obj);
  napi_wrap(env, obj, h, finalize_handle, NULL, NULL);
  napi_create_reference(env, cb, 1, &h->callback);
  napi_create_reference(env, obj, 1, &h->self);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resname);
  napi_async_init(env, obj, resname, &h->actx);
  napi_add_env_cleanup_hook(env, env_cleanup, h);
  return obj;
}

static nf_handle *new_handle(napi_env env, int kind, uint32_t bufsize, uint32_t max_batch) {
  nf_handle *h = (nf_handle *)calloc(1, sizeof(nf_handle));
  h->env = env;
  h->kind = kind;
  h->bufsize = bufsize;
  h->buf = bufsize > 0 ? (char *)malloc(bufsize) : NULL;
  h->max_batch = max_batch;
  h->fd = -1;
  return h;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return (int)argc;
}

/* An ArrayBuffer of `bytes` and a typed array over it, referenced by the handle; returns the memory. */
static void *batch_array(napi_env env, napi_typedarray_type type, size_t bytes, size_t elem, napi_ref *ref) {
  void *mem = NULL;
  napi_value ab, ta;
  if (napi_create_arraybuffer(env, bytes, &mem, &ab) != napi_ok) return NULL;
  if (napi_create_typedarray(env, type, bytes / elem, ab, 0, &ta) != napi_ok) return NULL;
  if (napi_create_reference(env, ta, 1, ref) != napi_ok) return NULL;
  return mem;
}

/* openQueue(num, {maxLen, failOpen, copyRange, rcvBuf, maxBatch, batchBytes, gso}, cb) */
static napi_value open_queue(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (get_args(env, info, 3, argv) < 3) {
    napi_throw_type_error(env, NULL, "openQueue(num, opts, callback)");
    return NULL;
  }
  uint32_t num, max_len, fail_open, copy_range, rcvbuf, max_batch, batch_bytes, gso;
  if (napi_get_value_uint32(env, argv[0], &num) != napi_ok || num > 65535) {
    napi_throw_type_error(env, NULL, "queue number: 0..65535");
    return NULL;
  }
  if (!get_opt_u32(env, argv[1], "maxLen", 0, &max_len) || !get_opt_u32(env, argv[1], "failOpen", 0, &fail_open) ||
      !get_opt_u32(env, argv[1], "copyRange", 0xffff, &copy_range) || !get_opt_u32(env, argv[1], "rcvBuf", 0, &rcvbuf) ||
      !get_opt_u32(env, argv[1], "maxBatch", 64, &max_batch) || !get_opt_u32(env, argv[1], "batchBytes", 1 << 20, &batch_bytes) ||
      !get_opt_u32(env, argv[1], "gso", 0, &gso))
    return NULL;
  if (max_batch == 0) max_batch = 1;
  if (batch_bytes < QMSG_MAX) batch_bytes = QMSG_MAX;
  nf_handle *h = new_handle(env, KIND_QUEUE, 0, max_batch);
  h->number = num;
  h->data_cap = batch_bytes;
  h->vbuf = (char *)malloc(VBUF_SIZE);
  h->meta = (uint32_t *)batch_array(env, napi_uint32_array, (size_t)max_batch * META_STRIDE * sizeof(uint32_t), sizeof(uint32_t), &h->meta_ref);
  h->data = (char *)batch_array(env, napi_uint8_array, batch_bytes, 1, &h->data_ref);
  if (h->meta == NULL || h->data == NULL || h->vbuf == NULL) {
    if (h->meta_ref) napi_delete_reference(env, h->meta_ref);
    if (h->data_ref) napi_delete_reference(env, h->data_ref);
    free(h->vbuf);
    free(h);
    napi_throw_error(env, NULL, "openQueue: out of memory for the batch buffers");
    return NULL;
  }
#define OPEN_FAIL_FREE()                                             \
  do {                                                               \
    napi_delete_reference(env, h->meta_ref);                         \
    napi_delete_reference(env, h->data_ref);                         \
    free(h->vbuf);                                                   \
    free(h);                                                         \
  } while (0)
  h->qlib = nfq_open();
  if (!h->qlib) {
    int e = errno;
    OPEN_FAIL_FREE();
    return throw_errno(env, "nfq_open", e);
  }
  h->qh = nfq_create_queue(h->qlib, (uint16_t)num, queue_cb, h);
  if (!h->qh) {
    int e = errno;
    nfq_close(h->qlib);
    OPEN_FAIL_FREE();
    snprintf(errbuf, sizeof errbuf, "cannot bind NFQUEUE %u (another process bound to it, or nfnetlink_queue missing): %s", num, strerror(e));
    napi_throw_error(env, NULL, errbuf);
    return NULL;
  }
  const char *fail = NULL;
  if (nfq_set_mode(h->qh, NFQNL_COPY_PACKET, copy_range) < 0) fail = "nfq_set_mode";
  else if (max_len > 0 && nfq_set_queue_maxlen(h->qh, max_len) < 0) fail = "nfq_set_queue_maxlen";
  else if (nfq_set_queue_flags(h->qh, NFQA_CFG_F_FAIL_OPEN, fail_open ? NFQA_CFG_F_FAIL_OPEN : 0) < 0) fail = "nfq_set_queue_flags(FAIL_OPEN)";
  if (fail) {
    int e = errno;
    nfq_destroy_queue(h->qh);
    nfq_close(h->qlib);
    OPEN_FAIL_FREE();
    return throw_errno(env, fail, e);
  }
#undef OPEN_FAIL_FREE
  /* A kernel without NFQA_CFG_F_GSO (before 3.10) refuses the flag: it then segments as before (stats say so). */
  if (gso) h->gso = nfq_set_queue_flags(h->qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO) == 0;
  if (rcvbuf > 0) nfnl_rcvbufsiz(nfq_nfnlh(h->qlib), rcvbuf);
  h->fd = nfq_fd(h->qlib);
  return start_handle(env, h, argv[2], "honeywall.nfqueue");
}

/* openLog(group, {copyRange, timeout, qthresh, nlbufsiz, rcvBuf, maxBatch}, cb) */
static napi_value open_log(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (get_args(env, info, 3, argv) < 3) {
    napi_throw_type_error(env, NULL, "openLog(group, opts, callback)");
    return NULL;
  }
  uint32_t group, copy_range, timeout, qthresh, nlbufsiz, rcvbuf, max_batch;
  if (napi_get_value_uint32(env, argv[0], &group) != napi_ok || group > 65535) {
    napi_throw_type_error(env, NULL, "NFLOG group: 0..65535");
    return NULL;
  }
  if (!get_opt_u32(env, argv[1], "copyRange", 0xffff, &copy_range) || !get_opt_u32(env, argv[1], "timeout", 5, &timeout) ||
      !get_opt_u32(env, argv[1], "qthresh", 16, &qthresh) || !get_opt_u32(env, argv[1], "nlbufsiz", 0, &nlbufsiz) ||
      !get_opt_u32(env, argv[1], "rcvBuf", 0, &rcvbuf) || !get_opt_u32(env, argv[1], "maxBatch", 64, &max_batch))
    return NULL;
  nf_handle *h = new_handle(env, KIND_LOG, 0x40000, max_batch ? max_batch : 1);
  h->number = group;
  h->llib = nflog_open();
  if (!h->llib) {
    int e = errno;
    free(h->buf);
    free(h);
    return throw_errno(env, "nflog_open", e);
  }
  nflog_bind_pf(h->llib, AF_INET); /* a no-op on current kernels; harmless */
  h->gh = nflog_bind_group(h->llib, (uint16_t)group);
  if (!h->gh) {
    int e = errno;
    nflog_close(h->llib);
    free(h->buf);
    free(h);
    snprintf(errbuf, sizeof errbuf, "cannot bind NFLOG group %u (another listener such as tcpdump -i nflog:%u or ulogd?): %s", group, group, strerror(e));
    napi_throw_error(env, NULL, errbuf);
    return NULL;
  }
  const char *fail = NULL;
  if (nflog_set_mode(h->gh, NFULNL_COPY_PACKET, copy_range) < 0) fail = "nflog_set_mode";
  else if (nflog_set_timeout(h->gh, timeout) < 0) fail = "nflog_set_timeout";
  else if (nflog_set_qthresh(h->gh, qthresh) < 0) fail = "nflog_set_qthresh";
  else if (nlbufsiz > 0 && nflog_set_nlbufsiz(h->gh, nlbufsiz) < 0) fail = "nflog_set_nlbufsiz";
  if (fail) {
    int e = errno;
    nflog_unbind_group(h->gh);
    nflog_close(h->llib);
    free(h->buf);
    free(h);
    return throw_errno(env, fail, e);
  }
  nflog_callback_register(h->gh, log_cb, h);
  if (rcvbuf > 0) nfnl_rcvbufsiz(nflog_nfnlh(h->llib), rcvbuf);
  h->fd = nflog_fd(h->llib);
  return start_handle(env, h, argv[2], "honeywall.nflog");
}

static nf_handle *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_unwrap(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a honeywall_nf handle");
    return NULL;
  }
  return (nf_handle *)p;
}

/* setVerdict(q, id, verdict[, bytes]) -> boolean */
static napi_value set_verdict(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int argc = get_args(env, info, 4, argv);
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "setVerdict(queue, id, verdict[, bytes])");
    return NULL;
  }
  nf_handle *h = unwrap(env, argv[0]);
  if (!h) return NULL;
  uint32_t id, verdict;
  napi_get_value_uint32(env, argv[1], &id);
  napi_get_value_uint32(env, argv[2], &verdict);
  napi_value result;
  if (h->closed || h->kind != KIND_QUEUE) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  void *data = NULL;
  size_t len = 0;
  if (argc >= 4) {
    napi_valuetype t;
    napi_typeof(env, argv[3], &t);
    if (t != napi_undefined && t != napi_null) {
      bool is_ta = false;
      napi_is_typedarray(env, argv[3], &is_ta);
      if (is_ta) {
        napi_typedarray_type tt;
        size_t n;
        napi_value ab;
        size_t off;
        napi_get_typedarray_info(env, argv[3], &tt, &n, &data, &ab, &off);
        len = n;
      } else {
        napi_throw_type_error(env, NULL, "bytes: expected a Uint8Array");
        return NULL;
      }
    }
  }
  if (data == NULL) {
    /* collected, and sent when the batch's callback returns (or now, outside of one) */
    vadd(h, id, verdict);
    if (!h->dispatching) vflush(h);
    napi_get_boolean(env, true, &result);
    return result;
  }
  vflush(h);
  int rc = nfq_set_verdict(h->qh, id, verdict, (uint32_t)len, (const unsigned char *)data);
  if (rc < 0) h->verdict_errors++;
  else h->verdicts++;
  h->verdict_sends++;
  napi_get_boolean(env, rc >= 0, &result);
  return result;
}

/* setVerdicts(q, pairs: Uint32Array, count) -> boolean */
static napi_value set_verdicts(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (get_args(env, info, 3, argv) < 3) {
    napi_throw_type_error(env, NULL, "setVerdicts(queue, pairs, count)");
    return NULL;
  }
  nf_handle *h = unwrap(env, argv[0]);
  if (!h) return NULL;
  napi_typedarray_type tt;
  size_t n = 0, off;
  void *data = NULL;
  napi_value ab;
  uint32_t count;
  if (napi_get_typedarray_info(env, argv[1], &tt, &n, &data, &ab, &off) != napi_ok || tt != napi_uint32_array ||
      napi_get_value_uint32(env, argv[2], &count) != napi_ok || (size_t)count * 2 > n) {
    napi_throw_type_error(env, NULL, "setVerdicts(queue, pairs: Uint32Array, count): count pairs at most");
    return NULL;
  }
  napi_value result;
  if (h->closed || h->kind != KIND_QUEUE) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  const uint32_t *pairs = data;
  for (uint32_t i = 0; i < count; i++) vadd(h, pairs[2 * i], pairs[2 * i + 1]);
  if (!h->dispatching) vflush(h);
  napi_get_boolean(env, true, &result);
  return result;
}

static napi_value set_verdict_batch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (get_args(env, info, 3, argv) < 3) {
    napi_throw_type_error(env, NULL, "setVerdictBatch(queue, id, verdict)");
    return NULL;
  }
  nf_handle *h = unwrap(env, argv[0]);
  if (!h) return NULL;
  uint32_t id, verdict;
  napi_get_value_uint32(env, argv[1], &id);
  napi_get_value_uint32(env, argv[2], &verdict);
  napi_value result;
  if (h->closed || h->kind != KIND_QUEUE) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  vflush(h);
  int rc = nfq_set_verdict_batch(h->qh, id, verdict);
  if (rc < 0) h->verdict_errors++;
  else h->verdicts++;
  napi_get_boolean(env, rc >= 0, &result);
  return result;
}

static napi_value close_handle(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv) < 1) {
    napi_throw_type_error(env, NULL, "close(handle)");
    return NULL;
  }
  nf_handle *h = unwrap(env, argv[0]);
  if (!h) return NULL;
  if (!h->closed) {
    napi_remove_env_cleanup_hook(env, env_cleanup, h);
    do_close(h, 0);
  }
  return NULL;
}

static napi_value stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv) < 1) return NULL;
  nf_handle *h = unwrap(env, argv[0]);
  if (!h) return NULL;
  napi_value o;
  napi_create_object(env, &o);
  set_num(env, o, "number", h->number);
  set_num(env, o, "received", h->received);
  set_num(env, o, "enobufs", h->enobufs);
  set_num(env, o, "recvErrors", h->recv_errors);
  set_num(env, o, "verdicts", h->verdicts);
  set_num(env, o, "verdictErrors", h->verdict_errors);
  set_num(env, o, "wakeups", h->wakeups);
  set_num(env, o, "dispatches", h->dispatches);
  set_num(env, o, "callbackErrors", h->cb_errors);
  if (h->kind == KIND_QUEUE) {
    set_num(env, o, "verdictSends", h->verdict_sends);
    set_num(env, o, "overflowDropped", h->overflow_dropped);
    set_num(env, o, "gsoPackets", h->gso_packets);
    set_num(env, o, "gsoBytes", h->gso_bytes);
    set_num(env, o, "csumNotReady", h->csum_not_ready);
    set_num(env, o, "truncated", h->truncated);
    set_num(env, o, "largestPacket", h->max_packet);
    napi_value g;
    napi_get_boolean(env, h->gso != 0, &g);
    napi_set_named_property(env, o, "gso", g);
  }
  napi_value b;
  napi_get_boolean(env, h->closed != 0, &b);
  napi_set_named_property(env, o, "closed", b);
  return o;
}

static int packet_fd = -1;

/* sendFrame(ifindex, frame) -> bytes sent (throws on error) */
static napi_value send_frame(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv) < 2) {
    napi_throw_type_error(env, NULL, "sendFrame(ifindex, frame)");
    return NULL;
  }
  uint32_t ifindex;
  napi_get_value_uint32(env, argv[0], &ifindex);
  bool is_ta = false;
  napi_is_typedarray(env, argv[1], &is_ta);
  if (!is_ta) {
    napi_throw_type_error(env, NULL, "frame: expected a Uint8Array");
    return NULL;
  }
  napi_typedarray_type tt;
  size_t len, off;
  void *data;
  napi_value ab;
  napi_get_typedarray_info(env, argv[1], &tt, &len, &data, &ab, &off);
  if (len < 14) {
    napi_throw_range_error(env, NULL, "frame shorter than an Ethernet header");
    return NULL;
  }
  if (packet_fd < 0) {
    /* Protocol 0: this socket sends only and receives nothing. */
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
    if (__sync_bool_compare_and_swap(&packet_fd, -1, fd) == 0) close(fd);
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = (int)ifindex;
  sll.sll_halen = ETH_ALEN;
  memcpy(sll.sll_addr, data, ETH_ALEN);
  ssize_t n = sendto(packet_fd, data, len, 0, (struct sockaddr *)&sll, sizeof sll);
  if (n < 0) return throw_errno(env, "sendto(AF_PACKET)", errno);
  napi_value r;
  napi_create_uint32(env, (uint32_t)n, &r);
  return r;
}

static napi_value if_index(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv) < 1) return NULL;
  char name[IF_NAMESIZE + 1];
  size_t n;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "ifIndex(name)");
    return NULL;
  }
  napi_value r;
  napi_create_uint32(env, if_nametoindex(name), &r);
  return r;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"openQueue", NULL, open_queue, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openLog", NULL, open_log, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setVerdict", NULL, set_verdict, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setVerdicts", NULL, set_verdicts, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setVerdictBatch", NULL, set_verdict_batch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, close_handle, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stats", NULL, stats, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sendFrame", NULL, send_frame, NULL, NULL, NULL, napi_enumerable, NULL},
    {"ifIndex", NULL, if_index, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
