"""A stable fingerprint of a definition, to tell a changed draft from its published version."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def content_hash(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
