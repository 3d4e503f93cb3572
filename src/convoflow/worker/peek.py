"""A loop looks for work in a read-only transaction before it opens a write one.

On SQLite there is one writer: an idle loop that polled with a write transaction would contend with
every API request and the other loops (and other processes) for nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists
from sqlalchemy.orm import Session

from convoflow.db.session import Database


def any_work(db: Database, query: Select[Any]) -> bool:
    """Whether `query` (a select of candidate rows) finds at least one, read without taking a lock."""
    session: Session
    with db.session(readonly=True) as session:
        return bool(session.scalar(exists(query).select()))
