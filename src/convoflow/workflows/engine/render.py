"""Rendering `$variables` against the fresh contact, the run's variables and the clock (WF-VAR-02/05)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from convoflow.workflows.definition.variables import Token, render
from convoflow.workflows.engine.snapshot import ContactSnapshot


def format_value(value: Any) -> str:
    """WF-VAR-05: checkbox true/false, lists joined by ", ", numbers without a needless ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item) for item in value)
    return str(value)


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        found = next((v for k, v in data.items() if str(k).lower() == part), None)
        data = found
    return data


def resolve(
    token: Token, *, contact: ContactSnapshot, variables: dict[str, Any], now: datetime, zone: ZoneInfo
) -> str | None:
    path = token.path
    match token.namespace:
        case "contact":
            standard = {
                "id": contact.id,
                "name": contact.name,
                "firstname": contact.first_name,
                "lastname": contact.last_name,
                "email": contact.email,
                "phone": contact.phone,
                "language": contact.language,
                "country": contact.country_code,
                "lifecycle": contact.stage_name,
            }
            if path in standard:
                return format_value(standard[path])
            return format_value(contact.custom.get(path))
        case "assignee":
            person = contact.assignee
            if person is None:
                return ""
            values = {
                "id": person.id,
                "name": f"{person.first_name} {person.last_name}".strip(),
                "firstname": person.first_name,
                "lastname": person.last_name,
                "email": person.email,
                "team": person.team_name,
            }
            return format_value(values.get(path))
        case "system":
            local = now.astimezone(zone)
            return {
                "current_datetime": local.strftime("%Y-%m-%d %H:%M:%S"),
                "current_date": local.strftime("%Y-%m-%d"),
                "current_time": local.strftime("%H:%M:%S"),
            }.get(path, "")
        case "trigger":
            return format_value(_dig(variables.get("trigger", {}), path))
        case _:
            return format_value(_dig(variables.get("var", {}), path))


def render_text(
    text: str, *, contact: ContactSnapshot, variables: dict[str, Any], now: datetime, zone: ZoneInfo
) -> str:
    return render(
        text, lambda token: resolve(token, contact=contact, variables=variables, now=now, zone=zone)
    )
