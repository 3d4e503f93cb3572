"""What a user enters to connect a Twilio number."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from convoflow.channels.twilio.phones import e164


class TwilioCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$", description="The account SID, AC...")
    auth_token: str = Field(
        pattern=r"^[0-9a-fA-F]{32}$", description="The account's auth token (it also signs webhooks)"
    )
    phone_number: str = Field(max_length=32, description="The sending Twilio number, in international format")

    @field_validator("phone_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        number = e164(value)
        if number is None:
            raise ValueError("phone_number must be a valid number in international format, like +14155550100")
        return number
