"""Texts a database can store: PostgreSQL refuses the NUL character anywhere in text or JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from convoflow.workflows.definition.problems import TRIGGER_KEY, Problem

NUL = "\x00"


def _paths(node: Any, path: str) -> Iterator[str]:
    """Where a JSON document holds U+0000 (in a text or a key): PostgreSQL stores no NUL character."""
    if isinstance(node, str):
        if NUL in node:
            yield path
    elif isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield here
            else:
                yield from _paths(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _paths(item, f"{path}[{index}]")


def nul_problems(raw: Any) -> list[Problem]:
    """A NUL character anywhere in a definition is a configuration error of the step holding it."""
    found: list[tuple[str | None, str | None, str]] = []  # (step key, step name, field)
    if not isinstance(raw, dict):
        found += [(None, None, path or "document") for path in _paths(raw, "")]
    else:
        for name, value in raw.items():
            if NUL in str(name):
                found.append((None, None, "document"))
            elif name == "steps" and isinstance(value, list):
                for index, item in enumerate(value):
                    step = item if isinstance(item, dict) else {}
                    key, label = step.get("key"), step.get("name")
                    step_key = key if isinstance(key, str) and NUL not in key else f"steps[{index}]"
                    step_name = label if isinstance(label, str) and NUL not in label else None
                    found += [(step_key, step_name, path or "key") for path in _paths(item, "")]
            elif name == "trigger":
                found += [(TRIGGER_KEY, "Trigger", path or "type") for path in _paths(value, "")]
            else:
                found += [(None, None, path) for path in _paths(value, str(name))]
    message = "Texts cannot contain the NUL character"
    return [Problem(key, field, "invalid_character", message, name) for key, name, field in found]
