"""Handoffs to a person: routed to someone working now, recorded and notified in one
transaction, taken by exactly one rep, expired exactly once, erased with the visitor."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.booking.reps import load_reps
from bot.config.settings import PROJECT_ROOT
from bot.handoff.hours import is_working
from bot.handoff.notify import mrkdwn
from bot.handoff.service import HandoffService, Outcome
from bot.handoff.state import TransitionError
from bot.leads.store import LeadStore
from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.models import Handoff, HandoffPush, OutboxItem
from bot.web.urls import PublicUrls
from tests.bot.factories import START, Clock, make_lead

REPS = load_reps(PROJECT_ROOT / "config" / "reps.yml")
WEBHOOK = "https://hooks.slack.test/services/T/B/x"
# Monday 23 November 2026, 10:00 UTC: 11:00 in Berlin (Ada works), 10:00 in London (Grace),
# 05:00 in New York (Linus does not).
WORKING = START + timedelta(hours=3)
# Saturday 28 November, 12:00 UTC: nobody works on Saturdays.
WEEKEND = START + timedelta(days=5, hours=5)


def service(database_url: str, clock: Clock, **kwargs: object) -> HandoffService:
    return HandoffService(
        make_engine(database_url),
        REPS,
        clock,
        PublicUrls("https://bot.example.test"),
        wait_seconds=120,
        rep_webhook_url=WEBHOOK,
        **kwargs,  # type: ignore[arg-type]
    )


def outbox(database_url: str) -> list[OutboxItem]:
    with unit_of_work(make_session_factory(make_engine(database_url))) as session:
        return list(session.execute(select(OutboxItem).order_by(OutboxItem.id)).scalars())


def test_working_hours_are_the_reps_own() -> None:
    ada, grace, linus = REPS.reps
    assert is_working(ada, WORKING) and is_working(grace, WORKING)
    assert not is_working(linus, WORKING)
    assert not any(is_working(rep, WEEKEND) for rep in REPS.reps)
    lunch = START + timedelta(hours=4, minutes=30)  # 12:30 in Berlin: Ada's break
    assert not is_working(ada, lunch) and is_working(grace, lunch)


def test_a_request_is_recorded_routed_and_notified_in_one_go(database_url: str) -> None:
    clock = Clock(WORKING)
    store = LeadStore(make_engine(database_url))
    make_lead(store, "visitor-jane", name="Jane <Doe> & Co")
    handoffs = service(database_url, clock)

    requested = handoffs.request_live("visitor-jane", visitor_tz="Europe/Berlin")

    assert requested.outcome is Outcome.WAITING
    view = requested.handoff
    assert view.state == "waiting" and view.deadline_at == WORKING + timedelta(seconds=120)
    assert requested.rep is not None and is_working(requested.rep, WORKING)
    assert store.get("visitor-jane").needs_human is True
    email, slack = outbox(database_url)
    assert email.kind == "email" and email.payload["to"] == [requested.rep.email]
    assert email.payload["reply_to"] == "jane@acme.test"
    link = f"https://bot.example.test/inbox/handoffs/{view.public_id}"
    assert link in email.payload["text"] and "visitor-jane" not in email.payload["text"]
    assert "Take over within 2 minutes" in email.payload["text"]
    assert "VP Sales" in email.payload["text"]  # the answers, for context
    body = slack.payload["body"]
    assert slack.payload["url"] == WEBHOOK and link in body["text"]
    header, section, actions, context = body["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert section["text"]["type"] == "mrkdwn"
    assert "Jane &lt;Doe&gt; &amp; Co" in section["text"]["text"]  # visitor text escaped
    assert actions["elements"][0]["type"] == "button" and actions["elements"][0]["url"] == link
    assert context["type"] == "context"

    # Asking again while waiting queues nothing new and notifies nobody twice.
    again = handoffs.request_live("visitor-jane")
    assert again.outcome is Outcome.ALREADY_OPEN and again.handoff.id == view.id
    assert len(outbox(database_url)) == 2


def test_outside_working_hours_the_visitor_is_told_at_once(database_url: str) -> None:
    handoffs = service(database_url, Clock(WEEKEND), sales_email="sales@team.test")
    requested = handoffs.request_live("anonymous-1")
    assert requested.outcome is Outcome.OFF_HOURS
    assert requested.handoff.state == "missed" and requested.handoff.missed_reason == "off_hours"
    assert requested.handoff.visitor == "A website visitor"
    (email, _) = outbox(database_url)
    assert email.payload["to"] == ["sales@team.test"]  # SALES_EMAIL wins over the routed rep
    assert "outside everyone's working hours" in email.payload["text"]
    assert "reply_to" not in email.payload  # no consent, no address


def test_a_colleague_who_is_working_gets_it_when_the_leads_rep_is_not(database_url: str) -> None:
    clock = Clock(START + timedelta(hours=4, minutes=30))  # Ada (Berlin) is at lunch
    store = LeadStore(make_engine(database_url))
    make_lead(store, "c1")
    handoffs = service(database_url, clock)
    with unit_of_work(make_session_factory(make_engine(database_url))) as session:
        from bot.storage.models import Lead

        session.execute(
            select(Lead).where(Lead.conversation_id == "c1")
        ).scalar_one().rep_email = "ada@example.com"
    requested = handoffs.request_live("c1")
    assert requested.outcome is Outcome.WAITING and requested.rep.email == "grace@example.com"


def test_only_one_rep_can_take_over(database_url: str) -> None:
    handoffs = service(database_url, Clock(WORKING))
    public_id = handoffs.request_live("c1").handoff.public_id
    results: list = []

    def take(rep: str) -> None:
        try:
            results.append(handoffs.take(public_id, rep).taken_by)
        except TransitionError:
            results.append("refused")

    threads = [
        threading.Thread(target=take, args=(rep,))
        for rep in ("ada@example.com", "grace@example.com", "linus@example.com")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("refused") == 2
    live = handoffs.get(public_id)
    assert live.state == "live" and live.taken_by in results
    assert handoffs.hand_back(public_id).state == "returned"
    with pytest.raises(TransitionError):
        handoffs.close(public_id)


def test_the_deadline_expires_each_handoff_exactly_once(database_url: str) -> None:
    clock = Clock(WORKING)
    first = service(database_url, clock)
    second = service(database_url, clock)
    waiting = first.request_live("c1").handoff
    taken = first.request_live("c2").handoff
    first.take(taken.public_id, "ada@example.com")
    clock.advance(seconds=119)
    assert first.expire_due() == []
    clock.advance(seconds=2)
    expired = first.expire_due() + second.expire_due()
    assert [view.public_id for view in expired] == [waiting.public_id]
    assert expired[0].state == "missed" and expired[0].missed_reason == "timeout"
    assert first.get(taken.public_id).state == "live"  # taken in time: untouched
    queue = first.queue()
    assert [view.state for view in queue] == ["live", "missed"]


def test_a_call_back_is_delivered_to_the_leads_rep(database_url: str) -> None:
    store = LeadStore(make_engine(database_url))
    handoffs = service(database_url, Clock(WEEKEND))
    assert handoffs.request_callback("nobody") is None  # no consent: nothing stored or sent
    make_lead(store, "c1")
    requested = handoffs.request_callback("c1")
    assert requested.outcome is Outcome.CALLBACK and requested.handoff.state == "waiting"
    email, slack = outbox(database_url)
    assert email.payload["subject"].startswith("Call back requested")
    assert slack.payload["body"]["blocks"][0]["text"]["text"] == "Call back requested"
    assert handoffs.close(requested.handoff.public_id).state == "closed"


def test_a_message_left_for_the_rep_is_emailed(database_url: str) -> None:
    handoffs = service(database_url, Clock(WEEKEND))
    assert handoffs.leave_message("c1", "call me") is False  # never asked for anyone
    handoffs.request_live("c1")
    assert handoffs.leave_message("c1", "Please call me on Monday: +44 20 7946 0000")
    message = outbox(database_url)[-1]
    assert message.payload["subject"].startswith("Message from the website chat")
    assert "+44 20 7946 0000" in message.payload["text"]


def test_pushes_and_handoffs_go_with_erasure(database_url: str) -> None:
    engine = make_engine(database_url)
    store = LeadStore(engine)
    make_lead(store, "c1")
    handoffs = service(database_url, Clock(WORKING))
    handoffs.request_live("c1")
    first = handoffs.push("c1", {"text": "Hi, Ada here"})
    handoffs.push("other", {"text": "not yours"})
    assert handoffs.last_push_id("c1") == first
    assert [p.message["text"] for p in handoffs.pushes("c1", 0)] == ["Hi, Ada here"]
    assert handoffs.pushes("c1", first) == []
    store.erase("c1")
    with unit_of_work(make_session_factory(engine)) as session:
        for model in (Handoff, HandoffPush):
            rows = session.execute(select(model.conversation_id)).scalars().all()
            assert "c1" not in rows


def test_slack_text_is_escaped() -> None:
    assert mrkdwn("<@U123> & <!channel>") == "&lt;@U123&gt; &amp; &lt;!channel&gt;"
