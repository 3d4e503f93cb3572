"""Channel kinds (the API `source` values of CRM-CHAN) and how each addresses a contact."""

from __future__ import annotations

from typing import Literal, get_args

ChannelKind = Literal[
    "webchat", "telegram", "whatsapp_cloud", "other_email", "custom_channel", "twilio", "test"
]
CHANNEL_KINDS: tuple[str, ...] = get_args(ChannelKind)

# The identity of a contact on the channel: a phone number, an email address, or an opaque id.
IdentityKind = Literal["phone", "email", "opaque"]
IDENTITY_KINDS: dict[str, IdentityKind] = {
    "webchat": "opaque",
    "telegram": "opaque",
    "whatsapp_cloud": "phone",
    "twilio": "phone",
    "other_email": "email",
    "custom_channel": "opaque",
    "test": "opaque",  # the built-in test channel (channels/test_channel.py)
}
