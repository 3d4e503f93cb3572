"""What a user enters to connect a WhatsApp Cloud API number (from the Meta app's dashboard)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WhatsappCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone_number_id: str = Field(pattern=r"^[0-9]{5,32}$", description="The number's id in WhatsApp Manager")
    access_token: str = Field(
        min_length=20,
        max_length=1024,
        description="A system-user access token with whatsapp_business_messaging",
    )
    app_secret: str = Field(
        pattern=r"^[A-Za-z0-9]{16,128}$", description="The Meta app's secret: it signs every webhook"
    )
    verify_token: str = Field(
        pattern=r"^[A-Za-z0-9._~-]{8,128}$",
        description="A string you choose and also enter in the app's webhook settings (the GET check)",
    )
