"""Hiding secrets in the execution log (WF-RUN-18): HTTP headers the step marks secret (WF-IO-03), their
values wherever they were rendered, and credential-looking keys in recorded data."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from convoflow.workflows.definition.portable import header_is_secret
from convoflow.workflows.definition.steps import Header, HttpRequestStep, Step

REDACTED = "[redacted]"
MAX_RESULT_CHARS = 32_768
# Keys whose values are credentials in recorded data: "access_token", "api-key", "password"...
_SECRET_KEY = re.compile(
    r"(^|[_\-.\s])(authorization|password|passwd|secret|token|api[_\-]?key|access[_\-]?key|cookie)($|[_\-.\s])",
    re.IGNORECASE,
)


def is_secret_key(name: str) -> bool:
    return bool(_SECRET_KEY.search(name))


def redact_values(data: Any) -> Any:
    """A copy with the values of credential-looking keys replaced, at any depth."""
    if isinstance(data, dict):
        return {k: REDACTED if is_secret_key(str(k)) else redact_values(v) for k, v in data.items()}
    if isinstance(data, list):
        return [redact_values(item) for item in data]
    return data


def _secret_header(step: Step | None, name: str) -> bool:
    if name.lower() in ("cookie", "proxy-authorization"):
        return True
    declared = (
        [h for h in step.config.headers if h.name.lower() == name.lower()]
        if isinstance(step, HttpRequestStep)
        else []
    )
    return any(header_is_secret(h) for h in declared) or header_is_secret(Header(name=name))


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _redact_url(url: str, secrets: list[str]) -> str:
    parts = urlsplit(_scrub(url, secrets))
    if not parts.query:
        return urlunsplit(parts)
    query = [
        (k, REDACTED if is_secret_key(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="[]")))


def redact_effect(
    step: Step | None, *, request: dict[str, Any], result: dict[str, Any] | None
) -> dict[str, Any]:
    """The staged request and its result as the log shows them."""
    shown = dict(request)
    secrets: list[str] = []
    headers = shown.get("headers")
    if isinstance(headers, dict):
        hidden = {}
        for name, value in headers.items():
            if _secret_header(step, str(name)):
                hidden[name] = REDACTED
                if isinstance(value, str) and len(value) >= 4:  # a rendered secret may recur in the URL/body
                    secrets.append(value)
            else:
                hidden[name] = value
        shown["headers"] = hidden
    if isinstance(shown.get("url"), str):
        shown["url"] = _redact_url(shown["url"], secrets)
    if isinstance(shown.get("body"), str):
        shown["body"] = _scrub(shown["body"], secrets)
    shown_result = None if result is None else redact_values(result)
    if shown_result is not None and len(json.dumps(shown_result, default=str)) > MAX_RESULT_CHARS:
        shown_result = {k: v for k, v in shown_result.items() if k != "json"} | {"json": "[truncated]"}
    return {"request": redact_values(shown), "result": shown_result}
