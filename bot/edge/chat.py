"""The chat request both channels accept (`{"sender", "message", "metadata", "message_id"}`,
and the widget's visitor-session token `session`, bot/leads/sessions.py),
checked before anything reaches Rasa: a malformed one is a ChatRequestError, which the channel
answers with its HTTP status and a JSON `{"error": code, "detail": ...}`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable

SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
MESSAGE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_BODY_BYTES = 32_768  # a chat message of MAX_MESSAGE_CHARS plus metadata fits easily
MAX_METADATA_BYTES = 8_192
MAX_SESSION_CHARS = 128


class ChatRequestError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def body(self) -> Dict[str, str]:
        return {"error": self.code, "detail": self.detail}


@dataclass(frozen=True)
class ChatRequest:
    sender: str
    message: str
    metadata: Dict[str, Any]
    message_id: str | None
    session: str | None = None  # the visitor session's token (widget channel)


def too_large(content_length: int | None) -> ChatRequestError | None:
    """The error for a declared body size over the cap (checked before reading the body)."""
    if content_length is not None and content_length > MAX_BODY_BYTES:
        return ChatRequestError(
            413, "too_large", f"the request body is over {MAX_BODY_BYTES} bytes"
        )
    return None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_chat_request(body: bytes) -> ChatRequest:
    """The chat request in a body, or ChatRequestError (400 malformed, 413 too large)."""
    error = too_large(len(body))
    if error:
        raise error
    try:
        payload = json.loads(body or b"", parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ChatRequestError(400, "invalid_json", "the request body is not JSON") from None
    if not isinstance(payload, dict):
        raise ChatRequestError(400, "invalid_payload", "the request body must be a JSON object")
    sender = payload.get("sender")
    if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
        raise ChatRequestError(
            400, "invalid_sender", "sender must be 1-128 characters: letters, digits, _.:@-"
        )
    message = payload.get("message")
    if not isinstance(message, str):
        raise ChatRequestError(400, "invalid_message", "message must be a string")
    metadata = payload.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ChatRequestError(400, "invalid_metadata", "metadata must be a JSON object")
    try:
        metadata_size = len(json.dumps(metadata, ensure_ascii=False).encode("utf-8"))
    except (ValueError, RecursionError):
        raise ChatRequestError(400, "invalid_metadata", "metadata is not storable") from None
    if metadata_size > MAX_METADATA_BYTES:
        raise ChatRequestError(
            413, "metadata_too_large", f"metadata is over {MAX_METADATA_BYTES} bytes"
        )
    message_id = payload.get("message_id")
    if message_id is not None and (
        not isinstance(message_id, str) or not MESSAGE_ID_PATTERN.match(message_id)
    ):
        raise ChatRequestError(
            400, "invalid_message_id", "message_id must be 1-64 of [A-Za-z0-9_-]"
        )
    session = payload.get("session")
    if session is not None and (not isinstance(session, str) or len(session) > MAX_SESSION_CHARS):
        raise ChatRequestError(
            400, "invalid_session", "session must be the token the server issued"
        )
    if not _storable(message) or not all(_storable(s) for s in _strings(metadata)):
        raise ChatRequestError(
            400, "invalid_text", "text must be valid Unicode without NUL characters"
        )
    return ChatRequest(sender, message, metadata, message_id, session)


def _storable(text: str) -> bool:
    """Text every database and log can hold: no NUL, no lone surrogate (`"\\ud800"`)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _strings(value: Any) -> Iterable[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
