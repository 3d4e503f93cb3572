"""Cursor pagination for /api lists: `?limit=&cursor=`, answered with `next_cursor`."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from convoflow.api.ids import MAX_ID
from convoflow.errors import MalformedRequest

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int
    cursor: str | None

    def before_id(self) -> int | None:
        """Id cursors: the next page holds ids below the last item's."""
        if self.cursor is None:
            return None
        # isascii: str.isdigit() also accepts digits int() refuses ("²") or other scripts' digits.
        if not (self.cursor.isascii() and self.cursor.isdigit()) or int(self.cursor) > MAX_ID:
            raise MalformedRequest("cursor is not valid", error="invalid_cursor")
        return int(self.cursor)


def _page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page")] = 25,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(_page_params)]


def id_page(items: list[T], ids: list[int], limit: int) -> Page[T]:
    """A page whose next cursor is the last item's id when the page is full."""
    return Page[T](items=items, next_cursor=str(ids[-1]) if len(items) == limit and ids else None)
