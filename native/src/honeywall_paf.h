/*
 * honeywall_paf.c: protocol aware flushing in C for the native front's flow table: src/http/paf.ts (http_inspect's
 * hi_paf.c) and src/dce2/smb-paf.ts (dcerpc2's DCE2_SmbPaf). test/native-flow.test.ts holds them, through the
 * table's flushes, to the JavaScript ones.
 */
#ifndef HONEYWALL_PAF_H
#define HONEYWALL_PAF_H
#ifndef HW_NO_NAPI
#include <node_api.h>
#endif
#include <stdint.h>

/* httpPafLength: the first message's length (it may pass n), 0 not known yet, -1 not HTTP. `head`: the last request
 * was a HEAD. A double, as JavaScript's: a Content-Length of any size compares as it does there. */
double hw_http_paf_length(const uint8_t *b, int64_t n, int from_client, int head);
/* hasHeaderEnd */
int hw_http_has_header_end(const uint8_t *b, int64_t n);
/* smbPafLength and smbPduHeadIn */
double hw_smb_paf_length(const uint8_t *b, int64_t n);
int hw_smb_pdu_head_in(const uint8_t *b, int64_t n, int at_start);

#ifndef HW_NO_NAPI
napi_value honeywall_paf_run_js(napi_env env, napi_callback_info info);
#endif
#endif
