"""Loop detection across workflows at publish (WF-LOOP-01..03).

Each workflow's steps cause events (WF-LOOP-02); each published trigger consumes some. If the
workflow being published can, through those links, fire its own trigger again (itself, A→B→A, or a
longer cycle), publishing is refused with the cycle named. Trigger conditions count as true; only the
trigger type, the tag / field / stage lists, the change kind and the sources separate (WF-LOOP-03).
"""

from __future__ import annotations

from dataclasses import dataclass

from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.refs import Ref
from convoflow.workflows.definition.steps import (
    AskQuestionStep,
    AssignToStep,
    CloseConversationStep,
    OpenConversationStep,
    Step,
    TriggerWorkflowStep,
    UpdateFieldStep,
    UpdateLifecycleStep,
    UpdateTagStep,
)
from convoflow.workflows.definition.triggers import (
    AssigneeUpdatedTrigger,
    ContactFieldUpdatedTrigger,
    ContactTagUpdatedTrigger,
    ConversationClosedTrigger,
    ConversationOpenedTrigger,
    LifecycleUpdatedTrigger,
    ManualTrigger,
    Trigger,
)


@dataclass(frozen=True, slots=True)
class Effect:
    """An event a step can cause. `values` are folded tag names, field names or stage keys."""

    kind: (
        str  # tag_added | tag_removed | field | lifecycle | opened | closed | assigned | unassigned | manual
    )
    values: frozenset[str] = frozenset()
    user: str | None = None  # assign_to a specific user
    workflow_id: int | None = None  # trigger_workflow target


@dataclass(frozen=True, slots=True)
class Hop:
    workflow_id: int
    workflow_name: str
    step_key: str
    step_name: str


@dataclass(frozen=True, slots=True)
class Loop:
    hops: tuple[Hop, ...]  # each hop's step fires the next hop's workflow; the last fires the first

    def describe(self) -> str:
        names = [f"{hop.workflow_name} (step {hop.step_name!r})" for hop in self.hops]
        return " → ".join([*names, self.hops[0].workflow_name])


@dataclass(frozen=True, slots=True)
class Candidate:
    workflow_id: int
    name: str
    definition: WorkflowDefinition


def _ref_key(ref: Ref) -> str:
    if ref.id is not None:
        return f"#{ref.id}"
    return (ref.key or ref.label or "").strip().casefold()


def _ref_keys(ref: Ref) -> set[str]:
    """Keys a ref may match by: its id and its natural name (a tag added by name before it exists)."""
    keys = {f"#{ref.id}"} if ref.id is not None else set()
    for text in (ref.key, ref.label):
        if text:
            keys.add(text.strip().casefold())
    return keys


def step_effects(step: Step) -> list[Effect]:
    """WF-LOOP-02: the events a step can cause."""
    match step:
        case UpdateTagStep():
            kind = "tag_added" if step.config.action == "add" else "tag_removed"
            return [Effect(kind, frozenset(k for ref in step.config.tags for k in _ref_keys(ref)))]
        case UpdateFieldStep():
            return [
                Effect("field", frozenset(row.field.strip().lower() for row in step.config.rows if row.field))
            ]
        case AskQuestionStep():
            effects = []
            if step.config.save_field:
                effects.append(Effect("field", frozenset({step.config.save_field.strip().lower()})))
            if step.config.save_tag:
                effects.append(
                    Effect("tag_added", frozenset(o.strip().casefold() for o in step.config.options))
                )
            return effects
        case UpdateLifecycleStep():
            stage = None if step.config.clear or step.config.stage is None else step.config.stage
            return [Effect("lifecycle", frozenset(_ref_keys(stage)) if stage else frozenset({"<none>"}))]
        case OpenConversationStep():
            return [Effect("opened")]
        case CloseConversationStep():
            return [Effect("closed")]
        case AssignToStep():
            if step.config.action == "unassign":
                return [Effect("unassigned")]
            user = _ref_key(step.config.user) if step.config.action == "user" and step.config.user else None
            return [Effect("assigned", user=user)]
        case TriggerWorkflowStep():
            target = step.config.workflow
            return [Effect("manual", workflow_id=target.id)] if target and target.id is not None else []
        case _:
            return []


def fires(effect: Effect, trigger: Trigger | None, workflow_id: int) -> bool:
    """Whether `effect` can fire `trigger` of workflow `workflow_id` (WF-LOOP-03)."""
    match trigger:
        case ContactTagUpdatedTrigger():
            wanted = "tag_added" if trigger.config.action == "added" else "tag_removed"
            names = {k for ref in trigger.config.tags for k in _ref_keys(ref)}
            return effect.kind == wanted and bool(effect.values & names)
        case ContactFieldUpdatedTrigger():
            fields = {name.strip().lower() for name in trigger.config.fields}
            return effect.kind == "field" and bool(effect.values & fields)
        case LifecycleUpdatedTrigger():
            if effect.kind != "lifecycle":
                return False
            to = trigger.config.to_stage
            if to.mode == "any":
                return True
            if to.mode == "none":
                return "<none>" in effect.values
            return bool(effect.values & {k for ref in to.stages for k in _ref_keys(ref)})
        case ConversationOpenedTrigger():
            return effect.kind == "opened" and "workflow" in trigger.config.sources
        case ConversationClosedTrigger():
            return effect.kind == "closed" and "workflow" in trigger.config.sources
        case AssigneeUpdatedTrigger():
            config = trigger.config
            if effect.kind not in ("assigned", "unassigned") or "workflow" not in config.sources:
                return False
            if config.change not in ("any", effect.kind):
                return False
            if effect.kind == "assigned" and effect.user and config.users and not config.teams:
                return effect.user in {_ref_key(ref) for ref in config.users}
            return True
        case ManualTrigger():
            return effect.kind == "manual" and effect.workflow_id == workflow_id
        case _:
            return False


def find_loop(candidate: Candidate, published: list[Candidate]) -> Loop | None:
    """A cycle through `candidate` among it and the published workflows, or None."""
    workflows = {c.workflow_id: c for c in published if c.workflow_id != candidate.workflow_id}
    workflows[candidate.workflow_id] = candidate
    links: dict[int, list[tuple[int, Step]]] = {}
    for source in workflows.values():
        for step in source.definition.steps:
            for effect in step_effects(step):
                for target in workflows.values():
                    if fires(effect, target.definition.trigger, target.workflow_id):
                        links.setdefault(source.workflow_id, []).append((target.workflow_id, step))
    path: list[Hop] = []
    visited: set[int] = set()

    def search(workflow_id: int) -> bool:
        for target_id, step in links.get(workflow_id, []):
            workflow = workflows[workflow_id]
            path.append(Hop(workflow_id, workflow.name, step.key, step.name))
            if target_id == candidate.workflow_id:
                return True
            if target_id not in visited:
                visited.add(target_id)
                if search(target_id):
                    return True
            path.pop()
        return False

    return Loop(tuple(path)) if search(candidate.workflow_id) else None
