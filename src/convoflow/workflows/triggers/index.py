"""The in-memory trigger index: (workspace, event type) → published triggers (DESIGN §3.10).

Each process keeps its own copy and reloads a workspace's slice when that workspace's
`workflow_revision` moved (every publish and stop bumps it), so a stale index never outlives a
publish; enrolment also re-checks that the workflow is still published.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.triggers import Trigger
from convoflow.workflows.triggers.matchers import EVENT_TRIGGERS


@dataclass(frozen=True)
class PublishedTrigger:
    workflow_id: int
    workflow_name: str
    version_id: int
    definition: WorkflowDefinition

    @property
    def trigger(self) -> Trigger | None:
        return self.definition.trigger


Loader = Callable[[int], list[PublishedTrigger]]


class TriggerIndex:
    def __init__(self) -> None:
        self._slices: dict[int, tuple[int, dict[str, list[PublishedTrigger]]]] = {}
        self._lock = threading.Lock()

    def candidates(
        self, *, workspace_id: int, revision: int, event_type: str, load: Loader
    ) -> list[PublishedTrigger]:
        """Published workflows whose trigger type listens to `event_type`."""
        trigger_type = EVENT_TRIGGERS.get(event_type)
        if trigger_type is None:
            return []
        with self._lock:
            cached = self._slices.get(workspace_id)
        if cached is None or cached[0] != revision:
            by_type: dict[str, list[PublishedTrigger]] = {}
            for published in load(workspace_id):
                if published.trigger is not None:
                    by_type.setdefault(published.trigger.type, []).append(published)
            cached = (revision, by_type)
            with self._lock:
                self._slices[workspace_id] = cached
        return cached[1].get(trigger_type, [])
