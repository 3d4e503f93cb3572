"""Concurrent lifecycle changes of one workflow (bad input of issue 4: "concurrent publish and stop of one
workflow: one wins, the other gets 409, the stored state is consistent"), and publishing racing the
checks that read published workflows (loops, deletion refusals).

Each test holds one transaction open in this thread while another thread tries its change: the other
must wait for the lock, then be judged on the committed state (never on a stale read).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts import tags
from convoflow.contacts.models import Tag
from convoflow.errors import ConvoflowError
from convoflow.workflows import service
from convoflow.workflows.models import Workflow
from tests.support import World, login, seed_world
from tests.workflows.lifecycle_support import (
    OPENED,
    calls,
    document,
    make_draft,
    make_published,
    make_stopped,
    manager_of,
    manual,
    owner_of,
    send,
    step,
    stored,
    versions_of,
)

pytestmark = pytest.mark.committing


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


def in_other_transaction(
    container: Container, change: Callable[[Session], object]
) -> tuple[threading.Thread, dict[str, Any]]:
    """Starts `change` in its own session and thread; the outcome is "ok" or the error id."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        with container.db.session() as other:
            try:
                change(other)
                other.commit()
                outcome["result"] = "ok"
            except ConvoflowError as exc:
                outcome["result"] = exc.error
                outcome["status"] = exc.status

    worker = threading.Thread(target=run)
    worker.start()
    return worker, outcome


def race(
    container: Container, mine: Callable[[Session], object], theirs: Callable[[Session], object]
) -> dict[str, Any]:
    """`mine` runs first and keeps its transaction open until `theirs` is seen waiting."""
    with container.db.session() as session:
        mine(session)
        worker, outcome = in_other_transaction(container, theirs)
        worker.join(timeout=0.5)  # it must be waiting for this transaction
        assert worker.is_alive()
        session.commit()
    worker.join(timeout=10)
    assert not worker.is_alive()
    return outcome


def assert_consistent(session: Session, workflow_id: int, *, state: str, versions: int) -> None:
    """State, current version and version count agree."""
    row = stored(session, workflow_id)
    rows = versions_of(session, workflow_id)
    assert row.state == state
    assert [v.number for v in rows] == list(range(1, versions + 1))
    if versions:
        assert row.published_version_id == rows[-1].id
        assert row.published_at == rows[-1].published_at
    else:
        assert row.published_version_id is None
    assert (row.published_version_id is not None) == (state != "draft")


# ------------------------------------------------------------------------- publish and stop of one workflow


def test_two_publishes_at_once_one_wins_and_the_other_gets_409(
    session: Session, container: Container, world: World
) -> None:  # WF-LIFE-03, WF-GEN-04
    workflow = make_stopped(session, owner_of(world), "Bienvenida")
    outcome = race(
        container,
        lambda s: service.publish(s, owner_of(world), workflow_id=workflow.id),
        lambda s: service.publish(s, manager_of(world), workflow_id=workflow.id),
    )
    assert outcome == {"result": "already_published", "status": 409}
    assert_consistent(session, workflow.id, state="published", versions=2)
    assert versions_of(session, workflow.id)[-1].published_by == world.owner.id


def test_two_stops_at_once_one_wins_and_the_other_gets_409(
    session: Session, container: Container, world: World
) -> None:  # WF-LIFE-05
    workflow = make_published(session, owner_of(world), "Bienvenida")
    outcome = race(
        container,
        lambda s: service.stop(s, owner_of(world), workflow_id=workflow.id),
        lambda s: service.stop(s, manager_of(world), workflow_id=workflow.id),
    )
    assert outcome == {"result": "not_published", "status": 409}
    assert_consistent(session, workflow.id, state="stopped", versions=1)


def test_a_stop_waiting_behind_a_publish_is_judged_on_the_published_state(
    session: Session, container: Container, world: World
) -> None:  # WF-LIFE-03, WF-LIFE-05
    # Publish (from Stopped) wins the lock; the stop waits, then finds it Published and stops it.
    workflow = make_stopped(session, owner_of(world), "Bienvenida")
    outcome = race(
        container,
        lambda s: service.publish(s, owner_of(world), workflow_id=workflow.id),
        lambda s: service.stop(s, manager_of(world), workflow_id=workflow.id),
    )
    assert outcome == {"result": "ok"}
    assert_consistent(session, workflow.id, state="stopped", versions=2)


def test_a_publish_waiting_behind_a_stop_is_judged_on_the_stopped_state(
    session: Session, container: Container, world: World
) -> None:  # WF-LIFE-03, WF-LIFE-05
    # Stop wins the lock; the publish waits, then finds it Stopped and publishes version 2.
    workflow = make_published(session, owner_of(world), "Bienvenida")
    outcome = race(
        container,
        lambda s: service.stop(s, owner_of(world), workflow_id=workflow.id),
        lambda s: service.publish(s, manager_of(world), workflow_id=workflow.id),
    )
    assert outcome == {"result": "ok"}
    assert_consistent(session, workflow.id, state="published", versions=2)


def test_a_stop_waiting_behind_a_refused_publish_wins(
    session: Session, container: Container, world: World
) -> None:  # WF-LIST-05
    # One wins, the other gets 409: a Published workflow; the publish is refused, the stop goes through.
    workflow = make_published(session, owner_of(world), "Bienvenida")
    with container.db.session() as mine:
        with pytest.raises(ConvoflowError) as refused:
            service.publish(mine, owner_of(world), workflow_id=workflow.id)
        worker, outcome = in_other_transaction(
            container, lambda s: service.stop(s, manager_of(world), workflow_id=workflow.id)
        )
        worker.join(timeout=0.5)
        assert worker.is_alive()  # the refused publish still holds the row until it rolls back
        mine.rollback()
    worker.join(timeout=10)
    assert (refused.value.status, refused.value.error) == (409, "already_published")
    assert outcome == {"result": "ok"}
    assert_consistent(session, workflow.id, state="stopped", versions=1)


def test_a_save_waiting_behind_a_publish_with_edits_must_reload(
    session: Session, container: Container, world: World
) -> None:  # WF-LIFE-02, WF-LIFE-07
    # WF-LIFE-07 under concurrency: both editors loaded revision 2; the publish's edits win, the save
    # then meets a Published workflow.
    workflow = make_draft(session, owner_of(world), "Bienvenida", document(OPENED, send("s1", "uno")))
    outcome = race(
        container,
        lambda s: service.publish(
            s,
            owner_of(world),
            workflow_id=workflow.id,
            definition=document(OPENED, send("s1", "dos")),
            revision=2,
        ),
        lambda s: service.save_draft(
            s,
            manager_of(world),
            workflow_id=workflow.id,
            definition=document(OPENED, send("s1", "tres")),
            revision=2,
        ),
    )
    assert outcome == {"result": "workflow_published", "status": 409}
    assert_consistent(session, workflow.id, state="published", versions=1)
    row = stored(session, workflow.id)
    assert (row.revision, row.draft["steps"][0]["config"]["text"]) == (3, "dos")


def test_publish_and_stop_racing_through_the_api(
    make_client: Any, session: Session, container: Container, world: World
) -> None:  # WF-LIFE-03, WF-LIFE-05
    # Both requests at once, in whatever order they get the lock: each answer is 200 or a clean 409,
    # at least one succeeds, and the stored state is consistent with the answers.
    workflow = make_published(session, owner_of(world), "Bienvenida")
    olga, mario = make_client(), make_client()
    login(olga, world.owner)
    login(mario, world.manager)
    start = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def send_request(name: str, client: TestClient, path: str) -> None:
        start.wait(timeout=5)
        answers[name] = client.post(f"/api/workflows/{workflow.id}/{path}")

    threads = [
        threading.Thread(target=send_request, args=("stop", olga, "stop")),
        threading.Thread(target=send_request, args=("publish", mario, "publish")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    stop, publish = answers["stop"], answers["publish"]
    assert stop.status_code == 200, stop.text  # the workflow was Published: the stop always succeeds
    if publish.status_code == 200:  # it went second, after the stop
        assert_consistent(session, workflow.id, state="published", versions=2)
    else:  # it went first and met a Published workflow
        assert (publish.status_code, publish.json()["error"]) == (409, "already_published")
        assert_consistent(session, workflow.id, state="stopped", versions=1)


# -------------------------------------------------------- publishing racing loops and deletion refusals


def test_two_publishes_forming_a_loop_cannot_both_succeed(
    session: Session, container: Container, world: World
) -> None:  # WF-LOOP-01: the second publish sees the first one's version
    a = make_draft(session, owner_of(world), "A", document(manual(), send("s1")))
    b = make_draft(session, owner_of(world), "B", document(manual(), calls(a.id, "A", key="to_a")))
    service.save_draft(
        session,
        owner_of(world),
        workflow_id=a.id,
        definition=document(manual(), calls(b.id, "B", key="to_b")),
        revision=2,
    )
    session.commit()
    outcome = race(
        container,
        lambda s: service.publish(s, owner_of(world), workflow_id=a.id),
        lambda s: service.publish(s, manager_of(world), workflow_id=b.id),
    )
    assert outcome == {"result": "loop_detected", "status": 422}
    assert_consistent(session, a.id, state="published", versions=1)
    assert_consistent(session, b.id, state="draft", versions=0)


def _tagging(tag_id: int) -> Any:
    return document(
        OPENED,
        step(
            "s1",
            "update_tag",
            name="Etiquetar",
            outputs={"next": None},
            action="remove",
            tags=[{"ref": "tag", "id": tag_id}],
        ),
    )


def test_a_tag_deletion_waiting_behind_a_publish_that_uses_it_is_refused(
    session: Session, container: Container, world: World
) -> None:  # CRM-TAG-03
    tag = tags.create_tag(session, owner_of(world), name="VIP")
    session.commit()
    workflow = make_draft(session, owner_of(world), "Etiquetar", _tagging(tag.id))
    outcome = race(
        container,
        lambda s: service.publish(s, owner_of(world), workflow_id=workflow.id),
        lambda s: tags.delete_tag(s, manager_of(world), tag_id=tag.id),
    )
    assert outcome == {"result": "used_by_published_workflows", "status": 409}
    assert_consistent(session, workflow.id, state="published", versions=1)
    assert session.get(Tag, tag.id) is not None
    session.commit()


def test_a_publish_waiting_behind_the_deletion_of_its_tag_is_refused(
    session: Session, container: Container, world: World
) -> None:  # CRM-TAG-03, WF-LIFE-03: every referenced object must exist
    tag = tags.create_tag(session, owner_of(world), name="VIP")
    session.commit()
    workflow = make_draft(session, owner_of(world), "Etiquetar", _tagging(tag.id))
    outcome = race(
        container,
        lambda s: tags.delete_tag(s, owner_of(world), tag_id=tag.id),
        lambda s: service.publish(s, manager_of(world), workflow_id=workflow.id),
    )
    assert outcome == {"result": "workflow_invalid", "status": 422}
    assert_consistent(session, workflow.id, state="draft", versions=0)
    assert stored(session, workflow.id).state == "draft"
    assert session.get(Workflow, workflow.id) is not None
    session.commit()
