"""Lead scoring: fit + intent - negative signals, with a breakdown a sales rep can read.

`score(facts, rules)` is a pure function over frozen dataclasses. The rules (points, bands,
tier thresholds, competitor domains) live in `config/scoring.yml`, which a sales-ops person
edits; `load_rules()` validates it and names the line of every problem.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Tuple

from bot.answers.role import SENIORITIES
from bot.config.yamlfile import ConfigError, Map, Reader, items
from bot.storage.enums import Tier

# The score is a percentage-like number people compare: always shown within these bounds.
SCORE_MIN = 0
SCORE_MAX = 100

# What a rep reads beside each rule that fired, keyed by rule id (not the bands': their reasons
# are in config/scoring.yml).
REASONS_FILE = Path(__file__).resolve().parent / "reasons.yml"

TIERS = tuple(tier.value for tier in Tier)
BAND_FIELDS = {
    "company_size": "company size band",
    "budget_usd": "budget band",
    "timeline_months": "timeline band",
}
INTENT_FLAGS = ("asked_for_demo", "asked_for_pricing")
NEGATIVE_FLAGS = ("free_mail", "student", "just_researching")


class ScoringConfigError(ConfigError):
    """config/scoring.yml cannot be used; the message names the line and the problem."""


@dataclass(frozen=True)
class Band:
    id: str
    min: int
    max: int | None  # None: no upper bound
    points: int
    reason: str

    def contains(self, value: int) -> bool:
        return value >= self.min and (self.max is None or value <= self.max)


@dataclass(frozen=True)
class ScoringRules:
    sales_threshold: int
    marketing_threshold: int
    seniority: Mapping[str, int]
    bands: Mapping[str, Tuple[Band, ...]]  # keyed by the fields in BAND_FIELDS
    intent: Mapping[str, int]  # asked_for_demo, asked_for_pricing
    pricing_page_points: int
    pricing_page_patterns: Tuple[str, ...]
    paid_campaign_points: int
    paid_mediums: frozenset
    negative: Mapping[str, int]  # free_mail, student, just_researching (all <= 0)
    competitor_points: int
    competitor_domains: frozenset


@dataclass(frozen=True)
class LeadFacts:
    """What scoring looks at; unknown values are None (`LeadRecord.to_facts()` makes them)."""

    seniority: str | None = None
    company_size: int | None = None
    budget_usd: int | None = None
    timeline_months: int | None = None
    # bot.answers.Status of the timeline answer: 'unknown' with no months = just researching.
    timeline_status: str | None = None
    email: str | None = None
    email_free_mail: bool | None = None
    asked_for_demo: bool = False
    asked_for_pricing: bool = False
    page_url: str | None = None
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None


@dataclass(frozen=True)
class RuleHit:
    rule: str  # e.g. "budget_usd.high", "intent.asked_for_demo", "negative.free_mail"
    points: int
    reason: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "points": self.points, "reason": self.reason}


@dataclass(frozen=True)
class ScoreResult:
    score: int  # clamped to SCORE_MIN..SCORE_MAX
    raw: int  # the unclamped sum, for the breakdown
    tier: str
    hits: Tuple[RuleHit, ...]

    def breakdown(self) -> list:
        return [hit.as_dict() for hit in self.hits]


@functools.cache
def _reasons() -> Mapping[str, str]:
    import yaml

    return yaml.safe_load(REASONS_FILE.read_text(encoding="utf-8"))


def reason(rule: str, **values: str) -> str:
    """The words of bot/scoring/reasons.yml for `rule`, with its {names} filled in."""
    return _reasons()[rule].format(**values)


def tier_for(score: int, rules: ScoringRules) -> str:
    if score >= rules.sales_threshold:
        return Tier.SALES_QUALIFIED
    if score >= rules.marketing_threshold:
        return Tier.MARKETING_QUALIFIED
    return Tier.COLD


def _domain(email: str | None) -> str:
    return email.rpartition("@")[2].strip().lower() if email and "@" in email else ""


def _is_competitor(domain: str, domains: frozenset) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _hit(rule: str, points: int, **values: str) -> RuleHit:
    return RuleHit(rule, points, reason(rule, **values))


def score(facts: LeadFacts, rules: ScoringRules) -> ScoreResult:
    """Score one lead. Pure: same facts and rules, same result."""
    hits: list[RuleHit] = []

    # -- fit
    if facts.seniority in rules.seniority and rules.seniority[facts.seniority]:
        hits.append(
            RuleHit(
                f"seniority.{facts.seniority}",
                rules.seniority[facts.seniority],
                reason("seniority", seniority=facts.seniority.replace("_", "-")),
            )
        )
    for field_name in BAND_FIELDS:
        value = getattr(facts, field_name)
        if value is None:
            continue
        for band in rules.bands[field_name]:
            if band.contains(value):
                if band.points:
                    hits.append(RuleHit(f"{field_name}.{band.id}", band.points, band.reason))
                break

    # -- intent
    for flag in INTENT_FLAGS:
        if getattr(facts, flag) and rules.intent[flag]:
            hits.append(RuleHit(f"intent.{flag}", rules.intent[flag], reason(f"intent.{flag}")))
    urls = [u.lower() for u in (facts.page_url, facts.referrer) if u]
    if any(p in url for url in urls for p in rules.pricing_page_patterns):
        hits.append(_hit("intent.pricing_page", rules.pricing_page_points))
    if facts.utm_medium and facts.utm_medium.strip().lower() in rules.paid_mediums:
        hits.append(
            _hit("intent.paid_campaign", rules.paid_campaign_points, utm_medium=facts.utm_medium)
        )

    # -- negative signals
    if facts.email_free_mail:
        hits.append(_hit("negative.free_mail", rules.negative["free_mail"]))
    if facts.seniority == "student":
        hits.append(_hit("negative.student", rules.negative["student"]))
    if facts.timeline_months is None and facts.timeline_status == "unknown":
        hits.append(_hit("negative.just_researching", rules.negative["just_researching"]))
    if _is_competitor(_domain(facts.email), rules.competitor_domains):
        hits.append(_hit("negative.competitor", rules.competitor_points))

    hits = [hit for hit in hits if hit.points]
    raw = sum(hit.points for hit in hits)
    clamped = max(SCORE_MIN, min(SCORE_MAX, raw))
    return ScoreResult(score=clamped, raw=raw, tier=tier_for(clamped, rules), hits=tuple(hits))


def explain(result: ScoreResult) -> str:
    """The breakdown as text, one rule a line (CLI and the reps' email)."""
    lines = [f"score {result.score}/100 ({result.tier.replace('_', ' ')})"]
    for hit in result.hits:
        lines.append(f"  {hit.points:+4d}  {hit.reason}  [{hit.rule}]")
    if result.raw != result.score:
        lines.append(f"  (sum {result.raw}, shown within {SCORE_MIN}..{SCORE_MAX})")
    return "\n".join(lines)


# -- loading and validation ---------------------------------------------------------------


def load_rules(path: Path, sales_threshold: int | None = None) -> ScoringRules:
    """Read and validate the scoring file; `sales_threshold` is SCORE_THRESHOLD if set."""
    reader = Reader(path, ScoringConfigError)
    doc = reader.load()
    reader.only_keys(doc, ("tiers", "fit", "intent", "negative"), "the scoring file")

    tiers = reader.mapping(doc, "tiers")
    reader.only_keys(tiers, ("sales_qualified", "marketing_qualified"), "tiers")
    sales = reader.integer(tiers, "sales_qualified", "tiers.sales_qualified", None, 0, SCORE_MAX)
    marketing = reader.integer(
        tiers, "marketing_qualified", "tiers.marketing_qualified", None, 0, SCORE_MAX
    )
    if sales_threshold is not None:
        if not SCORE_MIN <= sales_threshold <= SCORE_MAX:
            raise ScoringConfigError(
                f"SCORE_THRESHOLD={sales_threshold} is outside {SCORE_MIN}..{SCORE_MAX}"
            )
        sales = sales_threshold
    if marketing > sales:
        where = "SCORE_THRESHOLD" if sales_threshold is not None else "sales_qualified"
        raise reader.fail(
            tiers.line_of("marketing_qualified"),
            f"marketing_qualified threshold {marketing} is above {where} threshold {sales}",
        )

    fit = reader.mapping(doc, "fit")
    # No `industry` rule: nothing in a conversation asks for or reliably reveals an industry, and
    # a rule that can never fire misleads whoever tunes the points.
    reader.only_keys(fit, ("seniority", *BAND_FIELDS), "fit")
    seniority_map = reader.mapping(fit, "seniority")
    seniority = {}
    for key in seniority_map:
        if key not in SENIORITIES:
            raise reader.fail(
                seniority_map.line_of(key),
                f"unknown seniority '{key}' (expected one of: {', '.join(SENIORITIES)})",
            )
        seniority[key] = reader.integer(seniority_map, key, f"points for seniority '{key}'")

    bands = {name: _bands(reader, fit, name, label) for name, label in BAND_FIELDS.items()}

    intent = reader.mapping(doc, "intent")
    reader.only_keys(intent, (*INTENT_FLAGS, "pricing_page", "paid_campaign"), "intent")
    intent_points = {
        flag: reader.integer(intent, flag, f"intent '{flag}' points", 0, minimum=0)
        for flag in INTENT_FLAGS
    }
    pricing, pricing_points = _optional_points(
        reader, intent, "pricing_page", "url_contains", "intent", minimum=0
    )
    patterns = tuple(
        _texts(reader, reader.sequence(pricing, "url_contains", required=False), "URL pattern")
    )
    paid, paid_points = _optional_points(
        reader, intent, "paid_campaign", "utm_medium", "intent", minimum=0
    )
    mediums = frozenset(
        _texts(reader, reader.sequence(paid, "utm_medium", required=False), "utm_medium")
    )

    negative = reader.mapping(doc, "negative")
    reader.only_keys(negative, (*NEGATIVE_FLAGS, "competitor"), "negative")
    negative_points = {
        flag: reader.integer(negative, flag, f"negative signal '{flag}'", 0, maximum=0)
        for flag in NEGATIVE_FLAGS
    }
    competitor, competitor_points = _optional_points(
        reader, negative, "competitor", "domains", "negative", maximum=0
    )
    domains = reader.sequence(competitor, "domains", required=False)
    for line, domain in items(domains):
        if not isinstance(domain, str) or "." not in domain or "@" in domain or " " in domain:
            raise reader.fail(line, f"competitor domain {domain!r} is not a domain like rival.com")

    return ScoringRules(
        sales_threshold=sales,
        marketing_threshold=marketing,
        seniority=seniority,
        bands=bands,
        intent=intent_points,
        pricing_page_points=pricing_points,
        pricing_page_patterns=patterns,
        paid_campaign_points=paid_points,
        paid_mediums=mediums,
        negative=negative_points,
        competitor_points=competitor_points,
        competitor_domains=frozenset(d.strip().lower() for d in domains),
    )


def _optional_points(
    reader: Reader, parent: Any, key: str, list_key: str, where: str, **bounds: int
) -> Tuple[Any, int]:
    """An optional `{points, <list_key>}` section: the section (or None) and its points."""
    section = reader.mapping(parent, key, required=False)
    reader.only_keys(section, ("points", list_key), f"{where}.{key}")
    points = reader.integer(section, "points", f"{key} points", 0, **bounds) if section else 0
    return section, points


def _texts(reader: Reader, seq: Any, what: str) -> list:
    values = []
    for line, value in items(seq):
        if not isinstance(value, str) or not value.strip():
            raise reader.fail(line, f"{what} {value!r} must be non-empty text")
        values.append(value.strip().lower())
    return values


def _bands(reader: Reader, fit: Map, name: str, label: str) -> Tuple[Band, ...]:
    seq = reader.sequence(fit, name)
    bands: list[tuple[int, Band]] = []
    for line, raw in items(seq):
        if not isinstance(raw, Map):
            raise reader.fail(line, f"{label} must be a mapping with id, min, max, points")
        reader.only_keys(raw, ("id", "min", "max", "points", "reason"), label)
        band_id = reader.text(raw, "id", f"{label} id")
        if any(other.id == band_id for _, other in bands):
            raise reader.fail(raw.line_of("id"), f"{label} '{band_id}' is defined twice")
        low = reader.integer(raw, "min", f"{label} '{band_id}' min", minimum=0)
        high = None
        if raw.get("max") is not None:
            high = reader.integer(raw, "max", f"{label} '{band_id}' max")
            if low > high:
                raise reader.fail(
                    raw.line_of("max"), f"{label} '{band_id}' has min {low} > max {high}"
                )
        points = reader.integer(raw, "points", f"{label} '{band_id}' points")
        words = raw.get("reason") or reason(
            "band", field=name.replace("_", " "), band=band_id.replace("_", " ")
        )
        band = Band(band_id, low, high, points, str(words))
        for _, other in bands:
            if _overlap(band, other):
                raise reader.fail(line, f"{label} '{band_id}' overlaps band '{other.id}'")
        bands.append((line, band))
    return tuple(band for _, band in bands)


def _overlap(a: Band, b: Band) -> bool:
    a_high = a.max if a.max is not None else float("inf")
    b_high = b.max if b.max is not None else float("inf")
    return a.min <= b_high and b.min <= a_high
