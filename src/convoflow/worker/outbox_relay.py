"""The outbox relay: hands staged effects to channels (and HTTP), records the result, wakes the run.

No transaction is open while a provider is called (DESIGN §5). Messages leave first-in first-out per
contact; a provider's transient errors are retried 3 times with exponential backoff (CRM-MSG-04).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from convoflow import metrics
from convoflow.channels.base import OutboundMessage, ReplyTarget, SendFailed, TransientSendFailure
from convoflow.channels.credentials import CredentialsUnreadable
from convoflow.channels.models import Channel
from convoflow.channels.registry import AdapterRegistry
from convoflow.contacts.models import Contact
from convoflow.conversations import messages
from convoflow.conversations.models import Message
from convoflow.db.session import Database
from convoflow.db.session import now as clock_now
from convoflow.events.models import Outbox
from convoflow.events.queue import touch
from convoflow.worker.peek import any_work
from convoflow.workflows.engine.outcomes import EffectResult, wake_to_json
from convoflow.workflows.models import Run

log = logging.getLogger("convoflow.relay")
MAX_ATTEMPTS = 4  # the first try and 3 retries (CRM-MSG-04)
BACKOFF = timedelta(seconds=5)

HttpExecutor = Callable[[dict[str, Any], str], Awaitable[EffectResult]]


@dataclass
class _Job:
    outbox_id: int
    kind: str
    key: str
    attempts: int
    call: Callable[[], Awaitable[Any]]


def _deliverable(now: datetime) -> ColumnElement[bool]:
    due = (Outbox.status == "pending") & (Outbox.next_attempt_at <= now)
    # A worker that died mid-delivery leaves its rows `sending`; once the lease lapses another worker
    # delivers them again under the same idempotency key, so the provider drops a duplicate.
    abandoned = (Outbox.status == "sending") & (Outbox.lease_until < now)
    return due | abandoned


def _claim(session: Session, *, worker: str, lease: timedelta, batch: int) -> list[Outbox]:
    now = clock_now(session)
    earlier = aliased(Outbox)
    blocked_by_earlier = exists(
        select(earlier.id).where(
            earlier.contact_id == Outbox.contact_id,
            earlier.kind == "message",
            earlier.id < Outbox.id,
            earlier.status.in_(("pending", "sending")),
        )
    )
    query = (
        select(Outbox)
        .where(_deliverable(now))
        .where((Outbox.kind != "message") | ~blocked_by_earlier)
        .order_by(Outbox.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Outbox)
    rows = list(session.scalars(query))
    for row in rows:
        row.status, row.claimed_by, row.lease_until = "sending", worker, now + lease
        row.attempts += 1
    return rows


def _run_ended(session: Session, row: Outbox) -> bool:
    if row.run_id is None:
        return False
    status = session.scalar(select(Run.status).where(Run.id == row.run_id))
    return status is None or status == "ended"


def wake_run(session: Session, row: Outbox, result: EffectResult) -> None:
    """The effect's result wakes the run waiting for it: compare-and-set on its wait token (DESIGN §3.5)."""
    if row.run_id is None:
        return
    woken = session.execute(
        update(Run)
        .where(
            Run.id == row.run_id,
            Run.status == "waiting",
            Run.wait_kind == "effect",
            Run.wait_token == row.wait_token,
        )
        .values(status="ready", wake=wake_to_json(result))
        .execution_options(synchronize_session=False)
    )
    if woken.rowcount and row.contact_id is not None:  # type: ignore[attr-defined]
        touch(session, workspace_id=row.workspace_id, contact_id=row.contact_id)


def _message_job(
    session: Session, row: Outbox, adapters: AdapterRegistry
) -> Callable[[], Awaitable[Any]] | str:
    message = session.get(Message, row.message_id) if row.message_id is not None else None
    channel = session.get(Channel, row.request.get("channel_id"))
    contact = session.get(Contact, row.contact_id) if row.contact_id is not None else None
    if message is None or channel is None or contact is None:
        return "The message, its channel or its contact no longer exists"
    if channel.state != "connected":
        return f"The channel {channel.name!r} is not connected"
    adapter = adapters.get(channel.kind)
    if adapter is None:
        return f"No adapter sends on {channel.kind} channels yet"
    since_last_inbound = None
    if adapter.capabilities.window_hours is not None:
        since_last_inbound = _since_last_inbound(session, contact_id=contact.id, channel_id=channel.id)
    reply_to = None
    if adapter.capabilities.threads:
        reply_to = _reply_target(session, contact_id=contact.id, channel_id=channel.id)
    outbound = OutboundMessage(
        channel_id=channel.id,
        external_id=row.request.get("external_id"),
        contact={
            "name": f"{contact.first_name} {contact.last_name}".strip(),
            "phone": contact.phone,
            "email": contact.email,
        },
        content=dict(message.content),
        since_last_inbound=since_last_inbound,
        reply_to=reply_to,
    )
    try:
        config = adapters.config_for(channel)  # settings and decrypted credentials
    except CredentialsUnreadable as exc:
        return str(exc)
    return lambda: adapter.send(outbound, config=config, idempotency_key=row.idempotency_key)


def _since_last_inbound(session: Session, *, contact_id: int, channel_id: int) -> timedelta | None:
    """How long ago the contact last wrote on the channel, by this relay's clock: a window channel's adapter
    (WhatsApp's 24 hours, CRM-CHAN-03) decides at each attempt, so a retry after the window closed fails."""
    last = session.scalar(
        select(func.max(Message.created_at)).where(
            Message.contact_id == contact_id,
            Message.channel_id == channel_id,
            Message.traffic == "incoming",
        )
    )
    return None if last is None else clock_now(session) - last


def _reply_target(session: Session, *, contact_id: int, channel_id: int) -> ReplyTarget | None:
    """What a threading channel's message answers (WF-STEP-SEND-06): the contact's latest incoming message
    on the channel, else the latest one we sent there with a provider id; None for a first message."""
    for traffic in ("incoming", "outgoing"):
        row = session.execute(
            select(Message.provider_message_id, Message.content)
            .where(
                Message.contact_id == contact_id,
                Message.channel_id == channel_id,
                Message.traffic == traffic,
                Message.provider_message_id.is_not(None),
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        ).first()
        if row is not None and row.provider_message_id:
            return ReplyTarget(row.provider_message_id, dict(row.content or {}))
    return None


def _fail(session: Session, row: Outbox, reason: str) -> None:
    row.status, row.result, row.claimed_by, row.lease_until = "failed", {"error": reason}, None, None
    metrics.count_delivery(session, kind=row.kind, result="failed")
    if row.message_id is not None:
        message = session.get(Message, row.message_id)
        if message is not None:
            messages.update_status(session, message=message, status="failed", reason=reason)
    wake_run(session, row, EffectResult(False, error=reason))


def _cancel(session: Session, row: Outbox) -> None:
    """WF-LIFE-05: outgoing messages of ended runs not yet handed to a channel are dropped."""
    row.status, row.result, row.claimed_by, row.lease_until = (
        "cancelled",
        {"error": "The run ended"},
        None,
        None,
    )
    metrics.count_delivery(session, kind=row.kind, result="cancelled")
    if row.message_id is not None:
        message = session.get(Message, row.message_id)
        if message is not None:
            messages.update_status(session, message=message, status="failed", reason="The workflow run ended")


async def relay_once(
    db: Database,
    *,
    worker: str,
    adapters: AdapterRegistry,
    http: HttpExecutor | None,
    lease: timedelta = timedelta(seconds=60),
    batch: int = 100,
) -> int:
    """Claims, delivers and records up to `batch` effects; returns how many it claimed."""
    jobs: list[_Job] = []
    if not any_work(db, select(Outbox.id).where(_deliverable(db.clock.now()))):
        return 0
    with db.session() as session:
        rows = _claim(session, worker=worker, lease=lease, batch=batch)
        for row in rows:
            if _run_ended(session, row):
                _cancel(session, row)
                continue
            if row.kind == "message":
                call = _message_job(session, row, adapters)
            elif http is not None:
                request, key = dict(row.request), row.idempotency_key
                call = lambda request=request, key=key: http(request, key)  # noqa: E731
            else:
                call = "HTTP requests are not enabled in this process"
            if isinstance(call, str):
                _fail(session, row, call)
            else:
                jobs.append(_Job(row.id, row.kind, row.idempotency_key, row.attempts, call))
        session.commit()
    if not rows:
        return 0
    results = await asyncio.gather(*(job.call() for job in jobs), return_exceptions=True)
    with db.session() as session:
        for job, result in zip(jobs, results, strict=True):
            current = session.get(Outbox, job.outbox_id)
            if current is None or current.status != "sending":
                continue  # cancelled or re-claimed meanwhile
            try:
                with session.begin_nested():  # one bad record must not lose the batch's others
                    _record(session, current, result)
            except Exception:
                log.exception("relay.record.failed", extra={"outbox_id": job.outbox_id})
        session.commit()
    return len(rows)


def _record(session: Session, row: Outbox, result: Any) -> None:
    now = clock_now(session)
    if isinstance(result, TransientSendFailure):
        if row.attempts >= MAX_ATTEMPTS:
            _fail(session, row, f"{result} (after {row.attempts} attempts)")
            return
        delay = (
            timedelta(seconds=result.retry_after)
            if result.retry_after
            else BACKOFF * (2 ** (row.attempts - 1))
        )
        row.status, row.next_attempt_at, row.claimed_by, row.lease_until = "pending", now + delay, None, None
        row.result = {"error": str(result)}
        metrics.count_delivery(session, kind=row.kind, result="retry")
        return
    if isinstance(result, SendFailed):
        _fail(session, row, str(result))
        return
    if isinstance(result, BaseException):
        log.error("relay.effect.crashed", exc_info=result)
        _fail(session, row, "Unexpected error while delivering")
        return
    if row.kind == "message":
        provider_id = getattr(result, "provider_message_id", None)
        row.status, row.result, row.claimed_by, row.lease_until = (
            "done",
            {"provider_message_id": provider_id},
            None,
            None,
        )
        metrics.count_delivery(session, kind=row.kind, result="done")
        message = session.get(Message, row.message_id) if row.message_id is not None else None
        if message is not None:
            messages.update_status(session, message=message, status="sent", provider_message_id=provider_id)
        wake_run(session, row, EffectResult(True, {"message_id": row.message_id}))
        return
    assert isinstance(result, EffectResult)
    row.status = "done" if result.ok else "failed"
    metrics.count_delivery(session, kind=row.kind, result=row.status)
    row.result, row.claimed_by, row.lease_until = (
        {"ok": result.ok, **result.data, "error": result.error},
        None,
        None,
    )
    wake_run(session, row, result)
