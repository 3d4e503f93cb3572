"""GET /api/contacts/{id}/shortcuts and POST /api/contacts/{id}/shortcuts/{workflow_id}: Shortcut triggers
run from Messages (WF-TRG-SHORT-01/02)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from convoflow.accounts.principal import Restrictions
from convoflow.teams import service as teams
from convoflow.testing.factories import make_member
from tests.support import assert_error, login, seed_world
from tests.workflows.api.support import ApiHarness, manual, signed_in, waiting_flow
from tests.workflows.engine.support import definition, step
from tests.workflows.lifecycle_support import make_draft

FORM = [
    {"label": "Plan", "name": "plan", "type": "list", "required": True, "options": ["Basic", "Pro"]},
    {"label": "Seats", "name": "seats", "type": "number"},
    {"label": "Start", "name": "start", "type": "date"},
    {"label": "Notes", "name": "notes", "type": "text"},
    {"label": "Urgent", "name": "urgent", "type": "checkbox"},
]


def shortcut(
    label: str, *, visibility: str = "all", form: list[Any] | None = None, **refs: Any
) -> dict[str, Any]:
    return {
        "type": "shortcut",
        "config": {
            "label": label,
            "description": f"{label} description",
            "visibility": visibility,
            "form": form or [],
            **refs,
        },
    }


def comment_flow(trigger: dict[str, Any], text: str = "Ran") -> dict[str, Any]:
    return definition(trigger, step("s1", "add_comment", {"text": text}))


def test_only_published_shortcuts_visible_to_the_caller_are_listed_WF_TRG_SHORT_02(
    client: TestClient, h: ApiHarness
) -> None:
    team = teams.create_team(h.session, h.owner, name="Ventas")
    seller = make_member(
        h.session,
        h.container.hasher,
        workspace=h.world.workspace,
        role="agent",
        team_id=team.id,
        first_name="Sol",
    )
    h.session.commit()
    team_ref = {"ref": "team", "id": team.id, "key": "Ventas", "label": "Ventas"}
    agent = h.world.agent
    agent_ref = {"ref": "user", "id": agent.id, "key": agent.email, "label": agent.first_name}
    everyone = h.publish(comment_flow(shortcut("Offer", form=FORM)), name="Offer flow")
    for_team = h.publish(comment_flow(shortcut("Team only", visibility="teams", teams=[team_ref])), name="T")
    for_agent = h.publish(
        comment_flow(shortcut("Agent only", visibility="users", users=[agent_ref])), name="U"
    )
    make_draft(h.session, h.owner, "Draft shortcut", comment_flow(shortcut("Draft")))
    h.publish(waiting_flow(manual()), name="Manual")
    h.session.commit()
    ana = h.contact("Ana")

    login(client, agent)
    listed = client.get(f"/api/contacts/{ana.id}/shortcuts").json()
    assert [(s["workflow_id"], s["label"]) for s in listed] == [
        (for_agent.id, "Agent only"),
        (everyone.id, "Offer"),
    ]
    assert listed[1]["description"] == "Offer description"
    assert [f["name"] for f in listed[1]["form"]] == ["plan", "seats", "start", "notes", "urgent"]
    assert listed[1]["form"][0] == {
        "label": "Plan",
        "name": "plan",
        "type": "list",
        "required": True,
        "options": ["Basic", "Pro"],
    }
    client.post("/api/auth/logout")
    login(client, seller)
    assert [s["workflow_id"] for s in client.get(f"/api/contacts/{ana.id}/shortcuts").json()] == [
        everyone.id,
        for_team.id,
    ]


def test_agents_restricted_from_shortcuts_see_none_WF_TRG_SHORT_01(client: TestClient, h: ApiHarness) -> None:
    h.publish(comment_flow(shortcut("Offer")))
    restricted = make_member(
        h.session,
        h.container.hasher,
        workspace=h.world.workspace,
        role="agent",
        first_name="Rita",
        restrictions=Restrictions(restrict_shortcuts=True),
    )
    h.session.commit()
    ana = h.contact("Ana")
    login(client, restricted)
    assert client.get(f"/api/contacts/{ana.id}/shortcuts").json() == []


def test_running_a_shortcut_enrols_with_form_and_user_variables_WF_TRG_SHORT_02(
    client: TestClient, h: ApiHarness
) -> None:
    text = (
        "$trigger.form.plan x$trigger.form.seats from $trigger.form.start"
        " by $trigger.user.name <$trigger.user.email>"
    )
    workflow = h.publish(comment_flow(shortcut("Offer", form=FORM), text))
    ana = h.contact("Ana")
    agent = signed_in(client, h, "agent")
    response = agent.post(
        f"/api/contacts/{ana.id}/shortcuts/{workflow.id}",
        json={"form": {"plan": "pro", "seats": "3", "start": "2026-02-01", "urgent": True}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "enrolled"
    run = h.run(response.json()["run_id"])
    assert run.variables["trigger"]["form"] == {
        "plan": "Pro",
        "seats": 3,
        "start": "2026-02-01",
        "urgent": True,
    }
    h.drain()
    user = h.world.agent
    assert h.comments(ana.id) == [
        f"Pro x3 from 2026-02-01 by {user.first_name} {user.last_name} <{user.email}>"
    ]


def test_a_refused_shortcut_run_names_the_reason_WF_TRG_SHORT_02(client: TestClient, h: ApiHarness) -> None:
    workflow = h.publish(waiting_flow(shortcut("Wait")))
    ana = h.contact("Ana")
    agent = signed_in(client, h, "agent")
    assert agent.post(f"/api/contacts/{ana.id}/shortcuts/{workflow.id}").json()["status"] == "enrolled"
    h.drain()
    again = agent.post(f"/api/contacts/{ana.id}/shortcuts/{workflow.id}", json={"form": {}})
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["reason"]) == ("refused", "already_enrolled")
    assert h.run_count() == 1


def test_a_bad_form_is_a_422_listing_every_problem_WF_TRG_SHORT_01(client: TestClient, h: ApiHarness) -> None:
    workflow = h.publish(comment_flow(shortcut("Offer", form=FORM)))
    ana = h.contact("Ana")
    agent = signed_in(client, h, "agent")
    url = f"/api/contacts/{ana.id}/shortcuts/{workflow.id}"
    body = assert_error(
        agent.post(
            url,
            json={"form": {"seats": "many", "start": "01/02/2026", "notes": 7, "urgent": "yes", "extra": 1}},
        ),
        422,
        "invalid_form",
    )
    assert sorted(d["field"] for d in body["details"]) == [
        "form.extra",
        "form.notes",
        "form.plan",
        "form.seats",
        "form.start",
        "form.urgent",
    ]
    assert_error(agent.post(url, json={"form": {"plan": "Gold"}}), 422, "invalid_form")
    assert_error(agent.post(url, json={"form": {"plan": "  "}}), 422, "invalid_form")
    assert_error(agent.post(url, json={"form": {"plan": "Pro", "seats": True}}), 422, "invalid_form")
    assert_error(agent.post(url, json={"form": "plan=Pro"}), 422, "validation_error")
    assert_error(agent.post(url, json={"plan": "Pro"}), 422, "validation_error")
    assert h.run_count() == 0


def test_shortcut_runs_refuse_the_wrong_workflow_and_hidden_ones(client: TestClient, h: ApiHarness) -> None:
    # WF-TRG-SHORT-02: only published shortcuts; other trigger types 409; not visible 403; ids elsewhere 404.
    team = teams.create_team(h.session, h.owner, name="Ventas")
    h.session.commit()
    team_ref = {"ref": "team", "id": team.id, "key": "Ventas", "label": "Ventas"}
    hidden = h.publish(comment_flow(shortcut("Team", visibility="teams", teams=[team_ref])), name="Hidden")
    not_shortcut = h.publish(waiting_flow(manual()), name="Manual")
    draft = make_draft(h.session, h.owner, "Draft", comment_flow(shortcut("Draft")))
    h.session.commit()
    ana = h.contact("Ana")
    agent = signed_in(client, h, "agent")
    run = "/api/contacts/{}/shortcuts/{}"
    assert_error(agent.post(run.format(ana.id, hidden.id)), 403, "shortcut_not_visible")
    assert_error(agent.post(run.format(ana.id, not_shortcut.id)), 409, "not_a_shortcut")
    assert_error(agent.post(run.format(ana.id, draft.id)), 409, "workflow_not_published")
    assert_error(agent.post(run.format(ana.id, 987654)), 404, "shortcut_not_found")
    assert_error(agent.post(run.format(987654, hidden.id)), 404, "not_found")
    assert_error(agent.get("/api/contacts/987654/shortcuts"), 404, "not_found")
    client.post("/api/auth/logout")
    other = seed_world(h.session, h.container.hasher, name="Globex")
    login(client, other.owner)
    assert_error(client.post(run.format(ana.id, hidden.id)), 404)
    assert_error(client.get(f"/api/contacts/{ana.id}/shortcuts"), 404, "not_found")
    assert h.run_count() == 0
