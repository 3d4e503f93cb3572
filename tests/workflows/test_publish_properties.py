"""Database-backed property tests (hypothesis) on a real workspace: any document built from valid pieces
that validates cleanly can be published unless find_loop reports a loop, and export → import in the same
workspace gives the same definition; random documents never make the API fail.

Each example works inside the test's one database and rolls back (or restores) what it changed, so it
does not rely on the per-test database reset."""

from __future__ import annotations

import itertools
import json
from typing import Any

import hypothesis
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.bootstrap import Container
from convoflow.contacts.tags import create_tag
from convoflow.errors import WorkflowInvalid
from convoflow.workflows import drafts, service, transfer
from convoflow.workflows.catalog_source import build_catalog
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.loops import Candidate, find_loop
from convoflow.workflows.definition.portable import with_natural_keys
from convoflow.workflows.models import Workflow, WorkflowVersion
from tests.support import login, seed_world
from tests.workflows.definition.strategies import Refs, json_values, valid_definition
from tests.workflows.io_support import Objects, make_workflow, seed_objects

_names = itertools.count(1)


def companions(objects: Objects, lead_id: int) -> dict[str, dict[str, Any]]:
    """Published workflows the candidates may loop through (WF-LOOP-01): lead added → add vip;
    closed by a workflow → assign; and the Manual target of Trigger Another Workflow."""
    lead = {"ref": "tag", "id": lead_id}
    return {
        "Lead a VIP": {
            "trigger": {"type": "contact_tag_updated", "config": {"action": "added", "tags": [lead]}},
            "root": "c1",
            "steps": [
                {"key": "c1", "name": "VIP", "type": "update_tag", "config": {"tags": [objects.ref("tag")]}}
            ],
        },
        "Cierre": {
            "trigger": {"type": "conversation_closed", "config": {"sources": ["workflow"]}},
            "root": "c1",
            "steps": [
                {"key": "c1", "name": "Asignar", "type": "assign_to", "config": {"action": "workspace"}}
            ],
        },
        "Sub": {
            "trigger": {"type": "manual", "config": {"inputs": ["order"]}},
            "root": "c1",
            "steps": [
                {
                    "key": "c1",
                    "name": "Nota",
                    "type": "add_comment",
                    "config": {"text": "Pedido $trigger.order"},
                }
            ],
        },
    }


def arrange(session: Session, container: Container) -> tuple[Principal, Refs, list[Candidate]]:
    world = seed_world(session, container.hasher)
    objects = seed_objects(session, world)
    lead = create_tag(session, objects.owner, name="lead")
    session.commit()
    published: list[Candidate] = []
    sub_id = 0
    for name, definition in companions(objects, lead.id).items():
        workflow = make_workflow(session, objects.owner, definition, name=name)
        service.publish(session, objects.owner, workflow_id=workflow.id)
        session.commit()
        published.append(Candidate(workflow.id, name, WorkflowDefinition.model_validate(workflow.draft)))
        sub_id = workflow.id
    refs = Refs(
        user=objects.ref("user"),
        team=objects.ref("team"),
        channel=objects.ref("channel"),
        tag=objects.ref("tag"),
        other_tag={"ref": "tag", "id": lead.id},
        stage=objects.ref("stage"),
        category=objects.ref("category"),
        workflow={"ref": "workflow", "id": sub_id},
        field=objects.field_slug,
    )
    return objects.owner, refs, published


def test_valid_documents_publish_unless_they_loop_and_round_trip(
    session: Session, container: Container
) -> None:
    # WF-LIFE-03, WF-LOOP-01, WF-IO-01..07 round trip (hypothesis, on SQLite and PostgreSQL)
    owner, refs, published = arrange(session, container)
    outcomes: set[bool] = set()

    loops_through_companion = {  # vip added → add lead, and the companion adds vip on lead
        "trigger": {"type": "contact_tag_updated", "config": {"action": "added", "tags": [refs.tag]}},
        "root": "s1",
        "steps": [{"key": "s1", "name": "Lead", "type": "update_tag", "config": {"tags": [refs.other_tag]}}],
    }
    closes_and_reassigns = {  # closing fires the companion that assigns, which fires this trigger
        "trigger": {"type": "assignee_updated", "config": {"change": "assigned", "sources": ["workflow"]}},
        "root": "s1",
        "steps": [{"key": "s1", "name": "Cerrar", "type": "close_conversation", "config": {}}],
    }

    @settings(max_examples=40, deadline=None)
    @hypothesis.example(loops_through_companion)
    @hypothesis.example(closes_and_reassigns)
    @given(valid_definition(refs, max_steps=5))
    def example(document: dict[str, Any]) -> None:
        try:
            name = f"Propiedad {next(_names)}"
            definition = WorkflowDefinition.model_validate(document)
            workflow = service.new_workflow(session, owner, name=name, description="", definition=definition)
            assert drafts.problems_of(session, workflow) == []
            loop = find_loop(Candidate(workflow.id, name, definition), published)
            try:
                version = service.publish(session, owner, workflow_id=workflow.id)
            except WorkflowInvalid as exc:
                assert loop is not None, exc.message
                assert exc.error == "loop_detected"
                assert [c["stepKey"] for c in exc.details["cycle"]] == [h.step_key for h in loop.hops]
                assert workflow.state == "draft"
                outcomes.add(False)
            else:
                assert loop is None, loop.describe()
                assert (workflow.state, version.number, version.definition) == (
                    "published",
                    1,
                    definition.to_json(),
                )
                outcomes.add(True)
            _filename, exported = transfer.export_document(session, owner, workflow_id=workflow.id)
            imported = transfer.import_file(session, owner, raw=json.dumps(exported).encode())
            assert imported.stripped == []
            assert imported.workflow.name == f"{name} (imported)"
            catalog = build_catalog(session, workspace_id=owner.workspace_id)
            assert imported.workflow.draft == with_natural_keys(definition, catalog).to_json()
            assert drafts.problems_of(session, imported.workflow) == []
        finally:
            session.rollback()  # nothing of the example stays

    example()
    assert outcomes == {True, False}, "the examples should both publish and hit loops"
    session.expire_all()
    assert session.query(Workflow).count() == len(published)
    assert session.query(WorkflowVersion).count() == len(published)


def test_random_documents_never_make_validation_or_save_fail(
    client: TestClient, session: Session, container: Container
) -> None:  # WF-BLD-06, WF-LIFE-07: a clear 4xx, never a 500, and the stored draft unchanged
    world = seed_world(session, container.hasher)
    objects = seed_objects(session, world)
    workflow = make_workflow(
        session,
        objects.owner,
        {
            "trigger": {"type": "manual"},
            "root": "s1",
            "steps": [{"key": "s1", "name": "N", "type": "add_comment", "config": {"text": "x"}}],
        },
    )
    stored = dict(workflow.draft)
    session.commit()
    login(client, world.owner)
    documents = st.dictionaries(
        st.sampled_from(["trigger", "root", "steps", "schemaVersion", "x"]), json_values, max_size=4
    )

    @settings(max_examples=25, deadline=None)
    @given(documents)
    def example(document: dict[str, Any]) -> None:
        validated = client.post(f"/api/workflows/{workflow.id}/validate", json={"definition": document})
        assert validated.status_code == 200, validated.text
        assert isinstance(validated.json(), list)
        saved = client.put(
            f"/api/workflows/{workflow.id}/definition", json={"revision": 2, "definition": document}
        )
        if saved.status_code == 200:  # a valid one got through: put the original back
            assert validated.json() == []
            restored = client.put(
                f"/api/workflows/{workflow.id}/definition",
                json={"revision": saved.json()["revision"], "definition": stored},
            )
            assert restored.status_code == 200
        else:
            assert saved.status_code == 422 and saved.json()["error"] == "workflow_invalid", saved.text
            assert saved.json()["details"] == validated.json()

    example()
    session.expire_all()
    final = session.get(Workflow, workflow.id)
    assert final is not None and final.draft == stored
