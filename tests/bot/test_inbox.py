"""Reps' inbox data: meetings, recent leads, CSV, tokens, transcripts; the score CLI."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

from bot.booking.feeds import rep_feed_token, rep_for_feed_token
from bot.booking.reps import load_reps
from bot.booking.service import BookingService
from bot.config.secret import resolve_secret_key
from bot.config.settings import PROJECT_ROOT
from bot.leads.queries import recent_leads, upcoming_meetings
from bot.leads.record import leads_csv
from bot.leads.store import LeadStore
from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.tracker import TranscriptLine, transcript
from bot.web.auth import check_token
from bot.web.urls import PublicUrls
from tests.bot.factories import Clock, make_lead

REPS = load_reps(PROJECT_ROOT / "config" / "reps.yml")

URLS = PublicUrls("http://127.0.0.1:8080")


def test_meetings_leads_and_csv(sqlite_url: str) -> None:
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    clock = Clock()
    store = LeadStore(make_engine(sqlite_url))
    make_lead(store, "c1")
    make_lead(store, "c2", name='=HYPERLINK("x")')
    service = BookingService(make_engine(sqlite_url), REPS, clock, URLS)
    offer = service.offer("c1")
    service.book("c1", offer.rep.email, offer.slots[0])
    with unit_of_work(make_session_factory(make_engine(sqlite_url))) as session:
        [meeting] = upcoming_meetings(session, clock())
        assert meeting.name == "Jane Doe" and meeting.rep_email == offer.rep.email
        assert upcoming_meetings(session, clock.now.replace(year=2027)) == []
        leads = recent_leads(session, 10)
    assert [lead.conversation_id for lead in leads] == ["c2", "c1"]
    assert leads[1].to_download()["answers"]["company_size"] == {
        "text": "about 450",
        "status": "ok",
    }
    assert leads[1].score_breakdown[0]["rule"] == "seniority.vp"
    assert leads[1].source_page == "https://example.test/pricing"
    rows = list(csv.DictReader(io.StringIO(leads_csv(leads))))
    assert rows[1]["outcome"] == "meeting_booked" and rows[1]["company_size"] == "450"
    assert rows[0]["name"].startswith("'=")  # no formula injection


def test_tokens(tmp_path: Path) -> None:
    assert check_token("abc", "abc") and not check_token("abd", "abc")
    assert not check_token("", "") and not check_token("x", "")  # empty: inbox disabled
    key = resolve_secret_key("", tmp_path / "var" / "secret_key")
    assert key == resolve_secret_key("", tmp_path / "var" / "secret_key")  # stable once made
    assert oct((tmp_path / "var" / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert resolve_secret_key("set", tmp_path / "other") == b"set"
    token = rep_feed_token(key, "ada@example.com")
    assert rep_for_feed_token(key, REPS, token).email == "ada@example.com"
    assert rep_for_feed_token(key, REPS, "0" * 32) is None
    assert rep_for_feed_token(b"other", REPS, token) is None
    assert token != rep_feed_token(key, "grace@example.com")


def test_transcript() -> None:
    events = [
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
        {"event": "user", "text": "hi", "timestamp": 1764000000.0},
        {"event": "bot", "text": "Hello! I'm a bot.", "timestamp": 1764000001.5},
        {"event": "bot", "text": None, "data": {"buttons": [{"title": "Yes"}, {"title": "No"}]}},
        {"event": "slot", "name": "email", "value": "x"},
    ]
    assert transcript(events) == [
        TranscriptLine("visitor", "hi", datetime(2025, 11, 24, 16, 0, 0, tzinfo=timezone.utc)),
        TranscriptLine(
            "bot", "Hello! I'm a bot.", datetime(2025, 11, 24, 16, 0, 1, 500000, timezone.utc)
        ),
        TranscriptLine("bot", "Yes | No", None),
    ]


def test_score_explain_cli(sqlite_url: str, monkeypatch, capsys) -> None:
    from bot.cli import main
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    store = LeadStore(make_engine(sqlite_url))
    make_lead(store, "c1")
    assert main(["score", "--explain", "c1"]) == 0
    assert "+25  vp role  [seniority.vp]" in capsys.readouterr().out
    store.start("c2", "v1")
    store.record_answer("c2", "role", "student", "ok", {"role": "Student", "seniority": "student"})
    assert main(["score", "--explain", "c2"]) == 0
    out = capsys.readouterr().out
    assert "not scored yet" in out and "-30  student" in out
    assert main(["score", "--explain", "nobody"]) == 1
    assert main(["score"]) == 0 and "ok" in capsys.readouterr().out
