"""The two shared secrets between Leadbot's own processes, set or generated once into `var/`.

- The Rasa HTTP API token (`RASA_AUTH_TOKEN`): `/conversations/<id>/tracker`, `/model`,
  `/status` and the rest of Rasa's API answer only with `?token=` (the channels stay public).
- The action server token (`ACTION_SERVER_TOKEN`): Rasa sends it in a header with every action
  call (the endpoints file the launcher writes); the action server refuses calls without it.

Unset, each is generated on first use into its file (mode 600) and kept, so `make run` needs no
editing and `python -m bot token` can print it for tools and tests. Several replicas must share
one value: set the variables.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

ACTION_TOKEN_HEADER = "Authorization"
ACTION_TOKEN_SCHEME = "Bearer"


def resolve_token(value: str, path: Path) -> str:
    """`value`, or the token in `path`, created (mode 600) on first use."""
    if value:
        return value
    path = Path(path)
    if path.exists():
        token = path.read_text().strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:  # O_EXCL: if two processes race, the second reads the first one's token
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return token


def rasa_auth_token(settings) -> str:  # type: ignore[no-untyped-def]
    return resolve_token(settings.rasa_auth_token, settings.rasa_auth_token_file)


def action_server_token(settings) -> str:  # type: ignore[no-untyped-def]
    return resolve_token(settings.action_server_token, settings.action_server_token_file)


def bearer_matches(header: str | None, token: str) -> bool:
    """Constant-time check of an `Authorization: Bearer <token>` header."""
    if not header or not token:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != ACTION_TOKEN_SCHEME.lower():
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))
