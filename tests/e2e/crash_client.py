#!/usr/bin/env python3
"""Steady HTTP traffic for test_crash.sh, every request's times logged.

Talks to the sample API server on 127.0.0.1:PORT until STOPFILE exists, on
keep-alive connections of --per-conn requests each. While PAUSEFILE exists it
sends nothing and holds no connection open (so that every request sent after
it is gone is on a connection opened after it was removed). Every request goes to one
of --hosts virtual hosts with a few query parameter names out of a pool of 64,
so that each flush of the agent writes many distinct endpoints and values.

One line per completed request (status 2xx/4xx, response read to the end):
    CONN_START REQ_START REQ_END
wall-clock seconds (time.time(), the clock `date +%s.%N` reads): when its
connection was opened (before the SYN), when the request was sent, when the
whole response had arrived. A request sent whose response did not come is
logged as "F CONN_START REQ_START" (the agent may have seen it). The log is
flushed every 0.1 s; STOPFILE.done is made once it is complete."""
import argparse
import http.client
import os
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=8080)
ap.add_argument("--log", required=True)
ap.add_argument("--stop", required=True)
ap.add_argument("--pause", required=True)
ap.add_argument("--hosts", type=int, default=3000)
ap.add_argument("--per-conn", type=int, default=20)
a = ap.parse_args()

out = open(a.log, "w")
i = 0
last_flush = time.time()
while not os.path.exists(a.stop):
    if os.path.exists(a.pause):
        time.sleep(0.001)
        continue
    conn_start = time.time()
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
    t0 = None
    try:
        c.connect()
        for _ in range(a.per_conn):
            if os.path.exists(a.pause):
                break
            h = i % a.hosts
            names = "&".join(f"p{(i * 7 + 13 * j) % 64}=1" for j in range(4))
            hdr = {"Host": f"h{h}.crash.test"}
            if i % 5 == 4:
                method, path, body = "POST", "/api/v1/orders", b'{"sku":"SKU-1"}'
                hdr["Content-Type"] = "application/json"
            else:
                method, path, body = "GET", f"/api/v1/users/{i}?{names}", None
            t0 = time.time()
            c.request(method, path, body=body, headers=hdr)
            r = c.getresponse()
            r.read()
            t1 = time.time()
            out.write(f"{conn_start:.6f} {t0:.6f} {t1:.6f}\n")
            t0 = None
            i += 1
            if t1 - last_flush > 0.1:
                out.flush()
                last_flush = t1
    except (OSError, http.client.HTTPException):
        if t0 is not None:
            out.write(f"F {conn_start:.6f} {t0:.6f}\n")
        time.sleep(0.01)
    finally:
        c.close()
out.close()
open(a.stop + ".done", "w").close()
