"""The Incoming Webhook trigger's receiver (WF-TRG-HOOK-01..04).

A request enrols through the same `enrol()` as every trigger, so the run then proceeds in the worker
like any other; the reply says whether it enrolled. The signing secret is derived from the instance
secret key and the URL token, so *Regenerate* replaces both at once and nothing secret is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.clock import Clock
from convoflow.contacts import service as contacts
from convoflow.contacts.models import Contact
from convoflow.db.session import now
from convoflow.errors import (
    Conflict,
    ConvoflowError,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
)
from convoflow.events.actor import Actor
from convoflow.workflows import service
from convoflow.workflows.definition import jsonpath
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.triggers import IncomingWebhookConfig, IncomingWebhookTrigger
from convoflow.workflows.enrolment import enrol
from convoflow.workflows.models import Workflow, WorkflowVersion

MAX_BODY_BYTES = 256 * 1024  # WF-TRG-HOOK-01
REQUESTS_PER_SECOND = 20  # WF-TRG-HOOK-04
SIGNATURE_HEADER = "X-Convoflow-Signature"
NAME_MAX = 100


class HookReply(BaseModel):
    status: str  # enrolled | ignored | captured (a test event, WF-TRG-HOOK-03)
    reason: str | None = None


class HookRateLimiter:
    """Per process and per workflow: more than 20 requests within one second are refused."""

    def __init__(self, clock: Clock, *, limit: int = REQUESTS_PER_SECOND) -> None:
        self._clock = clock
        self._limit = limit
        self._hits: dict[int, deque[datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, workflow_id: int) -> None:
        with self._lock:
            at = self._clock.now()
            horizon = at - timedelta(seconds=1)
            if len(self._hits) > 1000:  # forget workflows that went quiet
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > horizon}
            hits = self._hits.setdefault(workflow_id, deque())
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= self._limit:
                raise RateLimited(
                    f"More than {self._limit} requests per second to this webhook", details={"retry_after": 1}
                )
            hits.append(at)


def signing_secret(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), f"workflow-hook:{token}".encode(), hashlib.sha256).hexdigest()


def signature_of(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


LISTEN_FOR = timedelta(minutes=10)  # "Listen for test event" waits this long for one request


class WebhookInfo(BaseModel):
    path: str | None
    url: str | None
    signing_secret: str | None
    signature_header: str = SIGNATURE_HEADER
    listening_until: datetime | None = None
    sample: dict[str, Any] | None = None  # {received_at, body}: the last test event captured


def webhook_info(
    session: Session, principal: Principal, *, workflow_id: int, secret_key: str, base_url: str
) -> WebhookInfo:
    """The URL and signing secret shown beside the trigger (Owners and Managers)."""
    workflow = service.get_workflow(session, principal, workflow_id)
    return _info(session, workflow, secret_key=secret_key, base_url=base_url)


def _info(session: Session, workflow: Workflow, *, secret_key: str, base_url: str) -> WebhookInfo:
    path = service.webhook_path(workflow)
    if path is None or workflow.hook_token is None:
        return WebhookInfo(path=None, url=None, signing_secret=None)
    return WebhookInfo(
        path=path,
        url=base_url + path,
        signing_secret=signing_secret(secret_key, workflow.hook_token),
        listening_until=_listening_until(session, workflow),
        sample=workflow.hook_sample,
    )


def _listening_until(session: Session, workflow: Workflow) -> datetime | None:
    until = workflow.hook_listen_until
    if until is None:
        return None
    until = until if until.tzinfo is not None else until.replace(tzinfo=UTC)  # SQLite keeps no zone
    return until if until > now(session) else None


def listen_for_test_event(
    session: Session, principal: Principal, *, workflow_id: int, secret_key: str, base_url: str
) -> WebhookInfo:
    """WF-TRG-HOOK-03: the next request to the URL, within 10 minutes, is captured to help build JSON
    paths and enrols nobody; it works on a Draft too, so paths can be built before publishing."""
    workflow = service.get_workflow(session, principal, workflow_id, lock=True)
    if service.webhook_path(workflow) is None:
        raise Conflict("This workflow has no Incoming Webhook trigger", error="not_a_webhook_workflow")
    workflow.hook_listen_until = now(session) + LISTEN_FOR
    workflow.hook_sample = None
    session.flush()
    return _info(session, workflow, secret_key=secret_key, base_url=base_url)


def _capture(session: Session, workflow: Workflow, body: bytes) -> HookReply:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedRequest("The request body is not valid JSON", error="malformed_json") from None
    workflow.hook_sample = {"received_at": now(session).isoformat(), "body": document}
    workflow.hook_listen_until = None  # one request only
    session.flush()
    return HookReply(status="captured")


def _published(session: Session, workflow: Workflow) -> WorkflowDefinition | None:
    """The last published definition when its trigger is an Incoming Webhook."""
    if workflow.published_version_id is None:
        return None
    version = session.get(WorkflowVersion, workflow.published_version_id)
    definition = None if version is None else WorkflowDefinition.model_validate(version.definition)
    return definition if definition and isinstance(definition.trigger, IncomingWebhookTrigger) else None


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    return None


def _not_identified(message: str) -> MalformedRequest:
    return MalformedRequest(message, error="contact_not_identified")


def _name(document: Any, path: str | None) -> str | None:
    value = _scalar_text(jsonpath.extract(document, path)) if path else None
    return None if value is None else value[:NAME_MAX]


def find_or_create_contact(
    session: Session, workflow: Workflow, config: IncomingWebhookConfig, document: Any
) -> Contact:
    """WF-TRG-HOOK-02: the JSON path names a phone (E.164), an email or a contact id."""
    value = _scalar_text(jsonpath.extract(document, config.contact_path))
    if value is None:
        raise _not_identified(f"No contact {config.identify_by} at {config.contact_path}")
    workspace_id = workflow.workspace_id
    if config.identify_by == "id":
        found = (
            contacts.find_contact(session, workspace_id=workspace_id, contact_id=int(value))
            if value.isascii() and value.isdigit() and int(value) < 2**63
            else None
        )
        if found is None:
            raise _not_identified(f"No contact with id {value}")
        return found
    try:
        normalised = contacts.normalise_standard(
            session, workspace_id=workspace_id, values={config.identify_by: value}
        )
    except ConvoflowError as exc:
        raise _not_identified(f"The {config.identify_by} {value!r} is not valid: {exc.message}") from None
    identifier: str = normalised[config.identify_by]
    found = (
        contacts.find_by_phone(session, workspace_id=workspace_id, phone=identifier)
        if config.identify_by == "phone"
        else contacts.find_by_email(session, workspace_id=workspace_id, email=identifier)
    )
    if found is not None:
        return found
    if not config.create_if_missing:
        raise _not_identified(f"No contact with {config.identify_by} {identifier}")
    values: dict[str, Any] = {
        config.identify_by: identifier,
        "first_name": _name(document, config.first_name_path) or identifier,
    }
    last_name = _name(document, config.last_name_path)
    if last_name:
        values["last_name"] = last_name
    try:
        with session.begin_nested():
            return contacts.create_contact(
                session, workspace_id=workspace_id, actor=Actor.system(), values=values
            )
    except ConvoflowError as exc:
        raise _not_identified(f"The contact could not be created: {exc.message}") from None


def receive(
    session: Session,
    *,
    token: str,
    body: bytes,
    signature: str | None,
    secret_key: str,
    limiter: HookRateLimiter,
) -> HookReply:
    """WF-TRG-HOOK-04, checked in this order: 404 token, 413 size, 429 rate, 401 signature, then
    `ignored` when not published, 400 JSON or contact, and finally the enrolment's own verdict."""
    workflow = session.scalar(select(Workflow).where(Workflow.hook_token == token))
    definition = None if workflow is None else _published(session, workflow)
    if workflow is None or (definition is None and service.webhook_path(workflow) is None):
        raise NotFound("Unknown webhook", error="unknown_webhook")
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes")
    limiter.hit(workflow.id)
    trigger = None if definition is None else definition.trigger
    assert trigger is None or isinstance(trigger, IncomingWebhookTrigger)
    if trigger is not None and trigger.config.require_signature:
        expected = signature_of(signing_secret(secret_key, token), body)
        if signature is None or not hmac.compare_digest(signature.strip().encode(), expected.encode()):
            raise Unauthenticated(f"Missing or wrong {SIGNATURE_HEADER} header", error="bad_signature")
    if _listening_until(session, workflow) is not None:
        return _capture(session, workflow, body)
    if workflow.state != "published" or definition is None or trigger is None:
        return HookReply(status="ignored", reason="not_published")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedRequest("The request body is not valid JSON", error="malformed_json") from None
    contact = find_or_create_contact(session, workflow, trigger.config, document)
    assert workflow.published_version_id is not None
    decision = enrol(
        session,
        workspace_id=workflow.workspace_id,
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        version_id=workflow.published_version_id,
        definition=definition,
        contact_id=contact.id,
        variables={m.name: jsonpath.extract(document, m.path) for m in trigger.config.mappings},
        event_id=None,
    )
    if decision.outcome == "enrolled":
        return HookReply(status="enrolled")
    return HookReply(status="ignored", reason=decision.outcome)
