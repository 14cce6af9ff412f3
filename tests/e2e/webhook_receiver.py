#!/usr/bin/env python3
"""webhook_receiver.py - the project's own small Standard Webhooks receiver for
the push tests (Python 3 standard library only).

Listens on 127.0.0.1:PORT (0: any free port, written to --port-file), verifies
each POST's webhook-signature with the secret and appends one JSON line per
request to --log: {"id", "timestamp", "signature", "valid", "status", "body",
"headers"}. Modes:
  --fail-status CODE --fail-count N   answer CODE to the first N requests
  --fail-status CODE --fail-while F   answer CODE while file F exists
  --retry-after V                     add "Retry-After: V" to those answers
  --delay S                           sleep S seconds before answering (after logging)
Anything else is answered 204. The request is logged before the answer, so a
client killed while waiting leaves a logged request that it did not see
answered.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time


def signing_key(raw: bytes) -> bytes:
    raw = raw.rstrip(b"\r\n")
    if raw.startswith(b"whsec_"):
        return base64.b64decode(raw[6:] + b"=" * (-len(raw[6:]) % 4))
    return raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fail-status", type=int, default=0)
    ap.add_argument("--fail-count", type=int, default=0)
    ap.add_argument("--fail-while")
    ap.add_argument("--retry-after")
    ap.add_argument("--delay", type=float, default=0.0)
    a = ap.parse_args()
    key = signing_key(open(a.secret_file, "rb").read())
    lock = threading.Lock()
    state = {"n": 0}

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(n)
            wid = self.headers.get("webhook-id", "")
            ts = self.headers.get("webhook-timestamp", "")
            sig = self.headers.get("webhook-signature", "")
            mac = hmac.new(key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
            expected = "v1," + base64.b64encode(mac).decode()
            valid = any(hmac.compare_digest(expected, s) for s in sig.split(" "))
            with lock:
                state["n"] += 1
                k = state["n"]
            status = 204
            if a.fail_status and (k <= a.fail_count or
                                  (a.fail_while and os.path.exists(a.fail_while))):
                status = a.fail_status
            rec = {"id": wid, "timestamp": ts, "signature": sig, "valid": valid,
                   "status": status, "received": time.time(),
                   "content_type": self.headers.get("content-type", ""),
                   "headers": {h.lower(): v for h, v in self.headers.items()},
                   "body": body.decode("utf-8", "replace")}
            with lock, open(a.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
            if a.delay:
                time.sleep(a.delay)
            self.send_response(status)
            if status != 204 and a.retry_after:
                self.send_header("Retry-After", a.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), H)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
