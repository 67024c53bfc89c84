#!/usr/bin/env python3
"""A stand-in for Elasticsearch on loopback that answers one request with a huge body.

    big-body-server.py PORT-FILE LOG MODE [MIB]

Listens on 127.0.0.1 (a free port, written to PORT-FILE once listening) and appends
"METHOD PATH" for each request to LOG. GET / answers like Elasticsearch 9.1.3. MODE says which
answer is huge (MIB mebibytes, default 200), streamed so that the server holds none of it:

  list-length   GET /_connector: a body announced whole by Content-Length
  list-chunked  GET /_connector: a chunked body, its length known only at its end
  doc-chunked   GET /_connector lists one connector, "team-old-00000"; GET of that connector
                answers a chunked body (the document the backup needs)

Anything else: 404. DELETE /_connector/ID answers {"acknowledged": true}, so that a test sees any
DELETE that should not have come in LOG.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT_FILE, LOG, MODE = sys.argv[1:4]
SIZE = int(sys.argv[4] if len(sys.argv) > 4 else 200) * 1024 * 1024
CHUNK = 1024 * 1024
ID = "team-old-00000"

INFO = {
    "name": "stand-in",
    "cluster_name": "stand-in",
    "cluster_uuid": "AAAAAAAAAAAAAAAAAAAAAA",
    "version": {"number": "9.1.3", "build_flavor": "default"},
    "tagline": "You Know, for Search",
}
DOC = {"id": ID, "name": ID, "index_name": "search-" + ID, "service_type": "google_drive"}


def huge_parts():
    """The huge body in CHUNK pieces: a JSON object whose one string runs on."""
    head = b'{"count":1,"results":[{"id":"' + ID.encode() + b'","name":"'
    yield head
    left = SIZE - len(head)
    block = b"x" * CHUNK
    while left > 0:
        n = min(left, CHUNK)
        yield block[:n]
        left -= n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("X-elastic-product", "Elasticsearch")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_huge(self, chunked):
        self.send_response(200)
        self.send_header("X-elastic-product", "Elasticsearch")
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        try:
            for part in huge_parts():
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
                else:
                    self.wfile.write(part)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def handle_one(self):
        path = self.path.split("?", 1)[0]
        with open(LOG, "a") as f:
            f.write("%s %s\n" % (self.command, path))
        if self.command == "GET" and path == "/":
            return self.send_json(200, INFO)
        if self.command == "GET" and path == "/_connector":
            if MODE == "doc-chunked":
                return self.send_json(200, {"count": 1, "results": [DOC]})
            return self.send_huge(MODE == "list-chunked")
        if self.command == "GET" and path == "/_connector/" + ID and MODE == "doc-chunked":
            return self.send_huge(True)
        if self.command == "DELETE" and path.startswith("/_connector/"):
            return self.send_json(200, {"acknowledged": True})
        return self.send_json(404, {"error": "no such thing", "status": 404})

    do_GET = do_DELETE = do_PUT = do_POST = handle_one


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORT_FILE + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
