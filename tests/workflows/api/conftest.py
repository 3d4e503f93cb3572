from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from tests.workflows.api.support import ApiHarness


@pytest.fixture
def h(session: Session, container: Container) -> ApiHarness:
    return ApiHarness(session, container)
