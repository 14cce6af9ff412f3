#!/usr/bin/env python3
"""make-hostile-pcaps.py OUTDIR - captures of traffic meant to hurt a passive HTTP
agent, each with legitimate exchanges before and after the attack.

Every file starts with `GET /legit/before` and ends with `GET /legit/after`, on host
`legit.test` (client 10.1.0.1, server 10.0.0.80:80, each answered 200 with a JSON
body), on their own connections. The attack in between, on host `evil.test`:

  baseline.pcap    no attack: only the two legitimate exchanges
  synflood.pcap    1,000,000 SYNs from distinct (address, port) tuples, over 10 s
  slowloris.pcap   200 connections each sending one request head that never ends:
                   a header line every 10 ms of packet time, 700-byte lines on 100
                   of them (past max_header_bytes), short ones on the others (past
                   max_headers)
  pipeline.pcap    10,000 pipelined GET requests on one connection, no response
  smuggling.pcap   CL.TE, TE.CL and a duplicate Content-Length, each on its own
                   connection and answered (the smuggled request too when the
                   server would see one)
  overlap.pcap     50 connections whose request arrives first without its first
                   2 bytes (held out of order), then whole with other bytes in the
                   path (`/evilpth/N` for `/overlap/N`), then a changed
                   retransmission of delivered bytes
  gzipbomb.pcap    a response `Content-Encoding: gzip` whose body (about 1 MB)
                   inflates to 1 GiB of zeros: the agent never inflates, so it is
                   only bytes to skip
  longline.pcap    a request line of 1 MiB (`GET /AAAA...`), answered 414
  deeppaths.pcap   1000 requests on one connection, each answered 200, whose paths
                   are `/q` and 4000 one-letter segments (b..y, random, seeded),
                   then `/n` and 4000 digits (4000 parameters: {id} ... {id4000}):
                   8002 bytes, under max_target; templating them must stay linear

Written from scratch as classic pcap (Ethernet, IPv4, TCP, microseconds), with
Python's standard library only; IPv4 header checksums are right, TCP checksums 0.
Prints one line per file: name, packets, bytes."""
import os
import struct
import sys
import zlib

MSS = 1448
LEGIT_C, SERVER = (10, 1, 0, 1), (10, 0, 0, 80)
EVIL_C = (203, 0, 113, 7)
MAC = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"


def ipsum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.n = 0
        self.buf = []

    def pkt(self, ts, src, dst, sport, dport, seq, ack, flags, payload=b""):
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6,
                                   0, bytes(src), bytes(dst)))
        struct.pack_into("!H", ip, 10, ipsum(bytes(ip)))
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          0x50, flags, 65535, 0, 0)
        frame = MAC + bytes(ip) + tcp + payload
        sec = int(ts)
        self.buf.append(struct.pack("<IIII", sec, int(round((ts - sec) * 1e6)), len(frame),
                                    len(frame)) + frame)
        self.n += 1
        if len(self.buf) >= 4096:
            self.flush()

    def raw(self, rec):
        self.buf.append(rec)
        self.n += 1
        if len(self.buf) >= 4096:
            self.flush()

    def flush(self):
        self.f.write(b"".join(self.buf))
        self.buf = []

    def close(self):
        self.flush()
        size = self.f.tell()
        self.f.close()
        return size


SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


class Conn:
    """One TCP connection: handshake on open, data in MSS segments, FIN on close."""

    def __init__(self, pc, t, client, cport, server=SERVER, sport=80, handshake=True):
        self.pc, self.t = pc, t
        self.c, self.s, self.cp, self.sp = client, server, cport, sport
        self.cseq, self.sseq = 1000 + cport * 7, 500000 + cport * 13
        if handshake:
            pc.pkt(self.tick(), client, server, cport, sport, self.cseq, 0, SYN)
            pc.pkt(self.tick(), server, client, sport, cport, self.sseq, self.cseq + 1, SYN | ACK)
            self.cseq += 1
            self.sseq += 1
            pc.pkt(self.tick(), client, server, cport, sport, self.cseq, self.sseq, ACK)

    def tick(self, dt=0.0001):
        self.t += dt
        return self.t

    def send(self, from_client, data, dt=0.0001):
        for i in range(0, len(data), MSS):
            seg = data[i:i + MSS]
            if from_client:
                self.pc.pkt(self.tick(dt), self.c, self.s, self.cp, self.sp, self.cseq, self.sseq,
                            PSH | ACK, seg)
                self.cseq += len(seg)
            else:
                self.pc.pkt(self.tick(dt), self.s, self.c, self.sp, self.cp, self.sseq, self.cseq,
                            PSH | ACK, seg)
                self.sseq += len(seg)

    def close(self):
        pc = self.pc
        pc.pkt(self.tick(), self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, FIN | ACK)
        pc.pkt(self.tick(), self.s, self.c, self.sp, self.cp, self.sseq, self.cseq + 1, FIN | ACK)
        pc.pkt(self.tick(), self.c, self.s, self.cp, self.sp, self.cseq + 1, self.sseq + 1, ACK)
        return self.t


def request(method, path, host, extra=b"", body=b""):
    return (method.encode() + b" " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() +
            b"\r\nUser-Agent: hostile-gen/1\r\nAccept: application/json\r\n" + extra + b"\r\n" + body)


def response(status=200, reason=b"OK", body=b'{"ok":true}', ctype=b"application/json", extra=b""):
    return (b"HTTP/1.1 " + str(status).encode() + b" " + reason + b"\r\nContent-Type: " + ctype +
            b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def legit(pc, t, path, cport):
    c = Conn(pc, t, LEGIT_C, cport)
    c.send(True, request("GET", path, "legit.test"))
    c.send(False, response())
    return c.close() + 0.01


def scenario(out, name, attack):
    pc = Pcap(os.path.join(out, name + ".pcap"))
    t = legit(pc, 1700000000.0, "/legit/before", 40001)
    t = attack(pc, t + 0.1)
    legit(pc, t + 0.1, "/legit/after", 40002)
    size = pc.close()
    print(f"{name}.pcap {pc.n} packets {size} bytes")


def synflood(pc, t):
    """1,000,000 SYNs, each from its own source address (100.64.0.0/12) and port."""
    n = 1_000_000
    tmpl = bytearray(MAC + struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0x4000, 64, 6, 0,
                                       b"\0\0\0\0", bytes(SERVER)) +
                     struct.pack("!HHIIBBHHH", 0, 80, 0, 0, 0x50, SYN, 65535, 0, 0))
    base = sum(struct.unpack("!10H", bytes(tmpl[14:34])))
    for i in range(n):
        a, b, c = 64 + (i >> 16), (i >> 8) & 0xFF, i & 0xFF
        struct.pack_into("!BBBB", tmpl, 26, 100, a, b, c)
        s = base + ((100 << 8) | a) + ((b << 8) | c)
        s = (s >> 16) + (s & 0xFFFF)
        s += s >> 16
        struct.pack_into("!H", tmpl, 24, (~s) & 0xFFFF)
        struct.pack_into("!HHI", tmpl, 34, 1024 + i % 60000, 80, i * 2654435761 & 0xFFFFFFFF)
        ts = t + i * 1e-5
        sec = int(ts)
        pc.raw(struct.pack("<IIII", sec, int((ts - sec) * 1e6), 54, 54) + bytes(tmpl))
    return t + n * 1e-5


def slowloris(pc, t):
    """200 connections, one request head each that never ends: connections 0-99
    send 700-byte header lines (150 of them: past max_header_bytes first), 100-199
    short ones (300 of them: past max_headers first). A line every 10 ms."""
    conns = [Conn(pc, t + i * 0.001, (EVIL_C[0], EVIL_C[1], 1, i), 50000 + i) for i in range(200)]
    for c in conns:
        c.send(True, b"GET /slow HTTP/1.1\r\nHost: evil.test\r\n")
    pad = b"s" * 680
    for k in range(300):
        for i, c in enumerate(conns):
            if i < 100 and k >= 150:
                continue
            c.t = max(c.t, t + 0.3 + k * 0.01)
            line = b"X-Slow-%d: %s\r\n" % (k, pad if i < 100 else b"%d" % k)
            c.send(True, line, dt=0.00001)
    return max(c.t for c in conns)


def pipeline(pc, t):
    c = Conn(pc, t, EVIL_C, 51000)
    reqs = b"".join(request("GET", "/pipe/%d" % i, "evil.test") for i in range(10000))
    c.send(True, reqs, dt=0.00001)
    return c.t


def smuggling(pc, t):
    cases = [
        # CL.TE: a front end by Content-Length, a back end by chunked
        (request("POST", "/smuggle/clte", "evil.test",
                 b"Content-Length: 13\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\nSMUGGLED"),
         response(200) + response(405, b"Method Not Allowed")),
        # TE.CL: chunked first, a short Content-Length after
        (request("POST", "/smuggle/tecl", "evil.test",
                 b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                 b"5c\r\nGPOST /smuggled HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n"),
         response(200)),
        # duplicate Content-Length with different values
        (request("POST", "/smuggle/dupcl", "evil.test",
                 b"Content-Length: 0\r\nContent-Length: 44\r\n",
                 b"GET /smuggled/dupcl HTTP/1.1\r\nHost: evil.test\r\n\r\n"),
         response(400, b"Bad Request")),
    ]
    for i, (req, resp) in enumerate(cases):
        c = Conn(pc, t, EVIL_C, 52000 + i)
        c.send(True, req)
        c.send(False, resp)
        t = c.close() + 0.01
    return t


def overlap(pc, t):
    """50 connections: the request minus its first 2 bytes arrives first (held out
    of order), then the whole request again with other bytes in the same place
    (`/evilpth/N` for `/overlap/N`): the first bytes seen are kept. Then a
    retransmission of already delivered bytes, changed, and the answer."""
    for i in range(50):
        c = Conn(pc, t, EVIL_C, 53000 + i)
        req = request("GET", "/overlap/%d" % i, "evil.test")
        evil = request("GET", "/evilpth/%d" % i, "evil.test")
        assert len(evil) == len(req)
        pc.pkt(c.tick(), c.c, c.s, c.cp, c.sp, c.cseq + 2, c.sseq, PSH | ACK, req[2:])
        pc.pkt(c.tick(), c.c, c.s, c.cp, c.sp, c.cseq, c.sseq, PSH | ACK, evil)
        c.cseq += len(req)
        pc.pkt(c.tick(), c.c, c.s, c.cp, c.sp, c.cseq - 10, c.sseq, PSH | ACK, b"Z" * 10)
        c.send(False, response())
        t = c.close() + 0.01
    return t


def gzipbomb(pc, t):
    z = zlib.compressobj(9, zlib.DEFLATED, 31)          # gzip wrapper
    chunk = bytes(1 << 20)
    parts = [z.compress(chunk) for _ in range(1024)]     # 1 GiB of zeros
    body = b"".join(parts) + z.flush()
    c = Conn(pc, t, EVIL_C, 54000)
    c.send(True, request("GET", "/bomb", "evil.test", b"Accept-Encoding: gzip\r\n"))
    c.send(False, response(200, body=body, ctype=b"application/octet-stream",
                           extra=b"Content-Encoding: gzip\r\n"))
    return c.close()


def longline(pc, t):
    c = Conn(pc, t, EVIL_C, 55000)
    c.send(True, b"GET /" + b"A" * (1 << 20) + b" HTTP/1.1\r\nHost: evil.test\r\n\r\n")
    c.send(False, response(414, b"URI Too Long"))
    return c.close()


def deeppaths(pc, t):
    import random
    rnd = random.Random(8)
    c = Conn(pc, t, EVIL_C, 56000)
    for i in range(1000):
        if i < 500:
            path = "/q/" + "/".join(chr(98 + rnd.randrange(24)) for _ in range(4000))
        else:
            path = "/n/" + "/".join(str(rnd.randrange(10)) for _ in range(4000))
        c.send(True, request("GET", path, "evil.test"))
        c.send(False, response())
    return c.close()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, fn in (("baseline", lambda pc, t: t), ("synflood", synflood), ("slowloris", slowloris), ("pipeline", pipeline),
                     ("smuggling", smuggling), ("overlap", overlap), ("gzipbomb", gzipbomb),
                     ("longline", longline), ("deeppaths", deeppaths)):
        scenario(out, name, fn)


if __name__ == "__main__":
    main()
