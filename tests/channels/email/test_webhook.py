"""POST /hooks/channels/{id}/{token} with raw emails (CRM-CHAN-02, CRM-CHAN table: identity = address)."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.identities import find_identity_contact
from convoflow.testing.clock import FakeClock
from tests.channels.email.support import MAILBOX, SECRET, SENDER, connect_email, mail, post_mail
from tests.channels.fake_smtp import FakeSmtp
from tests.channels.telegram.support import messages_of, stored
from tests.support import World, assert_error, events_of, login, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def channel(client: TestClient, world: World, smtp: FakeSmtp) -> dict[str, Any]:
    login(client, world.owner)
    return connect_email(client, smtp)


def test_a_unicode_email_creates_the_contact_by_address_and_opens_a_conversation(
    client: TestClient, session: Session, world: World, channel: dict[str, Any], clock: FakeClock
) -> None:
    text = "¡Hola! 👋🏽 ¿Tienen envío a Łódź? 谢谢 🚚"
    raw = mail(text, sender="Zoë Muñoz <Zoe.Munoz@Example.COM>", subject="Envío 📦")
    response = post_mail(client, channel["webhook_path"], raw, now=clock.now())
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "received": 1, "duplicates": 0, "receipts": 0}
    [message] = messages_of(session, channel["id"])
    assert message.content == {"type": "email", "text": text, "subject": "Envío 📦", "html": None}
    assert message.provider_message_id == "<m-1@example.com>"
    contact = find_identity_contact(session, channel_id=channel["id"], external_id=SENDER)
    assert contact is not None
    assert (contact.first_name, contact.last_name, contact.email) == ("Zoë", "Muñoz", SENDER)
    types = [e.type for e in events_of(session, workspace_id=world.workspace.id)]
    assert types == ["contact.created", "conversation.opened", "message.received"]


def test_a_multipart_email_prefers_the_plain_part_and_lists_attachments(
    client: TestClient, session: Session, channel: dict[str, Any], clock: FakeClock
) -> None:
    email = EmailMessage()
    email["From"] = SENDER
    email["To"] = MAILBOX
    email["Subject"] = "Invoice"
    email["Message-ID"] = "<multi@example.com>"
    email.set_content("Plain words 🙂")
    email.add_alternative("<p>HTML <b>words</b></p>", subtype="html")
    email.add_attachment(b"%PDF-1.4" + b"0" * 2040, maintype="application", subtype="pdf", filename="inv.pdf")
    response = post_mail(client, channel["webhook_path"], email.as_bytes(), now=clock.now())
    assert response.json()["received"] == 1, response.text
    [message] = messages_of(session, channel["id"])
    assert message.content["text"] == "Plain words 🙂\n\n[Attachment: inv.pdf (application/pdf, 2.0 KB)]"


def test_an_html_only_email_is_read_as_text_without_tags_or_scripts(
    client: TestClient, session: Session, channel: dict[str, Any], clock: FakeClock
) -> None:
    email = EmailMessage()
    email["From"] = SENDER
    email["Message-ID"] = "<html@example.com>"
    email.set_content(
        "<html><head><style>p{}</style></head><body><p>Caf&eacute; &amp; more</p>"
        "<script>alert(1)</script><p>Line 2</p></body></html>",
        subtype="html",
    )
    post_mail(client, channel["webhook_path"], email.as_bytes(), now=clock.now())
    [message] = messages_of(session, channel["id"])
    assert message.content == {
        "type": "email",
        "text": "Café & more\n\nLine 2",
        "subject": None,
        "html": None,
    }


def test_a_latin_1_email_is_decoded(
    client: TestClient, session: Session, channel: dict[str, Any], clock: FakeClock
) -> None:
    raw = (
        b"From: =?iso-8859-1?q?Jos=E9_Garc=EDa?= <jose@example.com>\r\n"
        b"To: support@shop.example\r\n"
        b"Subject: =?iso-8859-1?q?Se=F1al?=\r\n"
        b"Message-ID: <latin@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"Ma\xf1ana a las 9, \xbfvale? Gr\xfc\xdfe\r\n"
    )
    post_mail(client, channel["webhook_path"], raw, now=clock.now())
    [message] = messages_of(session, channel["id"])
    assert message.content["text"] == "Mañana a las 9, ¿vale? Grüße"
    assert message.content["subject"] == "Señal"
    contact = find_identity_contact(session, channel_id=channel["id"], external_id="jose@example.com")
    assert contact is not None and (contact.first_name, contact.last_name) == ("José", "García")


def test_the_same_email_delivered_twice_is_stored_once_CRM_CHAN_02(
    client: TestClient, session: Session, world: World, channel: dict[str, Any], clock: FakeClock
) -> None:
    raw = mail("hola", message_id="<same@example.com>")
    assert post_mail(client, channel["webhook_path"], raw, now=clock.now()).json()["received"] == 1
    before = stored(session, world.workspace.id)
    clock.advance(seconds=30)
    again = post_mail(client, channel["webhook_path"], raw, now=clock.now())
    assert again.json() == {"status": "ok", "received": 0, "duplicates": 1, "receipts": 0}
    assert stored(session, world.workspace.id) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"Precedence": "bulk"},
        {"Precedence": "auto_reply"},
        {"Precedence": "list"},
        {"X-Autoreply": "yes"},
    ],
    ids=["auto-replied", "auto-generated", "bulk", "auto_reply", "list", "x-autoreply"],
)
def test_auto_replies_are_answered_200_and_store_nothing(
    client: TestClient,
    session: Session,
    world: World,
    channel: dict[str, Any],
    clock: FakeClock,
    headers: dict[str, str],
) -> None:
    before = stored(session, world.workspace.id)
    response = post_mail(
        client, channel["webhook_path"], mail("Out of office", headers=headers), now=clock.now()
    )
    assert response.json() == {"status": "ok", "received": 0, "duplicates": 0, "receipts": 0}
    assert stored(session, world.workspace.id) == before


def test_auto_submitted_no_is_a_person_writing(
    client: TestClient, session: Session, channel: dict[str, Any], clock: FakeClock
) -> None:
    raw = mail("Real", headers={"Auto-Submitted": "no"})
    assert post_mail(client, channel["webhook_path"], raw, now=clock.now()).json()["received"] == 1


@pytest.mark.parametrize(
    "secret", [None, "another-secret-another-secret-another-secret"], ids=["missing", "other-secret"]
)
def test_a_badly_signed_email_is_401_and_stores_nothing(
    client: TestClient,
    session: Session,
    world: World,
    channel: dict[str, Any],
    clock: FakeClock,
    secret: str | None,
) -> None:
    before = stored(session, world.workspace.id)
    response = post_mail(client, channel["webhook_path"], mail("hola"), now=clock.now(), secret=secret)
    assert_error(response, 401, "invalid_signature")
    assert stored(session, world.workspace.id) == before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"just some words, no headers at all", "message/rfc822"),
        (b"To: a@example.com\r\nSubject: no sender\r\n\r\nhi\r\n", "message/rfc822"),
        (b"From: nobody\r\nSubject: no address\r\n\r\nhi\r\n", "message/rfc822"),
        (
            b"From: a@example.com\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
            "message/rfc822",
        ),
        (mail("hola"), "application/json"),
    ],
    ids=["no-headers", "no-from", "from-without-address", "multipart-without-boundary", "wrong-type"],
)
def test_a_malformed_email_is_400_and_stores_nothing(
    client: TestClient,
    session: Session,
    world: World,
    channel: dict[str, Any],
    clock: FakeClock,
    body: bytes,
    content_type: str,
) -> None:
    before = stored(session, world.workspace.id)
    response = post_mail(client, channel["webhook_path"], body, now=clock.now(), content_type=content_type)
    assert_error(response, 400, "malformed_payload")
    assert stored(session, world.workspace.id) == before


def test_an_oversized_email_is_413(client: TestClient, channel: dict[str, Any], clock: FakeClock) -> None:
    response = post_mail(client, channel["webhook_path"], mail("x" * (300 * 1024)), now=clock.now())
    assert_error(response, 413, "payload_too_large")


def test_credentials_are_checked_on_connect_and_never_returned(
    client: TestClient, world: World, smtp: FakeSmtp
) -> None:
    login(client, world.owner)
    bad = client.post(
        "/api/channels",
        json={
            "kind": "other_email",
            "name": "Bad",
            "credentials": {
                "smtp_host": "smtp.example",
                "from_address": "not-an-address",
                "inbound_secret": "s",
            },
        },
    )
    assert_error(bad, 422, "invalid_credentials")
    fields = {detail["field"] for detail in bad.json()["details"]}
    assert fields == {"credentials.from_address", "credentials.inbound_secret"}
    detail = connect_email(client, smtp)
    assert detail["settings"] == {"from_address": MAILBOX, "smtp_host": "127.0.0.1"}
    assert SECRET not in json.dumps(detail) and "credentials" not in detail
