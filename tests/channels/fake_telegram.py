"""A fake Telegram Bot API server on 127.0.0.1, answering as https://core.telegram.org/bots/api documents.

Every call is recorded; `fail_next()` scripts the next answer of a method (429, 500, 400...).
Sent messages get increasing message ids, as a real bot's would in one chat.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8"
OTHER_TOKEN = "987654321:AAFakeOtherBotTokenForTests_0123456789"
BOT = {"id": 123456789, "is_bot": True, "first_name": "Convoflow", "username": "convoflow_test_bot"}
UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}


@dataclass(frozen=True)
class Call:
    token: str
    method: str
    params: dict[str, Any]


class FakeTelegram:
    def __init__(self) -> None:
        self.tokens = {TOKEN, OTHER_TOKEN}
        self.calls: list[Call] = []
        self._script: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-telegram", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reset(self) -> None:
        """Forgets calls and scripted answers: one server serves the whole session, clean per test."""
        with self._lock:
            self.calls.clear()
            self._script.clear()
            self._ids = itertools.count(1001)

    def fail_next(self, method: str, status: int, body: dict[str, Any]) -> None:
        with self._lock:
            self._script[method].append((status, body))

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [call.params for call in self.calls if call.method == method]

    @property
    def webhook_secret(self) -> str:
        """The secret token of the last setWebhook: Telegram sends it back with every update."""
        return str(self.calls_to("setWebhook")[-1]["secret_token"])

    def answer(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(token, method, params))
            if token not in self.tokens:
                return 401, UNAUTHORIZED
            if self._script[method]:
                return self._script[method].popleft()
            message_id = next(self._ids) if method.startswith("send") else 0
        return 200, {"ok": True, "result": _result(method, params, message_id)}


def _result(method: str, params: dict[str, Any], message_id: int) -> Any:
    if method == "getMe":
        return BOT
    if method in ("setWebhook", "deleteWebhook"):
        return True
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": 1_790_000_000,
        "chat": {"id": params.get("chat_id"), "type": "private", "first_name": "Ana"},
        "from": BOT,
    }
    if method == "sendMessage":
        message["text"] = params.get("text")
    if method == "sendPhoto":
        message["photo"] = [{"file_id": "AgAD-sent", "file_unique_id": "u", "width": 90, "height": 90}]
    if method == "sendDocument":
        message["document"] = {"file_id": "BQAD-sent", "file_unique_id": "d"}
    if params.get("caption"):
        message["caption"] = params["caption"]
    return message


def _handler(fake: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            _, _, rest = self.path.partition("/bot")
            token, _, method = rest.partition("/")
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            status, body = fake.answer(token, method, json.loads(raw or b"{}"))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    return Handler
