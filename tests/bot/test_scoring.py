"""Scoring: every rule, the band edges, clamping, tiers, the threshold override, broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.settings import PROJECT_ROOT
from bot.scoring.rules import LeadFacts, ScoringConfigError, explain, load_rules, score, tier_for

RULES = load_rules(PROJECT_ROOT / "config" / "scoring.yml")


def rules_hit(facts: LeadFacts) -> dict:
    return {hit.rule: hit.points for hit in score(facts, RULES).hits}


@pytest.mark.parametrize(
    "facts, expected",
    [
        (LeadFacts(seniority="vp"), {"seniority.vp": 25}),
        (LeadFacts(seniority="c_level"), {"seniority.c_level": 25}),
        (LeadFacts(seniority="director"), {"seniority.director": 15}),
        (LeadFacts(seniority="other"), {}),
        (LeadFacts(seniority="student"), {"negative.student": -30}),
        # company size band edges
        (LeadFacts(company_size=49), {}),
        (LeadFacts(company_size=50), {"company_size.smb": 8}),
        (LeadFacts(company_size=199), {"company_size.smb": 8}),
        (LeadFacts(company_size=200), {"company_size.mid_market": 15}),
        (LeadFacts(company_size=999), {"company_size.mid_market": 15}),
        (LeadFacts(company_size=1000), {"company_size.enterprise": 20}),
        # budget band edges
        (LeadFacts(budget_usd=0), {}),
        (LeadFacts(budget_usd=9999), {"budget_usd.low": 3}),
        (LeadFacts(budget_usd=10000), {"budget_usd.medium": 15}),
        (LeadFacts(budget_usd=49999), {"budget_usd.medium": 15}),
        (LeadFacts(budget_usd=50000), {"budget_usd.high": 25}),
        # timeline: 0 = now; null + unknown = just researching; declined is not researching
        (LeadFacts(timeline_months=0), {"timeline_months.now": 20}),
        (LeadFacts(timeline_months=3), {"timeline_months.now": 20}),
        (LeadFacts(timeline_months=4), {"timeline_months.soon": 10}),
        (LeadFacts(timeline_months=7), {"timeline_months.later": 3}),
        (LeadFacts(timeline_status="unknown"), {"negative.just_researching": -15}),
        (LeadFacts(timeline_status="declined"), {}),
        # intent
        (LeadFacts(asked_for_demo=True), {"intent.asked_for_demo": 15}),
        (LeadFacts(asked_for_pricing=True), {"intent.asked_for_pricing": 10}),
        (LeadFacts(page_url="https://x.test/Pricing?utm_source=a"), {"intent.pricing_page": 10}),
        (LeadFacts(referrer="https://x.test/plans"), {"intent.pricing_page": 10}),
        (LeadFacts(page_url="https://x.test/blog"), {}),
        (LeadFacts(utm_medium="CPC"), {"intent.paid_campaign": 5}),
        # negative signals
        (LeadFacts(email="a@gmail.com", email_free_mail=True), {"negative.free_mail": -10}),
        (LeadFacts(email="a@rival.example"), {"negative.competitor": -100}),
        (LeadFacts(email="a@eu.rival.example"), {"negative.competitor": -100}),
        (LeadFacts(email="a@notrival.example"), {}),
    ],
)
def test_each_rule(facts: LeadFacts, expected: dict) -> None:
    assert rules_hit(facts) == expected


@pytest.mark.parametrize(
    "facts, expected_score, expected_tier",
    [
        (LeadFacts(), 0, "cold"),
        # 25 + 20 + 25 + 20 + 15 + 10 = 115, clamped
        (
            LeadFacts(
                seniority="vp",
                company_size=5000,
                budget_usd=100_000,
                timeline_months=1,
                asked_for_demo=True,
                page_url="https://x.test/pricing",
            ),
            100,
            "sales_qualified",
        ),
        (LeadFacts(seniority="student", email_free_mail=True), 0, "cold"),  # -40, clamped
        (LeadFacts(seniority="director", company_size=200), 30, "marketing_qualified"),
        (LeadFacts(seniority="vp", company_size=200, budget_usd=10_000), 55, "marketing_qualified"),
        (LeadFacts(seniority="vp", company_size=200, timeline_months=0), 60, "sales_qualified"),
        (LeadFacts(seniority="vp", company_size=5000, email="x@rival.example"), 0, "cold"),
    ],
)
def test_score_and_tier(facts: LeadFacts, expected_score: int, expected_tier: str) -> None:
    result = score(facts, RULES)
    assert (result.score, result.tier) == (expected_score, expected_tier)
    assert result.raw == sum(hit.points for hit in result.hits)
    assert all(hit.reason for hit in result.hits)


def test_the_breakdown_is_readable_and_serialisable() -> None:
    result = score(LeadFacts(seniority="vp", budget_usd=60_000, email_free_mail=True), RULES)
    text = explain(result)
    assert "score 40/100 (marketing qualified)" in text
    assert "+25  vp role  [seniority.vp]" in text and "-10  personal email address" in text
    assert result.breakdown()[0] == {"rule": "seniority.vp", "points": 25, "reason": "vp role"}


def test_score_threshold_overrides_the_sales_tier() -> None:
    rules = load_rules(PROJECT_ROOT / "config" / "scoring.yml", sales_threshold=40)
    assert tier_for(40, rules) == "sales_qualified" and tier_for(39, rules) == "marketing_qualified"
    with pytest.raises(ScoringConfigError, match="above SCORE_THRESHOLD"):
        load_rules(PROJECT_ROOT / "config" / "scoring.yml", sales_threshold=20)
    with pytest.raises(ScoringConfigError, match="SCORE_THRESHOLD=101"):
        load_rules(PROJECT_ROOT / "config" / "scoring.yml", sales_threshold=101)


GOOD = (PROJECT_ROOT / "config" / "scoring.yml").read_text()


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    "old, new, problem, line_needle",
    [
        (
            "{id: high, min: 50000, points: 25",
            "{id: high, min: 50000, max: 10000, points: 25",
            "budget band 'high' has min 50000 > max 10000",
            "id: high",
        ),
        (
            "{id: medium, min: 10000, max: 49999",
            "{id: medium, min: 10000, max: 60000",
            "budget band 'medium' overlaps band 'high'",
            "id: medium",
        ),
        ("    vp: 25", "    vice_president: 25", "unknown seniority 'vice_president'", "vice_pr"),
        ("    director: 15 ", "    director: lots ", "must be a whole number, not 'lots'", "lots"),
        (
            "  free_mail: -10",
            "  free_mail: 10",
            "negative signal 'free_mail' must be <= 0",
            "free_",
        ),
        ("  marketing_qualified: 30", "  marketing_qualified: 70", "is above", "marketing_q"),
        ("  sales_qualified: 60", "  sales_qualified: 160", "must be <= 100", "sales_qualified:"),
        ("    domains: [rival.example", "    domains: [rival@example", "not a domain", "domains"),
        (
            "  asked_for_demo: 15",
            "  asked_for_demo: 15\n  asked_for_demo: 5",
            "duplicate key",
            "demo: 5",
        ),
        ("  asked_for_demo: 15", "  asked_for_demos: 15", "unknown key 'asked_for_demos'", "demos"),
        (
            "  competitor:\n    points: -100\n    domains: [rival.example, competitor.example]\n",
            "  competitor: yes\n",
            "'competitor' must be a mapping",
            "competitor: yes",
        ),
        # The industry rule is gone (nothing in a conversation reveals an industry): a scoring
        # file that still has it is told so, instead of keeping points that never count.
        (
            "intent:\n",
            "  industry:\n    points: 10\n    values: [software]\n\nintent:\n",
            "unknown key 'industry' in fit",
            "industry:",
        ),
        ("tiers:\n", "tiers:\n  - broken: [\n", "not valid YAML", None),
    ],
)
def test_broken_files_name_the_line_and_the_problem(
    tmp_path: Path, old: str, new: str, problem: str, line_needle: str | None
) -> None:
    assert old in GOOD, old
    text = GOOD.replace(old, new, 1)
    path = tmp_path / "scoring.yml"
    path.write_text(text)
    with pytest.raises(ScoringConfigError) as error:
        load_rules(path)
    message = str(error.value)
    assert problem in message
    if line_needle:
        assert message.startswith(f"{path}:{_line_of(text, line_needle)}: "), message


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ScoringConfigError, match="cannot read"):
        load_rules(tmp_path / "nope.yml")
    (tmp_path / "empty.yml").write_text("")
    with pytest.raises(ScoringConfigError, match=":1: the file is empty"):
        load_rules(tmp_path / "empty.yml")


def test_project_paths_are_shown_relative() -> None:
    from bot.config.yamlfile import display_path

    assert display_path(PROJECT_ROOT / "config" / "scoring.yml") == "config/scoring.yml"
