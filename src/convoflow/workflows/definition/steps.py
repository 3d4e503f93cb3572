"""Step types, their configuration and outputs (workflows.md §8)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from convoflow.workflows.definition import limits
from convoflow.workflows.definition.conditions import ConditionGroup
from convoflow.workflows.definition.refs import Ref
from convoflow.workflows.definition.triggers import VariableName

Text2000 = Annotated[str, Field(max_length=limits.MESSAGE_MAX)]
Seconds = Annotated[int, Field(ge=limits.MIN_WAIT_SECONDS, le=limits.MAX_WAIT_SECONDS)]
StepKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Media(_Config):
    type: Literal["image", "video", "audio", "file"]
    url: str = Field(max_length=limits.HTTP_URL_MAX)
    name: str | None = Field(None, max_length=255)


class TemplateMessage(_Config):
    name: str = Field(max_length=512)
    language_code: str = Field(max_length=16)
    parameters: list[Text2000] = Field(default_factory=list, max_length=20)


class EmailOptions(_Config):
    subject: str = Field("", max_length=limits.EMAIL_SUBJECT_MAX)
    cc: list[Annotated[str, Field(max_length=320)]] = Field(default_factory=list, max_length=10)
    bcc: list[Annotated[str, Field(max_length=320)]] = Field(default_factory=list, max_length=10)
    attachments: list[Media] = Field(default_factory=list, max_length=limits.EMAIL_ATTACHMENTS_MAX)


class ChannelResponse(_Config):
    """WF-STEP-SEND-02: what to send instead of the default message on one channel."""

    channel: Ref
    kind: Literal["text", "media", "whatsapp_template", "email", "custom_payload"] = "text"
    text: Text2000 = ""
    media: Media | None = None
    template: TemplateMessage | None = None
    email: EmailOptions | None = None
    payload: dict[str, Any] | None = None


class SendMessageConfig(_Config):
    channel: Ref | None = Field(None, description="Empty: the contact's last interacted channel")
    text: Text2000 = ""
    media: Media | None = None
    channel_responses: list[ChannelResponse] = Field(default_factory=list, max_length=20)
    email: EmailOptions | None = None
    failure_branch: bool = False


QuestionType = Literal[
    "text", "multiple_choice", "number", "date", "phone", "email", "url", "rating", "location"
]


class AskQuestionConfig(_Config):
    question: Text2000 = ""
    question_type: QuestionType = "text"
    options: list[Annotated[str, Field(max_length=limits.CHOICE_OPTION_MAX)]] = Field(
        default_factory=list, max_length=limits.CHOICE_OPTIONS_MAX
    )
    min_value: float | None = None
    max_value: float | None = None
    save_field: str | None = Field(None, max_length=50, description="Standard field name or custom slug")
    save_variable: VariableName | None = None
    save_tag: bool = Field(False, description="Multiple choice only: tag named after the option")
    invalid_message: Text2000 = ""
    max_attempts: int = Field(3, ge=1, le=limits.ASK_ATTEMPTS_MAX)
    timeout_seconds: Seconds = limits.DEFAULT_TIMEOUT_SECONDS
    timeout_branch: bool = False
    failure_branch: bool = False


class AssignToConfig(_Config):
    action: Literal["user", "team", "workspace", "unassign"] = "user"
    user: Ref | None = None
    team: Ref | None = None
    logic: Literal["round_robin", "least_open"] = "round_robin"
    online_only: bool = False
    max_open_contacts: int | None = Field(None, ge=1, le=limits.CAPACITY_MAX)
    timeout_seconds: Seconds = limits.DEFAULT_TIMEOUT_SECONDS
    timeout_branch: bool = False


class Branch(ConditionGroup):
    """WF-STEP-BRANCH-01: a named condition group; the first that holds wins."""

    name: str = Field("", max_length=limits.BRANCH_NAME_MAX)


class BranchConfig(_Config):
    branches: list[Branch] = Field(default_factory=list, max_length=limits.MAX_BRANCHES)


class UpdateTagConfig(_Config):
    action: Literal["add", "remove"] = "add"
    tags: list[Ref] = Field(default_factory=list, max_length=limits.TAGS_PER_STEP_MAX)


class FieldRow(_Config):
    field: str = Field("", max_length=50, description="Standard field name or custom slug")
    value: Text2000 = ""
    clear: bool = False


class UpdateFieldConfig(_Config):
    rows: list[FieldRow] = Field(default_factory=list, max_length=limits.FIELD_ROWS_MAX)


class UpdateLifecycleConfig(_Config):
    stage: Ref | None = None
    clear: bool = False


class OpenConversationConfig(_Config):
    pass


class CloseConversationConfig(_Config):
    category: Ref | None = None
    summary: str = Field("", max_length=limits.SUMMARY_MAX)


class AddCommentConfig(_Config):
    text: str = Field("", max_length=limits.COMMENT_MAX)
    mentions: list[Ref] = Field(default_factory=list, max_length=20)


class JumpToConfig(_Config):
    target: str = Field("", max_length=40)
    max_jumps: int = Field(limits.DEFAULT_JUMPS, ge=1, le=limits.MAX_JUMPS)


class WaitConfig(_Config):
    amount: int = Field(1, ge=1, le=10_080)
    unit: Literal["minutes", "hours", "days"] = "hours"

    @property
    def seconds(self) -> int:
        return self.amount * {"minutes": 60, "hours": 3600, "days": 86400}[self.unit]


class Interval(_Config):
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class DateTimeConfig(_Config):
    mode: Literal["business_hours", "date_range"] = "business_hours"
    use_workspace_hours: bool = True
    timezone: str | None = Field(None, max_length=64, description="Empty: the workspace time zone")
    days: dict[Weekday, list[Interval]] = Field(default_factory=dict)
    start: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$", description="Local date-time")
    end: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")


class Header(_Config):
    name: str = Field("", max_length=256)
    value: str = Field("", max_length=8192)
    secret: bool | None = Field(None, description="Empty: secret when the name looks like a credential")


class ResponseMapping(_Config):
    path: str = Field("", max_length=500)
    variable: VariableName


class HttpRequestConfig(_Config):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str = Field("", max_length=limits.HTTP_URL_MAX)
    headers: list[Header] = Field(default_factory=list, max_length=limits.HTTP_HEADERS_MAX)
    body_type: Literal["none", "json", "form", "raw"] = "none"
    body: str = Field("", max_length=limits.HTTP_BODY_MAX)
    mappings: list[ResponseMapping] = Field(default_factory=list, max_length=limits.HTTP_MAPPINGS_MAX)
    status_variable: VariableName | None = None
    timeout_seconds: int = Field(
        limits.HTTP_TIMEOUT_DEFAULT, ge=limits.HTTP_TIMEOUT_MIN, le=limits.HTTP_TIMEOUT_MAX
    )
    failure_branch: bool = False


class TriggerWorkflowConfig(_Config):
    workflow: Ref | None = None
    inputs: dict[VariableName, Text2000] = Field(default_factory=dict, max_length=limits.MANUAL_INPUTS_MAX)


class Position(_Config):
    x: float
    y: float


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: StepKey
    name: str = Field("", max_length=limits.STEP_NAME_MAX)
    outputs: dict[str, StepKey | None] = Field(default_factory=dict)
    position: Position | None = None


class SendMessageStep(_Step):
    type: Literal["send_message"]
    config: SendMessageConfig = Field(default_factory=SendMessageConfig)


class AskQuestionStep(_Step):
    type: Literal["ask_question"]
    config: AskQuestionConfig = Field(default_factory=AskQuestionConfig)


class AssignToStep(_Step):
    type: Literal["assign_to"]
    config: AssignToConfig = Field(default_factory=AssignToConfig)


class BranchStep(_Step):
    type: Literal["branch"]
    config: BranchConfig = Field(default_factory=BranchConfig)


class UpdateTagStep(_Step):
    type: Literal["update_tag"]
    config: UpdateTagConfig = Field(default_factory=UpdateTagConfig)


class UpdateFieldStep(_Step):
    type: Literal["update_field"]
    config: UpdateFieldConfig = Field(default_factory=UpdateFieldConfig)


class UpdateLifecycleStep(_Step):
    type: Literal["update_lifecycle"]
    config: UpdateLifecycleConfig = Field(default_factory=UpdateLifecycleConfig)


class OpenConversationStep(_Step):
    type: Literal["open_conversation"]
    config: OpenConversationConfig = Field(default_factory=OpenConversationConfig)


class CloseConversationStep(_Step):
    type: Literal["close_conversation"]
    config: CloseConversationConfig = Field(default_factory=CloseConversationConfig)


class AddCommentStep(_Step):
    type: Literal["add_comment"]
    config: AddCommentConfig = Field(default_factory=AddCommentConfig)


class JumpToStep(_Step):
    type: Literal["jump_to"]
    config: JumpToConfig = Field(default_factory=JumpToConfig)


class WaitStep(_Step):
    type: Literal["wait"]
    config: WaitConfig = Field(default_factory=WaitConfig)


class DateTimeStep(_Step):
    type: Literal["date_time"]
    config: DateTimeConfig = Field(default_factory=DateTimeConfig)


class HttpRequestStep(_Step):
    type: Literal["http_request"]
    config: HttpRequestConfig = Field(default_factory=HttpRequestConfig)


class TriggerWorkflowStep(_Step):
    type: Literal["trigger_workflow"]
    config: TriggerWorkflowConfig = Field(default_factory=TriggerWorkflowConfig)


Step = Annotated[
    SendMessageStep
    | AskQuestionStep
    | AssignToStep
    | BranchStep
    | UpdateTagStep
    | UpdateFieldStep
    | UpdateLifecycleStep
    | OpenConversationStep
    | CloseConversationStep
    | AddCommentStep
    | JumpToStep
    | WaitStep
    | DateTimeStep
    | HttpRequestStep
    | TriggerWorkflowStep,
    Field(discriminator="type"),
]
STEP_TYPES = (
    "send_message",
    "ask_question",
    "assign_to",
    "branch",
    "update_tag",
    "update_field",
    "update_lifecycle",
    "open_conversation",
    "close_conversation",
    "add_comment",
    "jump_to",
    "wait",
    "date_time",
    "http_request",
    "trigger_workflow",
)


def allowed_outputs(step: Step) -> list[str]:
    """The outputs a step has with its current config (WF-STEP-01 table)."""
    match step:
        case SendMessageStep() | HttpRequestStep():
            return ["next", "failure"] if step.config.failure_branch else ["next"]
        case AskQuestionStep():
            extra = (["timeout"] if step.config.timeout_branch else []) + (
                ["failure"] if step.config.failure_branch else []
            )
            return ["next", *extra]
        case AssignToStep():
            waits = step.config.action in ("team", "workspace")
            return ["next", "timeout"] if waits and step.config.timeout_branch else ["next"]
        case BranchStep():
            return [f"branch:{i}" for i in range(1, len(step.config.branches) + 1)] + ["else"]
        case DateTimeStep():
            return ["next", "outside"]
        case TriggerWorkflowStep():
            return []
        case _:
            return ["next"]
