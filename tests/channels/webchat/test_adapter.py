"""The adapter alone: visitor tokens, what it sends, and file names it keeps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from convoflow.channels.base import ChannelConfig, InvalidSignature, OutboundMessage, SendFailed
from convoflow.channels.webchat.adapter import WebchatAdapter, embed_code, outbound_id
from convoflow.channels.webchat.uploads import UploadRefused, UploadStore, clean_file_name
from convoflow.channels.webchat.visitors import VisitorKeys


def _adapter(tmp_path: Path, secret: str = "one key") -> WebchatAdapter:
    return WebchatAdapter(
        keys=VisitorKeys(lambda: secret), uploads=UploadStore(tmp_path), public_base_url="https://c.example/"
    )


def test_a_token_names_its_visitor_on_its_channel_only(tmp_path: Path) -> None:
    keys = _adapter(tmp_path).keys
    token = keys.issue(7)
    visitor_id = token.split(".")[0]
    assert keys.visitor_of(7, token) == visitor_id
    assert len(visitor_id) == 24 and keys.issue(7).split(".")[0] != visitor_id
    for bad in (None, "", token + "x", f"{visitor_id}.", "a" * 500, token.replace(".", "", 1)):
        with pytest.raises(InvalidSignature):
            keys.visitor_of(7, bad)
    with pytest.raises(InvalidSignature):
        keys.visitor_of(8, token)  # another channel
    with pytest.raises(InvalidSignature):
        _adapter(tmp_path, secret="another key").keys.visitor_of(7, token)  # the secret key changed


def _send(
    adapter: WebchatAdapter, content: dict[str, object], external_id: str | None = "v" * 24
) -> str | None:
    message = OutboundMessage(channel_id=7, external_id=external_id, contact={}, content=content)
    result = asyncio.run(adapter.send(message, config=ChannelConfig(channel_id=7), idempotency_key="9:1:1"))
    return result.provider_message_id


def test_send_returns_our_own_id_the_same_for_the_same_key(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path)
    sent = _send(adapter, {"type": "text", "text": "hola"})
    assert sent == outbound_id("v" * 24, "9:1:1") and sent.startswith("v" * 24 + ":out:")
    assert _send(adapter, {"type": "quick_reply", "title": "¿Sí?", "replies": ["Sí"]}) == sent


def test_send_refuses_what_the_widget_cannot_show_or_reach(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path)
    with pytest.raises(SendFailed, match="cannot show whatsapp_template"):
        _send(adapter, {"type": "whatsapp_template", "template": {"name": "x", "languageCode": "es"}})
    with pytest.raises(SendFailed, match="never written"):
        _send(adapter, {"type": "text", "text": "hola"}, external_id=None)


def test_connecting_gives_the_snippet_that_embeds_the_widget(tmp_path: Path) -> None:
    settings = asyncio.run(
        _adapter(tmp_path).connect(
            ChannelConfig(channel_id=7), webhook_url="https://c.example/hooks/channels/7/KEY"
        )
    )
    assert settings == {"embed_code": embed_code("https://c.example", "KEY")}
    assert settings["embed_code"] == (
        '<script src="https://c.example/widget/webchat.js" data-channel="KEY" async></script>'
    )


def test_file_names_lose_paths_and_control_characters(tmp_path: Path) -> None:
    assert clean_file_name("C:\\fotos\\../pedido\u0000\u202e.png") == "pedido.png"
    assert clean_file_name("") == "file" and len(clean_file_name("a" * 300)) == 255
    store = UploadStore(tmp_path, max_bytes=4)
    with pytest.raises(UploadRefused, match="larger than 4 bytes"):
        store.save(channel_id=1, visitor_id="v", data=b"12345", content_type="text/plain", name="a.txt")
    saved = store.save(
        channel_id=1, visitor_id="v", data=b"1234", content_type="text/plain; charset=utf-8", name=None
    )
    assert store.find(saved.file_id) == saved and store.path(saved).read_bytes() == b"1234"
    assert store.find("../../etc/passwd") is None
