"""Fixtures of the contacts tests: a seeded world and signed-in clients per role."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.accounts.models import User
from convoflow.bootstrap import Container
from tests.contacts.helpers import ClientFor
from tests.support import World, login, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def client_for(make_client: Any) -> ClientFor:
    """A new client signed in as `user` (one cookie jar each)."""

    def factory(user: User) -> TestClient:
        signed_in: TestClient = make_client()
        login(signed_in, user)
        return signed_in

    return factory


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    """The default client, signed in as the world's Owner."""
    login(client, world.owner)
    return client
