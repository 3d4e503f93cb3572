"""Outgoing messages as MIME emails, and what an SMTP server's answer means.

Every email has a plain-text part and an HTML alternative: the HTML is the text escaped (links are not
made clickable, line breaks kept), unless an `email` message brings its own HTML. The `Message-ID` is
derived from the outbox idempotency key, so a retried send carries the same id and the recipient's mail
client shows one message. A reply names the message it answers in `In-Reply-To` and `References`.
"""

from __future__ import annotations

import hashlib
import html
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

from convoflow.channels.base import ReplyTarget, SendFailed
from convoflow.channels.email.config import EmailCredentials

MAX_SUBJECT = 200


def message_id(*, channel_id: int, idempotency_key: str, from_address: str) -> str:
    """`<hash@domain>`: the same for every attempt of one outgoing message, unique across channels."""
    digest = hashlib.sha256(f"{channel_id}:{idempotency_key}:{from_address}".encode()).hexdigest()[:40]
    domain = from_address.rpartition("@")[2] or "convoflow.invalid"
    return f"<{digest}@{domain}>"


def text_of(content: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """The text, the author's subject and the author's HTML of a message we can email."""
    kind = content.get("type")
    if kind == "text":
        return str(content["text"]), None, None
    if kind == "email":
        return str(content["text"]), content.get("subject") or None, content.get("html") or None
    if kind == "quick_reply":
        options = "\n".join(f"• {reply}" for reply in content["replies"])
        return f"{content['title']}\n\n{options}", None, None
    if kind == "attachment":
        attachment = content["attachment"]
        lines = [str(content["caption"])] if content.get("caption") else []
        lines.append(f"{attachment.get('name') or 'Attachment'}: {attachment['url']}")
        return "\n\n".join(lines), None, None
    raise SendFailed(f"Email channels cannot send {kind} messages")


def html_of(text: str) -> str:
    """The text as HTML, every character escaped, paragraphs and line breaks kept."""
    paragraphs = [part for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]
    body = "\n".join(f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>" for part in paragraphs)
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'


def subject_of(authored: str | None, credentials: EmailCredentials, reply_to: ReplyTarget | None) -> str:
    """The author's subject; else "Re: " + the subject of the message answered; else the channel's default."""
    if authored:
        return _one_line(authored)
    previous = (reply_to.content.get("subject") if reply_to else None) or ""
    previous = _one_line(str(previous))
    if previous:
        return previous if previous[:3].lower() == "re:" else f"Re: {previous}"
    if credentials.default_subject:
        return _one_line(credentials.default_subject)
    return f"Message from {credentials.from_name or credentials.from_address}"


def build(
    *,
    credentials: EmailCredentials,
    to_address: str,
    to_name: str | None,
    content: dict[str, Any],
    reply_to: ReplyTarget | None,
    message_id: str,
    date: float,
) -> EmailMessage:
    text, authored_subject, authored_html = text_of(content)
    email = EmailMessage()
    email["From"] = formataddr((credentials.from_name or "", credentials.from_address))
    email["To"] = formataddr((to_name or "", to_address))
    email["Subject"] = subject_of(authored_subject, credentials, reply_to)
    email["Date"] = formatdate(date, localtime=False)
    email["Message-ID"] = message_id
    if reply_to is not None and _is_message_id(reply_to.provider_message_id):
        email["In-Reply-To"] = reply_to.provider_message_id
        email["References"] = reply_to.provider_message_id
    email["Auto-Submitted"] = "no"
    email.set_content(text)
    email.add_alternative(authored_html or html_of(text), subtype="html")
    return email


def _one_line(value: str) -> str:
    return " ".join(value.split())[:MAX_SUBJECT]


def _is_message_id(value: str) -> bool:
    return (
        value.startswith("<") and value.endswith(">") and "@" in value and not any(c.isspace() for c in value)
    )
