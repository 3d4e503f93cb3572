"""Formatting variable values at run time (WF-VAR-05), without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from convoflow.workflows.definition.variables import Token, render
from convoflow.workflows.engine.render import format_value, resolve
from convoflow.workflows.engine.snapshot import ContactSnapshot


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, "true"),
        (False, "false"),
        (["sku-1", "sku-2", 3], "sku-1, sku-2, 3"),
        ([True, None, 2.0], "true, , 2"),
        (42.0, "42"),
        (2.5, "2.5"),
        (None, ""),
        ("2026-03-29", "2026-03-29"),
    ],
)
def test_values_are_formatted_as_the_spec_says_WF_VAR_05(value: object, shown: str) -> None:
    assert format_value(value) == shown


def test_list_variables_render_joined_and_dates_in_the_workspace_timezone_WF_VAR_05() -> None:
    contact = ContactSnapshot(
        id=1, workspace_id=1, first_name="Ana", last_name="", email=None, phone=None, language=None,
        country_code=None, blocked=False, tags={2: "vip", 1: "nuevo"},
    )  # fmt: skip
    variables = {"var": {"items": ["A1", "B2"], "paid": True}, "trigger": {}}
    at = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # already 01:30 (CET) in Madrid

    madrid = ZoneInfo("Europe/Madrid")

    def value(token: Token) -> str:
        return resolve(token, contact=contact, variables=variables, now=at, zone=madrid) or ""

    text = "$var.items / $var.paid / $system.current_date $system.current_time"
    assert render(text, value) == "A1, B2 / true / 2026-03-29 01:30:00"
