/*
 * honeywall_app.c: what the pipeline's flushing asks of the application parsers' state, kept by the native front's
 * flow table from the data the JavaScript parsers are given (src/flow/pipeline.ts track and streamItem): whether the
 * last request the HTTP session parsed was a HEAD (src/http/session.ts HttpSession.request, lastRequestWasHead: its
 * response has no body, PAF ends it with its headers), and whether dcerpc2 gave the SMB session up
 * (src/dce2/session.ts Dce2SmbSession.rebuilt: noInspect, PAF aborts).
 */
#ifndef HONEYWALL_APP_H
#define HONEYWALL_APP_H
#include <stdint.h>

/* HttpSession.request(b) as far as lastMethod goes: 1 when it parsed a request, with *head whether the last was HEAD. */
int hw_http_request_scan(const uint8_t *b, int64_t n, int *head);

typedef struct {
  int32_t no_inspect, seen_client, seen_server;
  uint32_t cli_seq, cli_nseq, srv_seq, srv_nseq;
} hw_dce2;

/* Dce2SmbSession.rebuilt(segment) as far as noInspect goes. */
void hw_dce2_rebuilt(hw_dce2 *d, int from_client, uint32_t seq, uint32_t ack, int32_t len);
#endif
