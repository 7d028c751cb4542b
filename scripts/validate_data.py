"""`make validate`: `rasa data validate`, failing on any warning except one kind.

Rasa warns about every response that no story or rule utters. Ours are uttered by actions
(re-asks, answers, confirmations), so that warning is allowed only for responses that the
code really uses: named in actions/, bot/ or rasa_ext/, or built from a prefix the code uses.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Responses chosen by name at run time (bot/conversation/dialogue.py builds these names;
# actions/common.py `phrase` reads the words of utter_phrase_<name> into other responses).
DYNAMIC_PREFIXES = (
    "utter_ask_",
    "utter_invalid_",
    "utter_why_",
    "utter_clarify_",
    "utter_way_out",
    "utter_phrase_",
)
# Intents the REST channel sends as payloads (rasa_ext/channels.py); nobody types them.
PAYLOAD_ONLY_INTENTS = (
    "empty_message",
    "message_too_long",
    "choose_meeting",
    "other_times",
    "request_callback",
    # Triggered by the web process through Rasa's API (bot/web/handoff.py), or a button.
    "handoff_timeout",
    "handoff_returned",
    "handoff_closed",
    "leave_message",
)
UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")


def code_text() -> str:
    folders = ("actions", "bot", "rasa_ext")
    return "\n".join(p.read_text() for d in folders for p in (ROOT / d).rglob("*.py"))


def main() -> int:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--max-history", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    code = code_text()
    problems = []
    for line in output.splitlines():
        if "UserWarning:" not in line:  # rasa.shared.utils.io.raise_warning (data problems)
            continue
        if "not found in the NLU training data" in line and any(
            f"'{intent}'" in line for intent in PAYLOAD_ONLY_INTENTS
        ):
            continue
        unused = UNUSED.search(line)
        if unused:
            name = unused.group(1)
            if name in code or name.startswith(DYNAMIC_PREFIXES):
                continue
        problems.append(line.strip())
    if result.returncode != 0:
        print(output)
        print("rasa data validate failed", file=sys.stderr)
        return 1
    if problems:
        print("\n".join(problems))
        print(f"{len(problems)} warning(s) from rasa data validate", file=sys.stderr)
        return 1
    print("rasa data validate: OK (domain, NLU data, stories and rules are consistent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
