#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from ../shared/corpus and the repo.

  make_seeds.py TARGET OUTDIR [CORPUS]

capture  every corpus capture (pcap, pcapng) of at most 128 KB, as it is
http     the TCP streams of the corpus captures that carry HTTP: one seed per
         connection, CTRL + client bytes + "\\0\\xffRS" + server bytes (see
         fuzz_http.c), with a few CTRL values (chunking, gaps, FIN)
config   the example config of systemd/ and a few small ones
spec     the corpus specs (OpenAPI, Swagger; JSON and YAML)
rules    the corpus CODEOWNERS files and Backstage catalogs, the project's fixtures
Python 3 standard library only; classic pcap (Ethernet, raw IP, Linux SLL)
with IPv4 or IPv6 for the stream extraction."""
import hashlib
import os
import struct
import sys

target, out = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
src = os.path.normpath(os.path.join(here, "..", ".."))
corpus = sys.argv[3] if len(sys.argv) > 3 else os.path.join(src, "..", "shared", "corpus")
os.makedirs(out, exist_ok=True)


def put(data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def captures():
    root = os.path.join(corpus, "pcap")
    for d, _, files in sorted(os.walk(root)):
        for n in sorted(files):
            if n.endswith((".pcap", ".pcapng", ".cap", ".trace")):
                yield os.path.join(d, n)


def packets(path):
    """(linktype, frame) of a classic pcap file; nothing for pcapng."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield linktype, data[off:off + caplen]
        off += caplen


def l3(linktype, fr):
    if linktype == 1:                       # Ethernet, 802.1Q
        off, et = 14, fr[12:14]
        while et == b"\x81\x00" and len(fr) >= off + 4:
            et, off = fr[off + 2:off + 4], off + 4
        return fr[off:] if et in (b"\x08\x00", b"\x86\xdd") else None
    if linktype in (101, 12, 14):           # raw IP
        return fr
    if linktype == 113:                     # Linux SLL
        return fr[16:]
    if linktype == 0:                       # BSD loopback
        return fr[4:]
    return None


def tcp(ip):
    if len(ip) < 20:
        return None
    v = ip[0] >> 4
    if v == 4:
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6:
            return None
        src, dst, seg = ip[12:16], ip[16:20], ip[ihl:]
    elif v == 6 and len(ip) >= 40:
        if ip[6] != 6:
            return None
        src, dst, seg = ip[8:24], ip[24:40], ip[40:]
    else:
        return None
    if len(seg) < 20:
        return None
    sp, dp, seq = struct.unpack(">HHI", seg[:8])
    flags = seg[13]
    return (src, sp), (dst, dp), seq, flags, seg[(seg[12] >> 4) * 4:]


def streams(path):
    flows = {}
    for lt, fr in packets(path):
        ip = l3(lt, fr)
        t = ip and tcp(ip)
        if not t:
            continue
        a, b, seq, flags, payload = t
        key = tuple(sorted((a, b)))
        fl = flows.setdefault(key, {"client": None, "segs": {a: {}, b: {}}})
        if flags & 0x02 and not flags & 0x10:   # SYN: its sender is the client
            fl["client"] = a
        if payload:
            if fl["client"] is None:
                fl["client"] = a
            fl["segs"].setdefault(a, {}).setdefault(seq, payload)
    for fl in flows.values():
        if fl["client"] is None:
            continue
        c = fl["client"]
        s = [k for k in fl["segs"] if k != c]

        def join(segs):
            return b"".join(segs[k] for k in sorted(segs))[:65536]

        req = join(fl["segs"].get(c, {}))
        resp = join(fl["segs"][s[0]]) if s else b""
        if b"HTTP/" in req[:4096] or b"HTTP/" in resp[:16]:
            yield req, resp


if target == "capture":
    for p in captures():
        if os.path.getsize(p) <= 131072:
            with open(p, "rb") as f:
                put(f.read())
elif target == "http":
    n = 0
    for p in captures():
        for req, resp in streams(p):
            if len(req) + len(resp) > 200000:
                continue
            ctrl = (0x0f, 0x00, 0x13, 0x84, 0x2a, 0x45)[n % 6]
            put(bytes([ctrl]) + req + b"\x00\xffRS" + resp)
            n += 1
    put(b"\x0fGET /a HTTP/1.1\r\nHost: x\r\n\r\n\x00\xffRSHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
elif target == "config":
    with open(os.path.join(src, "systemd", "apiroster.conf.example"), "rb") as f:
        put(f.read())
    put(b"[limits]\nmax_flows = 10\nflow_timeout = 30s\nooo_bytes = 64KiB\n")
    put(b"[inventory]\ndb = /tmp/x.db\nflush_interval = 5s\n[capture]\nfilter = tcp port 80\n")
    put(b"[templates]\npin = api.test /users/{id}\npin = /orders/{orderId}/items\n")
elif target == "spec":
    # the corpus specs (the first byte picks the file name: odd .json, even .yaml)
    for d, _, files in sorted(os.walk(os.path.join(corpus, "specs"))):
        for n in sorted(files):
            p = os.path.join(d, n)
            if os.path.getsize(p) <= 262143:
                with open(p, "rb") as f:
                    put(bytes([1 if n.endswith(".json") else 0]) + f.read())
    put(b"\0openapi: 3.0.0\npaths:\n  /a/{x}.json: {get: {deprecated: true}}\n  /b: {$ref: 'f.yaml#/paths/~1a~1{x}.json'}\n")
elif target == "rules":
    for sub in ("ownership/codeowners", "ownership/backstage"):
        for d, _, files in sorted(os.walk(os.path.join(corpus, sub))):
            for n in sorted(files):
                with open(os.path.join(d, n), "rb") as f:
                    put(f.read())
    for n in ("OWNERS", "catalog-info.yaml"):
        with open(os.path.join(src, "tests", "fixtures", "truth", "owners", n), "rb") as f:
            put(f.read())
    put(b"10.0.0.0/8:8080 @net\n*.shop.test @shop\n[2001:db8::]/32:443 team\n")
else:
    sys.exit(f"unknown target {target}")
print(f"{target}: {len(os.listdir(out))} seeds in {out}")
