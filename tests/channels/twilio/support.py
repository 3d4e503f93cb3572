"""Connecting a Twilio number through the API and posting Twilio's signed webhooks to it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, NUMBER, signed


def connect_twilio(client: TestClient, *, name: str = "SMS") -> dict[str, Any]:
    credentials = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "phone_number": NUMBER}
    response = client.post("/api/channels", json={"kind": "twilio", "name": name, "credentials": credentials})
    assert response.status_code == 201, response.text
    detail: dict[str, Any] = response.json()
    return detail


def post_form(
    client: TestClient, channel: dict[str, Any], fields: dict[str, str], *, token: str = AUTH_TOKEN
) -> Response:
    """Posts `fields` as Twilio would: form-encoded, signed over the channel's public webhook URL."""
    body, headers = signed(channel["webhook_url"], fields, token=token)
    return client.post(channel["webhook_path"], content=body, headers=headers)
