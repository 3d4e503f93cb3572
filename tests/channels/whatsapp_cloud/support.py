"""Connecting a WhatsApp Cloud API number through the API and posting Meta's signed webhooks to it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.channels.fake_whatsapp import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, signed

CREDENTIALS = {
    "phone_number_id": PHONE_NUMBER_ID,
    "access_token": ACCESS_TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}


def connect_whatsapp(client: TestClient, *, name: str = "WhatsApp") -> dict[str, Any]:
    response = client.post(
        "/api/channels", json={"kind": "whatsapp_cloud", "name": name, "credentials": CREDENTIALS}
    )
    assert response.status_code == 201, response.text
    detail: dict[str, Any] = response.json()
    return detail


def post_notification(
    client: TestClient, channel: dict[str, Any], body: dict[str, Any] | bytes, *, secret: str = APP_SECRET
) -> Response:
    raw, headers = signed(body, secret=secret)
    return client.post(channel["webhook_path"], content=raw, headers=headers)
