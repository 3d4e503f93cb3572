"""Helpers for engine tests: publish a definition, send inbound messages, drain the engine."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.bootstrap import Container
from convoflow.channels.models import Channel
from convoflow.contacts.identities import ChannelProfile
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import Inbound, record_inbound
from convoflow.testing.factories import make_channel, principal
from convoflow.worker.engine import Engine
from convoflow.workflows import service
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.models import Run, RunStep, Workflow
from tests.support import World, seed_world


class Harness:
    """A workspace with a test channel, its owner's principal and the engine, all on one database."""

    def __init__(self, session: Session, container: Container) -> None:
        self.session = session
        self.container = container
        self.world: World = seed_world(session, container.hasher)
        self.owner: Principal = principal(self.world.workspace, self.world.owner)
        self.channel: Channel = make_channel(
            session, workspace_id=self.world.workspace.id, kind="test", name="Test"
        )
        session.commit()
        self.engine: Engine = container.engine()
        container.test_channel.clear()

    def publish(self, definition: dict[str, Any], *, name: str = "Flow") -> Workflow:
        workflow = service.create_workflow(self.session, self.owner, name=name)
        service.save_draft(
            self.session, self.owner, workflow_id=workflow.id, definition=definition, revision=1
        )
        service.publish(self.session, self.owner, workflow_id=workflow.id)
        self.session.commit()
        return workflow

    def inbound(self, visitor: str, text: str, *, first_name: str = "Ana") -> Inbound:
        received = record_inbound(
            self.session,
            channel=self.channel,
            external_id=visitor,
            content=TextContent(text=text),
            profile=ChannelProfile(first_name=first_name),
        )
        self.session.commit()
        return received

    def drain(self) -> None:
        self.engine.drain()
        self.session.expire_all()

    def runs(self, workflow_id: int) -> list[Run]:
        self.session.expire_all()
        rows = list(self.session.scalars(select(Run).where(Run.workflow_id == workflow_id).order_by(Run.id)))
        self.session.commit()
        return rows

    def steps(self, run_id: int) -> list[RunStep]:
        rows = list(
            self.session.scalars(select(RunStep).where(RunStep.run_id == run_id).order_by(RunStep.seq))
        )
        self.session.commit()
        return rows

    def sent_texts(self) -> list[str]:
        return [
            str(s.content.get("text") or s.content.get("title")) for s in self.container.test_channel.sent
        ]


def definition(trigger: dict[str, Any], *steps: dict[str, Any]) -> dict[str, Any]:
    WorkflowDefinition.model_validate({"trigger": trigger, "root": steps[0]["key"], "steps": list(steps)})
    return {"trigger": trigger, "root": steps[0]["key"], "steps": list(steps)}


def step(key: str, type: str, config: dict[str, Any] | None = None, **outputs: str | None) -> dict[str, Any]:
    return {"key": key, "name": f"Step {key}", "type": type, "config": config or {}, "outputs": outputs}


OPENED = {"type": "conversation_opened", "config": {"sources": ["contact"]}}
