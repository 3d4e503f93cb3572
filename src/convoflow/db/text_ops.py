"""Case-insensitive text comparison on both databases.

SQLite's lower() folds ASCII only, so "PÉREZ" would not find "Pérez"; engine.py registers a
`casefold` SQL function on every SQLite connection and this module picks it there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, func
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement


def sql_casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def folded(session: Session, expr: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "sqlite":
        return func.casefold(expr, type_=String)
    return func.lower(expr, type_=String)


def fold_text(value: str) -> str:
    """Python side of `folded` (PostgreSQL lower() and Python casefold() agree on ordinary text)."""
    return value.casefold()
