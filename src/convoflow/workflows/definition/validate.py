"""Validation of a definition: every problem at once, never an exception (WF-BLD-06, WF-LIFE-03/07)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from convoflow.workflows.definition import variables
from convoflow.workflows.definition.catalog import Catalog
from convoflow.workflows.definition.check_refs import KnownVariables
from convoflow.workflows.definition.check_steps import check_step
from convoflow.workflows.definition.check_trigger import check_trigger
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.problems import TRIGGER_KEY, Problem, Problems
from convoflow.workflows.definition.steps import AskQuestionStep, HttpRequestStep, allowed_outputs
from convoflow.workflows.definition.trigger_variables import trigger_variables


def parse(raw: Any) -> tuple[WorkflowDefinition | None, list[Problem]]:
    """The definition, or None and the shape problems (unknown step type, wrong types, limits)."""
    try:
        return WorkflowDefinition.model_validate(raw), []
    except ValidationError as exc:
        problems = [_shape_problem(raw, error) for error in _merge_union_errors(exc.errors())]
        return None, list(dict.fromkeys(problems))
    except RecursionError:  # absurdly deep nesting
        return None, [Problem(None, "document", "too_deep", "The document is nested too deeply")]


# The members of ConditionValue (and of Range's bounds) as pydantic names them in error locations.
_UNION_MEMBERS = frozenset(
    {"Ref", "Range", "Duration", "list[Ref]", "list[str]", "bool", "int", "float", "str"}
)
_UNION_FIELDS = frozenset({"value", "from", "to"})


def _merge_union_errors(errors: list[Any]) -> list[Any]:
    """One error for a value that fits none of a union's members, instead of one per member."""
    merged: list[Any] = []
    for error in errors:
        loc = list(error.get("loc", ()))
        cut = next(
            (
                i
                for i in range(1, len(loc))
                if loc[i] in _UNION_MEMBERS and isinstance(loc[i - 1], str) and loc[i - 1] in _UNION_FIELDS
            ),
            None,
        )
        if cut is None:
            merged.append(error)
        else:
            merged.append(
                {
                    "loc": tuple(loc[:cut]),
                    "type": "invalid_value",
                    "msg": "Not a valid value here (a text, a number, a list or a reference, by operator)",
                }
            )
    return merged


_STEP_PARTS = ("key", "name", "type", "outputs", "config", "position")
_TRIGGER_PARTS = ("type", "config", "triggerOncePerContact", "trigger_once_per_contact")


def _path(parts: list[Any]) -> str:
    """A pydantic location as the builder writes field paths: `config.rows[0].field`."""
    text = ""
    for part in parts:
        if part == "[key]":  # pydantic's marker for a bad dict key; the key itself names the place
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _shape_problem(raw: Any, error: Any) -> Problem:
    loc = list(error.get("loc", ()))
    kind = "document"
    step_key: str | None = None
    step_name: str | None = None
    rest = loc
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        kind = "step"
        steps = raw.get("steps") if isinstance(raw, dict) else None
        index = loc[1]
        item = steps[index] if isinstance(steps, list) and index < len(steps) else None
        if isinstance(item, dict):
            step_key = str(item.get("key") or f"steps[{index}]")
            step_name = item.get("name") if isinstance(item.get("name"), str) else None
        else:
            step_key = f"steps[{index}]"
        rest = loc[2:]
        if rest and rest[0] not in _STEP_PARTS:
            rest = rest[1:]  # the union member tag pydantic adds, e.g. "send_message"
    elif loc and loc[0] == "trigger":
        kind = "trigger"
        step_key, step_name = TRIGGER_KEY, "Trigger"
        rest = loc[2:] if len(loc) > 1 and loc[1] not in _TRIGGER_PARTS else loc[1:]
    error_type = str(error.get("type", "invalid"))
    code, message = error_type, str(error.get("msg", "invalid value"))
    if kind in ("step", "trigger") and error_type == "union_tag_invalid":  # an unknown type
        tag = (error.get("ctx") or {}).get("tag", "")
        code, message, rest = f"unknown_{kind}_type", f"Unknown {kind} type {tag!r}", ["type"]
    elif kind in ("step", "trigger") and error_type == "union_tag_not_found":  # no type at all
        code, message, rest = "required", f"Choose the {kind} type", ["type"]
    return Problem(step_key, _path(rest) or "document", code, message, step_name)


def validate(definition: WorkflowDefinition, catalog: Catalog) -> list[Problem]:
    """Every configuration error of a parsed definition, in document order."""
    problems = Problems()
    known = KnownVariables(catalog, trigger_variables(definition.trigger), _declared_vars(definition))
    check_trigger(problems, definition.trigger, catalog, known)
    _check_graph(problems, definition)
    keys = {step.key for step in definition.steps}
    for step in definition.steps:
        check_step(problems.at(step.key, step.name), step, keys, catalog, known)
    return problems.items


def check(raw: Any, catalog: Catalog) -> tuple[WorkflowDefinition | None, list[Problem]]:
    """parse() then validate(): the definition when its shape is right, and all problems."""
    definition, problems = parse(raw)
    if definition is None:
        return None, problems
    return definition, validate(definition, catalog)


def _declared_vars(definition: WorkflowDefinition) -> set[str]:
    """`$var` names some step of the workflow sets (WF-VAR-02)."""
    names: set[str] = set()
    for step in definition.steps:
        if isinstance(step, AskQuestionStep) and step.config.save_variable:
            names.add(step.config.save_variable)
        if isinstance(step, HttpRequestStep):
            names |= {mapping.variable for mapping in step.config.mappings}
            if step.config.status_variable:
                names.add(step.config.status_variable)
    return names


def structure_problems(definition: WorkflowDefinition) -> list[Problem]:
    """Duplicate step keys, and a root or outputs leading to no step: what an imported file must not
    have (WF-IO-04), since it would not even be a tree of steps."""
    problems = Problems()
    keys: set[str] = set()
    for step in definition.steps:
        if step.key in keys:
            problems.at(step.key, step.name).add(
                "key", "duplicate_key", f"Two steps have the key {step.key!r}"
            )
        keys.add(step.key)
    if definition.root is not None and definition.root not in keys:
        problems.at(None).add("root", "dangling_output", f"The first step {definition.root!r} does not exist")
    for step in definition.steps:
        for output, target in step.outputs.items():
            if target is not None and target not in keys:
                problems.at(step.key, step.name).add(
                    f"outputs.{output}", "dangling_output", f"The {output!r} output leads to a missing step"
                )
    return problems.items


def _check_graph(problems: Problems, definition: WorkflowDefinition) -> None:
    """Tree shape (WF-GEN-02): unique keys and names, a root, outputs that lead somewhere, no re-joins."""
    whole = problems.at(None)
    if not definition.steps:
        whole.add("steps", "no_steps", "Add at least one step")  # WF-LIFE-07
        return
    keys: dict[str, int] = {}
    names: dict[str, str] = {}
    for step in definition.steps:
        out = problems.at(step.key, step.name)
        if step.key in keys:
            out.add("key", "duplicate_key", f"Two steps have the key {step.key!r}")
        keys[step.key] = keys.get(step.key, 0) + 1
        if not step.name.strip():
            out.add("name", "required", "Name the step")
        elif step.name.strip().casefold() in names:
            out.add("name", "duplicate_name", f"Another step is already named {step.name!r}")
        else:
            names[step.name.strip().casefold()] = step.key
    if definition.root is None:
        whole.add("root", "required", "The trigger must lead to a first step")
    elif definition.root not in keys:
        whole.add("root", "dangling_output", f"The first step {definition.root!r} does not exist")
    parents: dict[str, str] = {}
    for step in definition.steps:
        out = problems.at(step.key, step.name)
        allowed = allowed_outputs(step)
        for output, target in step.outputs.items():
            if output not in allowed:
                if target is not None:
                    out.add(f"outputs.{output}", "unknown_output", f"This step has no {output!r} output")
                continue
            if target is None:
                continue
            if target not in keys:
                out.add(
                    f"outputs.{output}", "dangling_output", f"The {output!r} output leads to a missing step"
                )
            elif target == step.key:
                out.add(
                    f"outputs.{output}", "self_loop", "An output cannot lead to its own step; use Jump To"
                )
            elif target == definition.root or target in parents:
                out.add(f"outputs.{output}", "rejoin", "A step can hang under one output only; use Jump To")
            else:
                parents[target] = step.key
    reachable = definition.reachable()
    for step in definition.steps:
        if step.key not in reachable and definition.root in keys:
            problems.at(step.key, step.name).add("key", "unreachable", "No path from the trigger leads here")


__all__ = ["Problem", "check", "parse", "structure_problems", "validate", "variables"]
