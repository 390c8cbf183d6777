/**
 * The servers of the real-traffic captures (tools/diff-snort/real.ts), as Python 3 standard-library scripts written to
 * a temporary directory at run time and started inside the honeypot's namespace. Each prints `ready` once it listens,
 * serves until killed, and never writes to anything but its sockets. The bodies carry strings that ET Open 2019
 * rules look for (named next to each), so the comparison has response-side alerts over plain, gzip, chunked and large
 * bodies to compare, not only request-side ones.
 */

/**
 * HTTP/1.1 (http.server, keep-alive): files from a directory (and its 404s and directory redirects), plus
 *   /gzip      a `Content-Encoding: gzip` body: `<title>... - WSO ...</title>` (sid 2015905) and `<!--0c0896-->...split` (2017187)
 *   /chunked   `Transfer-Encoding: chunked`, six chunks written 50 ms apart, `weCameFromHell(`/`spawAnyone(` (2016927) and
 *              `FlashExploit()` (2015890) each cut across a chunk boundary
 *   /large     a 150 KB body (over 64 KB) ending in `report_and_get_exploits(_0x` (2017034)
 *   /redirect  302 to /index.html;  /id  `uid=0(root)` in a text body (GPL ATTACK_RESPONSE id check, 2100498)
 *   POST, PUT  the request body echoed back (Content-Length or chunked requests)
 */
export const HTTP_SERVER_PY = String.raw`
import functools, gzip, http.server, sys, time

DOCROOT, PORT = sys.argv[1], int(sys.argv[2])

GZ_BODY = (b"<html><head><title>Shell - WSO 2.5</title></head><body>\n" + b"<p>filler line of a page</p>\n" * 300
           + b"<script><!--0c0896-->var a = 'x,y'.split(',');</script></body></html>\n")
CHUNKS = [b"<html><script>function weCame", b"FromHell(a){return a}\n", b"/* padding */" * 60 + b"\n",
          b"spawAnyone(1); FlashExp", b"loit()\n", b"</script></html>\n"]
LARGE = b"".join(b"%06d " % i + b"A" * 1017 + b"\n" for i in range(150)) + b"<script>report_and_get_exploits(_0x1a2b)</script>\n"

class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache/2.2.15"
    sys_version = ""

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="text/html", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/gzip":
            self.reply(200, gzip.compress(GZ_BODY), headers=[("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")])
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for c in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/large":
            self.reply(200, LARGE)
        elif path == "/redirect":
            self.reply(302, b"", headers=[("Location", "/index.html")])
        elif path == "/id":
            self.reply(200, b"uid=0(root) gid=0(root) groups=0(root)\n", ctype="text/plain")
        else:
            super().do_GET()

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):
        self.reply(200, self.read_body(), ctype=self.headers.get("Content-Type", "application/octet-stream"))

    do_PUT = do_POST

server = http.server.ThreadingHTTPServer(("0.0.0.0", PORT), functools.partial(Handler, directory=DOCROOT))
print("ready", flush=True)
server.serve_forever()
`;

/**
 * A DNS responder on UDP: each query answered with its question and, for A queries, one A record (10.0.0.99); names
 * under `.tk` get NXDOMAIN. Enough for dig to finish at once.
 */
export const DNS_SERVER_PY = String.raw`
import socket, struct, sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
while True:
    q, peer = sock.recvfrom(4096)
    if len(q) < 12:
        continue
    i, labels = 12, []
    while i < len(q) and q[i] != 0:
        labels.append(q[i + 1:i + 1 + q[i]].decode("latin-1"))
        i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 1
    question = q[12:i + 5]
    name = ".".join(labels).lower()
    rcode = 3 if name.endswith(".tk") else 0
    answers = b""
    if rcode == 0 and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("10.0.0.99")
    header = q[:2] + struct.pack("!HHHHH", 0x8180 | rcode, 1, 1 if answers else 0, 0, 0)
    sock.sendto(header + question + answers, peer)
`;

/** A DNS query by Python, for machines without dig: `dns-query.py SERVER PORT NAME`. */
export const DNS_CLIENT_PY = String.raw`
import os, socket, struct, sys

server, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
msg = os.urandom(2) + struct.pack("!HHHHH", 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(2)
sock.sendto(msg, (server, port))
try:
    sock.recvfrom(4096)
except socket.timeout:
    pass
`;

/**
 * An SSH server that goes as far as key exchange: its banner (libssh 0.7.5, which ET POLICY 2026526 flags as
 * vulnerable), the client's banner read, a real SSH_MSG_KEXINIT (curve25519, ed25519, aes128-ctr) sent, then whatever
 * the client sends (its KEXINIT and ECDH init) read until it pauses for 0.5 s, then the connection is closed. Used when no sshd
 * is installed; the ssh client gives up with "connection closed", after a genuine handshake start.
 */
export const SSH_BANNER_SERVER_PY = String.raw`
import os, socket, struct, sys, threading

def namelist(s):
    return struct.pack("!I", len(s)) + s

def kexinit():
    payload = (b"\x14" + os.urandom(16) + namelist(b"curve25519-sha256,curve25519-sha256@libssh.org")
               + namelist(b"ssh-ed25519") + namelist(b"aes128-ctr") * 2 + namelist(b"hmac-sha2-256") * 2
               + namelist(b"none") * 2 + namelist(b"") * 2 + b"\x00" + struct.pack("!I", 0))
    pad = 8 - (5 + len(payload)) % 8
    pad += 8 if pad < 4 else 0
    return struct.pack("!IB", 1 + len(payload) + pad, pad) + payload + b"\x00" * pad

def serve(conn):
    try:
        conn.settimeout(2)
        conn.sendall(b"SSH-2.0-libssh-0.7.5\r\n")
        conn.recv(256)
        conn.sendall(kexinit())
        conn.settimeout(0.5)
        while conn.recv(4096):
            pass
    except OSError:
        pass
    finally:
        conn.close()

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("0.0.0.0", int(sys.argv[1])))
sock.listen(16)
print("ready", flush=True)
while True:
    c, _ = sock.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;
