"""A real HTTP server on 127.0.0.1 in a thread, for tests: it records what it is sent.

    with LoopbackServer() as server:                  # or the fixture in a test module
        server.reply = Reply(200, b'{"ok": true}')     # one answer for every request...
        server.routes["/slow"] = Reply(hang=True)      # ...or one per path (without query)
        ...  # send requests to server.url("/path"); server.host is "127.0.0.1:PORT"
        assert server.requests[-1].path == "/path"

Faults a test can ask for: any status, a redirect (``Reply.redirect(to)``), a body of
``size`` bytes streamed with or without a Content-Length, an answer that never comes
(``hang``, released when the server closes) and one that trickles a byte at a time.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

CHUNK = 65536


@dataclass(frozen=True)
class Request:
    """One request as the server saw it: the raw request target, headers and body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """What the server answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    """Stream this many bytes of filler instead of ``body``."""
    content_length: bool = True
    """Send a Content-Length (else the body ends when the connection closes)."""
    hang: bool = False
    """Never answer (until the server closes)."""
    trickle_s: float | None = None
    """Send the body one byte per this many seconds."""
    trickle_headers: bool = False
    """With ``trickle_s``: the status line and headers come a byte at a time too."""

    @staticmethod
    def redirect(to: str, status: int = 302) -> Reply:
        return Reply(status, headers={"Location": to})

    @staticmethod
    def json(data: Any, status: int = 200) -> Reply:
        import json

        return Reply(status, json.dumps(data).encode(), {"Content-Type": "application/json"})


class LoopbackServer:
    """A threading HTTP server on a free loopback port; close() ends it and any hang."""

    def __init__(self, reply: Reply | None = None):
        self.reply = reply or Reply(200, b"ok", {"Content-Type": "text/plain"})
        self.routes: dict[str, Reply] = {}
        self.requests: list[Request] = []
        self.closing = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(Request(self.command, self.path,
                                               dict(self.headers.items()), body))
                reply = server.routes.get(self.path.split("?")[0], server.reply)
                if reply.hang:
                    server.closing.wait(60)
                    return
                with contextlib.suppress(OSError):  # a client with a size cap hangs up
                    self._send(reply)

            def _send(self, reply: Reply) -> None:
                total = reply.size if reply.size is not None else len(reply.body)
                if reply.trickle_headers and reply.trickle_s is not None:
                    head = f"HTTP/1.1 {reply.status} OK\r\nX-Slow: " + "x" * 2000
                    for byte in head.encode():
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        if server.closing.wait(reply.trickle_s):
                            return
                    return
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.content_length:
                    self.send_header("Content-Length", str(total))
                self.end_headers()
                if reply.trickle_s is not None:
                    for byte in (reply.body or b"x" * total):
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        if server.closing.wait(reply.trickle_s):
                            return
                elif reply.size is not None:
                    sent = 0
                    while sent < total and not server.closing.is_set():
                        n = min(CHUNK, total - sent)
                        self.wfile.write(b"x" * n)
                        sent += n
                else:
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port: int = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}{path}"

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
