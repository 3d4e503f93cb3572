"""What validation knows about the workspace: its objects by id, as plain data (no database here)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CatalogUser:
    id: int
    email: str
    name: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class CatalogChannel:
    id: int
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class CatalogField:
    slug: str
    name: str
    type: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CatalogWorkflow:
    id: int
    name: str
    trigger_type: str | None
    state: str
    inputs: tuple[str, ...] = ()  # Manual trigger inputs


@dataclass(frozen=True)
class Catalog:
    """Everything a definition may refer to. Names are as shown; lookups by natural key ignore case."""

    users: dict[int, CatalogUser] = field(default_factory=dict)
    teams: dict[int, str] = field(default_factory=dict)
    channels: dict[int, CatalogChannel] = field(default_factory=dict)
    fields: dict[str, CatalogField] = field(default_factory=dict)  # custom fields by slug
    tags: dict[int, str] = field(default_factory=dict)
    stages: dict[int, str] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)
    workflows: dict[int, CatalogWorkflow] = field(default_factory=dict)
    closing_category_required: bool = False
    closing_summary_required: bool = False  # CRM-CONV-04 "Category and summary required"
    workflow_id: int | None = None  # the workflow being validated

    def natural_key(self, kind: str, ref_id: int) -> tuple[str, str] | None:
        """(key, label) of an object, or None when the workspace has no such id (WF-IO-02)."""
        match kind:
            case "user":
                user = self.users.get(ref_id)
                return None if user is None else (user.email, user.name)
            case "channel":
                channel = self.channels.get(ref_id)
                return None if channel is None else (f"{channel.kind}:{channel.name}", channel.name)
            case "workflow":
                workflow = self.workflows.get(ref_id)
                return None if workflow is None else (workflow.name, workflow.name)
        name = self._names(kind).get(ref_id)
        return None if name is None else (name, name)

    def find(self, kind: str, key: str) -> int | None:
        """The id whose natural key is `key`, ignoring case."""
        wanted = key.strip().casefold()
        match kind:
            case "user":
                return next((u.id for u in self.users.values() if u.email.casefold() == wanted), None)
            case "channel":
                return next(
                    (c.id for c in self.channels.values() if f"{c.kind}:{c.name}".casefold() == wanted), None
                )
            case "workflow":
                return next((w.id for w in self.workflows.values() if w.name.casefold() == wanted), None)
        return next((i for i, name in self._names(kind).items() if name.casefold() == wanted), None)

    def _names(self, kind: str) -> dict[int, str]:
        return {"team": self.teams, "tag": self.tags, "stage": self.stages, "category": self.categories}.get(
            kind, {}
        )

    def has(self, kind: str, ref_id: int) -> bool:
        table: dict[int, object] = {
            "user": self.users,
            "team": self.teams,
            "channel": self.channels,
            "tag": self.tags,
            "stage": self.stages,
            "category": self.categories,
            "workflow": self.workflows,
        }.get(kind, {})  # type: ignore[assignment]
        return ref_id in table
