"""Plain-text Jinja2 templates (emails, invites, handoff notices, CRM deal names): one way to
make their environment, so every folder of words renders alike: no HTML escaping (nothing there
is HTML) and an unknown name is an error, never an empty gap. (The web pages' environment,
with autoescaping, is bot/web/templating.py's.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined


def text_templates(folder: Path, **options: Any) -> Environment:
    """The environment of the plain-text templates in `folder` (`options`: Jinja2's
    whitespace settings, e.g. trim_blocks)."""
    return Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=False,
        undefined=StrictUndefined,
        **options,
    )
