"""Funnel analytics over real conversations: four scripted visitors through the running
stack, then the report read from its tracker store and lead store, checked exactly."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from bot.analytics.report import build_report
from bot.storage.engine import make_engine
from tests.e2e.stack import ROOT, Stack
from tests.e2e.test_outcomes import answer_all

pytestmark = pytest.mark.e2e

HOT = [
    "Hana Hot",
    "hana@bigcorp.com",
    "VP of Sales",
    "BigCorp",
    "about 1,000 people",
    "six figures",
    "this quarter",
]
COLD = [
    "Carl Cold",
    "carl@gmail.com",
    "student",
    "Uni",
    "just me",
    "no budget",
    "just looking around",
]


def test_the_funnel_counts_scripted_conversations_exactly(stack: Stack) -> None:
    # Earlier tests' conversations on this stack must start before the window does.
    time.sleep(1.1)
    since = datetime.now(timezone.utc)

    hot = stack.conversation({"page_url": "https://acme.test/pricing?utm_campaign=launch"})
    answer_all(hot, HOT)
    assert "You're booked" in hot.click(payload_prefix="/choose_meeting")
    cold = stack.conversation({"page_url": "https://acme.test/blog"})
    answer_all(cold, COLD)
    declined = stack.conversation({"page_url": "https://acme.test/blog"})
    declined.reply("/greet")
    declined.reply("I'd like a demo")
    declined.reply("no")
    opened = stack.conversation({"page_url": "https://acme.test/"})
    opened.reply("/greet")

    until = datetime.now(timezone.utc) + timedelta(seconds=1)
    engine = make_engine(stack.env["DATABASE_URL"])
    report = build_report(engine, stack.env["TRACKER_STORE_URL"], since, until).as_dict()
    engine.dispose()

    steps = report["steps"]
    assert (steps["opened"], steps["first_message"], steps["consented"]) == (4, 3, 2)
    assert all(steps[f"answered_{q}"] == 2 for q in ("name", "email", "budget", "timeline"))
    assert (steps["scored"], steps["sales_qualified"], steps["booked"], steps["nurtured"]) == (
        2,
        1,
        1,
        1,
    )
    assert report["questions"]["email"]["asked"] == 2
    assert report["questions"]["email"]["drop_off"] == 0
    assert report["speed_to_lead"]["leads"] == 1 and report["speed_to_lead"]["median_s"] > 0
    assert report["by_page"]["/pricing"] == {
        "opened": 1,
        "consented": 1,
        "sales_qualified": 1,
        "booked": 1,
    }
    assert report["by_page"]["/blog"]["opened"] == 2
    assert report["by_campaign"]["launch"]["booked"] == 1

    # The operator's command reads the same stores; nothing personal in what it prints.
    printed = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--since", "1d", "--json"],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(printed)["steps"]["booked"] >= 1
    for personal in ("hana@bigcorp.com", "Hana", "carl@gmail.com", hot.sender, cold.sender):
        assert personal not in printed
