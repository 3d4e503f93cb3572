"""The widget's WebSocket: hello and its refusals, frames stored once, engine replies pushed live."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from convoflow.channels import webchat_socket_routes as socket_routes
from tests.channels.webchat.support import Chat, counts, messages_of, new_visitor
from tests.workflows.engine.support import OPENED, Harness, definition, step


def _open(client: TestClient, chat: Chat) -> Any:
    return client.websocket_connect(f"{chat.base}/socket")


def _hello(ws: WebSocketTestSession, token: str, after: int = 0) -> dict[str, Any]:
    ws.send_json({"type": "hello", "token": token, "after": after})
    ready: dict[str, Any] = ws.receive_json()
    return ready


def _next(ws: WebSocketTestSession, kind: str) -> dict[str, Any]:
    """The next frame of this kind (the server may push messages between other answers)."""
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == kind:
            return frame


def _closed_with(ws: WebSocketTestSession) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    return closed.value.code


def test_a_hello_with_a_good_token_is_ready_and_a_text_is_stored_once(
    client: TestClient, session: Session, chat: Chat
) -> None:
    token = new_visitor(client, chat)
    with _open(client, chat) as ws:
        assert _hello(ws, token) == {"type": "ready", "visitor_id": token.split(".")[0]}
        frame = {"type": "text", "client_id": "w1", "text": "Hola desde el socket 🧦"}
        ws.send_json(frame)
        stored = _next(ws, "stored")
        assert (stored["client_id"], stored["received"], stored["duplicates"]) == ("w1", 1, 0)
        echoed = _next(ws, "messages")  # the visitor's own message, for its other tabs
        assert [m["content"]["text"] for m in echoed["messages"]] == ["Hola desde el socket 🧦"]
        ws.send_json(frame)  # a retry after a lost answer
        again = _next(ws, "stored")
        assert (again["received"], again["duplicates"]) == (0, 1)
    assert len(messages_of(session, chat.channel.id)) == 1


@pytest.mark.parametrize(
    ("hello", "code"),
    [
        ("not json", socket_routes.CLOSE_MALFORMED),
        (json.dumps({"type": "text", "text": "hola"}), socket_routes.CLOSE_MALFORMED),
        (json.dumps({"type": "hello", "token": "forged.token"}), socket_routes.CLOSE_UNAUTHENTICATED),
    ],
)
def test_a_bad_hello_closes_the_socket_with_a_clear_code(
    client: TestClient, session: Session, h: Harness, chat: Chat, hello: str, code: int
) -> None:
    before = counts(session, h.world.workspace.id)
    with _open(client, chat) as ws:
        ws.send_text(hello)
        assert _closed_with(ws) == code
    assert counts(session, h.world.workspace.id) == before


def test_another_visitors_signature_or_an_unknown_chat_is_refused(
    client: TestClient, session: Session, chat: Chat
) -> None:
    ana, ben = new_visitor(client, chat), new_visitor(client, chat)
    borrowed = f"{ben.split('.')[0]}.{ana.split('.')[1]}"
    with _open(client, chat) as ws:
        ws.send_json({"type": "hello", "token": borrowed})
        assert _closed_with(ws) == socket_routes.CLOSE_UNAUTHENTICATED
    with client.websocket_connect("/webchat/unknown/socket") as ws:
        ws.send_json({"type": "hello", "token": ana})
        assert _closed_with(ws) == socket_routes.CLOSE_UNKNOWN
    chat.channel.state = "disconnected"
    session.merge(chat.channel)
    session.commit()
    with _open(client, chat) as ws:
        ws.send_json({"type": "hello", "token": ana})
        assert _closed_with(ws) == socket_routes.CLOSE_GONE


def test_bad_frames_are_answered_with_an_error_and_the_socket_stays_open(
    client: TestClient, session: Session, h: Harness, chat: Chat
) -> None:
    token = new_visitor(client, chat)
    before = counts(session, h.world.workspace.id)
    with _open(client, chat) as ws:
        _hello(ws, token)
        ws.send_text("{oops")
        assert _next(ws, "error")["error"] == "malformed_payload"
        ws.send_bytes(b"\x00\x01")
        assert _next(ws, "error")["message"] == "Send JSON text frames"
        ws.send_json({"type": "text", "client_id": "big", "text": "x" * 5000})
        error = _next(ws, "error")
        assert error == {
            "type": "error",
            "error": "malformed_payload",
            "message": "The text is longer than 4,096 characters",
            "client_id": "big",
        }
        assert counts(session, h.world.workspace.id) == before
        ws.send_json({"type": "text", "client_id": "ok", "text": "ahora sí"})
        assert _next(ws, "stored")["received"] == 1
        ws.send_text("x" * (socket_routes.MAX_FRAME_BYTES + 1))
        assert _closed_with(ws) == socket_routes.CLOSE_TOO_BIG


def test_workflow_replies_are_pushed_live_and_a_button_press_answers_the_question(
    client: TestClient, session: Session, h: Harness, chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polling so slow that only the after-commit hints can bring the replies within the time checked.
    monkeypatch.setattr(socket_routes, "POLL_SECONDS", 60.0)
    question = {
        "question": "¿En qué podemos ayudarte?",
        "question_type": "multiple_choice",
        "options": ["Ventas", "Soporte"],
        "save_variable": "motivo",
    }
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "send_message", {"text": "¡Hola! 👋"}, next="s2"),
            step("s2", "ask_question", question, next="s3"),
            step("s3", "send_message", {"text": "Has elegido $var.motivo"}),
        )
    )
    token = new_visitor(client, chat)
    with _open(client, chat) as ws:
        _hello(ws, token)
        ws.send_json({"type": "text", "client_id": "q1", "text": "Hola"})
        _next(ws, "stored")
        _next(ws, "messages")  # the visitor's own message
        h.drain()  # the engine runs in this thread; the socket hears of its commits
        started = time.monotonic()
        pushed: list[dict[str, Any]] = []
        while len(pushed) < 2:
            pushed += _next(ws, "messages")["messages"]
        assert time.monotonic() - started < 10
        assert [m["from"] for m in pushed] == ["workflow", "workflow"]
        assert pushed[0]["content"] == {"type": "text", "text": "¡Hola! 👋"}
        assert pushed[1]["content"] == {
            "type": "quick_reply",
            "title": "¿En qué podemos ayudarte?",
            "replies": ["Ventas", "Soporte"],
        }
        ws.send_json({"type": "ack", "refs": [m["ref"] for m in pushed]})
        assert _next(ws, "stored")["receipts"] == 2
        ws.send_json({"type": "button", "client_id": "q2", "text": "Soporte"})
        _next(ws, "stored")
        h.drain()
        final: list[dict[str, Any]] = []
        while not any(m["from"] == "workflow" for m in final):
            final += _next(ws, "messages")["messages"]
        assert final[-1]["content"] == {"type": "text", "text": "Has elegido Soporte"}
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "completed")
    outgoing = [m for m in messages_of(session, chat.channel.id) if m.traffic == "outgoing"]
    assert [m.status for m in outgoing] == ["delivered", "delivered", "sent"]


def test_a_reconnecting_widget_gets_what_was_sent_while_it_was_away(
    client: TestClient, session: Session, h: Harness, chat: Chat
) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Te respondemos enseguida"})))
    token = new_visitor(client, chat)
    with _open(client, chat) as ws:
        _hello(ws, token)
        ws.send_json({"type": "text", "client_id": "r1", "text": "Hola"})
        _next(ws, "stored")
        first = _next(ws, "messages")
    h.drain()  # sent while no socket is open
    with _open(client, chat) as ws:
        _hello(ws, token, after=first["cursor"])
        [reply] = _next(ws, "messages")["messages"]
        assert reply["content"]["text"] == "Te respondemos enseguida"
