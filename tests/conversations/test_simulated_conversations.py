"""A short run of the conversation simulator inside `make test`: 40 generated visitors (every
persona, interruptions, typos) against the shared test stack. `make simulate` runs 320 and
writes reports/conversations.md."""

from __future__ import annotations

import pytest

from tests.conversations.personas import PERSONAS, generate
from tests.conversations.simulate import play, summary
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

SHORT_RUN = 40
# A floor against regressions. The target (97 %, `make simulate`) is reported in
# reports/conversations.md; misses left are the NLU's (a request read as an answer).
MIN_FULLY_RIGHT = 0.85


def test_generated_conversations_end_right_and_never_get_stuck(stack: Stack) -> None:
    scripts = generate(SHORT_RUN, seed=11)
    assert {script.persona for script in scripts} == set(PERSONAS)
    results = play(stack.rasa_url, scripts, stack.export, workers=4)
    figures = summary(results)
    wrong = [
        f"{r.script.id}: {'; '.join(r.stuck + r.problems)}\n  " + "\n  ".join(r.transcript[-8:])
        for r in results
        if not r.fully_right
    ]
    assert figures["stuck"] == 0, "\n".join(wrong)
    assert figures["fully_right"] >= MIN_FULLY_RIGHT * SHORT_RUN, "\n".join(wrong)
