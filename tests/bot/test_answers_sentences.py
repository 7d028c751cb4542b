"""Answers typed as whole sentences, the way visitors actually reply in a chat box.

Every qualification question gets a table of replies that embed the answer in chatter ("we're a
team of about a dozen", "budget's around 2k a month", "founder here"). The sentences were written
from imagined visitors, not from the parsers' word lists: when one fails, fix the parser, don't
trim the table. The bare forms are covered by test_answers*.py.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Callable, List

import pytest

from bot.answers import (
    Status,
    check_email,
    classify_seniority,
    parse_budget,
    parse_company,
    parse_company_size,
    parse_name,
    parse_role,
    parse_timeline,
    parse_yes_no,
)

# A fixed "today" in early March: summer is three months away, Q2 ends in June.
TODAY = dt.date(2026, 3, 10)
RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}


# -- role: every sentence must give a role and the right seniority ---------------------------

ROLE_SENTENCES = [
    # students and people doing coursework are not buyers
    ("I'm in my final year at uni, this is for a project", "student"),
    ("final year student doing a project on chatbots", "student"),
    ("I'm writing my dissertation about lead generation tools", "student"),
    ("doing a masters in data science", "student"),
    ("this is for a school assignment", "student"),
    ("I'm studying business at college", "student"),
    ("just an intern, helping the marketing folks out", "student"),
    ("I'm doing a PhD on conversational agents", "student"),
    ("second year comp sci undergrad", "student"),
    ("currently at university, researching for my thesis", "student"),
    # founders and owners
    ("founder here", "c_level"),
    ("co-founder here, we're pre-seed", "c_level"),
    ("I'm one of the two founders", "c_level"),
    ("I started the company three years ago", "c_level"),
    ("I run the company", "c_level"),
    ("it's my own business", "c_level"),
    ("I own a small bakery chain", "c_level"),
    ("owner of a two-person design studio", "c_level"),
    ("I'm the boss lol", "c_level"),
    ("I'm the managing director of a small agency", "c_level"),
    ("CEO and co-founder", "c_level"),
    # people responsible for a function or a team
    ("I look after IT for a 40-person firm", "manager"),
    ("I run the marketing team", "manager"),
    ("I manage a team of 5 engineers", "manager"),
    ("I'm in charge of procurement", "manager"),
    ("I lead our data team", "manager"),
    ("I'm responsible for sales ops", "manager"),
    ("I oversee customer support", "manager"),
    ("I'm the office manager at a dental practice", "manager"),
    ("team lead on the web team", "manager"),
    # heads of departments and vice presidents
    ("I head up sales", "director"),
    ("I'm heading up growth at the moment", "director"),
    ("I'm the head of marketing at a SaaS company", "director"),
    ("my title is Director of Revenue Operations", "director"),
    ("VP of ops, I report to the CEO", "vp"),
    ("I'm a vice president in the finance org", "vp"),
    # individual contributors and people sent by someone else
    ("my boss asked me to look into this", "individual"),
    ("my manager told me to find a chatbot for our site", "individual"),
    ("I was asked by our CEO to compare a few tools", "individual"),
    ("I'm on the sales team", "individual"),
    ("I work in HR", "individual"),
    ("I do marketing for a startup", "individual"),
    ("I'm a developer on the platform team", "individual"),
    ("I'm a freelance designer", "individual"),
    ("part of the finance team", "individual"),
    ("I'm the assistant to our head of marketing", "individual"),
    ("I work for the director of sales", "individual"),
    ("just a regular employee tbh", "individual"),
    ("I'm a software engineer, mostly backend", "individual"),
    ("I handle the website and social media", "individual"),
]


@pytest.mark.parametrize(("said", "seniority"), ROLE_SENTENCES, ids=[s for s, _ in ROLE_SENTENCES])
def test_a_role_said_in_a_sentence_gets_a_role_and_its_seniority(said: str, seniority: str) -> None:
    parsed = parse_role(said)
    assert parsed.status is Status.OK, parsed
    assert parsed.value and len(parsed.value) <= 100
    assert classify_seniority(parsed.value) == seniority, parsed.value
    # the seniority doesn't depend on the role having been cleaned up first
    assert classify_seniority(said) == seniority


@pytest.mark.parametrize(
    ("said", "role"),
    [
        ("founder here", "founder"),
        ("I'm the head of marketing at a SaaS company", "head of marketing"),
        ("my title is Director of Revenue Operations", "Director of Revenue Operations"),
        ("CEO and co-founder", "CEO and co-founder"),
        ("I'm a software engineer, mostly backend", "software engineer"),
    ],
)
def test_a_plain_title_inside_a_sentence_is_kept_as_typed(said: str, role: str) -> None:
    assert parse_role(said).value == role


# -- company size -----------------------------------------------------------------------------

SIZE_SENTENCES = [
    ("we're a team of about a dozen", 12),
    ("I look after IT for a 40-person firm", 40),
    ("we're a 15 person agency", 15),
    ("about 30 strong at the moment", 30),
    ("roughly two hundred people across three offices", 200),
    ("there are 15 of us plus a few contractors", 15),
    ("small shop, maybe 8 people", 8),
    ("around 1.2k employees worldwide", 1200),
    ("just under 50", 50),
    ("we have offices in 3 countries and about 250 staff", 250),
    ("it's just me and my business partner", 2),
    ("we employ roughly sixty people", 60),
    ("headcount is 75 as of last month", 75),
    ("our company has 500+ employees", 500),
    ("we've got about twenty-five people in total", 25),
    ("we're tiny, five of us", 5),
    ("a dozen or so", 12),
    ("a couple hundred", 200),
    ("been in business 10 years, 45 staff", 45),
    ("we grew from 10 to 35 people this year", 35),
    ("it's a one-man band really", 1),
    ("just me for now", 1),
    ("the company is around 3,000 people globally", 3000),
    ("we have a staff of 120", 120),
    ("we're a small team of seven", 7),
    ("close to a hundred employees", 100),
    ("we're about 80 now, hiring fast", 80),
    ("there's 4 of us", 4),
]


@pytest.mark.parametrize(("said", "size"), SIZE_SENTENCES, ids=[s for s, _ in SIZE_SENTENCES])
def test_company_size_said_in_a_sentence(said: str, size: int) -> None:
    parsed = parse_company_size(said)
    assert (parsed.status, parsed.value) == (Status.OK, size)


# -- budget (annual USD) ----------------------------------------------------------------------

BUDGET_SENTENCES = [
    ("budget's around 2k a month", 24_000),
    ("we can spend roughly 500 dollars monthly", 6_000),
    ("about 25 grand for the year", 25_000),
    ("we've set aside $10,000 for this", 10_000),
    ("somewhere between 5 and 10k", 7_500),
    ("probably no more than 1,500 a month", 18_000),
    ("my manager said 30k is the ceiling", 30_000),
    ("roughly £800 per month", round(800 * 1.27 * 12)),
    ("we're thinking €50k annually", 54_000),
    ("we're thinking 3-4k per quarter", 14_000),
    ("the boss signed off on 60 thousand", 60_000),
    ("around twelve hundred bucks a month", 14_400),
    ("max 2k/mo", 24_000),
    ("it's a uni project so zero budget", 0),
    ("honestly we don't have a budget for this", 0),
    ("we were hoping to keep it under 300 a month", 3_600),
    ("we pay 400 per month for our current tool", 4_800),
    ("finance approved 15k for the year", 15_000),
    ("low five figures", 10_000),
    ("about a hundred grand", 100_000),
    ("roughly 1k per month, maybe a bit more", 12_000),
    ("budget is 8000 USD per year", 8_000),
]


@pytest.mark.parametrize(("said", "usd"), BUDGET_SENTENCES, ids=[s for s, _ in BUDGET_SENTENCES])
def test_budget_said_in_a_sentence(said: str, usd: int) -> None:
    parsed = parse_budget(said, RATES)
    assert (parsed.status, parsed.value) == (Status.OK, usd)


@pytest.mark.parametrize(
    "said",
    [
        "we haven't worked out a budget yet",
        "no idea what this kind of thing costs",
        "depends on what you charge",
        "haven't thought about money yet tbh",
    ],
)
def test_budget_not_known_yet(said: str) -> None:
    assert parse_budget(said, RATES).status is Status.UNKNOWN


# -- timeline (whole months from 10 March 2026) ----------------------------------------------

TIMELINE_SENTENCES = [
    ("ideally up and running before the summer", 3),
    ("we need something in place within the next 6 weeks", 1),
    ("our contract with the current vendor ends in September", 6),
    ("hoping to decide by the end of Q2", 3),
    ("no rush, maybe later this year", 4),
    ("yesterday ideally, we're drowning in leads", 0),
    ("as soon as the budget is approved, probably next month", 1),
    ("over the next couple of months", 2),
    ("sometime in the autumn", 6),
    ("we're aiming for early next year", 10),
    ("not for a while, maybe in a year or so", 12),
    ("the board meets in May and will decide then", 2),
    ("this needs to be live by the 1st of April", 1),
    ("in a few weeks hopefully", 0),
    ("we'd like to start right away if possible", 0),
    ("probably in 3 to 6 months", 4),
    ("within the quarter", 0),
    ("before the end of the year for sure", 9),
    ("we want it live for the Christmas rush", 9),
    ("could be half a year from now", 6),
    ("we need it urgently, our old tool is being shut down", 0),
]


@pytest.mark.parametrize(
    ("said", "months"), TIMELINE_SENTENCES, ids=[s for s, _ in TIMELINE_SENTENCES]
)
def test_timeline_said_in_a_sentence(said: str, months: int) -> None:
    parsed = parse_timeline(said, TODAY)
    assert (parsed.status, parsed.value) == (Status.OK, months)


@pytest.mark.parametrize(
    "said",
    [
        "just researching for a uni assignment",
        "we're only at the looking stage",
        "no timeline at the moment, just gathering info",
        "nothing planned, I'm just curious",
        "my boss asked me to look into this, no date yet",
    ],
)
def test_timeline_not_buying_yet(said: str) -> None:
    assert parse_timeline(said, TODAY).status is Status.UNKNOWN


# -- name -------------------------------------------------------------------------------------

NAME_SENTENCES = [
    ("hey there, it's Priya from the ops team", "Priya"),
    ("you can call me Dave, everyone does", "Dave"),
    ("I'm Tomasz, nice to meet you", "Tomasz"),
    ("name's Jo, I handle purchasing", "Jo"),
    ("my friends call me Lex", "Lex"),
    ("oh sorry - it's Hannah Schmidt", "Hannah Schmidt"),
    ("Rafael here", "Rafael"),
    ("sure thing, Mei Lin", "Mei Lin"),
    ("I go by Chris", "Chris"),
    ("Kofi Mensah, head of ops at a logistics firm", "Kofi Mensah"),
    ("hi! I'm Ana and I run a small shop", "Ana"),
    ("my name is Olu but most people call me Ollie", "Olu"),
]


@pytest.mark.parametrize(("said", "name"), NAME_SENTENCES, ids=[s for s, _ in NAME_SENTENCES])
def test_name_said_in_a_sentence(said: str, name: str) -> None:
    parsed = parse_name(said)
    assert (parsed.status, parsed.value) == (Status.OK, name)


# -- company ----------------------------------------------------------------------------------

COMPANY_SENTENCES = [
    ("I work for a logistics company called Fastway", "Fastway"),
    ("we're Brightside Dental, a chain of clinics", "Brightside Dental"),
    ("at Northwind Traders, the UK branch", "Northwind Traders"),
    ("the company is Initech", "Initech"),
    ("Globex - we make industrial sensors", "Globex"),
    ("I'm with Umbrella Health", "Umbrella Health"),
    ("my employer is Stark Industries", "Stark Industries"),
    ("Acme Corp, but we're being acquired", "Acme Corp"),
    ("it's a small agency called Moss & Pine", "Moss & Pine"),
    ("I work at Hooli in their Berlin office", "Hooli"),
    ("I study at the University of Leeds", "University of Leeds"),
    ("I'm a freelancer so just myself", "Self-employed"),
    ("I work for myself", "Self-employed"),
]


@pytest.mark.parametrize(
    ("said", "company"), COMPANY_SENTENCES, ids=[s for s, _ in COMPANY_SENTENCES]
)
def test_company_said_in_a_sentence(said: str, company: str) -> None:
    parsed = parse_company(said)
    assert (parsed.status, parsed.value) == (Status.OK, company)


# -- email ------------------------------------------------------------------------------------

EMAIL_SENTENCES = [
    ("sure, it's jane.doe@example.com", "jane.doe@example.com"),
    ("you can reach me at raj@acme.io, thanks", "raj@acme.io"),
    ("my work email is p.smith@globex.co.uk", "p.smith@globex.co.uk"),
    ("best to use tom.h@initech.com - I check it daily", "tom.h@initech.com"),
    ("email: Lena.K@Hooli.de please", "Lena.K@hooli.de"),
]


@pytest.mark.parametrize(("said", "address"), EMAIL_SENTENCES, ids=[s for s, _ in EMAIL_SENTENCES])
def test_email_said_in_a_sentence(said: str, address: str) -> None:
    parsed = check_email(said)
    assert parsed.status is Status.OK, parsed
    assert parsed.value.address == address


# -- yes / no (consent questions) -------------------------------------------------------------

YES_NO_SENTENCES = [
    ("yeah that's fine with me", True),
    ("sure, go ahead and store it", True),
    ("ok I consent to that", True),
    ("yes please send me stuff", True),
    ("yep, happy for you to keep my details", True),
    ("I guess that's alright", True),
    ("go for it", True),
    ("that's ok by me", True),
    ("fine, whatever", True),
    ("sounds reasonable, yes", True),
    ("I'd rather you didn't", False),
    ("no thanks, I don't want emails", False),
    ("nah I'm good", False),
    ("absolutely not", False),
    ("please don't email me", False),
    ("no, just answer my question", False),
    ("I'll pass on the emails", False),
    ("not interested in newsletters", False),
    ("hmm, not sure about the emails", None),
    ("what would you use it for?", None),
]


@pytest.mark.parametrize(
    ("said", "verdict"), YES_NO_SENTENCES, ids=[s for s, _ in YES_NO_SENTENCES]
)
def test_yes_or_no_said_in_a_sentence(said: str, verdict: bool | None) -> None:
    assert parse_yes_no(said) is verdict


# -- speed ------------------------------------------------------------------------------------

MAX_MS_PER_ANSWER = 1.0


def _all_parsers() -> List[Callable[[str], object]]:
    return [
        parse_role,
        classify_seniority,
        parse_company_size,
        lambda text: parse_budget(text, RATES),
        lambda text: parse_timeline(text, TODAY),
        parse_name,
        parse_company,
        check_email,
        parse_yes_no,
    ]


def test_parsing_a_sentence_takes_under_a_millisecond() -> None:
    sentences = [
        said for table in (ROLE_SENTENCES, SIZE_SENTENCES, BUDGET_SENTENCES) for said, _ in table
    ]
    sentences += [said for said, _ in TIMELINE_SENTENCES + NAME_SENTENCES + COMPANY_SENTENCES]
    parsers = _all_parsers()
    for parser in parsers:  # warm up: compiled regexes, lazy imports
        for said in sentences:
            parser(said)
    start = time.perf_counter()
    calls = 0
    for _ in range(3):
        for parser in parsers:
            for said in sentences:
                parser(said)
                calls += 1
    per_call_ms = (time.perf_counter() - start) * 1000 / calls
    assert per_call_ms < MAX_MS_PER_ANSWER, f"{per_call_ms:.3f} ms per answer"
