"""Twilio webhooks: incoming SMS/MMS and status callbacks (CRM-CHAN-02, CRM-MSG-02/03)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.channels.twilio.adapter import EMPTY_TWIML
from convoflow.contacts.identities import find_identity_contact
from tests.channels.fake_twilio import CUSTOMER, FakeTwilio, incoming, signed
from tests.channels.telegram.support import messages_of, stored
from tests.channels.twilio.support import connect_twilio, post_form
from tests.support import World, assert_error, login, seed_world

SID = "SM" + "c3" * 16


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def channel(client: TestClient, world: World, twilio: FakeTwilio) -> dict[str, Any]:
    login(client, world.owner)
    return connect_twilio(client)


def test_connect_points_the_numbers_sms_url_at_the_webhook(
    channel: dict[str, Any], twilio: FakeTwilio
) -> None:
    assert twilio.sms_url == channel["webhook_url"]
    assert channel["settings"]["phone_number"] == "+14155550100"
    assert "auth_token" not in str(channel)


def test_an_sms_with_unicode_creates_the_contact_by_its_e164_number_and_answers_empty_twiml(
    client: TestClient, session: Session, channel: dict[str, Any]
) -> None:
    text = "Hola 👋 ¿mi pedido llegó? ñandú — 谢谢"
    response = post_form(client, channel, incoming(text, sid=SID))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    [message] = messages_of(session, channel["id"])
    assert (message.content, message.provider_message_id) == ({"type": "text", "text": text}, SID)
    contact = find_identity_contact(session, channel_id=channel["id"], external_id=CUSTOMER)
    assert contact is not None and contact.phone == CUSTOMER


def test_an_mms_with_two_media_is_stored_as_two_attachments_the_first_with_the_text(
    client: TestClient, session: Session, channel: dict[str, Any]
) -> None:
    media = {
        "NumMedia": "2",
        "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/AC/Messages/{SID}/Media/ME1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": f"https://api.twilio.com/2010-04-01/Accounts/AC/Messages/{SID}/Media/ME2",
        "MediaContentType1": "application/pdf",
    }
    response = post_form(client, channel, incoming("Foto del daño 📷", sid=SID, **media))
    assert response.status_code == 200
    photo, pdf = messages_of(session, channel["id"])
    assert photo.content == {
        "type": "attachment",
        "attachment": {"type": "image", "url": media["MediaUrl0"], "name": None},
        "caption": "Foto del daño 📷",
    }
    assert pdf.content["attachment"]["type"] == "file" and pdf.provider_message_id == f"{SID}/1"
    again = post_form(client, channel, incoming("Foto del daño 📷", sid=SID, **media))
    assert again.status_code == 200 and len(messages_of(session, channel["id"])) == 2  # CRM-CHAN-02


def test_the_same_sms_delivered_twice_is_stored_once_CRM_CHAN_02(
    client: TestClient, session: Session, world: World, channel: dict[str, Any]
) -> None:
    post_form(client, channel, incoming("hola", sid=SID))
    before = stored(session, world.workspace.id)
    assert post_form(client, channel, incoming("hola", sid=SID)).status_code == 200
    assert stored(session, world.workspace.id) == before


@pytest.mark.parametrize("case", ["missing", "other-token", "other-url", "altered"])
def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(
    client: TestClient, session: Session, world: World, channel: dict[str, Any], case: str
) -> None:
    fields = incoming("hola", sid=SID)
    body, headers = signed(channel["webhook_url"], fields)
    if case == "missing":
        headers.pop("X-Twilio-Signature")
    elif case == "other-token":
        body, headers = signed(channel["webhook_url"], fields, token="f" * 32)
    elif case == "other-url":
        body, headers = signed("https://evil.example/hook", fields)
    else:
        body = body.replace(b"hola", b"adios")
    before = stored(session, world.workspace.id)
    response = client.post(channel["webhook_path"], content=body, headers=headers)
    assert_error(response, 401, "invalid_signature")
    assert stored(session, world.workspace.id) == before


def test_a_body_that_is_no_form_is_400_and_a_signed_form_without_a_sid_too(
    client: TestClient, session: Session, world: World, channel: dict[str, Any]
) -> None:
    before = stored(session, world.workspace.id)
    for raw in (b"\xff\xfe\x00", b'{"json": true}'):
        response = client.post(
            channel["webhook_path"],
            content=raw,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert_error(response, 400, "malformed_payload")
    fields = incoming("hola", sid=SID)
    del fields["MessageSid"], fields["SmsSid"]
    assert_error(post_form(client, channel, fields), 400, "malformed_payload")
    bad_media = incoming("hola", sid=SID, NumMedia="1")
    assert_error(post_form(client, channel, bad_media), 400, "malformed_payload")
    assert stored(session, world.workspace.id) == before


def test_an_oversized_body_is_413(client: TestClient, channel: dict[str, Any]) -> None:
    response = post_form(client, channel, incoming("x" * (300 * 1024), sid=SID))
    assert_error(response, 413, "payload_too_large")


def test_messages_from_other_twilio_channels_are_ignored(
    client: TestClient, session: Session, channel: dict[str, Any]
) -> None:
    response = post_form(client, channel, incoming("hola", sid=SID, sender="whatsapp:+34612345678"))
    assert response.status_code == 200 and messages_of(session, channel["id"]) == []
