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
4. parked: P runs parked in Ask a Question (RSS of the engine process measured as they park), then
   all P timeouts fall due at once (the clock jumps 7 days): drain rate and lag.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from convoflow.bootstrap import Container, build_container
from convoflow.channels.base import OutboundMessage, SendResult
from convoflow.contacts.identities import ChannelProfile
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import record_inbound
from convoflow.db import migrate
from convoflow.settings import PasswordHashing, Settings
from convoflow.testing.factories import make_channel, make_user, make_workspace, principal
from convoflow.workflows import service
from convoflow.workflows.models import Run

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
        {"key": "send", "name": "Greet", "type": "send_message", "config": {"text": "Hola $contact.firstname"}, "outputs": {}},
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
            "config": {"text": "¿Qué plan te interesa?", "type": "text"},
            "outputs": {},
        }
    ],
}


class ShiftableClock:
    """Wall-clock time plus an offset the benchmark can move (to make timeouts fall due)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


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
        self.clock = ShiftableClock()
        settings = Settings(
            database_url=f"sqlite:///{directory / name}.db",
            data_dir=directory / name,
            password_hashing=PasswordHashing(time_cost=1, memory_kib=8, parallelism=1),
            secret_key="bench",
        )
        self.container: Container = build_container(settings, clock=self.clock)
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
        with self.container.db.session() as session:
            query = select(func.count()).select_from(Run)
            if status is not None:
                query = query.where(Run.status == status)
            return int(session.scalar(query) or 0)

    def close(self) -> None:
        self.container.close()


def wait_until(done: Callable[[], bool], *, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError("the engine did not finish in time")
        time.sleep(0.005)


def rss_mib() -> float:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as statm:
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
    wait_until(lambda: bench.sends.count >= runs, timeout=runs)
    elapsed = time.perf_counter() - started
    engine.stop()
    assert bench.count_runs("ended") == runs, "every run must have completed"
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


def parked(directory: Path, count: int) -> None:
    bench = Bench(directory, "parked")
    bench.publish(ASK)
    engine = bench.container.engine(poll_seconds=0.05)
    engine.start()
    gc.collect()
    samples = [(0, rss_mib())]
    chunk = max(1, count // 5)
    started = time.perf_counter()
    for first in range(0, count, chunk):
        bench.inbound([f"p{i}" for i in range(first, min(count, first + chunk))], per_transaction=500)
        target = min(count, first + chunk)
        wait_until(lambda target=target: bench.count_runs("waiting") >= target, timeout=count)
        gc.collect()
        samples.append((target, rss_mib()))
    park_seconds = time.perf_counter() - started
    print(
        f"parked: {count} runs parked in Ask a Question in {park_seconds:.1f}s "
        f"(ingest + run + question sent: {count / park_seconds:.0f}/s)"
    )
    print("parked: engine process RSS by parked runs: " + ", ".join(f"{n}: {mib:.0f} MiB" for n, mib in samples))
    bench.clock.offset += timedelta(days=7, minutes=1)  # every question times out at once
    started = time.perf_counter()
    engine.wake.notify()
    wait_until(lambda: bench.count_runs("ended") >= count, timeout=600)
    drain = time.perf_counter() - started
    engine.stop()
    print(
        f"timeouts: {count} due at once drained in {drain:.1f}s = {count / drain:.0f}/s "
        f"(lag of the last: {drain:.1f}s)"
    )
    bench.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20_000, help="runs in the throughput phase")
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="length of the latency phase")
    parser.add_argument("--parked", type=int, default=100_000, help="runs parked in Ask a Question")
    parser.add_argument("--skip", action="append", default=[], choices=["throughput", "latency", "parked"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="convoflow-bench-", dir=Path.cwd()) as tmp:
        directory = Path(tmp)
        raw = raw_sqlite(directory)
        if "throughput" not in args.skip:
            rate = throughput(directory, args.runs)
            print(f"ratio: engine runs/s : raw SQLite tx/s = {rate / raw:.3f} (a run here commits ~4 times)")
            if "latency" not in args.skip:
                latency(directory, rate / 2, args.latency_seconds)
        if "parked" not in args.skip:
            parked(directory, args.parked)


if __name__ == "__main__":
    main(sys.argv[1:])
