"""Table-driven tests for the free-text answer parsers: name, company, role, seniority, yes/no.

Numbers, email, timeline and corrections have their own test_answers_*.py files.
"""

from __future__ import annotations

import pytest

from bot.answers import (
    SELF_EMPLOYED,
    Parsed,
    Status,
    check_email,
    classify_seniority,
    detect_correction,
    parse_budget,
    parse_company,
    parse_company_size,
    parse_name,
    parse_role,
    parse_timeline,
    parse_yes_no,
)

OK, DECLINED, UNKNOWN, INVALID = Status.OK, Status.DECLINED, Status.UNKNOWN, Status.INVALID


def test_parsed_ok_property() -> None:
    assert Parsed(Status.OK, 3).ok
    assert not Parsed(Status.INVALID, error="x").ok
    assert Status.OK == "ok"  # str enum: stored as plain text in slots and the database


# -- name ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jane", "Jane"),
        ("jane doe", "Jane Doe"),
        ("JANE DOE", "Jane Doe"),
        ("My name is Jane Doe", "Jane Doe"),
        ("my name's priya", "Priya"),
        ("I'm Jean-Luc", "Jean-Luc"),
        ("i am alex", "Alex"),
        ("it's Sam, thanks", "Sam"),
        ("This is Marie Curie", "Marie Curie"),
        ("call me Ishmael", "Ishmael"),
        ("you can call me Liz", "Liz"),
        ("Name: Ada Lovelace", "Ada Lovelace"),
        ("Ada Lovelace.", "Ada Lovelace"),
        ("hi, I'm tom!", "Tom"),
        ("Hello! My name is Hans-Peter Müller", "Hans-Peter Müller"),
        ("björn borg", "Björn Borg"),
        ("Zoë", "Zoë"),
        ("José Álvarez", "José Álvarez"),
        ("MARÍA JOSÉ GARCÍA", "María José García"),
        ("anne-marie o'brien", "Anne-Marie O'Brien"),
        ("o'neil", "O'Neil"),
        ("john mcdonald", "John McDonald"),
        ("McDonald", "McDonald"),
        ("leonardo da vinci", "Leonardo da Vinci"),
        ("jan van der berg", "Jan van der Berg"),
        ("Ludwig van Beethoven", "Ludwig van Beethoven"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("李小龙", "李小龙"),
        ("Sure, it's Dave", "Dave"),
        ("Dave here", "Dave"),
        ("dave from acme", "Dave"),
        ("Jane Doe, CTO at Acme", "Jane Doe"),
        ("Jane Doe (she/her)", "Jane Doe"),
        ("Doe, Jane", "Doe, Jane"),
        ("jane smith jr.", "Jane Smith Jr."),
        ("Jane D.", "Jane D."),
        ("Dr Jane Foster", "Dr Jane Foster"),
        ("'Jane'", "Jane"),
        ("   jane   doe   ", "Jane Doe"),
        ("Jane\nDoe", "Jane Doe"),
        ("It is Jon Snow thank you", "Jon Snow"),
        ("Jon Snow, thx", "Jon Snow"),
        ("im bob", "Bob"),
        ("My first name is Kim", "Kim"),
        ("Jane 😀", "Jane"),
        ("D'Angelo Russell", "D'Angelo Russell"),
        ("Ahmed bin Rashid", "Ahmed bin Rashid"),
    ],
)
def test_parse_name_ok(text: str, expected: str) -> None:
    assert parse_name(text) == Parsed(OK, expected)


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [
        ("", INVALID, "empty"),
        ("   \t ", INVALID, "empty"),
        ("x" * 81, INVALID, "too_long"),
        ("jane " * 2000, INVALID, "too_long"),
        ("<script>alert(1)</script>", INVALID, "markup"),
        ("Jane <b>", INVALID, "markup"),
        ("<img src=x onerror=alert(1)>", INVALID, "markup"),
        ("why do you need that?", INVALID, "not_a_name"),
        ("what for", INVALID, "not_a_name"),
        ("jane@acme.com", INVALID, "not_a_name"),
        ("www.janedoe.com", INVALID, "not_a_name"),
        ("555-1234", INVALID, "not_a_name"),
        ("the quick brown fox jumps over the lazy dog", INVALID, "not_a_name"),
        ("👋", INVALID, "not_a_name"),
        ("Prefer not to say", DECLINED, None),
        ("i'd rather not say", DECLINED, None),
        ("I don't want to give my name", DECLINED, None),
        ("none of your business", DECLINED, None),
        ("nope", DECLINED, None),
        ("anonymous", DECLINED, None),
    ],
)
def test_parse_name_other(text: str, status: Status, error: str | None) -> None:
    assert parse_name(text) == Parsed(status, error=error)


# -- company ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme", "Acme"),
        ("globex", "globex"),
        ("ACME GmbH", "ACME GmbH"),
        ("acme inc", "acme inc"),
        ("Acme Inc.", "Acme Inc."),
        ("Acme, Inc.", "Acme, Inc."),
        ("I work at Globex Corporation", "Globex Corporation"),
        ("i work for initech", "initech"),
        ("we are Hooli", "Hooli"),
        ("We're Pied Piper", "Pied Piper"),
        ("it's Stark Industries", "Stark Industries"),
        ("the company is Wayne Enterprises", "Wayne Enterprises"),
        ("Company: Umbrella Corp.", "Umbrella Corp."),
        ("company name is Soylent", "Soylent"),
        ("My company is called Vandelay Industries", "Vandelay Industries"),
        ("I'm at Stripe", "Stripe"),
        ("I'm with Deloitte", "Deloitte"),
        ("currently at Meta", "Meta"),
        ("I am employed by Siemens AG", "Siemens AG"),
        ("I represent Contoso Ltd.", "Contoso Ltd."),
        ("from Shopify", "Shopify"),
        ("Ben & Jerry's", "Ben & Jerry's"),
        ("Procter & Gamble Co.", "Procter & Gamble Co."),
        ("AT&T", "AT&T"),
        ("3M", "3M"),
        ("L'Oréal", "L'Oréal"),
        ("Müller GmbH & Co. KG", "Müller GmbH & Co. KG"),
        ("Acme S.A.", "Acme S.A."),
        ("IBM.", "IBM"),
        ("https://www.acme.io/", "acme.io"),
        ("We're a small design agency called Pixel Perfect", "Pixel Perfect"),
        ("a startup named Zeta", "Zeta"),
        ("The Royal Bank of Scotland Group plc", "The Royal Bank of Scotland Group plc"),
        ("Amazon Web Services (AWS)", "Amazon Web Services (AWS)"),
        ("Google, thanks!", "Google"),
        ("yes it's Amazon", "Amazon"),
        ("🚀 Rocket Labs", "Rocket Labs"),
        ("I'm self-employed", SELF_EMPLOYED),
        ("freelancer", SELF_EMPLOYED),
        ("I'm a freelancer", SELF_EMPLOYED),
        ("I work for myself", SELF_EMPLOYED),
        ("independent consultant", SELF_EMPLOYED),
        ("sole trader", SELF_EMPLOYED),
        ("none", SELF_EMPLOYED),
        ("n/a", SELF_EMPLOYED),
    ],
)
def test_parse_company_ok(text: str, expected: str) -> None:
    assert parse_company(text) == Parsed(OK, expected)


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [
        ("", INVALID, "empty"),
        ("a" * 121, INVALID, "too_long"),
        ("acme " * 2000, INVALID, "too_long"),
        ("<b>Acme</b>", INVALID, "markup"),
        ("<script>alert(1)</script>", INVALID, "markup"),
        ("why do you ask?", INVALID, "not_a_company"),
        ("jane@acme.com", INVALID, "not_a_company"),
        ("🚀", INVALID, "not_a_company"),
        ("Prefer not to say", DECLINED, None),
        ("that's confidential", DECLINED, None),
        ("we're in stealth mode", DECLINED, None),
        ("not telling", DECLINED, None),
        ("not sure", UNKNOWN, None),
    ],
)
def test_parse_company_other(text: str, status: Status, error: str | None) -> None:
    assert parse_company(text) == Parsed(status, error=error)


# -- role ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CTO", "CTO"),
        ("I'm the CTO", "CTO"),
        ("I am a software engineer at Google", "software engineer"),
        ("my title is Head of Growth", "Head of Growth"),
        ("I work as a designer", "designer"),
        ("role: VP Sales", "VP Sales"),
        ("CTO here", "CTO"),
        ("Director of Marketing, thanks!", "Director of Marketing"),
        ("i'm in sales", "sales"),
        ("Founder & CEO @ Acme", "Founder & CEO"),
        ("Job title: Senior Data Analyst", "Senior Data Analyst"),
        ("as a product manager", "product manager"),
    ],
)
def test_parse_role_ok(text: str, expected: str) -> None:
    assert parse_role(text) == Parsed(OK, expected)


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [
        ("", INVALID, "empty"),
        ("<b>CEO</b>", INVALID, "markup"),
        ("why?", INVALID, "not_a_role"),
        ("ceo@acme.com", INVALID, "not_a_role"),
        ("engineer " * 1500, INVALID, "too_long"),
        ("prefer not to say", DECLINED, None),
        ("not sure", UNKNOWN, None),
    ],
)
def test_parse_role_other(text: str, status: Status, error: str | None) -> None:
    assert parse_role(text) == Parsed(status, error=error)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        # c-level, including founders, owners, presidents, MDs and firm partners
        ("CEO", "c_level"),
        ("ceo & founder", "c_level"),
        ("Co-Founder/CTO", "c_level"),
        ("Owner", "c_level"),
        ("business owner", "c_level"),
        ("President", "c_level"),
        ("Chairman", "c_level"),
        ("Chief Executive Officer", "c_level"),
        ("Chief Revenue Officer", "c_level"),
        ("Cheif Technology Officer", "c_level"),
        ("Chief Marketing Officr", "c_level"),
        ("CFO", "c_level"),
        ("COO", "c_level"),
        ("CMO", "c_level"),
        ("CIO", "c_level"),
        ("CRO", "c_level"),
        ("CPO", "c_level"),
        ("CISO", "c_level"),
        ("Managing Director", "c_level"),
        ("MD", "c_level"),
        ("Partner", "c_level"),
        ("Managing Partner", "c_level"),
        ("Principal", "c_level"),
        ("Executive Director", "c_level"),
        ("Board Member", "c_level"),
        ("Geschäftsführer", "c_level"),
        ("CTO at Acme", "c_level"),
        ("presdient", "c_level"),
        ("Vice President & Co-Founder", "c_level"),
        # vp
        ("VP", "vp"),
        ("VP of Sales", "vp"),
        ("VP Eng", "vp"),
        ("Vice President", "vp"),
        ("Vice Presdent of Sales", "vp"),
        ("vice presidnet", "vp"),
        ("Vice Pres of Sales", "vp"),
        ("SVP Marketing", "vp"),
        ("EVP", "vp"),
        ("AVP, Finance", "vp"),
        ("Executive Vice President", "vp"),
        ("V.P. Operations", "vp"),
        # director
        ("Director", "director"),
        ("directr of marketing", "director"),
        ("dirctor", "director"),
        ("Sr. Dir. Eng", "director"),
        ("Senior Director, Product", "director"),
        ("Head of Ops", "director"),
        ("head of sales emea", "director"),
        ("General Manager", "director"),
        ("Chief of Staff", "director"),
        ("Associate Director", "director"),
        ("Directeur commercial", "director"),
        # manager
        ("Manager", "manager"),
        ("mangr", "manager"),
        ("manger", "manager"),
        ("Sr. Product Manager", "manager"),
        ("Engineering Manager", "manager"),
        ("Team Lead", "manager"),
        ("Tech Lead", "manager"),
        ("Lead Developer", "manager"),
        ("Product Owner", "manager"),
        ("Shift supervisor", "manager"),
        ("Assistant Manager", "manager"),
        ("Student Success Manager", "manager"),
        ("Partner Manager", "manager"),
        ("Gerente de ventas", "manager"),
        # individual contributors
        ("Software Engineer", "individual"),
        ("sofware engneer", "individual"),
        ("enginer", "individual"),
        ("Full-stack dev", "individual"),
        ("Data Analyst", "individual"),
        ("analist", "individual"),
        ("Data Scientist", "individual"),
        ("Marketing Specialist", "individual"),
        ("consultnat", "individual"),
        ("desginer", "individual"),
        ("Growth marketer", "individual"),
        ("SDR", "individual"),
        ("BDR", "individual"),
        ("Account Executive", "individual"),
        ("Associate", "individual"),
        ("Marketing Coordinator", "individual"),
        ("System Administrator", "individual"),
        ("Accountant", "individual"),
        ("Solutions Architect", "individual"),
        ("recuiter", "individual"),
        ("Executive Assistant to the CEO", "individual"),
        ("Principal Engineer", "individual"),
        ("Founding Engineer", "individual"),
        ("Lead Generation Specialist", "individual"),
        ("HR Business Partner", "individual"),
        ("Scrum Master", "individual"),
        ("Freelance designer", "individual"),
        ("Ingeniero de software", "individual"),
        # students
        ("Student", "student"),
        ("studnet", "student"),
        ("Intern", "student"),
        ("Marketing Intern", "student"),
        ("PhD candidate", "student"),
        ("Graduate student", "student"),
        ("at university", "student"),
        ("MBA student", "student"),
        ("Apprentice", "student"),
        # other
        ("Unemployed", "other"),
        ("Retired", "other"),
        ("Investor", "other"),
        ("Astronaut", "other"),
        ("", "other"),
        ("🙂", "other"),
    ],
)
def test_classify_seniority(title: str, expected: str) -> None:
    assert classify_seniority(title) == expected


# -- yes / no -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", True),
        ("Yes!", True),
        ("yeah", True),
        ("yep", True),
        ("yesss", True),
        ("sure", True),
        ("ok", True),
        ("okay", True),
        ("k", True),
        ("of course", True),
        ("go ahead", True),
        ("that's fine", True),
        ("i agree", True),
        ("👍", True),
        ("OK 👍", True),
        ("y", True),
        ("no problem", True),
        ("no worries", True),
        ("why not", True),
        ("sure thing", True),
        ("Yeah sure, go ahead", True),
        ("yes but I have a question", True),
        ("I don't mind", True),
        ("please do", True),
        ("Sounds good!", True),
        ("absolutely", True),
        ("correct", True),
        ("no", False),
        ("nope", False),
        ("nah", False),
        ("nooo", False),
        ("no thanks", False),
        ("i don't agree", False),
        ("rather not", False),
        ("don't", False),
        ("👎", False),
        ("n", False),
        ("not now", False),
        ("of course not", False),
        ("absolutely not", False),
        ("no, that's fine", False),
        ("nah not really", False),
        ("never", False),
        ("not sure", None),
        ("not really sure", None),
        ("maybe", None),
        ("hmm", None),
        ("what?", None),
        ("", None),
        ("   ", None),
        ("<script>alert(1)</script>", None),
        ("banana", None),
        ("yes " * 3000, True),
    ],
)
def test_parse_yes_no(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


# -- every parser survives hostile input --------------------------------------------------------

HOSTILE = [
    "",
    " ",
    "\n\t",
    "x" * 10_000,
    "5 " * 5_000,
    "<script>alert(1)</script>",
    "😀😀😀",
    "\u200b\u200b",
    "\x00\x01",
    "Robert'); DROP TABLE leads;--",
    "%s%s%n",
    "{{7*7}}",
    "١٢٣",
    "𝟓𝟎 people",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_parsers_never_raise(text: str) -> None:
    import datetime as dt

    for result in (
        parse_name(text),
        parse_company(text),
        parse_role(text),
        check_email(text),
        parse_company_size(text),
        parse_budget(text),
        parse_timeline(text, dt.date(2026, 11, 23)),
    ):
        assert isinstance(result, Parsed)
        assert (result.value is not None) == (result.status is Status.OK)
    assert parse_yes_no(text) in (True, False, None)
    assert classify_seniority(text) in (
        "c_level",
        "vp",
        "director",
        "manager",
        "individual",
        "student",
        "other",
    )
    detect_correction(text, "budget", "timeline")


def test_parsers_accept_none() -> None:
    """Slots can be None; the parsers treat that as an empty answer instead of crashing."""
    assert parse_name(None) == Parsed(INVALID, error="empty")  # type: ignore[arg-type]
    assert parse_budget(None) == Parsed(INVALID, error="empty")  # type: ignore[arg-type]
    assert parse_yes_no(None) is None  # type: ignore[arg-type]
