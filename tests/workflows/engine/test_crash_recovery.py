"""Worker processes on PostgreSQL: a worker killed with SIGKILL mid-flight loses nothing and sends
nothing twice (issue 5 reliability; WF-RUN-04/05/06, DESIGN §3).

Real `convoflow worker` processes share one database; the built-in test channel journals every send
to a file, honouring idempotency keys across processes as a provider would. The processes run on the
real clock, so the test waits for them to finish (it never waits for a workflow timer).
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container, build_container
from convoflow.channels.test_channel import read_journal
from convoflow.contacts.identities import ChannelProfile
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import record_inbound
from convoflow.db.models import Base
from convoflow.settings import Settings
from convoflow.testing.factories import make_channel, principal
from convoflow.workflows import service
from convoflow.workflows.models import Run
from tests.conftest import FAST_HASHING
from tests.support import seed_world
from tests.workflows.engine.support import OPENED, definition, step

RUNS = 1000
RACE_RUNS = 200
CONVOFLOW = Path(sys.executable).with_name("convoflow")


@pytest.fixture
def pg_container(postgres_database: str, tmp_path: Path) -> Iterator[Container]:
    engine = create_engine(postgres_database)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    settings = Settings(
        database_url=postgres_database,
        data_dir=tmp_path / "data",
        password_hashing=FAST_HASHING,
        secret_key="test-secret-key",
        test_channel_journal=tmp_path / "sent.jsonl",
    )
    container = build_container(settings)
    yield container
    container.close()


class Workers:
    def __init__(self, container: Container, tmp_path: Path) -> None:
        self.env = {
            **os.environ,
            "CONVOFLOW_DATABASE_URL": str(container.settings.database_url),
            "CONVOFLOW_DATA_DIR": str(tmp_path / "data"),
            "CONVOFLOW_SECRET_KEY": "test-secret-key",
            "CONVOFLOW_TEST_CHANNEL_JOURNAL": str(container.settings.test_channel_journal),
            "CONVOFLOW_LOG_LEVEL": "WARNING",
        }
        self.logs = tmp_path
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{len(self.started)}.log").open("wb") as log:
            process = subprocess.Popen(
                [str(CONVOFLOW), "worker", "--poll", "0.2", "--lease", "2"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_for(condition: object, *, timeout: float, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _count(container: Container, *where: object) -> int:
    with container.db.session(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(Run).where(*where)) or 0)  # type: ignore[arg-type]


def _arrange(container: Container, runs: int = RUNS) -> None:
    with container.db.session() as session:
        world = seed_world(session, container.hasher)
        owner = principal(world.workspace, world.owner)
        channel = make_channel(session, workspace_id=world.workspace.id, kind="test", name="Test")
        flow = definition(
            OPENED,
            step("s1", "send_message", {"text": "one"}, next="s2"),
            step("s2", "update_tag", {"action": "add", "tags": [{"ref": "tag", "key": "seen"}]}, next="s3"),
            step("s3", "send_message", {"text": "two"}),
        )
        workflow = service.create_workflow(session, owner, name="Two messages")
        service.save_draft(session, owner, workflow_id=workflow.id, definition=flow, revision=1)
        service.publish(session, owner, workflow_id=workflow.id)
        session.commit()
        for first in range(0, runs, 100):
            for i in range(first, min(runs, first + 100)):
                record_inbound(
                    session,
                    channel=channel,
                    external_id=f"visitor-{i}",
                    content=TextContent(text="hola"),
                    profile=ChannelProfile(first_name="Ana"),
                )
            session.commit()


@pytest.mark.timeout(400)
def test_a_killed_worker_loses_no_run_and_sends_nothing_twice(
    pg_container: Container, tmp_path: Path
) -> None:
    _arrange(pg_container)
    journal = pg_container.settings.test_channel_journal
    assert journal is not None
    workers = Workers(pg_container, tmp_path)
    try:
        victim = workers.start()
        workers.start()
        _wait_for(lambda: len(read_journal(journal)) >= RUNS // 2, timeout=120, what="half the sends")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        assert _count(pg_container, Run.status != "ended") > 0, "the kill must happen mid-flight"
        workers.start()  # the restarted worker
        _wait_for(
            lambda: _count(pg_container, Run.status == "ended") == RUNS, timeout=180, what="every run to end"
        )
    finally:
        workers.stop_all()

    assert _count(pg_container) == RUNS
    assert _count(pg_container, Run.end_reason == "completed") == RUNS
    sent = read_journal(journal)
    per_visitor = collections.Counter((line["external_id"], line["content"]["text"]) for line in sent)
    assert len(per_visitor) == 2 * RUNS  # none lost: both messages reached every contact
    assert set(per_visitor.values()) == {1}  # none sent twice
    assert len({line["key"] for line in sent}) == len(sent) == 2 * RUNS


@pytest.mark.timeout(300)
def test_two_workers_racing_for_the_same_events_enrol_once(pg_container: Container) -> None:
    # two engines (as two processes would) claim concurrently: each contact is processed by one of them
    # at a time (WF-RUN-05), so each event enrols at most once (WF-RUN-02)
    _arrange(pg_container, RACE_RUNS)
    first, second = pg_container.engine(), pg_container.engine()
    errors: list[BaseException] = []

    def drain(engine: object) -> None:
        try:
            engine.drain()  # type: ignore[attr-defined]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(engine,)) for engine in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    first.drain()  # whatever a lost race left for later
    assert _count(pg_container) == RACE_RUNS
    assert _count(pg_container, Run.end_reason == "completed") == RACE_RUNS
    with pg_container.db.session(readonly=True) as session:
        assert _duplicates(session) == 0
    journal = pg_container.settings.test_channel_journal
    assert journal is not None
    assert len({line["key"] for line in read_journal(journal)}) == 2 * RACE_RUNS


def _duplicates(session: Session) -> int:
    per_contact = (
        select(Run.contact_id, func.count().label("n")).group_by(Run.workflow_id, Run.contact_id).subquery()
    )
    return int(session.scalar(select(func.count()).select_from(per_contact).where(per_contact.c.n > 1)) or 0)
