"""The small JSON path dialect of webhook and HTTP mappings: `$.a.b[1].c` (WF-TRG-HOOK-02, WF-STEP-HTTP)."""

from __future__ import annotations

import re
from typing import Any

_PATH = re.compile(r"^\$((\.[A-Za-z_][A-Za-z0-9_\-]*)|(\[\d{1,6}\]))*$")
_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d{1,6})\]")
_MISSING = object()


def is_valid(path: str) -> bool:
    return len(path) <= 500 and bool(_PATH.match(path))


def extract(document: Any, path: str) -> Any:
    """The value at `path`, or None when any part is missing. `path` must be valid."""
    current: Any = document
    for name, index in _PART.findall(path):
        if name:
            current = current.get(name, _MISSING) if isinstance(current, dict) else _MISSING
        else:
            position = int(index)
            current = current[position] if isinstance(current, list) and position < len(current) else _MISSING
        if current is _MISSING:
            return None
    return current
