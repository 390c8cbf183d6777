/*
 * honeywall_decode.c: src/packet/decode.ts in C, the native front's decoder (docs/performance.md, "What closes the
 * gap"). A frame decodes into one hw_packet: the layers found, each field as the JavaScript decoder reads it, offsets
 * into the frame. test/native-decode.test.ts holds the two decoders to the same packets.
 */
#ifndef HONEYWALL_DECODE_H
#define HONEYWALL_DECODE_H
#ifndef HW_NO_NAPI
#include <node_api.h>
#endif
#include <stdint.h>

/* Capacities: decode.ts's own limits (9 VLAN tags in all, 16 IPv6 extension headers a layer, 17 MPLS labels a
 * stack) and the most IP layers a caller may ask for. */
#define HW_MAX_IP_LAYERS 16
#define HW_MAX_VLANS 9
#define HW_MAX_EXT 16
#define HW_MAX_MPLS (17 * (HW_MAX_IP_LAYERS + 1))
#define HW_MAX_IP4_OPTIONS 40

/* src/packet/types.ts DECODE_ERRORS, in its order. */
enum hw_decode_error {
  HW_ERR_NONE = -1,
  HW_ERR_LINK_TRUNCATED = 0,
  HW_ERR_LINK_UNSUPPORTED,
  HW_ERR_VLAN_TRUNCATED,
  HW_ERR_MPLS_TRUNCATED,
  HW_ERR_PPPOE_TRUNCATED,
  HW_ERR_IP_TRUNCATED,
  HW_ERR_IP_BAD_VERSION,
  HW_ERR_IP4_BAD_HEADER_LENGTH,
  HW_ERR_IP4_BAD_TOTAL_LENGTH,
  HW_ERR_IP4_BAD_OPTIONS,
  HW_ERR_IP6_BAD_PAYLOAD_LENGTH,
  HW_ERR_IP6_EXT_TRUNCATED,
  HW_ERR_IP6_TOO_MANY_EXT,
  HW_ERR_TCP_TRUNCATED,
  HW_ERR_TCP_BAD_OFFSET,
  HW_ERR_TCP_BAD_OPTIONS,
  HW_ERR_UDP_TRUNCATED,
  HW_ERR_UDP_BAD_LENGTH,
  HW_ERR_ICMP_TRUNCATED,
  HW_ERR_ICMP6_TRUNCATED,
  HW_ERR_GRE_TRUNCATED,
  HW_ERR_GRE_BAD_VERSION,
  HW_ERR_TUNNEL_TOO_DEEP,
};

typedef struct {
  int32_t type, offset, length;
} hw_opt;

typedef struct {
  int32_t version, offset, header_length, total_length, ttl, tos, proto;
  uint32_t id;
  int32_t rb, df, mf, frag_offset, is_fragment, checksum;
  /* -1: not verified, 0 wrong, 1 right (IPv4 only) */
  int32_t checksum_ok;
  /* IPv6 */
  int32_t flow_label, next_header, frag_header_offset, n_ext;
  hw_opt ext[HW_MAX_EXT];
  /* IPv4: -1 malformed (none kept), else how many */
  int32_t n_options;
  hw_opt options[HW_MAX_IP4_OPTIONS];
} hw_ip;

typedef struct {
  int32_t offset, header_length, src_port, dst_port;
  uint32_t seq, ack;
  int32_t flags, reserved, window, checksum, urgent_pointer, checksum_ok;
} hw_tcp;

typedef struct {
  int32_t offset, src_port, dst_port, length, checksum, checksum_ok;
} hw_udp;

typedef struct {
  int32_t offset, type, code, checksum, checksum_ok, id, seq, embedded_offset;
} hw_icmp;

typedef struct {
  int32_t offset, header_length, flags, version, protocol;
} hw_gre;

typedef struct {
  int32_t error, error_offset, bad_checksum, payload_offset, payload_length;
  int32_t eth_offset, eth_type;
  int32_t n_vlans;
  int32_t vlan_offset[HW_MAX_VLANS], vlan_tpid[HW_MAX_VLANS], vlan_tci[HW_MAX_VLANS];
  int32_t n_mpls;
  int32_t mpls[HW_MAX_MPLS];
  /* ip[n_ip - 1] is the innermost (Packet.ip), the others Packet.outer */
  int32_t n_ip;
  hw_ip ip[HW_MAX_IP_LAYERS];
  int32_t has_gre, has_tcp, has_udp, has_icmp, has_icmp6;
  hw_gre gre;
  hw_tcp tcp;
  hw_udp udp;
  hw_icmp icmp, icmp6;
} hw_packet;

typedef struct {
  int verify;
  int max_layers;
  int length_from_data;
} hw_decode_options;

/* decode.ts decode() (linktype >= 0) and decodeIpPacket() (linktype -1). max_layers must be 1..HW_MAX_IP_LAYERS. */
void hw_decode(hw_packet *p, int linktype, const uint8_t *b, int32_t len, const hw_decode_options *o);

/* The packet as the record decodeFrame returns (test/native-decode.test.ts recordOf; src/packet/decode.ts
 * packetFromRecord reads it): r must hold HW_PACKET_RECORD_MAX values; returns how many it wrote. */
#define HW_PACKET_RECORD_MAX (16 + 3 * HW_MAX_VLANS + HW_MAX_MPLS + HW_MAX_IP_LAYERS * (20 + 3 * HW_MAX_IP4_OPTIONS) + 5 + 12 + 6 + 16)
int32_t hw_packet_record(const hw_packet *p, int32_t *r);

#ifndef HW_NO_NAPI
napi_value honeywall_decode_frame_js(napi_env env, napi_callback_info info);
#endif
#endif
