"""Public ids in requests: positive and within BIGINT, so a larger number names no row.

Without the bound an id beyond 2**63-1 reaches the database driver, which SQLite refuses with a
500 (OverflowError) while PostgreSQL answers "not found"; with it both answer 422 before any query.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
