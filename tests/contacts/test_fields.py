"""Custom field definitions and values (CRM-FIELD-02, CRM-FIELD-03) through /api/fields and /api/contacts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts import fields
from convoflow.contacts.filters import STANDARD_FIELD_NAMES
from convoflow.contacts.models import ContactField
from convoflow.testing.factories import make_contact, principal
from tests.contacts.helpers import (
    ClientFor,
    contact_count,
    contact_row,
    event_count,
    read_events,
    set_restrictions,
)
from tests.support import World, assert_error, seed_world


def _field(owner: TestClient, name: str, type: str = "text", **extra: Any) -> dict[str, Any]:
    response = owner.post("/api/fields", json={"name": name, "type": type, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _field_count(session: Session, workspace_id: int) -> int:
    query = select(func.count()).select_from(ContactField).where(ContactField.workspace_id == workspace_id)
    count = session.scalar(query) or 0
    session.commit()
    return count


# --- CRM-FIELD-02: definitions ---------------------------------------------------------------------


def test_slug_is_derived_from_the_name_in_lower_case(owner: TestClient) -> None:
    # CRM-FIELD-02
    assert _field(owner, "Order Number", "number")["slug"] == "order_number"
    assert _field(owner, "Código Postal")["slug"] == "codigo_postal"
    assert _field(owner, "  VIP -- Level!! ")["slug"] == "vip_level"
    explicit = _field(owner, "Anything", slug="Loyalty_Points")
    assert explicit["slug"] == "loyalty_points"
    listed = owner.get("/api/fields").json()
    assert [f["slug"] for f in listed] == ["order_number", "codigo_postal", "vip_level", "loyalty_points"]


def test_derived_slug_stays_unique(owner: TestClient) -> None:
    # CRM-FIELD-02: unique
    assert _field(owner, "Plan")["slug"] == "plan"
    assert _field(owner, "plan!")["slug"] == "plan_2"
    assert _field(owner, "PLAN")["slug"] == "plan_3"
    assert _field(owner, "🎉")["slug"] == "field"  # nothing usable in the name


def test_explicit_slug_taken_ignoring_case_is_409(owner: TestClient, session: Session, world: World) -> None:
    # CRM-FIELD-02: unique
    _field(owner, "Plan", slug="plan")
    assert_error(
        owner.post("/api/fields", json={"name": "Other", "type": "text", "slug": "PLAN"}),
        409,
        "field_slug_taken",
    )
    assert _field_count(session, world.workspace.id) == 1


def test_reserved_and_malformed_slugs_are_refused(owner: TestClient, session: Session, world: World) -> None:
    # CRM-FIELD-02, decision: custom slugs may not shadow standard fields or variables
    for slug in ("email", "Phone", "first_name", "tags", "name", "country", "id"):
        body = assert_error(owner.post("/api/fields", json={"name": "X", "type": "text", "slug": slug}), 422)
        assert body["details"][0]["field"] == "slug"
    for slug in ("has space", "dash-slug", "ünï", "x" * 51, ""):
        body = assert_error(owner.post("/api/fields", json={"name": "X", "type": "text", "slug": slug}), 422)
        assert body["details"][0]["field"] == "slug"
    # A name that derives a reserved slug gets a different one instead.
    assert _field(owner, "Email")["slug"] == "email_custom"
    assert _field_count(session, world.workspace.id) == 1


def test_field_name_and_description_are_bounded(owner: TestClient, session: Session, world: World) -> None:
    # CRM-FIELD-02: name 1-50 chars, description <= 255
    assert_error(owner.post("/api/fields", json={"name": "", "type": "text"}), 422)
    assert_error(owner.post("/api/fields", json={"name": "x" * 51, "type": "text"}), 422)
    assert_error(owner.post("/api/fields", json={"name": "X", "type": "text", "description": "d" * 256}), 422)
    assert_error(owner.post("/api/fields", json={"name": "X", "type": "colour"}), 422)
    assert _field_count(session, world.workspace.id) == 0
    assert _field(owner, "x" * 50, description="d" * 255)["description"] == "d" * 255


def test_slug_and_type_are_immutable(owner: TestClient, session: Session, world: World) -> None:
    # CRM-FIELD-02: slug derived once, type fixed after creation
    plan = _field(owner, "Plan")
    assert_error(owner.patch(f"/api/fields/{plan['id']}", json={"type": "number"}), 422)
    assert_error(owner.patch(f"/api/fields/{plan['id']}", json={"slug": "other"}), 422)
    renamed = owner.patch(
        f"/api/fields/{plan['id']}", json={"name": "Subscription plan", "description": "tier"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["slug"] == "plan" and renamed.json()["type"] == "text"
    assert renamed.json()["name"] == "Subscription plan" and renamed.json()["description"] == "tier"
    row = session.get(ContactField, plan["id"], populate_existing=True)
    session.commit()
    assert row is not None and (row.slug, row.type) == ("plan", "text")


def test_201st_field_is_refused(owner: TestClient, session: Session, world: World) -> None:
    # CRM-FIELD-02: at most 200 custom fields per workspace
    as_owner = principal(world.workspace, world.owner)
    for n in range(fields.MAX_FIELDS):
        fields.create_field(session, as_owner, name=f"Field {n}", type="text")
    session.commit()
    assert _field_count(session, world.workspace.id) == 200
    assert_error(
        owner.post("/api/fields", json={"name": "One too many", "type": "text"}), 409, "field_limit_reached"
    )
    assert _field_count(session, world.workspace.id) == 200
    # Deleting one frees a place.
    first_id = owner.get("/api/fields").json()[0]["id"]
    assert owner.delete(f"/api/fields/{first_id}").status_code == 204
    assert owner.post("/api/fields", json={"name": "Fits now", "type": "text"}).status_code == 201


def test_list_field_options_are_validated(owner: TestClient, session: Session, world: World) -> None:
    # CRM-FIELD-03: 1-100 allowed values, each <= 100 chars
    assert_error(owner.post("/api/fields", json={"name": "Tier", "type": "list"}), 422)
    assert_error(owner.post("/api/fields", json={"name": "Tier", "type": "list", "options": []}), 422)
    assert_error(owner.post("/api/fields", json={"name": "Tier", "type": "list", "options": ["a", "A"]}), 422)
    assert_error(
        owner.post("/api/fields", json={"name": "Tier", "type": "list", "options": ["x" * 101]}), 422
    )
    assert_error(owner.post("/api/fields", json={"name": "Tier", "type": "list", "options": [" "]}), 422)
    too_many = [f"v{n}" for n in range(101)]
    assert_error(owner.post("/api/fields", json={"name": "Tier", "type": "list", "options": too_many}), 422)
    assert_error(owner.post("/api/fields", json={"name": "Notes", "type": "text", "options": ["a"]}), 422)
    assert _field_count(session, world.workspace.id) == 0
    tier = _field(owner, "Tier", "list", options=[" Gold ", "x" * 100] + [f"v{n}" for n in range(98)])
    assert tier["options"][0] == "Gold" and len(tier["options"]) == 100


def test_agents_and_restricted_managers_cannot_manage_fields(
    session: Session, world: World, client_for: ClientFor
) -> None:
    # CRM-ROLE-01, CRM-ROLE-02: fields are workspace settings
    agent = client_for(world.agent)
    assert_error(agent.post("/api/fields", json={"name": "Plan", "type": "text"}), 403, "role_required")
    set_restrictions(session, world.workspace, world.manager, restrict_space_setting=True)
    manager = client_for(world.manager)
    assert_error(manager.post("/api/fields", json={"name": "Plan", "type": "text"}), 403, "restricted")
    assert _field_count(session, world.workspace.id) == 0
    assert agent.get("/api/fields").status_code == 200  # everyone may read the vocabulary


# --- CRM-FIELD-03: values --------------------------------------------------------------------------


def _all_types(owner: TestClient) -> None:
    _field(owner, "Notes", "text")
    _field(owner, "Tier", "list", options=["Gold", "Silver"])
    _field(owner, "Subscribed", "checkbox")
    _field(owner, "Work email", "email")
    _field(owner, "Score", "number")
    _field(owner, "Website", "url")
    _field(owner, "Birthday", "date")
    _field(owner, "Call at", "time")


def test_every_type_stores_its_accepted_values(owner: TestClient, session: Session) -> None:
    # CRM-FIELD-03
    _all_types(owner)
    values = {
        "notes": "likes 🎉",
        "tier": "gold",
        "subscribed": "yes",
        "work_email": "Ana@Work.Example",
        "score": "-12.50",
        "website": "https://ana.example",
        "birthday": "1990-02-28",
        "call_at": "18:30",
    }
    response = owner.post("/api/contacts", json={"first_name": "Ana", "custom_fields": values})
    assert response.status_code == 201, response.text
    stored = {
        "notes": "likes 🎉",
        "tier": "Gold",
        "subscribed": True,
        "work_email": "ana@work.example",
        "score": -12.5,
        "website": "https://ana.example",
        "birthday": "1990-02-28",
        "call_at": "18:30",
    }
    assert response.json()["custom_fields"] == stored
    assert contact_row(session, response.json()["id"]).attributes == stored
    assert owner.get(f"/api/contacts/{response.json()['id']}").json()["custom_fields"] == stored


def test_slugs_in_values_ignore_case(owner: TestClient) -> None:
    _field(owner, "Score", "number")
    response = owner.post("/api/contacts", json={"first_name": "Ana", "custom_fields": {"SCORE": 7}})
    assert response.status_code == 201, response.text
    assert response.json()["custom_fields"] == {"score": 7}


def test_rejected_values_name_the_field_and_change_nothing(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-FIELD-03: values failing validation are rejected, never stored
    _all_types(owner)
    ana = owner.post("/api/contacts", json={"first_name": "Ana", "custom_fields": {"notes": "keep"}}).json()
    bad: dict[str, Any] = {
        "notes": "x" * 2001,
        "tier": "Platinum",
        "subscribed": "maybe",
        "work_email": "nope",
        "score": "NaN",
        "website": "ftp://x.example",
        "birthday": "1990-02-30",
        "call_at": "25:00",
    }
    for slug, value in bad.items():
        for attempt in (
            owner.post("/api/contacts", json={"first_name": "B", "custom_fields": {slug: value}}),
            owner.patch(
                f"/api/contacts/{ana['id']}", json={"first_name": "Changed", "custom_fields": {slug: value}}
            ),
        ):
            body = assert_error(attempt, 422, "validation_error")
            assert body["details"] == [{"field": f"custom_fields.{slug}", "message": body["message"]}], body
    # Wrong JSON types too.
    for slug, value in {
        "notes": [1],
        "score": True,
        "subscribed": 1,
        "birthday": 19900228,
        "tier": 3,
    }.items():
        body = assert_error(
            owner.patch(f"/api/contacts/{ana['id']}", json={"custom_fields": {slug: value}}), 422
        )
        assert body["details"][0]["field"] == f"custom_fields.{slug}"
    assert contact_count(session, world.workspace.id) == 1
    assert event_count(session, world.workspace.id) == 1
    row = contact_row(session, ana["id"])
    assert row.first_name == "Ana" and row.attributes == {"notes": "keep"}


def test_every_bad_custom_value_is_listed(owner: TestClient) -> None:
    _field(owner, "Score", "number")
    body = assert_error(
        owner.post(
            "/api/contacts",
            json={"first_name": "Ana", "custom_fields": {"score": "x", "nickname": "A", "other": 1}},
        ),
        422,
    )
    assert [d["field"] for d in body["details"]] == [
        "custom_fields.score",
        "custom_fields.nickname",
        "custom_fields.other",
    ]


def test_unknown_custom_field_is_422(owner: TestClient, session: Session, world: World) -> None:
    # CRM-FIELD-03: unknown fields are rejected, not silently dropped
    body = assert_error(
        owner.post("/api/contacts", json={"first_name": "Ana", "custom_fields": {"nickname": "A"}}), 422
    )
    assert body["details"][0]["field"] == "custom_fields.nickname"
    assert "nickname" in body["message"]
    assert contact_count(session, world.workspace.id) == 0


def test_custom_value_changes_emit_old_and_new_and_same_value_emits_nothing(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-FIELD-03, CRM-EVT-04
    _field(owner, "Score", "number")
    _field(owner, "Tier", "list", options=["Gold", "Silver"])
    ana = owner.post("/api/contacts", json={"first_name": "Ana", "custom_fields": {"score": 5}}).json()
    owner.patch(f"/api/contacts/{ana['id']}", json={"custom_fields": {"score": "6", "tier": "silver"}})
    updated = read_events(session, workspace_id=world.workspace.id, type="contact.updated")
    assert [e.payload["changes"] for e in updated] == [
        [
            {"field": "score", "custom": True, "old": 5, "new": 6},
            {"field": "tier", "custom": True, "old": None, "new": "Silver"},
        ]
    ]
    before = event_count(session, world.workspace.id)
    same = owner.patch(f"/api/contacts/{ana['id']}", json={"custom_fields": {"score": 6.0, "tier": "SILVER"}})
    assert same.status_code == 200
    assert event_count(session, world.workspace.id) == before
    cleared = owner.patch(f"/api/contacts/{ana['id']}", json={"custom_fields": {"score": None, "tier": ""}})
    assert cleared.json()["custom_fields"] == {}
    last = read_events(session, workspace_id=world.workspace.id, type="contact.updated")[-1]
    assert last.payload["changes"] == [
        {"field": "score", "custom": True, "old": 6, "new": None},
        {"field": "tier", "custom": True, "old": "Silver", "new": None},
    ]
    # Clearing what is already empty changes nothing.
    before = event_count(session, world.workspace.id)
    owner.patch(f"/api/contacts/{ana['id']}", json={"custom_fields": {"score": None}})
    assert event_count(session, world.workspace.id) == before


def test_changing_list_options_clears_disallowed_values_without_events(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-FIELD-03, decision: no per-contact events
    tier = _field(owner, "Tier", "list", options=["Gold", "Silver", "Bronze"])
    _field(owner, "Notes")
    gold = make_contact(
        session, workspace_id=world.workspace.id, custom_fields={"tier": "Gold", "notes": "a"}
    )
    silver = make_contact(
        session, workspace_id=world.workspace.id, custom_fields={"tier": "Silver", "notes": "b"}
    )
    none = make_contact(session, workspace_id=world.workspace.id, custom_fields={"notes": "c"})
    session.commit()
    before = event_count(session, world.workspace.id)
    response = owner.patch(f"/api/fields/{tier['id']}", json={"options": ["Gold", "Platinum"]})
    assert response.status_code == 200, response.text
    assert response.json()["options"] == ["Gold", "Platinum"]
    assert contact_row(session, gold.id).attributes == {"tier": "Gold", "notes": "a"}
    assert contact_row(session, silver.id).attributes == {"notes": "b"}
    assert contact_row(session, none.id).attributes == {"notes": "c"}
    assert event_count(session, world.workspace.id) == before
    assert_error(owner.patch(f"/api/fields/{tier['id']}", json={"options": []}), 422)
    assert contact_row(session, gold.id).attributes == {"tier": "Gold", "notes": "a"}
    # The new option is accepted, the removed one refused.
    assert (
        owner.patch(f"/api/contacts/{silver.id}", json={"custom_fields": {"tier": "platinum"}}).status_code
        == 200
    )
    assert_error(owner.patch(f"/api/contacts/{gold.id}", json={"custom_fields": {"tier": "Silver"}}), 422)


def test_deleting_a_field_removes_every_contacts_value(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-FIELD-03 (decision: deleting a field removes the values, without per-contact events)
    score = _field(owner, "Score", "number")
    _field(owner, "Notes")
    ana = make_contact(session, workspace_id=world.workspace.id, custom_fields={"score": 1, "notes": "a"})
    bob = make_contact(session, workspace_id=world.workspace.id, custom_fields={"notes": "b"})
    session.commit()
    before = event_count(session, world.workspace.id)
    assert owner.delete(f"/api/fields/{score['id']}").status_code == 204
    assert contact_row(session, ana.id).attributes == {"notes": "a"}
    assert contact_row(session, bob.id).attributes == {"notes": "b"}
    assert event_count(session, world.workspace.id) == before
    assert [f["slug"] for f in owner.get("/api/fields").json()] == ["notes"]
    assert_error(owner.patch(f"/api/contacts/{ana.id}", json={"custom_fields": {"score": 2}}), 422)
    # A new field with the same slug starts empty.
    assert _field(owner, "Score", "text")["slug"] == "score"
    assert owner.get(f"/api/contacts/{ana.id}").json()["custom_fields"] == {"notes": "a"}


def test_field_of_another_workspace_is_not_found(
    owner: TestClient, session: Session, container: Container, client_for: ClientFor
) -> None:
    plan = _field(owner, "Plan")
    other = client_for(seed_world(session, container.hasher, name="Other").owner)
    assert_error(other.patch(f"/api/fields/{plan['id']}", json={"name": "Hijacked"}), 404, "not_found")
    assert_error(other.delete(f"/api/fields/{plan['id']}"), 404, "not_found")
    assert other.get("/api/fields").json() == []
    # Its slug is free in the other workspace, and values there cannot use this workspace's field.
    assert_error(other.post("/api/contacts", json={"first_name": "A", "custom_fields": {"plan": "x"}}), 422)
    assert other.post("/api/fields", json={"name": "Plan", "type": "number"}).json()["slug"] == "plan"
    assert owner.get("/api/fields").json()[0]["name"] == "Plan"


def test_options_on_a_non_list_field_never_touch_its_values(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-FIELD-03: only a list field's option change clears values
    notes = _field(owner, "Notes")
    score = _field(owner, "Score", "number")
    ana = make_contact(
        session, workspace_id=world.workspace.id, custom_fields={"notes": "keep me", "score": 3}
    )
    session.commit()
    for field in (notes, score):
        response = owner.patch(f"/api/fields/{field['id']}", json={"options": []})
        assert response.status_code == 200, response.text
        assert response.json()["options"] == []
        assert_error(owner.patch(f"/api/fields/{field['id']}", json={"options": ["a"]}), 422)
    assert contact_row(session, ana.id).attributes == {"notes": "keep me", "score": 3}


def test_every_standard_filter_name_is_a_reserved_slug(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-FIELD-02 decision: a custom slug may not shadow a standard field (the filter model's names included)
    for name in sorted(STANDARD_FIELD_NAMES):
        body = assert_error(owner.post("/api/fields", json={"name": "X", "type": "text", "slug": name}), 422)
        assert body["details"][0]["field"] == "slug", name
    assert {"createdat", "assigneeuserid", "assignee_user_id"} <= STANDARD_FIELD_NAMES
    assert _field_count(session, world.workspace.id) == 0
    derived = _field(owner, "Created At")
    assert derived["slug"] == "created_at_custom"
