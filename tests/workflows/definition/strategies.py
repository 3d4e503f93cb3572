"""Hypothesis strategies for workflow definition documents: garbage, near-valid documents, and
documents built from valid pieces naming the objects of a given workspace (`Refs`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from convoflow.workflows.definition.steps import STEP_TYPES
from convoflow.workflows.definition.triggers import TRIGGER_TYPES


@dataclass(frozen=True)
class Refs:
    """One existing object of each kind, as refs; `field` is a custom text field's slug and `workflow`
    a workflow with a Manual trigger declaring the input `order`."""

    user: dict[str, Any]
    team: dict[str, Any]
    channel: dict[str, Any]
    tag: dict[str, Any]
    other_tag: dict[str, Any]
    stage: dict[str, Any]
    category: dict[str, Any]
    workflow: dict[str, Any]
    field: str


# -------------------------------------------------------------------------------------------------- garbage

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from([*STEP_TYPES, *TRIGGER_TYPES, "s1", "next", "$.a", "$contact.x", "ref", "user"])
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["trigger", "root", "steps", "key", "type", "config", "outputs", "name", "ref", "id"]
            )
            | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)

# --------------------------------------------------------------------------------------------- valid pieces

_PLAIN = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="$"), max_size=15
)
_TOKENS = st.sampled_from(
    [
        "$contact.firstname",
        "$Contact.Name",
        "$contact.email",
        "$assignee.name",
        "$system.current_date",
        "$var.last_error",
        "$$",
        "👋",
        "ñandú",
    ]
)
texts = st.builds(
    lambda head, parts: "Hola " + head + " ".join(parts), _PLAIN, st.lists(_TOKENS | _PLAIN, max_size=4)
)
variable_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
_WAIT_RANGES = {"minutes": (1, 10_080), "hours": (1, 168), "days": (1, 7)}
seconds = st.integers(min_value=60, max_value=7 * 24 * 3600)


@st.composite
def condition(draw: st.DrawFn, refs: Refs, *, for_trigger: bool) -> dict[str, Any]:
    options: list[dict[str, Any]] = [
        {"category": "contact_field", "field": refs.field, "operator": "contains", "value": "a"},
        {"category": "contact_field", "field": "first_name", "operator": "exists"},
        {"category": "tags", "operator": "has_none_of", "value": [refs.tag]},
        {"category": "lifecycle", "operator": "is_any_of", "value": [refs.stage]},
        {"category": "assignee", "operator": "is_user", "value": refs.user},
        {"category": "assignee", "operator": "is_in_team", "value": refs.team},
        {"category": "conversation_status", "operator": "is_open"},
        {"category": "last_channel", "operator": "is_none_of", "value": [refs.channel]},
    ]
    if not for_trigger:
        options += [
            {"category": "assignee_status", "operator": "is_online"},
            {"category": "last_incoming_message", "operator": "starts_with", "value": "hola"},
            {"category": "last_outgoing_source", "operator": "is_any_of", "value": ["workflow"]},
            {
                "category": "time_since_last_incoming",
                "operator": "is_less_than",
                "value": {"amount": 2, "unit": "days"},
            },
            {"category": "variable", "field": "$var.last_error", "operator": "exists"},
        ]
    found: dict[str, Any] = draw(st.sampled_from(options))
    return found


@st.composite
def group(draw: st.DrawFn, refs: Refs, *, for_trigger: bool, min_size: int = 0) -> dict[str, Any]:
    return {
        "logic": draw(st.sampled_from(["and", "or"])),
        "conditions": draw(st.lists(condition(refs, for_trigger=for_trigger), min_size=min_size, max_size=3)),
    }


@st.composite
def trigger(draw: st.DrawFn, refs: Refs) -> dict[str, Any]:
    kind = draw(st.sampled_from(TRIGGER_TYPES))
    config: dict[str, Any]
    match kind:
        case "conversation_opened":
            sources = draw(
                st.lists(
                    st.sampled_from(["contact", "user", "workflow", "api"]),
                    min_size=1,
                    max_size=4,
                    unique=True,
                )
            )
            conditions = {s: draw(group(refs, for_trigger=True)) for s in sources if draw(st.booleans())}
            config = {"sources": sources, "conditions": conditions}
        case "conversation_closed":
            sources = draw(
                st.lists(
                    st.sampled_from(["user", "workflow", "api", "system"]),
                    min_size=1,
                    max_size=4,
                    unique=True,
                )
            )
            config = {"sources": sources}
        case "contact_tag_updated":
            tags = draw(
                st.lists(
                    st.sampled_from([refs.tag, refs.other_tag]),
                    min_size=1,
                    max_size=2,
                    unique_by=lambda r: r["id"],
                )
            )
            config = {"action": draw(st.sampled_from(["added", "removed"])), "tags": tags}
            if draw(st.booleans()):
                config["conditions"] = draw(group(refs, for_trigger=True))
        case "contact_field_updated":
            config = {
                "fields": draw(
                    st.lists(st.sampled_from([refs.field, "email", "phone"]), min_size=1, unique=True)
                )
            }
        case "lifecycle_updated":
            stage = st.sampled_from(
                [{"mode": "any"}, {"mode": "none"}, {"mode": "stages", "stages": [refs.stage]}]
            )
            config = {"from_stage": draw(stage), "to_stage": draw(stage)}
        case "assignee_updated":
            config = {
                "change": draw(st.sampled_from(["assigned", "unassigned", "any"])),
                "users": [refs.user] if draw(st.booleans()) else [],
            }
        case "shortcut":
            config = {
                "label": "Atajo " + draw(st.text(alphabet="abcxyz", max_size=5)),
                "visibility": "teams",
                "teams": [refs.team],
            }
        case "incoming_webhook":
            config = {
                "contact_path": "$.customer.phone",
                "mappings": [{"path": "$.order.id", "name": "order"}],
            }
        case _:
            config = {"inputs": draw(st.lists(variable_names, max_size=3, unique=True))}
    found: dict[str, Any] = {"type": kind, "config": config}
    if kind != "manual":
        found["triggerOncePerContact"] = draw(st.booleans())
    return found


@st.composite
def step_config(draw: st.DrawFn, kind: str, refs: Refs) -> dict[str, Any]:
    match kind:
        case "send_message":
            config: dict[str, Any] = {"text": draw(texts), "failure_branch": draw(st.booleans())}
            if draw(st.booleans()):
                config["channel"] = refs.channel
            return config
        case "ask_question":
            question_type = draw(
                st.sampled_from(["text", "multiple_choice", "number", "email", "date", "rating"])
            )
            config = {
                "question": draw(texts),
                "question_type": question_type,
                "max_attempts": draw(st.integers(1, 5)),
                "timeout_seconds": draw(seconds),
                "timeout_branch": draw(st.booleans()),
                "failure_branch": draw(st.booleans()),
            }
            if question_type == "multiple_choice":
                config["options"] = draw(
                    st.lists(
                        st.sampled_from(["Sí", "No", "Quizá", "Ventas"]), min_size=1, max_size=4, unique=True
                    )
                )
                config["save_tag"] = draw(st.booleans())
            if draw(st.booleans()):
                config["save_variable"] = draw(variable_names)
            if draw(st.booleans()):
                config["save_field"] = refs.field
            return config
        case "assign_to":
            action = draw(st.sampled_from(["user", "team", "workspace", "unassign"]))
            config = {"action": action, "logic": draw(st.sampled_from(["round_robin", "least_open"]))}
            if action == "user":
                config["user"] = refs.user
            if action == "team":
                config["team"] = refs.team
            if action in ("team", "workspace"):
                config["timeout_seconds"] = draw(seconds)
                config["timeout_branch"] = draw(st.booleans())
                config["max_open_contacts"] = draw(st.none() | st.integers(1, 999))
            return config
        case "branch":
            count = draw(st.integers(1, 3))
            return {
                "branches": [
                    {"name": f"Rama {i}", **draw(group(refs, for_trigger=False, min_size=1))}
                    for i in range(count)
                ]
            }
        case "update_tag":
            action = draw(st.sampled_from(["add", "remove"]))
            tags = draw(
                st.lists(
                    st.sampled_from([refs.tag, refs.other_tag]),
                    min_size=1,
                    max_size=2,
                    unique_by=lambda r: r["id"],
                )
            )
            return {"action": action, "tags": tags}
        case "update_field":
            fields = draw(
                st.lists(
                    st.sampled_from([refs.field, "first_name", "language"]),
                    min_size=1,
                    max_size=3,
                    unique=True,
                )
            )
            return {
                "rows": [
                    {"field": f, "value": draw(texts)} if draw(st.booleans()) else {"field": f, "clear": True}
                    for f in fields
                ]
            }
        case "update_lifecycle":
            return {"stage": refs.stage} if draw(st.booleans()) else {"clear": True}
        case "close_conversation":
            return {"category": refs.category, "summary": draw(texts)} if draw(st.booleans()) else {}
        case "add_comment":
            return {"text": draw(texts), "mentions": [refs.user] if draw(st.booleans()) else []}
        case "wait":
            unit = draw(st.sampled_from(sorted(_WAIT_RANGES)))
            low, high = _WAIT_RANGES[unit]
            return {"amount": draw(st.integers(low, high)), "unit": unit}
        case "date_time":
            if draw(st.booleans()):
                return {
                    "use_workspace_hours": False,
                    "timezone": "Europe/Madrid",
                    "days": {"mon": [{"start": "09:00", "end": "18:00"}]},
                }
            return {"mode": "date_range", "start": "2026-12-24T00:00", "end": "2026-12-26T00:00"}
        case "http_request":
            method = draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]))
            config = {
                "method": method,
                "url": "https://api.example.com/c/$contact.id",
                "headers": [{"name": "Accept", "value": "application/json"}],
                "mappings": [{"path": "$.data.items[0].name", "variable": "item"}],
                "timeout_seconds": draw(st.integers(1, 30)),
                "failure_branch": draw(st.booleans()),
            }
            if method != "GET":
                config |= {"body_type": "json", "body": '{"name": "$contact.name"}'}
            return config
        case "trigger_workflow":
            return {
                "workflow": refs.workflow,
                "inputs": {"order": draw(texts)} if draw(st.booleans()) else {},
            }
    return {}  # open_conversation; jump_to is filled by the tree builder


def _outputs(kind: str, config: dict[str, Any]) -> list[str]:
    match kind:
        case "send_message" | "http_request":
            return ["next", "failure"] if config.get("failure_branch") else ["next"]
        case "ask_question":
            return ["next"] + [
                o
                for o, flag in (("timeout", "timeout_branch"), ("failure", "failure_branch"))
                if config.get(flag)
            ]
        case "assign_to":
            waits = config["action"] in ("team", "workspace") and config.get("timeout_branch")
            return ["next", "timeout"] if waits else ["next"]
        case "branch":
            return [f"branch:{i}" for i in range(1, len(config["branches"]) + 1)] + ["else"]
        case "date_time":
            return ["next", "outside"]
        case "trigger_workflow":
            return []
    return ["next"]


@st.composite
def valid_definition(draw: st.DrawFn, refs: Refs, max_steps: int = 6) -> dict[str, Any]:
    """A tree of 1..max_steps steps from valid pieces; every output leads to a later step or nowhere."""
    kinds = draw(st.lists(st.sampled_from(STEP_TYPES), min_size=1, max_size=max_steps))
    if kinds[0] == "jump_to":
        kinds[0] = "open_conversation"
    steps: list[dict[str, Any]] = []
    free: list[tuple[int, str]] = []
    for index, kind in enumerate(kinds):
        key = f"s{index + 1}"
        config = draw(step_config(kind, refs))
        if kind == "jump_to":
            config = {"target": "s1", "max_jumps": draw(st.integers(1, 10))}
        if index > 0:
            if not free:
                break
            parent, output = draw(st.sampled_from(free))
            free.remove((parent, output))
            steps[parent]["outputs"][output] = key
        outputs = _outputs(kind, config)
        steps.append(
            {
                "key": key,
                "name": f"Paso {index + 1}",
                "type": kind,
                "config": config,
                "outputs": {o: None for o in outputs},
            }
        )
        free += [(index, output) for output in outputs]
    return {"trigger": draw(trigger(refs)), "root": "s1", "steps": steps}


# ----------------------------------------------------------------------------------------------- near-valid


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any, *, delete: bool) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        copy = dict(node)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(node[head], rest, value, delete=delete)
        return copy
    copy_list = list(node)
    if delete and not rest:
        del copy_list[head]
    else:
        copy_list[head] = _replace(node[head], rest, value, delete=delete)
    return copy_list


@st.composite
def near_valid_definition(draw: st.DrawFn, refs: Refs) -> Any:
    """A valid document with one to three random edits: a value replaced by garbage, or a key removed."""
    document: Any = draw(valid_definition(refs))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        if path and draw(st.booleans()):
            document = _replace(document, path, None, delete=True)
        else:
            document = _replace(document, path, draw(json_values), delete=False)
    return document
