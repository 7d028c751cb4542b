"""Words the visitor reads come from data: templates, the nurture file, the locale."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.booking import wording
from bot.booking.availability import format_slot
from bot.booking.reps import load_reps
from bot.booking.service import lead_summary
from bot.config.settings import PROJECT_ROOT, Settings, SettingsError
from bot.nurture.service import render
from bot.storage.models import Lead

START = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)  # a Wednesday


def test_meeting_times_use_the_locale_names() -> None:
    assert format_slot(START, "Europe/Berlin") == "Wed 25 Nov, 10:00 (Europe/Berlin)"
    assert format_slot(START, "Europe/Berlin", "de_DE") == "Mi. 25 Nov., 10:00 (Europe/Berlin)"
    assert format_slot(START, None, "fr") == "mer. 25 nov., 09:00 (UTC)"
    assert Settings.from_env({"LOCALE": "de-DE"}).locale == "de_DE"
    with pytest.raises(SettingsError, match="LOCALE"):
        Settings.from_env({"LOCALE": "not a locale"})


def test_email_fallback_words_live_in_the_template() -> None:
    template = "Hi {first_name|there}, a note for {company|your team}."
    assert (
        render(template, {"first_name": "", "company": None}) == "Hi there, a note for your team."
    )
    assert (
        render(template, {"first_name": "Jane", "company": "Acme"}) == "Hi Jane, a note for Acme."
    )
    assert "{first_name|there}" in (PROJECT_ROOT / "config" / "nurture.yml").read_text()


def test_invite_text_comes_from_templates() -> None:
    rep = load_reps(PROJECT_ROOT / "config" / "reps.yml").reps[0]
    named = Lead(name="Jane Doe", company="Acme")
    assert wording.text("invite_summary.txt", lead=named, rep=rep) == (
        f"Intro call: Jane Doe (Acme) / {rep.name}"
    )
    anonymous = wording.text("invite_description.txt", lead=Lead(), rep=rep)
    assert anonymous.splitlines() == [
        "Booked through the website assistant.",
        f"Rep: {rep.name} <{rep.email}>",
        "Visitor: a website visitor",
    ]


def test_fallback_words_live_in_the_domain() -> None:
    """A rep's name when none is known, and a yes/no read back, are responses in domain.yml
    (actions/common.py `phrase`), not strings in the actions or the conversation code."""
    import yaml

    folders = ("actions", "bot/conversation", "bot/leads")
    code = "\n".join(p.read_text() for d in folders for p in (PROJECT_ROOT / d).rglob("*.py"))
    for words in ('"our team"', '"our sales team"', '"yes" if', 'else "no"'):
        assert words not in code
    responses = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["responses"]
    assert responses["utter_phrase_sales_team"] == [{"text": "our sales team"}]
    assert responses["utter_phrase_team"] == [{"text": "our team"}]


def _string_literals(folders: tuple) -> str:
    """Every string literal in the Python under `folders`, docstrings and comments left out
    (they may quote an answer as an example)."""
    import ast

    found = []
    for folder in folders:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(
                    node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
                )
                and node.body
                and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
            }
            found += [
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ]
    return "\n".join(found)


def test_answer_read_backs_live_in_the_domain() -> None:
    """An answer as the visitor reads it back and as reps see what was understood is worded by
    domain.yml's `utter_phrase_*` responses (bot/conversation/questions.py `display_value`),
    the same words on both sides, and none of them in Python."""
    import yaml

    from bot.conversation.questions import QUESTION_LABELS, display_value

    code = _string_literals(("actions", "bot/conversation", "bot/leads", "bot/web", "bot/handoff"))
    for words in (
        "per year",
        " people",
        "1 person",
        "not given",
        "prefer not to say",
        "not sure yet",
        "just researching",
        "no budget yet",
        "as soon as possible",
        "in about",
        "company size",
    ):
        assert words not in code
    responses = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["responses"]
    assert responses["utter_phrase_budget"] == [{"text": "${amount} per year"}]
    assert responses["utter_phrase_label_company_size"] == [{"text": "company size"}]
    assert display_value("budget", 120000) == "$120,000 per year"
    assert display_value("company_size", 1) == "1 person"
    assert display_value("company_size", 2500) == "2,500 people"
    assert display_value("company_size", 1234567, "en") == "1,234,567 people"
    assert display_value("budget", 2500, "de_DE") == "$2.500 per year"  # LOCALE's digits
    assert "{:,}" not in code and ":,}" not in "".join(
        p.read_text() for p in (PROJECT_ROOT / "bot").rglob("*.py")
    )
    assert display_value("timeline", 3) == "in about 3 months"
    assert display_value("timeline", "unknown") == "just researching"
    assert display_value("budget", "declined") == "prefer not to say"
    assert dict(QUESTION_LABELS)["company_size"] == "company size"


def test_the_wait_is_worded_by_the_locale() -> None:
    """How long a visitor waits for a rep ({wait} in utter_handoff_requested, the reps' email
    and queue page) is worded by Babel from the locale's data, not by Python."""
    from bot.handoff.notify import wait_text

    assert [wait_text(s) for s in (1, 45, 60, 90, 120, 300)] == [
        "1 second",
        "45 seconds",
        "60 seconds",
        "2 minutes",
        "2 minutes",
        "5 minutes",
    ]
    assert wait_text(120, "de_DE") == "2 Minuten"
    code = _string_literals(("actions", "bot/handoff"))
    assert " seconds" not in code and " minutes" not in code


def test_handoff_notice_words_live_in_templates() -> None:
    """What reps read about a handoff (email subjects, the Slack message) comes from
    bot/handoff/templates, not from Python."""
    from bot.handoff.notify import Notice, slack_message

    code = _string_literals(("bot/handoff",))
    for words in (
        "Call back requested",
        "Open the conversation",
        "in the chat",
        "Routed to",
        "website visitor",
    ):
        assert words not in code
    notice = Notice(
        kind="live",
        visitor="Jane <Doe>",
        when="Tue 2 Dec, 14:05 (UTC)",
        link="https://example.com/h/1",
        wait_text="2 minutes",
        rep_name="Ann",
    )
    message = slack_message(notice)
    assert message["blocks"][1]["text"]["text"] == (
        "*Jane &lt;Doe&gt;* is waiting in the chat. Take over within 2 minutes."
    )
    assert message["blocks"][1]["fields"] == [{"type": "mrkdwn", "text": "*Routed to*\nAnn"}]
    assert message["blocks"][3]["elements"][0]["text"] == "Asked Tue 2 Dec, 14:05 (UTC)"


def test_booking_words_live_in_templates() -> None:
    """Who a nameless visitor is in the meeting emails, and the reps' webhook line, are worded
    by the templates (bot/emails/templates, bot/booking/templates), not by the booking code."""
    rep = load_reps(PROJECT_ROOT / "config" / "reps.yml").reps[0]
    code = _string_literals(("bot/booking",))
    for words in (
        "website visitor",
        '"there"',
        "Meeting with",
        "booked for",
        "employees",
        "a year",
        "Leadbot meetings",
    ):
        assert words not in code
    assert "Cancelled" not in _string_literals(("bot/leads",))  # the erased meeting's invite
    line = wording.text("rep_webhook.txt", rep=rep, lead=Lead(score=40), change="moved", when="W")
    assert line == f"Meeting with {rep.name} moved to W: visitor, score 40"
    assert wording.text("feed_name.txt", rep=rep) == f"Leadbot meetings: {rep.name}"
    # The rep's email words an answer as the visitor reads it back ("per year", not "a year").
    summary = lead_summary(Lead(company_size=45, budget_usd=0, timeline_months=2), {})
    assert "company size: 45 people" in summary and "budget: no budget yet" in summary
    assert "timeline: in about 2 months" in summary and "name: -" in summary


def test_handoff_labels_live_in_the_inbox_templates() -> None:
    """A handoff's kind and state on the reps' pages are worded by inbox/_macros.html."""
    from bot.web.templating import Pages

    code = _string_literals(("bot/web",))
    for words in ("A call back", "Taken over", "Missed:", "Handed back"):
        assert words not in code
    macros = Pages().env.get_template("inbox/_macros.html").module
    missed = {"kind": "callback", "state": "missed", "missed_reason": "off_hours"}
    assert str(macros.handoff_kind(missed)) == "A call back"
    assert str(macros.handoff_state(missed)) == "Missed: outside working hours"


def test_transcript_words_live_in_the_inbox_templates() -> None:
    """Who said a transcript line, a clicked button and the take-over notes (the handoff page
    and its events.json) are worded by inbox/transcript.txt, not by bot/web/handoff.py."""
    from types import SimpleNamespace

    from bot.web.handoff import transcript_lines
    from bot.web.templating import Pages

    code = _string_literals(("bot/web",))
    for words in ("Visitor", "Assistant", "clicked:", "A person took", "back in the conversation"):
        assert words not in code
    reps = SimpleNamespace(
        rep=lambda email: SimpleNamespace(name="Ann") if email == "a@x" else None
    )
    events = [
        {"event": "user", "text": "hi <b>", "timestamp": 1764684000.5},
        {"event": "user", "text": '/request_human{"x":1}', "timestamp": 1764684001},
        {"event": "user", "text": "/<b>&"},
        {"event": "bot", "text": "Hello", "data": {"buttons": [{"title": "Yes"}, {"title": "No"}]}},
        {"event": "pause", "timestamp": 1764684003},
        {"event": "pause"},
        {"event": "bot", "text": "I am Ann", "metadata": {"rep": "a@x"}},
        {"event": "bot", "text": "Other", "metadata": {"rep": "b@x"}},
        {"event": "resume"},
        {"event": "action", "name": "x"},
    ]
    lines = transcript_lines(events, reps, Pages())
    assert [(line["who"], line["label"], line["text"]) for line in lines] == [
        ("visitor", "Visitor", "hi <b>"),
        ("visitor", "Visitor", "(clicked: request human)"),
        ("visitor", "Visitor", "(clicked: <b>&)"),
        ("bot", "Assistant", "Hello\n[Yes | No]"),
        ("note", "", "A person took over; the assistant is silent."),
        ("rep", "Ann", "I am Ann"),
        ("rep", "b@x", "Other"),
        ("note", "", "The assistant is back in the conversation."),
    ]
    assert (
        lines[0]["at_label"] == "14:00:00 UTC" and lines[0]["at"] == "2025-12-02T14:00:00.500000Z"
    )
    assert lines[2]["at_label"] == "" and lines[2]["ts"] == 0


def test_web_messages_live_in_the_messages_template() -> None:
    """What the web routes say to a rep outside a page's own words (message pages, errors
    above a form, plain-text 404s) is worded by bot/web/templates/messages.txt."""
    from bot.web.templating import Pages

    code = _string_literals(("bot/web",))
    for words in (
        "This form has expired",
        "No such",
        "doesn't work",
        "Wrong email",
        "Too many failed",
        "passwords differ",
        "already taken",
        "not reachable;",
        "Write a message",
        "already ended",
        "for this link",
    ):
        assert words not in code
    pages = Pages()
    said = {
        "form_expired": "The page was open too long or came from somewhere else. Go back, "
        "reload it and try again.",
        "form_too_long": "That form is too large.",
        "no_handoff": "This handoff does not exist (or it was erased).",
        "login_too_large": "That form was too large.",
        "login_throttled": "Too many failed sign-ins. Wait a few minutes, then try again.",
        "login_wrong": "Wrong email or password.",
        "passwords_differ": "The two passwords differ.",
        "handoff_taken": "Someone else has already taken this conversation, or it has ended.",
        "handoff_not_paused": "The chat server is not reachable, so the bot could not be paused.",
        "handoff_take_first": "Take the conversation over first.",
        "handoff_not_sent": "The chat server is not reachable; the message was not sent.",
        "handoff_ended": "This conversation has already ended.",
        "handoff_not_resumed": "The chat server is not reachable; try again in a moment.",
        "no_feed": "No calendar feed for this link.",
        "no_invite": "No meeting for this link.",
    }
    assert {name: pages.say(name) for name in said} == said
    assert pages.say("handoff_message_length", most=2000) == (
        "Write a message of 1 to 2000 characters."
    )
    assert pages.say("password_too_short", limit=12) == "A password needs at least 12 characters."
    assert pages.say("password_too_long", limit=1024) == "A password has at most 1024 characters."
    assert pages.say("bad_period", error="<b>") == "since: <b>"  # the page escapes it
    assert pages.say("invitation_gone", login="/inbox/login") == (
        "Invitations work once and for a few days. Ask for a new one, or sign in at "
        "/inbox/login if you chose your password already."
    )
    page = pages.notice("no_lead", 404)
    assert page.status == 404
    assert "There is no lead for this conversation (or it was erased)." in page.text
    assert "<title>No such lead" in page.text


def test_scoring_reasons_live_in_a_file_keyed_by_rule(tmp_path: Path) -> None:
    """The reason a rep reads beside a rule that fired is worded by bot/scoring/reasons.yml
    (bands by config/scoring.yml), not by bot/scoring/rules.py."""
    from bot.scoring.rules import REASONS_FILE, LeadFacts, load_rules, score

    code = _string_literals(("bot/scoring",))
    for words in (" role", "asked for a demo", "pricing page", "paid campaign", "personal email"):
        assert words not in code
    rules = load_rules(PROJECT_ROOT / "config" / "scoring.yml")
    facts = LeadFacts(
        seniority="c_level",
        company_size=500,
        timeline_status="unknown",
        email="jane@rival.example",
        email_free_mail=True,
        asked_for_demo=True,
        asked_for_pricing=True,
        page_url="https://example.com/pricing",
        utm_medium="CPC",
    )
    assert {hit.rule: hit.reason for hit in score(facts, rules).hits} == {
        "seniority.c_level": "c-level role",
        "company_size.mid_market": "mid-market company (200-999)",
        "intent.asked_for_demo": "asked for a demo",
        "intent.asked_for_pricing": "asked about pricing",
        "intent.pricing_page": "came via the pricing page",
        "intent.paid_campaign": "arrived from a paid campaign (CPC)",
        "negative.free_mail": "personal email address",
        "negative.just_researching": "just researching, no buying timeline",
        "negative.competitor": "email domain of a competitor",
    }
    student = score(LeadFacts(seniority="student"), rules).hits
    assert [(hit.rule, hit.reason) for hit in student] == [("negative.student", "student")]
    # A band without its own reason in config/scoring.yml is worded by the `band` entry.
    no_reason = tmp_path / "scoring.yml"
    text = (PROJECT_ROOT / "config" / "scoring.yml").read_text()
    no_reason.write_text(text.replace(', reason: "small business (50-199)"', ""))
    smb = score(LeadFacts(company_size=60), load_rules(no_reason)).hits
    assert [hit.reason for hit in smb] == ["company size smb"]
    assert "{field} {band}" in REASONS_FILE.read_text()


def test_hubspot_deal_names_live_in_a_template() -> None:
    """The deal a booked meeting makes in HubSpot is named by bot/crm/templates/deal_name.txt."""
    from bot.crm.hubspot import deal_properties

    assert "website chat" not in _string_literals(("bot/crm",))
    assert "Website visitor" not in _string_literals(("bot/crm",))

    def name(**lead: str | None) -> str:
        return deal_properties(lead, "default", "appointmentscheduled")["dealname"]

    assert name(company="Acme <Ltd>", name="Jane") == "Acme <Ltd> (website chat)"
    assert name(company="", name="Jane Doe") == "Jane Doe (website chat)"
    assert name(company=None) == "Website visitor (website chat)"
    assert name() == "Website visitor (website chat)"


def test_chart_words_live_in_a_file() -> None:
    """The funnel charts' titles, axes and legends are worded by bot/analytics/chart_words.yml."""
    from bot.analytics.charts import _say

    code = _string_literals(("bot/analytics",))
    for words in ("Per day", "dropped off", "% of visitors", "conversations"):
        assert words not in code
    assert _say("funnel_share", count=3, percent="75") == " 3 (75 %)"
    assert _say("daily_title") == "Per day"


# Sentences that stay in Python, and why: the operator's terminal (CLI prompts, start-up lines),
# an HTTP protocol value, and roles the parser normalises an answer to (stored data, not words
# the bot says).
SENTENCES_ALLOWED = {
    "bot/cli.py": ("New password for ",),
    "bot/runtime/launcher.py": ("Leadbot is ready after ", "Leadbot stopped."),
    "bot/web/app.py": ("Leadbot web: ",),
    "bot/web/auth.py": ('Bearer realm="Leadbot exports"',),
    "bot/answers/_role_cues.py": ("Head of department", "Head of ", "Team member", "Team lead"),
}
_LOGGING_AND_ERRORS = {"debug", "info", "warning", "error", "exception", "critical"}


def _sentences(path: Path) -> list:
    """String literals in `path` that read like a sentence for people ("Capital word words"),
    leaving out docstrings, log calls, exceptions and argparse help (developers and operators
    read those)."""
    import ast
    import re

    tree = ast.parse(path.read_text())
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if not re.match(r"[A-Z][a-z]+ [a-z]", node.value):
            continue
        above, developer = parents.get(id(node)), False
        if isinstance(above, ast.Expr):
            continue  # a docstring
        for _ in range(5):
            if above is None:
                break
            if isinstance(above, ast.Raise) or (
                isinstance(above, ast.Call)
                and isinstance(above.func, ast.Attribute)
                and (above.func.attr in _LOGGING_AND_ERRORS or above.func.attr == "add_argument")
            ):
                developer = True
            above = parents.get(id(above))
        if not developer:
            found.append(node.value)
    return found


def test_no_sentences_for_people_in_python() -> None:
    """Words a visitor or a rep reads live in domain.yml, the templates and the YAML word files;
    a new sentence in Python fails here (add it to a template, or to SENTENCES_ALLOWED with
    the reason it is not for visitors or reps)."""
    found = {}
    for folder in ("actions", "bot", "rasa_ext"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            name = path.relative_to(PROJECT_ROOT).as_posix()
            if "/migrations/" in name:
                continue
            extra = [s for s in _sentences(path) if s not in SENTENCES_ALLOWED.get(name, ())]
            if extra:
                found[name] = extra
    assert found == {}
