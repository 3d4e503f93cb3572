"""Checking references and variables against the workspace catalog."""

from __future__ import annotations

from collections.abc import Iterable

from convoflow.workflows.definition import variables
from convoflow.workflows.definition.catalog import Catalog
from convoflow.workflows.definition.conditions import STANDARD_FIELDS
from convoflow.workflows.definition.problems import Problems
from convoflow.workflows.definition.refs import Ref

_NOUN = {
    "user": "user",
    "team": "team",
    "channel": "channel",
    "tag": "tag",
    "stage": "lifecycle stage",
    "category": "closing category",
    "workflow": "workflow",
    "field": "contact field",
}


def check_ref(
    out: Problems,
    path: str,
    ref: Ref | None,
    catalog: Catalog,
    *,
    kind: str,
    required: bool = True,
    allow_new: bool = False,
) -> None:
    """Empty and required → `required`; unknown id → `reference_missing`; deactivated user → its own code.

    `allow_new` accepts a ref with a key but no id (a tag Update Contact Tag creates on save).
    """
    noun = _NOUN[kind]
    if ref is None or ref.is_empty:
        if required:
            out.add(path, "required", f"Choose a {noun}")
        return
    if ref.ref != kind:
        out.add(path, "wrong_reference", f"Expected a {noun}, got a {_NOUN.get(ref.ref, ref.ref)}")
        return
    if ref.id is None:
        if not allow_new:
            out.add(
                path,
                "reference_missing",
                f"The {noun} {ref.label or ref.key!r} does not exist in this workspace",
            )
        return
    if not catalog.has(kind, ref.id):
        out.add(path, "reference_missing", f"The {noun} {ref.label or ref.key or ref.id!r} no longer exists")
        return
    if kind == "user" and not catalog.users[ref.id].active:
        out.add(path, "user_deactivated", f"The user {catalog.users[ref.id].name!r} is deactivated")


def check_refs(out: Problems, path: str, refs: Iterable[Ref], catalog: Catalog, *, kind: str) -> None:
    for index, ref in enumerate(refs):
        check_ref(out, f"{path}[{index}]", ref, catalog, kind=kind)


def contact_field_type(catalog: Catalog, name: str) -> str | None:
    """The value type of a standard field name or custom slug, or None when unknown."""
    key = name.strip().lower()
    if key in STANDARD_FIELDS:
        return STANDARD_FIELDS[key]
    custom = catalog.fields.get(key)
    return None if custom is None else custom.type


class KnownVariables:
    """Which `$namespace.name` tokens mean something in this workflow (WF-VAR-02/04)."""

    def __init__(self, catalog: Catalog, trigger_paths: set[str], var_names: set[str]) -> None:
        self.contact = variables.CONTACT_STANDARD | set(catalog.fields)
        self.trigger = trigger_paths
        self.var = var_names | {"last_error"}

    def knows(self, token: variables.Token) -> bool:
        match token.namespace:
            case "contact":
                return token.path in self.contact
            case "assignee":
                return token.path in variables.ASSIGNEE_VARIABLES
            case "system":
                return token.path in variables.SYSTEM_VARIABLES
            case "trigger":
                return token.path in self.trigger
            case _:
                return token.path in self.var

    def check_text(self, out: Problems, path: str, text: str) -> None:
        for token in variables.tokens(text):
            if not self.knows(token):
                out.add(path, "unknown_variable", f"{token.text} is not a known variable")
