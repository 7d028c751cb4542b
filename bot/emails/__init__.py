"""The emails Leadbot sends, as Jinja2 text templates (bot/emails/templates/); knows words and
layout, nothing about how an email is delivered (bot/outbox) or why (booking, nurture)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Tuple

from jinja2 import Environment

from bot.config.wording import text_templates

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Every template a process may send: tests render each one and check every link in it.
TEMPLATE_NAMES: Tuple[str, ...] = (
    "meeting_rep.txt",
    "meeting_visitor.txt",
    "rep_invite.txt",
    "meeting_rep_erased.txt",
)


@dataclass(frozen=True)
class Email:
    subject: str
    text: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return text_templates(
        TEMPLATES, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True
    )


def render(template: str, **context: Any) -> Email:
    """The template's first line is the subject ("Subject: …"); the rest, the body."""
    text = _environment().get_template(template).render(**context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject: "):
        raise ValueError(f"{template} must start with a 'Subject: ' line")
    return Email(" ".join(first[len("Subject: ") :].split()), body.lstrip("\n"))
