"""Phone numbers in E.164, as contact identities and as Twilio's To/From."""

from __future__ import annotations

import phonenumbers


def e164(value: str) -> str | None:
    """The number in E.164 when `value` is a valid international number, else None."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
