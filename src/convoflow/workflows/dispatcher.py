"""The dispatcher: a contact's domain events, in order → answers to waiting questions and enrolments.

Runs under the contact's claim (one worker per contact, WF-RUN-05). Every event is marked dispatched
with its decisions, the "why did or didn't my workflow fire?" record (DESIGN §3.13).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from convoflow import metrics
from convoflow.accounts.models import User, Workspace
from convoflow.channels.models import Channel
from convoflow.db.base import table_of
from convoflow.db.session import core
from convoflow.events import catalogue
from convoflow.events.models import Event
from convoflow.workflows.assignment_queue import requeue_assignments
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.engine.conditions import Facts, holds
from convoflow.workflows.engine.outcomes import Reply, wake_to_json
from convoflow.workflows.enrolment import Decision, enrol
from convoflow.workflows.models import Run, Workflow, WorkflowVersion
from convoflow.workflows.store import SqlRunHost
from convoflow.workflows.triggers.index import PublishedTrigger, TriggerIndex
from convoflow.workflows.triggers.matchers import EVENT_TRIGGERS, EventView, match

BATCH = 200


def load_published(session: Session, workspace_id: int) -> list[PublishedTrigger]:
    rows = session.execute(
        select(Workflow.id, Workflow.name, WorkflowVersion.id, WorkflowVersion.definition)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(Workflow.workspace_id == workspace_id, Workflow.state == "published")
        .order_by(Workflow.id)
    )
    return [
        PublishedTrigger(workflow_id, name, version_id, WorkflowDefinition.model_validate(document))
        for workflow_id, name, version_id, document in rows
    ]


_EVENT_COLUMNS = select(
    Event.id, Event.workspace_id, Event.contact_id, Event.type, Event.source, Event.actor_id, Event.payload
)
_PENDING_EVENTS = (
    _EVENT_COLUMNS.where(Event.contact_id == bindparam("contact_id"), Event.dispatched_at.is_(None))
    .order_by(Event.id)
    .limit(BATCH)
)
_USER = select(User.id, User.first_name, User.last_name, User.email).where(User.id == bindparam("user_id"))
_CHANNEL_NAME = select(Channel.name).where(Channel.id == bindparam("channel_id"))
_REVISION = select(Workspace.workflow_revision).where(Workspace.id == bindparam("workspace_id"))
_LATEST_QUESTION = (
    select(Run.id, Run.wait_token)
    .where(Run.contact_id == bindparam("contact_id"), Run.status == "waiting", Run.wait_kind == "reply")
    .order_by(Run.waiting_since.desc(), Run.id.desc())
    .limit(1)
)
_ANSWER = (
    table_of(Run)
    .update()
    .where(
        table_of(Run).c.id == bindparam("w_run"),
        table_of(Run).c.status == "waiting",
        table_of(Run).c.wait_token == bindparam("w_token"),
    )
)
_MARK_DISPATCHED = (
    update(Event)
    .where(Event.id == bindparam("event_id"))
    .values(dispatched_at=bindparam("at"), decisions=bindparam("decisions"))
)


def _view(session: Session, event: Any) -> EventView:
    user = None
    if event.source == "user" and event.actor_id is not None:
        person = core(session).execute(_USER, {"user_id": event.actor_id}).first()
        if person is not None:
            user = {
                "id": person.id,
                "name": f"{person.first_name} {person.last_name}".strip(),
                "firstname": person.first_name,
                "lastname": person.last_name,
                "email": person.email,
            }
    channel_id = event.payload.get("channel_id")
    channel = (
        core(session).scalar(_CHANNEL_NAME, {"channel_id": channel_id})
        if isinstance(channel_id, int)
        else None
    )
    return EventView(
        id=event.id,
        type=event.type,
        source=event.source,
        actor_id=event.actor_id,
        payload=event.payload,
        user=user,
        channel_name=channel,
    )


def offer_reply(session: Session, *, contact_id: int, event: Any) -> int | None:
    """WF-STEP-ASK-02: the contact's inbound message answers the most recently asked question."""
    message = event.payload.get("message") or {}
    if message.get("traffic") != "incoming":
        return None
    waiting = core(session).execute(_LATEST_QUESTION, {"contact_id": contact_id}).first()
    if waiting is None:
        return None
    content = message.get("content") or {}
    reply = Reply(int(message["id"]), str(message.get("type", "text")), str(content.get("text", "")), content)
    woken = core(session).execute(
        _ANSWER, {"w_run": waiting[0], "w_token": waiting[1], "status": "ready", "wake": wake_to_json(reply)}
    )
    return waiting[0] if woken.rowcount else None


def dispatch_contact(
    session: Session, *, contact_id: int, index: TriggerIndex, host: SqlRunHost, now: datetime
) -> int:
    """Dispatches the contact's pending events in order; returns how many it handled."""
    events = core(session).execute(_PENDING_EVENTS, {"contact_id": contact_id}).all()
    if not events:
        return 0
    revisions: dict[int, int] = {}
    marks = []
    for event in events:
        decisions: list[dict[str, Any]] = []
        if event.type == catalogue.MESSAGE_RECEIVED:
            answered = offer_reply(session, contact_id=contact_id, event=event)
            if answered is not None:
                decisions.append({"answer_for_run": answered})
        if _may_free_capacity(event):
            requeue_assignments(session, workspace_ids=[event.workspace_id])  # WF-STEP-ASSIGN-05
        if event.type in EVENT_TRIGGERS:
            enrolments = _enrolments(session, event, index=index, host=host, now=now, revisions=revisions)
            decisions += [d.as_json() for d in enrolments]
        marks.append({"event_id": event.id, "at": now, "decisions": decisions})
        metrics.count_dispatched(session, event_type=event.type)
    core(session).execute(_MARK_DISPATCHED, marks)
    return len(events)


def _may_free_capacity(event: Any) -> bool:
    """A closed conversation or a contact taken from a user may let a queued contact be assigned."""
    if event.type == catalogue.CONVERSATION_CLOSED:
        return True
    return event.type == catalogue.CONTACT_ASSIGNEE_UPDATED and event.payload.get("previous") is not None


def _enrolments(
    session: Session,
    event: Any,
    *,
    index: TriggerIndex,
    host: SqlRunHost,
    now: datetime,
    revisions: dict[int, int],
) -> list[Decision]:
    revision = revisions.get(event.workspace_id)
    if revision is None:  # read once per dispatch: enrolment re-checks the workflow is still published
        revision = core(session).scalar(_REVISION, {"workspace_id": event.workspace_id}) or 0
        revisions[event.workspace_id] = revision
    candidates = index.candidates(
        workspace_id=event.workspace_id,
        revision=revision,
        event_type=event.type,
        load=lambda workspace_id: load_published(session, workspace_id),
    )
    if not candidates:
        return []
    assert event.contact_id is not None
    view = _view(session, event)
    decisions = []
    for published in candidates:
        assert published.trigger is not None
        found = match(published.trigger, view)
        if found is None:
            decisions.append(Decision(published.workflow_id, "no_match"))
            continue
        contact = host.contact(event.contact_id)
        if contact is None:
            break
        facts = Facts(
            contact=contact, now=now, zone=host.workspace(event.workspace_id).zone, extras=found.extras
        )
        filter_ = found.extras.get("assignee_filter")
        if filter_ is not None:
            users, teams = filter_
            person = contact.assignee
            if person is None or not (person.id in users or person.team_id in teams):
                decisions.append(Decision(published.workflow_id, "conditions_false"))
                continue
        if found.conditions is not None and not holds(found.conditions, facts):
            decisions.append(Decision(published.workflow_id, "conditions_false"))
            continue
        if contact.blocked:  # WF-RUN-01: type and source, conditions, then not blocked
            decisions.append(Decision(published.workflow_id, "blocked"))
            continue
        decisions.append(
            enrol(
                session,
                workspace_id=event.workspace_id,
                workflow_id=published.workflow_id,
                workflow_name=published.workflow_name,
                version_id=published.version_id,
                definition=published.definition,
                contact_id=event.contact_id,
                variables=found.variables,
                event_id=event.id,
            )
        )
    return decisions
