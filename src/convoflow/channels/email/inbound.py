"""A raw RFC 5322 email -> one inbound message, with the standard library's parser (policy=default).

- The sender is the `From` address, lower-cased: the contact's identity (CRM-CHAN table); its display name
  fills a new contact's first and last name, the address its email.
- The `Message-ID` is the provider message id, so a redelivered email is stored once (CRM-CHAN-02); an
  email without one gets `<sha256 of the raw bytes@convoflow.invalid>`, which is just as stable.
- Content is `{"type": "email", "subject", "text"}`: the text/plain body when there is one, else the text
  of the HTML body (tags dropped, entities decoded, scripts and styles skipped). Charsets are decoded as
  declared (unknown or wrong ones with replacement characters). Attachments are not kept: each is listed
  at the end of the text as `[Attachment: name (type, size)]`.
- Auto-replies (RFC 3834 `Auto-Submitted` other than `no`, `Precedence: bulk|auto_reply|list|junk`,
  `X-Autoreply`, `X-Autorespond`) give no message at all: they must never trigger workflows.
"""

from __future__ import annotations

import hashlib
import re
from email import errors, policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

from convoflow.channels.base import InboundItem, InboundMessage, MalformedPayload, SenderProfile

MAX_TEXT = 4096
_STRUCTURE_DEFECTS = (
    errors.NoBoundaryInMultipartDefect,
    errors.StartBoundaryNotFoundDefect,
    errors.MultipartInvariantViolationDefect,
    errors.MissingHeaderBodySeparatorDefect,
)
_BULK = {"bulk", "auto_reply", "list", "junk"}
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def items_of(raw: bytes) -> list[InboundItem]:
    email = parse(raw)
    if is_auto_reply(email):
        return []
    address, name = sender(email)
    return [
        InboundMessage(
            external_id=address,
            provider_message_id=message_id(email, raw),
            content=content(email),
            profile=profile(address, name),
        )
    ]


def parse(raw: bytes) -> EmailMessage:
    """The parsed email; MalformedPayload when it is not a usable RFC 5322 message."""
    try:
        email = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:  # the parser is lenient; anything it still cannot take is a malformed body
        raise MalformedPayload("The body is not an RFC 5322 email") from None
    assert isinstance(email, EmailMessage)
    defects = [*email.defects, *(d for part in email.walk() for d in part.defects)]
    if any(isinstance(defect, _STRUCTURE_DEFECTS) for defect in defects):
        raise MalformedPayload("The email's MIME structure is broken (missing boundary or header block)")
    if email["From"] is None:
        raise MalformedPayload("The email has no From header")
    return email


def sender(email: EmailMessage) -> tuple[str, str | None]:
    """The From address lower-cased, and its display name."""
    try:
        pairs = getaddresses([str(email["From"])])
    except Exception:
        pairs = []
    for name, address in pairs:
        if _ADDRESS.fullmatch(address.strip()):
            return address.strip().lower(), (" ".join(name.split()) or None)
    raise MalformedPayload("The email's From header has no address")


def is_auto_reply(email: EmailMessage) -> bool:
    auto_submitted = _header(email, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return True
    if _header(email, "Precedence").lower() in _BULK:
        return True
    return email["X-Autoreply"] is not None or email["X-Autorespond"] is not None


def message_id(email: EmailMessage, raw: bytes) -> str:
    given = "".join(_header(email, "Message-ID").split())
    if given.startswith("<") and given.endswith(">") and len(given) > 2:
        return given[:255]
    if given:
        return f"<{given.strip('<>')[:250]}>"
    return f"<{hashlib.sha256(raw).hexdigest()}@convoflow.invalid>"


def content(email: EmailMessage) -> dict[str, Any]:
    text = _body_text(email)
    notes = [_describe(part) for part in _attachments(email)]
    if notes:
        text = "\n\n".join(part for part in (text, "\n".join(notes)) if part)
    subject = " ".join(_header(email, "Subject").split())[:998] or None
    if not text:
        text = subject or "(empty email)"
    result: dict[str, Any] = {"type": "email", "text": text[:MAX_TEXT]}
    if subject:
        result["subject"] = subject
    return result


def profile(address: str, name: str | None) -> SenderProfile:
    first, _, last = (name or "").partition(" ")
    if "@" in first:  # a name that is only the address again
        first, last = "", ""
    return SenderProfile(first_name=first or None, last_name=last.strip() or None, email=address)


def _header(email: Message, name: str) -> str:
    try:
        value = email[name]
    except Exception:
        return ""
    return str(value).strip() if value is not None else ""


def _body_text(email: EmailMessage) -> str:
    try:
        part = email.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        return ""
    decoded = _decoded(part)
    if part.get_content_subtype() == "html":
        decoded = html_to_text(decoded)
    lines = [line.rstrip() for line in decoded.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decoded(part: Message) -> str:
    """The part's text in its declared charset; undecodable bytes become replacement characters."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def _attachments(email: EmailMessage) -> list[Message]:
    try:
        return list(email.iter_attachments()) if email.is_multipart() else []
    except Exception:
        return []


def _describe(part: Message) -> str:
    payload = part.get_payload(decode=True)
    size = len(payload) if isinstance(payload, bytes) else 0
    name = " ".join((part.get_filename() or "unnamed").split())[:255]
    return f"[Attachment: {name} ({part.get_content_type()}, {_size(size)})]"


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


class _TextOfHtml(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
    _SKIPPED = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body: no tags, scripts or styles; entities decoded."""
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
