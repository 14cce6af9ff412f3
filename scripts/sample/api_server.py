#!/usr/bin/env python3
"""A small real JSON API for the sample capture (loopback only).

Keep-alive HTTP/1.1, a few resources with ids, a debug route nobody documents,
and 404s for the paths scanners probe."""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROUTES = [
    ("GET", r"/api/v1/users/me", 200),
    ("GET", r"/api/v1/users/(\d+)", 200),
    ("GET", r"/api/v1/users/(\d+)/orders", 200),
    ("GET", r"/api/v1/orders/([0-9a-f-]{36})", 200),
    ("GET", r"/api/v1/orders/([0-9a-f-]{36})/items", 200),
    ("POST", r"/api/v1/orders", 201),
    ("DELETE", r"/api/v1/orders/([0-9a-f-]{36})", 204),
    ("GET", r"/api/v1/products/(SKU-\d+)", 200),
    ("GET", r"/api/v1/reports/daily/(\d{4}-\d{2}-\d{2})", 200),
    ("GET", r"/api/v1/search", 200),
    ("GET", r"/internal/debug/vars", 200),
    ("GET", r"/healthz", 200),
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sample-api/1.0"

    def log_message(self, fmt, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        status = 404
        for method, pattern, code in ROUTES:
            if re.fullmatch(pattern, path):
                status = code if method == self.command else 405
                if method == self.command:
                    break
        body = b"" if status == 204 else json.dumps({"path": path, "status": status}).encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = handle_any


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
