"""Tags (CRM-TAG-01/02/03) through /api/tags and /api/contacts/{id}/tags."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.models import ContactTag, Tag
from convoflow.testing.factories import make_contact
from tests.contacts.helpers import ClientFor, event_count, read_events, set_restrictions
from tests.support import World, assert_error, seed_world


def _tag_names(session: Session, workspace_id: int) -> list[str]:
    names = list(session.scalars(select(Tag.name).where(Tag.workspace_id == workspace_id).order_by(Tag.id)))
    session.commit()
    return names


def _link_count(session: Session) -> int:
    count = session.scalar(select(func.count()).select_from(ContactTag)) or 0
    session.commit()
    return count


def _contact(session: Session, world: World, **values: Any) -> int:
    contact_id = make_contact(session, workspace_id=world.workspace.id, **values).id
    session.commit()
    return contact_id


def test_create_tag_with_description_colour_and_emoji(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-TAG-01
    response = owner.post(
        "/api/tags", json={"name": " VIP ", "description": "Big spenders", "color": "#ff00aa", "emoji": "💎"}
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": response.json()["id"],
        "name": "VIP",
        "description": "Big spenders",
        "color": "#FF00AA",
        "emoji": "💎",
        "contact_count": 0,
    }
    assert _tag_names(session, world.workspace.id) == ["VIP"]


def test_tag_names_are_unique_ignoring_case(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TAG-01 (our decision: ignoring case)
    owner.post("/api/tags", json={"name": "VIP"})
    assert_error(owner.post("/api/tags", json={"name": "vip"}), 409, "tag_name_taken")
    assert_error(owner.post("/api/tags", json={"name": " Vip "}), 409, "tag_name_taken")
    other = owner.post("/api/tags", json={"name": "Lead"}).json()
    assert_error(owner.patch(f"/api/tags/{other['id']}", json={"name": "vIP"}), 409, "tag_name_taken")
    assert _tag_names(session, world.workspace.id) == ["VIP", "Lead"]


def test_tag_values_are_validated(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TAG-01: name 1-255 chars, colour #RRGGBB
    for body in (
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 256},
        {"name": "ok", "color": "red"},
        {"name": "ok", "color": "#FFF"},
        {"name": "ok", "color": "#GGGGGG"},
        {"name": "ok", "color": "FF00AA"},
        {"name": "ok", "description": "d" * 256},
        {"name": "ok", "emoji": ""},
    ):
        assert_error(owner.post("/api/tags", json=body), 422, "validation_error")
    assert _tag_names(session, world.workspace.id) == []
    assert owner.post("/api/tags", json={"name": "x" * 255}).status_code == 201
    tag = owner.post("/api/tags", json={"name": "Blue", "color": "#0000FF"}).json()
    assert_error(owner.patch(f"/api/tags/{tag['id']}", json={"color": "blue"}), 422)
    assert owner.get("/api/tags").json()[0]["color"] == "#0000FF"


def test_colour_and_emoji_can_be_cleared(owner: TestClient) -> None:
    tag = owner.post("/api/tags", json={"name": "Blue", "color": "#0000FF", "emoji": "🔵"}).json()
    kept = owner.patch(f"/api/tags/{tag['id']}", json={"description": "d"}).json()
    assert (kept["color"], kept["emoji"]) == ("#0000FF", "🔵")
    cleared = owner.patch(f"/api/tags/{tag['id']}", json={"color": None, "emoji": None}).json()
    assert (cleared["color"], cleared["emoji"], cleared["description"]) == (None, None, "d")


def test_adding_unknown_tags_creates_them(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TAG-02: implicit creation when added to a contact
    owner.post("/api/tags", json={"name": "VIP"})
    contact_id = _contact(session, world)
    response = owner.patch(
        f"/api/contacts/{contact_id}/tags", json={"add": ["vip", "New Lead", "new lead", " 2025 "]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["tags"] == ["2025", "New Lead", "VIP"]
    assert _tag_names(session, world.workspace.id) == ["VIP", "New Lead", "2025"]
    event = read_events(session, workspace_id=world.workspace.id, type="contact.tag.updated")[0]
    assert event.payload == {
        "contact_id": contact_id,
        "added": ["VIP", "New Lead", "2025"],
        "removed": [],
        "added_ids": _tag_ids(session, world.workspace.id, ["VIP", "New Lead", "2025"]),
        "removed_ids": [],
    }
    assert event.source == "user" and event.actor_id == world.owner.id
    counts = {t["name"]: t["contact_count"] for t in owner.get("/api/tags").json()}
    assert counts == {"2025": 1, "New Lead": 1, "VIP": 1}


def test_adding_and_removing_emits_one_event_listing_what_changed(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-TAG-02, decision: one contact.tag.updated per change
    contact_id = _contact(session, world)
    owner.patch(f"/api/contacts/{contact_id}/tags", json={"add": ["a", "b"]})
    response = owner.patch(
        f"/api/contacts/{contact_id}/tags", json={"add": ["c", "A"], "remove": ["B", "zzz"]}
    )
    assert response.json()["tags"] == ["a", "c"]
    events = read_events(session, workspace_id=world.workspace.id, type="contact.tag.updated")
    ids = dict(zip(["a", "b", "c"], _tag_ids(session, world.workspace.id, ["a", "b", "c"]), strict=True))
    assert [e.payload for e in events] == [
        {
            "contact_id": contact_id,
            "added": ["a", "b"],
            "removed": [],
            "added_ids": [ids["a"], ids["b"]],
            "removed_ids": [],
        },
        {
            "contact_id": contact_id,
            "added": ["c"],
            "removed": ["b"],
            "added_ids": [ids["c"]],
            "removed_ids": [ids["b"]],
        },
    ]
    # "zzz" was never a tag and removing it creates nothing.
    assert "zzz" not in _tag_names(session, world.workspace.id)


def test_tag_already_present_or_absent_emits_nothing(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-EVT-04: "tag already present"
    contact_id = _contact(session, world)
    owner.patch(f"/api/contacts/{contact_id}/tags", json={"add": ["VIP"]})
    before = event_count(session, world.workspace.id)
    response = owner.patch(f"/api/contacts/{contact_id}/tags", json={"add": ["vip"], "remove": ["other"]})
    assert response.status_code == 200 and response.json()["tags"] == ["VIP"]
    assert owner.patch(f"/api/contacts/{contact_id}/tags", json={}).status_code == 200
    assert event_count(session, world.workspace.id) == before
    assert _link_count(session) == 1


def test_bad_tag_lists_are_refused_and_change_nothing(
    owner: TestClient, session: Session, world: World
) -> None:
    contact_id = _contact(session, world)
    assert_error(owner.patch(f"/api/contacts/{contact_id}/tags", json={"add": [""]}), 422)
    assert_error(owner.patch(f"/api/contacts/{contact_id}/tags", json={"add": ["ok", "x" * 256]}), 422)
    assert_error(
        owner.patch(f"/api/contacts/{contact_id}/tags", json={"add": [f"t{n}" for n in range(11)]}), 422
    )
    assert_error(owner.patch(f"/api/contacts/{contact_id}/tags", json={"add": "vip"}), 422)
    assert _tag_names(session, world.workspace.id) == []
    assert _link_count(session) == 0
    assert event_count(session, world.workspace.id) == 1  # contact.created only


def test_rename_keeps_assignments(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TAG-02
    contact_id = _contact(session, world)
    owner.patch(f"/api/contacts/{contact_id}/tags", json={"add": ["vip"]})
    tag_id = owner.get("/api/tags").json()[0]["id"]
    before = event_count(session, world.workspace.id)
    renamed = owner.patch(f"/api/tags/{tag_id}", json={"name": "VIP customers"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "VIP customers" and renamed.json()["contact_count"] == 1
    assert owner.get(f"/api/contacts/{contact_id}").json()["tags"] == ["VIP customers"]
    # Changing only the case of its own name is allowed.
    assert owner.patch(f"/api/tags/{tag_id}", json={"name": "vip customers"}).status_code == 200
    assert event_count(session, world.workspace.id) == before


def test_delete_removes_tag_from_contacts_without_events(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-TAG-03
    first, second = _contact(session, world), _contact(session, world)
    owner.patch(f"/api/contacts/{first}/tags", json={"add": ["vip", "lead"]})
    owner.patch(f"/api/contacts/{second}/tags", json={"add": ["vip"]})
    vip = next(t for t in owner.get("/api/tags").json() if t["name"] == "vip")
    assert vip["contact_count"] == 2
    before = event_count(session, world.workspace.id)
    assert owner.delete(f"/api/tags/{vip['id']}").status_code == 204
    assert owner.get(f"/api/contacts/{first}").json()["tags"] == ["lead"]
    assert owner.get(f"/api/contacts/{second}").json()["tags"] == []
    assert _tag_names(session, world.workspace.id) == ["lead"]
    assert _link_count(session) == 1
    assert event_count(session, world.workspace.id) == before
    assert_error(owner.delete(f"/api/tags/{vip['id']}"), 404)


def test_agents_tag_contacts_but_do_not_manage_tags(
    owner: TestClient, session: Session, world: World, client_for: ClientFor
) -> None:
    # CRM-ROLE-01: tags are settings; tagging a contact is editing it
    contact_id = _contact(session, world)
    tag = owner.post("/api/tags", json={"name": "vip"}).json()
    agent = client_for(world.agent)
    assert_error(agent.post("/api/tags", json={"name": "x"}), 403, "role_required")
    assert_error(agent.patch(f"/api/tags/{tag['id']}", json={"name": "y"}), 403, "role_required")
    assert_error(agent.delete(f"/api/tags/{tag['id']}"), 403, "role_required")
    set_restrictions(session, world.workspace, world.manager, restrict_space_setting=True)
    assert_error(client_for(world.manager).delete(f"/api/tags/{tag['id']}"), 403, "restricted")
    assert _tag_names(session, world.workspace.id) == ["vip"]
    response = agent.patch(f"/api/contacts/{contact_id}/tags", json={"add": ["new-by-agent"]})
    assert response.status_code == 200 and response.json()["tags"] == ["new-by-agent"]
    event = read_events(session, workspace_id=world.workspace.id, type="contact.tag.updated")[0]
    assert event.actor_id == world.agent.id


def test_tags_are_per_workspace(
    owner: TestClient, session: Session, container: Container, client_for: ClientFor
) -> None:
    # CRM-WS-01, CRM-TAG-01: the same name may exist in another workspace
    tag = owner.post("/api/tags", json={"name": "vip"}).json()
    other_world = seed_world(session, container.hasher, name="Other")
    other = client_for(other_world.owner)
    assert other.post("/api/tags", json={"name": "VIP"}).status_code == 201
    assert_error(other.patch(f"/api/tags/{tag['id']}", json={"name": "mine"}), 404)
    assert_error(other.delete(f"/api/tags/{tag['id']}"), 404)
    assert [t["name"] for t in owner.get("/api/tags").json()] == ["vip"]


def _tag_ids(session: Session, workspace_id: int, names: list[str]) -> list[int]:
    """The ids of the named tags, in the order given (tag events carry ids beside names)."""
    rows = dict(session.execute(select(Tag.name, Tag.id).where(Tag.workspace_id == workspace_id)).all())
    session.commit()
    return [rows[name] for name in names]
