"""HTTP Request (WF-STEP-HTTP-01/02): rendered, staged in the outbox, executed by the relay.

A failed call takes the failure branch when it is on; otherwise the run continues on `next` with
the unmapped variables left empty (WF-STEP-HTTP-01). A 2xx answer that is not valid JSON fails a step
that maps its response: what the step was asked to read is not there.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from convoflow.workflows.definition import jsonpath
from convoflow.workflows.definition.steps import HttpRequestConfig
from convoflow.workflows.definition.variables import render
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import EffectResult, Next, Outcome, Suspend
from convoflow.workflows.engine.render import resolve

STEP_TYPE = "http_request"


def _render_escaped(text: str, ctx: StepContext, escape: Any) -> str:
    """WF-STEP-HTTP-02: variables JSON-escaped in JSON bodies, URL-encoded in URLs and forms."""
    return render(
        text,
        lambda token: escape(
            resolve(
                token, contact=ctx.contact, variables=ctx.run.variables, now=ctx.now, zone=ctx.workspace.zone
            )
            or ""
        ),
    )


def build_request(cfg: HttpRequestConfig, ctx: StepContext) -> dict[str, Any]:
    url = _render_escaped(cfg.url, ctx, lambda value: quote(value, safe=""))
    headers = {h.name: ctx.render(h.value) for h in cfg.headers if h.name}
    body: str | None = None
    if cfg.method != "GET" and cfg.body_type != "none":
        if cfg.body_type == "json":
            body = _render_escaped(cfg.body, ctx, lambda value: json.dumps(value)[1:-1])
            headers.setdefault("Content-Type", "application/json")
        elif cfg.body_type == "form":
            body = _render_escaped(cfg.body, ctx, lambda value: quote(value, safe=""))
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            body = ctx.render(cfg.body)
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
    return {
        "method": cfg.method,
        "url": url,
        "headers": headers,
        "body": body,
        "timeout": cfg.timeout_seconds,
    }


def run(cfg: HttpRequestConfig, ctx: StepContext) -> Outcome:
    match ctx.wake:
        case None:
            ctx.effects.http_request(request=build_request(cfg, ctx))
            return Suspend("effect")
        case EffectResult(ok=ok, data=data, error=error):
            if cfg.status_variable and data.get("status") is not None:
                ctx.set_var(cfg.status_variable, data.get("status"))
            document = data.get("json")
            for mapping in cfg.mappings:
                value = jsonpath.extract(document, mapping.path) if document is not None else None
                ctx.set_var(mapping.variable, value if value is not None else "")
            if ok and cfg.mappings and document is None:
                ok, error = False, "The response is not valid JSON, so nothing could be mapped"
            if ok:
                return Next("next", {"status": data.get("status")})
            ctx.set_var("last_error", error or f"HTTP status {data.get('status')}")
            return Next(
                "failure" if cfg.failure_branch else "next", {"status": data.get("status"), "error": error}
            )
    return Suspend("effect")
