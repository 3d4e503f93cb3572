"""Message content by type (CRM-MSG-02): what each type accepts and refuses, and how it is stored."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.conversations.content import CONTENT_ADAPTER
from convoflow.conversations.messages import parse_content, record_inbound
from convoflow.conversations.models import Message
from convoflow.testing.factories import make_channel
from tests.conversations.helpers import count
from tests.support import seed_world

VALID: list[dict[str, Any]] = [
    {"type": "text", "text": "a"},
    {"type": "text", "text": "x" * 4096},
    {"type": "attachment", "attachment": {"type": "image", "url": "https://cdn.example.com/a.png"}},
    {
        "type": "attachment",
        "attachment": {"type": "file", "url": "https://cdn.example.com/a.pdf", "name": "a.pdf"},
        "caption": "The invoice",
    },
    {"type": "attachment", "attachment": {"type": "video", "url": "https://x.test/v.mp4"}},
    {"type": "attachment", "attachment": {"type": "audio", "url": "https://x.test/a.ogg"}},
    {"type": "location", "latitude": 40.4168, "longitude": -3.7038, "address": "Puerta del Sol"},
    {"type": "location", "latitude": -90, "longitude": 180},
    {"type": "location", "latitude": 90, "longitude": -180},
    {"type": "quick_reply", "title": "Pick one", "replies": ["Yes", "No"]},
    {"type": "quick_reply", "title": "Ten", "replies": [f"option {i}" for i in range(10)]},
    {"type": "quick_reply", "title": "Long", "replies": ["x" * 20]},
    {"type": "email", "text": "Hello", "subject": "Re: order", "html": "<p>Hello</p>"},
    {"type": "email", "text": "Hello"},
    {"type": "whatsapp_template", "template": {"name": "order_update", "languageCode": "es"}},
    {
        "type": "whatsapp_template",
        "template": {
            "name": "order_update",
            "languageCode": "en_US",
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}],
        },
    },
    {"type": "custom_payload", "payload": {"anything": [1, 2, {"nested": True}]}},
    {"type": "unsupported", "description": "sticker"},
    {"type": "unsupported"},
]

INVALID: list[tuple[str, dict[str, Any]]] = [
    ("empty text", {"type": "text", "text": ""}),
    ("text over 4096", {"type": "text", "text": "x" * 4097}),
    ("text missing", {"type": "text"}),
    ("text not a string", {"type": "text", "text": 5}),
    ("unknown type", {"type": "sticker", "text": "x"}),
    ("no type", {"text": "x"}),
    ("extra key", {"type": "text", "text": "x", "bold": True}),
    ("attachment kind", {"type": "attachment", "attachment": {"type": "gif", "url": "https://x.test/a.gif"}}),
    ("attachment no url", {"type": "attachment", "attachment": {"type": "image"}}),
    ("attachment empty url", {"type": "attachment", "attachment": {"type": "image", "url": ""}}),
    ("attachment url too long", {"type": "attachment", "attachment": {"type": "image", "url": "h" * 2049}}),
    (
        "caption too long",
        {
            "type": "attachment",
            "attachment": {"type": "image", "url": "https://x.test/a"},
            "caption": "c" * 1025,
        },
    ),
    ("latitude > 90", {"type": "location", "latitude": 90.5, "longitude": 0}),
    ("latitude < -90", {"type": "location", "latitude": -91, "longitude": 0}),
    ("longitude > 180", {"type": "location", "latitude": 0, "longitude": 180.01}),
    ("longitude < -180", {"type": "location", "latitude": 0, "longitude": -181}),
    ("latitude NaN", {"type": "location", "latitude": float("nan"), "longitude": 0}),
    ("longitude infinite", {"type": "location", "latitude": 0, "longitude": float("inf")}),
    ("location missing longitude", {"type": "location", "latitude": 0}),
    ("address too long", {"type": "location", "latitude": 0, "longitude": 0, "address": "a" * 1025}),
    ("no replies", {"type": "quick_reply", "title": "Pick", "replies": []}),
    ("eleven replies", {"type": "quick_reply", "title": "Pick", "replies": [str(i) for i in range(11)]}),
    ("reply over 20", {"type": "quick_reply", "title": "Pick", "replies": ["x" * 21]}),
    ("empty reply", {"type": "quick_reply", "title": "Pick", "replies": [""]}),
    ("empty title", {"type": "quick_reply", "title": "", "replies": ["a"]}),
    ("email empty text", {"type": "email", "text": ""}),
    ("email subject too long", {"type": "email", "text": "x", "subject": "s" * 999}),
    ("template no name", {"type": "whatsapp_template", "template": {"languageCode": "es"}}),
    ("template bad language", {"type": "whatsapp_template", "template": {"name": "t", "languageCode": "e"}}),
    (
        "template extra",
        {"type": "whatsapp_template", "template": {"name": "t", "languageCode": "es", "x": 1}},
    ),
    ("custom payload not object", {"type": "custom_payload", "payload": [1, 2]}),
]


def _holds(stored: Any, given: Any) -> bool:
    """`stored` has every value of `given` (optional keys left out of `given` may hold defaults)."""
    if isinstance(given, dict):
        return isinstance(stored, dict) and all(_holds(stored.get(k), v) for k, v in given.items())
    return bool(stored == given)


@pytest.mark.parametrize("raw", VALID, ids=lambda raw: str(raw["type"]))
def test_valid_content_round_trips_as_stored(raw: dict[str, Any]) -> None:
    # CRM-MSG-02: what is stored (JSON, aliases) parses back to the same content.
    content = parse_content(raw)
    assert content.type == raw["type"]
    stored = content.model_dump(mode="json", by_alias=True)
    assert parse_content(stored) == content
    assert _holds(stored, raw)


@pytest.mark.parametrize(("case", "raw"), INVALID, ids=[case for case, _ in INVALID])
def test_invalid_content_is_refused(case: str, raw: dict[str, Any]) -> None:
    # CRM-MSG-02: values failing validation are rejected, never stored.
    with pytest.raises(ValidationError):
        parse_content(raw)


def test_json_content_is_validated_the_same_way() -> None:
    # CRM-MSG-02: content arriving as JSON (webhooks, API bodies).
    assert CONTENT_ADAPTER.validate_json('{"type": "text", "text": "hola"}').type == "text"
    with pytest.raises(ValidationError):
        CONTENT_ADAPTER.validate_json('{"type": "quick_reply", "title": "t", "replies": []}')


def test_template_accepts_the_python_field_name_and_stores_the_alias() -> None:
    # CRM-MSG-02: whatsapp_template content is stored with the provider's `languageCode`.
    content = parse_content({"type": "whatsapp_template", "template": {"name": "hi", "language_code": "es"}})
    stored = content.model_dump(mode="json", by_alias=True)
    assert stored == {
        "type": "whatsapp_template",
        "template": {"name": "hi", "languageCode": "es", "components": []},
    }


@pytest.mark.parametrize("raw", [VALID[2], VALID[6], VALID[14], VALID[17]], ids=lambda raw: str(raw["type"]))
def test_every_type_is_stored_by_record_inbound(
    session: Session, container: Container, raw: dict[str, Any]
) -> None:
    # CRM-MSG-01/02: the stored message keeps the type and the content as given.
    world = seed_world(session, container.hasher)
    channel = make_channel(session, workspace_id=world.workspace.id)
    result = record_inbound(session, channel=channel, external_id="v", content=parse_content(raw))
    session.commit()
    session.refresh(result.message)
    assert result.message.type == raw["type"]
    assert _holds(result.message.content, raw)
    assert count(session, Message) == 1
