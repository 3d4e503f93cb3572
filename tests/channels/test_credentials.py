"""Channel credentials encrypted at rest with a key derived from the secret key (CRM-CHAN-01)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.channels.credentials import CredentialsUnreadable, SecretBox
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.telegram import updates
from tests.channels.telegram.support import connect_telegram, messages_of, post_update
from tests.support import assert_error, login
from tests.workflows.engine.support import OPENED, Harness, definition, step


def test_sealed_credentials_open_with_the_same_key_only() -> None:
    box = SecretBox(lambda: "instance key")
    sealed = box.seal({"bot_token": "123:abc", "webhook_secret": "w"})
    assert "123:abc" not in sealed and "bot_token" not in sealed
    assert box.seal({"bot_token": "123:abc", "webhook_secret": "w"}) != sealed  # a fresh IV each time
    assert SecretBox(lambda: "instance key").open(sealed) == {"bot_token": "123:abc", "webhook_secret": "w"}
    with pytest.raises(CredentialsUnreadable, match="secret key"):
        SecretBox(lambda: "another key").open(sealed)
    with pytest.raises(CredentialsUnreadable):
        box.open(sealed[:-4] + "AAAA")  # tampered
    assert box.open(None) == {} and box.open("") == {}


def test_the_key_is_read_on_first_use_only() -> None:
    reads: list[int] = []

    def key() -> str:
        reads.append(1)
        return "k"

    box = SecretBox(key)
    assert reads == []
    box.open(box.seal({"a": "b"}))
    box.seal({"c": "d"})
    assert reads == [1]


def test_after_a_secret_key_change_webhooks_are_refused_and_sends_fail_with_the_reason(
    client: TestClient, session: Session, container: Container, telegram: FakeTelegram
) -> None:
    h = Harness(session, container)
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    login(client, h.world.owner)
    bot = connect_telegram(client)
    secret = telegram.webhook_secret
    assert post_update(client, bot["webhook_path"], updates.text("hola"), secret=secret).status_code == 200
    container.adapters.secrets = SecretBox(lambda: "a new secret key")
    h.drain()
    [_, reply] = messages_of(session, bot["id"])
    assert reply.status == "failed" and "cannot be decrypted" in reply.status_history[-1]["reason"]
    assert telegram.calls_to("sendMessage") == []
    response = post_update(client, bot["webhook_path"], updates.text("otra", message_id=2), secret=secret)
    assert_error(response, 401, "invalid_signature")
