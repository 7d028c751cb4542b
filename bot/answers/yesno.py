"""Yes/no answers, for consent and "did you mean …?" questions."""

from __future__ import annotations

import re

from bot.answers._text import clean

# Only the start of a message decides: "no, but thanks for asking, yes I'd love..." is rare,
# and scanning a long message for "ok" finds it in unrelated sentences.
MAX_YES_NO_CHARS = 80

# Phrases that look like yes or no but mean the opposite or nothing; removed or decided first.
_UNCLEAR = re.compile(
    r"\b(not (really |quite |so |too |100% )?sure|unsure|maybe|perhaps|possibly|i don't know"
    r"|i dont know|dunno|idk|no idea|depends|it depends|not certain|let me think|i'll think"
    r"|i will think|hmm+|what\b|why\b(?! not)"
    r"|which\b|how\b)"
)
_YES_PHRASES = re.compile(
    r"\b(no problem|no worries|no prob|why not|of course|i don't mind|i dont mind|don't mind"
    r"|not a problem|sounds good|go ahead|go for it|please do|do it|let's do it|lets do it"
    r"|that's fine|thats fine|that is fine|fine by me|fine with me|all right|i agree|agreed"
    r"|i accept|i consent|that's right|thats right|that's correct|you bet|by all means"
    r"|sure thing|for sure|that works|works for me|count me in|i'm in|im in|happy to|i guess so"
    r"|that's alright|thats alright|that is alright|(ok|okay|alright|fine) (by|with) me"
    r"|that's ok|that's okay|thats ok|thats okay|that is ok|that is okay)\b"
)
_NO_PHRASES = re.compile(
    r"\b(of course not|no thanks|no thank you|not now|not really|not at all|not interested"
    r"|i don't agree|i dont agree|i do not agree|i disagree|don't agree|rather not|i'd rather not"
    r"|no way|never|i decline|decline|do not|don't|dont|not right now|not today|no chance"
    r"|absolutely not|definitely not|certainly not|please don't|not okay|not ok|that's wrong"
    r"|thats wrong|not right|not correct|incorrect|i refuse|opt out|unsubscribe|stop"
    r"|rather you (didn't|did not|don't|do not|wouldn't|would not)|i'll pass|i will pass|pass on"
    r"|i'll skip|skip (it|that|the \w+))\b"
)
_YES_WORDS = re.compile(
    r"^(y|ye+s+|ye+a+h*|yah|ya|yep+|yup+|yis|ys|yse|aye|sure|ok+|okay|okey|oki|okie|k|kk"
    r"|alright|fine|absolutely|definitely|certainly|correct|right|exactly|true|affirmative"
    r"|indeed|totally|please|yes please|agree|accept|consent|confirm|confirmed|si|sí|ja|oui|da"
    r"|yessir|yass+|ofc|obviously|gladly|great|perfect|cool|good)$"
)
_NO_WORDS = re.compile(r"^(n|no+|nope+|nah+|naw|nay|negative|false|wrong|nein|non|niet|nop)$")
_YES_EMOJI = frozenset("👍✅👌✔☑🙆")
_NO_EMOJI = frozenset("👎❌🙅✖⛔🚫")


def _first_verdict(text: str) -> bool | None:
    """The earliest clear yes/no phrase or word in `text`."""
    candidates = []
    for pattern, verdict in ((_NO_PHRASES, False), (_YES_PHRASES, True)):
        match = pattern.search(text)
        if match:
            candidates.append((match.start(), -len(match.group(0)), verdict))
    for word in re.findall(r"[\w']+", text)[:3]:
        if _NO_WORDS.match(word):
            candidates.append((text.find(word), 0, False))
            break
        if _YES_WORDS.match(word):
            candidates.append((text.find(word), 0, True))
            break
    if not candidates:
        return None
    return min(candidates)[2]


def parse_yes_no(text: str) -> bool | None:
    """True for yes/sure/ok/👍, False for no/nope/not now/👎, None when unclear."""
    text = clean(text)[:MAX_YES_NO_CHARS].lower()
    if not text:
        return None
    emoji_yes = any(c in _YES_EMOJI for c in text)
    emoji_no = any(c in _NO_EMOJI for c in text)
    words = re.sub(r"[^\w\s']", " ", text).strip()
    verdict = _first_verdict(words) if words else None
    if verdict is None:
        if emoji_yes != emoji_no:
            return emoji_yes
        return None
    if _UNCLEAR.search(words) and not re.match(r"^(yes|no|yeah|nope|sure)\b", words):
        return None
    return verdict
