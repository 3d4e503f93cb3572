"""Contact lists (CRM-CONT-08): search by name, email or phone ignoring case and accents' case; pages."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.testing.factories import make_contact
from tests.contacts.helpers import ids_of
from tests.support import World, assert_error


def _people(session: Session, world: World) -> dict[str, int]:
    ws = world.workspace.id
    rows: list[dict[str, Any]] = [
        {
            "first_name": "Ana",
            "last_name": "Pérez",
            "email": "ana.perez@example.com",
            "phone": "+34600111222",
        },
        {"first_name": "Jürgen", "last_name": "Straße", "email": "jurgen@beispiel.de"},
        {"first_name": "Øyvind", "last_name": "Ødegård", "phone": "+4791234567"},
        {"first_name": "Promo", "last_name": "100%_off", "email": "deals@shop.example"},
        {"first_name": "Zoë", "last_name": "🎉 Party"},
    ]
    ids = {row["first_name"]: make_contact(session, workspace_id=ws, **row).id for row in rows}
    session.commit()
    return ids


def _search(owner: TestClient, text: str) -> list[int]:
    response = owner.get("/api/contacts", params={"search": text})
    assert response.status_code == 200, response.text
    via_query = owner.post("/api/contacts/query", json={"search": text})
    assert via_query.status_code == 200, via_query.text
    assert ids_of(via_query.json()) == ids_of(response.json())
    return ids_of(response.json())


def test_search_matches_name_ignoring_case_including_accented_letters(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-08: "PÉREZ" finds "Pérez"
    ids = _people(session, world)
    assert _search(owner, "PÉREZ") == [ids["Ana"]]
    assert _search(owner, "pérez") == [ids["Ana"]]
    assert _search(owner, "ana pér") == [ids["Ana"]]  # first and last name together
    assert _search(owner, "ØDEGÅRD") == [ids["Øyvind"]]
    assert _search(owner, "jÜrgen") == [ids["Jürgen"]]
    assert _search(owner, "ZOË") == [ids["Zoë"]]
    assert _search(owner, "🎉") == [ids["Zoë"]]


def test_search_finds_the_exact_spelling_on_both_databases(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-08: a name typed as stored is always found ("ß" lower-cases to itself)
    ids = _people(session, world)
    assert _search(owner, "Straße") == [ids["Jürgen"]]
    assert _search(owner, "STRAßE") == [ids["Jürgen"]]
    # Decomposed input (e + combining accent, as some keyboards send it) finds the composed name.
    assert _search(owner, "PE\u0301REZ") == [ids["Ana"]]


def test_search_matches_email_and_phone(owner: TestClient, session: Session, world: World) -> None:
    ids = _people(session, world)
    assert _search(owner, "ANA.PEREZ@EXAMPLE") == [ids["Ana"]]
    assert _search(owner, "beispiel.de") == [ids["Jürgen"]]
    assert _search(owner, "600111") == [ids["Ana"]]
    assert _search(owner, "+47") == [ids["Øyvind"]]
    assert _search(owner, "example") == [ids["Promo"], ids["Ana"]]  # newest first
    assert _search(owner, "nobody") == []


def test_search_treats_like_wildcards_literally(owner: TestClient, session: Session, world: World) -> None:
    ids = _people(session, world)
    assert _search(owner, "100%") == [ids["Promo"]]
    assert _search(owner, "%_off") == [ids["Promo"]]
    assert _search(owner, "%") == [ids["Promo"]]
    assert _search(owner, "_") == [ids["Promo"]]
    assert _search(owner, "\\") == []


def test_blank_search_lists_everyone(owner: TestClient, session: Session, world: World) -> None:
    ids = _people(session, world)
    assert _search(owner, "") == sorted(ids.values(), reverse=True)
    assert _search(owner, "   ") == sorted(ids.values(), reverse=True)


def test_cursor_pages_are_newest_first(owner: TestClient, session: Session, world: World) -> None:
    # CRM-CONT-08, decision: ?limit=&cursor= answered with {items, next_cursor}
    ids = sorted(make_contact(session, workspace_id=world.workspace.id).id for _ in range(5))
    session.commit()
    first = owner.get("/api/contacts", params={"limit": 2}).json()
    assert ids_of(first) == [ids[4], ids[3]] and first["next_cursor"]
    second = owner.get("/api/contacts", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert ids_of(second) == [ids[2], ids[1]]
    third = owner.get("/api/contacts", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    assert ids_of(third) == [ids[0]] and third["next_cursor"] is None
    # The same pages through POST /api/contacts/query.
    page = owner.post("/api/contacts/query?limit=2", json={"filter": {"$and": []}}).json()
    assert ids_of(page) == [ids[4], ids[3]]
    rest = owner.post(f"/api/contacts/query?limit=10&cursor={page['next_cursor']}", json={}).json()
    assert ids_of(rest) == [ids[2], ids[1], ids[0]] and rest["next_cursor"] is None
    # A full last page still offers a cursor, which then yields an empty page.
    exact = owner.get("/api/contacts", params={"limit": 5}).json()
    assert len(exact["items"]) == 5
    empty = owner.get("/api/contacts", params={"limit": 5, "cursor": exact["next_cursor"]}).json()
    assert empty == {"items": [], "next_cursor": None}


def test_bad_paging_parameters(owner: TestClient, session: Session, world: World) -> None:
    assert_error(owner.get("/api/contacts", params={"cursor": "abc"}), 400, "invalid_cursor")
    assert_error(owner.get("/api/contacts", params={"limit": 0}), 422)
    assert_error(owner.get("/api/contacts", params={"limit": 101}), 422)
    assert_error(owner.get("/api/contacts", params={"search": "x" * 201}), 422)
    assert owner.get("/api/contacts", params={"limit": 100}).json() == {"items": [], "next_cursor": None}


def test_list_shows_only_this_workspaces_contacts(owner: TestClient, session: Session, world: World) -> None:
    from convoflow.accounts import workspaces

    other = workspaces.create_workspace(session, name="Other", owner_user_id=world.owner.id)
    make_contact(session, workspace_id=other.id, first_name="Elsewhere")
    mine = make_contact(session, workspace_id=world.workspace.id, first_name="Here").id
    session.commit()
    assert ids_of(owner.get("/api/contacts").json()) == [mine]
    assert _search(owner, "Elsewhere") == []
