"""The engine's ports over SQL: runs, step records, timers, the contact, the outbox (DESIGN §3)."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from convoflow import metrics
from convoflow.accounts.models import Membership, User, Workspace
from convoflow.accounts.users import availability
from convoflow.accounts.workspace_settings import WorkspaceSettings
from convoflow.channels.models import Channel
from convoflow.channels.reach import can_reach, default_channel
from convoflow.contacts import assignment, lifecycle, tags
from convoflow.contacts import service as contacts
from convoflow.contacts.identities import find_identity_external_id
from convoflow.contacts.models import Contact, ContactField, ContactTag, LifecycleStage, Tag
from convoflow.conversations import comments, messages
from convoflow.conversations import service as conversations
from convoflow.conversations.models import ClosingCategory, Message
from convoflow.db.base import table_of
from convoflow.db.session import core, now
from convoflow.errors import ConvoflowError
from convoflow.events.actor import Actor
from convoflow.events.models import Outbox
from convoflow.events.queue import signal_work
from convoflow.teams.models import Team
from convoflow.workflows import assignee_choice
from convoflow.workflows.activity import record_left
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.engine.context import WorkspaceFacts
from convoflow.workflows.engine.host import StepRecord
from convoflow.workflows.engine.ports import AssigneeChoice, ChannelInfo
from convoflow.workflows.engine.snapshot import Assignee, ContactSnapshot, LastMessage
from convoflow.workflows.engine.state import RunState
from convoflow.workflows.enrolment import enrol_manual
from convoflow.workflows.models import Run, RunStep, Timer, WorkflowVersion

# Versions are immutable: each database's are cached for the life of its engine.
_definitions: weakref.WeakKeyDictionary[Any, dict[int, WorkflowDefinition]] = weakref.WeakKeyDictionary()
_definitions_lock = threading.Lock()


# The runner's statements, built once: a statement built per call costs more CPU than SQLite takes to
# run it (docs/benchmarks.md). Values go in as parameters; an UPDATE's SET comes from the keys given.
_CONTACT = select(
    Contact.workspace_id, Contact.first_name, Contact.last_name, Contact.email, Contact.phone,
    Contact.language, Contact.country_code, Contact.blocked, Contact.lifecycle_stage_id,
    Contact.attributes, Contact.last_channel_id, Contact.assignee_user_id,
).where(Contact.id == bindparam("contact_id"))  # fmt: skip
_STEPS = table_of(RunStep)
_THE_STEP = (_STEPS.c.run_id == bindparam("w_run")) & (_STEPS.c.seq == bindparam("w_seq"))
_STEP_RESUMED = select(_STEPS.c.state, _STEPS.c.summary, _STEPS.c.attempt).where(_THE_STEP)
_STEP_SUMMARY = select(_STEPS.c.summary).where(_THE_STEP)
_INSERT_STEP = insert(_STEPS)
_UPDATE_STEP = _STEPS.update().where(_THE_STEP)
_INSERT_TIMER = insert(table_of(Timer))
_UPDATE_RUN = table_of(Run).update().where(table_of(Run).c.id == bindparam("w_run"))


_RUN_COLUMNS = (
    Run.id, Run.workspace_id, Run.workflow_id, Run.workflow_name, Run.version_id, Run.contact_id,
    Run.status, Run.cursor, Run.next_seq, Run.wait_kind, Run.wait_token, Run.wake, Run.variables,
    Run.jumps, Run.steps_done, Run.end_reason, Run.waiting_since,
)  # fmt: skip


_READY_RUNS = (
    select(*_RUN_COLUMNS)
    .where(Run.contact_id == bindparam("contact_id"), Run.status == "ready")
    .order_by(Run.id)
    .with_for_update()
)


def run_state(row: Any) -> RunState:
    """A RunState from a runs row (an ORM Run or a row of _RUN_COLUMNS)."""
    return RunState(
        id=row.id,
        workspace_id=row.workspace_id,
        workflow_id=row.workflow_id,
        workflow_name=row.workflow_name,
        version_id=row.version_id,
        contact_id=row.contact_id,
        status=row.status,
        cursor=row.cursor,
        next_seq=row.next_seq,
        wait_kind=row.wait_kind,
        wait_token=row.wait_token,
        wake=row.wake,
        variables=dict(row.variables),
        jumps=dict(row.jumps),
        steps_done=row.steps_done,
        end_reason=row.end_reason,
        waiting_since=row.waiting_since,
    )


def ready_runs(session: Session, contact_id: int) -> list[RunState]:
    # Locked (PostgreSQL) until the contact's transaction ends: a concurrent stop waits for the step
    # in progress and then ends the run, instead of being overwritten by the runner's save.
    rows = core(session).execute(_READY_RUNS, {"contact_id": contact_id})
    return [run_state(row) for row in rows]


def _text_of(content: dict[str, Any]) -> str:
    for key in ("text", "title", "caption", "description"):
        value = content.get(key)
        if isinstance(value, str):
            return value
    return ""


@dataclass
class WorkspaceCache:
    """Workspace facts a claimed batch of contacts shares: read once per batch, not once per step."""

    workspaces: dict[int, WorkspaceFacts] = field(default_factory=dict)
    field_types: dict[int, dict[str, str]] = field(default_factory=dict)


class SqlRunHost:
    """RunHost over one session; everything it does commits with the caller's transaction."""

    def __init__(self, session: Session, facts: WorkspaceCache | None = None) -> None:
        self.session = session
        self._facts = facts or WorkspaceCache()
        self._step_started: dict[tuple[int, int], tuple[str, float]] = {}  # for the latency metric
        self._summaries: dict[tuple[int, int], dict[str, Any]] = {}  # of step rows being executed

    # --- reading -----------------------------------------------------------------------------
    def definition(self, version_id: int) -> WorkflowDefinition:
        bind = self.session.get_bind()
        with _definitions_lock:
            cache = _definitions.setdefault(bind, {})
            cached = cache.get(version_id)
        if cached is None:
            version = self.session.get(WorkflowVersion, version_id)
            if version is None:
                raise LookupError(f"workflow version {version_id} is gone")
            cached = WorkflowDefinition.model_validate(version.definition)
            with _definitions_lock:
                cache[version_id] = cached
        return cached

    def workspace(self, workspace_id: int) -> WorkspaceFacts:
        facts = self._facts.workspaces.get(workspace_id)
        if facts is None:
            row = (
                core(self.session)
                .execute(select(Workspace.timezone, Workspace.settings).where(Workspace.id == workspace_id))
                .one()
            )
            settings = WorkspaceSettings.model_validate(row.settings)
            facts = WorkspaceFacts(
                zone=ZoneInfo(row.timezone),
                business_hours=settings.business_hours.model_dump(mode="json"),
                date_format=settings.date_format,
                default_country=settings.default_country,
            )
            self._facts.workspaces[workspace_id] = facts
        return facts

    def _types(self, workspace_id: int) -> dict[str, str]:
        types = self._facts.field_types.get(workspace_id)
        if types is None:
            rows = core(self.session).execute(
                select(ContactField.slug, ContactField.type).where(ContactField.workspace_id == workspace_id)
            )
            types = {slug: field_type for slug, field_type in rows}
            self._facts.field_types[workspace_id] = types
        return types

    def contact(self, contact_id: int) -> ContactSnapshot | None:
        """Read fresh from the database at every step (WF-VAR-03): the row's columns, not an ORM object,
        so a step's read never waits on the session's identity map or unit of work."""
        session = self.session
        row = core(session).execute(_CONTACT, {"contact_id": contact_id}).first()
        if row is None:
            return None
        workspace_id, stage_id, assignee_id = row.workspace_id, row.lifecycle_stage_id, row.assignee_user_id
        return ContactSnapshot(
            id=contact_id,
            workspace_id=workspace_id,
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            phone=row.phone,
            language=row.language,
            country_code=row.country_code,
            blocked=row.blocked,
            stage_id=stage_id,
            custom=dict(row.attributes),
            field_types=self._types(workspace_id),
            last_channel_id=row.last_channel_id,
            loaders={
                "stage_name": lambda: self._stage_name(stage_id),
                "tags": lambda: self._tags(contact_id),
                "assignee": lambda: self._assignee(workspace_id, assignee_id),
                "conversation_open": lambda: (
                    conversations.find_open(session, contact_id=contact_id) is not None
                ),
                "last_incoming": lambda: self._last_message(contact_id, "incoming"),
                "last_outgoing": lambda: self._last_message(contact_id, "outgoing"),
            },
        )

    def _stage_name(self, stage_id: int | None) -> str | None:
        stage = None if stage_id is None else self.session.get(LifecycleStage, stage_id)
        return None if stage is None else stage.name

    def _tags(self, contact_id: int) -> dict[int, str]:
        rows = core(self.session).execute(
            select(Tag.id, Tag.name)
            .join(ContactTag, ContactTag.tag_id == Tag.id)
            .where(ContactTag.contact_id == contact_id)
        )
        return {tag_id: name for tag_id, name in rows}

    def _assignee(self, workspace_id: int, user_id: int | None) -> Assignee | None:
        if user_id is None:
            return None
        row = self.session.execute(
            select(User, Membership.team_id, Team.name)
            .join(Membership, Membership.user_id == User.id)
            .outerjoin(Team, Team.id == Membership.team_id)
            .where(User.id == user_id, Membership.workspace_id == workspace_id)
        ).first()
        if row is None:
            return None
        user, team_id, team_name = row
        return Assignee(
            user.id, user.first_name, user.last_name, user.email, team_id, team_name,
            availability(user, now(self.session)) == "online",
        )  # fmt: skip

    def _last_message(self, contact_id: int, traffic: str) -> LastMessage | None:
        message = self.session.scalar(
            select(Message)
            .where(Message.contact_id == contact_id, Message.traffic == traffic)
            .order_by(Message.id.desc())
            .limit(1)
        )
        if message is None:
            return None
        return LastMessage(_text_of(message.content), message.created_at, message.source)

    # --- effects -----------------------------------------------------------------------------
    def ops(self, run: RunState, seq: int) -> SqlContactOps:
        return SqlContactOps(self.session, run)

    def effects(self, run: RunState, seq: int, attempt: int, state: dict[str, Any]) -> SqlEffects:
        return SqlEffects(self.session, run, seq=seq, attempt=attempt, state=state)

    def handover(self, run: RunState) -> SqlHandover:
        return SqlHandover(self.session, run)

    # --- records -----------------------------------------------------------------------------
    def step_record(self, run: RunState, seq: int, step_key: str, step_type: str) -> StepRecord:
        # A monitoring duration, not business time: the injected Clock does not move during a step.
        self._step_started[(run.id, seq)] = (step_type, time.perf_counter())
        connection = core(self.session)
        # Only a woken run resumes a step already recorded; any other step gets a fresh sequence number.
        if run.wake is not None:
            row = connection.execute(_STEP_RESUMED, {"w_run": run.id, "w_seq": seq}).first()
            if row is not None:
                self._summaries[(run.id, seq)] = dict(row.summary)
                return StepRecord(seq, dict(row.state), row.attempt, existing=True)
        connection.execute(
            _INSERT_STEP,
            {
                "run_id": run.id,
                "seq": seq,
                "step_key": step_key,
                "step_type": step_type,
                "status": "running",
                "output": None,
                "attempt": 1,
                "state": {},
                "summary": {},
                "started_at": now(self.session),
                "finished_at": None,
            },
        )
        self._summaries[(run.id, seq)] = {}
        return StepRecord(seq, {}, 1, existing=False)

    def _observe_step(self, run: RunState, record: StepRecord) -> None:
        started = self._step_started.pop((run.id, record.seq), None)
        if started is not None:
            metrics.STEP_SECONDS.labels(step_type=started[0]).observe(time.perf_counter() - started[1])

    def _update_step(self, run: RunState, record: StepRecord, summary: dict[str, Any], **values: Any) -> None:
        self._observe_step(run, record)
        earlier = self._summaries.pop((run.id, record.seq), None)
        where = {"w_run": run.id, "w_seq": record.seq}
        connection = core(self.session)
        if earlier is None:
            earlier = dict(connection.scalar(_STEP_SUMMARY, where) or {})
        connection.execute(
            _UPDATE_STEP, {**where, "state": dict(record.state), "summary": {**earlier, **summary}, **values}
        )

    def finish_step(
        self,
        run: RunState,
        record: StepRecord,
        *,
        status: str,
        output: str | None,
        summary: dict[str, Any],
        error: dict[str, Any] | None = None,
    ) -> None:
        self._update_step(
            run, record, summary, status=status, output=output, error=error, finished_at=now(self.session)
        )

    def suspend_step(self, run: RunState, record: StepRecord, *, summary: dict[str, Any]) -> None:
        self._update_step(run, record, summary, status="waiting")

    def add_timer(self, run: RunState, due_at: datetime) -> None:
        core(self.session).execute(
            _INSERT_TIMER,
            {
                "run_id": run.id,
                "contact_id": run.contact_id,
                "token": run.wait_token,
                "kind": "timeout",
                "due_at": due_at,
                "claimed_by": None,
                "lease_until": None,
            },
        )

    def save(self, run: RunState) -> None:
        at = now(self.session)
        if run.status == "ended" and run.end_reason is not None:  # it ended in this visit
            metrics.count_runs_finished(self.session, reason=run.end_reason)
            record_left(
                self.session,
                run_id=run.id,
                workspace_id=run.workspace_id,
                contact_id=run.contact_id,
                workflow_id=run.workflow_id,
                workflow_name=run.workflow_name,
                reason=run.end_reason,
            )
        core(self.session).execute(
            _UPDATE_RUN,
            {
                "w_run": run.id,
                "status": run.status,
                "end_reason": run.end_reason,
                "cursor": run.cursor,
                "next_seq": run.next_seq,
                "wait_kind": run.wait_kind,
                "wait_token": run.wait_token,
                "waiting_since": run.waiting_since,
                "wake": run.wake,
                "variables": run.variables,
                "jumps": run.jumps,
                "steps_done": run.steps_done,
                "ended_at": at if run.status == "ended" else None,
            },
        )

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.session.begin_nested():
            yield


class SqlContactOps:
    """Changes to the run's contact, made as source `workflow` with the run id (WF-RUN-17)."""

    def __init__(self, session: Session, run: RunState) -> None:
        self.session = session
        self.run = run
        self.actor = Actor.workflow(run.id)

    def _contact(self) -> Contact:
        contact = self.session.get(Contact, self.run.contact_id)
        assert contact is not None
        return contact

    def _names(self, wanted: list[tuple[int | None, str]]) -> list[str]:
        """Current names for ids (a tag renamed after publish keeps working), else the given names."""
        ids = [tag_id for tag_id, _name in wanted if tag_id is not None]
        current = (
            dict(
                self.session.execute(
                    select(Tag.id, Tag.name).where(Tag.id.in_(ids), Tag.workspace_id == self.run.workspace_id)
                ).all()
            )
            if ids
            else {}
        )
        return [
            current.get(tag_id, name) if tag_id is not None else name
            for tag_id, name in wanted
            if name or tag_id in current
        ]

    def add_tags(self, tags_: list[tuple[int | None, str]]) -> list[str]:
        added, _removed = tags.change_contact_tags(
            self.session, contact=self._contact(), add=self._names(tags_), remove=[], actor=self.actor
        )
        return added

    def remove_tags(self, tags_: list[tuple[int | None, str]]) -> list[str]:
        _added, removed = tags.change_contact_tags(
            self.session, contact=self._contact(), add=[], remove=self._names(tags_), actor=self.actor
        )
        return removed

    def set_field(self, field: str, value: str | None) -> str | None:
        key = field.strip().lower()
        try:
            with self.session.begin_nested():
                if key in contacts.STANDARD_FIELDS:
                    contacts.update_contact(
                        self.session, contact=self._contact(), actor=self.actor, values={key: value}
                    )
                else:
                    contacts.update_contact(
                        self.session,
                        contact=self._contact(),
                        actor=self.actor,
                        values={},
                        custom_fields={key: value},
                    )
        except ConvoflowError as exc:
            return exc.message  # WF-STEP-FIELD-01: the row is skipped and logged on the run
        return None

    def set_stage(self, stage_id: int | None) -> None:
        lifecycle.set_contact_stage(
            self.session, contact=self._contact(), stage_id=stage_id, actor=self.actor
        )

    def assign(self, user_id: int | None) -> bool:
        try:
            with self.session.begin_nested():
                assignment.apply_assignee(
                    self.session, contact=self._contact(), user_id=user_id, actor=self.actor
                )
        except ConvoflowError:
            return False
        if user_id is not None:
            assignee_choice.note_assigned(self.session, workspace_id=self.run.workspace_id, user_id=user_id)
        return True

    def choose_assignee(
        self,
        *,
        team_id: int | None,
        logic: Literal["round_robin", "least_open"],
        online_only: bool,
        max_open_contacts: int | None,
    ) -> AssigneeChoice:
        return assignee_choice.choose(
            self.session,
            workspace_id=self.run.workspace_id,
            team_id=team_id,
            logic=logic,
            online_only=online_only,
            max_open_contacts=max_open_contacts,
        )

    def open_conversation(self) -> None:
        contact = self._contact()
        if not contact.blocked:
            conversations.open_conversation(self.session, contact=contact, actor=self.actor)

    def close_conversation(self, *, category_id: int | None, summary: str | None) -> None:
        contact = self._contact()
        if category_id is not None:  # a category deleted since publishing: close without one
            category = self.session.get(ClosingCategory, category_id)
            if category is None or category.workspace_id != contact.workspace_id:
                category_id = None
        conversations.close_conversation(
            self.session,
            contact=contact,
            actor=self.actor,
            category_id=category_id,
            summary=summary,
            enforce_notes=False,  # checked at publish (WF-STEP-CLOSE-01)
        )

    def add_comment(self, *, text: str, mentions: list[int]) -> None:
        contact = self._contact()
        # A user deactivated since publishing is no longer mentioned; the note is still written.
        active = [
            user_id
            for user_id in mentions
            if assignment.is_active_member(self.session, workspace_id=contact.workspace_id, user_id=user_id)
        ]
        comments.add_comment(self.session, contact=contact, text=text, mentions=active, actor=self.actor)


class SqlEffects:
    """External effects go through the outbox under the step's idempotency key (WF-RUN-06)."""

    def __init__(
        self, session: Session, run: RunState, *, seq: int, attempt: int, state: dict[str, Any]
    ) -> None:
        self.session = session
        self.run = run
        self.seq = seq
        self.attempt = attempt
        self.state = state  # the step's saved state: counts the effects staged within one visit

    def _next_key(self) -> str:
        """ "{run}:{seq}:{attempt}", then ":2", ":3"... for further effects of the same visit (a re-asked
        question). The count is saved with the step, so a replay after a crash reuses the same keys."""
        staged = int(self.state.get("_effects", 0)) + 1
        self.state["_effects"] = staged
        base = f"{self.run.id}:{self.seq}:{self.attempt}"
        return base if staged == 1 else f"{base}:{staged}"

    def _stage(self, *, kind: str, request: dict[str, Any], message_id: int | None) -> None:
        at = now(self.session)
        self.session.add(
            Outbox(
                workspace_id=self.run.workspace_id,
                contact_id=self.run.contact_id,
                kind=kind,
                idempotency_key=self._next_key(),
                run_id=self.run.id,
                seq=self.seq,
                wait_token=self.run.wait_token + 1,  # the wait the step is about to enter
                message_id=message_id,
                request=request,
                status="pending",
                attempts=0,
                next_attempt_at=at,
                created_at=at,
            )
        )
        signal_work(self.session)  # the relay, in this process or another, delivers it at once

    def _channel(self, channel_id: int | None) -> Channel | None:
        contact = self.session.get(Contact, self.run.contact_id)
        assert contact is not None
        if channel_id is not None:
            channel = self.session.get(Channel, channel_id)
            return channel if channel is not None and channel.workspace_id == contact.workspace_id else None
        return default_channel(self.session, contact=contact)

    def channel(self, channel_id: int | None) -> ChannelInfo | None:
        channel = self._channel(channel_id)
        return None if channel is None else ChannelInfo(channel.id, channel.kind)

    def send_message(self, *, content: dict[str, Any], channel_id: int | None) -> str | None:
        contact = self.session.get(Contact, self.run.contact_id)
        assert contact is not None
        channel = self._channel(channel_id)
        if channel is None:
            return "The contact has no channel to send on"  # WF-STEP-SEND-01
        if not can_reach(self.session, channel=channel, contact=contact):
            return f"The channel {channel.name!r} cannot reach this contact"
        try:
            parsed = messages.parse_content(content)
            with self.session.begin_nested():
                message = messages.create_outgoing(
                    self.session,
                    contact=contact,
                    channel=channel,
                    content=parsed,
                    actor=Actor.workflow(self.run.id),
                )
        except (ConvoflowError, ValueError) as exc:
            return str(getattr(exc, "message", exc))
        external_id = find_identity_external_id(self.session, contact_id=contact.id, channel_id=channel.id)
        self._stage(
            kind="message",
            request={"channel_id": channel.id, "external_id": external_id},
            message_id=message.id,
        )
        return None

    def http_request(self, *, request: dict[str, Any]) -> None:
        self._stage(kind="http", request=request, message_id=None)


class SqlHandover:
    def __init__(self, session: Session, run: RunState) -> None:
        self.session = session
        self.run = run

    def enrol_manual(self, *, workflow_id: int, inputs: dict[str, str]) -> bool:
        return enrol_manual(
            self.session,
            workspace_id=self.run.workspace_id,
            contact_id=self.run.contact_id,
            workflow_id=workflow_id,
            inputs=inputs,
        )
