"""The widget's WebSocket `/webchat/{key}/socket`: messages in, our messages pushed out live.

The first frame must be `{"type": "hello", "token": <visitor token>, "after": <cursor>}`, within
`HELLO_SECONDS`; the token is not put in the URL, where access logs would keep it. The server answers
`{"type": "ready", "visitor_id"}`, then sends `{"type": "messages", "messages": [...], "cursor"}` whenever
the visitor has something new: at once after the relay commits a send in this process (a live hint),
else within `POLL_SECONDS` (a send committed by another process). Each frame the widget sends (the
same JSON as `POST /webchat/{key}/messages`) is answered `{"type": "stored", ...}` or
`{"type": "error", "error", "message"}`, and the socket stays open.

Close codes: 4400 no valid hello, 4401 bad visitor token, 4404 unknown chat, 4408 no hello in time,
4410 chat disconnected, 1009 frame over `MAX_FRAME_BYTES`, 1011 server error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from convoflow.bootstrap import Container
from convoflow.channels import ingest, webchat_receive
from convoflow.channels import webchat_service as chats
from convoflow.channels.webchat.visitors import MAX_TOKEN_LENGTH
from convoflow.errors import ConvoflowError, Gone, NotFound, Unauthenticated
from convoflow.events.live import Listener

log = logging.getLogger("convoflow.webchat")
router = APIRouter()

HELLO_SECONDS = 10.0
POLL_SECONDS = 2.0
MAX_FRAME_BYTES = 64 * 1024
CLOSE_MALFORMED = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_UNKNOWN = 4404
CLOSE_TIMEOUT = 4408
CLOSE_GONE = 4410
CLOSE_TOO_BIG = 1009
CLOSE_ERROR = 1011


class Hello(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern="^hello$")
    token: str = Field(max_length=MAX_TOKEN_LENGTH)
    after: int = Field(0, ge=0, le=ingest.MAX_ID)


class _Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _close_for(exc: ConvoflowError) -> _Closed:
    codes = ((Unauthenticated, CLOSE_UNAUTHENTICATED), (NotFound, CLOSE_UNKNOWN), (Gone, CLOSE_GONE))
    code = next((code for kind, code in codes if isinstance(exc, kind)), CLOSE_MALFORMED)
    return _Closed(code, exc.message)


@router.websocket("/webchat/{key}/socket")
async def chat_socket(websocket: WebSocket, key: str) -> None:
    container: Container = websocket.app.state.container
    await websocket.accept()
    listener = container.hints.listener()
    try:
        await _converse(websocket, container, key, listener)
    except WebSocketDisconnect:
        pass
    except _Closed as closed:
        with contextlib.suppress(Exception):
            await websocket.close(code=closed.code, reason=closed.reason[:120])
    except Exception:
        log.exception("webchat.socket.failed")
        with contextlib.suppress(Exception):
            await websocket.close(code=CLOSE_ERROR, reason="Server error")
    finally:
        listener.close()


async def _converse(websocket: WebSocket, container: Container, key: str, listener: Listener) -> None:
    hello = await _hello(websocket)
    channel_id, visitor_id = await asyncio.to_thread(_open, container, key, hello.token)
    await websocket.send_json({"type": "ready", "visitor_id": visitor_id})
    lock = asyncio.Lock()

    async def send(frame: dict[str, Any]) -> None:
        async with lock:
            await websocket.send_json(frame)

    def fetch(after: int) -> chats.VisitorPage:
        with container.db.session(readonly=True) as session:
            return chats.visitor_messages(session, channel_id=channel_id, visitor_id=visitor_id, after=after)

    def store(text: str) -> dict[str, Any]:
        return _store(container, key, hello.token, text)

    tasks = [
        asyncio.create_task(_push(send, listener, fetch, hello.after)),
        asyncio.create_task(_read(websocket, send, listener, store)),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    for task in done:
        task.result()  # re-raises a disconnect or a close


async def _hello(websocket: WebSocket) -> Hello:
    try:
        message = await asyncio.wait_for(websocket.receive(), HELLO_SECONDS)
    except TimeoutError:
        raise _Closed(CLOSE_TIMEOUT, "No hello frame in time") from None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None or len(text) > MAX_FRAME_BYTES:
        raise _Closed(CLOSE_MALFORMED, "The first frame must be a JSON hello")
    try:
        return Hello.model_validate_json(text)
    except ValidationError:
        raise _Closed(CLOSE_MALFORMED, "The first frame must be a JSON hello") from None


def _open(container: Container, key: str, token: str) -> tuple[int, str]:
    with container.db.session(readonly=True) as session:
        try:
            channel = chats.widget_channel(session, key=key)
            return channel.id, webchat_receive.visitor_of(container.webchat, channel, token)
        except ConvoflowError as exc:
            raise _close_for(exc) from None


async def _push(
    send: Callable[[dict[str, Any]], Any],
    listener: Listener,
    fetch: Callable[[int], chats.VisitorPage],
    cursor: int,
) -> None:
    while True:
        listener.arm()
        more = True
        while more:
            page = await asyncio.to_thread(fetch, cursor)
            listener.follow(page.contact_id)
            if page.messages:
                await send({"type": "messages", "messages": page.messages, "cursor": page.cursor})
            cursor, more = page.cursor, page.more
        await listener.wait(POLL_SECONDS)


async def _read(
    websocket: WebSocket,
    send: Callable[[dict[str, Any]], Any],
    listener: Listener,
    store: Callable[[str], dict[str, Any]],
) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            await send(_error("malformed_payload", "Send JSON text frames"))
            continue
        if len(text) > MAX_FRAME_BYTES:
            raise _Closed(CLOSE_TOO_BIG, f"Frames are limited to {MAX_FRAME_BYTES} bytes")
        reply = await asyncio.to_thread(store, text)
        await send(reply)
        if reply["type"] == "stored":
            listener.poke()  # a first message creates the contact the pusher then follows


def _store(container: Container, key: str, token: str, text: str) -> dict[str, Any]:
    client_id = _client_id(text)
    try:
        with container.db.session() as session:
            channel = chats.widget_channel(session, key=key)
            result = webchat_receive.receive(
                session,
                channel=channel,
                adapter=container.webchat,
                token=token,
                body=text.encode(),
                throttle=container.webchat_throttles.messages,
            )
            session.commit()
    except Gone as exc:
        raise _close_for(exc) from None
    except ConvoflowError as exc:
        return _error(exc.error, exc.message, client_id)
    except Exception:  # SQLite busy past its timeout, say: the widget may send the frame again
        log.exception("webchat.frame.failed")
        return _error("server_error", "The message could not be stored; send it again", client_id)
    return {
        "type": "stored",
        "client_id": client_id,
        "received": result.received,
        "duplicates": result.duplicates,
        "receipts": result.receipts,
    }


def _client_id(text: str) -> str | None:
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    value = frame.get("client_id") if isinstance(frame, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


def _error(error: str, message: str, client_id: str | None = None) -> dict[str, Any]:
    return {"type": "error", "error": error, "message": message, "client_id": client_id}
