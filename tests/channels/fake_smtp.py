"""A recording SMTP server on 127.0.0.1 (aiosmtpd) that stands in for a mail provider.

Each accepted message is kept as raw bytes and parsed. `fail_next(reply)` answers the next DATA with the
given SMTP reply ("451 4.3.0 Try later", "550 5.1.1 No such user") instead of accepting it.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def email(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw.replace(b"\r\n", b"\n"))
        assert isinstance(parsed, EmailMessage)
        return parsed


class FakeSmtp:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script: deque[str] = deque()
        self._lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port = _free_port()
        self._controller = Controller(self, hostname=self.host, port=self.port)

    def start(self) -> Self:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self._script.clear()

    def fail_next(self, reply: str) -> None:
        with self._lock:
            self._script.append(reply)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        with self._lock:
            if self._script:
                return self._script.popleft()
            content: Any = envelope.original_content or envelope.content or b""
            raw = content if isinstance(content, bytes) else str(content).encode()
            self.received.append(Received(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], raw))
        return "250 2.0.0 OK queued"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
