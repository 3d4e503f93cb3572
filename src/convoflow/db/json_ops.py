"""JSON expressions that differ between PostgreSQL (JSONB operators) and SQLite (JSON1 functions)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, func, literal
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from convoflow.db.base import JSONType


def remove_json_key(session: Session, column: InstrumentedAttribute[Any], key: str) -> ColumnElement[Any]:
    """`column` without top-level `key` (keys are slugs: [a-z0-9_] only)."""
    if session.get_bind().dialect.name == "postgresql":
        return column.op("-", return_type=JSONType)(literal(key, String))
    return func.json_remove(column, f'$."{key}"', type_=JSONType)
