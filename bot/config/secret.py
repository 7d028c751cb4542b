"""SECRET_KEY: the HMAC key for links that must not be guessable (reps' feeds, sessions)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def resolve_secret_key(secret_key: str, secret_key_file: Path) -> bytes:
    """SECRET_KEY, or the key in `secret_key_file`, created (mode 600) on first use."""
    if secret_key:
        return secret_key.encode("utf-8")
    path = Path(secret_key_file)
    if path.exists():
        return path.read_text().strip().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:  # O_EXCL: if two processes race, the second reads the first one's key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode("utf-8")
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key.encode("utf-8")
