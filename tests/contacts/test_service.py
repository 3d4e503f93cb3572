"""The contacts service (CRM-CONT): standard values, snapshots, event sources, removal."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.contacts import lifecycle, service
from convoflow.contacts.tags import change_contact_tags
from convoflow.conversations import service as conversations
from convoflow.errors import InvalidInput
from convoflow.events.actor import Actor
from convoflow.testing.factories import make_contact
from tests.contacts.helpers import event_count, read_events, reload, set_workspace_settings
from tests.support import World, login


def test_normalise_standard_uses_the_workspace_default_country(session: Session, world: World) -> None:
    # CRM-CONT-02, CRM-WS-02
    ws = world.workspace.id
    with pytest.raises(InvalidInput) as no_country:
        service.normalise_standard(session, workspace_id=ws, values={"phone": "020 7946 0958"})
    assert no_country.value.details == [
        {"field": "phone", "message": "phone must be in international format (+ and country code)"}
    ]
    set_workspace_settings(session, world.workspace, default_country="GB")
    assert service.normalise_standard(session, workspace_id=ws, values={"phone": "020 7946 0958"}) == {
        "phone": "+442079460958"
    }
    # International forms never need the default country.
    assert service.normalise_standard(session, workspace_id=ws, values={"phone": "0034 600 111 222"}) == {
        "phone": "+34600111222"
    }


def test_normalise_standard_lists_every_bad_field(session: Session, world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.normalise_standard(
            session,
            workspace_id=world.workspace.id,
            values={"first_name": None, "email": "x", "language": "zz", "last_name": None},
        )
    assert [d["field"] for d in caught.value.details] == ["first_name", "email", "language"]


def test_update_returns_changes_and_emits_only_when_something_changed(session: Session, world: World) -> None:
    # CRM-EVT-04
    contact = make_contact(
        session, workspace_id=world.workspace.id, first_name="Ana", email="ana@example.com"
    )
    session.commit()
    before = event_count(session, world.workspace.id)
    same = service.update_contact(
        session,
        contact=contact,
        actor=Actor.system(),
        values={"first_name": "Ana", "email": "ANA@example.com"},
    )
    assert same == []
    session.commit()
    assert event_count(session, world.workspace.id) == before
    changes = service.update_contact(
        session, contact=contact, actor=Actor.system(), values={"last_name": "Pérez"}
    )
    session.commit()
    assert changes == [{"field": "last_name", "custom": False, "old": "", "new": "Pérez"}]
    assert event_count(session, world.workspace.id) == before + 1


def test_events_carry_the_actor_source_and_run(session: Session, world: World) -> None:
    # CRM-EVT-02: source and actor id (user id, run id or API-token id); run id for workflow changes
    contact = make_contact(session, workspace_id=world.workspace.id, actor=Actor.api(7))
    service.update_contact(session, contact=contact, actor=Actor.workflow(42), values={"last_name": "W"})
    change_contact_tags(session, contact=contact, add=["t"], remove=[], actor=Actor.user(world.owner.id))
    session.commit()
    created, updated, tagged = read_events(session, workspace_id=world.workspace.id)
    assert (created.source, created.actor_id, created.run_id) == ("api", 7, None)
    assert (updated.source, updated.actor_id, updated.run_id) == ("workflow", 42, 42)
    assert (tagged.source, tagged.actor_id, tagged.run_id) == ("user", world.owner.id, None)


def test_api_token_changes_have_source_api(client: TestClient, session: Session, world: World) -> None:
    # CRM-TOKEN-01 with CRM-EVT-02: a token acts with source api
    login(client, world.owner)
    secret = client.post("/api/api-tokens", json={"name": "CRM sync"}).json()
    token_id, raw = secret["token"]["id"], secret["secret"]
    client.headers.pop("X-CSRF-Token")
    client.cookies.clear()
    created = client.post(
        "/api/contacts", json={"first_name": "Ana"}, headers={"Authorization": f"Bearer {raw}"}
    )
    assert created.status_code == 201, created.text
    event = read_events(session, workspace_id=world.workspace.id, type="contact.created")[0]
    assert (event.source, event.actor_id) == ("api", token_id)


def test_snapshots_of_many_contacts(session: Session, world: World) -> None:
    # CRM-CONT-01 for lists: each contact's own tags, stage, assignee and status
    ws = world.workspace.id
    stage = lifecycle.list_stages(session, workspace_id=ws)[2]
    ana = make_contact(session, workspace_id=ws, first_name="Ana")
    bob = make_contact(session, workspace_id=ws, first_name="Bob")
    change_contact_tags(session, contact=ana, add=["b", "A"], remove=[], actor=Actor.system())
    ana.lifecycle_stage_id = stage.id
    bob.assignee_user_id = world.manager.id
    conversations.open_conversation(session, contact=bob, actor=Actor.system())
    session.flush()
    first, second = service.snapshots(session, [ana, bob])
    assert (first["tags"], first["lifecycle"], first["assignee"], first["status"]) == (
        ["A", "b"],
        {"id": stage.id, "name": "Payment"},
        None,
        "closed",
    )
    assert (second["tags"], second["lifecycle"], second["status"]) == ([], None, "open")
    assert second["assignee"]["id"] == world.manager.id
    assert service.snapshots(session, []) == []


def test_remove_contact_keeps_moved_events_when_asked(session: Session, world: World) -> None:
    ana = make_contact(session, workspace_id=world.workspace.id, first_name="Ana")
    bob = make_contact(session, workspace_id=world.workspace.id, first_name="Bob")
    session.commit()
    service.remove_contact(session, contact=ana, actor=Actor.system(), keep_events=True, merged_into=bob.id)
    service.remove_contact(session, contact=bob, actor=Actor.system())
    session.commit()
    events = read_events(session, workspace_id=world.workspace.id)
    assert [(e.type, e.contact_id) for e in events] == [
        ("contact.created", ana.id),
        ("contact.deleted", ana.id),
        ("contact.deleted", bob.id),
    ]
    assert events[1].payload["merged_into"] == bob.id and "merged_into" not in events[2].payload
    assert reload(session, ana.id) is None and reload(session, bob.id) is None


def test_find_by_email_and_phone_are_per_workspace(session: Session, world: World) -> None:
    ana = make_contact(
        session, workspace_id=world.workspace.id, email="ana@example.com", phone="+34600111222"
    )
    session.commit()
    ws = world.workspace.id
    assert service.find_by_email(session, workspace_id=ws, email="ana@example.com") is ana
    assert service.find_by_phone(session, workspace_id=ws, phone="+34600111222") is ana
    assert service.find_by_email(session, workspace_id=ws + 1000, email="ana@example.com") is None
    assert service.find_contact(session, workspace_id=ws + 1000, contact_id=ana.id) is None
