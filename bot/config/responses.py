"""The words of domain.yml's responses, read as plain YAML (bot/ never imports Rasa).

domain.yml is where the words people read are edited, so the web process and the worker read
the same file the assistant speaks from: a visitor's answer read back in the chat and shown
to a rep in the inbox is worded once (`utter_phrase_<name>`, never said on its own)."""

from __future__ import annotations

import functools
from typing import Any, Mapping

from bot.config.settings import PROJECT_ROOT


@functools.cache
def responses() -> Mapping[str, Any]:
    import yaml

    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def response_text(response: str, **values: str) -> str:
    """The first variation's text of `response`, with `{name}` filled from `values`
    (Rasa's own filling: other braces are left as they are)."""
    text = str(responses()[response][0]["text"])
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def phrase(name: str, **values: str) -> str:
    """Words that go into another response or page (`utter_phrase_<name>` in domain.yml)."""
    return response_text(f"utter_phrase_{name}", **values)
