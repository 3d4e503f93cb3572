"""Cursor pagination on /api lists: ?limit=1..100&cursor=, answered with {items, next_cursor}."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.api.ids import MAX_ID
from convoflow.api.pagination import PageParams, id_page
from convoflow.errors import MalformedRequest
from convoflow.testing.factories import make_contact
from tests.support import World, assert_error


@pytest.mark.parametrize("limit", ["0", "-1", "101", "1000", "lots", "1.5", ""])
def test_limit_outside_1_to_100_is_422(owner: TestClient, limit: str) -> None:
    body = assert_error(owner.get(f"/api/contacts?limit={limit}"), 422, "validation_error")
    assert [d["field"] for d in body["details"]] == ["query.limit"]


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "-1",
        "1.5",
        "%20",  # blank
        "%C2%B2",  # "²": str.isdigit() says yes, int() says no (this was a 500)
        "%D9%A3",  # Arabic-Indic three
        "9223372036854775808",  # beyond BIGINT (SQLite used to raise OverflowError: a 500)
        "9" * 40,
    ],
)
def test_invalid_cursor_is_400(owner: TestClient, world: World, cursor: str) -> None:
    assert_error(owner.get(f"/api/contacts?cursor={cursor}"), 400, "invalid_cursor")
    assert_error(owner.get(f"/api/contacts?cursor={cursor}&limit=5"), 400, "invalid_cursor")


def test_overlong_cursor_is_422(owner: TestClient) -> None:
    body = assert_error(owner.get(f"/api/contacts?cursor={'1' * 201}"), 422, "validation_error")
    assert [d["field"] for d in body["details"]] == ["query.cursor"]


def test_pages_follow_next_cursor_to_the_end(owner: TestClient, session: Session, world: World) -> None:
    ids = [make_contact(session, workspace_id=world.workspace.id).id for _ in range(5)]
    session.commit()
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        url = "/api/contacts?limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = owner.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert cursor == str(page["items"][-1]["id"])
    assert seen == sorted(ids, reverse=True) and pages == 3
    # The largest valid cursor is accepted and simply starts at the newest item.
    first = owner.get(f"/api/contacts?limit=100&cursor={MAX_ID}").json()
    assert [item["id"] for item in first["items"]] == sorted(ids, reverse=True)
    assert first["next_cursor"] is None


def test_default_limit_is_25(owner: TestClient, session: Session, world: World) -> None:
    for _ in range(26):
        make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    page = owner.get("/api/contacts").json()
    assert len(page["items"]) == 25 and page["next_cursor"] == str(page["items"][-1]["id"])


def test_page_params_before_id() -> None:
    assert PageParams(limit=10, cursor=None).before_id() is None
    assert PageParams(limit=10, cursor="42").before_id() == 42
    assert PageParams(limit=10, cursor=str(MAX_ID)).before_id() == MAX_ID
    for bad in ("", "x", "²", "٣", str(MAX_ID + 1), "+1", " 1"):
        with pytest.raises(MalformedRequest) as refused:
            PageParams(limit=10, cursor=bad).before_id()
        assert refused.value.status == 400 and refused.value.error == "invalid_cursor"


def test_id_page_has_a_cursor_only_when_full() -> None:
    assert id_page(["a", "b"], [9, 7], 2).next_cursor == "7"
    assert id_page(["a"], [9], 2).next_cursor is None
    assert id_page([], [], 2).model_dump() == {"items": [], "next_cursor": None}
