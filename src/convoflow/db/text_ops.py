"""Case-insensitive text comparison on both databases.

SQLite's lower() folds ASCII only, so "PÉREZ" would not find "Pérez"; engine.py registers a
`casefold` SQL function on every SQLite connection and this module picks it there. PostgreSQL uses
lower().

Both sides of a comparison are folded by the database itself (`folded_text`), never one in Python
and one in SQL: Python's casefold() and PostgreSQL's lower() disagree on letters such as "ß"
("straße".casefold() is "strasse"), so a Python-folded search term would miss a name typed exactly
as stored.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import String, func, literal
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement


def sql_casefold(value: str | None) -> str | None:
    """The SQLite `casefold` function: NFC-normalised, then case-folded."""
    return None if value is None else unicodedata.normalize("NFC", value).casefold()


def folded(session: Session, expr: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[str]:
    """`expr` folded to its case-insensitive form by the database."""
    if session.get_bind().dialect.name == "sqlite":
        return func.casefold(expr, type_=String)
    return func.lower(expr, type_=String)


def folded_text(session: Session, value: str) -> ColumnElement[str]:
    """A Python string as a bound value folded the same way as `folded` columns.

    The value is NFC-normalised first, as stored names are, so decomposed input ("e" plus a
    combining accent) matches too.
    """
    return folded(session, literal(unicodedata.normalize("NFC", value), String))
