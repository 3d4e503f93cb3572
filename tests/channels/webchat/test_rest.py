"""The widget's REST side: visitors, frames stored once, polling, uploads, and refusals that store nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.testing.factories import make_channel
from tests.channels.webchat.support import (
    Chat,
    auth,
    counts,
    messages_of,
    new_visitor,
    poll,
    post_frame,
    say,
)
from tests.workflows.engine.support import OPENED, Harness, definition, step


def test_a_new_visitor_gets_a_token_and_its_text_is_stored_once_per_client_id_CRM_CHAN_02(
    client: TestClient, session: Session, h: Harness, chat: Chat
) -> None:
    token = new_visitor(client, chat)
    visitor_id = token.split(".")[0]
    say(client, chat, token, "Hola 👋 ¿tenéis envío a Canarias?", client_id="m1")
    again = post_frame(client, chat, token, {"type": "text", "client_id": "m1", "text": "Hola 👋 again"})
    assert again.status_code == 200
    assert again.json() == {"status": "ok", "received": 0, "duplicates": 1, "receipts": 0}
    [message] = messages_of(session, chat.channel.id)
    assert message.content == {"type": "text", "text": "Hola 👋 ¿tenéis envío a Canarias?"}
    assert (message.traffic, message.provider_message_id) == ("incoming", f"{visitor_id}:m1")
    assert counts(session, h.world.workspace.id)["contacts"] == 1


def test_a_quick_reply_press_reads_as_the_visitor_typing_the_label(
    client: TestClient, session: Session, chat: Chat
) -> None:
    token = new_visitor(client, chat)
    response = post_frame(client, chat, token, {"type": "button", "client_id": "b1", "text": "Ventas"})
    assert response.status_code == 200 and response.json()["received"] == 1
    assert [m.content for m in messages_of(session, chat.channel.id)] == [{"type": "text", "text": "Ventas"}]


def test_forged_and_foreign_tokens_are_refused_and_store_nothing(
    client: TestClient, session: Session, h: Harness, chat: Chat
) -> None:
    token = new_visitor(client, chat)
    visitor_id, _, signature = token.partition(".")
    other = Chat(make_channel(session, workspace_id=h.world.workspace.id, kind="webchat", name="Otro"), "")
    session.commit()
    other.key = other.channel.token
    foreign = new_visitor(client, other)  # valid, but for another chat
    before = counts(session, h.world.workspace.id)
    frame = {"type": "text", "client_id": "x", "text": "hola"}
    refused = {
        "no token": None,
        "garbage": "not-a-token",
        "flipped signature": f"{visitor_id}.{signature[::-1]}",
        "another visitor's id": f"{foreign.partition('.')[0]}.{signature}",
        "another chat's token": foreign,
    }
    for case, bad in refused.items():
        response = post_frame(client, chat, bad, frame)
        assert response.status_code == 401, case
        assert response.json()["error"] == "invalid_visitor_token", case
        assert client.get(f"{chat.base}/messages", headers=auth(bad or "x")).status_code == 401, case
    assert counts(session, h.world.workspace.id) == before


def test_bad_frames_get_a_clear_4xx_and_store_nothing(
    client: TestClient, session: Session, h: Harness, chat: Chat
) -> None:
    token = new_visitor(client, chat)
    before = counts(session, h.world.workspace.id)
    cases: list[tuple[dict[str, Any] | bytes, int, str, str]] = [
        (b"{not json", 400, "malformed_payload", "not valid JSON"),
        (b"[1, 2]", 400, "malformed_payload", "Not a web chat frame"),
        (
            {"type": "text", "client_id": "a", "text": "x" * 4097},
            400,
            "malformed_payload",
            "longer than 4,096",
        ),
        ({"type": "text", "client_id": "a", "text": ""}, 400, "malformed_payload", "text"),
        ({"type": "text", "client_id": "../etc", "text": "hola"}, 400, "malformed_payload", "client_id"),
        ({"type": "video_call", "client_id": "a"}, 400, "malformed_payload", "Not a web chat frame"),
        ({"type": "attachment", "client_id": "a", "file_id": "A" * 32}, 400, "malformed_payload", "No file"),
    ]
    for frame, status, error, words in cases:
        response = post_frame(client, chat, token, frame)
        assert response.status_code == status, (frame, response.text)
        body = response.json()
        assert body["error"] == error and words in body["message"], (frame, body)
    assert counts(session, h.world.workspace.id) == before


def test_unknown_and_disconnected_chats_are_404_and_410(
    client: TestClient, session: Session, chat: Chat
) -> None:
    for path in ("/webchat/nope/visitors", f"/webchat/{'k' * 65}/visitors"):
        response = client.post(path)
        assert (response.status_code, response.json()["error"]) == (404, "unknown_channel")
    token = new_visitor(client, chat)
    chat.channel.state = "disconnected"
    session.merge(chat.channel)
    session.commit()
    response = post_frame(client, chat, token, {"type": "text", "client_id": "a", "text": "hola"})
    assert (response.status_code, response.json()["error"]) == (410, "channel_disconnected")
    assert messages_of(session, chat.channel.id) == []


def test_polling_returns_our_reply_once_sent_and_the_cursor_waits_for_pending_ones(
    client: TestClient, session: Session, h: Harness, chat: Chat
) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "¡Hola! ¿En qué te ayudamos?"})))
    token = new_visitor(client, chat)
    say(client, chat, token, "Buenas", client_id="m1")
    while h.engine.contacts_once():  # the run stages its reply; the relay has not sent it yet
        pass
    page = poll(client, chat, token)
    [mine] = page["messages"]
    assert mine["from"] == "visitor" and mine["content"]["text"] == "Buenas"
    pending = [m for m in messages_of(session, chat.channel.id) if m.traffic == "outgoing"]
    assert [m.status for m in pending] == ["pending"]
    assert page["cursor"] == pending[0].id - 1  # not past the reply still on its way
    h.drain()
    page = poll(client, chat, token, after=page["cursor"])
    [reply] = page["messages"]
    assert reply["from"] == "workflow" and reply["content"] == {
        "type": "text",
        "text": "¡Hola! ¿En qué te ayudamos?",
    }
    assert reply["ref"] == messages_of(session, chat.channel.id)[-1].provider_message_id
    assert page["cursor"] == reply["id"] and page["more"] is False
    assert poll(client, chat, token, after=page["cursor"])["messages"] == []


def test_an_ack_marks_the_visitors_own_messages_delivered_and_no_one_elses(
    client: TestClient, session: Session, h: Harness, chat: Chat
) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    ana, ben = new_visitor(client, chat), new_visitor(client, chat)
    say(client, chat, ana, "soy Ana", client_id="a1")
    say(client, chat, ben, "soy Ben", client_id="b1")
    h.drain()
    replies = {
        m.provider_message_id: m for m in messages_of(session, chat.channel.id) if m.traffic == "outgoing"
    }
    ana_ref = next(ref for ref in replies if ref and ref.startswith(ana.split(".")[0]))
    ben_ref = next(ref for ref in replies if ref and ref.startswith(ben.split(".")[0]))
    response = post_frame(client, chat, ana, {"type": "ack", "refs": [ana_ref, ben_ref, ana_ref]})
    assert response.json() == {"status": "ok", "received": 0, "duplicates": 0, "receipts": 1}
    statuses = {m.provider_message_id: m.status for m in messages_of(session, chat.channel.id)}
    assert (statuses[ana_ref], statuses[ben_ref]) == ("delivered", "sent")


def test_an_uploaded_image_is_sent_as_an_attachment_and_served_safely(
    client: TestClient, session: Session, container: Container, chat: Chat
) -> None:
    token = new_visitor(client, chat)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = client.post(
        f"{chat.base}/uploads",
        params={"name": "../../foto del pedido.png"},
        content=png,
        headers={**auth(token), "Content-Type": "image/png"},
    )
    assert response.status_code == 201, response.text
    uploaded = response.json()
    assert (uploaded["kind"], uploaded["name"], uploaded["size"]) == (
        "image",
        "foto del pedido.png",
        len(png),
    )
    assert uploaded["url"] == f"https://chat.example/webchat/files/{uploaded['file_id']}"
    frame = {"type": "attachment", "client_id": "f1", "file_id": uploaded["file_id"], "caption": "Llegó así"}
    assert post_frame(client, chat, token, frame).json()["received"] == 1
    [message] = messages_of(session, chat.channel.id)
    assert message.content == {
        "type": "attachment",
        "attachment": {"type": "image", "url": uploaded["url"], "name": "foto del pedido.png"},
        "caption": "Llegó así",
    }
    served = client.get(f"/webchat/files/{uploaded['file_id']}")
    assert served.status_code == 200 and served.content == png
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert client.get("/webchat/files/" + "B" * 32).status_code == 404
    # Another visitor cannot send this file as theirs.
    other = new_visitor(client, chat)
    stolen = post_frame(client, chat, other, {**frame, "client_id": "f2"})
    assert stolen.status_code == 400 and "No file" in stolen.json()["message"]


def test_uploads_of_other_types_or_sizes_are_refused(
    client: TestClient, chat: Chat, container: Container
) -> None:
    token = new_visitor(client, chat)
    svg = client.post(
        f"{chat.base}/uploads",
        content=b"<svg onload=alert(1)>",
        headers={**auth(token), "Content-Type": "image/svg+xml"},
    )
    assert (svg.status_code, svg.json()["error"]) == (422, "file_refused")
    empty = client.post(
        f"{chat.base}/uploads", content=b"", headers={**auth(token), "Content-Type": "image/png"}
    )
    assert (empty.status_code, empty.json()["error"]) == (422, "file_refused")
    limit = container.webchat.uploads.max_bytes
    big = client.post(
        f"{chat.base}/uploads",
        content=b"x" * (limit + 1),
        headers={**auth(token), "Content-Type": "text/plain"},
    )
    assert (big.status_code, big.json()["error"]) == (413, "payload_too_large")
    anonymous = client.post(f"{chat.base}/uploads", content=b"hola", headers={"Content-Type": "text/plain"})
    assert anonymous.status_code == 401
    root = container.webchat.uploads.root
    assert not root.exists() or list(root.iterdir()) == []  # nothing refused was kept


def test_a_visitor_sending_too_fast_is_told_to_wait(client: TestClient, session: Session, chat: Chat) -> None:
    token = new_visitor(client, chat)
    for index in range(60):
        say(client, chat, token, f"mensaje {index}", client_id=f"m{index}")
    response = post_frame(client, chat, token, {"type": "text", "client_id": "late", "text": "uno más"})
    assert (response.status_code, response.json()["error"]) == (429, "rate_limited")
    assert int(response.headers["retry-after"]) >= 1
    assert len(messages_of(session, chat.channel.id)) == 60
