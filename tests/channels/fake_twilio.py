"""A fake Twilio REST API on 127.0.0.1 (Messages and IncomingPhoneNumbers), answering as Twilio documents.

It also plays Twilio's side of webhooks: `signed()` computes `X-Twilio-Signature` with the auth token,
as Twilio does, for an incoming message or a status callback to post to our webhook.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.channels.fake_server import Answer, FakeServer, Recorded, json_answer

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "0123456789abcdef" * 2
NUMBER = "+14155550100"
NUMBER_SID = "PN" + "b2" * 16
CUSTOMER = "+34612345678"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
UNAUTHORIZED = {
    "code": 20003,
    "message": "Authenticate",
    "more_info": "https://www.twilio.com/docs/errors/20003",
    "status": 401,
}


def signed(url: str, fields: dict[str, str], *, token: str = AUTH_TOKEN) -> tuple[bytes, dict[str, str]]:
    """The body and headers of Twilio's POST of `fields` to `url`."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(token).compute_signature(url, fields),
    }
    return urlencode(fields).encode(), headers


def incoming(body: str, *, sid: str, sender: str = CUSTOMER, **fields: str) -> dict[str, str]:
    """An incoming-message webhook's fields (https://www.twilio.com/docs/messaging/guides/webhook-request)."""
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": NUMBER,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
        **fields,
    }


def status_callback(sid: str, status: str, *, error_code: str | None = None) -> dict[str, str]:
    fields = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": CUSTOMER,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": NUMBER,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        fields["ErrorCode"] = error_code
    return fields


class FakeTwilio(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.forget()

    def forget(self) -> None:
        self._ids = itertools.count(1)
        self.sms_url = ""

    @property
    def sent(self) -> list[dict[str, list[str]]]:
        return [request.form() for request in self.to(MESSAGES)]

    def respond(self, request: Recorded) -> Answer:
        if not _authorized(request):
            return json_answer(401, UNAUTHORIZED)
        base = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
        if request.path == MESSAGES and request.method == "POST":
            form = request.form()
            sid = f"SM{next(self._ids):032x}"
            return json_answer(
                201,
                {
                    "sid": sid,
                    "account_sid": ACCOUNT_SID,
                    "to": form["To"][0],
                    "from": form["From"][0],
                    "body": form.get("Body", [""])[0],
                    "status": "queued",
                    "num_media": str(len(form.get("MediaUrl", []))),
                    "error_code": None,
                },
            )
        if request.path == f"{base}/IncomingPhoneNumbers.json":
            numbers = [self._number()] if request.query.get("PhoneNumber") == NUMBER else []
            return json_answer(200, {"incoming_phone_numbers": numbers, "page": 0})
        if request.path == f"{base}/IncomingPhoneNumbers/{NUMBER_SID}.json":
            self.sms_url = request.form()["SmsUrl"][0]
            return json_answer(200, self._number())
        return json_answer(
            404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        )

    def _number(self) -> dict[str, Any]:
        return {"sid": NUMBER_SID, "phone_number": NUMBER, "sms_url": self.sms_url, "sms_method": "POST"}


def _authorized(request: Recorded) -> bool:
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    return request.headers.get("authorization") == f"Basic {expected}"
