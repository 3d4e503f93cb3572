"""Web Chat over HTTP: the widget script, the /demo page, visitors, messages (the REST fallback of
the WebSocket), uploads and uploaded files. Errors have the API's JSON body; no route answers 500 for
bad input.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel

from convoflow.api.deps import ContainerDep, SessionDep
from convoflow.channels import ingest, webchat_receive
from convoflow.channels import webchat_service as chats
from convoflow.channels.webchat import assets
from convoflow.channels.webchat.adapter import file_path
from convoflow.channels.webchat.uploads import UploadRefused
from convoflow.channels.webchat.visitors import bearer
from convoflow.errors import NotFound, PayloadTooLarge, field_error

# The widget's own wire, not the REST API: left out of the OpenAPI document like the provider webhooks.
router = APIRouter(tags=["webchat"], include_in_schema=False)

# Shown inline only when a browser cannot run it; everything else downloads.
_INLINE = ("image/", "audio/", "video/")


class VisitorIssued(BaseModel):
    visitor_id: str
    token: str  # `Authorization: Bearer <token>` on every later request, `token` in the socket's hello


class VisitorMessages(BaseModel):
    messages: list[dict[str, object]]
    cursor: int  # pass as `after` next time
    more: bool


class FrameStored(BaseModel):
    status: str = "ok"
    received: int
    duplicates: int
    receipts: int


class FileUploaded(BaseModel):
    file_id: str
    kind: str
    name: str
    size: int
    url: str


async def _raw_body(request: Request) -> bytes:
    return await request.body()


Body = Annotated[bytes, Depends(_raw_body)]


def _token(request: Request) -> str | None:
    return bearer(request.headers.get("authorization"))


@router.get("/widget/webchat.js", include_in_schema=False)
def widget_script() -> Response:
    return Response(
        assets.widget_script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/demo", include_in_schema=False)
def demo_page(request: Request) -> HTMLResponse:
    key: str | None = getattr(request.app.state, "demo_widget_key", None)
    if key is None:
        raise NotFound("The demo page is served by `convoflow demo` only")
    return HTMLResponse(assets.demo_page(key))


@router.post("/webchat/{key}/visitors", status_code=201, response_model=VisitorIssued)
def new_visitor(key: str, request: Request, container: ContainerDep, session: SessionDep) -> VisitorIssued:
    """A new visitor of the chat: a random id and the token that proves it."""
    channel = chats.widget_channel(session, key=key)
    container.webchat_throttles.visitors.hit(request.client.host if request.client else "unknown")
    token = container.webchat.keys.issue(channel.id)
    return VisitorIssued(visitor_id=token.partition(".")[0], token=token)


@router.get("/webchat/{key}/messages", response_model=VisitorMessages)
def visitor_messages(
    key: str,
    request: Request,
    container: ContainerDep,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=ingest.MAX_ID)] = 0,
) -> VisitorMessages:
    """The visitor's messages after the cursor `after`: what the widget polls when the socket fails."""
    channel = chats.widget_channel(session, key=key)
    visitor_id = webchat_receive.visitor_of(container.webchat, channel, _token(request))
    page = chats.visitor_messages(session, channel_id=channel.id, visitor_id=visitor_id, after=after)
    return VisitorMessages(messages=page.messages, cursor=page.cursor, more=page.more)


@router.post("/webchat/{key}/messages", response_model=FrameStored)
def post_frame(
    key: str, request: Request, container: ContainerDep, session: SessionDep, body: Body
) -> FrameStored:
    """One widget frame (text, button press, attachment or ack), stored once per `client_id`."""
    channel = chats.widget_channel(session, key=key)
    if len(body) > ingest.MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {ingest.MAX_WEBHOOK_BYTES} bytes")
    result = webchat_receive.receive(
        session,
        channel=channel,
        adapter=container.webchat,
        token=_token(request),
        body=body,
        throttle=container.webchat_throttles.messages,
    )
    session.commit()
    return FrameStored(received=result.received, duplicates=result.duplicates, receipts=result.receipts)


@router.post("/webchat/{key}/uploads", status_code=201, response_model=FileUploaded)
def upload(
    key: str,
    request: Request,
    container: ContainerDep,
    session: SessionDep,
    body: Body,
    name: Annotated[str | None, Query(max_length=255)] = None,
) -> FileUploaded:
    """The request body is the file itself, its type in Content-Type; send it next as an attachment."""
    channel = chats.widget_channel(session, key=key)
    visitor_id = webchat_receive.visitor_of(container.webchat, channel, _token(request))
    container.webchat_throttles.uploads.hit(f"{channel.id}:{visitor_id}")
    store = container.webchat.uploads
    if len(body) > store.max_bytes:
        raise PayloadTooLarge(f"The file is larger than {store.max_bytes:,} bytes")
    try:
        stored = store.save(
            channel_id=channel.id,
            visitor_id=visitor_id,
            data=body,
            content_type=request.headers.get("content-type"),
            name=name,
        )
    except UploadRefused as exc:
        raise field_error("file", str(exc), error="file_refused") from None
    url = container.settings.public_base_url + file_path(stored.file_id)
    return FileUploaded(file_id=stored.file_id, kind=stored.kind, name=stored.name, size=stored.size, url=url)


@router.get("/webchat/files/{file_id}", include_in_schema=False)
def download(file_id: str, container: ContainerDep) -> FileResponse:
    """An uploaded file; its random id is the key to it. Never rendered as a page of our origin."""
    store = container.webchat.uploads
    stored = store.find(file_id)
    if stored is None:
        raise NotFound("No such file")
    inline = stored.content_type.startswith(_INLINE)
    return FileResponse(
        store.path(stored),
        media_type=stored.content_type,
        filename=stored.name,
        content_disposition_type="inline" if inline else "attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=86400",
        },
    )
