"""Visitors for the conversation simulator: personas, phrasing pools and interruptions.

Every phrasing here was written for the simulator and is kept apart from the training data
(data/nlu/): the point is to see how the bot copes with wordings it was not taught. A persona
knows the true answers (what the exported lead must say) and how it words them; the script adds
interruptions at random questions. `generate(count, seed)` makes a varied, reproducible set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

QUESTIONS = ("name", "email", "role", "company", "company_size", "budget", "timeline")

FIRST = [
    "Priya",
    "Tomas",
    "Lena",
    "Carlos",
    "Mei",
    "Sven",
    "Aisha",
    "Diego",
    "Hannah",
    "Kenji",
    "Fatima",
    "Noah",
    "Zofia",
    "Ravi",
    "Chloe",
    "Marek",
    "Ingrid",
    "Omar",
    "Yuki",
    "Elena",
]
LAST = [
    "Natarajan",
    "Berg",
    "Walsh",
    "Moreno",
    "Lindqvist",
    "Okafor",
    "Novak",
    "Keller",
    "Tanaka",
    "Haddad",
    "Fischer",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Silva",
    "Brennan",
    "Larsen",
    "Petrov",
]
COMPANIES = [
    "Northwind Traders",
    "Bluefin Analytics",
    "Copperleaf",
    "Harbor Logistics",
    "Quanta Labs",
    "Redwood Health",
    "Sparrow Media",
    "Tidewater Energy",
    "Vantage Retail",
    "Orchid Systems",
]

# (phrasing template, style): {v} is the value; styles pick terse or chatty visitors.
NAME_FORMS = [
    ("{v}", "short"),
    ("{lower}", "short"),
    ("I'm {v}", "sentence"),
    ("my name is {v}", "sentence"),
    ("it's {v}", "sentence"),
    ("{v} here", "sentence"),
]
EMAIL_FORMS = [
    ("{v}", "short"),
    ("{v}", "short"),
    ("sure, it's {v}", "sentence"),
    ("you can reach me at {v}", "sentence"),
    ("{v} is best", "sentence"),
]
COMPANY_FORMS = [
    ("{v}", "short"),
    ("{v}", "short"),
    ("I work at {v}", "sentence"),
    ("I'm with {v}", "sentence"),
    ("the company is {v}", "sentence"),
]
SIZE_FORMS = [
    ("{v}", "short"),
    ("about {v}", "short"),
    ("roughly {v} of us", "sentence"),
    ("we're around {v} people", "sentence"),
    ("{v} employees give or take", "sentence"),
    ("a team of about {v}", "sentence"),
]
SIZE_TYPOS = ["abut {v} ppl", "arround {v} poeple", "{v} emplyees"]

# Budgets in US dollars a year, with the ways people say them.
BUDGETS: Dict[str, Tuple[int | None, List[Tuple[str, str]]]] = {
    "big": (
        120000,
        [
            ("120k", "short"),
            ("about 120k a year", "sentence"),
            ("we've set aside roughly $120,000 per year", "sentence"),
            ("10k a month", "short"),
        ],
    ),
    "mid": (
        24000,
        [
            ("24k", "short"),
            ("$2,000 per month", "sentence"),
            ("around 24 grand a year", "sentence"),
            ("2k/month", "short"),
        ],
    ),
    "small": (
        6000,
        [
            ("$500 a month", "short"),
            ("about 6k a year", "sentence"),
            ("500 bucks monthly", "sentence"),
        ],
    ),
    "none": (
        0,
        [
            ("no budget", "short"),
            ("we don't have any budget for this", "sentence"),
            ("zero", "short"),
        ],
    ),
    "private": (None, [("prefer not to say", "short"), ("I'd rather not share that", "sentence")]),
}
TIMELINES: Dict[str, Tuple[int | None, List[Tuple[str, str]]]] = {
    "now": (
        0,
        [
            ("asap", "short"),
            ("as soon as possible", "short"),
            ("we need it right away", "sentence"),
            ("yesterday, honestly", "sentence"),
        ],
    ),
    "month": (
        1,
        [
            ("next month", "short"),
            ("within a month", "short"),
            ("hoping to start next month", "sentence"),
        ],
    ),
    "quarter": (
        3,
        [("in 3 months", "short"), ("in about three months", "sentence"), ("3 months", "short")],
    ),
    "half": (
        6,
        [
            ("in six months", "short"),
            ("half a year", "short"),
            ("probably in 6 months or so", "sentence"),
        ],
    ),
    "research": (
        None,
        [
            ("just researching", "short"),
            ("just looking around for now", "sentence"),
            ("no rush, just exploring options", "sentence"),
        ],
    ),
}
# (how it's said, stored role must contain (lowercase), seniority)
ROLES = {
    "exec": [
        ("VP of Sales", "vp of sales", "vp"),
        ("I'm the CTO", "cto", "c_level"),
        ("Chief Revenue Officer", "chief revenue officer", "c_level"),
        ("founder here", "founder", "c_level"),
    ],
    "director": [
        ("Director of Operations", "director of operations", "director"),
        ("Head of Growth", "head of growth", "director"),
        ("I'm the head of marketing", "head of marketing", "director"),
    ],
    "manager": [
        ("marketing manager", "marketing manager", "manager"),
        ("I manage the sales ops team", "sales ops", "manager"),
    ],
    "ic": [
        ("software engineer", "software engineer", "individual"),
        ("I'm an analyst in the finance team", "analyst", "individual"),
    ],
    "student": [
        ("student", "student", "student"),
        ("I'm in my final year at uni, this is for a project", "student", "student"),
    ],
    "consultant": [
        ("independent consultant", "consultant", "individual"),
        ("freelance consultant", "consultant", "individual"),
    ],
}

YES = ["yes", "yes, that's fine", "sure", "ok", "yep go ahead", "sounds good", "fine by me", "yeah"]
NO = ["no thanks", "no", "nope", "not really", "I'd rather not"]

# Interruptions: (kind, phrasings). "digression" and "oos" are answered, then the question
# comes again; "clarify" re-explains it.
DIGRESSIONS = [
    "how much does this cost?",
    "what does your product actually do?",
    "are you a bot?",
    "is my data kept safe?",
    "why do you need to know that?",
    "do you have a free trial?",
    "what's the price for a team of 10?",
]
OUT_OF_SCOPE = [
    "what's the weather like in Lisbon today?",
    "can you recommend a good pizza place",
    "how do I reset my password",
    "tell me a joke",
    "who won the match last night?",
    "I want to apply for a job at your company",
    "my invoice from last month is wrong",
]
CLARIFY = [
    "what do you mean?",
    "sorry, what?",
    "I don't understand the question",
    "huh?",
    "could you rephrase that?",
    "what exactly are you asking",
]
NONSENSE = {
    "company_size": ["lots", "a bunch", "many many", "big team", "depends on the day"],
    "budget": ["money", "some", "whatever works", "it varies", "depends"],
    "timeline": ["whenever", "hmm", "we'll see", "dunno", "at some point maybe"],
}
HANDOFF = [
    "can I talk to a real person please",
    "I'd like to speak to a human",
    "get me a sales rep",
    "connect me with someone from your team",
]
OPENERS = [
    "hi, I'd like a demo",
    "can I book a demo?",
    "I want to talk to sales",
    "hello, we're evaluating tools and would like a demo",
    "demo please",
    "could someone from sales contact me?",
    "I'm interested in your product, can we set up a call?",
]


@dataclass
class Script:
    """One simulated visitor: what they say, and what the exported lead must show."""

    id: str
    persona: str
    opener: str
    consent: str  # the reply to the consent question
    consents: bool
    nurture: str
    nurtures: bool
    answers: Dict[str, List[str]]  # question -> messages sent when it is asked, in order
    before: Dict[str, List[str]] = field(default_factory=dict)  # interruptions before answering
    expected: Dict[str, object] = field(default_factory=dict)  # export fields
    role_contains: str | None = None
    expect_meeting_offer: bool | None = None  # None: whatever the score says
    handoff_at: str | None = None  # asks for a person when this question comes
    features: List[str] = field(default_factory=list)
    metadata: Dict[str, str] = field(default_factory=dict)


def _say(template: str, value: str) -> str:
    return template.format(v=value, lower=value.lower())


def _pick(rng: random.Random, forms: List[Tuple[str, str]], style: str) -> str:
    preferred = [form for form, form_style in forms if form_style == style]
    return rng.choice(preferred or [form for form, _ in forms])


PERSONAS = (
    "hot_lead",
    "student",
    "consultant",
    "typos",
    "one_word",
    "sentences",
    "corrector",
    "digresser",
    "off_topic",
    "clarifier",
    "decliner",
    "wants_person",
    "stubborn",
)


def make_script(index: int, persona: str, rng: random.Random) -> Script:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{first} {last}"
    company = rng.choice(COMPANIES)
    domain = company.lower().replace(" ", "") + ".com"
    email = f"{first.lower()}.{last.lower()}@{domain}"
    style = "short" if persona in ("one_word", "hot_lead") else "sentence"
    if persona in ("typos", "digresser", "corrector", "off_topic", "clarifier", "stubborn"):
        style = rng.choice(["short", "sentence"])
    role_kind = {"hot_lead": "exec", "student": "student", "consultant": "consultant"}.get(
        persona, rng.choice(["exec", "director", "manager", "ic"])
    )
    said_role, role_contains, seniority = rng.choice(ROLES[role_kind])
    size = {"hot_lead": rng.choice([400, 1200, 2500]), "student": 1, "consultant": 1}.get(
        persona, rng.choice([8, 25, 40, 120, 300])
    )
    budget_kind = {"hot_lead": "big", "student": "none", "consultant": "small"}.get(
        persona, rng.choice(["big", "mid", "small", "none", "private"])
    )
    timeline_kind = {"hot_lead": rng.choice(["now", "month"]), "student": "research"}.get(
        persona, rng.choice(list(TIMELINES))
    )
    budget_usd, budget_forms = BUDGETS[budget_kind]
    timeline_months, timeline_forms = TIMELINES[timeline_kind]

    if persona in ("student", "consultant"):
        size_text = rng.choice(["just me", "only me", "1"])
    elif persona == "typos":
        size_text = rng.choice(SIZE_TYPOS).format(v=size)
    else:
        size_text = _say(_pick(rng, SIZE_FORMS, style), str(size))
    company_text = (
        "self-employed"
        if persona == "consultant"
        else _say(_pick(rng, COMPANY_FORMS, style), company)
    )
    if persona == "student":
        company_text = rng.choice(["University of Leeds", "I study at the University of Leeds"])
    email_text = _say(_pick(rng, EMAIL_FORMS, style), email)
    answers: Dict[str, List[str]] = {
        "name": [_say(_pick(rng, NAME_FORMS, style), name)],
        "email": [email_text],
        "role": [said_role],
        "company": [company_text],
        "company_size": [size_text],
        "budget": [_pick(rng, budget_forms, style)],
        "timeline": [_pick(rng, timeline_forms, style)],
    }
    expected: Dict[str, object] = {
        "name": name,
        "email": email,
        "seniority": seniority,
        "company": {"consultant": "Self-employed", "student": "University of Leeds"}.get(
            persona, company
        ),
        "company_size": size,
        "budget_usd": budget_usd,
        "timeline_months": timeline_months,
    }
    features: List[str] = [style]
    script = Script(
        id=f"sim-{index:04d}-{persona}",
        persona=persona,
        opener=rng.choice(OPENERS),
        consent=rng.choice(YES),
        consents=True,
        nurture=rng.choice(YES + NO),
        nurtures=False,
        answers=answers,
        expected=expected,
        role_contains=role_contains,
        features=features,
        metadata={
            "page_url": rng.choice(
                [
                    "https://example.com/",
                    "https://example.com/pricing",
                    "https://example.com/blog/post",
                ]
            ),
            "timezone": rng.choice(["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"]),
        },
    )
    script.nurtures = script.nurture in YES
    script.expected["nurture_consent"] = script.nurtures
    if persona == "hot_lead":
        script.expect_meeting_offer = True
    if persona == "student":
        script.expect_meeting_offer = False

    if persona == "typos":
        user, host = email.split("@")
        answers["email"] = [f"{user}@gmial.com", "yes"]  # "did you mean …@gmail.com?" - yes
        expected["email"] = f"{user}@gmail.com"
        features.append("email typo")
    elif persona == "corrector":
        wrong = size * 10
        answers["company_size"] = [str(wrong)]
        script.before[rng.choice(["budget", "timeline"]) if True else "budget"] = [
            rng.choice(
                [
                    f"wait, it's {size} people, not {wrong}",
                    f"sorry, I meant {size} employees",
                    f"actually we're {size} people",
                ]
            )
        ]
        features.append("correction")
    elif persona == "digresser":
        for question in rng.sample(QUESTIONS, 2):
            script.before[question] = [rng.choice(DIGRESSIONS)]
        features.append("digressions")
    elif persona == "off_topic":
        question = rng.choice(QUESTIONS)
        script.before[question] = [rng.choice(OUT_OF_SCOPE)]
        features.append("out of scope mid-form")
    elif persona == "clarifier":
        question = rng.choice(["company_size", "budget", "timeline", "role"])
        script.before[question] = [rng.choice(CLARIFY)]
        features.append("what do you mean?")
    elif persona == "decliner":
        script.consent = rng.choice(NO)
        script.consents = False
        features.append("declines consent")
    elif persona == "wants_person":
        script.handoff_at = rng.choice(["email", "role", "company", "company_size", "budget"])
        features.append("asks for a person")
    elif persona == "stubborn":
        question = rng.choice(list(NONSENSE))
        # Nonsense three times: the bot must give up on the question and move on.
        answers[question] = rng.sample(NONSENSE[question], 3) + answers[question]
        expected[
            {"company_size": "company_size", "budget": "budget_usd", "timeline": "timeline_months"}[
                question
            ]
        ] = None
        script.expect_meeting_offer = None
        features.append(f"nonsense to {question}")
    return script


def generate(count: int, seed: int = 7) -> List[Script]:
    """`count` scripts, personas in turn, everything else drawn from the pools with `seed`."""
    rng = random.Random(seed)
    return [make_script(index, PERSONAS[index % len(PERSONAS)], rng) for index in range(count)]
