"""A configuration error of a definition, in the shape the builder shows (WF-BLD-06)."""

from __future__ import annotations

from dataclasses import dataclass, field

TRIGGER_KEY = "trigger"


@dataclass(frozen=True, slots=True)
class Problem:
    step_key: str | None  # a step key, "trigger", or None for the workflow as a whole
    field: str  # where in the step: "config.text", "outputs.next", ...
    code: str
    message: str
    step_name: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "stepKey": self.step_key,
            "stepName": self.step_name,
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class Problems:
    """Collects problems for one step (or the trigger) at a time."""

    items: list[Problem] = field(default_factory=list)
    step_key: str | None = None
    step_name: str | None = None

    def at(self, step_key: str | None, step_name: str | None = None) -> Problems:
        return Problems(self.items, step_key, step_name)

    def add(self, field_path: str, code: str, message: str) -> None:
        self.items.append(Problem(self.step_key, field_path, code, message, self.step_name))
