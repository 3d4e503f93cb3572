"""The contact filter model (CRM-CONT-08 via API-CONT-08/09) through POST /api/contacts/query."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.contacts import fields, lifecycle
from convoflow.contacts.tags import change_contact_tags
from convoflow.events.actor import Actor
from convoflow.testing.factories import make_contact, principal
from tests.support import World, assert_error

ALL = {"Ana", "Bruno", "Chloé", "Dmitri"}


@pytest.fixture
def people(session: Session, world: World) -> dict[str, int]:
    """Four contacts with fields, tags, stages, an assignee and known creation times."""
    ws = world.workspace.id
    as_owner = principal(world.workspace, world.owner)
    fields.create_field(session, as_owner, name="Score", type="number")
    fields.create_field(session, as_owner, name="Plan", type="list", options=["Free", "Pro", "Enterprise"])
    fields.create_field(session, as_owner, name="VIP", type="checkbox")
    fields.create_field(session, as_owner, name="Birthday", type="date")
    fields.create_field(session, as_owner, name="Notes", type="text")
    stages = {s.name: s.id for s in lifecycle.list_stages(session, workspace_id=ws)}
    rows: list[tuple[dict[str, Any], dict[str, Any], list[str], str | None, datetime]] = [
        (
            dict(
                first_name="Ana",
                last_name="Pérez",
                email="ana@example.com",
                phone="+34600000001",
                language="es",
            ),
            {"score": 10, "plan": "Pro", "vip": True, "birthday": "1990-05-01", "notes": "Likes Coffee"},
            ["vip", "lead"],
            "New Lead",
            datetime(2025, 3, 1, 2, 0, tzinfo=UTC),
        ),
        (
            dict(first_name="Bruno", last_name="Díaz", email="bruno@example.com"),
            {"score": 5.5, "plan": "Free", "vip": False, "birthday": "1985-12-31"},
            ["lead"],
            "Hot Lead",
            datetime(2025, 3, 1, 23, 30, tzinfo=UTC),
        ),
        (
            dict(first_name="Chloé", last_name="Martin"),
            {"score": -3},
            [],
            None,
            datetime(2025, 3, 2, 12, 0, tzinfo=UTC),
        ),
        (
            dict(first_name="Dmitri", phone="+74951234567"),
            {"score": 100, "plan": "Enterprise", "vip": True},
            ["VIP", "customer"],
            None,
            datetime(2025, 3, 3, 0, 30, tzinfo=UTC),
        ),
    ]
    ids = {}
    for values, custom, tags, stage, created_at in rows:
        contact = make_contact(session, workspace_id=ws, custom_fields=custom, **values)
        change_contact_tags(session, contact=contact, add=tags, remove=[], actor=Actor.system())
        contact.lifecycle_stage_id = stages[stage] if stage else None
        contact.created_at = created_at
        ids[contact.first_name] = contact.id
    session.get_one(type(contact), ids["Ana"]).assignee_user_id = world.agent.id
    session.commit()
    return ids


def _query(owner: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = owner.post("/api/contacts/query", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _names(
    owner: TestClient, *conditions: dict[str, Any], join: str = "$and", timezone: str = "UTC"
) -> set[str]:
    body = _query(owner, {"filter": {join: list(conditions)}, "timezone": timezone})
    return {item["first_name"] for item in body["items"]}


def _field(name: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"category": "contactField", "field": name, "operator": operator, "value": value}


def _tag(operator: str, value: Any = None) -> dict[str, Any]:
    return {"category": "contactTag", "operator": operator, "value": value}


def _stage(operator: str, value: Any = None) -> dict[str, Any]:
    return {"category": "lifecycle", "operator": operator, "value": value}


def _invalid(owner: TestClient, *conditions: dict[str, Any], error: str = "invalid_filter") -> dict[str, Any]:
    response = owner.post("/api/contacts/query", json={"filter": {"$and": list(conditions)}})
    return assert_error(response, 422, error)


def test_standard_text_fields(owner: TestClient, people: dict[str, int]) -> None:
    # CRM-CONT-08: text operators, case-insensitive, both spellings of field names
    assert _names(owner, _field("firstName", "isEqualTo", "ANA")) == {"Ana"}
    assert _names(owner, _field("last_name", "isEqualTo", "pérez")) == {"Ana"}
    assert _names(owner, _field("lastName", "isEqualTo", "PÉREZ")) == {"Ana"}
    assert _names(owner, _field("email", "isNotEqualTo", "ana@example.com")) == ALL - {"Ana"}
    assert _names(owner, _field("email", "exists")) == {"Ana", "Bruno"}
    assert _names(owner, _field("email", "doesNotExist")) == {"Chloé", "Dmitri"}
    assert _names(owner, _field("phone", "isEqualTo", "+74951234567")) == {"Dmitri"}
    assert _names(owner, _field("language", "isEqualTo", "es")) == {"Ana"}
    assert _names(owner, _field("countryCode", "isEqualTo", "ru")) == {"Dmitri"}  # derived from the phone
    assert _names(owner, _field("lastName", "exists")) == {"Ana", "Bruno", "Chloé"}  # "" counts as empty


def test_custom_text_field(owner: TestClient, people: dict[str, int]) -> None:
    assert _names(owner, _field("notes", "isEqualTo", "likes coffee")) == {"Ana"}
    assert _names(owner, _field("Notes", "isNotEqualTo", "Likes Coffee")) == ALL - {"Ana"}
    assert _names(owner, _field("notes", "exists")) == {"Ana"}
    assert _names(owner, _field("notes", "doesNotExist")) == ALL - {"Ana"}


def test_number_fields(owner: TestClient, people: dict[str, int], world: World) -> None:
    # CRM-CONT-08: number operators
    assert _names(owner, _field("score", "isGreaterThan", 5)) == {"Ana", "Bruno", "Dmitri"}
    assert _names(owner, _field("score", "isLessThan", "0")) == {"Chloé"}
    assert _names(owner, _field("score", "isBetween", {"from": 5, "to": 10})) == {"Ana", "Bruno"}
    assert _names(owner, _field("score", "isEqualTo", 5.5)) == {"Bruno"}
    assert _names(owner, _field("score", "isNotEqualTo", 10)) == {"Bruno", "Chloé", "Dmitri"}
    assert _names(owner, _field("score", "exists")) == ALL
    assert _names(owner, _field("assigneeUserId", "isEqualTo", world.agent.id)) == {"Ana"}
    assert _names(owner, _field("assignee_user_id", "doesNotExist")) == ALL - {"Ana"}


def test_checkbox_field(owner: TestClient, people: dict[str, int]) -> None:
    assert _names(owner, _field("vip", "isEqualTo", True)) == {"Ana", "Dmitri"}
    assert _names(owner, _field("vip", "isEqualTo", "false")) == {"Bruno"}
    assert _names(owner, _field("vip", "isNotEqualTo", True)) == {"Bruno", "Chloé"}
    assert _names(owner, _field("vip", "exists")) == {"Ana", "Bruno", "Dmitri"}
    assert _names(owner, _field("vip", "doesNotExist")) == {"Chloé"}


def test_date_field(owner: TestClient, people: dict[str, int]) -> None:
    assert _names(owner, _field("birthday", "isTimestampAfter", "1988-01-01")) == {"Ana"}
    assert _names(owner, _field("birthday", "isTimestampBefore", "1988-01-01")) == {"Bruno"}
    between = {"from": "1985-12-31", "to": "1990-05-01"}
    assert _names(owner, _field("birthday", "isTimestampBetween", between)) == {"Ana", "Bruno"}
    assert _names(owner, _field("birthday", "isEqualTo", "1990-05-01")) == {"Ana"}
    assert _names(owner, _field("birthday", "isNotEqualTo", "1990-05-01")) == ALL - {"Ana"}
    assert _names(owner, _field("birthday", "doesNotExist")) == {"Chloé", "Dmitri"}
    # Unix seconds name a day in the filter's time zone: 1990-05-01T02:00Z is still April 30th in New York.
    instant = int(datetime(1990, 5, 1, 2, 0, tzinfo=UTC).timestamp())
    assert _names(owner, _field("birthday", "isEqualTo", instant)) == {"Ana"}
    assert _names(owner, _field("birthday", "isEqualTo", instant), timezone="America/New_York") == set()


def test_list_field(owner: TestClient, people: dict[str, int]) -> None:
    assert _names(owner, _field("plan", "hasAnyOf", ["pro", "Free"])) == {"Ana", "Bruno"}
    assert _names(owner, _field("plan", "hasNoneOf", ["Pro"])) == {"Bruno", "Chloé", "Dmitri"}
    assert _names(owner, _field("plan", "isEqualTo", "enterprise")) == {"Dmitri"}
    assert _names(owner, _field("plan", "isNotEqualTo", "Pro")) == {"Bruno", "Chloé", "Dmitri"}
    assert _names(owner, _field("plan", "doesNotExist")) == {"Chloé"}


def test_created_at_timestamps_use_the_filters_time_zone(owner: TestClient, people: dict[str, int]) -> None:
    # API-CONT-09: YYYY-MM-DD is the start of that day in `timezone`; Unix seconds are absolute
    after = _field("created_at", "isTimestampAfter", "2025-03-02")
    assert _names(owner, after) == {"Chloé", "Dmitri"}
    assert _names(owner, after, timezone="utc") == {"Chloé", "Dmitri"}
    assert _names(owner, after, timezone="Asia/Tokyo") == {"Bruno", "Chloé", "Dmitri"}  # 2025-03-01T15:00Z
    later = _field("created_at", "isTimestampAfter", "2025-03-03")
    assert _names(owner, later) == {"Dmitri"}
    assert _names(owner, later, timezone="America/Los_Angeles") == set()  # 2025-03-03T08:00Z
    noon = int(datetime(2025, 3, 1, 12, 0, tzinfo=UTC).timestamp())
    assert _names(owner, _field("createdAt", "isTimestampBefore", noon)) == {"Ana"}
    assert _names(owner, _field("createdAt", "isTimestampBefore", str(noon))) == {"Ana"}
    window = {"from": "2025-03-01", "to": "2025-03-02"}
    assert _names(owner, _field("created_at", "isTimestampBetween", window)) == {"Ana", "Bruno"}
    assert _names(owner, _field("created_at", "exists")) == ALL


def test_tag_operators(owner: TestClient, people: dict[str, int]) -> None:
    # CRM-CONT-08: hasAnyOf / hasAllOf / hasNoneOf / exists / doesNotExist, ignoring case
    assert _names(owner, _tag("hasAnyOf", ["VIP"])) == {"Ana", "Dmitri"}
    assert _names(owner, _tag("hasAnyOf", ["customer", "lead"])) == {"Ana", "Bruno", "Dmitri"}
    assert _names(owner, _tag("hasAllOf", ["Lead", "vip"])) == {"Ana"}
    assert _names(owner, _tag("hasAllOf", [])) == ALL
    assert _names(owner, _tag("hasNoneOf", ["lead"])) == {"Chloé", "Dmitri"}
    assert _names(owner, _tag("exists")) == {"Ana", "Bruno", "Dmitri"}
    assert _names(owner, _tag("doesNotExist")) == {"Chloé"}
    assert _names(owner, _tag("hasAnyOf", ["no such tag"])) == set()


def test_lifecycle_operators(owner: TestClient, people: dict[str, int]) -> None:
    # CRM-CONT-08: stage by name
    assert _names(owner, _stage("isEqualTo", "new lead")) == {"Ana"}
    assert _names(owner, _stage("isNotEqualTo", "New Lead")) == {"Bruno", "Chloé", "Dmitri"}
    assert _names(owner, _stage("hasAnyOf", ["New Lead", "Hot Lead"])) == {"Ana", "Bruno"}
    assert _names(owner, _stage("hasNoneOf", ["Hot Lead"])) == {"Ana", "Chloé", "Dmitri"}
    assert _names(owner, _stage("exists")) == {"Ana", "Bruno"}
    assert _names(owner, _stage("doesNotExist")) == {"Chloé", "Dmitri"}


def test_and_or_and_empty_lists(owner: TestClient, people: dict[str, int]) -> None:
    both = (_tag("hasAnyOf", ["lead"]), _field("score", "isGreaterThan", 6))
    assert _names(owner, *both) == {"Ana"}
    assert _names(owner, *both, join="$or") == {"Ana", "Bruno", "Dmitri"}
    assert _names(owner) == ALL
    assert _names(owner, join="$or") == ALL
    twenty = [_field("score", "exists")] * 20
    assert _names(owner, *twenty) == ALL


def test_filter_combines_with_search(owner: TestClient, people: dict[str, int]) -> None:
    body = _query(owner, {"search": "example.com", "filter": {"$and": [_tag("hasAnyOf", ["lead"])]}})
    assert [i["first_name"] for i in body["items"]] == ["Bruno", "Ana"]


MISFITS = [
    _field("firstName", "isGreaterThan", "a"),  # text
    _field("notes", "hasAnyOf", ["a"]),  # text
    _field("score", "hasAnyOf", [1]),  # number
    _field("score", "isTimestampAfter", "2025-01-01"),  # number
    _field("vip", "isGreaterThan", 1),  # checkbox
    _field("vip", "hasAnyOf", [True]),  # checkbox
    _field("birthday", "isGreaterThan", 1),  # date
    _field("birthday", "hasNoneOf", ["1990-05-01"]),  # date
    _field("created_at", "isEqualTo", "2025-03-01"),  # timestamp
    _field("createdAt", "isBetween", {"from": 1, "to": 2}),  # timestamp
    _field("plan", "hasAllOf", ["Pro"]),  # list
    _field("plan", "isGreaterThan", "Free"),  # list
    _tag("isEqualTo", "vip"),
    _tag("isGreaterThan", 1),
    _stage("hasAllOf", ["New Lead"]),
    _stage("isTimestampAfter", "2025-01-01"),
]


def test_operator_that_does_not_fit_the_type_is_invalid_filter(
    owner: TestClient, people: dict[str, int]
) -> None:
    # API-CONT-09: an operator that does not fit the field's type is refused (422 on /api)
    for condition in MISFITS:
        body = _invalid(owner, _field("score", "exists"), condition)
        assert body["details"][0]["field"] == "filter.conditions[1].operator", condition
        assert body["message"].startswith("filter condition 2:"), body


def test_bad_fields_and_values_are_invalid_filter(owner: TestClient, people: dict[str, int]) -> None:
    body = _invalid(owner, _field("nickname", "isEqualTo", "x"))
    assert "nickname" in body["message"]
    assert body["details"][0]["field"] == "filter.conditions[0].field"
    _invalid(owner, {"category": "contactField", "operator": "exists"})
    for condition in (
        _field("score", "isGreaterThan", "abc"),
        _field("score", "isGreaterThan", True),
        _field("score", "isBetween", {"from": 1}),
        _field("score", "isBetween", [1, 2]),
        _field("vip", "isEqualTo", "maybe"),
        _field("created_at", "isTimestampAfter", "yesterday"),
        _field("created_at", "isTimestampAfter", True),
        _field("birthday", "isEqualTo", "01/05/1990"),
        _field("firstName", "isEqualTo", ["Ana"]),
        _field("plan", "hasAnyOf", "Pro"),
        _tag("hasAnyOf", "vip"),
        _tag("hasAllOf", [1, 2]),
        _stage("isEqualTo", None),
        _stage("hasAnyOf", "New Lead"),
    ):
        details = _invalid(owner, condition)["details"]
        assert details[0]["field"] == "filter.conditions[0].value", condition


def test_malformed_filters_are_422(owner: TestClient, people: dict[str, int]) -> None:
    # API-CONT-08: exactly one of $and/$or; at most 20 conditions; known categories and operators
    condition = _field("score", "exists")
    bodies: list[dict[str, Any]] = [
        {"filter": {"$and": [condition], "$or": [condition]}},
        {"filter": {}},
        {"filter": {"$and": [condition] * 21}},
        {"filter": {"$or": [condition] * 21}},
        {"filter": {"$and": [{**condition, "category": "contactColour"}]}},
        {"filter": {"$and": [{**condition, "operator": "contains"}]}},
        {"filter": {"$and": [{**condition, "extra": 1}]}},
        {"filter": {"$not": [condition]}},
        {"filter": {"$and": condition}},
        {"timezone": "Mars/Olympus"},
        {"search": "x" * 201},
    ]
    for body in bodies:
        assert_error(owner.post("/api/contacts/query", json=body), 422)


def test_out_of_range_values_are_invalid_filter_not_a_crash(
    owner: TestClient, people: dict[str, int]
) -> None:
    # Bad input gives a 4xx body, never a 500.
    for condition in (
        _field("created_at", "isTimestampAfter", 10**20),
        _field("created_at", "isTimestampAfter", -(10**20)),
        _field("created_at", "isTimestampBefore", "99999999999999999"),
        _field("created_at", "isTimestampBetween", {"from": 0, "to": 1e300}),
        _field("birthday", "isEqualTo", 10**20),
        _field("score", "isGreaterThan", "NaN"),
        _field("score", "isLessThan", "inf"),
        _field("score", "isBetween", {"from": "-Infinity", "to": 1}),
    ):
        details = _invalid(owner, condition)["details"]
        assert details[0]["field"] == "filter.conditions[0].value", condition
