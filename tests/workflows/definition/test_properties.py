"""Property tests of the definition layer (hypothesis): validation never raises, documents built from
valid pieces are valid, and moving a definition between workspaces round-trips."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.loops import Candidate, find_loop
from convoflow.workflows.definition.portable import resolve_references, with_natural_keys, without_secrets
from convoflow.workflows.definition.problems import Problem
from convoflow.workflows.definition.validate import check, parse, structure_problems
from tests.workflows.definition.builders import (
    ANA,
    CATALOG,
    LEAD,
    NEW_LEAD,
    RESUELTO,
    SUB,
    VENTAS,
    VIP,
    WEBCHAT,
)
from tests.workflows.definition.strategies import Refs, json_values, near_valid_definition, valid_definition

REFS = Refs(
    user=ANA,
    team=VENTAS,
    channel=WEBCHAT,
    tag=VIP,
    other_tag=LEAD,
    stage=NEW_LEAD,
    category=RESUELTO,
    workflow=SUB,
    field="city",
)
PROPERTY = settings(max_examples=75, deadline=None)


def assert_well_formed(definition: WorkflowDefinition | None, problems: list[Problem]) -> None:
    assert definition is not None or problems, "an unparsable document always has problems"
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.field and problem.code and problem.message
        assert problem.step_key is None or isinstance(problem.step_key, str)
    json.dumps([p.as_json() for p in problems])  # the API returns them as they are


@PROPERTY
@given(json_values)
def test_check_never_raises_on_garbage(document: Any) -> None:  # WF-BLD-06: every problem, never an exception
    assert_well_formed(*check(document, CATALOG))


@PROPERTY
@given(
    st.fixed_dictionaries(
        {"trigger": json_values, "root": json_values, "steps": st.lists(json_values, max_size=4)}
    )
)
def test_check_never_raises_on_documents_of_the_right_outline(document: dict[str, Any]) -> None:  # WF-BLD-06
    assert_well_formed(*check(document, CATALOG))


@PROPERTY
@given(near_valid_definition(REFS))
def test_check_never_raises_on_near_valid_documents(document: Any) -> None:  # WF-BLD-06, WF-STEP-02
    definition, problems = check(document, CATALOG)
    assert_well_formed(definition, problems)
    if definition is not None:
        structure_problems(definition)  # the import check never raises either


@PROPERTY
@given(valid_definition(REFS))
def test_documents_built_from_valid_pieces_are_valid(document: dict[str, Any]) -> None:  # WF-STEP-02, §7, §8
    definition, problems = check(document, CATALOG)
    assert problems == [], [p.as_json() for p in problems]
    assert definition is not None and structure_problems(definition) == []
    again, _problems = parse(definition.to_json())  # the stored form parses back to the same definition
    assert again == definition


@PROPERTY
@given(valid_definition(REFS))
def test_export_then_resolve_in_the_same_workspace_is_the_identity(document: dict[str, Any]) -> None:
    # WF-IO-02, WF-IO-05 round trip (no secret headers in these documents)
    definition = WorkflowDefinition.model_validate(document)
    exported = without_secrets(with_natural_keys(definition, CATALOG))
    resolved, stripped = resolve_references(WorkflowDefinition.model_validate(exported.to_json()), CATALOG)
    assert stripped == []
    assert resolved == exported
    assert [ref_ids(resolved.to_json())] == [ref_ids(definition.to_json())]


@PROPERTY
@given(valid_definition(REFS), valid_definition(REFS))
def test_loop_detection_is_symmetric_in_who_is_published(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    # WF-LOOP-01: a cycle through both workflows is found from either side
    a = Candidate(1, "A", WorkflowDefinition.model_validate(first))
    b = Candidate(2, "B", WorkflowDefinition.model_validate(second))
    loop_a, loop_b = find_loop(a, [b]), find_loop(b, [a])
    through_both_a = loop_a is not None and {h.workflow_id for h in loop_a.hops} == {1, 2}
    through_both_b = loop_b is not None and {h.workflow_id for h in loop_b.hops} == {1, 2}
    if through_both_a:
        assert loop_b is not None
    if through_both_b:
        assert loop_a is not None
    for loop, first_id in ((loop_a, 1), (loop_b, 2)):
        if loop is not None:
            assert loop.hops[0].workflow_id == first_id and loop.describe()


def ref_ids(node: Any) -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        own = [(node["ref"], node.get("id"))] if "ref" in node and isinstance(node["ref"], str) else []
        return own + [r for value in node.values() for r in ref_ids(value)]
    if isinstance(node, list):
        return [r for item in node for r in ref_ids(item)]
    return []
