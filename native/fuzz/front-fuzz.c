/*
 * The native front's C under AddressSanitizer and UndefinedBehaviorSanitizer, without Node: every frame of the
 * captures named on the command line, then the same frames damaged (bytes changed, cut, lengths set near the bytes
 * there are), through the front the replay uses (honeywall_front.c: decoded, defragmented with the seven policies,
 * tracked by a flow table with reassembly and PAF on HTTP and SMB ports, written as records; small limits every other
 * round, so the queue, eviction, paf_max, memcap and tracker limit paths run), as bare IP datagrams too, with the
 * clock of a shard moved now and then and every flow flushed at the end, each frame also asked of a shard plan
 * (honeywall_shard.c) with room for few pairs. Everything it reads is what a
 * honeynet sends: a read or write out of bounds, a use after free, a leak or an overflow stops it with a report.
 * Built and run by test/native-fuzz.test.ts:
 *   cc -DHW_NO_NAPI -fsanitize=address,undefined -g -O1 native/fuzz/front-fuzz.c
 *      native/src/honeywall_{decode,flow,stream,paf,app,defrag,front,shard}.c -lm -o front-fuzz
 *   front-fuzz ROUNDS capture.pcap...
 * (HW_NO_NAPI leaves the files' N-API entry points out.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/honeywall_front.h"
#include "../src/honeywall_shard.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static uint8_t *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
  if (b != NULL && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *n = (size_t)len;
  return b;
}

static hw_flow_config *config(int small) {
  hw_flow_config *c = calloc(1, sizeof *c);
  for (int k = 0; k < 4; k++) {
    c->track[k] = 1;
    c->max[k] = small ? 3 : 1000;
    c->timeout[k] = small ? 2 : 30;
  }
  c->policy = small ? 2 : 0;
  c->all_client_ports = c->all_server_ports = 1;
  c->max_queued_bytes = small ? 64 : 1048576;
  c->max_queued_segs = small ? 4 : 2621;
  c->flush_size = small ? 16 : 65495;
  c->paf = 1;
  c->http_ports[80] = c->http_ports[8080] = 1;
  c->smb_ports[445] = c->smb_ports[139] = 1;
  return c;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: front-fuzz ROUNDS capture.pcap...\n");
    return 2;
  }
  int rounds = atoi(argv[1]);
  uint8_t *frame = malloc(262144 + 64);
  double frames = 0;
  for (int round = 0; round < rounds; round++) {
    hw_flow_config *cfg = config(round % 2);
    hw_flow_table *t = hw_flow_table_new(cfg);
    free(cfg);
    /* small limits every other round: the memcaps, the tracker limit and the overlap limit are hit */
    hw_defrag_config dcfg = {round % 2 ? 5 : 180, round % 2 ? 2000 : 4 << 20, round % 2 ? 1500 : 1 << 20, round % 2 ? 2 : 65536, round % 7, 10, 1, 1, 0};
    hw_front *front = hw_front_new(t, &dcfg, (hw_decode_options){round % 2, 8, 0}, (hw_decode_options){1, 8, 0}, 64, 256);
    hw_shard_plan *plan = hw_shard_plan_new(1 + round % 4, 64);
    if (front == NULL || plan == NULL) return 1;
    double index = 0;
    for (int a = 2; a < argc; a++) {
      size_t n;
      uint8_t *cap = read_file(argv[a], &n);
      if (cap == NULL || n < 24) {
        free(cap);
        continue;
      }
      int little = cap[0] == 0xd4 || cap[0] == 0x4d;
#define RD32(q) (little ? ((uint32_t)(q)[0] | (uint32_t)(q)[1] << 8 | (uint32_t)(q)[2] << 16 | (uint32_t)(q)[3] << 24) \
                        : ((uint32_t)(q)[3] | (uint32_t)(q)[2] << 8 | (uint32_t)(q)[1] << 16 | (uint32_t)(q)[0] << 24))
      if (RD32(cap) != 0xa1b2c3d4u && RD32(cap) != 0xa1b23c4du) {
        free(cap);
        continue;
      }
      int linktype = (int)(RD32(cap + 20) & 0xffff);
      for (size_t q = 24; q + 16 <= n;) {
        uint32_t sec = RD32(cap + q), incl = RD32(cap + q + 8);
        if (incl > n - q - 16 || incl > 262144) break;
        int32_t len = (int32_t)incl;
        memcpy(frame, cap + q + 16, (size_t)len);
        if (round > 0) {
          /* damage: a few bytes changed, maybe cut short; a length field near the bytes there are */
          int edits = (int)(next() % 4);
          for (int e = 0; e < edits && len > 0; e++) frame[next() % (uint64_t)len] = (uint8_t)next();
          if (next() % 8 == 0 && len > 0) len = (int32_t)(next() % (uint64_t)len);
          if (next() % 8 == 0 && len > 20) {
            int32_t at = (int32_t)(next() % (uint64_t)(len - 1));
            int32_t v = len - at + (int32_t)(next() % 9) - 4;
            frame[at] = (uint8_t)(v >> 8);
            frame[at + 1] = (uint8_t)v;
          }
        }
        /* (each damaged frame in its own buffer of exactly its length, so a read past it is caught) */
        uint8_t *exact = malloc(len > 0 ? (size_t)len : 1);
        memcpy(exact, frame, (size_t)len);
        double ts = sec + (double)(next() % 1000000) / 1e6;
        int lt = round % 3 == 2 ? -1 : linktype;
        int32_t owner = hw_shard_plan_frame(plan, lt, exact, len);
        double whole = (double)(uint32_t)ts, usec = (double)(int64_t)((ts - whole) * 1e6);
        if (round % 4 == 1) {
          /* as a sharded replay's walk batch (shard 0 of the plan's, which may be another's frame) */
          int32_t walked[6] = {0, len, (int32_t)(uint32_t)whole, (int32_t)usec, len, owner};
          if (hw_front_push_walked(front, exact, (size_t)len, walked, 1, 0, lt, index++) < 0) return 1;
        } else if (hw_front_push(front, lt, exact, len, whole, usec, index++) < 0)
          return 1;
        /* another shard's frame now and then: the clock of its kind's flows moves */
        if (next() % 16 == 0 && hw_front_advance(front, owner < 0 ? 3 : owner & 3, whole + 1 + (double)(next() % 60), 0) < 0) return 1;
        free(exact);
        frames++;
        q += 16 + incl;
      }
#undef RD32
      free(cap);
    }
    if (hw_front_finish(front) < 0) return 1;
    hw_front_free(front);
    hw_shard_plan_free(plan);
  }
  printf("%.0f frames\n", frames);
  free(frame);
  return 0;
}
