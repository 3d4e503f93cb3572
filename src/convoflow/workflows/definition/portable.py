"""Moving definitions between workspaces (WF-IO-02/03/05): re-resolving references, hiding secrets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from convoflow.workflows.definition.catalog import Catalog
from convoflow.workflows.definition.conditions import STANDARD_FIELDS, Condition
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.refs import Ref
from convoflow.workflows.definition.steps import AskQuestionStep, Header, HttpRequestStep, UpdateFieldStep
from convoflow.workflows.definition.triggers import ContactFieldUpdatedTrigger

_SECRET_NAME = re.compile(r"authorization|token|key|secret", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Stripped:
    """A reference the target workspace lacks, emptied on import (WF-IO-06)."""

    step_key: str
    step_name: str
    setting: str
    label: str

    def as_json(self) -> dict[str, str]:
        return {
            "stepKey": self.step_key,
            "stepName": self.step_name,
            "setting": self.setting,
            "label": self.label,
        }


def header_is_secret(header: Header) -> bool:
    """WF-IO-03: flagged secret, or by default Authorization and names with token, key or secret."""
    return header.secret if header.secret is not None else bool(_SECRET_NAME.search(header.name))


def without_secrets(definition: WorkflowDefinition) -> WorkflowDefinition:
    """A copy whose secret HTTP header values are empty."""
    copy = definition.model_copy(deep=True)
    for step in copy.steps:
        if isinstance(step, HttpRequestStep):
            for header in step.config.headers:
                if header_is_secret(header):
                    header.value = ""
    return copy


def with_natural_keys(definition: WorkflowDefinition, catalog: Catalog) -> WorkflowDefinition:
    """A copy whose refs carry the current key and label of the object they name (for export)."""
    copy = definition.model_copy(deep=True)

    def refresh(ref: Ref, _path: str) -> Ref | None:
        if ref.id is not None and (found := catalog.natural_key(ref.ref, ref.id)) is not None:
            ref.key, ref.label = found
        return ref

    _walk_refs(copy, refresh, "")
    return copy


def resolve_references(
    definition: WorkflowDefinition, catalog: Catalog
) -> tuple[WorkflowDefinition, list[Stripped]]:
    """Re-points refs at the target workspace: by id when the id is there and names the same object,
    else by natural key; what resolves to nothing is emptied and reported (WF-IO-05/06).
    Tags are matched, never created."""
    copy = definition.model_copy(deep=True)
    stripped: list[Stripped] = []
    for owner_key, owner_name, node in _owners(copy):

        def resolve(ref: Ref, path: str, key: str = owner_key, name: str = owner_name) -> Ref | None:
            if ref.is_empty:
                return ref
            by_id = None if ref.id is None else catalog.natural_key(ref.ref, ref.id)
            if by_id is not None and (not ref.key or by_id[0].casefold() == ref.key.casefold()):
                return ref.model_copy(update={"key": by_id[0], "label": by_id[1]})
            found = None if not ref.key else catalog.find(ref.ref, ref.key)
            if found is not None:
                natural = catalog.natural_key(ref.ref, found)
                assert natural is not None
                return ref.model_copy(update={"id": found, "key": natural[0], "label": natural[1]})
            stripped.append(Stripped(key, name, path, ref.label or ref.key or str(ref.id)))
            return Ref(ref=ref.ref)

        _walk_refs(node, resolve, "")
        _resolve_field_names(node, catalog, owner_key, owner_name, stripped)
    return copy, stripped


def _owners(definition: WorkflowDefinition) -> list[tuple[str, str, BaseModel]]:
    owners: list[tuple[str, str, BaseModel]] = []
    if definition.trigger is not None:
        owners.append(("trigger", "Trigger", definition.trigger))
    owners.extend((step.key, step.name, step) for step in definition.steps)
    return owners


def _walk_refs(node: Any, visit: Any, path: str) -> Any:
    """Applies visit(ref, path) to every Ref under `node`, replacing it with the result."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            new = _walk_refs(value, visit, f"{path}.{name}" if path else name)
            if new is not value:
                setattr(node, name, new)
        return node if not isinstance(node, Ref) else visit(node, path)
    if isinstance(node, list):
        return [_walk_refs(item, visit, f"{path}[{i}]") for i, item in enumerate(node)]
    if isinstance(node, dict):
        return {k: _walk_refs(v, visit, f"{path}.{k}") for k, v in node.items()}
    return node


def _resolve_field_names(
    node: BaseModel, catalog: Catalog, key: str, name: str, stripped: list[Stripped]
) -> None:
    """Contact fields are named by slug; a slug the workspace lacks is emptied."""

    def known(field: str) -> bool:
        lowered = field.strip().lower()
        return lowered in STANDARD_FIELDS or lowered in catalog.fields or lowered in ("phone", "email")

    def strip(setting: str, label: str) -> None:
        stripped.append(Stripped(key, name, setting, label))

    if isinstance(node, UpdateFieldStep):
        for index, row in enumerate(node.config.rows):
            if row.field and not known(row.field):
                strip(f"config.rows[{index}].field", row.field)
                row.field = ""
    elif isinstance(node, AskQuestionStep):
        if node.config.save_field and not known(node.config.save_field):
            strip("config.save_field", node.config.save_field)
            node.config.save_field = ""  # emptied, not None: validation flags it until a field is chosen
    elif isinstance(node, ContactFieldUpdatedTrigger):
        kept = [field for field in node.config.fields if known(field)]
        for field in node.config.fields:
            if not known(field):
                strip("config.fields", field)
        node.config.fields = kept
    for condition, path in _conditions(node):
        if condition.category == "contact_field" and condition.field and not known(condition.field):
            strip(f"{path}.field", condition.field)
            condition.field = None


def _conditions(node: Any, path: str = "") -> list[tuple[Condition, str]]:
    found: list[tuple[Condition, str]] = []
    if isinstance(node, Condition):
        return [(node, path)]
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            found += _conditions(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _conditions(item, f"{path}[{index}]")
    elif isinstance(node, dict):
        for k, v in node.items():
            found += _conditions(v, f"{path}.{k}")
    return found
