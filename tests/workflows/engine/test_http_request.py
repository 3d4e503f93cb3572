"""HTTP Request through the outbox relay (WF-STEP-HTTP-01/02/03)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.worker.http_executor import HttpExecutor
from tests.workflows.engine.support import OPENED, Harness, definition, step

SEEN: list[dict[str, object]] = []


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        SEEN.append({"path": self.path, "body": json.loads(body), "key": self.headers.get("Idempotency-Key")})
        if self.path.startswith("/fail"):
            self.send_response(500)
            self.end_headers()
            return
        payload = json.dumps({"data": {"plan": "Pro", "items": [{"sku": "A1"}]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    SEEN.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _flow(url: str, *, failure_branch: bool) -> dict[str, object]:
    return definition(
        OPENED,
        step(
            "s1",
            "http_request",
            {
                "method": "POST",
                "url": url,
                "body_type": "json",
                "body": '{"name": "$contact.firstname"}',
                "mappings": [
                    {"path": "$.data.plan", "variable": "plan"},
                    {"path": "$.data.items[0].sku", "variable": "sku"},
                ],
                "status_variable": "status",
                "failure_branch": failure_branch,
            },
            next="s2",
            **({"failure": "s3"} if failure_branch else {}),
        ),
        step("s2", "send_message", {"text": "Plan $var.plan ($var.sku, $var.status)"}),
        *([step("s3", "send_message", {"text": "Falló: $var.last_error"})] if failure_branch else []),
    )


def test_response_mapping_feeds_later_steps(session: Session, container: Container, server: str) -> None:
    h = Harness(session, container)
    h.engine = container.engine(http=HttpExecutor(allow_internal=True))
    h.publish(_flow(f"{server}/ok", failure_branch=False))
    h.inbound("visitor-1", "hola", first_name='Ana "la" Ñ')
    h.drain()
    assert h.sent_texts() == ["Plan Pro (A1, 200)"]
    assert SEEN[0]["body"] == {"name": 'Ana "la" Ñ'}  # WF-STEP-HTTP-02: JSON-escaped
    assert str(SEEN[0]["key"]).count(":") == 2  # WF-STEP-HTTP-03: Idempotency-Key run:seq:attempt


def test_failure_takes_the_failure_branch(session: Session, container: Container, server: str) -> None:
    h = Harness(session, container)
    h.engine = container.engine(http=HttpExecutor(allow_internal=True))
    h.publish(_flow(f"{server}/fail", failure_branch=True))
    h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == ["Falló: HTTP status 500"]


def test_internal_targets_are_blocked_by_default(session: Session, container: Container, server: str) -> None:
    # WF-STEP-HTTP-03: loopback refused unless the instance allows internal targets; no call is made
    h = Harness(session, container)
    h.publish(_flow(f"{server}/ok", failure_branch=True))
    h.inbound("visitor-1", "hola")
    h.drain()
    assert SEEN == []
    assert h.sent_texts()[0].startswith("Falló: 127.0.0.1 resolves to a non-public address")


class _Misbehaving(BaseHTTPRequestHandler):
    """/hang never answers in time, /500 fails, /invalid-json lies about its body, /huge sends 10 MB."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/hang":
            time.sleep(3)
            return self._send(200, b"{}")
        if self.path == "/500":
            return self._send(500, b'{"error": "boom"}')
        if self.path == "/invalid-json":
            return self._send(200, b'{"data": {"plan": "Pro"')
        if self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(10 * 2**20))
            self.end_headers()
            chunk = b" " * 2**16
            try:
                for _ in range(160):  # 10 MB, unless the client hangs up first
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        return self._send(404, b"{}")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def misbehaving() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/hang", "No response within 1 s"),
        ("/500", "HTTP status 500"),
        ("/invalid-json", "The response is not valid JSON, so nothing could be mapped"),
        ("/huge", "The response is larger than 1 MB"),
    ],
)
def test_a_misbehaving_server_takes_the_failure_branch_in_bounded_time_WF_STEP_HTTP_01(
    session: Session, container: Container, misbehaving: str, path: str, error: str
) -> None:
    # issue 5 reliability: hang, 500, invalid JSON, 10 MB -> bounded time and memory, failure branch
    h = Harness(session, container)
    flow = _flow(misbehaving + path, failure_branch=True)
    flow["steps"][0]["config"]["timeout_seconds"] = 1  # type: ignore[index]
    workflow = h.publish(flow)
    h.engine = container.engine(http=HttpExecutor(allow_internal=True))
    h.inbound("visitor-1", "hola")
    started = time.monotonic()
    h.drain()
    assert time.monotonic() - started < 2.5  # the 1 s timeout bounds the wait; 10 MB is never read whole
    assert h.sent_texts() == [f"Falló: {error}"]
    [run] = h.runs(workflow.id)
    [call, _failed] = h.steps(run.id)
    assert (call.output, run.end_reason) == ("failure", "completed")
