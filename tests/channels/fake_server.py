"""A recording HTTP server on 127.0.0.1 that fake providers build on (like fake_telegram.py).

Each request is recorded with its exact body and headers. `fail_next()` scripts the next answers of a
route (a path prefix); otherwise the subclass's `respond()` answers as the provider documents.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


Answer = tuple[int, dict[str, str], bytes]


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: deque[tuple[str, Answer]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self.forget()

    def forget(self) -> None:
        """Subclasses drop their own state here."""

    def fail_next(
        self, status: int, body: Any, *, route: str = "", headers: dict[str, str] | None = None
    ) -> None:
        """The next request whose path starts with `route` gets this answer instead of the usual one."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        content_type = "text/plain" if isinstance(body, bytes) else "application/json"
        with self._lock:
            self._script.append((route, (status, {"Content-Type": content_type, **(headers or {})}, raw)))

    def to(self, route: str) -> list[Recorded]:
        with self._lock:
            return [request for request in self.requests if request.path.startswith(route)]

    def handle(self, request: Recorded) -> Answer:
        with self._lock:
            self.requests.append(request)
            for index, (route, answer) in enumerate(self._script):
                if request.path.startswith(route):
                    del self._script[index]
                    return answer
        return self.respond(request)

    def respond(self, request: Recorded) -> Answer:
        return json_answer(404, {"error": "not found"})


def _handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            request = Recorded(
                method=self.command,
                path=parts.path,
                query={key: values[-1] for key, values in parse_qs(parts.query).items()},
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            status, headers, body = fake.handle(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    return Handler
