"""Workflow engine benchmark (issue 5). Not a test: prints figures and ratios.

    .venv/bin/python bench/engine.py                       # all phases, default sizes
    .venv/bin/python bench/engine.py --runs 2000 --parked 10000   # a quicker pass

Phases, each on a fresh SQLite file in a temporary directory on the same disk:
1. throughput: N contacts each send a message that opens a conversation; a published workflow
   (Branch on a field -> Update Contact Tag -> Send a Message on the test channel) runs for each.
   The inbound messages are stored first, then the engine drains the backlog: runs/s.
2. latency: the same workflow while messages arrive at half the measured rate: p50/p99 from the
   inbound message's commit to the send reaching the test channel.
3. raw SQLite: the rate of one-row write transactions on the same disk with the same pragmas, the
   physical limit of any engine that commits its steps; the ratio runs/s : raw tx/s.
4. parked: P runs parked in Ask a Question with the engine in a `convoflow worker` process (its RSS
   read as they park; the first 500 park through the engine, the rest are bulk copies of their rows),
   then all P timeouts fall due at once (their due time is set to now): drain rate and lag.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select, update

from convoflow.bootstrap import Container, build_container
from convoflow.channels.base import OutboundMessage, SendResult
from convoflow.contacts.identities import ChannelProfile
from convoflow.contacts.models import Contact
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import record_inbound
from convoflow.db import migrate
from convoflow.settings import PasswordHashing, Settings
from convoflow.testing.factories import make_channel, make_user, make_workspace, principal
from convoflow.workflows import service
from convoflow.workflows.models import Run, RunStep, Timer

OPENED = {"type": "conversation_opened", "config": {"sources": ["contact"]}}
THREE_STEPS = {
    "trigger": OPENED,
    "root": "branch",
    "steps": [
        {
            "key": "branch",
            "name": "Known name?",
            "type": "branch",
            "config": {
                "branches": [
                    {
                        "name": "Ana",
                        "conditions": [
                            {
                                "category": "contact_field",
                                "field": "first_name",
                                "operator": "is_equal_to",
                                "value": "Ana",
                            }
                        ],
                    }
                ]
            },
            "outputs": {"branch:1": "tag", "else": None},
        },
        {
            "key": "tag",
            "name": "Tag",
            "type": "update_tag",
            "config": {"action": "add", "tags": [{"ref": "tag", "key": "bench"}]},
            "outputs": {"next": "send"},
        },
        {
            "key": "send",
            "name": "Greet",
            "type": "send_message",
            "config": {"text": "Hola $contact.firstname"},
            "outputs": {},
        },
    ],
}
ASK = {
    "trigger": OPENED,
    "root": "ask",
    "steps": [
        {
            "key": "ask",
            "name": "Plan",
            "type": "ask_question",
            "config": {"question": "¿Qué plan te interesa?", "question_type": "text"},
            "outputs": {},
        }
    ],
}


class SendLog:
    """A provider for the test channel that only notes when each contact's send arrived."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[str, float] = {}
        self.count = 0

    def record(self, message: OutboundMessage, key: str) -> SendResult:
        with self.lock:
            self.count += 1
            self.at.setdefault(message.external_id or "", time.perf_counter())
            return SendResult(f"bench-{self.count}")


class Bench:
    def __init__(self, directory: Path, name: str) -> None:
        settings = Settings(
            database_url=f"sqlite:///{directory / name}.db",
            data_dir=directory / name,
            password_hashing=PasswordHashing(time_cost=1, memory_kib=8, parallelism=1),
            secret_key="bench",
        )
        self.container: Container = build_container(settings)
        migrate.upgrade(self.container.db.engine)
        self.sends = SendLog()
        self.container.test_channel.record = self.sends.record  # type: ignore[method-assign]
        with self.container.db.session() as session:
            owner = make_user(session, self.container.hasher, first_name="Olga")
            workspace = make_workspace(session, owner=owner)
            self.channel = make_channel(session, workspace_id=workspace.id, kind="test", name="Test")
            session.commit()
            self.owner = principal(workspace, owner)
            session.expunge_all()

    def publish(self, definition: dict[str, Any]) -> None:
        with self.container.db.session() as session:
            workflow = service.create_workflow(session, self.owner, name="Bench")
            service.save_draft(
                session, self.owner, workflow_id=workflow.id, definition=definition, revision=1
            )
            service.publish(session, self.owner, workflow_id=workflow.id)
            session.commit()

    def inbound(self, visitors: list[str], *, per_transaction: int = 1) -> None:
        for start in range(0, len(visitors), per_transaction):
            with self.container.db.session() as session:
                for visitor in visitors[start : start + per_transaction]:
                    record_inbound(
                        session,
                        channel=self.channel,
                        external_id=visitor,
                        content=TextContent(text="Hola"),
                        profile=ChannelProfile(first_name="Ana"),
                    )
                session.commit()

    def count_runs(self, status: str | None = None) -> int:
        with self.container.db.session(readonly=True) as session:
            query = select(func.count()).select_from(Run)
            if status is not None:
                query = query.where(Run.status == status)
            return int(session.scalar(query) or 0)

    def close(self) -> None:
        self.container.close()


def wait_until(done: Callable[[], bool], *, timeout: float, every: float = 0.005) -> None:
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError("the engine did not finish in time")
        time.sleep(every)


def rss_mib(pid: int) -> float:
    """Resident set size of a process."""
    with open(f"/proc/{pid}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def throughput(directory: Path, runs: int) -> float:
    bench = Bench(directory, "throughput")
    bench.publish(THREE_STEPS)
    visitors = [f"t{i}" for i in range(runs)]
    started = time.perf_counter()
    bench.inbound(visitors)
    ingest = time.perf_counter() - started
    engine = bench.container.engine(poll_seconds=0.05)
    started = time.perf_counter()
    engine.start()
    wait_until(lambda: bench.count_runs("ended") >= runs, timeout=runs, every=0.05)
    elapsed = time.perf_counter() - started
    engine.stop()
    assert bench.sends.count == runs, "every run must have sent its message once"
    bench.close()
    rate = runs / elapsed
    print(f"throughput: {runs} inbound messages stored in {ingest:.1f}s ({runs / ingest:.0f}/s)")
    print(f"throughput: {runs} runs (3 steps each) in {elapsed:.2f}s = {rate:.0f} runs/s")
    return rate


def latency(directory: Path, rate: float, seconds: float) -> tuple[float, float]:
    bench = Bench(directory, "latency")
    bench.publish(THREE_STEPS)
    engine = bench.container.engine(poll_seconds=0.05)
    engine.start()
    total = max(1, int(rate * seconds))
    committed: dict[str, float] = {}
    started = time.perf_counter()
    for i in range(total):
        due = started + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        visitor = f"l{i}"
        bench.inbound([visitor])
        committed[visitor] = time.perf_counter()
    wait_until(lambda: bench.sends.count >= total, timeout=60 + seconds)
    engine.stop()
    bench.close()
    delays = sorted((bench.sends.at[v] - at) * 1000 for v, at in committed.items())
    p50 = statistics.median(delays)
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    achieved = total / (time.perf_counter() - started)
    print(
        f"latency: {total} messages at {rate:.0f}/s offered ({achieved:.0f}/s achieved): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (inbound commit -> send)"
    )
    return p50, p99


def raw_sqlite(directory: Path, seconds: float = 3.0) -> float:
    """One-row write transactions with the engine's pragmas (WAL, synchronous=NORMAL)."""
    connection = sqlite3.connect(directory / "raw.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t (v) VALUES (?)", ("x" * 64,))
        connection.execute("COMMIT")
        done += 1
    rate = done / (time.perf_counter() - started)
    connection.close()
    print(f"raw sqlite: {rate:.0f} one-row write transactions/s on the same disk")
    return rate


def clone_parked(bench: Bench, total: int) -> None:
    """Copies the parked runs the engine made (contact, run, step record, timeout timer) until there are
    `total`: the rows are exactly the engine's, written in bulk because parking 100,000 runs one by one
    would only measure the throughput phase again."""
    with bench.container.db.session() as session:
        templates = session.execute(
            select(Contact, Run, RunStep, Timer)
            .join(Run, Run.contact_id == Contact.id)
            .join(RunStep, RunStep.run_id == Run.id)
            .join(Timer, Timer.run_id == Run.id)
            .where(Run.status == "waiting")
        ).all()
        made = len(templates)
        next_contact = int(session.scalar(select(func.max(Contact.id))) or 0) + 1
        next_run = int(session.scalar(select(func.max(Run.id))) or 0) + 1
        while made < total:
            chunk = min(5_000, total - made)
            rows: dict[type, list[dict[str, Any]]] = {Contact: [], Run: [], RunStep: [], Timer: []}
            for i in range(chunk):
                contact, run, record, timer = templates[i % len(templates)]
                contact_id, run_id = next_contact + i, next_run + i
                rows[Contact].append({**_columns(contact), "id": contact_id})
                rows[Run].append({**_columns(run), "id": run_id, "contact_id": contact_id})
                rows[RunStep].append({**_columns(record), "run_id": run_id})
                rows[Timer].append({**_columns(timer), "run_id": run_id, "contact_id": contact_id})
            for model in (Contact, Run, RunStep, Timer):
                session.execute(insert(model), rows[model])
            session.commit()
            next_contact, next_run, made = next_contact + chunk, next_run + chunk, made + chunk


def _columns(row: Any) -> dict[str, Any]:
    values = {column.key: getattr(row, column.key) for column in row.__table__.columns}
    values.pop("id", None)
    return values


def parked(directory: Path, count: int, *, through_engine: int = 500) -> None:
    """The engine runs in a `convoflow worker` process, whose RSS is read from /proc as runs park."""
    bench = Bench(directory, "parked")
    bench.publish(ASK)
    environment = {
        **os.environ,
        "CONVOFLOW_DATABASE_URL": str(bench.container.settings.database_url),
        "CONVOFLOW_DATA_DIR": str(directory / "parked"),
        "CONVOFLOW_SECRET_KEY": "bench",
        "CONVOFLOW_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).with_name("convoflow")), "worker", "--poll", "0.05"]
    worker = subprocess.Popen(command, env=environment)
    try:
        time.sleep(2.0)  # imports and start-up
        samples = [(0, rss_mib(worker.pid))]
        started = time.perf_counter()
        first = min(count, through_engine)
        bench.inbound([f"p{i}" for i in range(first)], per_transaction=100)
        wait_until(lambda: bench.count_runs("waiting") >= first, timeout=600)
        park_seconds = time.perf_counter() - started
        print(
            f"parked: {first} runs parked in Ask a Question through the engine in {park_seconds:.1f}s "
            f"(inbound message + run + question sent: {first / park_seconds:.0f}/s)"
        )
        samples.append((first, rss_mib(worker.pid)))
        for target in (count // 10, count // 2, count):
            if target > bench.count_runs("waiting"):
                clone_parked(bench, target)
                time.sleep(2.0)  # the worker polls the bigger tables many times meanwhile
                samples.append((target, rss_mib(worker.pid)))
        by_count = ", ".join(f"{n}: {mib:.0f} MiB" for n, mib in samples)
        print(f"parked: worker process RSS by parked runs: {by_count}")
        with bench.container.db.session() as session:  # 7 days pass: every question times out at once
            session.execute(update(Timer).values(due_at=datetime.now(UTC)))
            session.commit()
        started = time.perf_counter()
        # counting 100,000 runs costs CPU the worker needs: look twice a second (the lag is ±0.5 s)
        wait_until(lambda: bench.count_runs("ended") >= count, timeout=3600, every=0.5)
        drain = time.perf_counter() - started
        print(
            f"timeouts: {count} due at once drained in {drain:.1f}s = {count / drain:.0f}/s "
            f"(lag of the last: {drain:.1f}s)"
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        bench.close()


def profile(directory: Path, runs: int) -> None:
    """The throughput workload run inline under cProfile: where a run's time goes."""
    bench = Bench(directory, "profile")
    bench.publish(THREE_STEPS)
    bench.inbound([f"f{i}" for i in range(runs)], per_transaction=100)
    statements: collections.Counter[str] = collections.Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[" ".join(statement.split()[:3])] += 1

    event.listen(bench.container.db.engine, "before_cursor_execute", count)
    engine = bench.container.engine()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(engine.drain)
    elapsed = time.perf_counter() - started
    total = sum(statements.values())
    print(f"profile: {runs} runs inline under cProfile in {elapsed:.1f}s; {total / runs:.1f} statements/run")
    for statement, seen in statements.most_common(12):
        print(f"  {seen / runs:5.1f}/run  {statement}")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"convoflow/(workflows|worker|events)", 25)
    bench.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5_000, help="runs in the throughput phase")
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="length of the latency phase")
    parser.add_argument("--parked", type=int, default=100_000, help="runs parked in Ask a Question")
    parser.add_argument("--skip", action="append", default=[], choices=["throughput", "latency", "parked"])
    parser.add_argument("--profile", type=int, default=0, help="only profile this many runs inline")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="convoflow-bench-", dir=Path.cwd()) as tmp:
        directory = Path(tmp)
        if args.profile:
            profile(directory, args.profile)
            return
        raw = raw_sqlite(directory)
        if "throughput" not in args.skip:
            rate = throughput(directory, args.runs)
            per_run = raw / rate
            print(f"ratio: engine runs/s : raw SQLite tx/s = {rate / raw:.4f} ({per_run:.0f} raw tx per run)")
            if "latency" not in args.skip:
                latency(directory, rate / 2, args.latency_seconds)
        if "parked" not in args.skip:
            parked(directory, args.parked)


if __name__ == "__main__":
    main(sys.argv[1:])
