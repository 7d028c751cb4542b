"""Funnel analytics over real conversations: four scripted visitors through the running
stack, then the report read from its tracker store and lead store, checked exactly."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot.analytics.report import build_report
from bot.storage.engine import make_engine
from tests.e2e.stack import ROOT, Stack, set_rep_password
from tests.e2e.test_outcomes import answer_all

pytestmark = pytest.mark.e2e

REP_EMAIL = "funnel-rep@example.com"
REP_PASSWORD = "marketing reads the funnel"
FUNNEL = "/inbox/funnel?since=1d"

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
    personal = ("hana@bigcorp.com", "Hana", "carl@gmail.com", hot.sender, cold.sender)
    assert not any(value in printed for value in personal)

    # The inbox's funnel page on the stack `make run` starts (python -m bot serve), for a rep
    # who signed in: the charts and tables over the same stores, nothing personal.
    set_rep_password(stack.env, REP_EMAIL, REP_PASSWORD)
    rep = requests.Session()
    login = rep.get(f"{stack.web_url}/inbox/login", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
    page = rep.post(
        f"{stack.web_url}/inbox/login",
        data={"email": REP_EMAIL, "password": REP_PASSWORD, "csrf": token, "next": FUNNEL},
        timeout=30,
    )
    assert page.status_code == 200 and page.url == f"{stack.web_url}{FUNNEL}"
    assert page.text.count("<svg") == 3 and "Conversations per step" in page.text
    assert "Speed to lead" in page.text and "/pricing" in page.text and "launch" in page.text
    assert not any(value in page.text for value in personal)
