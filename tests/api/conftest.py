"""Fixtures of the API infrastructure tests: a seeded workspace and its Owner's signed-in client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.teams.models import Team
from tests.support import World, login, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    login(client, world.owner)
    return client


def team_names(session: Session, workspace_id: int) -> list[str]:
    """The stored team names (a cheap "was anything written?" probe), ending the read transaction."""
    names = list(
        session.scalars(select(Team.name).where(Team.workspace_id == workspace_id).order_by(Team.id))
    )
    session.commit()  # a write session holds SQLite's write lock until its transaction ends
    return names
