"""No personal data in any log: one redaction step for every log record of a process.

Installed first thing by every Leadbot process (Rasa server, action server, web, worker, CLI).
It wraps the process's log-record factory, so it sees every record — ours, Rasa's, Sanic's
access and error logs, SQLAlchemy's — before any handler formats it, whatever handlers Rasa
installs later. Each record's message (with its arguments) and traceback are rendered once
and redacted:

- email addresses become `[email]`;
- the text of recent visitor messages (the channels and the action server remember them
  for a short while, in memory) becomes `[message]`, wherever it appears — Rasa's DEBUG
  "Received user message '…'", slot dumps, exception texts;
- Rasa's own phrasings that quote a message (`user message '…'`, `text: …`) are cut too, for
  messages no longer remembered;
- `token=…` query parameters (the Rasa API token in access logs) become `token=[redacted]`.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections import OrderedDict
from typing import Callable

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_QUOTED = r"""(?P<q>['"])(?:\\.|(?!(?P=q)).)*(?P=q)"""  # '...' or "...", with escapes
QUOTED_MESSAGE = re.compile(
    r"""(?P<lead>(?<!['"])\b(?:user\s+message|message|text|utterance)\s*[:=]?\s*)""" + _QUOTED,
    re.IGNORECASE | re.DOTALL,
)
JSON_TEXT = re.compile(r"""(?P<lead>['"](?:text|message)['"]\s*:\s*)""" + _QUOTED)
TOKEN = re.compile(r"(?P<lead>[?&](?:token|access_token)=)[^&\s'\"]+", re.IGNORECASE)
OWN_LOGGERS = ("bot", "rasa_ext", "actions")
MIN_REMEMBERED_CHARS = 3
REMEMBERED_MESSAGES = 512

_remembered: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()
_installed = False


def remember_message(text: object) -> None:
    """A visitor's message: redact it from any log line for the next few hundred messages."""
    if not isinstance(text, str):
        return
    text = text.strip()
    if len(text) < MIN_REMEMBERED_CHARS or text.startswith("/"):  # intents aren't personal
        return
    with _lock:
        _remembered.pop(text, None)
        _remembered[text] = None
        while len(_remembered) > REMEMBERED_MESSAGES:
            _remembered.popitem(last=False)


def redact(text: str) -> str:
    """`text` with emails, remembered messages, quoted message texts and tokens removed."""
    if not text:
        return text
    with _lock:
        remembered = sorted(_remembered, key=len, reverse=True)
    for message in remembered:
        if message in text:
            text = text.replace(message, "[message]")
    text = EMAIL.sub("[email]", text)
    text = JSON_TEXT.sub(lambda m: f'{m.group("lead")}"[message]"', text)
    text = QUOTED_MESSAGE.sub(lambda m: f"{m.group('lead')}'[message]'", text)
    return TOKEN.sub(lambda m: f"{m.group('lead')}[redacted]", text)


def _redacting(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not lose the line
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            rendered = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = redact(rendered)
            record.exc_info = None  # handlers print exc_text; the raw exception never
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    make.leadbot_redacting = True  # type: ignore[attr-defined]
    return make


def library_level(level: str) -> str:
    """The level other people's code logs at for LOG_LEVEL `level`: never below INFO.

    At DEBUG, Rasa prints every message, slot values and tracker dumps, rasa_sdk the forms'
    answers and SQLAlchemy result rows: personal data in forms redaction can't recognise (a
    company name, a sentence), so LOG_LEVEL=DEBUG is for Leadbot's own code only.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        return "INFO"
    return logging.getLevelName(max(numeric, logging.INFO))


def install_log_redaction(level: str | None = None) -> None:
    """Redact every log record of this process from now on (idempotent).

    `level` (LOG_LEVEL) is applied to Leadbot's own loggers (OWN_LOGGERS) when given, and to
    everything else capped at INFO (`library_level`); SQLAlchemy only says WARNING and up
    (its INFO lines are statements; hide_parameters keeps their values out of errors).
    """
    global _installed
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "leadbot_redacting", False):
        logging.setLogRecordFactory(_redacting(factory))
    _installed = True
    logging.captureWarnings(True)  # warnings (Rasa prints some) go through the same step
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    if level:
        logging.getLogger().setLevel(library_level(level))
        for name in OWN_LOGGERS:
            logging.getLogger(name).setLevel(level.upper())


def installed() -> bool:
    return _installed and getattr(logging.getLogRecordFactory(), "leadbot_redacting", False)
