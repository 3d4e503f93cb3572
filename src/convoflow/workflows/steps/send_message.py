"""Send a Message (WF-STEP-SEND-01..07): staged in the outbox; the run waits for the provider's answer."""

from __future__ import annotations

from typing import Any

from convoflow.workflows.definition.steps import ChannelResponse, SendMessageConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import EffectResult, End, Next, Outcome, Suspend

STEP_TYPE = "send_message"


def _media(media: Any, caption: str) -> dict[str, Any]:
    attachment = {"type": media.type, "url": media.url, **({"name": media.name} if media.name else {})}
    return {"type": "attachment", "attachment": attachment, **({"caption": caption} if caption else {})}


def _response_content(response: ChannelResponse, ctx: StepContext) -> dict[str, Any]:
    text = ctx.render(response.text)
    match response.kind:
        case "media" if response.media is not None:
            return _media(response.media, text)
        case "whatsapp_template" if response.template is not None:
            parameters = [{"type": "text", "text": ctx.render(p)} for p in response.template.parameters]
            components = [{"type": "body", "parameters": parameters}] if parameters else []
            return {
                "type": "whatsapp_template",
                "template": {
                    "name": response.template.name,
                    "languageCode": response.template.language_code,
                    "components": components,
                },
            }
        case "email":
            subject = ctx.render(response.email.subject) if response.email else ""
            return {"type": "email", "text": text, **({"subject": subject} if subject else {})}
        case "custom_payload" if response.payload is not None:
            return {"type": "custom_payload", "payload": response.payload}
    return {"type": "text", "text": text}


def content_for(cfg: SendMessageConfig, ctx: StepContext, channel_id: int | None) -> dict[str, Any]:
    """WF-STEP-SEND-02: the channel's own response when there is one, else the default message."""
    for response in cfg.channel_responses:
        if channel_id is not None and response.channel.id == channel_id:
            return _response_content(response, ctx)
    text = ctx.render(cfg.text)
    if cfg.media is not None:
        return _media(cfg.media, text)
    if cfg.email is not None and cfg.email.subject:
        return {"type": "email", "text": text, "subject": ctx.render(cfg.email.subject)}
    return {"type": "text", "text": text}


def failed(ctx: StepContext, reason: str, *, failure_branch: bool) -> Outcome:
    """WF-STEP-SEND-05: the failure branch when on, else the contact leaves the workflow."""
    ctx.set_var("last_error", reason)
    return Next("failure", {"error": reason}) if failure_branch else End("send_failed", {"error": reason})


def run(cfg: SendMessageConfig, ctx: StepContext) -> Outcome:
    match ctx.wake:
        case None:
            channel = ctx.effects.channel(cfg.channel.id if cfg.channel is not None else None)
            if channel is None:
                return failed(ctx, "The contact has no channel to send on", failure_branch=cfg.failure_branch)
            problem = ctx.effects.send_message(
                content=content_for(cfg, ctx, channel.id), channel_id=channel.id
            )
            if problem is not None:
                return failed(ctx, problem, failure_branch=cfg.failure_branch)
            return Suspend("effect", summary={"channel_id": channel.id})
        case EffectResult(ok=True, data=data):
            return Next("next", {"message_id": data.get("message_id")})  # WF-STEP-SEND-04: accepted = sent
        case EffectResult(error=error):
            return failed(ctx, error or "The message could not be sent", failure_branch=cfg.failure_branch)
    return Suspend("effect")
