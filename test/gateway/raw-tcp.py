#!/usr/bin/env python3
"""A TCP client that writes its own packets (python3 standard library only), for the stream tests.

Run inside a honeypot namespace as root:

    python3 raw-tcp.py '<json spec>'

It does its own three-way handshake with a listener, then sends data segments exactly as the spec says:
any order, overlapping ranges with different bytes, a segment cut into IP fragments. Nothing is ever
retransmitted unless the spec lists it again. Frames go out through an AF_PACKET socket, so the
namespace's own netfilter never sees them; the kernel of this namespace has no socket for the
connection and answers the listener's packets with RSTs, which the caller must drop (an iptables
OUTPUT rule for the source port) or the connection dies at once.

Spec (JSON):
  iface      interface to send on (default eth0)
  src, dst   IPv4 addresses; dstMac the listener's (or next hop's) MAC address, aa:bb:cc:dd:ee:ff
  sport, dport
  steps      list of {"off": N, "hex": "...", "frag": [cut, ...], "waitAck": N, "pauseMs": N}
             off: stream offset of the data (0 = the first byte after the SYN);
             frag: cut the IP datagram's payload (TCP header + data) at these byte offsets
             (multiples of 8), each piece its own IP fragment, sent in order;
             waitAck: wait until the listener acknowledges this stream offset (at most ackTimeoutMs);
             pauseMs: else (or then) wait this long, collecting ACKs (default 150)
  ackTimeoutMs  default 1500
  lingerMs      after the last step, collect ACKs this long (default 300)
  reset         send a RST at the end (default true) so the listener's connection ends

Prints one JSON object: {"ok", "error"?, "sport", "isn", "serverIsn", "steps": [{"off", "len", "ipId",
"frags", "ackAfter"}], "highestAck", "acks"} where ACK numbers are stream offsets (relative to isn + 1),
"acks" every distinct ACK seen in order, and "highestAck" the furthest the listener acknowledged.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(text: str) -> bytes:
    return bytes(int(x, 16) for x in text.split(":"))


class Client:
    def __init__(self, spec):
        self.iface = spec.get("iface", "eth0")
        self.src = socket.inet_aton(spec["src"])
        self.dst = socket.inet_aton(spec["dst"])
        self.dst_mac = mac_bytes(spec["dstMac"])
        self.sport = int(spec["sport"])
        self.dport = int(spec["dport"])
        self.ack_timeout = spec.get("ackTimeoutMs", 1500) / 1000.0
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.sock.bind((self.iface, ETH_P_IP))
        self.src_mac = self.sock.getsockname()[4][:6]
        self.isn = random.randrange(1 << 32)
        self.ip_id = random.randrange(1 << 16)
        self.server_isn = None
        self.acks = []  # distinct ACK numbers seen, relative, in order
        self.highest = None

    # --- building ---------------------------------------------------------
    def tcp(self, seq: int, ack: int, flags: int, data: bytes = b"", options: bytes = b"") -> bytes:
        off = (20 + len(options)) // 4
        hdr = struct.pack("!HHIIBBHHH", self.sport, self.dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          off << 4, flags, 64240, 0, 0) + options
        pseudo = self.src + self.dst + struct.pack("!BBH", 0, 6, len(hdr) + len(data))
        c = csum(pseudo + hdr + data)
        return hdr[:16] + struct.pack("!H", c) + hdr[18:] + data

    def ip(self, payload: bytes, ip_id: int, frag_off: int = 0, mf: bool = False) -> bytes:
        flags = (0x2000 if mf else 0) | (frag_off // 8)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ip_id, flags, 64, 6, 0, self.src, self.dst)
        return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload

    def send_frame(self, ip_packet: bytes) -> None:
        self.sock.send(self.dst_mac + self.src_mac + struct.pack("!H", ETH_P_IP) + ip_packet)

    def next_id(self) -> int:
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        return self.ip_id

    # --- receiving --------------------------------------------------------
    def poll(self, timeout: float):
        """Reads frames for up to `timeout` seconds; returns the TCP headers of the connection's packets."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return out
            frame, addr = self.sock.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING or len(frame) < 14 + 40:
                continue
            ip = frame[14:]
            ihl = (ip[0] & 0x0F) * 4
            if ip[9] != 6 or ip[12:16] != self.dst or ip[16:20] != self.src:
                continue
            t = ip[ihl:]
            sport, dport, seq, ack, _off, flags = struct.unpack("!HHIIBB", t[:14])
            if sport != self.dport or dport != self.sport:
                continue
            out.append((seq, ack, flags))
            if flags & 0x12 == 0x12 and self.server_isn is None and ack == (self.isn + 1) & 0xFFFFFFFF:
                self.server_isn = seq
            elif flags & 0x04 and self.server_isn is None:
                self.refused = True
            if flags & 0x10 and not flags & 0x02 and self.server_isn is not None:
                rel = (ack - self.isn - 1) & 0xFFFFFFFF
                if not self.acks or self.acks[-1] != rel:
                    self.acks.append(rel)
                if self.highest is None or rel > self.highest:
                    self.highest = rel
            # Once the condition the caller waits for holds, return early.
            if self.until is not None and self.until():
                return out

    until = None
    refused = False

    def handshake(self) -> None:
        syn = self.tcp(self.isn, 0, 0x02, options=struct.pack("!BBH", 2, 4, 1460))
        for _ in range(3):  # the SYN may meet a firewall that is still coming up
            self.send_frame(self.ip(syn, self.next_id()))
            self.until = lambda: self.server_isn is not None or self.refused
            self.poll(1.0)
            if self.refused:
                raise RuntimeError("connection refused (RST)")
            if self.server_isn is not None:
                break
        self.until = None
        if self.server_isn is None:
            raise RuntimeError("no SYN-ACK")
        self.send_frame(self.ip(self.tcp(self.isn + 1, self.server_isn + 1, 0x10), self.next_id()))

    def send_step(self, step) -> dict:
        data = bytes.fromhex(step["hex"])
        off = int(step["off"])
        seg = self.tcp(self.isn + 1 + off, self.server_isn + 1, 0x18, data)
        ip_id = self.next_id()
        cuts = [int(c) for c in step.get("frag", [])]
        frags = []
        if cuts:
            bounds = [0] + cuts + [len(seg)]
            for i in range(len(bounds) - 1):
                a, b = bounds[i], bounds[i + 1]
                if a % 8:
                    raise ValueError("fragment offsets must be multiples of 8")
                self.send_frame(self.ip(seg[a:b], ip_id, a, i < len(bounds) - 2))
                frags.append({"offset": a, "len": b - a})
        else:
            self.send_frame(self.ip(seg, ip_id))
        want = step.get("waitAck")
        if want is not None:
            self.until = lambda: self.highest is not None and self.highest >= want
            self.poll(self.ack_timeout)
            self.until = None
        pause = step.get("pauseMs", 150 if want is None else 0)
        if pause:
            self.poll(pause / 1000.0)
        return {"off": off, "len": len(data), "ipId": ip_id, "frags": frags, "ackAfter": self.highest}

    def reset(self) -> None:
        end = (self.highest or 0)
        self.send_frame(self.ip(self.tcp(self.isn + 1 + end, self.server_isn + 1, 0x14), self.next_id()))


def main() -> int:
    spec = json.loads(sys.argv[1])
    c = Client(spec)
    result = {"ok": False, "sport": c.sport, "isn": c.isn, "steps": []}
    try:
        c.handshake()
        result["serverIsn"] = c.server_isn
        # The listener's ACK of the handshake is implicit; stream offset 0 is acknowledged.
        c.highest = 0
        for step in spec["steps"]:
            result["steps"].append(c.send_step(step))
        c.poll(spec.get("lingerMs", 300) / 1000.0)
        if spec.get("reset", True):
            c.reset()
        result["ok"] = True
    except Exception as err:  # reported, not raised: the caller wants what was sent so far
        result["error"] = str(err)
    result["highestAck"] = c.highest
    result["acks"] = c.acks
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    if os.geteuid() != 0:
        print(json.dumps({"ok": False, "error": "needs root (AF_PACKET)"}))
        sys.exit(1)
    sys.exit(main())
