"""Checking each step's configuration (workflows.md §8)."""

from __future__ import annotations

import re
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from convoflow.workflows.definition import jsonpath, limits
from convoflow.workflows.definition.catalog import Catalog
from convoflow.workflows.definition.check_conditions import check_group
from convoflow.workflows.definition.check_refs import (
    KnownVariables,
    check_ref,
    check_refs,
    contact_field_type,
)
from convoflow.workflows.definition.conditions import BRANCH_CATEGORIES
from convoflow.workflows.definition.problems import Problems
from convoflow.workflows.definition.steps import (
    AddCommentStep,
    AskQuestionStep,
    AssignToStep,
    BranchStep,
    CloseConversationStep,
    DateTimeStep,
    EmailOptions,
    HttpRequestStep,
    Interval,
    JumpToStep,
    Media,
    SendMessageStep,
    Step,
    TriggerWorkflowStep,
    UpdateFieldStep,
    UpdateLifecycleStep,
    UpdateTagStep,
    WaitStep,
)

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# WF-STEP-ASK-05: which field types each question type may be saved into.
SAVE_TARGETS: dict[str, set[str]] = {
    "text": {"text"},
    "location": {"text"},
    "multiple_choice": {"text", "list"},
    "number": {"number", "text"},
    "rating": {"number", "text"},
    "date": {"date", "text"},
    "phone": {"phone", "text"},
    "email": {"email", "text"},
    "url": {"url", "text"},
}
NOT_SETTABLE = {"id", "profile_pic"}


def check_step(out: Problems, step: Step, keys: set[str], catalog: Catalog, known: KnownVariables) -> None:
    """Config errors of one step; `keys` are the workflow's step keys (Jump To targets)."""
    match step:
        case SendMessageStep():
            _send_message(out, step, catalog, known)
        case AskQuestionStep():
            _ask_question(out, step, catalog, known)
        case AssignToStep():
            _assign_to(out, step, catalog)
        case BranchStep():
            if not step.config.branches:
                out.add("config.branches", "required", "Add at least one branch")
            for index, branch in enumerate(step.config.branches):
                if not branch.name.strip():
                    out.add(f"config.branches[{index}].name", "required", "Name the branch")
                check_group(
                    out,
                    f"config.branches[{index}]",
                    branch,
                    catalog,
                    known,
                    categories=BRANCH_CATEGORIES,
                    required=True,
                )
        case UpdateTagStep():
            if not step.config.tags:
                out.add("config.tags", "required", "Choose at least one tag")
            for index, ref in enumerate(step.config.tags):
                check_ref(
                    out,
                    f"config.tags[{index}]",
                    ref,
                    catalog,
                    kind="tag",
                    allow_new=step.config.action == "add",
                )
        case UpdateFieldStep():
            _update_field(out, step, catalog, known)
        case UpdateLifecycleStep():
            if not step.config.clear:
                check_ref(out, "config.stage", step.config.stage, catalog, kind="stage")
        case CloseConversationStep():
            check_ref(
                out,
                "config.category",
                step.config.category,
                catalog,
                kind="category",
                required=catalog.closing_category_required,
            )
            if catalog.closing_summary_required and not step.config.summary.strip():
                out.add("config.summary", "required", "This workspace requires a closing summary")
            known.check_text(out, "config.summary", step.config.summary)
        case AddCommentStep():
            if not step.config.text.strip():
                out.add("config.text", "required", "Write the comment")
            known.check_text(out, "config.text", step.config.text)
            check_refs(out, "config.mentions", step.config.mentions, catalog, kind="user")
        case JumpToStep():
            if not step.config.target:
                out.add("config.target", "required", "Choose the step to jump to")
            elif step.config.target == step.key:
                out.add("config.target", "jump_to_self", "A Jump To cannot target itself")
            elif step.config.target not in keys:
                out.add("config.target", "jump_target_missing", "The target step no longer exists")
        case WaitStep():
            if not limits.MIN_WAIT_SECONDS <= step.config.seconds <= limits.MAX_WAIT_SECONDS:
                out.add("config.amount", "out_of_range", "Wait between 1 minute and 7 days")
        case DateTimeStep():
            _date_time(out, step)
        case HttpRequestStep():
            _http_request(out, step, known)
        case TriggerWorkflowStep():
            _trigger_workflow(out, step, catalog, known)


def _send_message(out: Problems, step: SendMessageStep, catalog: Catalog, known: KnownVariables) -> None:
    config = step.config
    check_ref(out, "config.channel", config.channel, catalog, kind="channel", required=False)
    if not config.text.strip() and config.media is None:
        out.add("config.text", "required", "Write the message or choose a media file")
    known.check_text(out, "config.text", config.text)
    _check_media(out, "config.media", config.media)
    seen: set[int] = set()
    for index, response in enumerate(config.channel_responses):
        path = f"config.channel_responses[{index}]"
        check_ref(out, f"{path}.channel", response.channel, catalog, kind="channel")
        if response.channel.id is not None:
            if response.channel.id in seen:
                out.add(f"{path}.channel", "duplicate", "One response per channel")
            seen.add(response.channel.id)
        known.check_text(out, f"{path}.text", response.text)
        if response.kind == "text" and not response.text.strip():
            out.add(f"{path}.text", "required", "Write the message")
        if response.kind == "media" and response.media is None:
            out.add(f"{path}.media", "required", "Choose a media file")
        if response.kind == "whatsapp_template" and response.template is None:
            out.add(f"{path}.template", "required", "Choose a template")
        if response.kind == "custom_payload" and response.payload is None:
            out.add(f"{path}.payload", "required", "Give the payload")
        _check_media(out, f"{path}.media", response.media)
        for number, parameter in enumerate(response.template.parameters if response.template else []):
            known.check_text(out, f"{path}.template.parameters[{number}]", parameter)
        if response.email is not None:
            _check_email(out, f"{path}.email", response.email, known)
    if config.email is not None:
        _check_email(out, "config.email", config.email, known)


def _check_media(out: Problems, path: str, media: Media | None) -> None:
    if media is not None and not media.url.strip().lower().startswith(("http://", "https://")):
        out.add(f"{path}.url", "invalid_url", "Media must be an http(s) URL")


def _check_email(out: Problems, path: str, email: EmailOptions, known: KnownVariables) -> None:
    known.check_text(out, f"{path}.subject", email.subject)
    for index, attachment in enumerate(email.attachments):
        _check_media(out, f"{path}.attachments[{index}]", attachment)


def _ask_question(out: Problems, step: AskQuestionStep, catalog: Catalog, known: KnownVariables) -> None:
    config = step.config
    if not config.question.strip():
        out.add("config.question", "required", "Write the question")
    known.check_text(out, "config.question", config.question)
    known.check_text(out, "config.invalid_message", config.invalid_message)
    if config.question_type == "multiple_choice":
        if not config.options:
            out.add("config.options", "required", "Add at least one option")
        folded = [option.strip().casefold() for option in config.options]
        if any(not option for option in folded):
            out.add("config.options", "required", "Options cannot be empty")
        if len(set(folded)) != len(folded):
            out.add("config.options", "duplicate", "Options must be unique")
    elif config.options:
        out.add("config.options", "not_allowed", "Only multiple-choice questions have options")
    if config.save_tag and config.question_type != "multiple_choice":
        out.add("config.save_tag", "not_allowed", "Only multiple-choice answers can be saved as a tag")
    if config.min_value is not None and config.max_value is not None and config.min_value > config.max_value:
        out.add("config.min_value", "invalid_value", "The minimum is above the maximum")
    if config.save_field is not None and not config.save_field.strip():
        out.add("config.save_field", "required", "Choose the contact field to save the answer in")
    elif config.save_field:
        name = config.save_field.strip().lower()
        field_type = (
            "phone" if name == "phone" else "email" if name == "email" else contact_field_type(catalog, name)
        )
        if field_type is None:
            out.add(
                "config.save_field",
                "reference_missing",
                f"The contact field {config.save_field!r} does not exist",
            )
        elif name in NOT_SETTABLE or field_type not in SAVE_TARGETS[config.question_type]:
            out.add(
                "config.save_field",
                "incompatible_field",
                f"A {config.question_type} answer cannot be saved in this field",
            )
        elif field_type == "list":
            allowed = {option.casefold() for option in catalog.fields[name].options}
            if not {option.strip().casefold() for option in config.options} <= allowed:
                out.add(
                    "config.save_field",
                    "incompatible_field",
                    "Every option must be an allowed value of the list field",
                )


def _assign_to(out: Problems, step: AssignToStep, catalog: Catalog) -> None:
    config = step.config
    if config.action == "user":
        check_ref(out, "config.user", config.user, catalog, kind="user")
    if config.action == "team":
        check_ref(out, "config.team", config.team, catalog, kind="team")


def _update_field(out: Problems, step: UpdateFieldStep, catalog: Catalog, known: KnownVariables) -> None:
    rows = step.config.rows
    if not rows:
        out.add("config.rows", "required", "Add at least one field")
    seen: set[str] = set()
    for index, row in enumerate(rows):
        path = f"config.rows[{index}]"
        name = row.field.strip().lower()
        if not name:
            out.add(f"{path}.field", "required", "Choose a contact field")
            continue
        if name in NOT_SETTABLE:
            out.add(f"{path}.field", "not_settable", f"{row.field} cannot be set by a workflow")
        elif contact_field_type(catalog, name) is None:
            out.add(f"{path}.field", "reference_missing", f"The contact field {row.field!r} does not exist")
        if name in seen:
            out.add(f"{path}.field", "duplicate", f"{row.field} is set twice")
        seen.add(name)
        if not row.clear and not row.value.strip():
            out.add(f"{path}.value", "required", "Enter a value or choose to clear the field")
        known.check_text(out, f"{path}.value", row.value)


def _zone_ok(name: str | None) -> bool:
    if name is None:
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _intervals_ok(intervals: list[Interval]) -> str | None:
    if len(intervals) > 3:
        return "At most 3 intervals a day"
    ordered = sorted(intervals, key=lambda i: i.start)
    for interval in ordered:
        if interval.end <= interval.start:
            return "An interval must end after it starts"
    for earlier, later in pairwise(ordered):
        if later.start < earlier.end:
            return "Intervals overlap"
    return None


def _date_time(out: Problems, step: DateTimeStep) -> None:
    config = step.config
    if not _zone_ok(config.timezone):
        out.add("config.timezone", "invalid_value", f"Unknown time zone {config.timezone!r}")
    if config.mode == "business_hours" and not config.use_workspace_hours:
        if not any(config.days.values()):
            out.add("config.days", "required", "Open at least one interval")
        for day, intervals in config.days.items():
            problem = _intervals_ok(intervals)
            if problem:
                out.add(f"config.days.{day}", "invalid_value", problem)
    if config.mode == "date_range":
        if not config.start or not config.end:
            out.add("config.start", "required", "Give the start and end of the range")
        else:
            try:
                if datetime.fromisoformat(config.start) >= datetime.fromisoformat(config.end):
                    out.add("config.end", "invalid_value", "The range must end after it starts")
            except ValueError:
                out.add("config.start", "invalid_value", "Dates look like 2026-01-31T09:00")


def _http_request(out: Problems, step: HttpRequestStep, known: KnownVariables) -> None:
    config = step.config
    if not config.url.strip():
        out.add("config.url", "required", "Give the URL")
    elif not config.url.strip().lower().startswith(("http://", "https://")):
        out.add("config.url", "invalid_url", "The URL must start with http:// or https://")
    known.check_text(out, "config.url", config.url)
    for index, header in enumerate(config.headers):
        if not _HEADER_NAME.match(header.name):
            out.add(
                f"config.headers[{index}].name",
                "invalid_value",
                "Header names use letters, digits and - only",
            )
        known.check_text(out, f"config.headers[{index}].value", header.value)
    if config.method == "GET" and config.body_type != "none":
        out.add("config.body_type", "not_allowed", "GET requests have no body")
    elif config.method == "GET" and config.body.strip():
        out.add("config.body", "not_allowed", "GET requests have no body")
    known.check_text(out, "config.body", config.body)
    variables = [m.variable for m in config.mappings] + (
        [config.status_variable] if config.status_variable else []
    )
    if len(set(variables)) != len(variables):
        out.add("config.mappings", "duplicate", "Each variable is set once")
    for index, mapping in enumerate(config.mappings):
        if not jsonpath.is_valid(mapping.path):
            out.add(f"config.mappings[{index}].path", "invalid_path", "Use a JSON path such as $.data.phone")


def _trigger_workflow(
    out: Problems, step: TriggerWorkflowStep, catalog: Catalog, known: KnownVariables
) -> None:
    config = step.config
    check_ref(out, "config.workflow", config.workflow, catalog, kind="workflow")
    target = (
        None
        if config.workflow is None or config.workflow.id is None
        else catalog.workflows.get(config.workflow.id)
    )
    if target is None:
        return
    if target.id == catalog.workflow_id:
        out.add("config.workflow", "not_allowed", "A workflow cannot trigger itself")
    if target.trigger_type != "manual":
        out.add("config.workflow", "not_manual", f"{target.name!r} does not start with a Manual trigger")
    for name, value in config.inputs.items():
        if name not in target.inputs:
            out.add(f"config.inputs.{name}", "unknown_input", f"{target.name!r} has no input {name!r}")
        known.check_text(out, f"config.inputs.{name}", value)
