"""Whole conversations over HTTP against the running Rasa server and action server,
checked through what the visitor reads and what `python -m bot leads export` prints."""

from __future__ import annotations

import pytest

from tests.e2e.stack import Conversation, Stack

pytestmark = pytest.mark.e2e

PRICING_PAGE = {
    "page_url": "https://example.com/pricing?utm_source=linkedin&utm_campaign=q4-launch",
    "referrer": "https://www.linkedin.com/",
    "timezone": "Europe/Berlin",
    "locale": "de-DE",
}


def start_form(chat: Conversation, nurture: str = "yes please") -> None:
    """Ask for a demo and give both consents; leaves the bot asking for the name."""
    assert "store your answers" in chat.reply("I'd like to book a demo")
    assert "follow-ups" in chat.reply("yes, that's fine")
    assert "your name" in chat.reply(nurture)


def test_happy_path_stores_a_normalised_lead(stack: Stack) -> None:
    chat = stack.conversation(PRICING_PAGE)
    greeting = chat.reply("hi")
    assert "bot" in greeting and "sales team" in greeting
    consent = chat.say("we're evaluating tools, can I get a demo?")
    assert "privacy policy" in consent[0]["text"] and "version" in consent[0]["text"]
    assert "{" not in consent[0]["text"]  # the settings' values are filled in (rasa_ext/nlg.py)
    assert [b["payload"] for b in consent[0]["buttons"]] == ["/affirm", "/deny"]
    assert "follow-ups" in chat.reply("/affirm")
    assert "your name" in chat.reply("sure, go ahead")
    assert "email" in chat.reply("my name is jane doe")
    assert "role" in chat.reply("Jane.Doe@Acme-Corp.COM")
    assert "company" in chat.reply("I'm the VP of Sales")
    assert "how many people" in chat.reply("I work at Acme Corp")
    assert "budget" in chat.reply("roughly 30 of us")
    assert "when are you hoping" in chat.reply("$1,500 per month")
    # A VP on the pricing page who asked for a demo: sales-qualified, so a meeting is offered.
    offer = chat.reply("half a year")
    assert "would love to talk" in offer
    done = chat.click(payload_prefix="/choose_meeting")
    assert "You're booked" in done

    lead = chat.lead()
    assert lead is not None, chat.transcript
    assert {
        key: lead[key]
        for key in (
            "name",
            "role",
            "seniority",
            "company",
            "company_size",
            "budget_usd",
            "timeline_months",
            "nurture_consent",
            "outcome",
            "status",
            "tier",
        )
    } == {
        "name": "Jane Doe",
        "role": "VP of Sales",
        "seniority": "vp",
        "company": "Acme Corp",
        "company_size": 30,
        "budget_usd": 18000,
        "timeline_months": 6,
        "nurture_consent": True,
        "outcome": "meeting_booked",
        "status": "complete",
        "tier": "sales_qualified",
    }
    assert lead["email"].lower() == "jane.doe@acme-corp.com"
    assert lead["email_free_mail"] is False
    assert lead["consent_at"].endswith("Z") and lead["created_at"].endswith("Z")
    assert lead["source"]["utm_source"] == "linkedin"
    assert lead["source"]["page_url"].startswith("https://example.com/pricing")
    assert lead["source"]["timezone"] == "Europe/Berlin"
    # No personal data in the servers' logs.
    assert "jane" not in stack.log().lower()


def test_declined_consent_stores_nothing_but_still_helps(stack: Stack) -> None:
    chat = stack.visitor()
    chat.reply("can someone from sales contact me?")
    declined = chat.reply("no thanks")
    assert "won't store anything" in declined
    assert "$49" in chat.reply("how much does it cost?")
    assert "bot" in chat.reply("are you a bot?")
    assert "haven't stored anything" in chat.reply("what do you know about me?")
    assert chat.lead() is None
    # Changing one's mind later asks for consent again, never assumes it.
    assert "store your answers" in chat.reply("actually, I'd like a demo after all")


def test_invalid_answers_get_specific_reasks(stack: Stack) -> None:
    chat = stack.conversation()
    start_form(chat)
    assert "Names can't contain code" in chat.reply("<script>alert('x')</script>")
    assert "email" in chat.reply("Priya Natarajan")
    assert "needs an @" in chat.reply("priya globex.com")
    suggestion = chat.reply("priya@gmial.com")
    assert "Did you mean priya@gmail.com?" in suggestion
    assert "role" in chat.reply("yes")
    assert "role" not in chat.reply("Head of Growth")  # moved on to the company question
    assert "how many people" in chat.reply("Globex")
    first = chat.reply("lots")
    assert "couldn't find a number" in first and "For example" in first
    second = chat.reply("hmm, many")
    # After repeated failures the re-ask also says why the question is asked.
    assert "Company size tells us" in second and "For example" in second
    assert "budget" in chat.reply("somewhere from 200 to 500")
    lead = chat.lead()
    assert lead["email"] == "priya@gmail.com" and lead["email_free_mail"] is True
    assert lead["seniority"] == "director"
    assert lead["company_size"] == 350


def test_digressions_are_answered_and_the_form_resumes(stack: Stack) -> None:
    chat = stack.conversation()
    start_form(chat)
    chat.reply("Tom")
    chat.reply("tom@initech.com")
    chat.reply("software engineer")
    chat.reply("Initech")
    pricing = chat.reply("what does it cost?")
    assert "$49" in pricing and "how many people" in pricing
    bot = chat.reply("wait, am I talking to a bot?")
    assert "I'm a bot" in bot and "how many people" in bot
    assert "budget" in chat.reply("about 120")
    why = chat.reply("why do you need my budget?")
    assert "Your budget helps us" in why and "What budget" in why
    assert "when are you hoping" in chat.reply("about 25 grand")
    assert chat.reply("just looking around")
    lead = chat.lead()
    assert lead["budget_usd"] == 25000 and lead["timeline_months"] is None
    assert lead["company_size"] == 120 and lead["status"] == "complete"


def test_corrections_update_earlier_answers(stack: Stack) -> None:
    chat = stack.conversation()
    start_form(chat)
    chat.reply("Sam Lee")
    chat.reply("sam@umbrella.io")
    chat.reply("CTO")
    chat.reply("Umbrella")
    assert "budget" in chat.reply("450")
    corrected = chat.reply("wait, it's 45 people, not 450")
    assert "updated your company size to 45 people" in corrected
    assert "What budget" in corrected  # and the form asks its question again
    chat.reply("£20k")
    chat.reply("as soon as possible")
    after = chat.reply("sorry, I meant 50k")
    assert "updated your budget to $50,000 per year" in after
    lead = chat.lead()
    assert lead["company_size"] == 45
    assert lead["budget_usd"] == 50000
    assert lead["timeline_months"] == 0
    assert lead["seniority"] == "c_level"


def test_pause_and_resume_keeps_answers(stack: Stack) -> None:
    chat = stack.conversation()
    start_form(chat)
    chat.reply("Ana Souza")
    assert "paused" in chat.reply("not now, I have a meeting")
    assert chat.lead()["status"] == "paused"
    assert "$49" in chat.reply("how much is it?")  # still helpful while paused
    resumed = chat.reply("ok, let's continue")
    assert "Welcome back" in resumed and "email" in resumed
    assert "role" in chat.reply("ana@souza.com.br")
    lead = chat.lead()
    assert lead["name"] == "Ana Souza" and lead["status"] == "in_progress"


def test_asking_for_a_person_reaches_a_rep(stack: Stack) -> None:
    chat = stack.conversation()
    start_form(chat)
    chat.reply("Lee Chen")
    chat.reply("lee@wayne.com")
    handoff = chat.reply("can I talk to a real person please")
    # Which of the two depends on the reps' working hours (config/reps.yml) at this moment;
    # tests/e2e/test_handoff.py covers both with a fixed reps file.
    assert "join this chat" in handoff or "outside working hours" in handoff
    assert chat.lead()["needs_human"] is True
    mail = stack.mail.wait_for(lambda m: "Lee Chen" in str(m["Subject"]))
    assert str(mail["To"]).endswith("@example.com") and "lee@wayne.com" in str(mail["Reply-To"])
    assert "/inbox/handoffs/" in mail.get_content()
    # Without consent the request still reaches a person (a link to the chat, no details).
    anonymous = stack.conversation()
    reply = anonymous.reply("I want to speak to a human")
    assert "join this chat" in reply or "outside working hours" in reply


def test_what_do_you_know_about_me_and_forget_me(stack: Stack) -> None:
    from bot.leads.store import LeadStore
    from bot.storage.engine import make_engine

    chat = stack.visitor()
    start_form(chat)
    chat.reply("Maria Garcia")
    chat.reply("maria@hooli.com")
    known = chat.reply("what do you know about me?")
    assert "Maria Garcia" in known and "maria@hooli.com" in known
    assert "role" in known  # and the form asks its question again
    audit = LeadStore(make_engine(stack.env["DATABASE_URL"]))
    erasures_before = audit.erasure_count()
    assert "deleted everything" in chat.reply("please delete my data")
    assert chat.lead() is None
    assert audit.erasure_count() == erasures_before + 1
    events = stack.tracker_events(chat.sender)
    assert not any("Maria" in str(event) or "hooli" in str(event) for event in events)
    # The conversation starts over: nothing is known any more.
    assert "haven't stored anything" in chat.reply("what do you know about me?")


def test_bad_input_gets_a_clear_answer(stack: Stack) -> None:
    chat = stack.conversation()
    assert "empty" in chat.reply("")
    assert "too long" in chat.reply("x" * 10_000)
    for text in ("   ", "/no_such_button", "🤷", "' OR 1=1; --", "<b>hi</b>"):
        messages = chat.say(text)
        assert messages, f"no reply to {text[:20]!r}"
        joined = " ".join(m.get("text") or "" for m in messages)
        assert "Traceback" not in joined and "Exception" not in joined
    assert "store your answers" in chat.reply("I'd like a demo")
    stale_button = chat.reply("/no_such_button")  # never read as "no"
    assert "isn't available" in stale_button and "store your answers" in stale_button
    assert "follow-ups" in chat.reply("/affirm")
    chat.reply("/deny")
    long_name = chat.reply("n" * 1_500)
    assert "long for a name" in long_name and "Jane Doe" in long_name
    huge = chat.reply("n" * 5_000)
    assert "too long" in huge and "what should I call you" in huge  # the question again
    assert chat.lead()["name"] is None


def test_a_stubborn_answer_gets_a_way_out_and_the_form_moves_on(stack: Stack) -> None:
    """No question is asked more than three times in a row."""
    chat = stack.conversation()
    start_form(chat)
    chat.reply("Kim Park")
    chat.reply("kim@parkworks.com")
    chat.reply("COO")
    assert "how many people" in chat.reply("Parkworks")
    chat.reply("lots")
    chat.reply("so many")
    way_out = chat.say("loads honestly")
    text = "\n".join(m.get("text") or "" for m in way_out)
    assert "skip that one" in text and "What budget" in text
    assert any(b["payload"] == "/human_handoff" for b in chat.buttons)
    assert "when are you hoping" in chat.reply("about 30k a year")
    done = chat.reply("next quarter")
    assert "would love to talk" in done or "passed everything" in done  # scored: what's next
    lead = chat.lead()
    assert lead["company_size"] is None and lead["budget_usd"] == 30000
    assert lead["tier"] is not None


def test_what_do_you_mean_explains_the_question_again(stack: Stack) -> None:
    chat = stack.conversation()
    start_form(chat)
    chat.reply("Ola Berg")
    chat.reply("ola@berg.no")
    chat.reply("founder")
    assert "how many people" in chat.reply("Berg AS")
    explained = chat.reply("what do you mean?")
    assert "for example" in explained and "how many people" in explained
    assert "budget" in chat.reply("about 12")


def test_no_reply_is_the_same_three_times_running(stack: Stack) -> None:
    chat = stack.conversation()
    replies = [chat.reply("what's the weather in Lima tomorrow?") for _ in range(4)]
    assert replies[0] == replies[1]
    assert replies[2] != replies[1] and "going round in circles" in replies[2]
    # Mid-form, off-topic over and over: asked three times, then a way out.
    start_form(chat)
    texts = [chat.reply("what's the weather in Lima tomorrow?") for _ in range(3)]
    assert sum("your name" in text for text in texts) == 2
    assert "skip that one" in texts[2] and "email" in texts[2]
