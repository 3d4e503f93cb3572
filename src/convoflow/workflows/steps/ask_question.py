"""Ask a Question (WF-STEP-ASK-01..09): send, wait for the contact's next message, validate, save.

State across wake-ups: `deadline` (the timeout counts from the first asking) and `attempts`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from convoflow.workflows.definition.steps import AskQuestionConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import EffectResult, End, Next, Outcome, Reply, Suspend, TimerFired
from convoflow.workflows.steps.answers import parse_answer

STEP_TYPE = "ask_question"
BUTTON_KINDS = frozenset({"webchat", "telegram", "whatsapp_cloud", "test"})  # channels with quick replies
DEFAULT_INVALID = {"en": "Sorry, that is not a valid answer.", "es": "Lo siento, esa respuesta no es válida."}


def _choices(cfg: AskQuestionConfig) -> list[str]:
    return (
        list(cfg.options)
        if cfg.question_type == "multiple_choice"
        else (["1", "2", "3", "4", "5"] if cfg.question_type == "rating" else [])
    )


def _question(
    cfg: AskQuestionConfig, ctx: StepContext, channel_kind: str, prefix: str = ""
) -> dict[str, Any]:
    """WF-STEP-ASK-01: options as quick replies where the channel has buttons, else a numbered list."""
    text = (prefix + "\n\n" if prefix else "") + ctx.render(cfg.question)
    choices = _choices(cfg)
    if choices and channel_kind in BUTTON_KINDS:
        return {"type": "quick_reply", "title": text[:2000], "replies": [c[:20] for c in choices]}
    if choices and cfg.question_type == "multiple_choice":
        text += "\n" + "\n".join(f"{n}. {option}" for n, option in enumerate(choices, start=1))
    return {"type": "text", "text": text[:4096]}


def _send(cfg: AskQuestionConfig, ctx: StepContext, prefix: str = "") -> Outcome:
    channel = ctx.effects.channel(None)  # the last interacted channel (WF-STEP-ASK-01)
    problem = (
        "The contact has no channel to send on"
        if channel is None
        else ctx.effects.send_message(
            content=_question(cfg, ctx, channel.kind, prefix), channel_id=channel.id
        )
    )
    if problem is not None:
        return _failure(cfg, ctx, problem, reason="send_failed")
    return Suspend("effect")


def _failure(cfg: AskQuestionConfig, ctx: StepContext, error: str, *, reason: str) -> Outcome:
    """WF-STEP-ASK-08: the failure branch when on; otherwise the run ends."""
    ctx.set_var("last_error", error)
    return Next("failure", {"error": error}) if cfg.failure_branch else End(reason, {"error": error})


def _save(cfg: AskQuestionConfig, ctx: StepContext, answer: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {"answer": answer}
    if cfg.save_variable:
        ctx.set_var(cfg.save_variable, answer)
    if cfg.save_field:
        problem = ctx.ops.set_field(cfg.save_field, str(answer))
        if problem is not None:
            summary["not_saved"] = problem  # WF-STEP-ASK-05: e.g. a phone owned by another contact
    if cfg.save_tag and cfg.question_type == "multiple_choice":
        ctx.ops.add_tags([(None, str(answer))])  # WF-STEP-ASK-06
    return summary


def on_timeout(cfg: AskQuestionConfig) -> Outcome:
    """WF-STEP-ASK-07: no answer in time takes the Timeout branch when on; otherwise the run ends."""
    return Next("timeout") if cfg.timeout_branch else End("timeout")


def run(cfg: AskQuestionConfig, ctx: StepContext) -> Outcome:
    wake = ctx.wake
    if wake is None:
        ctx.state["deadline"] = (ctx.now + timedelta(seconds=cfg.timeout_seconds)).isoformat()
        ctx.state["attempts"] = 0
        return _send(cfg, ctx)
    deadline = datetime.fromisoformat(ctx.state["deadline"])
    match wake:
        case EffectResult(ok=True):
            return Suspend("reply", until=deadline)
        case EffectResult(error=error):
            return _failure(cfg, ctx, error or "The question could not be sent", reason="send_failed")
        case TimerFired():
            return on_timeout(cfg)
        case Reply(text=text, content=content):
            answer = parse_answer(
                cfg.question_type,
                text=text,
                content=content,
                options=list(cfg.options),
                min_value=cfg.min_value,
                max_value=cfg.max_value,
                date_format=ctx.workspace.date_format,
                default_country=ctx.contact.country_code or ctx.workspace.default_country,
            )
            if answer is not None:
                return Next("next", _save(cfg, ctx, answer))
            ctx.state["attempts"] = int(ctx.state.get("attempts", 0)) + 1  # WF-STEP-ASK-04: never saved
            if ctx.state["attempts"] >= cfg.max_attempts:
                return _failure(
                    cfg, ctx, "No valid answer after the allowed attempts", reason="invalid_answer"
                )
            language = "es" if (ctx.contact.language or "") == "es" else "en"
            return _send(cfg, ctx, prefix=ctx.render(cfg.invalid_message) or DEFAULT_INVALID[language])
    return Suspend("reply", until=deadline)
