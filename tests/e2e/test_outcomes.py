"""Outcomes end to end: a hot visitor books a meeting with a rep who receives the email and
the invite; a cold one lands on the nurture track and receives step one from the worker."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.stack import Conversation, Stack

pytestmark = pytest.mark.e2e

REPS = {"ada@example.com", "grace@example.com", "linus@example.com"}


def answer_all(chat: Conversation, answers: list[str], nurture: str = "yes please") -> str:
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply(nurture)
    reply = ""
    for answer in answers:
        reply = chat.reply(answer)
    return reply


def test_a_hot_visitor_books_a_meeting_and_the_rep_gets_it(stack: Stack) -> None:
    chat = stack.conversation(
        {"page_url": "https://example.com/pricing", "timezone": "Europe/Berlin", "locale": "de-DE"}
    )
    offer = answer_all(
        chat,
        [
            "Dana Director",
            "dana@bigcorp.com",
            "Director of Operations",
            "BigCorp",
            "about 1,000 people",
            "six figures",
            "this quarter",
        ],
    )
    assert "would love to talk" in offer and "Europe/Berlin" in offer
    slots = [b for b in chat.buttons if b["payload"].startswith("/choose_meeting")]
    assert len(slots) == 3 and all("(Europe/Berlin)" in b["title"] for b in slots)
    assert {"Show later times", "Call me back instead"} <= {b["title"] for b in chat.buttons}

    later = chat.click("Show later times")
    assert "later times" in later
    later_slots = [b for b in chat.buttons if b["payload"].startswith("/choose_meeting")]
    assert later_slots and later_slots[0]["payload"] not in {b["payload"] for b in slots}

    chosen_title = later_slots[0]["title"]
    booked = chat.click(payload_prefix="/choose_meeting")
    assert "You're booked" in booked and chosen_title in booked
    invite_url = booked.split("calendar now: ")[1].split()[0]

    lead = chat.lead()
    assert lead["outcome"] == "meeting_booked" and lead["tier"] == "sales_qualified"
    assert lead["score"] >= 60 and lead["score_breakdown"]
    assert lead["rep_email"] == "ada@example.com"  # enterprise segment (1,000+ employees)
    assert lead["meeting_start"].endswith("Z")
    assert (lead["company_size"], lead["budget_usd"], lead["timeline_months"]) == (1000, 100000, 0)

    # The visitor's invite link serves a real calendar invite.
    invite = requests.get(invite_url.replace("http://127.0.0.1:8080", stack.web_url), timeout=10)
    assert invite.status_code == 200 and "BEGIN:VCALENDAR" in invite.text

    # The rep receives an email with the lead's answers, the score breakdown and an invite.
    # (Earlier tests on the same stack may have booked Ada too: find this visitor's email.)
    email = stack.mail.wait_for(
        lambda m: "ada@example.com" in str(m["To"]) and "Dana Director" in str(m["Subject"])
    )
    body = email.get_body(preferencelist=("plain",)).get_content()
    assert "Dana Director" in body and "BigCorp" in body and "budget" in body.lower()
    attachments = {part.get_filename(): part.get_content() for part in email.iter_attachments()}
    ics = next(content for name, content in attachments.items() if name.endswith(".ics"))
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "BEGIN:VCALENDAR" in ics and "DTSTART" in ics and "dana@bigcorp.com" in ics.lower()


def test_a_cold_visitor_is_nurtured_and_gets_step_one(stack: Stack) -> None:
    chat = stack.conversation({"page_url": "https://example.com/blog"})
    done = answer_all(
        chat,
        [
            "Stu Dent",
            "stu.dent@gmail.com",
            "student",
            "University of Somewhere",
            "just me",
            "no budget",
            "just looking around",
        ],
    )
    assert "send you a few resources" in done
    lead = chat.lead()
    assert lead["outcome"] == "nurture" and lead["tier"] == "cold"
    assert lead["meeting_start"] is None
    email = stack.mail.wait_for(lambda m: "stu.dent@gmail.com" in str(m["To"]))
    body = email.get_body(preferencelist=("plain",)).get_content()
    assert "Stu" in email["Subject"] and "/unsubscribe/" in body


def test_without_nurture_consent_nothing_is_ever_sent(stack: Stack) -> None:
    chat = stack.conversation()
    answer_all(
        chat,
        [
            "Nora None",
            "nora@quiet.io",
            "student",
            "Quiet Uni",
            "just me",
            "no budget",
            "just researching",
        ],
        nurture="no thanks",
    )
    lead = chat.lead()
    assert lead["outcome"] == "none" and lead["nurture_consent"] is False
    with pytest.raises(AssertionError):
        stack.mail.wait_for(lambda m: "nora@quiet.io" in str(m["To"]), timeout=5)


def test_a_hot_visitor_can_ask_for_a_call_back(stack: Stack) -> None:
    chat = stack.conversation({"timezone": "America/New_York"})
    answer_all(
        chat,
        ["Cal Back", "cal@acme-us.com", "VP Marketing", "Acme US", "300", "80k", "asap"],
    )
    assert "call you back" in chat.click("Call me back instead")
    lead = chat.lead()
    assert lead["needs_human"] is True and lead["outcome"] != "meeting_booked"
    # The promise is kept: the rep gets the request (and the answers) by email.
    mail = stack.mail.wait_for(lambda m: "Call back requested: Cal Back" in str(m["Subject"]))
    assert str(mail["To"]) == lead["rep_email"] and "cal@acme-us.com" in str(mail["Reply-To"])


def test_typed_choices_work_too(stack: Stack) -> None:
    chat = stack.conversation({"timezone": "Europe/London"})
    offer = answer_all(
        chat,
        [
            "Tia Typist",
            "tia@typeco.co.uk",
            "Chief Operating Officer",
            "TypeCo",
            "250",
            "£60k a year",
            "next month",
        ],
    )
    assert "would love to talk" in offer
    assert "later times" in chat.reply("none of these work for me, sorry")
    titles = [b["title"] for b in chat.buttons if b["payload"].startswith("/choose_meeting")]
    booked = chat.reply("the second one please")
    assert "You're booked" in booked and titles[1] in booked
    assert chat.lead()["outcome"] == "meeting_booked"
