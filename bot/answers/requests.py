"""Messages that ask for something instead of answering: "get me a sales rep", "tell me a joke",
"my invoice is wrong", "I want to apply for a job here".

The free-text questions (name, role, company) accept almost any short text, so without this a
request typed while a question is open would be stored as the answer ("get me a sales rep" as
a job title, a billing complaint as the company). These checks are deliberately about the shape
of a request (an instruction, a wish with a verb, a complaint about one's own order or account,
a request for a person), not about particular wordings, and never look at the question asked.
"""

from __future__ import annotations

import re

from bot.answers._text import clean

# Someone to talk to. "sales" alone is not here: "I want to talk to sales" opens the
# conversation as a demo request; a *person* ("a sales rep", "someone", "a human") is asked for.
_PERSON = (
    r"(a |an |the |one of your |some |your |real |actual |live |proper )*"
    r"(human( being)?|person|someone|somebody|some one|anyone|anybody|rep|reps"
    r"|representative|agent|operator|salesperson|sales ?(rep|person|guy|man|woman|agent|manager"
    r"|representative|people|team member)|account (manager|executive|rep)|colleague|consultant"
    r"|advisor|adviser|specialist|expert|manager|supervisor|staff|employee|team member|man|woman"
    r"|guy)s?\b"
)
_REACH = (
    r"(talk|speak|chat|converse|be connected|get connected|connect|transfer|put|pass|hand|switch"
    r"|escalate|forward|get|give|find|need|want|wanna|would like|'d like|prefer|bring|send)"
)
_ASKS_FOR_PERSON = re.compile(
    r"\b" + _REACH + r"\b( me)?( (to|with|through to|through|over to|in touch with|on to|onto))?"
    r"( me)?( (to|with))? "
    + _PERSON
    + r"|\b(put|transfer|connect|pass|hand|switch|forward|patch) me (through |over |on )?"
    r"(to|with)\b"
    r"|^(a )?(real |live |actual )?(human|person|agent|operator|representative)( please| pls"
    r"| now| plz)*[.!]*$"
    r"|\b(is there|are there|is|any) (a |an )?(real |actual |live )?"
    r"(human|person|someone|somebody|anyone|anybody)\b.*\b(talk|speak|chat|there|available"
    r"|online|help)\b",
    re.IGNORECASE,
)
# "could someone contact me", "have a rep call me back": a follow-up later, which the form
# itself arranges (request_demo), not a person now.
_FOLLOW_UP = re.compile(
    r"\b(contact|call|email|e-mail|ring|phone|reach out to|reach|get back to|text) (me|us)\b",
    re.IGNORECASE,
)

# An instruction to the bot: a verb first, then who or what it is for ("tell me a joke",
# "give me the weather"). A verb alone is not enough: "Help Scout" and "Find My Past" are
# companies, so the verb must be followed by a pronoun or article.
_INSTRUCTION = re.compile(
    r"^(please |pls |plz |can you |could you |would you |will you |can u |could u )?"
    r"(tell|give|show|get|send|help|find|recommend|suggest|book|cancel|reset|fix|refund|order"
    r"|play|set|turn|remind|explain|write|translate|check|look up|search|open|unsubscribe"
    r"|delete|remove|take|bring|let|connect|transfer|put|hand|pass|sing|read|buy|sell|track)"
    r" (me|us|my|our|him|her|them|it|a|an|the|some|this|that|your|up|out|through|in)\b",
    re.IGNORECASE,
)
# A wish with a verb: "I want to apply for a job", "we'd like to return an order". An answer
# may begin "I'd like to say" only in theory; a title or company never starts this way.
_WISH = re.compile(
    r"^(hi |hello |hey |um |so |well |ok |okay |also |and |but )*(i|we)"
    r" ?(want|wanna|need|'d like|would like|d like|(am|'m|m) looking (for|to)|was wondering"
    r"|were wondering|wish|have a (question|problem|complaint|query|issue)"
    r"|got a (question|problem|complaint)|can'?t|cannot|couldn'?t|am trying|'m trying|m trying)\b"
    r"(?! to (say|share|keep|stay|remain)\b)",
    re.IGNORECASE,
)
# A complaint about one's own order, bill or account: support, not sales.
_OWN_THING = re.compile(
    r"\bmy (last |latest |recent |previous |current |new |online |monthly )?"
    r"(invoice|bill|billing|order|package|parcel|delivery|shipment|password|login|log-in"
    r"|subscription|payment|refund|card|credit card|booking|reservation|flight|ticket|phone"
    r"|laptop|computer|device|app|licen[cs]e key|charge|receipt|money|wifi|internet|router)s?\b",
    re.IGNORECASE,
)
_BROKEN = re.compile(
    r"\b(is|are|was|were|'s|got|been|keeps?) (being )?(wrong|broken|missing|late|down|lost"
    r"|stuck|declined|charged|overcharged|double[- ]charged|not working|crashing|cancell?ed"
    r"|damaged|delayed|locked)\b"
    r"|\b(doesn'?t|does not|don'?t|do not|won'?t|will not|isn'?t|is not|can'?t|cannot|didn'?t"
    r"|did not|never|not) (work|working|arrive|arrived|load|loading|open|start|turn on"
    r"|go through)\b",
    re.IGNORECASE,
)


def _typed_as_a_name(text: str) -> bool:
    """ "Find My Past", "Get Satisfaction": every word capitalised, as a company's name is."""
    words = text.split()
    return len(words) <= 5 and all(word[:1].isupper() for word in words)


def asks_for_person(text: str) -> bool:
    """True for a request to talk to a person now ("get me a sales rep", "human please", "is
    there anyone I can talk to"), not for a request to be contacted later."""
    text = clean(text)
    return bool(_ASKS_FOR_PERSON.search(text)) and not _FOLLOW_UP.search(text)


def is_request(text: str) -> bool:
    """True when the message asks for something rather than answering a question: a request
    for a person, an instruction, a wish with a verb, or a complaint about one's own order,
    bill or account."""
    text = clean(text)
    if not text:
        return False
    if asks_for_person(text) or _WISH.search(text):
        return True
    if _INSTRUCTION.search(text) and not _typed_as_a_name(text):
        return True
    return bool(_OWN_THING.search(text) and _BROKEN.search(text))
