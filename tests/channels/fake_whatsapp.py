"""A fake Graph API for the WhatsApp Cloud API on 127.0.0.1, answering as Meta documents.

`notification()` builds and `signed()` signs webhooks as Meta posts them (`X-Hub-Signature-256`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from typing import Any

from tests.channels.fake_server import Answer, FakeServer, Recorded, json_answer

PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "EAAJB-test-access-token-0123456789"
APP_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
VERIFY_TOKEN = "my-verify-token-42"
WA_ID = "34612345678"
MESSAGES = f"/v21.0/{PHONE_NUMBER_ID}/messages"
INVALID_TOKEN = {
    "error": {
        "message": "Invalid OAuth access token - Cannot parse access token",
        "type": "OAuthException",
        "code": 190,
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
    }
}


def signed(body: dict[str, Any] | bytes, *, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


def notification(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    name: str = "Zoë Müller",
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100999", "phone_number_id": phone_number_id},
    }
    if messages is not None:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": WA_ID}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def message(kind: str, body: dict[str, Any], *, wamid: str) -> dict[str, Any]:
    return {"from": WA_ID, "id": wamid, "timestamp": "1790000000", "type": kind, kind: body}


def status(wamid: str, state: str, *, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": wamid, "status": state, "timestamp": "1790000100", "recipient_id": WA_ID}
    if state != "failed":
        entry["conversation"] = {"id": "c1", "origin": {"type": "service"}}
        entry["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if errors is not None:
        entry["errors"] = errors
    return entry


class FakeWhatsapp(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.forget()

    def forget(self) -> None:
        self._ids = itertools.count(1)

    @property
    def sent(self) -> list[dict[str, Any]]:
        return [request.json() for request in self.to(MESSAGES)]

    def respond(self, request: Recorded) -> Answer:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return json_answer(401, INVALID_TOKEN)
        if request.path == MESSAGES and request.method == "POST":
            to = request.json()["to"]
            wamid = f"wamid.HBgLMzQ2MTIzNDU2NzgVAgARGBI{next(self._ids):04d}"
            return json_answer(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": wamid}],
                },
            )
        if request.path == f"/v21.0/{PHONE_NUMBER_ID}" and request.method == "GET":
            return json_answer(
                200,
                {
                    "display_phone_number": "+1 555-010-0999",
                    "verified_name": "Convoflow Test",
                    "id": PHONE_NUMBER_ID,
                },
            )
        error = {"message": "Unsupported request", "type": "GraphMethodException", "code": 100}
        return json_answer(400, {"error": error})
