"""How a step reports trouble; the kind decides the handling (DESIGN §3.14)."""

from __future__ import annotations


class StepUserError(Exception):
    """Bad data for this contact (no channel, invalid value): the step's failure path or an end."""


class TransientError(Exception):
    """Try the step again later as a new attempt."""
