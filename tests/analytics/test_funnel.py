"""The funnel from tracker events: each milestone counted once, per day, question, page and
campaign, with the numbers checked exactly."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.analytics.charts import all_charts
from bot.analytics.funnel import LeadOutcome, funnel, render_text, with_outcomes
from bot.analytics.journeys import journey
from bot.analytics.report import parse_span

ROOT = Path(__file__).resolve().parents[2]
DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
DAY2 = DAY1 + timedelta(days=1)


class Script:
    """Tracker events as Rasa stores them, one conversation, a second apart."""

    def __init__(self, start: datetime, page: str = "https://acme.test/", **metadata: str):
        self.clock = start.timestamp()
        self.events: List[Dict[str, Any]] = []
        self.metadata = {"page_url": page, **metadata}

    def _add(self, event: Dict[str, Any]) -> Script:
        self.clock += 1
        self.events.append({**event, "timestamp": self.clock})
        return self

    def user(self, text: str) -> Script:
        return self._add({"event": "user", "text": text, "metadata": self.metadata})

    def bot(self, response: str, **metadata: Any) -> Script:
        return self._add(
            {"event": "bot", "text": "…", "metadata": {"utter_action": response, **metadata}}
        )

    def slot(self, name: str, value: Any) -> Script:
        return self._add({"event": "slot", "name": name, "value": value})

    def answers(self, *slots: str) -> Script:
        for slot in slots:
            self.bot(f"utter_ask_{slot}").user("an answer").slot(slot, "a value")
        return self


ALL = ("name", "email", "role", "company", "company_size", "budget", "timeline")


def scripted(day1: datetime = DAY1) -> Dict[str, Script]:
    """Six visitors over two days (`day1` and the next), from three pages and two campaigns."""
    day2 = day1 + timedelta(days=1)
    hot = Script(day1, "https://acme.test/pricing?utm_campaign=spring", utm_campaign="spring")
    hot.user("/greet").user("I'd like a demo").slot("consent", True).answers(*ALL)
    hot.slot("lead_tier", "sales_qualified").user("/choose_meeting").slot("meeting_invite_url", "u")
    cold = Script(day1, "https://acme.test/blog/post?utm_campaign=spring")
    cold.user("hi there").slot("consent", True).answers(*ALL).slot("lead_tier", "cold")
    declined = Script(day1).user("/greet").user("demo please").slot("consent", False)
    only_opened = Script(day2).user("/greet")
    stopped = Script(day2, "https://acme.test/blog/other").user("hello").slot("consent", True)
    stopped.answers("name", "email", "role", "company", "company_size").bot("utter_ask_budget")
    reasked = Script(day2).user("hey").slot("consent", True).answers("name")
    reasked.bot("utter_ask_email").user("nope").bot("utter_invalid_email_no_at")
    reasked.user("x@acme.test").slot("email", "x@acme.test").bot("utter_ask_role")
    # Re-asks of company_size must not count for company (longest question name wins).
    reasked.bot("utter_invalid_company_size_zero")
    return {
        "hot": hot,
        "cold": cold,
        "declined": declined,
        "opened": only_opened,
        "stopped": stopped,
        "reasked": reasked,
    }


def report():
    journeys = [journey(f"visitor-{name}", script.events) for name, script in scripted().items()]
    outcomes = {"visitor-cold": LeadOutcome(tier="cold", outcome="nurture", booked_at=None)}
    return funnel(with_outcomes(journeys, outcomes), DAY1, DAY2 + timedelta(days=1))


def test_each_step_counts_the_conversations_that_reached_it() -> None:
    assert report().steps == {
        "opened": 6,
        "first_message": 5,  # the widget's hidden /greet is not a visitor's message
        "consented": 4,
        "answered_name": 4,
        "answered_email": 4,
        "answered_role": 3,
        "answered_company": 3,
        "answered_company_size": 3,
        "answered_budget": 2,
        "answered_timeline": 2,
        "scored": 2,
        "sales_qualified": 1,
        "booked": 1,
        "nurtured": 1,  # from the lead store
    }


def test_per_day_by_the_day_the_widget_was_opened() -> None:
    daily = report().daily
    assert list(daily) == ["2026-03-02", "2026-03-03"]
    assert (daily["2026-03-02"]["opened"], daily["2026-03-02"]["booked"]) == (3, 1)
    assert (daily["2026-03-03"]["opened"], daily["2026-03-03"]["consented"]) == (3, 2)


def test_drop_off_and_re_asks_per_question() -> None:
    questions = report().as_dict()["questions"]
    assert questions["budget"] == {
        "asked": 3,
        "answered": 2,
        "drop_off": 1,
        "drop_off_rate": 0.333,
        "reasked": 0,
        "reask_rate": 0.0,
        "asks_per_conversation": 1.0,
    }
    assert questions["email"]["reask_rate"] == 0.25 and questions["email"]["drop_off"] == 0
    assert questions["role"]["drop_off"] == 1  # asked after the corrected email, never answered
    assert questions["company"]["reask_rate"] == 0.0
    assert questions["company_size"]["asked"] == 3 and questions["company_size"]["reasked"] == 1


def test_speed_to_lead_from_first_message_to_booking() -> None:
    data = report().as_dict()["speed_to_lead"]
    hot = scripted()["hot"].events
    first = next(e for e in hot if e.get("text") == "I'd like a demo")["timestamp"]
    booked = next(e for e in hot if e.get("name") == "meeting_invite_url")["timestamp"]
    assert data == {"leads": 1, "median_s": booked - first, "p90_s": booked - first}


def test_speed_to_lead_from_first_message_to_a_reps_first_reply() -> None:
    """A rep who took over the chat (bot/web/handoff.py appends their message as a bot event
    naming them) reached the lead; so did a booking, whichever came first."""
    # Events are a second apart: the rep's first message is 2 s after the first message.
    talked = Script(DAY1).user("/greet").user("can I talk to a person?")
    talked.bot("utter_handoff_requested").bot("…", rep="hana@example.com")
    talked.bot("…", rep="hana@example.com")
    # Booked 24 s after "hi" (consent, 7 questions of 3 events, the tier); a rep wrote later.
    both = Script(DAY1).user("hi").slot("consent", True).answers(*ALL)
    both.slot("lead_tier", "sales_qualified").slot("meeting_invite_url", "u")
    both.bot("…", rep="olaf@example.com")
    bot_only = Script(DAY1).user("hello").bot("utter_greet")  # nobody reached them
    journeys = [
        journey(name, script.events)
        for name, script in {"talked": talked, "both": both, "bot": bot_only}.items()
    ]
    data = funnel(journeys, DAY1, DAY2).as_dict()["speed_to_lead"]
    assert [j.speed_to_lead_s for j in journeys] == [2.0, 24.0, None]
    assert data == {"leads": 2, "median_s": 13.0, "p90_s": 24.0}


def test_breakdowns_by_page_and_campaign() -> None:
    data = report().as_dict()
    assert data["by_page"]["/pricing"] == {
        "opened": 1,
        "consented": 1,
        "sales_qualified": 1,
        "booked": 1,
    }
    assert data["by_page"]["/"]["opened"] == 3
    assert data["by_campaign"]["spring"] == {
        "opened": 2,
        "consented": 2,
        "sales_qualified": 1,
        "booked": 1,
    }
    assert data["by_campaign"]["(none)"]["opened"] == 4


def test_only_the_window_counts() -> None:
    journeys = [journey(f"visitor-{name}", script.events) for name, script in scripted().items()]
    assert funnel(journeys, DAY2, DAY2 + timedelta(days=1)).steps["opened"] == 3


def test_no_personal_data_in_the_report() -> None:
    text = json.dumps(report().as_dict()) + render_text(report())
    ids = [f"visitor-{name}" for name in scripted()]
    for personal in ("x@acme.test", "I'd like a demo", "an answer", "nope", *ids):
        assert personal not in text


def test_charts_are_svg_with_the_numbers() -> None:
    charts = all_charts(report())
    assert set(charts) == {"funnel", "daily", "questions"}
    assert all(
        svg.startswith("<svg") and svg.rstrip().endswith("</svg>") for svg in charts.values()
    )


@pytest.mark.parametrize(
    "span, expected",
    [("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), (" 2w", timedelta(weeks=2))],
)
def test_spans(span: str, expected: timedelta) -> None:
    assert parse_span(span) == expected


@pytest.mark.parametrize("span", ["", "30", "0d", "thirty days", "-3d", "3y"])
def test_bad_spans_are_refused(span: str) -> None:
    with pytest.raises(ValueError, match="like 30d"):
        parse_span(span)


def test_the_command_on_a_fresh_install(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'leads.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "SECRET_KEY_FILE": str(tmp_path / "key"),
    }
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run("db", "upgrade").returncode == 0
    result = run("report", "--since", "7d", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["steps"]["opened"] == 0
    text = run("report")
    assert text.returncode == 0 and "opened" in text.stdout and "speed to lead" in text.stdout
    bad = run("report", "--since", "forever")
    assert bad.returncode == 2 and "like 30d" in bad.stderr


def test_charts_inline_under_a_policy_without_inline_styles() -> None:
    """The inbox forbids inline styles: the charts' colours are presentation attributes, and
    each chart's ids are its own, so three charts on one page don't reach into each other."""
    charts = all_charts(report())
    ids = []
    for name, svg in charts.items():
        assert "style" not in svg and "<metadata" not in svg
        assert 'fill="#2563eb"' in svg  # the bars' blue survives as an attribute
        assert f'role="img" aria-labelledby="chart-{name}-caption"' in svg
        own = re.findall(r'\sid="([^"]+)"', svg)
        assert own and all(i.startswith(f"chart-{name}-") for i in own)
        refs = re.findall(r'(?:href="#|url\(#)([^")]+)', svg)
        assert refs and set(refs) <= set(own)
        ids += own
    assert len(ids) == len(set(ids))


def test_a_reask_said_in_place_of_the_question_counts_as_a_reask() -> None:
    """The form utters `utter_ask_<slot>` itself; rasa_ext/nlg.py renders the re-ask instead
    and names it in the message's metadata."""
    said = Script(DAY1).user("hey").slot("consent", True).answers("name")
    said.bot("utter_ask_email").user("nope")
    said.bot("utter_ask_email", reask_response="utter_invalid_email_no_at")
    seen = journey("c", said.events)
    assert seen.asked["email"] == 1 and seen.reasked["email"] == 1


def test_the_text_report_counts_speed_to_lead_in_words_that_agree() -> None:
    text = render_text(report())
    leads = report().as_dict()["speed_to_lead"]["leads"]
    assert f"speed to lead: {leads} lead{'' if leads == 1 else 's'}," in text
