"""The JSON path dialect of webhook and HTTP mappings (WF-TRG-HOOK-02/03, WF-STEP-HTTP table)."""

from __future__ import annotations

import pytest

from convoflow.workflows.definition.jsonpath import extract, is_valid

DOCUMENT = {
    "phone": "+34600000000",
    "data": {"contacts": [{"firstName": "Ana"}, {"firstName": "Bea", "tags": ["vip"]}]},
    "order-id": 7,
    "zero": 0,
}


@pytest.mark.parametrize(
    "path",
    [
        "$",
        "$.phone",
        "$.data.contacts[1].firstName",
        "$.customer.phone",
        "$.order-id",
        "$[0]",
        "$.a[0][1]._b",
    ],
)
def test_valid_paths(path: str) -> None:  # WF-STEP-HTTP table: `$.phone`, `$.data.contacts[1].firstName`
    assert is_valid(path)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "phone",
        "$.",
        "$..phone",
        "$['phone']",
        "$.data.contacts[-1]",
        "$.data.contacts[*]",
        "$.1abc",
        "$ .a",
        "$.a" + ".b" * 250,
    ],
)
def test_invalid_paths(path: str) -> None:  # WF-TRG-HOOK-02, WF-STEP-HTTP table
    assert not is_valid(path)


def test_extract_reads_nested_values_and_missing_parts_are_none() -> None:  # WF-TRG-HOOK-03
    assert extract(DOCUMENT, "$.phone") == "+34600000000"
    assert extract(DOCUMENT, "$.data.contacts[1].firstName") == "Bea"
    assert extract(DOCUMENT, "$.data.contacts[1].tags[0]") == "vip"
    assert extract(DOCUMENT, "$.order-id") == 7
    assert extract(DOCUMENT, "$.zero") == 0
    assert extract(DOCUMENT, "$") == DOCUMENT
    assert extract(DOCUMENT, "$.data.contacts[5].firstName") is None
    assert extract(DOCUMENT, "$.phone.number") is None
    assert extract(DOCUMENT, "$.data[0]") is None
    assert extract(["a", "b"], "$[1]") == "b"
    assert extract(None, "$.a") is None
