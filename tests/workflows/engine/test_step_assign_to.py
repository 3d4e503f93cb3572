"""Assign To (WF-STEP-ASSIGN-01..07, WF-RUN-14): a user, a team's or the workspace's user, or nobody.

A contact that finds nobody eligible queues on the step; the step re-evaluates every 60 s (a retry
timer) until its timeout, so a user who comes online or frees capacity is found by the next retry.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts import users
from convoflow.accounts.models import Membership, User
from convoflow.bootstrap import Container
from convoflow.contacts import tags
from convoflow.contacts.models import Contact
from convoflow.conversations import service as conversations
from convoflow.errors import WorkflowInvalid
from convoflow.events.actor import Actor
from convoflow.teams import service as teams
from convoflow.teams.models import Team
from convoflow.testing.factories import make_contact, make_member
from convoflow.workflows.models import Workflow
from tests.support import events_of
from tests.workflows.engine.support import OPENED, Harness, definition, step


def _team(h: Harness, name: str, members: list[User]) -> Team:
    team = teams.create_team(h.session, h.owner, name=name)
    for member in members:
        teams.add_member(h.session, h.owner, team_id=team.id, user_id=member.id, move=True)
    h.session.commit()
    return team


def _agents(h: Harness, *names: str) -> list[User]:
    made = [
        make_member(h.session, h.container.hasher, workspace=h.world.workspace, first_name=n) for n in names
    ]
    h.session.commit()
    return made


def _online(h: Harness, *people: User) -> None:
    for person in people:
        users.set_presence(h.session, user_id=person.id, presence="online")
    h.session.commit()


def _assign_flow(config: dict[str, Any], **outputs: str) -> dict[str, Any]:
    """OPENED → assign (s1) → send "Asignado a $assignee.firstname" (s2); timeout → t."""
    steps = [step("s1", "assign_to", config, next="s2", **outputs)]
    steps.append(step("s2", "send_message", {"text": "Asignado a $assignee.firstname"}))
    if "timeout" in outputs:
        steps.append(step("t", "send_message", {"text": "Nadie disponible"}))
    return definition(OPENED, *steps)


def _team_config(team: Team, **extra: Any) -> dict[str, Any]:
    return {"action": "team", "team": {"ref": "team", "id": team.id}, **extra}


def _assignee(session: Session, contact_id: int) -> int | None:
    session.expire_all()
    contact = session.get(Contact, contact_id)
    assert contact is not None
    session.commit()
    return contact.assignee_user_id


def _new_contact(h: Harness, visitor: str) -> int:
    """A contact whose first message opens a conversation and runs the workflows, drained."""
    contact_id = h.inbound(visitor, "hola").contact.id
    h.drain()
    return contact_id


def _open_contacts(h: Harness, user: User, count: int, *, closed: int = 0) -> None:
    """Gives `user` `count` assigned contacts with an open conversation and `closed` without one."""
    for index in range(count + closed):
        contact = make_contact(h.session, workspace_id=h.world.workspace.id)
        contact.assignee_user_id = user.id
        if index < count:
            conversations.open_conversation(h.session, contact=contact, actor=Actor.system())
    h.session.commit()


def _tag_trigger(h: Harness, name: str) -> dict[str, Any]:
    [tag] = tags.ensure_tags(h.session, workspace_id=h.world.workspace.id, names=[name])
    h.session.commit()
    return {
        "type": "contact_tag_updated",
        "config": {"action": "added", "tags": [{"ref": "tag", "id": tag.id}]},
    }


def _tag(h: Harness, contact_id: int, name: str) -> None:
    contact = h.session.get(Contact, contact_id)
    assert contact is not None
    tags.change_contact_tags(h.session, contact=contact, add=[name], remove=[], actor=Actor.system())
    h.session.commit()
    h.drain()


def _last_step(h: Harness, workflow: Workflow) -> tuple[str, str | None, dict[str, Any]]:
    run = h.runs(workflow.id)[-1]
    record = h.steps(run.id)[0]
    return record.step_key, record.output, record.summary


# --- WF-STEP-ASSIGN-01: a specific user -------------------------------------------------------


def test_a_specific_user_is_assigned_at_once_whatever_status_or_load_WF_STEP_ASSIGN_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [busy] = _agents(h, "Berta")  # offline, with many open contacts
    _open_contacts(h, busy, 5)
    workflow = h.publish(_assign_flow({"action": "user", "user": {"ref": "user", "id": busy.id}}))
    contact_id = _new_contact(h, "visitor-1")
    assert _assignee(session, contact_id) == busy.id
    assert h.sent_texts() == ["Asignado a Berta"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert _last_step(h, workflow)[2] == {"assigned": busy.id}


def test_a_user_deactivated_after_publishing_leaves_the_contact_unassigned_WF_STEP_ASSIGN_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [gone] = _agents(h, "Gina")
    workflow = h.publish(_assign_flow({"action": "user", "user": {"ref": "user", "id": gone.id}}))
    users.deactivate_member(session, h.owner, user_id=gone.id)
    session.commit()
    contact_id = _new_contact(h, "visitor-1")
    assert _assignee(session, contact_id) is None
    assert h.sent_texts() == ["Asignado a "]  # the run continues
    assert h.runs(workflow.id)[0].end_reason == "completed"
    assert _last_step(h, workflow)[1:] == ("next", {"assigned": None})
    assert events_of(session, workspace_id=h.world.workspace.id, type="contact.assignee.updated") == []


def test_assigning_a_deactivated_user_is_a_configuration_error_WF_STEP_ASSIGN_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [gone] = _agents(h, "Gina")
    users.deactivate_member(session, h.owner, user_id=gone.id)
    session.commit()
    with pytest.raises(WorkflowInvalid) as refused:
        h.publish(_assign_flow({"action": "user", "user": {"ref": "user", "id": gone.id}}))
    assert [p["code"] for p in refused.value.details] == ["user_deactivated"]


# --- WF-STEP-ASSIGN-02/03: eligibility, round robin, least open contacts ----------------------


def test_round_robin_rotates_team_members_by_id_and_wraps_WF_STEP_ASSIGN_03(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    first, second, third = _agents(h, "Uno", "Dos", "Tres")
    outsider = h.world.agent
    team = _team(h, "Ventas", [third, first, second])
    h.publish(_assign_flow(_team_config(team)))
    chosen = [_assignee(session, _new_contact(h, f"visitor-{n}")) for n in range(4)]
    assert chosen == [first.id, second.id, third.id, first.id]
    assert outsider.id not in chosen  # WF-STEP-ASSIGN-02: team members only
    session.refresh(team)
    assert team.rr_cursor_user_id == first.id


def test_the_round_robin_pointer_is_shared_by_every_workflow_of_the_team_WF_STEP_ASSIGN_03(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    first, second, third = _agents(h, "Uno", "Dos", "Tres")
    team = _team(h, "Soporte", [first, second, third])
    h.publish(definition(_tag_trigger(h, "a"), step("s1", "assign_to", _team_config(team))), name="A")
    h.publish(definition(_tag_trigger(h, "b"), step("s1", "assign_to", _team_config(team))), name="B")
    h.publish(definition(_tag_trigger(h, "w"), step("s1", "assign_to", {"action": "workspace"})), name="Todo")
    contacts = [make_contact(session, workspace_id=h.world.workspace.id).id for _ in range(4)]
    session.commit()
    for contact_id, tag in zip(contacts, ["a", "b", "a", "w"], strict=True):
        _tag(h, contact_id, tag)
    assigned = [_assignee(session, contact_id) for contact_id in contacts]
    # the workspace has its own pointer: its rotation starts at the first active user (the owner)
    assert assigned == [first.id, second.id, third.id, h.world.owner.id]


def test_round_robin_skips_users_filtered_out_to_the_next_eligible_WF_STEP_ASSIGN_03(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    first, second, third = _agents(h, "Uno", "Dos", "Tres")
    team = _team(h, "Ventas", [first, second, third])
    _online(h, first, third)
    h.publish(_assign_flow(_team_config(team, online_only=True)))
    chosen = [_assignee(session, _new_contact(h, f"visitor-{n}")) for n in range(3)]
    assert chosen == [first.id, third.id, first.id]


def test_the_workspace_action_chooses_among_active_users_only_WF_STEP_ASSIGN_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    world = h.world
    users.deactivate_member(session, h.owner, user_id=world.manager.id)
    session.commit()
    h.publish(_assign_flow({"action": "workspace"}))
    chosen = [_assignee(session, _new_contact(h, f"visitor-{n}")) for n in range(3)]
    assert chosen == [world.owner.id, world.agent.id, world.owner.id]


def test_least_open_contacts_picks_the_least_loaded_user_WF_STEP_ASSIGN_03(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    loaded, light, closed_only = _agents(h, "Mucho", "Poco", "Cerrado")
    _open_contacts(h, loaded, 3)
    _open_contacts(h, light, 2)
    _open_contacts(h, closed_only, 1, closed=4)  # only contacts with an open conversation count
    team = _team(h, "Ventas", [loaded, light, closed_only])
    h.publish(_assign_flow(_team_config(team, logic="least_open")))
    chosen = [_assignee(session, _new_contact(h, f"visitor-{n}")) for n in range(3)]
    # 3/2/1 open → Cerrado (2 now); tie 3/2/2 → Poco, assigned longest ago; then 3/3/2 → Cerrado
    assert chosen == [closed_only.id, light.id, closed_only.id]


def test_least_open_contacts_ties_go_to_the_user_assigned_longest_ago_WF_STEP_ASSIGN_03(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    recent, earlier, never = _agents(h, "Reciente", "Antes", "Nunca")
    team = _team(h, "Ventas", [recent, earlier, never])
    base = container.clock.now()
    for person, at in ((recent, base - timedelta(minutes=1)), (earlier, base - timedelta(days=1))):
        membership = session.get(Membership, (h.world.workspace.id, person.id))
        assert membership is not None
        membership.last_assigned_at = at
    session.commit()
    h.publish(_assign_flow(_team_config(team, logic="least_open")))
    contact_id = _new_contact(h, "visitor-1")
    assert _assignee(session, contact_id) == never.id  # never assigned: waited longest
    conversations.close_conversation(
        session, contact=session.get(Contact, contact_id), actor=Actor.system(),  # type: ignore[arg-type]
        category_id=None, summary=None, enforce_notes=False,
    )  # fmt: skip
    session.commit()
    assert _assignee(session, _new_contact(h, "visitor-2")) == earlier.id  # 0/0/0 open: Antes waited longest


def test_the_online_and_capacity_filters_apply_together_WF_STEP_ASSIGN_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    offline, full, free = _agents(h, "Fuera", "Lleno", "Libre")
    _online(h, full, free)
    _open_contacts(h, full, 2)
    _open_contacts(h, free, 1)
    team = _team(h, "Ventas", [offline, full, free])
    workflow = h.publish(_assign_flow(_team_config(team, online_only=True, max_open_contacts=2)))
    assert _assignee(session, _new_contact(h, "visitor-1")) == free.id
    # now Libre has 2 open contacts too: nobody passes the filters, the next contact queues
    queued = _new_contact(h, "visitor-2")
    assert _assignee(session, queued) is None
    run = h.runs(workflow.id)[-1]
    assert (run.status, run.wait_kind, run.cursor) == ("waiting", "assignment", "s1")


def test_users_go_offline_ten_minutes_after_last_seen_WF_STEP_ASSIGN_02(
    session: Session, container: Container
) -> None:
    # CRM-USER-02: online = chosen online and seen in the last 10 minutes
    h = Harness(session, container)
    [stale] = _agents(h, "Ausente")
    _online(h, stale)
    team = _team(h, "Ventas", [stale])
    workflow = h.publish(_assign_flow(_team_config(team, online_only=True)))
    container.clock.advance(minutes=10)  # type: ignore[attr-defined]
    assert _assignee(session, _new_contact(h, "visitor-1")) is None
    assert h.runs(workflow.id)[0].wait_kind == "assignment"


# --- WF-STEP-ASSIGN-04: a team without members ------------------------------------------------


def test_a_team_without_members_leaves_the_contact_unassigned_and_moves_on_WF_STEP_ASSIGN_04_WF_RUN_14(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    team = _team(h, "Vacío", [])
    workflow = h.publish(_assign_flow(_team_config(team, online_only=True)))
    contact_id = _new_contact(h, "visitor-1")
    assert _assignee(session, contact_id) is None
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert _last_step(h, workflow) == ("s1", "next", {"assigned": None, "reason": "no_members"})
    assert h.sent_texts() == ["Asignado a "]


def test_a_team_whose_members_are_all_deactivated_counts_as_empty_WF_STEP_ASSIGN_04(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [gone] = _agents(h, "Gina")
    team = _team(h, "Ventas", [gone])
    users.deactivate_member(session, h.owner, user_id=gone.id)
    session.commit()
    workflow = h.publish(_assign_flow(_team_config(team)))
    _new_contact(h, "visitor-1")
    assert h.runs(workflow.id)[0].end_reason == "completed"
    assert _last_step(h, workflow)[2]["reason"] == "no_members"


# --- WF-STEP-ASSIGN-05: queueing and re-evaluation --------------------------------------------


def test_a_queued_contact_is_assigned_when_a_user_comes_online_WF_STEP_ASSIGN_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [agent] = _agents(h, "Olivia")
    team = _team(h, "Ventas", [agent])
    workflow = h.publish(_assign_flow(_team_config(team, online_only=True)))
    contact_id = _new_contact(h, "visitor-1")
    run = h.runs(workflow.id)[0]
    assert (run.status, run.wait_kind) == ("waiting", "assignment")
    assert h.steps(run.id)[0].summary == {"queued": True}
    container.clock.advance(minutes=5)  # type: ignore[attr-defined]  # still nobody online: retries keep it queued
    h.drain()
    assert _assignee(session, contact_id) is None
    _online(h, agent)
    h.drain()  # re-evaluated at once, without waiting for the 60 s retry
    assert _assignee(session, contact_id) == agent.id
    assert h.sent_texts() == ["Asignado a Olivia"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "next"), ("s2", "next")]


def test_a_queued_contact_is_assigned_when_an_open_contact_count_drops_WF_STEP_ASSIGN_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [agent] = _agents(h, "Olivia")
    team = _team(h, "Ventas", [agent])
    _open_contacts(h, agent, 1)
    workflow = h.publish(_assign_flow(_team_config(team, max_open_contacts=1)))
    contact_id = _new_contact(h, "visitor-1")
    assert h.runs(workflow.id)[0].wait_kind == "assignment"
    busy = session.scalar(select(Contact).where(Contact.assignee_user_id == agent.id))
    assert busy is not None
    conversations.close_conversation(
        session, contact=busy, actor=Actor.system(), category_id=None, summary=None, enforce_notes=False
    )
    session.commit()
    h.drain()  # re-evaluated at once, without waiting for the 60 s retry
    assert _assignee(session, contact_id) == agent.id
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_a_queued_contact_is_assigned_when_a_member_joins_the_team_WF_STEP_ASSIGN_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    offline, newcomer = _agents(h, "Fuera", "Nueva")
    _online(h, newcomer)
    team = _team(h, "Ventas", [offline])
    workflow = h.publish(_assign_flow(_team_config(team, online_only=True)))
    contact_id = _new_contact(h, "visitor-1")
    assert h.runs(workflow.id)[0].wait_kind == "assignment"
    teams.add_member(session, h.owner, team_id=team.id, user_id=newcomer.id, move=True)
    session.commit()
    h.drain()  # re-evaluated at once, without waiting for the 60 s retry
    assert _assignee(session, contact_id) == newcomer.id


def test_queued_contacts_are_served_first_come_first_served_WF_STEP_ASSIGN_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [agent] = _agents(h, "Olivia")
    team = _team(h, "Ventas", [agent])
    workflow = h.publish(_assign_flow(_team_config(team, online_only=True, max_open_contacts=1)))
    early = _new_contact(h, "visitor-early")
    container.clock.advance(seconds=30)  # type: ignore[attr-defined]
    late = _new_contact(h, "visitor-late")
    container.clock.advance(seconds=10)  # type: ignore[attr-defined]
    _online(h, agent)  # one free place, offered at once to the contact queued first
    h.drain()
    assert (_assignee(session, early), _assignee(session, late)) == (agent.id, None)
    session.commit()
    for _ in range(3):
        container.clock.advance(seconds=30)  # type: ignore[attr-defined]
        h.drain()
    assert (_assignee(session, early), _assignee(session, late)) == (agent.id, None)
    statuses = {run.contact_id: (run.status, run.wait_kind) for run in h.runs(workflow.id)}
    assert statuses[late] == ("waiting", "assignment")


# --- WF-STEP-ASSIGN-06: timeout ---------------------------------------------------------------


def test_a_queue_timeout_takes_the_timeout_branch_WF_STEP_ASSIGN_06(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [agent] = _agents(h, "Olivia")
    team = _team(h, "Ventas", [agent])
    workflow = h.publish(
        _assign_flow(
            _team_config(team, online_only=True, timeout_seconds=3600, timeout_branch=True), timeout="t"
        )
    )
    contact_id = _new_contact(h, "visitor-1")
    container.clock.advance(minutes=59)  # type: ignore[attr-defined]
    h.drain()
    assert h.runs(workflow.id)[0].status == "waiting"
    container.clock.advance(minutes=1)  # type: ignore[attr-defined]
    h.drain()
    assert _assignee(session, contact_id) is None
    assert h.sent_texts() == ["Nadie disponible"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "timeout"), ("t", "next")]


def test_a_queue_timeout_without_branch_ends_the_run_after_seven_days_WF_STEP_ASSIGN_06(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [agent] = _agents(h, "Olivia")
    team = _team(h, "Ventas", [agent])
    workflow = h.publish(_assign_flow(_team_config(team, online_only=True)))
    _new_contact(h, "visitor-1")
    container.clock.advance(days=6, hours=23)  # type: ignore[attr-defined]
    h.drain()
    assert h.runs(workflow.id)[0].status == "waiting"
    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "timeout")
    assert h.sent_texts() == []


# --- WF-STEP-ASSIGN-07: replacing, unassigning, events ----------------------------------------


def test_assigning_replaces_the_current_assignee_and_emits_assignee_updated_WF_STEP_ASSIGN_07(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    world = h.world
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "s1",
                "assign_to",
                {"action": "user", "user": {"ref": "user", "id": world.agent.id}},
                next="s2",
            ),
            step("s2", "assign_to", {"action": "user", "user": {"ref": "user", "id": world.manager.id}}),
        )
    )
    contact_id = _new_contact(h, "visitor-1")
    assert _assignee(session, contact_id) == world.manager.id
    [run] = h.runs(workflow.id)
    updates = events_of(session, workspace_id=world.workspace.id, type="contact.assignee.updated")
    assert [(e.source, e.run_id) for e in updates] == [("workflow", run.id), ("workflow", run.id)]
    assert updates[1].payload["previous"]["id"] == world.agent.id
    assert updates[1].payload["assignee"]["id"] == world.manager.id


def test_unassign_always_succeeds_WF_STEP_ASSIGN_07(session: Session, container: Container) -> None:
    h = Harness(session, container)
    world = h.world
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "assign_to", {"action": "unassign"}, next="s2"),  # nobody assigned yet
            step(
                "s2",
                "assign_to",
                {"action": "user", "user": {"ref": "user", "id": world.agent.id}},
                next="s3",
            ),
            step("s3", "assign_to", {"action": "unassign"}, next="s4"),
            step("s4", "send_message", {"text": "Sin asignar: '$assignee.name'"}),
        )
    )
    contact_id = _new_contact(h, "visitor-1")
    assert _assignee(session, contact_id) is None
    assert h.sent_texts() == ["Sin asignar: ''"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [s.output for s in h.steps(run.id)] == ["next", "next", "next", "next"]
    updates = events_of(session, workspace_id=world.workspace.id, type="contact.assignee.updated")
    assert [(e.payload["assignee"], e.source, e.run_id) for e in updates][-1] == (None, "workflow", run.id)
    assert updates[-1].payload["previous"]["id"] == world.agent.id
