#!/usr/bin/python3
# Serves the bare Git repositories under a folder over Git's smart HTTP protocol, on 127.0.0.1, by
# running `git http-backend` as a CGI: test equipment (tests/git-lib.sh starts it). Standard library
# only. Runs in the foreground until SIGTERM or SIGINT (exit 0).
#
# Usage: git-http-server.py --root DIR [OPTION...]
#   --root DIR            the folder of the bare repositories (GIT_PROJECT_ROOT; all exported)
#   --port N              the port to listen on (default 0: one the system picks)
#   --port-file FILE      once listening, write the port there (written whole: a new file renamed)
#   --tls-cert FILE       serve HTTPS with this certificate (PEM, chain allowed) ...
#   --tls-key FILE        ... and this key
#   --token-file FILE     every request needs HTTP basic authentication whose password is the file's
#                         content (less one trailing newline; read again for each request, so a test
#                         can change the token), any user name; otherwise 401 with
#                         `WWW-Authenticate: Basic realm="git"`. The user name is the CGI's REMOTE_USER
#                         (which lets http-backend accept pushes).
#   --log FILE            one line per request: "METHOD PATH STATUS auth=none|ok|bad" (appended). PATH
#                         has the query's values other than service= replaced by "*"; STATUS is
#                         "stall" for a request --stall holds, "-" when no answer could be sent. auth
#                         is none when no Authorization header came or no --token-file was given, ok
#                         when the password matched, bad otherwise. No secret is ever written.
#   --stall               accept connections and read each request (TLS handshake, headers and
#                         body), but never answer: for timeout tests
#   --fail-status N       answer every request with status N (before authentication)
#   --parent-pid PID      exit when that process is gone (checked twice a second)
import argparse
import base64
import binascii
import hmac
import http.server
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

STOP = threading.Event()  # never set: what a stalled request waits for
LOG_LOCK = threading.Lock()
# Request headers not given to the CGI as HTTP_*: the secret, those it has as CONTENT_*, the framing
# undone here (it reads a plain body), and httpoxy.
NOT_PASSED = {"HTTP_AUTHORIZATION", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING",
              "HTTP_PROXY"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # for Expect: 100-continue; every answer still closes the connection
    timeout = 120  # a client silent this long is dropped
    opts = None
    log_file = None

    def handle(self):
        try:
            if isinstance(self.connection, ssl.SSLSocket):
                self.connection.do_handshake()  # here, in the request's thread, not in accept()
            super().handle()
        except (OSError, ValueError):
            pass  # a failed handshake, a client gone, bad chunk sizes (ssl.SSLError is an OSError)

    def log_message(self, *args):
        pass  # our own log only

    def do_GET(self):
        self.serve()

    do_POST = do_HEAD = do_GET

    def serve(self):
        self.close_connection = True
        path, _, query = self.path.partition("?")
        auth = self.check_auth()
        status = "-"
        try:
            body = self.read_body()
            if self.opts.stall:
                status = "stall"
                self.write_log(path, query, status, auth)
                STOP.wait()
            if self.opts.fail_status:
                status = self.answer(self.opts.fail_status, "failure %d\n" % self.opts.fail_status)
            elif self.opts.token_file and auth != "ok":
                challenge = {"WWW-Authenticate": 'Basic realm="git"'}
                status = self.answer(401, "authentication required\n", challenge)
            else:
                status = self.run_backend(path, query, body)
        finally:
            if status != "stall":
                self.write_log(path, query, status, auth)

    def check_auth(self):
        """none, ok or bad; sets self.user to the user name when ok."""
        self.user = None
        header = self.headers.get("Authorization")
        if not self.opts.token_file or header is None:
            return "none"
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return "bad"
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return "bad"
        if not sep or not hmac.compare_digest(password, read_token(self.opts.token_file)):
            return "bad"
        self.user = user.decode("utf-8", "replace")
        return "ok"

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after the chunk
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, status, text, headers=None):
        data = text.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status

    def run_backend(self, path, query, body):
        env = dict(os.environ)
        env.update({
            "GIT_PROJECT_ROOT": os.path.abspath(self.opts.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": self.command,
            "QUERY_STRING": query,
            "PATH_INFO": urllib.parse.unquote(path),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
        })
        if self.user is not None:
            env["REMOTE_USER"] = self.user
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        for name, value in self.headers.items():  # as CGI does: HTTP_CONTENT_ENCODING (gzip) among them
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in NOT_PASSED:
                env[key] = value
        proc = subprocess.Popen(["git", "http-backend"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env=env)
        writer = threading.Thread(target=feed, args=(proc.stdin, body), daemon=True)
        writer.start()
        try:
            status, reason, headers = 200, None, []
            for line in iter(proc.stdout.readline, b""):
                line = line.rstrip(b"\r\n").decode("latin-1")
                if not line:
                    break
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    code, _, reason = value.strip().partition(" ")
                    status = int(code)
                else:
                    headers.append((name, value.strip()))
            self.send_response(status, reason or None)
            for name, value in headers:
                self.send_header(name, value)
            # The body is chunked so that its end is seen without the connection's: TLS clients
            # complain when it ends with no close_notify (which Python's ssl does not send).
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            while True:
                data = proc.stdout.read1(65536)
                if self.command != "HEAD":
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if data else b"0\r\n\r\n")
                if not data:
                    return status
        finally:
            proc.stdout.close()
            proc.wait()
            writer.join()

    def write_log(self, path, query, status, auth):
        if not self.log_file:
            return
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        shown = "&".join("%s=%s" % (k, v if k == "service" else "*") for k, v in pairs)
        line = "%s %s%s %s auth=%s\n" % (self.command, path, "?" + shown if shown else "", status, auth)
        with LOG_LOCK:
            self.log_file.write(line)


def read_token(path):
    with open(path, "rb") as f:
        token = f.read()
    return token[:-1] if token.endswith(b"\n") else token


def feed(pipe, body):
    try:
        pipe.write(body)
        pipe.close()
    except OSError:
        pass  # http-backend stopped reading: its answer says why


def watch_parent(pid):
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass


def main():
    p = argparse.ArgumentParser(description="Git smart HTTP(S) on 127.0.0.1, for tests")
    p.add_argument("--root", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--token-file")
    p.add_argument("--log")
    p.add_argument("--stall", action="store_true")
    p.add_argument("--fail-status", type=int)
    p.add_argument("--parent-pid", type=int)
    opts = p.parse_args()
    if not os.path.isdir(opts.root):
        p.error("--root %s: not a folder" % opts.root)
    if bool(opts.tls_cert) != bool(opts.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if opts.fail_status is not None and not 100 <= opts.fail_status <= 599:
        p.error("--fail-status must be an HTTP status (100 to 599)")

    Handler.opts = opts
    if opts.token_file:
        read_token(opts.token_file)  # there and readable now
    if opts.log:
        Handler.log_file = open(opts.log, "a", buffering=1)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    if opts.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    if opts.parent_pid:
        threading.Thread(target=watch_parent, args=(opts.parent_pid,), daemon=True).start()
    if opts.port_file:
        with open(opts.port_file + ".new", "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(opts.port_file + ".new", opts.port_file)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
