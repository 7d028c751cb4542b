"""What reps are told about a handoff: an email (Jinja2 text templates beside this file) and a
Slack Block Kit message with a plain-text fallback, both as outbox payloads. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Mapping

from babel.dates import format_timedelta

from bot.config.wording import text_templates

TEMPLATES = Path(__file__).parent / "templates"
_env = text_templates(TEMPLATES, keep_trailing_newline=True)

# Slack's documented limits (api.slack.com/reference/block-kit/blocks).
HEADER_MAX = 150
SECTION_TEXT_MAX = 3000
FIELD_MAX = 2000


@dataclass(frozen=True)
class Notice:
    """Everything a rep needs to know about one handoff, already formatted for people."""

    kind: str  # HandoffKind value
    visitor: str  # "Jane Doe (Acme)" or "A website visitor"
    when: str  # the request time in the rep's zone, e.g. "Tue 2 Dec, 14:05 (Europe/Berlin)"
    link: str  # the conversation in the inbox
    wait_text: str = ""  # "2 minutes"
    rep_name: str | None = None
    page: str | None = None
    summary: str | None = None  # the lead's answers and score (only with consent)
    reply_to: str | None = None  # the visitor's email (only with consent)
    score: str | None = None
    missed_reason: str | None = None

    @property
    def headline(self) -> str:
        return _line("headline", self)


def _line(macro: str, *values: Any) -> str:
    """One line of words from notice_lines.txt (a macro per line)."""
    return str(getattr(_env.get_template("notice_lines.txt").module, macro)(*values)).strip()


def visitor_label(name: str | None, company: str | None) -> str:
    """Who asked, as reps read it: "Jane Doe (Acme)", or the template's words for nobody named."""
    return _line("visitor", name, company)


def wait_text(seconds: float, locale: str = "en") -> str:
    """How long a visitor waits for a rep, in words ("2 minutes"): unit names and plurals come
    from the locale's CLDR data (Babel). The larger unit only from 1.5 of it: "60 seconds"."""
    return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=locale)


def email_payload(notice: Notice, to: str) -> Dict[str, Any]:
    subject = f"{notice.headline}: {notice.visitor}"
    payload: Dict[str, Any] = {
        "to": [to],
        "subject": subject[:200],
        "text": _env.get_template("handoff_email.txt").render(notice=notice),
    }
    if notice.reply_to:
        payload["reply_to"] = notice.reply_to
    return payload


def message_email_payload(notice: Notice, to: str, message: str) -> Dict[str, Any]:
    payload: Dict[str, Any] = {
        "to": [to],
        "subject": _line("message_subject", notice.visitor)[:200],
        "text": _env.get_template("message_email.txt").render(notice=notice, message=message),
    }
    if notice.reply_to:
        payload["reply_to"] = notice.reply_to
    return payload


def mrkdwn(text: str) -> str:
    """Text for Slack's mrkdwn: its three control characters escaped (visitor data is text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_message(notice: Notice) -> Dict[str, Any]:
    """A Block Kit message (header, summary with fields, a button to the conversation, context)
    with `text` as the fallback for notifications and Slack-compatible receivers."""
    lead = _line("slack_lead", notice, mrkdwn(notice.visitor), mrkdwn(notice.wait_text))
    values = {
        "rep_name": notice.rep_name,
        "score": notice.score,
        "page": _clip(notice.page, 500) if notice.page else None,
    }
    fields: List[Mapping[str, str]] = [
        {"type": "mrkdwn", "text": _line("slack_field", name, mrkdwn(value))}
        for name, value in values.items()
        if value
    ]
    section: Dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _clip(lead, SECTION_TEXT_MAX)},
    }
    if fields:
        section["fields"] = [
            {"type": "mrkdwn", "text": _clip(field["text"], FIELD_MAX)} for field in fields
        ]
    return {
        "text": _clip(f"{notice.headline}: {notice.visitor} - {notice.link}", SECTION_TEXT_MAX),
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _clip(notice.headline, HEADER_MAX)},
            },
            section,
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "open_conversation",
                        "text": {"type": "plain_text", "text": _line("slack_button")},
                        "url": notice.link,
                        "style": "primary",
                    }
                ],
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": _line("slack_context", mrkdwn(notice.when))}
                ],
            },
        ],
    }
