"""Channels service (CRM-CHAN-01): a name unique in the workspace, a known kind."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.channels import service as channels
from convoflow.channels.kinds import CHANNEL_KINDS
from convoflow.channels.models import Channel
from convoflow.errors import Conflict, InvalidInput, NotFound
from convoflow.testing.clock import FakeClock
from tests.support import World, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


def _channels(session: Session, workspace_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Channel.kind, Channel.name).where(Channel.workspace_id == workspace_id).order_by(Channel.id)
    ).all()
    return [(kind, name) for kind, name in rows]


def test_create_channel_stores_a_connected_channel_with_its_own_token(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CHAN-01
    web = channels.create_channel(session, workspace_id=world.workspace.id, kind="webchat", name=" Web Chat ")
    bot = channels.create_channel(
        session, workspace_id=world.workspace.id, kind="telegram", name="Bot", config={"bot": "x"}
    )
    session.commit()
    session.expire_all()
    stored = session.get(Channel, web.id)
    assert stored is not None
    assert (stored.kind, stored.name, stored.name_norm, stored.state) == (
        "webchat",
        "Web Chat",
        "web chat",
        "connected",
    )
    assert stored.config == {} and stored.created_at == clock.now()
    assert session.get(Channel, bot.id).config == {"bot": "x"}  # type: ignore[union-attr]
    assert len(stored.token) >= 32 and stored.token != bot.token


@pytest.mark.parametrize("name", ["Web Chat", "WEB CHAT", "web chat", "  Web Chat  "])
def test_duplicate_name_in_the_workspace_is_409(session: Session, world: World, name: str) -> None:
    # CRM-CHAN-01: the name is unique in the workspace (ignoring case), whatever the kind.
    channels.create_channel(session, workspace_id=world.workspace.id, kind="webchat", name="Web Chat")
    session.commit()
    with pytest.raises(Conflict) as refused:
        channels.create_channel(session, workspace_id=world.workspace.id, kind="telegram", name=name)
    assert refused.value.status == 409 and refused.value.error == "channel_name_taken"
    session.rollback()
    assert _channels(session, world.workspace.id) == [("webchat", "Web Chat")]


def test_same_name_in_another_workspace_is_allowed(
    session: Session, container: Container, world: World
) -> None:
    # CRM-WS-01, CRM-CHAN-01
    other = seed_world(session, container.hasher, name="Other")
    channels.create_channel(session, workspace_id=world.workspace.id, kind="webchat", name="Web")
    channels.create_channel(session, workspace_id=other.workspace.id, kind="webchat", name="Web")
    session.commit()
    assert _channels(session, world.workspace.id) == [("webchat", "Web")]
    assert _channels(session, other.workspace.id) == [("webchat", "Web")]


@pytest.mark.parametrize("kind", ["facebook", "WEBCHAT", "", "sms"])
def test_unknown_kind_is_422_and_nothing_is_stored(session: Session, world: World, kind: str) -> None:
    # CRM-CHAN-01: only the kinds with an adapter (CRM-CHAN table).
    with pytest.raises(InvalidInput) as refused:
        channels.create_channel(session, workspace_id=world.workspace.id, kind=kind, name="Channel")
    assert refused.value.status == 422 and refused.value.error == "validation_error"
    assert refused.value.details == [{"field": "kind", "message": refused.value.message}]
    session.rollback()
    assert _channels(session, world.workspace.id) == []


@pytest.mark.parametrize("name", ["", "   ", "n" * 101, "Line\nbreak"])
def test_invalid_name_is_422_and_nothing_is_stored(session: Session, world: World, name: str) -> None:
    # CRM-CHAN-01: a channel has a name (1-100 characters, our decision).
    with pytest.raises(InvalidInput) as refused:
        channels.create_channel(session, workspace_id=world.workspace.id, kind="webchat", name=name)
    assert refused.value.details[0]["field"] == "name"
    session.rollback()
    assert _channels(session, world.workspace.id) == []


def test_every_listed_kind_can_be_created(session: Session, world: World) -> None:
    for kind in CHANNEL_KINDS:
        channels.create_channel(session, workspace_id=world.workspace.id, kind=kind, name=f"My {kind}")
    session.commit()
    assert [kind for kind, _ in _channels(session, world.workspace.id)] == list(CHANNEL_KINDS)


def test_get_and_list_stay_in_the_workspace(session: Session, container: Container, world: World) -> None:
    # CRM-WS-01
    other = seed_world(session, container.hasher, name="Other")
    mine = channels.create_channel(session, workspace_id=world.workspace.id, kind="webchat", name="Mine")
    theirs = channels.create_channel(session, workspace_id=other.workspace.id, kind="webchat", name="Theirs")
    session.commit()
    assert channels.get_channel(session, workspace_id=world.workspace.id, channel_id=mine.id).id == mine.id
    with pytest.raises(NotFound):
        channels.get_channel(session, workspace_id=world.workspace.id, channel_id=theirs.id)
    assert [c.id for c in channels.list_channels(session, workspace_id=world.workspace.id)] == [mine.id]
