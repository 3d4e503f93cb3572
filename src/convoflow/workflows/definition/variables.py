"""Dynamic variables in texts (WF-VAR-01): `$namespace.name`, `$$` for a literal dollar sign."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

NAMESPACES = frozenset({"contact", "assignee", "system", "trigger", "var"})
# `$$`, or `$` + namespace + one or more `.name` parts; a token ends at the first other character.
_TOKEN = re.compile(r"\$\$|\$([A-Za-z][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_]+)+)")

CONTACT_STANDARD = frozenset(
    {"id", "name", "firstname", "lastname", "email", "phone", "language", "country", "lifecycle"}
)
ASSIGNEE_VARIABLES = frozenset({"id", "name", "firstname", "lastname", "email", "team"})
SYSTEM_VARIABLES = frozenset({"current_datetime", "current_date", "current_time"})


@dataclass(frozen=True, slots=True)
class Token:
    namespace: str  # lower case
    path: str  # lower case, dotted: "firstname", "user.name"
    text: str  # as written
    start: int
    end: int


def tokens(text: str) -> Iterator[Token]:
    """Every variable token in `text` whose namespace is known; other `$words` are plain text."""
    for match in _TOKEN.finditer(text):
        if match.group(0) == "$$":
            continue
        namespace = match.group(1).lower()
        if namespace in NAMESPACES:
            yield Token(namespace, match.group(2)[1:].lower(), match.group(0), match.start(), match.end())


def render(text: str, resolve: Callable[[Token], str | None]) -> str:
    """Replaces each token by `resolve(token)`; a known variable without value renders empty (WF-VAR-04)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        namespace = match.group(1).lower()
        if namespace not in NAMESPACES:
            return match.group(0)
        token = Token(namespace, match.group(2)[1:].lower(), match.group(0), match.start(), match.end())
        return resolve(token) or ""

    return _TOKEN.sub(replace, text)
