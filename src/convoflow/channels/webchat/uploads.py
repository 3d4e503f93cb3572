"""Files a visitor attaches, kept under the data directory (`<data dir>/webchat-uploads/`).

Bounded on purpose: one file per request up to `max_bytes`, of a short list of types that browsers
show without running anything (no SVG, no HTML). Each file is stored as `<id>` beside `<id>.json`
(its type, name, size, channel and visitor). The id is 192 random bits: its URL is the only key to it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

# MIME type -> the attachment type of conversations.content
ALLOWED_TYPES = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
    "image/webp": "image",
    "audio/mpeg": "audio",
    "audio/ogg": "audio",
    "video/mp4": "video",
    "video/webm": "video",
    "application/pdf": "file",
    "text/plain": "file",
}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")


class UploadRefused(Exception):
    """The file is empty, too large or of a type Web Chat does not take; the message says which."""


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    channel_id: int
    visitor_id: str
    content_type: str
    name: str
    size: int

    @property
    def kind(self) -> str:
        return ALLOWED_TYPES[self.content_type]


def clean_file_name(name: str | None) -> str:
    """A display name without paths or control characters, at most 255 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:255] or "file"


class UploadStore:
    def __init__(self, root: Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def save(
        self, *, channel_id: int, visitor_id: str, data: bytes, content_type: str | None, name: str | None
    ) -> StoredFile:
        """Stores the file (complete or not at all); UploadRefused for what Web Chat does not take."""
        mime = (content_type or "").split(";")[0].strip().lower()
        if mime not in ALLOWED_TYPES:
            allowed = ", ".join(sorted(ALLOWED_TYPES))
            raise UploadRefused(
                f"Files of type {mime or 'unknown'!r} are not accepted; send one of {allowed}"
            )
        if not data:
            raise UploadRefused("The file is empty")
        if len(data) > self.max_bytes:
            raise UploadRefused(f"The file is larger than {self.max_bytes:,} bytes")
        stored = StoredFile(
            secrets.token_urlsafe(24), channel_id, visitor_id, mime, clean_file_name(name), len(data)
        )
        self.root.mkdir(parents=True, exist_ok=True)
        _write(self.root / stored.file_id, data)
        _write(self.root / f"{stored.file_id}.json", json.dumps(asdict(stored)).encode())
        return stored

    def find(self, file_id: str) -> StoredFile | None:
        """The stored file's description, or None for an unknown or malformed id."""
        if not _FILE_ID.match(file_id):
            return None
        try:
            meta = json.loads((self.root / f"{file_id}.json").read_bytes())
            return StoredFile(**meta)
        except (OSError, ValueError, TypeError):
            return None

    def path(self, stored: StoredFile) -> Path:
        return self.root / stored.file_id


def _write(path: Path, data: bytes) -> None:
    """Writes through a temporary file and a rename, so a reader never sees half a file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
