"""Helpers of the import/export and template tests: a workspace with named objects, workflows made
through the service, and counts of what import may create."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import User
from convoflow.accounts.principal import Principal
from convoflow.audit.models import AuditEntry
from convoflow.contacts import fields
from convoflow.contacts.models import ContactField, LifecycleStage, Tag
from convoflow.contacts.tags import create_tag
from convoflow.conversations.closing import create_category
from convoflow.conversations.models import ClosingCategory
from convoflow.teams.models import Team
from convoflow.teams.service import create_team
from convoflow.testing.factories import make_channel, principal
from convoflow.workflows import service
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.models import Workflow
from tests.support import World


@dataclass(frozen=True)
class Objects:
    """Named objects of one workspace as plain ids (reading ORM rows after the API wrote would hold
    SQLite's write lock), with refs a definition can hold."""

    owner: Principal
    team_id: int
    tag_id: int
    channel_id: int
    field_slug: str
    stage_id: int
    category_id: int
    user_id: int
    user_email: str
    user_name: str

    def ref(self, kind: str) -> dict[str, Any]:
        ids = {
            "team": self.team_id,
            "tag": self.tag_id,
            "channel": self.channel_id,
            "stage": self.stage_id,
            "category": self.category_id,
            "user": self.user_id,
        }
        return {"ref": kind, "id": ids[kind]}


def seed_objects(session: Session, world: World) -> Objects:
    """Team Ventas, tag vip, channel Web Chat, text field city, stage New Lead, category Resuelto, and the
    Manager as the user to assign; committed."""
    owner = principal(world.workspace, world.owner)
    team = create_team(session, owner, name="Ventas")
    tag = create_tag(session, owner, name="vip")
    channel = make_channel(session, workspace_id=world.workspace.id, kind="webchat", name="Web Chat")
    field = fields.create_field(session, owner, name="City", slug="city", type="text")
    stage = session.scalars(
        select(LifecycleStage).where(
            LifecycleStage.workspace_id == world.workspace.id, LifecycleStage.name == "New Lead"
        )
    ).one()
    category = create_category(session, owner, name="Resuelto")
    manager: User = world.manager
    objects = Objects(
        owner,
        team.id,
        tag.id,
        channel.id,
        field.slug,
        stage.id,
        category.id,
        manager.id,
        manager.email,
        f"{manager.first_name} {manager.last_name}",
    )
    session.commit()
    return objects


def full_definition(objects: Objects) -> dict[str, Any]:
    """A valid definition naming one object of every kind (WF-IO-02)."""
    return {
        "trigger": {
            "type": "contact_tag_updated",
            "triggerOncePerContact": True,
            "config": {"action": "added", "tags": [objects.ref("tag")]},
        },
        "root": "s1",
        "steps": [
            {
                "key": "s1",
                "name": "Saludo",
                "type": "send_message",
                "config": {"text": "Hola $contact.firstname 👋", "channel": objects.ref("channel")},
                "outputs": {"next": "s2"},
            },
            {
                "key": "s2",
                "name": "¿Ya asignado?",
                "type": "branch",
                "config": {
                    "branches": [
                        {
                            "name": "Asignado",
                            "logic": "and",
                            "conditions": [{"category": "assignee", "operator": "is_assigned"}],
                        }
                    ]
                },
                "outputs": {"branch:1": None, "else": "s3"},
            },
            {
                "key": "s3",
                "name": "Asignar",
                "type": "assign_to",
                "config": {"action": "user", "user": objects.ref("user")},
                "outputs": {"next": "s4"},
            },
            {
                "key": "s4",
                "name": "Equipo",
                "type": "assign_to",
                "config": {"action": "team", "team": objects.ref("team")},
                "outputs": {"next": "s5"},
            },
            {
                "key": "s5",
                "name": "Ciudad",
                "type": "update_field",
                "config": {"rows": [{"field": objects.field_slug, "value": "Madrid"}]},
                "outputs": {"next": "s6"},
            },
            {
                "key": "s6",
                "name": "Etapa",
                "type": "update_lifecycle",
                "config": {"stage": objects.ref("stage")},
                "outputs": {"next": "s7"},
            },
            {
                "key": "s7",
                "name": "Cerrar",
                "type": "close_conversation",
                "config": {"category": objects.ref("category"), "summary": "Listo"},
                "outputs": {"next": None},
            },
        ],
    }


def http_definition(headers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "trigger": {"type": "conversation_opened", "config": {"sources": ["contact"]}},
        "root": "s1",
        "steps": [
            {
                "key": "s1",
                "name": "Llamar",
                "type": "http_request",
                "config": {"url": "https://api.example.com/hook", "headers": headers},
                "outputs": {"next": None},
            }
        ],
    }


def make_workflow(
    session: Session, owner: Principal, definition: dict[str, Any], *, name: str = "Mi flujo"
) -> Workflow:
    """A Draft with `definition` saved through the service (so it has no configuration error); committed."""
    workflow = service.create_workflow(session, owner, name=name, description="Descripción")
    service.save_draft(session, owner, workflow_id=workflow.id, definition=definition, revision=1)
    session.commit()
    return workflow


def make_raw_workflow(
    session: Session, owner: Principal, definition: dict[str, Any], *, name: str = "Borrador"
) -> Workflow:
    """A Draft holding `definition` as is, configuration errors included; committed."""
    workflow = service.new_workflow(
        session,
        owner,
        name=name,
        description="",
        definition=WorkflowDefinition.model_validate(definition),
    )
    session.commit()
    return workflow


def file_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def export_file(name: str, definition: dict[str, Any], **workflow: Any) -> dict[str, Any]:
    """A hand-made workflow file (WF-IO-01)."""
    return {
        "format": "convoflow.workflow",
        "formatVersion": 1,
        "exportedAt": "2025-01-31T10:00:00Z",
        "workflow": {
            "name": name,
            "description": "",
            "settings": {"allowStopForContact": False},
            **definition,
            **workflow,
        },
    }


@dataclass(frozen=True)
class Counts:
    workflows: int
    audit: int
    tags: int
    fields: int
    teams: int
    categories: int


def counts(session: Session, workspace_id: int) -> Counts:
    """What an import or a template use may create in a workspace."""
    session.expire_all()

    def count(model: Any) -> int:
        return (
            session.scalar(select(func.count()).select_from(model).where(model.workspace_id == workspace_id))
            or 0
        )

    found = Counts(
        count(Workflow),
        count(AuditEntry),
        count(Tag),
        count(ContactField),
        count(Team),
        count(ClosingCategory),
    )
    session.commit()  # ends the read so the API may write next (SQLite)
    return found
