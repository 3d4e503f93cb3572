"""The audit trail's service: who (user, API token, workflow run or system) did what to which object,
and when, read back newest first per target."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.audit import service as audit
from convoflow.audit.models import AuditEntry
from convoflow.bootstrap import Container
from convoflow.events.actor import Actor
from convoflow.testing.clock import FakeClock
from tests.support import World, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.mark.parametrize(
    ("actor", "kind", "actor_id"),
    [
        (Actor.user(7), "user", 7),
        (Actor.api(8), "token", 8),
        (Actor.workflow(9), "workflow", 9),
        (Actor.system(), "system", None),
        (Actor.contact(10), "system", None),
    ],
    ids=["user", "token", "workflow", "system", "contact"],
)
def test_record_stores_who_what_which_and_when(
    session: Session, world: World, clock: FakeClock, actor: Actor, kind: str, actor_id: int | None
) -> None:
    clock.advance(minutes=42)
    audit.record(
        session,
        workspace_id=world.workspace.id,
        actor=actor,
        action="published",
        target_kind="workflow",
        target_id=5,
        data={"version": 2, "name": "Bienvenida 🚀"},
    )
    session.commit()
    [entry] = session.scalars(select(AuditEntry)).all()
    assert (
        entry.workspace_id,
        entry.actor_kind,
        entry.actor_id,
        entry.action,
        entry.target_kind,
        entry.target_id,
        entry.data,
        entry.at,
    ) == (
        world.workspace.id,
        kind,
        actor_id,
        "published",
        "workflow",
        5,
        {"version": 2, "name": "Bienvenida 🚀"},
        clock.now(),
    )


def test_data_defaults_to_an_empty_object(session: Session, world: World) -> None:
    audit.record(
        session,
        workspace_id=world.workspace.id,
        actor=Actor.system(),
        action="stopped",
        target_kind="workflow",
        target_id=1,
    )
    session.commit()
    assert session.scalars(select(AuditEntry.data)).all() == [{}]


def test_history_is_newest_first_scoped_to_workspace_and_target_and_limited(
    session: Session, container: Container, world: World, clock: FakeClock
) -> None:
    other = seed_world(session, container.hasher, name="Globex")
    for n in range(5):
        clock.advance(minutes=1)
        audit.record(
            session,
            workspace_id=world.workspace.id,
            actor=Actor.user(world.owner.id),
            action=f"a{n}",
            target_kind="workflow",
            target_id=1,
        )
    # Same target id of another kind, another target, another workspace: none of them is listed.
    audit.record(
        session,
        workspace_id=world.workspace.id,
        actor=Actor.system(),
        action="x",
        target_kind="team",
        target_id=1,
    )
    audit.record(
        session,
        workspace_id=world.workspace.id,
        actor=Actor.system(),
        action="y",
        target_kind="workflow",
        target_id=2,
    )
    audit.record(
        session,
        workspace_id=other.workspace.id,
        actor=Actor.system(),
        action="z",
        target_kind="workflow",
        target_id=1,
    )
    session.commit()
    entries = audit.history(session, workspace_id=world.workspace.id, target_kind="workflow", target_id=1)
    assert [e.action for e in entries] == ["a4", "a3", "a2", "a1", "a0"]
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    limited = audit.history(
        session, workspace_id=world.workspace.id, target_kind="workflow", target_id=1, limit=2
    )
    assert [e.action for e in limited] == ["a4", "a3"]


def test_entries_go_with_their_workspace(session: Session, world: World) -> None:
    # The audit log belongs to the workspace: deleting the workspace deletes its entries (ON DELETE CASCADE).
    audit.record(
        session,
        workspace_id=world.workspace.id,
        actor=Actor.system(),
        action="created",
        target_kind="workflow",
        target_id=1,
    )
    session.commit()
    session.delete(world.workspace)
    session.commit()
    assert session.scalars(select(AuditEntry)).all() == []
