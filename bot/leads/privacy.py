"""Where a lead came from (what the visitor sees about themselves: `LeadRecord.describe()`)."""

from __future__ import annotations

from typing import Any, Dict, Mapping
from urllib.parse import parse_qs, urlsplit

SOURCE_KEYS = (
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "timezone",
    "locale",
)
# Metadata is sent by the visitor's browser: keep only known keys, and only so much of each.
MAX_SOURCE_VALUE = 500


def source_from_metadata(metadata: Mapping[str, Any] | None) -> Dict[str, str] | None:
    """Page URL, referrer, UTM parameters, time zone and locale from channel metadata."""
    if not isinstance(metadata, Mapping):
        return None
    source: Dict[str, str] = {}
    for key in SOURCE_KEYS:
        value = metadata.get(key)
        if value is None and key.startswith("utm_") and isinstance(metadata.get("utm"), Mapping):
            value = metadata["utm"].get(key[4:]) or metadata["utm"].get(key)
        if isinstance(value, (str, int, float)) and str(value).strip():
            source[key] = str(value).strip()[:MAX_SOURCE_VALUE]
    page = source.get("page_url")
    if page:
        # UTM parameters that came only in the page URL's query string.
        query = parse_qs(urlsplit(page).query)
        for key in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"):
            if key not in source and query.get(key):
                source[key] = query[key][0][:MAX_SOURCE_VALUE]
    return source or None
