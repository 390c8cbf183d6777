/*
 * honeywall_flow.c: src/flow/table.ts in C, the native front's flow table (docs/performance.md, "What closes the
 * gap"): sessions by 5-tuple and VLAN, per-kind limits with LRU eviction, idle timeouts, the TCP state stream5
 * keeps, a session's cleanup, and reassembly (honeywall_stream.c), flushed by footprint or by message (honeywall_paf.c:
 * HTTP and SMB), with what that flushing asks of the HTTP and dcerpc2 parsers' state (honeywall_app.c) kept from the
 * data the pipeline gives them. test/native-flow.test.ts holds it to FlowTable with the pipeline's flushing.
 */
#ifndef HONEYWALL_FLOW_H
#define HONEYWALL_FLOW_H
#ifndef HW_NO_NAPI
#include <node_api.h>
#endif
#include <stdint.h>

#include "honeywall_app.h"
#include "honeywall_decode.h"
#include "honeywall_stream.h"

enum hw_kind { HW_TCP = 0, HW_UDP = 1, HW_ICMP = 2, HW_IP = 3 };
enum hw_tcp_state { HW_SYN_SENT, HW_SYN_RECEIVED, HW_ESTABLISHED, HW_CLOSING, HW_CLOSED, HW_STATE_NONE };
/* table.ts FlushReason, in its order */
enum hw_reason { HW_PDU, HW_ACK, HW_SIZE, HW_FIN, HW_RST, HW_TIMEOUT, HW_EVICTED, HW_END, HW_REDECODE };

typedef struct {
  uint8_t ip[16];
  int32_t ip_len, port;
  double packets, bytes;
  /* sequence numbers as unsigned 32-bit values, -1 unknown (flow.ts Endpoint) */
  int64_t isn, next_seq, fin_end, l_unackd, acked_to, unflushed_first;
  int32_t fin_seen, rst_seen, unflushed_meta, unflushed_ended;
  uint32_t window;
  /* reassembly: the side's stream once its first data came (NULL before, and when not reassembled), the SYN's
   * next sequence number until then (-1), how its data is flushed (0 footprint; PAF is not in the C table yet) and
   * the footprint flush point */
  hw_stream *stream;
  int64_t syn_next;
  int32_t flush_pt;
  /* protocol aware flushing (table.ts and flow.ts Endpoint): 1 when the side's data is flushed by message, PAF's
   * place in the queued data (-1 nothing known) and how far it looked, the rest of a message cut at paf_max, a
   * message's length found before it was all acked and where it started */
  int32_t paf;
  int64_t paf_base, paf_scanned, paf_pdu_base;
  double paf_left, paf_pdu;
} hw_endpoint;

typedef struct hw_flow {
  int32_t slot, kind, proto, vlan;
  uint32_t hash;
  hw_endpoint client, server;
  int32_t state, established, midstream, synced, terminated;
  double start_sec, last_sec;
  double created_index, last_index;
  /* what PAF asks of the application parsers (honeywall_app.h): the last request a HEAD, dcerpc2's session */
  int32_t http_head;
  hw_dce2 dce2;
  struct hw_flow *lru_prev, *lru_next, *chain, *order_prev, *order_next;
} hw_flow;

/* table.ts StreamSegment: rebuilt stream data, or (reason 'redecode', no data) a cleanup's record of a side's first
 * queued packet. */
typedef struct {
  /* the flow by its slot and its creation (capture position): a removal in the same call frees the flow */
  int32_t flow_slot;
  double flow_created;
  int32_t from_client, reason, flags, ttl;
  int64_t seq, ack;
  uint32_t window;
  int32_t pdu_head, len;
  /* malloc'd, owned by the table until its next call */
  uint8_t *data;
} hw_segment;

typedef struct {
  int32_t track[4], max[4];
  double timeout[4];
  int32_t require_handshake;
  double handshake_grace;
  /* reassembly: overlap policy, the server ports whose client (server) data is reassembled (1 a port, all_* every
   * port), the queue limits and the largest rebuilt segment */
  int32_t policy, all_client_ports, all_server_ports, max_queued_segs, flush_size;
  int64_t max_queued_bytes;
  uint8_t client_ports[65536], server_ports[65536];
  /* protocol aware flushing: on (the pipeline's pduLength) or off, and the server ports of http_inspect's and
   * dcerpc2's (SMB, registered auto_on) */
  int32_t paf;
  uint8_t http_ports[65536], smb_ports[65536];
} hw_flow_config;

typedef struct hw_flow_table hw_flow_table;

/* FlowTable.process's answer for one packet (FlowUpdate without its segments), and where among the segments of the
 * call the flow was made (the segments before it came from flows that ended first: their slot may be its slot) */
typedef struct {
  hw_flow *flow;
  int32_t from_client, is_new, established, stream_inserted, new_at;
} hw_update;

/* a flow removed during a call: [createdIndex, reason, the number of segments of the call before it, slot] */
#define HW_REMOVED_STRIDE 4
/* hw_flow_front_stats: created tcp, udp, icmp, ip, timed out, evicted, no session, flushed segments and bytes, flows,
 * segments a full reassembly queue refused and their bytes */
#define HW_FLOW_STATS 12

hw_flow_table *hw_flow_table_new(const hw_flow_config *cfg);
void hw_flow_table_free(hw_flow_table *t);

/* the native front (honeywall_front.c): one frame processed; the flows of a kind idle too long ended; every queued
 * segment flushed (end of input); what the last of these calls made */
void hw_flow_front_process(hw_flow_table *t, const hw_packet *p, const uint8_t *b, int64_t ts_sec, double now, double index, hw_update *u);
void hw_flow_front_expire(hw_flow_table *t, int kind, double now);
void hw_flow_front_finish(hw_flow_table *t);
const hw_segment *hw_flow_front_segments(const hw_flow_table *t, int32_t *n);
const double *hw_flow_front_removed(const hw_flow_table *t, int32_t *n);
/* a segment's flow, live or removed during the call (kept until the next) */
const hw_flow *hw_flow_front_flow_of(const hw_flow_table *t, const hw_segment *s);
int hw_flow_front_oom(const hw_flow_table *t);
/* whether an expiry of the kind's flows at `now` ends one (expire_kind's test) */
int hw_flow_front_expires(const hw_flow_table *t, int kind, double now);
void hw_flow_front_stats(const hw_flow_table *t, double out[HW_FLOW_STATS]);

#ifndef HW_NO_NAPI
/* a frame's arguments (linktype, frame: Uint8Array, tsSec, tsUsec, index) from argv[0..4]; 0 when one is not */
typedef struct {
  int32_t linktype;
  uint8_t *frame;
  size_t len;
  double ts_sec, ts_usec, index;
} hw_frame_args;
int hw_frame_args_of(napi_env env, const napi_value *argv, hw_frame_args *a);
hw_flow_table *hw_flow_table_from_js(napi_env env, napi_value config, napi_value *maps);
napi_value honeywall_flow_table_open_js(napi_env env, napi_callback_info info);
#endif
#ifndef HW_NO_NAPI
napi_value honeywall_flow_table_process_js(napi_env env, napi_callback_info info);
#endif
#ifndef HW_NO_NAPI
napi_value honeywall_flow_table_finish_js(napi_env env, napi_callback_info info);
#endif
#ifndef HW_NO_NAPI
napi_value honeywall_front_measure_js(napi_env env, napi_callback_info info);
#endif
#endif
